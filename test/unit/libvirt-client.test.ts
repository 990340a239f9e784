// The client's connection logic against a scripted peer: routing, deadlines, keepalive, close.
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { connect } from '../../libvirt/client.js';
import { AuthError, CallAbortedError, ConnectionClosedError, EventQueueOverflowError, LibvirtError, ProtocolError } from '../../libvirt/errors.js';
import { AuthType, KeepaliveProc, Program, RemoteProc } from '../../libvirt/protocol.js';
import type { CloseInfo, ConnectOptions, DomainEvent, LibvirtClient } from '../../libvirt/types.js';
import { errorReply, ping, reply, validEvents } from '../harness/fakes/server-packets.js';
import { hex } from '../harness/hex.js';
import { scriptedDaemon, scriptedPeer } from '../harness/fakes/scripted-peer.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('replies are matched by serial, in any order, and errors become LibvirtError', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const a = client.getLibVersion();
  const b = client.getHostname();
  const c = client.domainLookupByUuid('4dea22b3-1d52-d8f3-2516-782e98ab3fa0');
  const [ha, hb, hc] = [await nextPacket(), await nextPacket(), await nextPacket()];
  t.deepEqual([ha.proc, hb.proc, hc.proc], [RemoteProc.CONNECT_GET_LIB_VERSION, RemoteProc.CONNECT_GET_HOSTNAME, RemoteProc.DOMAIN_LOOKUP_BY_UUID]);
  peer.write(errorReply(hc.proc, hc.serial, 42, 'Domain not found'));
  peer.write(reply(hb.proc, hb.serial, (w) => w.string('node-1', 100)));
  peer.write(reply(ha.proc, ha.serial, (w) => w.uhyper(9000000n)));
  t.is(await a, 9000000);
  t.is(await b, 'node-1');
  const err = await t.throwsAsync(c, { instanceOf: LibvirtError, message: 'Domain not found' });
  t.like(err, { code: 42, domain: 10, level: 2 });
  t.false(client.isClosed);
});

test('a deadline fails only its own call; the late reply is dropped and the connection stays usable', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const slow = client.getHostname({ signal: AbortSignal.timeout(30) });
  const hs = await nextPacket();
  const timeout = await t.throwsAsync(slow, { instanceOf: CallAbortedError, message: 'libvirt CONNECT_GET_HOSTNAME timed out' });
  t.true(timeout?.timedOut);
  peer.write(reply(hs.proc, hs.serial, (w) => w.string('late', 100)));
  const next = client.getLibVersion();
  const hn = await nextPacket();
  peer.write(reply(hn.proc, hn.serial, (w) => w.uhyper(1n)));
  t.is(await next, 1);
  t.false(client.isClosed);
  const aborted = new AbortController();
  aborted.abort(new Error('caller gave up'));
  const cancelled = await t.throwsAsync(client.getLibVersion({ signal: aborted.signal }), { instanceOf: CallAbortedError });
  t.false(cancelled?.timedOut);
  t.is((cancelled?.cause as Error).message, 'caller gave up');
});

test('a bad frame closes the connection once and rejects every pending call', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const closes: CloseInfo[] = [];
  client.on('close', (info) => closes.push(info));
  const calls = [client.getLibVersion(), client.getHostname(), client.listAllDomains()];
  await nextPacket();
  peer.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  for (const call of calls) {
    const err = await t.throwsAsync(call, { instanceOf: ConnectionClosedError });
    t.is(err?.reason, 'protocol');
  }
  const info = await client.closed;
  t.is(info.reason, 'protocol');
  t.true(info.error instanceof ProtocolError);
  peer.write(reply(RemoteProc.CONNECT_GET_LIB_VERSION, 1, (w) => w.uhyper(1n)));
  await sleep(20);
  t.is(closes.length, 1);
  await t.throwsAsync(client.getLibVersion(), { instanceOf: ConnectionClosedError });
});

test('a reply to a serial nobody waits for, or for the wrong procedure, is a protocol error', async (t) => {
  for (const mismatch of ['serial', 'proc'] as const) {
    const { client, peer, nextPacket, dispose } = await scriptedPeer();
    t.teardown(dispose);
    const call = client.getLibVersion();
    const h = await nextPacket();
    peer.write(mismatch === 'serial'
      ? reply(h.proc, h.serial + 1000, (w) => w.uhyper(1n))
      : reply(RemoteProc.CONNECT_GET_VERSION, h.serial, (w) => w.uhyper(1n)));
    await t.throwsAsync(call, { instanceOf: ConnectionClosedError });
    t.is((await client.closed).reason, 'protocol', mismatch);
  }
});

test('PINGs are answered with PONGs while calls are pending; events are routed by type, not serial', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const seen: DomainEvent[] = [];
  client.on('event', (e) => seen.push(e));
  const pending = client.getLibVersion();
  const h = await nextPacket();
  peer.write(ping());
  const pong = await nextPacket();
  t.like(pong, { prog: Program.KEEPALIVE, proc: KeepaliveProc.PONG, type: 2, serial: 0, status: 0 });
  // Events carry serial 1, which may equal a pending call's serial.
  t.is(h.serial, 1);
  peer.write(Buffer.concat(validEvents()));
  peer.write(reply(h.proc, h.serial, (w) => w.uhyper(5n)));
  t.is(await pending, 5);
  t.deepEqual(seen.map((e) => e.kind), ['lifecycle', 'reboot', 'watchdog', 'io-error', 'io-error-reason', 'control-error', 'block-job', 'block-job-2']);
  t.like(seen[0], { eventName: 'stopped', detailName: 'failed', domain: { name: 'vm1', id: 3 } });
  t.like(seen[4], { kind: 'io-error-reason', reason: 'enospc', actionName: 'pause', devAlias: 'virtio-disk1' });
  t.like(seen[7], { kind: 'block-job-2', target: 'vda', jobTypeName: 'pull', statusName: 'completed' });
});

