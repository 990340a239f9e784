// The exporter at its default flags against a scripted daemon, for the failures a healthy libvirtd cannot be
// made to show on cue: the connection lost between the listing and the stats call, a daemon gone silent.
import test from 'ava';
import { Metrics } from '../../exporter/catalogue.js';
import { ErrorCode, Program, RemoteProc } from '../../libvirt/protocol.js';
import { writeDomain } from '../../libvirt/structs.js';
import { startExporter } from '../harness/roles/exporter.js';
import { select, valueOf } from '../harness/readers/exposition.js';
import { scriptedDaemon } from '../harness/fakes/scripted-peer.js';
import { VM1, VM2, errorReply, healthyAnswer, reply, writeParams } from '../harness/fakes/server-packets.js';

const HANDSHAKE = new Set<number>([RemoteProc.AUTH_LIST, RemoteProc.CONNECT_SUPPORTS_FEATURE, RemoteProc.CONNECT_OPEN]);

test('the connection drops between the listing and the stats call: libvirt_up 1 with the listed count, never 0, and the failure counted', async (t) => {
  let listedOnFirst = false;
  let statsCalls = 0;
  const daemon = await scriptedDaemon((header, _body, { index, socket }) => {
    if (index === 1 && header.proc === RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS) {
      statsCalls++;
      if (listedOnFirst) {
        socket.destroy(); // after the listing, before any stats
        return [];
      }
      // Slow per domain, so that the next collection lists the domains first and splits the stats calls.
      setTimeout(() => socket.write(healthyAnswer(header)[0]!), 50);
      return [];
    }
    if (index === 1 && header.proc === RemoteProc.CONNECT_LIST_ALL_DOMAINS) listedOnFirst = true;
    return healthyAnswer(header);
  });
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());

  const first = (await exporter.scrape()).samples;
  t.is(valueOf(first, Metrics.domains.name), 2);
  t.is(select(first, Metrics.vcpuTime.name).length, 0, 'the scripted records have no vCPU time');
  t.is(select(first, Metrics.state.name, { uuid: VM1.uuid }).length, 1);

  const dropped = (await exporter.scrape()).samples;
  t.true(listedOnFirst && statsCalls >= 2, 'the second collection listed the domains, then asked for stats');
  t.is(valueOf(dropped, Metrics.up.name), 1, 'libvirtd answered the listing');
  t.is(valueOf(dropped, Metrics.domains.name), 2, 'the count that was listed, not 0');
  t.is(valueOf(dropped, Metrics.lastScrapeSuccess.name), 0);
  t.is(valueOf(dropped, Metrics.collectionErrors.name), 1);
  t.deepEqual(dropped.filter((s) => s.labels.uuid !== undefined), [], 'no domain series without stats');

  const again = (await exporter.scrape()).samples;
  t.is(valueOf(again, Metrics.up.name), 1);
  t.is(valueOf(again, Metrics.lastScrapeSuccess.name), 1);
  // (The script answers every stats call with both domains, so split calls return each twice.)
  t.deepEqual([...new Set(select(again, Metrics.state.name).map((s) => s.labels.uuid))].sort(), [VM1.uuid, VM2.uuid].sort());
  t.regex(exporter.log(), /msg="collection failed".*libvirt connection closed/);
});

test('a daemon without keepalive goes silent: two silent call timeouts drop the connection, the next scrape is served', async (t) => {
  const daemon = await scriptedDaemon((header, _body, { index }) =>
    // The first connection completes the handshake, then never answers again (a half-open TCP path looks the same).
    index === 1 && !HANDSHAKE.has(header.proc) ? [] : healthyAnswer(header, { keepalive: false }),
  );
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());

  const silent = await exporter.scrape();
  t.true(silent.ms < 9000 + 1000, `the scrape kept its deadline: ${silent.ms} ms`);
  t.is(valueOf(silent.samples, Metrics.up.name), 0);
  t.is(select(silent.samples, Metrics.domains.name).length, 0, 'no domain count when nothing was listed');
  t.is(valueOf(silent.samples, Metrics.collectionErrors.name), 1);

  const started = performance.now();
  const back = await exporter.scrape();
  t.is(valueOf(back.samples, Metrics.up.name), 1);
  t.is(valueOf(back.samples, Metrics.domains.name), 2);
  // At once: it does not wait for a call deadline (--libvirt.timeout, 5 s) on the dead connection.
  t.true(performance.now() - started < 5000, 'served by a new connection at once');
  t.regex(exporter.log(), /msg="lost the connection to libvirtd".* reason=timeout/);
});

