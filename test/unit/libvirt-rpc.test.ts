// The RPC core (libvirt/rpc.ts) against a scripted peer: routing, deadlines, abandoned serials, keepalive, close.
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { Calls } from '../../libvirt/calls.js';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { decodePacket } from '../../libvirt/framing.js';
import { CallAbortedError, ConnectionClosedError, EventQueueOverflowError, LibvirtError, ProtocolError } from '../../libvirt/errors.js';
import { KeepaliveProc, Program, RemoteProc } from '../../libvirt/protocol.js';
import type { CloseInfo, DomainEvent, DomainStatsRecord } from '../../libvirt/types.js';
import { errorReply, ping, reply, validEvents } from '../harness/fakes/server-packets.js';
import { scriptedPeer } from '../harness/fakes/scripted-peer.js';
import { statsPacket } from '../harness/fakes/stats-daemon.js';

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

test('a reply arriving in parts tells its own call once, at its first part; a reply in one piece tells nobody', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const told: string[] = [];
  let settled = false;
  const big = client.getHostname({ onAnswering: () => told.push('big') }).finally(() => (settled = true));
  const other = client.getLibVersion({ onAnswering: () => told.push('other') });
  const [hb, ho] = [await nextPacket(), await nextPacket()];
  const packet = reply(hb.proc, hb.serial, (w) => w.string('x'.repeat(5000), 10_000));
  peer.write(packet.subarray(0, 20)); // not yet the whole header: the serial is unknown
  await sleep(50);
  t.deepEqual(told, []);
  peer.write(packet.subarray(20, 100));
  await sleep(50);
  t.deepEqual(told, ['big']);
  peer.write(packet.subarray(100, 3000));
  await sleep(50);
  t.deepEqual(told, ['big'], 'once');
  t.false(settled);
  peer.write(packet.subarray(3000));
  t.is((await big).length, 5000);
  peer.write(reply(ho.proc, ho.serial, (w) => w.uhyper(1n)));
  t.is(await other, 1);
  t.deepEqual(told, ['big'], 'a reply in one piece');
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

test('abandoned serials are capped: the oldest is forgotten, and a late reply to it closes the connection', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer({ maxAbandoned: 2 });
  t.teardown(dispose);
  const deadline = new AbortController();
  const calls = [client.getLibVersion({ signal: deadline.signal }), client.getHostname({ signal: deadline.signal }), client.getVersion({ signal: deadline.signal })];
  const sent = [await nextPacket(), await nextPacket(), await nextPacket()];
  deadline.abort(new Error('caller gave up'));
  const aborted = await Promise.all(calls.map((call) => call.then(() => t.fail('resolved'), (err: unknown) => err as CallAbortedError)));
  const done = aborted.map(() => false);
  aborted.forEach((err, i) => void err!.daemonDone.then(() => (done[i] = true)));
  await sleep(10);
  t.deepEqual(done, [true, false, false], 'the oldest is forgotten at once; the daemon may still be busy with the others');
  peer.write(reply(sent[1]!.proc, sent[1]!.serial, (w) => w.string('late', 100)));
  await aborted[1]!.daemonDone;
  t.deepEqual(done, [true, true, false], 'a late reply to a remembered call is dropped and ends its wait');
  t.false(client.isClosed);
  peer.write(reply(sent[0]!.proc, sent[0]!.serial, (w) => w.uhyper(1n)));
  const info = await client.closed;
  t.is(info.reason, 'protocol');
  t.regex(info.error!.message, /matches no call/);
  await aborted[2]!.daemonDone;
  t.deepEqual(done, [true, true, true], 'the connection end ends every wait');
});