test.serial('keepalive: unanswered pings close the connection with reason keepalive and leave no timer', async (t) => {
  const before = timers();
  const { client, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const pending = client.getHostname();
  await nextPacket();
  const started = Date.now();
  client.startKeepalive({ intervalMs: 60, count: 2 });
  t.is((await nextPacket()).proc, KeepaliveProc.PING);
  t.is((await nextPacket()).proc, KeepaliveProc.PING);
  const info = await client.closed;
  t.is(info.reason, 'keepalive');
  t.true(Date.now() - started >= 3 * 60 - 20, 'closed only after (count + 1) silent intervals');
  await t.throwsAsync(pending, { instanceOf: ConnectionClosedError });
  t.is(timers(), before);
});

test('keepalive: any packet from the peer counts as an answer', async (t) => {
  const { client, peer, dispose } = await scriptedPeer();
  t.teardown(dispose);
  client.startKeepalive({ intervalMs: 40, count: 1 });
  const chatter = setInterval(() => peer.write(ping()), 20);
  await sleep(300);
  clearInterval(chatter);
  t.false(client.isClosed);
  client.shutdown('client');
});

test('event iterators end when the connection closes, and fail loudly when the consumer falls behind', async (t) => {
  const { client, peer, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const all = client.events();
  const tiny = client.events({ maxQueued: 3 });
  peer.write(Buffer.concat(validEvents()));
  await sleep(50);
  await t.throwsAsync(tiny.next(), { instanceOf: EventQueueOverflowError });
  t.deepEqual(await tiny.next(), { value: undefined, done: true });
  peer.end();
  const kinds: string[] = [];
  for await (const e of all) kinds.push(e.kind);
  t.is(kinds.length, 8);
  t.is((await client.closed).reason, 'eof');
});

test('close() sends CONNECT_CLOSE, waits for its reply and reports reason client', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const closing = client.close();
  const h = await nextPacket();
  t.is(h.proc, RemoteProc.CONNECT_CLOSE);
  peer.write(reply(h.proc, h.serial));
  peer.end();
  await closing;
  t.is((await client.closed).reason, 'client');
  await client.close();
});

test('bad arguments reject the call without sending anything or closing the connection', async (t) => {
  const { client, received, dispose } = await scriptedPeer();
  t.teardown(dispose);
  await t.throwsAsync(client.domainLookupByUuid('not-a-uuid'), { instanceOf: TypeError, message: /not a UUID/ });
  await t.throwsAsync(client.domainGetState({ name: 'x', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 2 ** 40 }), { instanceOf: RangeError });
  await sleep(20);
  t.deepEqual(received, []);
  t.false(client.isClosed);
});

/** The handshake as a daemon with the given auth list sees it; returns the procedures called and CONNECT_OPEN's body. */
async function handshake(t: ExecutionContext, authTypes: number[], options: ConnectOptions = {}) {
  const procs: number[] = [];
  let openBody: Buffer | undefined;
  const daemon = await scriptedDaemon((h, body) => {
    procs.push(h.proc);
    switch (h.proc) {
      case RemoteProc.AUTH_LIST:
        return [reply(h.proc, h.serial, (w) => w.array(authTypes, 20, (x, v) => x.int(v)))];
      case RemoteProc.AUTH_POLKIT:
      case RemoteProc.CONNECT_SUPPORTS_FEATURE:
        return [reply(h.proc, h.serial, (w) => w.int(1))];
      case RemoteProc.CONNECT_OPEN:
        openBody = Buffer.from(body);
        return [reply(h.proc, h.serial)];
      default:
        return [reply(h.proc, h.serial)];
    }
  });
  t.teardown(daemon.dispose);
  const result = await connect(daemon.uri('/system'), options).then((c) => c, (err: unknown) => err as Error);
  return { procs, openBody, result };
}

test('handshake: AUTH_LIST, keepalive negotiation, then CONNECT_OPEN with the daemon-side name and the read-only flag', async (t) => {
  const { procs, openBody, result } = await handshake(t, [AuthType.NONE], { readOnly: true });
  t.deepEqual(procs, [RemoteProc.AUTH_LIST, RemoteProc.CONNECT_SUPPORTS_FEATURE, RemoteProc.CONNECT_OPEN]);
  // present=1, "qemu:///system", flags=1 (VIR_CONNECT_RO)
  t.deepEqual(openBody, hex('00 00 00 01 | 00 00 00 0e | 71 65 6d 75 | 3a 2f 2f 2f | 73 79 73 74 | 65 6d 00 00 | 00 00 00 01'));
  t.false((result as LibvirtClient).isClosed);
  await (result as LibvirtClient).close();
});

test('handshake: polkit is completed with AUTH_POLKIT; keepalive: false skips the negotiation', async (t) => {
  const { procs, result } = await handshake(t, [AuthType.POLKIT], { keepalive: false });
  t.deepEqual(procs, [RemoteProc.AUTH_LIST, RemoteProc.AUTH_POLKIT, RemoteProc.CONNECT_OPEN]);
  await (result as LibvirtClient).close();
});

test('handshake: a daemon that demands SASL is refused with a clear AuthError and nothing else is sent', async (t) => {
  const { procs, result } = await handshake(t, [AuthType.SASL]);
  t.true(result instanceof AuthError);
  t.regex((result as Error).message, /requires SASL authentication, which this client does not implement/);
  t.deepEqual(procs, [RemoteProc.AUTH_LIST]);
});
