// The invariants the image must keep, as a list of problems (empty = fine), so tests can show both the
// real Dockerfile passing and broken variants failing.
import { copies, execForm, runCommands, type Dockerfile } from '../readers/dockerfile.js';

export interface ImageExpectations {
  /** Registered CLI command names (the roles). */
  readonly roles: readonly string[];
  /** Folders tsconfig.build.json compiles. */
  readonly sourceFolders: readonly string[];
  /** Paths the code reads at run time, relative to the package root. */
  readonly runtimePaths: readonly string[];
  /** Name of the package's bin (package.json). */
  readonly bin: string;
  /** Patterns of .dockerignore. */
  readonly dockerignore: readonly string[];
  /** package.json's version, which the image's version label carries. */
  readonly version: string;
}

/** The OCI annotations every image carries (org.opencontainers.image.*). */
const OCI_LABELS = ['title', 'description', 'version', 'licenses', 'base.name'];

export function dockerfileProblems(df: Dockerfile, x: ImageExpectations): string[] {
  const problems: string[] = [];
  if (df.stages.length < 2) return ['not a multi-stage build'];
  const base = df.globalArgs.get('NODE_IMAGE');
  if (base === undefined) problems.push('no NODE_IMAGE argument (the base a build may replace)');
  else if (!/^node:(22|24)[\w.-]*-slim@sha256:[0-9a-f]{64}$/.test(base)) problems.push(`base image ${base} is not a slim Node 22/24 LTS image pinned by digest`);
  for (const s of df.stages) if (s.from !== base) problems.push(`stage ${s.name ?? '(final)'} is not FROM \${NODE_IMAGE}`);
  const final = df.stages.at(-1)!;
  const build = df.stages.slice(0, -1);
  const last = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword).at(-1);

  const user = last('USER')?.args.split(':')[0];
  if (user === undefined) problems.push('final stage runs as root (no USER)');
  else if (!/^\d+$/.test(user)) problems.push(`USER ${user} is not numeric (runAsNonRoot cannot verify it)`);
  else if (Number(user) === 0) problems.push('final stage USER is root');

  const entry = last('ENTRYPOINT');
  if (!entry) problems.push('no ENTRYPOINT');
  else if (JSON.stringify(execForm(entry)) !== JSON.stringify([x.bin])) problems.push(`ENTRYPOINT is ${entry.args}, expected ["${x.bin}"]`);
  const cmd = last('CMD');
  if (!cmd) problems.push('no CMD (the default role)');
  else if (!x.roles.includes(execForm(cmd)[0] ?? '')) problems.push(`CMD ${cmd.args} does not start with a role (${x.roles.join(', ')})`);

  const labels = final.instructions.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
  for (const l of OCI_LABELS) if (!labels.includes(`org.opencontainers.image.${l}=`)) problems.push(`label org.opencontainers.image.${l} missing`);
  const version = final.instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('VERSION='));
  if (version?.args !== `VERSION=${x.version}`) problems.push(`ARG VERSION is not package.json's ${x.version}`);

  const finalRuns = runCommands(final);
  if (finalRuns.some((c) => /\bnpm\s+(ci|install|i)\b|\btsc\b|\bnpx\b/.test(c))) problems.push('final stage installs or builds (dev dependencies would end up in the image)');
  const systemd = finalRuns.find((c) => /apt-get install\b.*\bsystemd\b/.test(c));
  if (!systemd) problems.push('journalctl missing: the final stage does not install systemd');
  else if (!systemd.includes('--no-install-recommends')) problems.push('systemd installed with recommended packages');
  if (systemd && !finalRuns.some((c) => /rm -rf \/var\/lib\/apt\/lists/.test(c))) problems.push('apt lists left in the image');

  const finalCopies = copies(final);
  if (finalCopies.some((c) => c.from === undefined)) problems.push('final stage copies from the build context instead of the build stage');
  const modules = finalCopies.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
  const source = build.find((s) => s.name === modules?.from);
  if (!modules || !source) problems.push('node_modules not copied from a build stage');
  else {
    const cmds = runCommands(source);
    const ci = cmds.findIndex((c) => /\bnpm ci\b/.test(c));
    const prune = cmds.findIndex((c) => /\bnpm prune\b.*--omit=dev/.test(c));
    const compile = cmds.findIndex((c) => /\btsc\b/.test(c));
    if (prune === -1 || prune < ci || prune < compile) problems.push(`stage ${source.name} does not prune dev dependencies after installing and compiling`);
  }
  const shipped = finalCopies.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '')));
  for (const p of x.runtimePaths) if (!shipped.some((s) => p === s || p.startsWith(`${s}/`))) problems.push(`${p} is not copied into the final stage`);

  const contextCopies = build.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
  for (const folder of x.sourceFolders) if (!contextCopies.includes(folder)) problems.push(`source folder ${folder} is not copied into the build`);
  for (const pattern of ['node_modules', 'dist']) if (!x.dockerignore.includes(pattern)) problems.push(`.dockerignore does not exclude ${pattern}`);
  for (const p of contextCopies) if (x.dockerignore.some((i) => p === i || p.startsWith(`${i}/`))) problems.push(`${p} is copied but excluded by .dockerignore`);
  return problems;
}