test('two deadlines in a row with no reply at all close the connection; a reply in between resets the count', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  await t.throwsAsync(client.getLibVersion({ signal: AbortSignal.timeout(20) }), { instanceOf: CallAbortedError });
  await nextPacket();
  const answered = client.getHostname();
  const h = await nextPacket();
  peer.write(reply(h.proc, h.serial, (w) => w.string('node-1', 100)));
  t.is(await answered, 'node-1');
  await t.throwsAsync(client.getLibVersion({ signal: AbortSignal.timeout(20) }), { instanceOf: CallAbortedError });
  t.false(client.isClosed, 'one silent deadline since the last reply');
  await t.throwsAsync(client.getLibVersion({ signal: AbortSignal.timeout(20) }), { instanceOf: CallAbortedError });
  const info = await client.closed;
  t.is(info.reason, 'timeout');
  t.regex(info.error!.message, /2 calls in a row timed out without any reply/);
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

/** A stats reply of about `bytes` for `serial`, and the records the whole-buffer decode gives for it. */
function statsReply(serial: number, bytes: number): { packet: Buffer; expected: DomainStatsRecord[] } {
  const { packet } = statsPacket(serial, bytes);
  return { packet, expected: Calls.getAllDomainStats.decode(decodePacket(packet).body) };
}

const sameRecords = (a: DomainStatsRecord[], b: DomainStatsRecord[]): boolean =>
  isDeepStrictEqual(a.map((r) => [r.domain, [...paramsOf(r)]]), b.map((r) => [r.domain, [...paramsOf(r)]]));

test('a stats reply in parts is decoded as it arrives: its call is told once when the header is there, and gets the same records', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  let told = 0;
  const call = client.getAllDomainStats({ onAnswering: () => told++ });
  const h = await nextPacket();
  const { packet, expected } = statsReply(h.serial, 300_000);
  peer.write(packet.subarray(0, 27));
  await sleep(30);
  t.is(told, 0, 'the header is not complete');
  peer.write(packet.subarray(27, 28));
  await sleep(30);
  t.is(told, 1);
  for (let at = 28; at < packet.length; at += 40_000) peer.write(packet.subarray(at, at + 40_000));
  t.true(sameRecords(await call, expected));
  t.is(told, 1);
  t.false(client.isClosed);
});

test('a stats reply that does not decode closes the connection as soon as the bad part arrives, not when the packet is complete', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const call = client.getAllDomainStats();
  const h = await nextPacket();
  const { packet } = statsReply(h.serial, 300_000);
  const bad = Buffer.from(packet);
  bad.writeInt32BE(8, bad.indexOf('state.state') + 12); // the first parameter's type
  peer.write(bad.subarray(0, 10_000));
  const info = await client.closed;
  t.is(info.reason, 'protocol');
  t.regex(info.error!.message, /'state.state': unknown type 8/);
  t.is((await t.throwsAsync(call, { instanceOf: ConnectionClosedError }))?.reason, 'protocol');
});

test('a stats packet that ends in the middle of an item closes the connection and fails the call', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const call = client.getAllDomainStats();
  const h = await nextPacket();
  const { packet } = statsReply(h.serial, 300_000);
  const cut = Buffer.from(packet.subarray(0, packet.length - 5)); // the last value loses 5 of its 8 bytes
  cut.writeUInt32BE(cut.length, 0);
  for (let at = 0; at < cut.length; at += 65_536) peer.write(cut.subarray(at, at + 65_536));
  const info = await client.closed;
  t.is(info.reason, 'protocol');
  t.regex(info.error!.message, /needs 8 bytes, only 3 left/);
  await t.throwsAsync(call, { instanceOf: ConnectionClosedError });
});

test('the late stats reply of an abandoned call is passed over, and so is the rest of one abandoned while it arrives', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  for (const abandonedWhen of ['before', 'during'] as const) {
    const deadline = new AbortController();
    const call = client.getAllDomainStats({ signal: deadline.signal });
    const h = await nextPacket();
    const { packet } = statsReply(h.serial, 300_000);
    // A body that would not decode after the abandonment: passed over, never decoded.
    packet.writeInt32BE(8, packet.indexOf('state.reason', 150_000) + 12);
    if (abandonedWhen === 'before') deadline.abort(new Error('deadline'));
    peer.write(packet.subarray(0, 100_000));
    await sleep(30);
    if (abandonedWhen === 'during') deadline.abort(new Error('deadline'));
    const aborted = await t.throwsAsync(call, { instanceOf: CallAbortedError });
    peer.write(packet.subarray(100_000));
    await aborted!.daemonDone;
    t.false(client.isClosed, abandonedWhen);
    const next = client.getAllDomainStats();
    const hn = await nextPacket();
    const fresh = statsReply(hn.serial, 100_000);
    peer.write(fresh.packet);
    t.true(sameRecords(await next, fresh.expected), abandonedWhen);
  }
});

test('an error reply to a stats call, in parts, is a LibvirtError as in one piece', async (t) => {
  const { client, peer, nextPacket, dispose } = await scriptedPeer();
  t.teardown(dispose);
  const call = client.getAllDomainStats();
  const h = await nextPacket();
  const packet = errorReply(h.proc, h.serial, 1, `internal error: ${'x'.repeat(1000)}`);
  peer.write(packet.subarray(0, 40));
  await sleep(20);
  peer.write(packet.subarray(40));
  await t.throwsAsync(call, { instanceOf: LibvirtError, message: /^internal error: x+$/ });
  t.false(client.isClosed);
});
