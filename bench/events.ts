// Event → Eviction create-request latency. 1000 synthetic `lifecycle stopped/failed` events (one per
// domain) are encoded as libvirt event frames and written to a socket; the real client decodes them
// (FrameReader, packet classification, XDR), the agent decides and queues the Eviction, the Kubernetes
// writer sends it through the agent's Kubernetes client to the fake API server (on its own thread). Latency =
// from the frame's write to the API server receiving the POST (epoch ms from performance.timeOrigin on
// both threads). Three arrival patterns: one at a time (the next event when the previous POST arrived:
// the latency itself), paced (one event every 2 ms, 500/s: with some queueing) and a burst (all at once:
// throughput). Goal: p99 < 50 ms. The same one at a time through the real agent process (as below), whose
// V8 settings differ from this process's.
// Then the memory of the agent as deployed: the real `libvirt-telemetry events` process with its default
// flags, connected to a scripted libvirtd on a unix socket, resident memory (VmRSS, VmHWM) idle and under a
// burst of the same N events, with --dry-run and with the writer against the fake API server.
// Goal: ≤ 64 MiB.
//   node dist/bench/events.js [--events N]
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KubeActions } from '../events/actions.js';
import { EventAgent } from '../events/agent.js';
import { KubeClient } from '../events/kube-client.js';
import { loadKubeConfig } from '../events/kube-config.js';
import { createLogger } from '../runtime/log.js';
import { AgentMetrics } from '../events/metrics.js';
import { JsonLineSink } from '../events/record.js';
import { EventProc } from '../libvirt/protocol.js';
import { writeDomain } from '../libvirt/structs.js';
import { Worker } from 'node:worker_threads';
import { HYPERVISOR } from '../test/harness/fakes/kube-fixtures.js';
import { metricValue, startEventsAgent } from '../test/harness/roles/events-agent.js';
import { scriptedDaemon, scriptedPeer, type ScriptedDaemon } from '../test/harness/fakes/scripted-peer.js';
import { errorReply, event, reply, validReplies } from '../test/harness/fakes/server-packets.js';
import { RemoteProc } from '../libvirt/protocol.js';
import { processMemory } from './proc-memory.js';
import { NODE_RUNTIMES } from '../test/harness/roles/oci-image.js';

const GOAL_P99_MS = 50;
const GOAL_RSS_MIB = 64;
const MiB = 1024 * 1024;
/** After connecting, before the idle figure: start-up garbage collected, timers settled. */
const SETTLE_MS = 3000;
const count = Number(process.argv[process.argv.indexOf('--events') + 1]) || 1000;

