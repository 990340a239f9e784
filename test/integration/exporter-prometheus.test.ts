// A real Prometheus server (Debian's `prometheus`) scrapes the exporter — negotiating OpenMetrics — and its
// HTTP API answers libvirt_up == 1 and per-vCPU time series.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { URIS } from '../env/layout.js';
import { ensurePackages } from '../env/packages.js';
import { Metrics } from '../../exporter/catalogue.js';
import { defineTinyDomain, testDomainName } from '../harness/env/domains.js';
import { startExporter } from '../harness/roles/exporter.js';
import { freePort } from '../harness/free-port.js';
import { virsh } from '../harness/env/testenv.js';

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

test('Prometheus scrapes the exporter: libvirt_up == 1 and vCPU time series in its API', async (t) => {
  await ensurePackages(['prometheus']);
  const domain = await defineTinyDomain(testDomainName('exp-prom'), { enospcDisk: false, cleanup: t });
  await virsh(['start', domain.name]);
  const uuid = (await virsh(['domuuid', domain.name])).trim();
  const exporter = await startExporter(['--libvirt.uri', URIS.qemuTcp]);
  t.teardown(() => exporter.stop());

  const dir = mkdtempSync(path.join(tmpdir(), 'exporter-prometheus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: libvirt',
      '    static_configs:',
      `      - targets: ['${new URL(exporter.url).host}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const exited = new Promise((resolve) => prometheus.on('exit', resolve));
  t.teardown(async () => {
    if (prometheus.exitCode === null) process.kill(prometheus.pid!, 'SIGTERM');
    await exited;
  });

  const query = async (expr: string): Promise<VectorResult[]> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: VectorResult[] } };
    return body.status === 'success' ? body.data.result : [];
  };
  const eventually = async (expr: string, ok: (r: VectorResult[]) => boolean): Promise<VectorResult[]> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const result = await query(expr).catch(() => []);
      if (ok(result) || Date.now() > deadline) return result;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const up = await eventually('up{job="libvirt"}', (r) => r[0]?.value[1] === '1');
  t.is(up[0]?.value[1], '1', `Prometheus did not scrape the exporter:\n${log}`);
  const libvirtUp = await eventually(Metrics.up.name, (r) => r.length === 1);
  t.deepEqual(libvirtUp.map((r) => r.value[1]), ['1']);
  const vcpu = await eventually(`${Metrics.vcpuTime.name}{uuid="${uuid}"}`, (r) => r.length > 0);
  t.deepEqual(vcpu.map((r) => r.metric.vcpu), ['0']);
  t.is(vcpu[0]?.metric.domain, domain.name);
  t.true(Number(vcpu[0]?.value[1]) >= 0);
  // Prometheus negotiated OpenMetrics and ingested counters under their _total names.
  const cpu = await eventually(`${Metrics.cpuTime.name}{uuid="${uuid}"}`, (r) => r.length > 0);
  t.true(Number(cpu[0]?.value[1]) > 0);
});
