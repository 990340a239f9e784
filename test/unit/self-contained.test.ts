// A fresh clone with no sibling folders passes tests that read every kind of fixture file, and no
// tracked file reaches outside the repository (.ci/check-self-contained, which also guards the rest). The clone
// is of the committed HEAD (commit before running this), alone in its own temp folder; node_modules is
// linked from this checkout (no network). tsc compiles the clone's own sources (--noCheck: type errors
// are the normal build's business, this is about files) from those tests and the CLI they spawn; one
// reader per fixture folder keeps `npm run test:unit` short.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/repo.js';

/** Set for the run inside the clone, so that run never clones again. */
const INSIDE_CLONE = 'LT_SELF_CONTAINED_CLONE';
/** A reader of each folder of test/fixtures/. */
const FIXTURE_READERS = [
  'test/unit/parsers-samples.test.ts', // samples/{qemu,journal,containers}, samples/real/{qemu,journal}-*
  'test/unit/exporter-collectors.test.ts', // samples/real/domstats-*.txt
  'test/unit/events-policy.test.ts', // samples/real/events-qemu.txt
  'test/unit/generator-manifests.test.ts', // design/
  'test/unit/fake-kube-apiserver.test.ts', // events/
];

const cloneTest = process.env[INSIDE_CLONE] ? test.skip : test;

cloneTest('a clone with nothing beside it passes the tests that read fixtures', (t) => {
  t.timeout(300_000);
  const root = mkdtempSync(path.join(tmpdir(), 'lt-self-contained-'));
  try {
    const repo = path.join(root, 'only', 'repo');
    execFileSync('git', ['clone', '-q', REPO_ROOT, repo]);
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(repo, 'node_modules'));
    t.deepEqual(readdirSync(path.dirname(repo)), ['repo'], 'the clone has no sibling folder');

    const check = spawnSync(path.join(repo, '.ci', 'check-self-contained'), { cwd: repo, encoding: 'utf8' });
    t.is(check.status, 0, check.stderr);

    const config = path.join(repo, 'tsconfig.self-contained.json');
    writeFileSync(config, JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noCheck: true }, files: ['cli/main.ts', ...FIXTURE_READERS], include: [] }));
    const tsc = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: repo, encoding: 'utf8' });
    t.is(tsc.status, 0, tsc.stdout + tsc.stderr);

    const built = FIXTURE_READERS.map((f) => path.join('dist', f.replace(/\.ts$/, '.js')));
    const ava = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), ...built], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, [INSIDE_CLONE]: '1' },
    });
    t.is(ava.status, 0, `ava in the clone:\n${ava.stdout.slice(-4000)}\n${ava.stderr.slice(-4000)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
