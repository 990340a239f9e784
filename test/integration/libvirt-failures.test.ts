// Failure behaviour against the real daemon: a QEMU that stops answering its monitor, libvirtd killed in the
// middle of calls, and a daemon that stops reading (keepalive). The libvirtd tests restart the shared daemon
// and leave it running; ava runs files one at a time, so nothing else uses it meanwhile in `npm test`.
import test from 'ava';
import { connect } from '../../libvirt/client.js';
import { paramsOf } from '../../libvirt/domain-stats.js';
import { CallAbortedError, ConnectionClosedError } from '../../libvirt/errors.js';
import { StatsFlag, StatsGroup } from '../../libvirt/protocol.js';
import type { CloseInfo, DomainRef, LibvirtClient } from '../../libvirt/types.js';
import { type Teardown, defineTinyDomain, qemuPid, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { client } from '../harness/env/libvirt-client.js';
import { runningDaemons } from '../env/env.js';
import { URIS as uris } from '../env/layout.js';
import { startLibvirtd, virsh } from '../harness/env/testenv.js';

/** Groups that make the QEMU driver talk to the monitor (and take the domain job). */
const MONITOR_GROUPS = StatsGroup.BALLOON | StatsGroup.BLOCK;

/** A running domain whose QEMU is SIGSTOPped until the test ends (SIGCONT registered first, so it runs last). */
async function frozenDomain(t: Teardown, c: LibvirtClient, label: string): Promise<{ ref: DomainRef; thaw: () => void }> {
  const domain = await defineTinyDomain(testDomainName(label), { cleanup: t, enospcDisk: false });
  await virsh(['start', domain.name]);
  await waitForDomainState(domain.name, 'running');
  const ref = (await c.listAllDomains()).find((d) => d.name === domain.name)!;
  const { pid } = qemuPid(domain.name);
  let frozen = true;
  const thaw = (): void => {
    if (frozen) process.kill(pid, 'SIGCONT');
    frozen = false;
  };
  t.teardown(thaw);
  process.kill(pid, 'SIGSTOP');
  return { ref, thaw };
}

test.serial('a deadline on a call stuck behind a stopped QEMU fails only that call', async (t) => {
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const { ref, thaw } = await frozenDomain(t, c, 'sigstop');
  const started = Date.now();
  const stuck = c.getAllDomainStats({ domains: [ref], stats: MONITOR_GROUPS, signal: AbortSignal.timeout(1500) });
  // Calls that do not need the monitor keep working while that one waits.
  t.like(await c.domainGetState(ref), { stateName: 'running' });
  t.true((await c.listAllDomains()).some((d) => d.uuid === ref.uuid));
  const err = await t.throwsAsync(stuck, { instanceOf: CallAbortedError });
  t.true(err!.timedOut);
  t.true(Date.now() - started >= 1400, 'it really waited for the monitor');
  // NOWAIT does not wait for the job the stuck call holds: it answers with what needs no monitor.
  const [partial] = await c.getAllDomainStats({ domains: [ref], stats: StatsGroup.STATE | MONITOR_GROUPS, flags: StatsFlag.NOWAIT, signal: AbortSignal.timeout(5000) });
  t.is(paramsOf(partial!).get('state.state'), 1);
  t.false(paramsOf(partial!).has('block.0.rd.reqs'), 'no monitor data without the job');
  thaw();
  // The abandoned call's reply arrives late and is dropped; the connection stays usable.
  const [full] = await c.getAllDomainStats({ domains: [ref], stats: MONITOR_GROUPS, signal: AbortSignal.timeout(20_000) });
  t.true(paramsOf(full!).has('block.0.rd.reqs'));
  t.false(c.isClosed);
  t.true((await c.getLibVersion()) > 0);
});

test.serial('libvirtd killed mid-call: pending calls reject, close fires once, a restarted daemon takes new clients', async (t) => {
  t.teardown(() => startLibvirtd().then(() => undefined));
  const c = await connect(uris.qemuTcp, { readOnly: true });
  const { ref, thaw } = await frozenDomain(t, c, 'killed');
  const closes: CloseInfo[] = [];
  c.on('close', (info) => closes.push(info));
  const pending = [
    c.getAllDomainStats({ domains: [ref], stats: MONITOR_GROUPS }),
    c.getAllDomainStats({ domains: [ref], stats: MONITOR_GROUPS }),
  ];
  await c.getLibVersion(); // the stats calls are on the daemon by now
  process.kill(runningDaemons().libvirtd.pid, 'SIGKILL');
  for (const call of pending) {
    const err = await t.throwsAsync(call, { instanceOf: ConnectionClosedError });
    t.true(err!.reason === 'eof' || err!.reason === 'error', err!.reason);
  }
  const info = await c.closed;
  t.true(info.reason === 'eof' || info.reason === 'error');
  await t.throwsAsync(c.getLibVersion(), { instanceOf: ConnectionClosedError });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(closes.length, 1);

  thaw();
  await startLibvirtd();
  const fresh = await client(t, uris.qemuTcp, { readOnly: true });
  t.true((await fresh.listAllDomains()).some((d) => d.uuid === ref.uuid), 'the running domain survived the daemon');
});

test.serial('keepalive: a daemon that stops responding is declared dead after the configured misses', async (t) => {
  const intervalMs = 300;
  const count = 2;
  const c = await connect(uris.testTcp, { keepalive: { intervalMs, count } });
  const libvirtd = runningDaemons().libvirtd.pid;
  let stopped = true;
  const resume = (): void => {
    if (stopped) process.kill(libvirtd, 'SIGCONT');
    stopped = false;
  };
  t.teardown(resume);
  const started = Date.now();
  process.kill(libvirtd, 'SIGSTOP');
  const pending = c.getHostname();
  const info = await c.closed;
  const elapsed = Date.now() - started;
  resume();
  t.is(info.reason, 'keepalive');
  // Not before the configured misses; the upper margin for a loaded machine stays far below what the
  // client's default keepalive (5 s, 5 misses) would take, so the configured one is shown to be used.
  t.true(elapsed >= intervalMs * (count + 1) - 50 && elapsed < intervalMs * (count + 1) + 4000, `${elapsed} ms`);
  const err = await t.throwsAsync(pending, { instanceOf: ConnectionClosedError });
  t.is(err!.reason, 'keepalive');
  const fresh = await client(t, uris.testTcp);
  t.true((await fresh.getLibVersion()) > 0);
});

test.serial('keepalive: an idle healthy connection stays open across several intervals', async (t) => {
  const c = await client(t, uris.testTcp, { keepalive: { intervalMs: 200, count: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.false(c.isClosed, 'our pings were answered by the daemon');
  t.true((await c.getLibVersion()) > 0);
});
