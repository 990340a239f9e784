// Scrape wall time and memory of the exporter, on this machine's Node.js and on the image's (the runtime the
// manifests deploy: a role's memory differs by runtime), side by side with `virsh domstats` and Debian's
// prometheus-libvirt-exporter (kumina 0.2) against the same libvirtd, for 1000 and 5000 test-driver domains and
// for 20+ TCG domains; then the exporter alone against a scripted daemon whose stats reply is a legal 32 MiB
// message. Prints every figure against its goal (issue 12): ≤ 1.2× virsh for the test-driver domains, at or
// below kumina for TCG, peak RSS ≤ 64 MiB at 5000 domains, peak ≤ idle + 2 × the message for the 32 MiB reply.
//
//   npm run bench:exporter
//
// BENCH_ROUNDS (default 15), BENCH_TEST_DOMAINS (1000,5000), BENCH_TCG_DOMAINS (20), BENCH_BIG_MESSAGE_MIB (32),
// BENCH_PAUSE_MS (1500) change the run; a size of 0 skips that scenario. BENCH_NOVA=1 gives the test-driver domains
// Nova's instance metadata, as on an OpenStack host (the default flags read it: --collector.openstack).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { URIS } from '../test/env/layout.js';
import { ensurePackages } from '../test/env/packages.js';
import { connect } from '../libvirt/client.js';
import { STATS_GROUPS } from '../exporter/collection.js';
import { defineTinyDomain, removeDomain, testDomainName, type TinyDomain } from '../test/harness/env/domains.js';
import { startExporter, type RunningExporter } from '../test/harness/roles/exporter.js';
import { parseExposition } from '../test/harness/readers/exposition.js';
import { freePort } from '../test/harness/free-port.js';
import { processMemory } from './proc-memory.js';
import { NODE_RUNTIMES } from '../test/harness/roles/oci-image.js';
import { Limits } from '../libvirt/protocol.js';
import { bigHostDaemon } from '../test/harness/fakes/stats-daemon.js';
import { virsh } from '../test/harness/env/testenv.js';
import { novaInstanceXml } from '../test/harness/inputs/nova.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);
const TEST_DOMAINS = (process.env['BENCH_TEST_DOMAINS'] ?? '1000,5000').split(',').map(Number).filter((n) => n > 0);
const BIG_MESSAGE_MIB = Number(process.env['BENCH_BIG_MESSAGE_MIB'] ?? 32);
const TCG_DOMAINS = Number(process.env['BENCH_TCG_DOMAINS'] ?? 20);
const NOVA = process.env['BENCH_NOVA'] === '1';
const MiB = 1024 * 1024;
/** Between rounds, as between Prometheus scrapes (which come every 15-30 s); the exporter's idle GC runs then. */
const PAUSE_MS = Number(process.env['BENCH_PAUSE_MS'] ?? 1500);

/** The virsh flags selecting the same groups the exporter asks for (STATS_GROUPS). */
const VIRSH_GROUPS = ['--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block'];
if (STATS_GROUPS !== 0b111111) throw new Error('VIRSH_GROUPS no longer matches the exporter\'s STATS_GROUPS');

/** A Node.js binary the exporter is measured on (NODE_RUNTIMES), labelled by its version. */
interface Runtime {
  readonly label: string;
  readonly node: string;
}

