// Scrape wall time and memory of the exporter, side by side with `virsh domstats` and Debian's
// prometheus-libvirt-exporter (kumina 0.2) against the same libvirtd, for 1000 test-driver domains and for
// 20+ TCG domains. Prints the figures and the ratios against the goals (≤ 1.2× virsh, faster than kumina,
// RSS ≤ 64 MiB).
//
//   npm run bench:exporter
//
// BENCH_ROUNDS (default 15), BENCH_TEST_DOMAINS (1000), BENCH_TCG_DOMAINS (20), BENCH_PAUSE_MS (1500) change the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { URIS } from '../scripts/testenv/layout.js';
import { ensurePackages } from '../scripts/testenv/packages.js';
import { connect } from '../libvirt/client.js';
import { STATS_GROUPS } from '../metrics/collection.js';
import { defineTinyDomain, removeDomain, testDomainName, type TinyDomain } from '../test/helpers/domains.js';
import { startExporter, type RunningExporter } from '../test/helpers/exporter.js';
import { virsh } from '../test/helpers/testenv.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);
const TEST_DOMAINS = Number(process.env['BENCH_TEST_DOMAINS'] ?? 1000);
const TCG_DOMAINS = Number(process.env['BENCH_TCG_DOMAINS'] ?? 20);
const MiB = 1024 * 1024;
/** Between rounds, as between Prometheus scrapes (which come every 15-30 s); the exporter's idle GC runs then. */
const PAUSE_MS = Number(process.env['BENCH_PAUSE_MS'] ?? 1500);

/** The virsh flags selecting the same groups the exporter asks for (STATS_GROUPS). */
const VIRSH_GROUPS = ['--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block'];
if (STATS_GROUPS !== 0b111111) throw new Error('VIRSH_GROUPS no longer matches the exporter\'s STATS_GROUPS');

