// The HA agent's connection at its default flags: readiness follows a frozen libvirtd within seconds, and after an
// outage of any length the agent (and the exporter, same supervisor) is back within 2 s of the daemon answering.
import test from 'ava';
import { startEventsAgent, metricValue } from '../harness/roles/events-agent.js';
import { startExporter } from '../harness/roles/exporter.js';
import { scriptedDaemon } from '../harness/fakes/scripted-peer.js';
import { healthyAnswer } from '../harness/fakes/server-packets.js';
import { testenvInfo } from '../harness/env/testenv.js';
import { sleep } from '../env/proc.js';

/** The readiness bound docs/events.md gives. */
const READINESS_BOUND_MS = 3000;

async function healthz(web: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${web}/healthz`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Polls /healthz every 50 ms until `status`; resolves with the time it took, ms. */
async function untilStatus(web: string, status: number, limitMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if ((await healthz(web)).status === status) return performance.now() - started;
    await sleep(50);
  }
  throw new Error(`/healthz did not answer ${status} within ${limitMs} ms`);
}

test.serial('libvirtd SIGSTOPped: /healthz turns 503 within the documented bound, 200 again once it runs', async (t) => {
  const agent = await startEventsAgent();
  t.teardown(() => agent.stop());
  t.is((await healthz(agent.web)).status, 200);

  // The shared libvirtd is held for a few seconds only: other tests use it too.
  const libvirtd = testenvInfo().pids.libvirtd;
  let frozen = true;
  const thaw = (): void => {
    if (frozen) process.kill(libvirtd, 'SIGCONT');
    frozen = false;
  };
  t.teardown(thaw);
  process.kill(libvirtd, 'SIGSTOP');
  let turnedMs: number;
  try {
    turnedMs = await untilStatus(agent.web, 503, READINESS_BOUND_MS + 2000);
    const { body } = await healthz(agent.web);
    t.like(body, { healthy: false, libvirt: 'unresponsive' });
  } finally {
    thaw();
  }
  t.log(`/healthz turned 503 after ${Math.round(turnedMs)} ms`);
  t.true(turnedMs <= READINESS_BOUND_MS, `${turnedMs} ms`);
  await untilStatus(agent.web, 200, 10_000);
  t.deepEqual((await healthz(agent.web)).body, { healthy: true, libvirt: 'connected' });
});

test.serial('a 20 s outage: the agent and the exporter reconnect within 2 s of the daemon listening again; the agent reconciles', async (t) => {
  const daemon = await scriptedDaemon((header) => healthyAnswer(header));
  t.teardown(daemon.dispose);
  const agent = await startEventsAgent({ uri: daemon.uri('/system') });
  t.teardown(() => agent.stop());
  const exporter = await startExporter(['--libvirt.uri', daemon.uri('/system')]);
  t.teardown(() => exporter.stop());
  await agent.waitForLog(/msg="connected to libvirtd"/);
  await waitForLine(() => exporter.log(), /msg="connected to libvirtd"/);

  const mark = agent.log.length;
  await daemon.stop();
  await agent.waitForLog(/msg="lost the connection to libvirtd"/, mark);
  await sleep(20_000);
  await daemon.restart();
  const back = Date.now();
  const lineTime = (line: string): number => Date.parse(/ts=(\S+)/.exec(line)![1]!);

  const agentLine = await agent.waitForLog(/msg="reconnected to libvirtd"/, mark, 10_000);
  t.log(`agent back ${lineTime(agentLine) - back} ms after the daemon listened again`);
  t.true(lineTime(agentLine) - back < 2000, `agent back after ${lineTime(agentLine) - back} ms`);
  const exporterLine = await waitForLine(() => exporter.log(), /msg="reconnected to libvirtd"/);
  t.log(`exporter back ${lineTime(exporterLine) - back} ms after`);
  t.true(lineTime(exporterLine) - back < 2000, `exporter back after ${lineTime(exporterLine) - back} ms`);
  // Reconciliation ran on the reconnect: the listing replaced the picture and the reconnect is counted.
  t.is(metricValue(await agent.metrics(), 'libvirt_events_reconnects_total'), 1);
  t.is(metricValue(await agent.metrics(), 'libvirt_events_connected'), 1);
  t.is((await healthz(agent.web)).status, 200);
});

async function waitForLine(text: () => string, pattern: RegExp, limitMs = 10_000): Promise<string> {
  const started = performance.now();
  for (;;) {
    const found = text().split('\n').find((line) => pattern.test(line));
    if (found) return found;
    if (performance.now() - started > limitMs) throw new Error(`no log line ${pattern} in:\n${text()}`);
    await sleep(100);
  }
}
