// What users run: `libvirt-telemetry parse` on each QEMU sample and on a CRLF copy of it, and the
// sidecar (default flags) following a directory of the same files: the same records per domain.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, REPO_ROOT } from '../harness/repo.js';
import { qemuLogDirSetup, startSidecar } from '../harness/roles/sidecar.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'samples');
const SAMPLES = ['qemu', 'real'].flatMap((dir) =>
  readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.log'))
    .map((f) => path.join(FIXTURES, dir, f)),
);

type Rec = Record<string, unknown>;

test.serial('every QEMU sample and its CRLF copy: sidecar records = parse records, per domain', async (t) => {
  const { logs, args } = qemuLogDirSetup('parse-agree', '500ms');
  for (const sample of SAMPLES) {
    const name = path.basename(sample, '.log');
    copyFileSync(sample, path.join(logs, `${name}.log`));
    writeFileSync(path.join(logs, `${name}-crlf.log`), readFileSync(sample, 'utf8').replaceAll('\n', '\r\n'));
  }
  const expected = new Map<string, Rec[]>();
  for (const file of readdirSync(logs)) {
    const out = execFileSync(process.execPath, [CLI, 'parse', path.join(logs, file)], { encoding: 'utf8' });
    expected.set(path.basename(file, '.log'), out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec));
  }
  const total = [...expected.values()].reduce((n, r) => n + r.length, 0);
  t.is(expected.size, 2 * SAMPLES.length);
  const sc = startSidecar(args);
  t.teardown(() => sc.child.kill('SIGKILL'));
  // The last record of each file is held for --multiline-flush (1 s) of silence, then emitted.
  await sc.waitFor(() => sc.records().length >= total, 20_000, `${total} records`);
  await new Promise((r) => setTimeout(r, 500));
  const got = new Map<string, Rec[]>();
  for (const r of sc.records()) {
    const domain = String(r['domain']);
    got.set(domain, [...(got.get(domain) ?? []), r]);
  }
  for (const [domain, records] of expected) {
    t.deepEqual(got.get(domain), records, domain);
    if (domain.endsWith('-crlf')) {
      // The CRLF copy reads like the original, bar the domain name.
      const original = expected.get(domain.slice(0, -'-crlf'.length))!;
      t.deepEqual(records.map((r) => ({ ...r, domain: null })), original.map((r) => ({ ...r, domain: null })), `${domain} = the original`);
    }
  }
  t.is(sc.records().length, total);
  sc.child.kill('SIGTERM');
  t.is(await sc.exited, 0);
});
