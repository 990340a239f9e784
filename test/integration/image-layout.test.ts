// The image without a Docker engine: the Dockerfile's build stage is replayed in a temporary directory
// (its COPYs from the repository, its RUN commands: npm ci, tsc, npm prune), then the final stage's COPYs
// and its entrypoint symlink lay out the image's /app. Every role must start from that layout as the
// image's user (uid 1000), with no dev dependency present. Not replayed: apt-get (needs the image's root fs).
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMAND_NAMES } from '../../cli/commands.js';
import { copies, readDockerfile, runCommands } from '../support/dockerfile.js';
import { REPO_ROOT } from '../support/repo.js';

const IMAGE_USER = 1000;

interface Layout {
  root: string;
  app: string;
  bin: string;
}

/** Maps an absolute path of the image (/app/…, /usr/local/bin/…) into `root`. */
function inside(root: string, workdir: string, p: string): string {
  return path.join(root, path.posix.isAbsolute(p) ? p : path.posix.join(workdir, p));
}

function replay(): Layout {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lt-image-'));
  chmodSync(root, 0o755);
  const df = readDockerfile(path.join(REPO_ROOT, 'Dockerfile'));
  const buildRoot = path.join(root, 'build');
  const imageRoot = path.join(root, 'image');
  const stageRoots = new Map<string, string>();
  df.stages.forEach((stage, index) => {
    const final = index === df.stages.length - 1;
    const stageRoot = final ? imageRoot : path.join(buildRoot, String(index));
    if (stage.name) stageRoots.set(stage.name, stageRoot);
    let workdir = '/';
    for (const ins of stage.instructions) {
      if (ins.keyword === 'WORKDIR') {
        workdir = ins.args;
        mkdirSync(inside(stageRoot, '/', workdir), { recursive: true });
      } else if (ins.keyword === 'COPY') {
        const [copy] = copies({ ...stage, instructions: [ins] });
        const fromRoot = copy!.from === undefined ? REPO_ROOT : stageRoots.get(copy!.from)!;
        for (const source of copy!.sources) {
          const src = copy!.from === undefined ? path.join(fromRoot, source) : inside(fromRoot, workdir, source);
          const dest = inside(stageRoot, workdir, copy!.dest);
          const target = copy!.dest.endsWith('/') ? path.join(dest, path.basename(source)) : dest;
          cpSync(src, target, { recursive: true, verbatimSymlinks: true });
        }
      } else if (ins.keyword === 'RUN') {
        for (const command of runCommands({ ...stage, instructions: [ins] })) {
          const link = /^ln -s (\S+) (\S+)$/.exec(command);
          if (link) {
            const at = inside(stageRoot, workdir, link[2]!);
            mkdirSync(path.dirname(at), { recursive: true });
            symlinkSync(inside(stageRoot, workdir, link[1]!), at);
          } else if (final) {
            if (!/^(apt-get |rm -rf \/var\/lib\/apt\/lists)/.test(command)) throw new Error(`final-stage RUN not replayable: ${command}`);
          } else {
            execFileSync('sh', ['-c', command], { cwd: inside(stageRoot, '/', workdir), stdio: 'pipe', env: { ...process.env, npm_config_loglevel: 'error', npm_config_prefer_offline: 'true' } });
          }
        }
      }
    }
  });
  return { root, app: path.join(imageRoot, 'app'), bin: path.join(imageRoot, 'usr', 'local', 'bin', 'libvirt-telemetry') };
}

let layout: Layout;
test.before(() => {
  layout = replay();
});
test.after.always(() => {
  if (layout) rmSync(layout.root, { recursive: true, force: true });
});

function asImageUser(args: string[], cwd: string) {
  return spawnSync(layout.bin, args, { cwd, encoding: 'utf8', uid: IMAGE_USER, gid: IMAGE_USER, env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' }, timeout: 30_000 });
}

test('the image holds no dev dependency and no tests', (t) => {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
  // A dev dependency that some runtime dependency also needs (@types/node) rightly stays.
  const runtimeTree = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const devOnly = Object.keys(pkg.devDependencies).filter((dev) => !runtimeTree.includes(`${path.sep}node_modules${path.sep}${dev}\n`));
  t.true(devOnly.includes('typescript') && devOnly.includes('ava'));
  for (const dev of devOnly) t.false(existsSync(path.join(layout.app, 'node_modules', dev)), dev);
  for (const dep of Object.keys(pkg.dependencies)) t.true(existsSync(path.join(layout.app, 'node_modules', dep)), dep);
  t.deepEqual(readdirSync(path.join(layout.app, 'dist')).sort(), ['cli', 'events', 'generator', 'libvirt', 'metrics', 'parsers', 'sidecar']);
});

for (const name of COMMAND_NAMES) {
  test(`the entrypoint runs '${name} --help' as uid ${IMAGE_USER}`, (t) => {
    const r = asImageUser([name, '--help'], layout.app);
    t.is(r.status, 0, r.stderr);
    t.true(r.stdout.startsWith(`Usage: libvirt-telemetry ${name}`));
  });
}

test('the image generates the Fluent Bit configuration and the manifests (templates and events/deploy shipped)', (t) => {
  const out = mkdtempSync(path.join(layout.root, 'out-'));
  chmodSync(out, 0o777);
  for (const args of [['generate', '--out', path.join(out, 'fb')], ['generate', 'manifests', '--out', path.join(out, 'k8s')]]) {
    const r = asImageUser(args, out);
    t.is(r.status, 0, r.stderr);
  }
  t.deepEqual(readdirSync(path.join(out, 'fb')).sort(), ['fluent-bit.conf', 'fluent-bit.yaml', 'parsers-libvirt.conf']);
  t.regex(readFileSync(path.join(out, 'k8s', 'eviction-crd.yaml'), 'utf8'), /name: evictions\.hypervisor\.c5c3\.io/);
});