interface Figures {
  scenario: string;
  runtime: string;
  domains: number;
  /** virsh's own timing of one domstats call (call and printing) on its warm connection, after the pause. */
  virshMs: number;
  /** One whole `virsh domstats` process: start, connect, call, print. */
  virshProcessMs: number;
  oursMs: number;
  /** The exporter's own libvirt_exporter_scrape_duration_seconds: the collection without rendering and HTTP. */
  oursCollectMs: number;
  oursColdMs: number;
  kuminaMs: number;
  /** Before the first scrape, after the same pause as between rounds. */
  oursIdleRss: number;
  /** VmHWM right after the first scrape, which also reads every domain's XML. */
  oursFirstPeakRss: number;
  oursRss: number;
  oursPeakRss: number;
  kuminaRss: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** kumina's exporter on its own port against the same daemon, stopped by its pid. */
async function startKumina(uri: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus-libvirt-exporter', [`--libvirt.uri=${uri}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/`).then(() => true, () => false)) break;
    if (i > 100 || child.exitCode !== null) throw new Error('prometheus-libvirt-exporter did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

/**
 * One GET timed by curl (time_total: connect to last byte), with the body kept in `bodyFile`: the figure is the
 * server's, not the overhead of a JavaScript HTTP client in this process (bench/RESULTS.md#exporter).
 */
async function timedGet(url: string, bodyFile: string): Promise<number> {
  const child = spawn('curl', ['-sS', '--max-time', '300', '-o', bodyFile, '-w', '%{http_code} %{time_total}', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const [status, seconds] = out.trim().split(' ');
  if (code !== 0 || status !== '200') throw new Error(`${url}: ${out.trim()}`);
  return 1000 * Number(seconds);
}

const VIRSH_DOMSTATS = ['domstats', '--raw', ...VIRSH_GROUPS].join(' ');

/** Wall time of one whole `virsh domstats` run: process start, connect, call, print. */
function virshProcess(uri: string): number {
  const started = performance.now();
  const r = spawnSync('virsh', ['-q', '-c', uri, VIRSH_DOMSTATS], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`virsh failed: ${String(r.stderr).trim().split('\n')[0]}`);
  return performance.now() - started;
}

/**
 * One long-lived `virsh -t` session on its own connection, like the exporter's: each domstats() issues the
 * command when asked (after the same pause the exporter gets) and returns virsh's own timing of it, "(Time: …
 * ms)", which covers the call and the printing of the result. The output goes to a file, read as it grows.
 */
async function startVirshSession(uri: string): Promise<{ domstats: () => Promise<number>; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-virsh-'));
  const outFile = path.join(dir, 'out');
  const out = openSync(outFile, 'w+');
  const child = spawn('virsh', ['-t', '-q', '-c', uri], { stdio: ['pipe', out, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let readOffset = 0;
  let pending = '';
  const timings: number[] = [];
  const chunk = Buffer.alloc(1 << 20);
  /** Reads what virsh wrote since the last look; keeps the timings and drops the stats text. */
  const poll = (): void => {
    for (let n; (n = readSync(out, chunk, 0, chunk.length, readOffset)) > 0; ) {
      readOffset += n;
      pending += chunk.toString('latin1', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /^\(Time: ([\d.]+) ms\)$/.exec(line);
        if (m) timings.push(Number(m[1]));
      }
    }
  };
  const domstats = async (): Promise<number> => {
    const before = timings.length;
    child.stdin!.write(`${VIRSH_DOMSTATS}\n`);
    for (const started = performance.now(); timings.length === before; await new Promise((r) => setTimeout(r, 2))) {
      if (child.exitCode !== null || performance.now() - started > 300_000) throw new Error(`virsh session ended: ${stderr.trim().split('\n')[0]}`);
      poll();
    }
    return timings[before]!;
  };
  await domstats(); // connects and warms up, like the exporter's first scrape
  return {
    domstats,
    stop: async () => {
      child.stdin!.end();
      await exited;
      closeSync(out);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, PAUSE_MS));

/** virsh, kumina and the exporter on each runtime against one daemon URI, interleaved round by round. */
async function measure(scenario: string, uri: string, runtimes: readonly Runtime[]): Promise<Figures[]> {
  const ours: RunningExporter[] = [];
  for (const { node } of runtimes) ours.push(await startExporter(['--libvirt.uri', uri], { node }));
  const kumina = await startKumina(uri);
  const virsh = await startVirshSession(uri);
  const bodies = mkdtempSync(path.join(tmpdir(), 'bench-scrapes-'));
  const oursBody = path.join(bodies, 'ours');
  const kuminaBody = path.join(bodies, 'kumina');
  const oursSample = (name: string): number => parseExposition(readFileSync(oursBody, 'utf8')).find((s) => s.name === name)?.value ?? NaN;
  try {
    await pause();
    const idleRss = ours.map((e) => processMemory(e.pid).rss);
    const coldMs: number[] = [];
    const firstPeakRss: number[] = [];
    const domains: number[] = [];
    for (const e of ours) {
      coldMs.push(await timedGet(`${e.url}/metrics`, oursBody)); // connects, reads every domain's XML once
      firstPeakRss.push(processMemory(e.pid).peak);
      await timedGet(`${e.url}/metrics`, oursBody);
      domains.push(oursSample('libvirt_domains'));
    }
    await timedGet(`${kumina.url}/metrics`, kuminaBody);
    // Interleaved round by round, so that all see the same load on the machine.
    const times = { ours: ours.map(() => [] as number[]), collect: ours.map(() => [] as number[]), kumina: [] as number[], virsh: [] as number[], virshProcess: [] as number[] };
    // Each call comes after the same pause, as scrapes do (Prometheus scrapes every 15-30 s). The order turns
    // by one each round, so that no tool always follows the same one (with running guests, the call before
    // can leave libvirtd or QEMU busy).
    const calls: (() => Promise<void>)[] = [
      ...ours.map((e, i) => async () => {
        times.ours[i]!.push(await timedGet(`${e.url}/metrics`, oursBody));
        times.collect[i]!.push(1000 * oursSample('libvirt_exporter_scrape_duration_seconds'));
      }),
      async () => void times.virsh.push(await virsh.domstats()),
      async () => void times.kumina.push(await timedGet(`${kumina.url}/metrics`, kuminaBody)),
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < calls.length; k++) {
        await pause();
        await calls[(round + k) % calls.length]!();
      }
      times.virshProcess.push(virshProcess(uri));
    }
    const kuminaRss = processMemory(kumina.pid).rss;
    return ours.map((e, i) => {
      const mem = processMemory(e.pid);
      return {
        scenario,
        runtime: runtimes[i]!.label,
        domains: domains[i]!,
        virshMs: median(times.virsh),
        virshProcessMs: median(times.virshProcess),
        oursMs: median(times.ours[i]!),
        oursCollectMs: median(times.collect[i]!),
        oursColdMs: coldMs[i]!,
        kuminaMs: median(times.kumina),
        oursIdleRss: idleRss[i]!,
        oursFirstPeakRss: firstPeakRss[i]!,
        oursRss: mem.rss,
        oursPeakRss: mem.peak,
        kuminaRss,
      };
    });
  } finally {
    for (const e of ours) await e.stop();
    await kumina.stop();
    await virsh.stop();
    rmSync(bodies, { recursive: true, force: true });
  }
}

/**
 * `count` transient test-driver domains, each with a disk and a NIC, created in one virsh session. libvirtd
 * drops the test driver's state when its last connection closes, so a connection of ours holds it meanwhile.
 */
async function withTestDomains<T>(uri: string, count: number, body: () => Promise<T>): Promise<T> {
  const holder = await connect(uri);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-exporter-'));
  const prefix = testDomainName('bench');
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  const script = names.map((name, i) => {
    const file = path.join(dir, `${name}.xml`);
    writeFileSync(
      file,
      `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os>` +
        `<devices><disk type='file' device='disk'><source file='/guest/${name}.img'/><target dev='vda' bus='virtio'/></disk>` +
        `<interface type='network'><source network='default'/><target dev='bn${i}'/></interface></devices>` +
        (NOVA ? `<metadata>${novaInstanceXml({ name, projectId: randomUUID().replaceAll('-', ''), projectName: 'demo' })}</metadata>` : '') +
        '</domain>',
    );
    return `create ${file}`;
  });
  const session = (lines: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('virsh', ['-q', '-c', uri], { stdio: ['pipe', 'ignore', 'inherit'] });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`virsh session exited with ${code}`))));
      child.stdin!.end(lines.join('\n') + '\n');
    });
  try {
    await session(script);
    return await body();
  } finally {
    await session(names.map((name) => `destroy ${name}`)).catch((err: Error) => process.stderr.write(`cleanup: ${err.message}\n`));
    rmSync(dir, { recursive: true, force: true });
    await holder.close();
  }
}

/** `count` running no-OS TCG domains with a disk and an ethernet NIC. */
async function withTcgDomains<T>(count: number, body: () => Promise<T>): Promise<T> {
  const domains: TinyDomain[] = [];
  try {
    for (let i = 0; i < count; i += 4) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(4, count - i) }, () => defineTinyDomain(testDomainName('bench-tcg'), { enospcDisk: false, memoryMiB: 64 })),
      );
      domains.push(...batch);
      await Promise.all(batch.map((d) => virsh(['start', d.name])));
    }
    return await body();
  } finally {
    for (const d of domains) await removeDomain(d).catch((err: Error) => process.stderr.write(`cleanup ${d.name}: ${err.message}\n`));
  }
}

