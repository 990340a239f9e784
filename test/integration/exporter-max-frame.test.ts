// --libvirt.max-frame: a libvirt message up to the bound is exported, a larger one is refused before any memory
// is taken for it, counted and logged, and closes the connection, never the exporter. The real exporter process,
// default flags except where the bound itself is the subject; the daemon is scripted, as no real libvirtd can be
// made to send such messages on demand.
import test from 'ava';
import { Limits, MessageType, MessageStatus, PROGRAM_VERSION, Program, RemoteProc } from '../../libvirt/protocol.js';
import { startExporter } from '../harness/roles/exporter.js';
import { select, valueOf } from '../harness/readers/exposition.js';
import { statsDaemon, statsPacket } from '../harness/fakes/stats-daemon.js';

/** Only the length word and header of a reply announcing `length` bytes: the rest never needs to come. */
function announce(serial: number, length: number): Buffer {
  const b = Buffer.alloc(Limits.PACKET_MIN);
  b.writeUInt32BE(length, 0);
  [Program.REMOTE, PROGRAM_VERSION, RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS, MessageType.REPLY, serial, MessageStatus.OK].forEach((v, i) => b.writeUInt32BE(v, 4 + 4 * i));
  return b;
}

test('default flags: a reply announced one byte over the protocol maximum is refused, counted and logged; the exporter carries on', async (t) => {
  const daemon = await statsDaemon((serial) => announce(serial, Limits.PACKET_MAX + 1));
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());
  const first = await exporter.scrape();
  t.is(first.status, 200);
  t.is(valueOf(first.samples, 'libvirt_exporter_rejected_messages_total'), 1);
  t.is(valueOf(first.samples, 'libvirt_exporter_last_scrape_success'), 0);
  t.regex(exporter.log(), /larger than --libvirt.max-frame refused.*message_bytes=33554433 max_frame=33554432/);
  await new Promise((r) => setTimeout(r, 700)); // past the minimum reconnect backoff
  const second = await exporter.scrape();
  t.is(valueOf(second.samples, 'libvirt_exporter_rejected_messages_total'), 2, 'reconnected, refused again, still serving');
});

test('a legal 2 MiB stats reply is exported whole at the default bound, and refused under --libvirt.max-frame 1MiB', async (t) => {
  let domains = 0;
  const daemon = await statsDaemon((serial) => {
    const built = statsPacket(serial, 2 * 1024 * 1024);
    domains = built.domains;
    return built.packet;
  });
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());
  const whole = await exporter.scrape();
  t.true(domains > 500);
  t.is(valueOf(whole.samples, 'libvirt_domains'), domains);
  t.is(select(whole.samples, 'libvirt_domain_vcpu_time_seconds_total').length, 4 * domains);
  t.is(valueOf(whole.samples, 'libvirt_exporter_rejected_messages_total'), 0);

  const bounded = await startExporter(['--libvirt.uri', daemon.uri('/system'), '--libvirt.max-frame', '1MiB']);
  t.teardown(() => bounded.stop());
  const refused = await bounded.scrape();
  t.is(valueOf(refused.samples, 'libvirt_exporter_rejected_messages_total'), 1);
  t.is(select(refused.samples, 'libvirt_domain_vcpu_time_seconds_total').length, 0);
});
