// Inputs as users configure them: the container model's --cri-log with a glob in the pod directory
// (the docs' example path shape), and inputs that are missing at start: counted in input_up, logged,
// listed by /healthz while the sidecar keeps running, and followed once they appear.
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metricValue, startSidecar, tempDir } from '../harness/roles/sidecar.js';
import { qemuLines, sequences } from '../harness/fakes/log-writer.js';

const criLine = (n: number) => `2026-11-29T10:00:0${n % 10}.123456789Z stderr F 2026-11-29 10:00:0${n % 10}.123+0000: 1462: info : cri sequence ${n}\n`;
const criSequences = (records: Record<string, unknown>[]) =>
  records.map((r) => /cri sequence (\d+)/.exec(String(r['message']))?.[1]).filter((s) => s !== undefined).map(Number);

test.serial("--cri-log '<root>/pods/openstack_libvirt-*/libvirtd/0.log': the pod directory is a glob; a new pod's log is followed too", async (t) => {
  const root = tempDir('cri-glob');
  const pods = path.join(root, 'pods');
  const podLog = (pod: string) => {
    mkdirSync(path.join(pods, pod, 'libvirtd'), { recursive: true });
    return path.join(pods, pod, 'libvirtd', '0.log');
  };
  writeFileSync(podLog('openstack_libvirt-7k2xq_0a1b'), criLine(1) + criLine(2));
  const sc = startSidecar(['--qemu.log-dir', '', '--libvirtd.source', 'cri', '--libvirtd.cri-log', `${pods}/openstack_libvirt-*/libvirtd/0.log`, '--state-dir', path.join(root, 'state')]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.waitFor(() => criSequences(sc.records()).length === 2, 10_000, 'the first pod\'s lines');
  t.like(sc.records()[0], { kind: 'libvirt_log', source: 'libvirtd', stream: 'stderr' });
  t.is(metricValue(await sc.metrics(), 'libvirt_telemetry_sidecar_input_up', { source: 'cri' }), 1);
  // The pod is replaced: a new directory name.
  writeFileSync(podLog('openstack_libvirt-9zz8w_3c4d'), criLine(3));
  await sc.waitFor(() => criSequences(sc.records()).length === 3, 15_000, 'the new pod\'s line (found by the rescan)');
  t.deepEqual(criSequences(sc.records()), [1, 2, 3]);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});

test.serial('a missing QEMU log directory and a CRI path matching nothing: input_up 0, logged, listed by /healthz (200), followed once they appear', async (t) => {
  const root = tempDir('missing-inputs');
  const qemuDir = path.join(root, 'qemu');
  const criPattern = path.join(root, 'pods', 'openstack_libvirt-*', 'libvirtd', '0.log');
  const sc = startSidecar(['--qemu.log-dir', qemuDir, '--libvirtd.source', 'cri', '--libvirtd.cri-log', criPattern, '--state-dir', path.join(root, 'state')]);
  t.teardown(() => sc.child.kill('SIGKILL'));
  await sc.port();
  await sc.waitFor(() => /input qemu .*: no such directory/.test(sc.stderr()), 5000, 'the log line');
  t.regex(sc.stderr(), new RegExp(`input qemu ${qemuDir}: no such directory; waiting for it`));
  t.regex(sc.stderr(), /input cri .*0\.log: no directory matches; waiting for it/);
  const m = await sc.metrics();
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_input_up', { source: 'qemu', input: qemuDir }), 0);
  t.is(metricValue(m, 'libvirt_telemetry_sidecar_input_up', { source: 'cri', input: criPattern }), 0);
  const health = await sc.health();
  t.is(health.status, 200, 'still alive: a restart would not bring the input');
  t.deepEqual(health.body['inputs'], [
    { source: 'qemu', input: qemuDir, up: false, reason: 'no such directory' },
    { source: 'cri', input: criPattern, up: false, reason: 'no directory matches' },
  ]);
  // They appear.
  mkdirSync(qemuDir);
  writeFileSync(path.join(qemuDir, 'dom.log'), qemuLines(0, 3));
  mkdirSync(path.dirname(criPattern.replace('*', 'x1')), { recursive: true });
  writeFileSync(criPattern.replace('*', 'x1'), criLine(7));
  await sc.waitFor(() => sequences(sc.records()).length === 3 && criSequences(sc.records()).length === 1, 20_000, 'both inputs read');
  await sc.waitFor(() => /input cri .* is there now/.test(sc.stderr()) && /input qemu .* is there now/.test(sc.stderr()), 5000, 'the log lines');
  const after = await sc.metrics();
  t.is(metricValue(after, 'libvirt_telemetry_sidecar_input_up', { source: 'qemu', input: qemuDir }), 1);
  t.is(metricValue(after, 'libvirt_telemetry_sidecar_input_up', { source: 'cri', input: criPattern }), 1);
  t.true(((await sc.health()).body['inputs'] as { up: boolean }[]).every((i) => i.up));
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