function uuid(run: number, i: number): string {
  const hex = (run * 1_000_000 + i).toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** LIFECYCLE (proc 318): callbackID, domain, event STOPPED (5), detail FAILED (5). */
function stoppedFailedFrame(run: number, i: number): Buffer {
  return event(EventProc.LIFECYCLE, (w) => {
    w.int(1);
    writeDomain(w, { name: `bench-${run}-${i}`, uuid: uuid(run, i), id: i + 1 });
    w.int(5).int(5);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface LoggedRequest {
  method: string;
  status: number;
  at: number;
  body?: { metadata?: { labels?: Record<string, string> } };
}

/** The fake API server in a worker thread. */
class ApiServerThread {
  private readonly worker: Worker;
  /** tls: HTTPS with a verified server certificate, as an in-cluster agent writes. */
  constructor(tls = false) {
    this.worker = new Worker(new URL('./fake-apiserver-worker.js', import.meta.url), { workerData: { tls } });
  }
  private next<T>(type: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { type: string } & T) => {
        if (m.type !== type) return;
        this.worker.off('message', on);
        resolve(m);
      };
      this.worker.on('message', on);
    });
  }
  async ready(): Promise<void> {
    await this.next('ready');
  }
  async writeKubeconfig(file: string): Promise<void> {
    const done = this.next('kubeconfig');
    this.worker.postMessage({ type: 'kubeconfig', path: file });
    await done;
  }
  /** Resolves when `n` more Eviction POSTs have reached the server. */
  posts(n: number): Promise<void> {
    return new Promise((resolve) => {
      let seen = 0;
      const on = (m: { type: string }) => {
        if (m.type !== 'post' || ++seen < n) return;
        this.worker.off('message', on);
        resolve();
      };
      this.worker.on('message', on);
    });
  }
  /** The time (epoch ms) the POST of the Eviction for domain `uuid` reached the server. */
  postedAt(uuid: string): Promise<number> {
    return new Promise((resolve) => {
      const on = (m: { type: string; uuid?: string; at?: number }) => {
        if (m.type !== 'post' || m.uuid !== uuid) return;
        this.worker.off('message', on);
        resolve(m.at!);
      };
      this.worker.on('message', on);
    });
  }
  async requests(): Promise<LoggedRequest[]> {
    const reply = this.next<{ requests: LoggedRequest[] }>('requests');
    this.worker.postMessage({ type: 'requests' });
    return (await reply).requests;
  }
  async stop(): Promise<void> {
    this.worker.postMessage({ type: 'stop' });
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** gapMs: pause between events; 'sequential': each event only after the previous Eviction's POST arrived. */
async function scenario(kube: ApiServerThread, kubeconfig: string, run: number, label: string, gapMs: number | 'sequential'): Promise<{ p50: number; p99: number; max: number }> {
  const metrics = new AgentMetrics();
  const log = createLogger({ level: 'error' });
  const client = new KubeClient(await loadKubeConfig(kubeconfig));
  const actions = new KubeActions(client, { capacity: count * 2, concurrency: 4, requestTimeoutMs: 10_000, retryForMs: 60_000, backoffMinMs: 200, backoffMaxMs: 5000 }, metrics, log);
  const discard = new Writable({ write: (_chunk, _enc, done) => done() });
  const agent = new EventAgent(
    { hypervisor: HYPERVISOR, namespace: 'default', policy: { ioErrorPolicy: 'evict-on-persist', ioErrorPersistMs: 60_000, rebootWindowMs: 1000, ioErrorWindowMs: 1000 } },
    { actions, records: new JsonLineSink(discard, 8 << 20, () => undefined), metrics, log },
  );
  const peer = await scriptedPeer();
  let received = 0;
  let allReceived!: () => void;
  const delivered = new Promise<void>((resolve) => (allReceived = resolve));
  peer.client.on('event', (e) => {
    agent.onEvent(e);
    if (++received === count) allReceived();
  });
  const frames = Array.from({ length: count }, (_, i) => stoppedFailedFrame(run, i));
  const sentAt = new Map<string, number>();
  const firstRequest = (await kube.requests()).length;
  for (let i = 0; i < count; i++) {
    const arrived = gapMs === 'sequential' ? kube.postedAt(uuid(run, i)) : undefined;
    sentAt.set(uuid(run, i), epochNow());
    peer.peer.write(frames[i]!);
    if (arrived) await arrived;
    else if (typeof gapMs === 'number' && gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  await delivered;
  if (!(await actions.writer.drain(120_000))) throw new Error(`${label}: Evictions still pending after 120 s`);
  const latencies = (await kube.requests())
    .slice(firstRequest)
    .filter((r) => r.method === 'POST' && r.status === 201)
    .map((r) => r.at - sentAt.get(r.body!.metadata!.labels!['hypervisor.c5c3.io/domain-uuid']!)!)
    .sort((a, b) => a - b);
  if (latencies.length !== count) throw new Error(`${label}: ${latencies.length} Evictions created for ${count} events`);
  agent.close();
  actions.writer.close();
  client.close();
  peer.dispose();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)! };
}

interface MemoryFigures {
  idle: number;
  burstPeak: number;
  hwm: number;
}

/** A scripted libvirtd (no keepalive: it does not answer pings) that accepts the agent's registrations. */
async function eventDaemon(): Promise<ScriptedDaemon> {
  return await scriptedDaemon((header) => {
    if (header.proc === RemoteProc.CONNECT_SUPPORTS_FEATURE) return [reply(header.proc, header.serial, (w) => w.int(0))];
    const answer = validReplies(header.serial).get(header.proc);
    return [answer ?? errorReply(header.proc, header.serial, 1, `the scripted daemon does not implement procedure ${header.proc}`)];
  });
}

/**
 * The agent process with its default flags against a scripted libvirtd; `kube` = write through a kubeconfig to
 * the fake API server, else --dry-run. The end of the burst is seen where its output arrives (the API server's
 * POSTs, the printed Evictions), not by scraping /metrics in a loop: a scrape renders every series, and one
 * every few milliseconds would be the bench's load, not the agent's. One scrape at the end checks the counts.
 */
async function agentMemory(run: number, kube: ApiServerThread | undefined, node: string): Promise<MemoryFigures> {
  const daemon = await eventDaemon();
  const agent = await startEventsAgent({ uri: daemon.uri('/system'), hypervisor: HYPERVISOR, namespace: 'default', node, ...(kube ? { kube } : {}) });
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const idle = processMemory(agent.pid).rss;
    let burstPeak = idle;
    const sampler = setInterval(() => (burstPeak = Math.max(burstPeak, processMemory(agent.pid).rss)), 20);
    const posted = kube?.posts(count);
    for (let i = 0; i < count; i++) daemon.broadcast(stoppedFailedFrame(run, i));
    if (posted) await posted;
    else while (agent.lines.filter((l) => l.kind === 'Eviction').length < count) await new Promise((resolve) => setTimeout(resolve, 50));
    for (;;) {
      const metrics = await agent.metrics();
      const seen = metricValue(metrics, 'libvirt_events_total', { type: 'lifecycle', detail: 'stopped/failed' });
      const written = kube ? metricValue(metrics, 'libvirt_events_evictions_created_total', { outcome: 'created' }) : seen;
      if (seen >= count && written >= count) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    clearInterval(sampler);
    burstPeak = Math.max(burstPeak, processMemory(agent.pid).rss);
    return { idle, burstPeak, hwm: processMemory(agent.pid).peak };
  } finally {
    await agent.stop();
    daemon.dispose();
  }
}

/**
 * The latency of the agent as deployed (its process, its V8 settings, its default flags), one event at a
 * time: from the frame's write to the fake API server receiving the Eviction's POST.
 */
async function agentLatency(run: number, kube: ApiServerThread): Promise<{ p50: number; p99: number; max: number }> {
  const daemon = await eventDaemon();
  const agent = await startEventsAgent({ uri: daemon.uri('/system'), hypervisor: HYPERVISOR, namespace: 'default', kube });
  try {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const arrived = kube.postedAt(uuid(run, i));
      const sentAt = epochNow();
      daemon.broadcast(stoppedFailedFrame(run, i));
      latencies.push((await arrived) - sentAt);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)! };
  } finally {
    await agent.stop();
    daemon.dispose();
  }
}

/** Resident memory of a bare Node.js process (the floor under any figure above), after the same settling time. */
async function bareNodeRss(node: string): Promise<number> {
  const child = spawn(node, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const { rss } = processMemory(child.pid!);
  child.kill();
  return rss;
}

const kube = new ApiServerThread();
// As in a cluster: HTTPS, the server's certificate verified against the kubeconfig's CA.
const kubeTls = new ApiServerThread(true);
await Promise.all([kube.ready(), kubeTls.ready()]);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-events-'));
const kubeconfig = path.join(dir, 'kubeconfig');
await kube.writeKubeconfig(kubeconfig);
try {
  await scenario(kube, kubeconfig, 0, 'warm-up', 1);
  const sequential = await scenario(kube, kubeconfig, 3, 'sequential', 'sequential');
  const paced = await scenario(kube, kubeconfig, 1, 'paced', 2);
  const burst = await scenario(kube, kubeconfig, 2, 'burst', 0);
  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`event → Eviction create request, ${count} events through the libvirt client's decoder, the agent's Kubernetes client, fake API server`);
  console.log(`  (machine load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; shared CPU makes the tail noisy)`);
  console.log(`  one at a time:          p50 ${fmt(sequential.p50)}  p99 ${fmt(sequential.p99)}  max ${fmt(sequential.max)}  goal p99 < ${GOAL_P99_MS} ms: ${sequential.p99 < GOAL_P99_MS ? 'met' : 'NOT met'}`);
  console.log(`  paced (1 event / 2 ms): p50 ${fmt(paced.p50)}  p99 ${fmt(paced.p99)}  max ${fmt(paced.max)}  goal p99 < ${GOAL_P99_MS} ms: ${paced.p99 < GOAL_P99_MS ? 'met' : 'NOT met'}`);
  console.log(`  burst (all at once):    p50 ${fmt(burst.p50)}  p99 ${fmt(burst.p99)}  max ${fmt(burst.max)}  (queueing behind 4 concurrent requests)`);
  const deployed = await agentLatency(6, kube);
  console.log(`  the agent process, one at a time: p50 ${fmt(deployed.p50)}  p99 ${fmt(deployed.p99)}  max ${fmt(deployed.max)}  goal p99 < ${GOAL_P99_MS} ms: ${deployed.p99 < GOAL_P99_MS ? 'met' : 'NOT met'}`);
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  const verdict = (m: MemoryFigures) => (Math.max(m.burstPeak, m.hwm) <= GOAL_RSS_MIB * MiB ? 'met' : 'NOT met');
  console.log(`HA agent resident memory (libvirt-telemetry events, default flags, scripted libvirtd; burst = ${count} stopped/failed events → ${count} Evictions)`);
  // On this machine's Node.js and on the one the image runs (what the manifests deploy).
  for (const [r, runtime] of NODE_RUNTIMES.entries()) {
    const node = await runtime.binary();
    console.log(`  ${runtime.label}; a bare node process idles at ${mib(await bareNodeRss(node))} here`);
    const modes = [['--dry-run', undefined], ['writer → API server, http', kube], ['writer → API server, https', kubeTls]] as const;
    for (const [i, [label, server]] of modes.entries()) {
      const m = await agentMemory(7 + 3 * r + i, server, node); // a run number of its own: its domains' UUIDs
      console.log(`    ${label.padEnd(27)} idle ${mib(m.idle)}  burst peak ${mib(m.burstPeak)}  VmHWM ${mib(m.hwm)}  goal ≤ ${GOAL_RSS_MIB} MiB: ${verdict(m)}`);
    }
  }
} finally {
  await Promise.all([kube.stop(), kubeTls.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
