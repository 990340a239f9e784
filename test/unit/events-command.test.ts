// The `events` command as a process: usage errors exit 2 with one line, runtime failures exit 1 with one
// line, an unreachable libvirtd is retried (not fatal) and shows in /healthz and /metrics, SIGTERM exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';
import { metricValue } from '../harness/roles/events-agent.js';
import { CLI } from '../harness/repo.js';

const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LIBVIRT_TELEMETRY_EVENTS_'))),
  KUBECONFIG: '',
  NODE_NAME: '',
  KUBERNETES_SERVICE_HOST: '',
  POD_NAMESPACE: '',
};

function events(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'events', ...args], { encoding: 'utf8', env, timeout: 30_000 });
}

const usage: [string[], RegExp][] = [
  [['--hypervisor', 'Node_1'], /--hypervisor: 'Node_1' is not a Kubernetes resource name/],
  [['--web.listen-address', '9179'], /--web\.listen-address: expected HOST:PORT/],
  [['--io-error-policy', 'panic'], /--io-error-policy: must be one of record, evict-on-pause, evict-on-persist/],
  [['--io-error-persist', '10ms'], /--io-error-persist: must be at least 1 s, got '10ms' \(10 ms\)/],
  [['--libvirt.reconnect-min', '5s', '--libvirt.reconnect-max', '1s'], /reconnect-min must not exceed/],
  [['--kube.queue-size', '0'], /--kube\.queue-size: must be at least 1/],
  // Validated like the exporter's URI (it used to be retried forever, never ready).
  [['--libvirt.uri', 'qemu+ssh://h/system'], /^libvirt-telemetry events: --libvirt\.uri: transport 'ssh' is not supported: .* \(use unix, tcp or tls\)$/m],
  [['--libvirt.uri', 'xen:///system'], /--libvirt\.uri: unsupported driver 'xen'/],
];

for (const [args, message] of usage) {
  test(`usage error exits 2 with one line: ${args.join(' ')}`, (t) => {
    const r = events(['--hypervisor', 'node-1', '--dry-run', ...args]);
    t.is(r.status, 2);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1);
    t.is(r.stdout, '');
  });
}

test('without --kubeconfig outside a pod, or with a missing kubeconfig: exit 1 with one line', (t) => {
  const inCluster = events(['--hypervisor', 'node-1']);
  t.is(inCluster.status, 1);
  t.regex(inCluster.stderr, /^libvirt-telemetry events: not running in a Kubernetes pod \(KUBERNETES_SERVICE_HOST\/KUBERNETES_SERVICE_PORT unset\): give --kubeconfig\n$/);
  const missing = events(['--hypervisor', 'node-1', '--kubeconfig', '/nonexistent/kubeconfig']);
  t.is(missing.status, 1);
  t.is(missing.stderr.trim().split('\n').length, 1);
  t.regex(missing.stderr, /nonexistent/);
});

test('libvirtd unreachable: keeps retrying with backoff, /healthz 503, connect failures counted; SIGTERM exits 0', async (t) => {
  const child = spawn(process.execPath, [CLI, 'events', '--dry-run', '--hypervisor', 'node-1', '--libvirt.uri', 'qemu+tcp://127.0.0.1:1/system', '--web.listen-address', '127.0.0.1:0', '--libvirt.reconnect-min', '50ms', '--libvirt.reconnect-max', '200ms'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const started = Date.now();
  while (!log.some((l) => l.includes('cannot connect to libvirtd')) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
  const web = /web=(\S+)/.exec(log.find((l) => l.includes('events agent started')) ?? '')?.[1];
  t.truthy(web, log.join('\n'));
  await new Promise((r) => setTimeout(r, 800));
  const health = await fetch(`${web}/healthz`);
  t.is(health.status, 503);
  const body = (await health.json()) as { healthy: boolean; libvirt: string; error: string };
  t.false(body.healthy);
  t.regex(body.libvirt, /^(connecting|waiting)$/);
  t.regex(body.error, /ECONNREFUSED/);
  const metrics = await (await fetch(`${web}/metrics`)).text();
  t.true(metricValue(metrics, 'libvirt_events_connect_failures_total') >= 2, 'retried');
  t.is(metricValue(metrics, 'libvirt_events_connected'), 0);
  t.is((await fetch(`${web}/nope`)).status, 404);
  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.is(stdout, '', 'no events, no records');
});
