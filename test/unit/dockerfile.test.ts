// The Dockerfile's invariants (the image itself is built and run in test/integration/image-roles.test.ts):
// multi-stage on a slim Node LTS pinned by digest, OCI labels, dev dependencies
// pruned before node_modules reaches the final stage, non-root numeric USER, ENTRYPOINT the CLI with a role
// as CMD, journalctl installed, and every folder the code reads at run time shipped.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMAND_NAMES } from '../../cli/commands.js';
import { parseDockerfile, readDockerfile } from '../harness/readers/dockerfile.js';
import { dockerfileProblems, type ImageExpectations } from '../harness/checks/dockerfile-rules.js';
import { REPO_ROOT } from '../harness/repo.js';

const read = (f: string) => readFileSync(path.join(REPO_ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; version: string };
const sourceFolders = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** What the compiled code opens relative to the package root (`new URL('../../templates/', import.meta.url)`). */
function runtimePaths(): string[] {
  const found = new Set<string>();
  for (const folder of sourceFolders) {
    for (const file of tsFiles(folder)) {
      const depth = file.split(path.sep).length - 1; // dist/<folder>/…/x.js: one more level than the source
      for (const m of read(file).matchAll(/new URL\('((?:\.\.\/)+)([^']+)', import\.meta\.url\)/g)) {
        if (m[1]!.length / 3 === depth + 1) found.add(m[2]!.replace(/\/$/, ''));
      }
    }
  }
  return [...found, 'dist', 'node_modules'];
}

const expectations: ImageExpectations = {
  roles: [...COMMAND_NAMES],
  sourceFolders,
  runtimePaths: runtimePaths(),
  bin: Object.keys(pkg.bin)[0]!,
  dockerignore: read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
  version: pkg.version,
};

test('the runtime paths are found in the code', (t) => {
  t.deepEqual([...expectations.runtimePaths].sort(), [
    'deploy', 'dist', 'node_modules', 'package.json', 'templates',
  ]);
});

test('Dockerfile keeps every invariant', (t) => {
  t.deepEqual(dockerfileProblems(readDockerfile(path.join(REPO_ROOT, 'Dockerfile')), expectations), []);
});

test('the ENTRYPOINT symlink points at the package bin', (t) => {
  const df = readDockerfile(path.join(REPO_ROOT, 'Dockerfile'));
  const link = df.stages.at(-1)!.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('ln -s'));
  t.is(link?.args, `ln -s /app/${pkg.bin[expectations.bin]} /usr/local/bin/${expectations.bin}`);
});

// Each broken variant must be caught: the checks can fail.
const BROKEN: [string, (text: string) => string, RegExp][] = [
  ['runs as root', (s) => s.replace('USER 1000:1000', 'USER root'), /not numeric/],
  ['USER 0', (s) => s.replace('USER 1000:1000', 'USER 0'), /USER is root/],
  ['no USER', (s) => s.replace(/^USER .*$/m, ''), /runs as root/],
  ['dev dependencies kept', (s) => s.replace(/ \\\n && npm prune --omit=dev --no-audit --no-fund/, ''), /does not prune/],
  ['installs in the final stage', (s) => s.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production\nRUN npm ci'), /final stage installs/],
  ['shell-form entrypoint', (s) => s.replace('ENTRYPOINT ["libvirt-telemetry"]', 'ENTRYPOINT ["node", "dist/cli/main.js"]'), /ENTRYPOINT is/],
  ['CMD not a role', (s) => s.replace('CMD ["exporter"]', 'CMD ["exporterd"]'), /does not start with a role/],
  ['no journalctl', (s) => s.replace(/ systemd \\/, ' ca-certificates \\'), /journalctl missing/],
  ['templates not shipped', (s) => s.replace(/^COPY --from=build \/app\/templates .*$/m, ''), /templates is not copied/],
  ['a source folder not copied', (s) => s.replace(/^COPY events \.\/events$/m, ''), /source folder events/],
  ['the deployment files not shipped', (s) => s.replace(/^COPY --from=build \/app\/deploy .*$/m, ''), /deploy is not copied/],
  ['a full Node image', (s) => s.replace('node:24-bookworm-slim', 'node:24-bookworm'), /not a slim Node 22\/24 LTS image pinned by digest/],
  ['Node 20 (end of life)', (s) => s.replace('node:24-bookworm-slim', 'node:20-bookworm-slim'), /not a slim Node 22\/24 LTS image pinned by digest/],
  ['a base by tag only', (s) => s.replace(/@sha256:[0-9a-f]{64}/, ''), /pinned by digest/],
  ['a stage on another base', (s) => s.replace('FROM ${NODE_IMAGE} AS build', 'FROM debian:bookworm AS build'), /stage build is not FROM/],
  ['no version label', (s) => s.replace(/^\s*org\.opencontainers\.image\.version=.*$/m, ''), /org.opencontainers.image.version missing/],
  ['a stale version', (s) => s.replace(/^ARG VERSION=.*$/m, 'ARG VERSION=0.0.1'), /ARG VERSION is not package.json's/],
];

for (const [what, breakIt, expected] of BROKEN) {
  test(`Dockerfile check catches: ${what}`, (t) => {
    const text = read('Dockerfile');
    const broken = breakIt(text);
    t.not(broken, text, 'the variant differs');
    const problems = dockerfileProblems(parseDockerfile(broken), expectations);
    t.true(problems.some((p) => expected.test(p)), problems.join('; '));
  });
}

test('.dockerignore excluding a copied folder is caught', (t) => {
  const problems = dockerfileProblems(readDockerfile(path.join(REPO_ROOT, 'Dockerfile')), { ...expectations, dockerignore: [...expectations.dockerignore, 'templates'] });
  t.deepEqual(problems, ['templates is copied but excluded by .dockerignore']);
});