test('a stats reply still arriving after the hedge delay is not hedged: no listing, no per-domain calls, the scrape complete', async (t) => {
  // The reply's first bytes come at once, the rest 1.5 s later: past the first collection's hedge delay (1 s),
  // as a reply of tens of MiB on a loaded host. libvirtd has answered; per-domain calls would only duplicate it.
  const calls: number[] = [];
  // Answers to packets that come meanwhile (keepalive pings) follow the reply, as libvirtd queues them.
  let held: Buffer[] | undefined;
  const daemon = await scriptedDaemon((header, _body, { socket }) => {
    if (header.prog === Program.REMOTE) calls.push(header.proc);
    const answers = healthyAnswer(header);
    if (held) {
      held.push(...answers);
      return [];
    }
    if (header.prog !== Program.REMOTE || header.proc !== RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS) return answers;
    const [answer] = answers as [Buffer];
    socket.write(answer.subarray(0, 40));
    held = [];
    setTimeout(() => {
      for (const out of [answer.subarray(40), ...held!]) socket.write(out);
      held = undefined;
    }, 1500);
    return [];
  });
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());

  const { samples, ms } = await exporter.scrape();
  t.true(ms >= 1500, `${ms} ms`);
  t.is(valueOf(samples, Metrics.lastScrapeSuccess.name), 1);
  t.deepEqual(select(samples, Metrics.state.name).map((s) => s.labels.uuid).sort(), [VM1.uuid, VM2.uuid].sort());
  t.is(calls.filter((proc) => proc === RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS).length, 1, 'one stats call, no per-domain ones');
  t.false(calls.includes(RemoteProc.CONNECT_LIST_ALL_DOMAINS), 'no listing for a fallback');
  t.notRegex(exporter.log(), /fell back/);
});

test('a domain that goes takes its per-domain counters along, at once; the others keep theirs', async (t) => {
  const vm2 = Buffer.from(VM2.uuid.replaceAll('-', ''), 'hex');
  let vm2Exists = true;
  const daemon = await scriptedDaemon((header, body) => {
    // Reading VM2's XML (for Nova metadata, at the default flags) fails: a per-domain error, counted every scrape.
    if (header.proc === RemoteProc.DOMAIN_GET_XML_DESC && body.includes(vm2)) return [errorReply(header.proc, header.serial, ErrorCode.INTERNAL_ERROR, 'cannot read')];
    if (header.proc === RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS && !vm2Exists) {
      return [reply(header.proc, header.serial, (w) => {
        w.uint(1);
        writeDomain(w, VM1);
        writeParams(w);
      })];
    }
    if (header.proc === RemoteProc.CONNECT_LIST_ALL_DOMAINS && !vm2Exists) {
      return [reply(header.proc, header.serial, (w) => {
        w.uint(1);
        writeDomain(w, VM1);
        w.uint(1);
      })];
    }
    return healthyAnswer(header);
  });
  t.teardown(daemon.dispose);
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());

  const errorsOf = (samples: Awaited<ReturnType<typeof exporter.scrape>>['samples']) =>
    select(samples, Metrics.domainErrors.name).map((s) => [s.labels.uuid, s.value]);
  t.deepEqual(errorsOf((await exporter.scrape()).samples), [[VM2.uuid, 1]]);
  // (A split collection's calls each get both domains from the script, so VM2 may be counted more than once.)
  const again = errorsOf((await exporter.scrape()).samples);
  t.true(again.length === 1 && again[0]![0] === VM2.uuid && (again[0]![1] as number) > 1, `the same domains listed again: the counter stays and grows (${JSON.stringify(again)})`);
  vm2Exists = false;
  for (const scrape of ['the scrape that no longer lists it', 'the next one']) {
    const { samples } = await exporter.scrape();
    t.deepEqual(errorsOf(samples), [], scrape);
    t.deepEqual(select(samples, Metrics.state.name).map((s) => s.labels.uuid), [VM1.uuid], scrape);
  }
});