const COLUMNS = [
  ['scenario', 23], ['node', 9], ['domains', 8], ['virsh/call', 11], ['virsh proc', 11], ['exporter', 10], ['exp collect', 12], ['exp 1st', 10],
  ['kumina 0.2', 11], ['exp/virsh', 10], ['exp/kumina', 11], ['exp idle', 10], ['exp 1st pk', 11], ['exp RSS', 10], ['exp peak', 10],
  ['kumina RSS', 10],
] as const;

function printRow(cells: readonly string[]): void {
  process.stdout.write(cells.map((cell, i) => cell.padEnd(COLUMNS[i]![1])).join(' ') + '\n');
}

function printFigures(r: Figures): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const mib = (x: number) => `${(x / MiB).toFixed(1)} MiB`;
  printRow([
    r.scenario, r.runtime, String(r.domains), ms(r.virshMs), ms(r.virshProcessMs), ms(r.oursMs), ms(r.oursCollectMs), ms(r.oursColdMs), ms(r.kuminaMs),
    `${(r.oursMs / r.virshMs).toFixed(2)}x`, `${(r.oursMs / r.kuminaMs).toFixed(3)}x`, mib(r.oursIdleRss), mib(r.oursFirstPeakRss), mib(r.oursRss),
    mib(r.oursPeakRss), mib(r.kuminaRss),
  ]);
}

