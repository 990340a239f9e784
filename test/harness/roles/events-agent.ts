// Runs the real `libvirt-telemetry events` process against the test environment's libvirtd and a fake
// Kubernetes API server (through a generated kubeconfig), and collects its stdout records.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { EventRecord } from '../../../events/record.js';
import { waitFor } from '../../env/proc.js';
import type { FakeKubeApiServer } from '../fakes/fake-kube-apiserver.js';
import { checkedRecords } from '../checks/record-schema.js';
import { CLI } from '../repo.js';

export interface EventsAgent {
  /** stdout lines parsed: records (source libvirt-event), or, with --dry-run, the printed objects. */
  readonly lines: Record<string, unknown>[];
  /** stderr lines (the logfmt operational log). */
  readonly log: string[];
  /** Base URL of /metrics and /healthz. */
  readonly web: string;
  readonly pid: number;
  records(filter?: (r: EventRecord) => boolean): EventRecord[];
  /** Waits until `count` records match `filter`; returns them. */
  waitForRecords(filter: (r: EventRecord) => boolean, count?: number, timeoutMs?: number): Promise<EventRecord[]>;
  /** Waits until the agent logs a line matching `pattern` (after line index `from`). */
  waitForLog(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  metrics(): Promise<string>;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface AgentOptions {
  /** Where the agent writes (through a kubeconfig); without it, --dry-run. */
  kube?: Pick<FakeKubeApiServer, 'writeKubeconfig'>;
  hypervisor?: string;
  namespace?: string;
  uri?: string;
  args?: readonly string[];
  /** The Node.js binary to run it on (the image's: imageNodeBinary); this process's by default. */
  node?: string;
}

export async function startEventsAgent(options: AgentOptions = {}): Promise<EventsAgent> {
  const dir = mkdtempSync(path.join(tmpdir(), 'events-agent-'));
  const args = [
    CLI,
    'events',
    '--libvirt.uri', options.uri ?? 'qemu+tcp://127.0.0.1:16509/system',
    '--hypervisor', options.hypervisor ?? 'node-1',
    '--web.listen-address', '127.0.0.1:0',
    ...(options.namespace ? ['--namespace', options.namespace] : []),
  ];
  if (options.kube) {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await options.kube.writeKubeconfig(kubeconfig);
    args.push('--kubeconfig', kubeconfig);
  } else args.push('--dry-run');
  args.push(...(options.args ?? []));
  const child: ChildProcess = spawn(options.node ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LIBVIRT_TELEMETRY_EVENTS_'))), KUBECONFIG: '', NODE_NAME: '', POD_NAMESPACE: '' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  const log: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const waitForLog = async (pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<string> =>
    await waitFor(`agent log line ${pattern}`, timeoutMs, () => {
      if (exitCode !== undefined) throw new Error(`events agent exited (${exitCode}):\n${log.join('\n')}`);
      return log.slice(from).find((l) => pattern.test(l));
    });
  const started = await waitForLog(/msg="events agent started"/);
  const web = /web=(\S+)/.exec(started)![1]!;
  await waitForLog(/msg="connected to libvirtd"/);
  const records = (filter: (r: EventRecord) => boolean = () => true): EventRecord[] =>
    checkedRecords(lines.filter((l) => l.source === 'libvirt-event') as unknown as EventRecord[]).filter(filter);
  return {
    lines,
    log,
    web,
    pid: child.pid!,
    records,
    waitForRecords: async (filter, count = 1, timeoutMs = 60_000) =>
      await waitFor(`${count} agent record(s)`, timeoutMs, () => {
        const found = records(filter);
        return found.length >= count ? found : undefined;
      }),
    waitForLog,
    metrics: async () => await (await fetch(`${web}/metrics`)).text(),
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** The sum of the samples of `name` in Prometheus text format whose labels include `labels` (0 when none). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w))) sum += Number(m[3]);
  }
  return sum;
}