interface Figures {
  scenario: string;
  domains: number;
  /** virsh domstats per call on a warm connection. */
  virshMs: number;
  /** One whole `virsh domstats` process: start, connect, call, print. */
  virshProcessMs: number;
  oursMs: number;
  /** The exporter's own libvirt_exporter_scrape_duration_seconds: the collection without rendering and HTTP. */
  oursCollectMs: number;
  oursColdMs: number;
  kuminaMs: number;
  oursRss: number;
  oursPeakRss: number;
  kuminaRss: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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

async function timedFetch(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  await res.text();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - started;
}

/** Wall time of one virsh session running `domstats` `times` times (commands on stdin). */
function virshSession(uri: string, times: number): number {
  const command = ['domstats', '--raw', ...VIRSH_GROUPS].join(' ');
  const started = performance.now();
  const r = spawnSync('virsh', ['-q', '-c', uri], { input: `${Array(times).fill(command).join('\n')}\n`, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`virsh failed: ${String(r.stderr).trim().split('\n')[0]}`);
  return performance.now() - started;
}

/**
 * virsh's time per domstats call on a warm connection, like the exporter's: a session of 3 calls minus a
 * session of 1, halved, so process start and connect cancel out. Also the time of the whole 1-call run.
 */
function timedVirsh(uri: string): { perCallMs: number; processMs: number } {
  const one = virshSession(uri, 1);
  const three = virshSession(uri, 3);
  return { perCallMs: (three - one) / 2, processMs: one };
}

/** The three tools against one daemon URI, interleaved round by round. */
async function measure(scenario: string, uri: string): Promise<Figures> {
  const ours: RunningExporter = await startExporter(['--libvirt.uri', uri]);
  const kumina = await startKumina(uri);
  try {
    const oursColdMs = (await ours.scrape()).ms; // connects, reads every domain's XML once
    const domains = (await ours.scrape()).samples.find((s) => s.name === 'libvirt_domains')?.value ?? NaN;
    await timedFetch(`${kumina.url}/metrics`);
    // Interleaved round by round, so that the three see the same load on the machine.
    const times = { ours: [] as number[], collect: [] as number[], kumina: [] as number[], virsh: [] as number[], virshProcess: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const scrape = await ours.scrape();
      times.ours.push(scrape.ms);
      times.collect.push(1000 * (scrape.samples.find((x) => x.name === 'libvirt_exporter_scrape_duration_seconds')?.value ?? NaN));
      times.kumina.push(await timedFetch(`${kumina.url}/metrics`));
      const virsh = timedVirsh(uri);
      times.virsh.push(virsh.perCallMs);
      times.virshProcess.push(virsh.processMs);
    }
    const mem = memory(ours.pid);
    return {
      scenario,
      domains,
      virshMs: median(times.virsh),
      virshProcessMs: median(times.virshProcess),
      oursMs: median(times.ours),
      oursCollectMs: median(times.collect),
      oursColdMs,
      kuminaMs: median(times.kumina),
      oursRss: mem.rss,
      oursPeakRss: mem.peak,
      kuminaRss: memory(kumina.pid).rss,
    };
  } finally {
    await ours.stop();
    await kumina.stop();
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
        `<interface type='network'><source network='default'/><target dev='bn${i}'/></interface></devices></domain>`,
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
  ['scenario', 18], ['domains', 8], ['virsh/call', 11], ['virsh proc', 11], ['exporter', 10], ['exp collect', 12], ['exp 1st', 10],
  ['kumina 0.2', 11], ['exp/virsh', 10], ['exp/kumina', 11], ['exp RSS', 10], ['exp peak', 10], ['kumina RSS', 10],
] as const;

function printRow(cells: readonly string[]): void {
  process.stdout.write(cells.map((cell, i) => cell.padEnd(COLUMNS[i]![1])).join(' ') + '\n');
}

function printFigures(r: Figures): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const mib = (x: number) => `${(x / MiB).toFixed(1)} MiB`;
  printRow([
    r.scenario, String(r.domains), ms(r.virshMs), ms(r.virshProcessMs), ms(r.oursMs), ms(r.oursCollectMs), ms(r.oursColdMs), ms(r.kuminaMs),
    `${(r.oursMs / r.virshMs).toFixed(2)}x`, `${(r.oursMs / r.kuminaMs).toFixed(3)}x`, mib(r.oursRss), mib(r.oursPeakRss), mib(r.kuminaRss),
  ]);
}

function printGoals(rows: readonly Figures[]): void {
  process.stdout.write(
    `\nMedians of ${ROUNDS} rounds ${PAUSE_MS} ms apart, the tools interleaved. exporter: HTTP scrape; exp collect: its ` +
      `libvirt collection alone (scrape_duration); exp 1st: the first scrape, which also reads every domain's XML; RSS after ` +
      `the rounds, peak = VmHWM. virsh/call: (session of 3 domstats - session of 1) / 2, a warm connection like the ` +
      `exporter's; virsh proc: one whole virsh run. Ratios use virsh/call. Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}.\n`,
  );
  for (const r of rows) {
    const goals = [
      ['exporter <= 1.2x virsh', r.oursMs <= 1.2 * r.virshMs],
      ['faster than kumina', r.oursMs < r.kuminaMs],
      ['RSS <= 64 MiB', r.oursPeakRss <= 64 * MiB],
    ] as const;
    process.stdout.write(`${r.scenario}: ${goals.map(([goal, met]) => `${goal} ${met ? 'met' : 'MISSED'}`).join(', ')}\n`);
  }
}

async function main(): Promise<void> {
  await ensurePackages(['prometheus-libvirt-exporter']);
  
  const rows: Figures[] = [];
  printRow(COLUMNS.map(([title]) => title));
  rows.push(await withTestDomains(URIS.testTcp, TEST_DOMAINS, () => measure(`test driver +${TEST_DOMAINS}`, URIS.testTcp)));
  printFigures(rows[0]!);
  rows.push(await withTcgDomains(TCG_DOMAINS, () => measure(`TCG +${TCG_DOMAINS}`, URIS.qemuTcp)));
  printFigures(rows[1]!);
  printGoals(rows);
}

await main();