function printGoals(rows: readonly Figures[]): void {
  process.stdout.write(
    `\nMedians of ${ROUNDS} rounds; every call comes ${PAUSE_MS} ms after the previous one, the tools interleaved. exporter: ` +
      `HTTP scrape timed by curl; exp collect: its libvirt collection alone (scrape_duration); exp 1st: the first scrape, which also reads ` +
      `every domain's XML; exp idle: RSS before the first scrape; exp 1st pk: VmHWM right after it; RSS after the rounds, peak = ` +
      `VmHWM over the whole run. virsh/call: virsh's own timing (virsh -t) of one domstats in a ` +
      `session that stays connected, like the exporter; virsh proc: one whole virsh run. Ratios use virsh/call. Load average ` +
      `at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}.\n`,
  );
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
  for (const r of rows) {
    const goals = r.scenario.startsWith('TCG')
      ? [`${(r.oursMs / r.kuminaMs).toFixed(2)}x kumina (goal <= 1.00x) ${verdict(r.oursMs <= r.kuminaMs)}`]
      : [`${(r.oursMs / r.virshMs).toFixed(2)}x virsh (goal <= 1.20x) ${verdict(r.oursMs <= 1.2 * r.virshMs)}`];
    const rssGoal = r.domains >= 5000 ? ` (goal <= 64 MiB) ${verdict(r.oursPeakRss <= 64 * MiB)}` : '';
    goals.push(`peak RSS ${(r.oursPeakRss / MiB).toFixed(1)} MiB${rssGoal}`);
    process.stdout.write(`${r.scenario}, node ${r.runtime}: ${goals.join('; ')}\n`);
  }
}

