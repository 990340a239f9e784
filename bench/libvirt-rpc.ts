// Benchmark of the libvirt RPC client against the real daemon of the test environment:
//  1. round trips per second of CONNECT_GET_LIB_VERSION (one call in flight, and 32 in flight);
//  2. GET_ALL_DOMAIN_STATS for 1000 running test-driver domains, side by side with `virsh domstats --raw`
//     (libvirt's own C client) in the same run. virsh's per-call time is measured differentially inside
//     one virsh session (N runs minus 1 run, divided by N − 1), so process start and connect cancel out;
//     ours is a warm connection doing the call and rendering the same text virsh prints.
// Usage: node dist/bench/libvirt-rpc.js [--domains N] [--rounds N]   (needs `testenv up`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '../libvirt/client.js';
import { paramsOf } from '../libvirt/domain-stats.js';
import type { DomainStatsRecord, LibvirtClient } from '../libvirt/types.js';

const URI = process.env['LIBVIRT_TELEMETRY_TESTENV_TEST_URI'] ?? 'test+tcp://127.0.0.1:16509/default';
const PREFIX = 'bench-rpc-';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
}

/** Runs commands in one virsh session (commands on stdin); returns stdout and the wall time. */
function virshSession(commands: string[]): { stdout: string; ms: number } {
  const started = process.hrtime.bigint();
  const r = spawnSync('virsh', ['-q', '-c', URI], { input: `${commands.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`virsh failed (${r.status}): ${r.stderr.trim().split('\n')[0]}`);
  return { stdout: r.stdout, ms };
}

const name = (i: number): string => `${PREFIX}${String(i).padStart(4, '0')}`;
const xml = (i: number): string =>
  `<domain type='test'><name>${name(i)}</name><memory unit='MiB'>8</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

/** Defines and starts the domains in one virsh session; returns the session's wall time. */
function defineAndStart(count: number): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-rpc-'));
  try {
    const commands: string[] = [];
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, `${name(i)}.xml`);
      writeFileSync(file, xml(i));
      commands.push(`define ${file}`, `start ${name(i)}`);
    }
    return virshSession(commands).ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ourDomains(client: LibvirtClient): Promise<string[]> {
  return (await client.listAllDomains()).map((d) => d.name).filter((n) => n.startsWith(PREFIX));
}

/** `virsh domstats --raw` text, for equal work on both sides. */
function render(records: DomainStatsRecord[]): string {
  let out = '';
  for (const r of records) {
    out += `Domain: '${r.domain.name}'\n`;
    for (const [k, v] of paramsOf(r)) out += `  ${k}=${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}\n`;
    out += '\n';
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function roundTrips(client: LibvirtClient, inFlight: number, total: number): Promise<number> {
  const started = process.hrtime.bigint();
  let issued = 0;
  const lane = async (): Promise<void> => {
    while (issued < total) {
      issued++;
      await client.getLibVersion();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main(): Promise<void> {
  const domains = flag('domains', 1000);
  const rounds = flag('rounds', 20);
  const client = await connect(URI);
  try {
    const sequential = await roundTrips(client, 1, 5000);
    const pipelined = await roundTrips(client, 32, 20000);
    console.log(`GET_LIB_VERSION round trips/s: ${sequential.toFixed(0)} (1 in flight), ${pipelined.toFixed(0)} (32 in flight)`);

    const stale = await ourDomains(client);
    if (stale.length > 0) virshSession(stale.flatMap((n) => [`destroy ${n}`, `undefine ${n}`]));
    const definedIn = defineAndStart(domains);
    const total = (await client.listAllDomains()).length;
    console.log(`defined and started ${domains} test-driver domains in one virsh session in ${definedIn.toFixed(0)} ms (${total} domains in all)`);

    try {
      const ours: number[] = [];
      let records = 0;
      for (let i = 0; i < rounds; i++) {
        const started = process.hrtime.bigint();
        const stats = await client.getAllDomainStats();
        render(stats);
        ours.push(Number(process.hrtime.bigint() - started) / 1e6);
        records = stats.length;
      }
      const one = virshSession(['domstats --raw']);
      const many = virshSession(Array.from({ length: rounds + 1 }, () => 'domstats --raw'));
      const virshPerCall = (many.ms - one.ms) / rounds;
      const oursMedian = median(ours);
      console.log(`GetAllDomainStats, ${records} records: ours ${oursMedian.toFixed(1)} ms (median of ${rounds}), ` +
        `virsh domstats --raw ${virshPerCall.toFixed(1)} ms per call (session of ${rounds + 1} minus session of 1: ${many.ms.toFixed(0)} − ${one.ms.toFixed(0)} ms)`);
      console.log(`ratio ours/virsh: ${(oursMedian / virshPerCall).toFixed(2)}× (goal ≤ 1.1×)`);
      console.log(`for reference, one whole virsh process (start, connect, call, print): ${one.ms.toFixed(0)} ms`);
    } finally {
      virshSession(Array.from({ length: domains }, (_, i) => [`destroy ${name(i)}`, `undefine ${name(i)}`]).flat());
    }
  } finally {
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
