// The npm package as a user gets it: `npm pack` on a copy of the repository without dist/ (a clean clone;
// prepack builds the runtime), the tarball installed globally into a temporary prefix (dependency tarballs
// come from the cache `npm ci` filled; `--prefer-offline` fetches only registry metadata it lacks), then the
// installed `libvirt-telemetry` bin run for --version, --help, generate and parse. Also: the tarball holds
// runtime files only.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT } from '../harness/repo.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};
const runtimeFolders = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'samples', 'real', 'qemu-tiny.log');

const work = mkdtempSync(path.join(tmpdir(), 'package-install-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));


interface Packed {
  tarball: string;
  files: string[];
}

let packed: Promise<Packed> | undefined;
/** Packs a clean copy of the repository once; every test shares the tarball. */
function pack(): Promise<Packed> {
  packed ??= (async () => {
    // What a clone holds: the files git tracks or would track (.gitignore keeps out dist/ and local state).
    const clone = path.join(work, 'clone');
    const { stdout: listed } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
    for (const file of listed.split('\0').filter((f) => f !== '' && existsSync(path.join(REPO_ROOT, f)))) {
      cpSync(path.join(REPO_ROOT, file), path.join(clone, file));
    }
    // prepack compiles with the project's TypeScript: link the installed dependencies in.
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, maxBuffer: 64 << 20 });
    // npm prints prepack's output before the JSON on stdout.
    const [result] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as [{ filename: string; files: { path: string }[] }];
    return { tarball: path.join(work, result.filename), files: result.files.map((f) => f.path) };
  })();
  return packed;
}

let installed: Promise<string> | undefined;
/** Installs the tarball into a temporary prefix once; resolves to the installed bin. */
function install(): Promise<string> {
  installed ??= (async () => {
    const { tarball } = await pack();
    const prefix = path.join(work, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: work });
    return path.join(prefix, 'bin', Object.keys(pkg.bin)[0]!);
  })();
  return installed;
}

test('the tarball holds the runtime and nothing of the development tree', async (t) => {
  const { files } = await pack();
  t.true(files.includes('package.json') && files.includes('LICENSE') && files.includes('README.md'));
  t.true(files.includes(pkg.bin[Object.keys(pkg.bin)[0]!]!), 'the bin is shipped');
  const distFolders = new Set(files.filter((f) => f.startsWith('dist/')).map((f) => f.split('/')[1]!));
  t.deepEqual([...distFolders].sort(), [...runtimeFolders].sort(), 'dist/ holds the folders tsconfig.build.json compiles');
  t.deepEqual(files.filter((f) => /(^|\/)(test|bench|scripts)\/|testenv|\.test\.|\.tsbuildinfo$/.test(f)), []);
  t.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources');
});

test('every source map in the tarball has its sources in the tarball', async (t) => {
  const { files, tarball } = await pack();
  const unpacked = path.join(work, 'unpacked');
  mkdirSync(unpacked);
  await run('tar', ['-xzf', tarball, '-C', unpacked]);
  const missing = files
    .filter((f) => f.endsWith('.map'))
    .flatMap((map) => {
      const { sources, sourcesContent } = JSON.parse(readFileSync(path.join(unpacked, 'package', map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      return sources
        .filter((_source, i) => sourcesContent?.[i] == null)
        .map((s) => path.posix.join(path.posix.dirname(map), s))
        .filter((s) => !files.includes(s))
        .map((s) => `${map} -> ${s}`);
    });
  t.deepEqual(missing, []);
});

test('the installed bin prints the package version', async (t) => {
  const bin = await install();
  const { stdout } = await run(bin, ['--version']);
  t.is(stdout.trim(), pkg.version);
});

test('the installed bin prints its help', async (t) => {
  const bin = await install();
  const { stdout } = await run(bin, ['--help']);
  t.regex(stdout, /libvirt-telemetry/);
  for (const role of ['generate', 'parse', 'sidecar', 'exporter', 'events']) t.regex(stdout, new RegExp(`\\b${role}\\b`));
});

test('the installed bin generates the Fluent Bit configuration like the development build', async (t) => {
  const bin = await install();
  const installedOut = path.join(work, 'generated-installed');
  const developmentOut = path.join(work, 'generated-development');
  await run(bin, ['generate', '--out', installedOut]);
  await run(process.execPath, [CLI, 'generate', '--out', developmentOut]);
  const written = readdirSync(installedOut).sort();
  t.true(written.includes('fluent-bit.yaml'), 'files written');
  t.deepEqual(written, readdirSync(developmentOut).sort());
  for (const f of written) {
    t.is(readFileSync(path.join(installedOut, f), 'utf8'), readFileSync(path.join(developmentOut, f), 'utf8'), f);
  }
});

test('the installed bin parses a QEMU domain log like the development build', async (t) => {
  const bin = await install();
  const installedRecords = (await run(bin, ['parse', FIXTURE], { maxBuffer: 64 << 20 })).stdout;
  const developmentRecords = (await run(process.execPath, [CLI, 'parse', FIXTURE], { maxBuffer: 64 << 20 })).stdout;
  t.true(installedRecords.trim().split('\n').length > 10, 'records out');
  t.is(installedRecords, developmentRecords);
});