/**
 * The exporter alone against a scripted daemon of a host whose stats reply is one legal message of `mib` MiB
 * (QEMU-like domains: 4 vCPUs, 2 disks, 2 NICs each), at the default flags: its idle RSS before the first
 * scrape, then the peak over a few scrapes, against the goal idle + 2 × the message. The daemon answers as
 * libvirtd would (bigHostDaemon): should the bulk call be late and the exporter fall back to per-domain calls,
 * each of those gets its own domain's stats, not the whole message again.
 */
async function measureBigMessage(mib: number, runtime: Runtime): Promise<void> {
  const { domains, messageBytes, daemon } = await bigHostDaemon(Math.min(Limits.MESSAGE_MAX, mib * MiB));
  const ours = await startExporter(['--libvirt.uri', daemon.uri('/system')], { node: runtime.node });
  const bodies = mkdtempSync(path.join(tmpdir(), 'bench-scrapes-'));
  try {
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    const idle = processMemory(ours.pid).rss;
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      times.push(await timedGet(`${ours.url}/metrics`, path.join(bodies, 'ours')));
      await pause();
    }
    const exposition = parseExposition(readFileSync(path.join(bodies, 'ours'), 'utf8'));
    const exported = exposition.find((s) => s.name === 'libvirt_domains')?.value;
    const complete = exposition.find((s) => s.name === 'libvirt_exporter_last_scrape_success')?.value;
    const { peak } = processMemory(ours.pid);
    const goal = idle + 2 * messageBytes;
    process.stdout.write(
      `\nnode ${runtime.label}: ${(messageBytes / MiB).toFixed(1)} MiB stats reply (${domains} QEMU-like domains; last scrape: ${exported} listed, ` +
        `last_scrape_success ${complete}), scripted daemon, default flags: scrape ${median(times).toFixed(0)} ms; ` +
        `idle RSS ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB ` +
        `(goal <= idle + 2 x message = ${(goal / MiB).toFixed(1)} MiB) ${peak <= goal ? 'met' : 'MISSED'}\n`,
    );
  } finally {
    await ours.stop();
    daemon.dispose();
    rmSync(bodies, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await ensurePackages(['prometheus-libvirt-exporter', 'curl']);
  const runtimes: Runtime[] = [];
  for (const runtime of NODE_RUNTIMES) runtimes.push({ label: runtime.version, node: await runtime.binary() });
  process.stdout.write(`The exporter on ${NODE_RUNTIMES.map((r) => r.label).join(' and on ')} (the image's is what the manifests deploy).\n`);
  const rows: Figures[] = [];
  printRow(COLUMNS.map(([title]) => title));
  const measured = (figures: Figures[]): void => {
    rows.push(...figures);
    figures.forEach(printFigures);
  };
  // A size of 0 skips that scenario.
  for (const count of TEST_DOMAINS) {
    measured(await withTestDomains(URIS.testTcp, count, () => measure(`test driver +${count}${NOVA ? ' nova' : ''}`, URIS.testTcp, runtimes)));
  }
  if (TCG_DOMAINS > 0) measured(await withTcgDomains(TCG_DOMAINS, () => measure(`TCG +${TCG_DOMAINS}`, URIS.qemuTcp, runtimes)));
  printGoals(rows);
  if (BIG_MESSAGE_MIB > 0) for (const runtime of runtimes) await measureBigMessage(BIG_MESSAGE_MIB, runtime);
}

await main();
