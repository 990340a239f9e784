// What `generate` does: validation, rendering of the Fluent Bit configuration or the manifests, the atomic write.
import { isIP } from 'node:net';
import path from 'node:path';
import { UsageError } from '../runtime/options.js';
import { checkConfig } from './check.js';
import { ALL_FILE_NAMES, ALL_MANIFEST_FILE_NAMES, TARGETS, type Format, type Target } from './files.js';
import { buildManifests, checkPriorityClassName, monitoringLabels, renderManifestFile, toleration } from './manifests.js';
import { buildModel, qemuSource, type FluentBitConfig } from './model.js';
import { generateOptions, OUTPUT_KINDS, type GenerateOptions } from './options.js';
import { render } from './render.js';
import { sidecarCommandLine, sidecarTagPrefix } from './sidecar-link.js';
import { writeDirectory } from './write.js';

const REQUIRED_HOST = { forward: 'forward.host', loki: 'loki.host', opensearch: 'opensearch.host' } as const;
const ABSOLUTE_PATHS = [
  'state-dir', 'journal.directory', 'qemu.path', 'container.log-dir', 'kubernetes.ca-file', 'kubernetes.token-file',
  'forward.tls-ca-file', 'loki.tls-ca-file', 'opensearch.tls-ca-file',
] as const;
/** Tag characters that survive both formats and Fluent Bit's match patterns. */
const TAG = /^[A-Za-z0-9_.-]+$/;
/** Kubernetes names plus glob characters; `_` separates pod, namespace and container in the file name. */
const K8S_NAME_GLOB = /^[a-z0-9.*?[\]-]+$/;
/** A namespace name: an RFC 1123 label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DEFAULT_OUT: Record<Target, string> = { 'fluent-bit': './fluent-bit', manifests: './manifests' };
/** `--out -`: the configuration on standard output. */
const STDOUT = '-';
/** A host name (RFC 1123 labels), an IP address, or `${VAR}` that Fluent Bit takes from its environment. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\$\{[A-Za-z_][A-Za-z0-9_]*\})$/;
/** Secrets a ConfigMap must not hold literally. */
const SECRETS = ['forward.shared-key', 'opensearch.password', 'sidecar.shared-key'] as const;

function isHost(text: string): boolean {
  return isIP(text) !== 0 || HOST.test(text);
}

/** Checks what the option types cannot; throws a one-line UsageError. */
export function validate(o: GenerateOptions): void {
  for (const spec of generateOptions) {
    const value = o[spec.name as keyof GenerateOptions];
    for (const text of Array.isArray(value) ? value : typeof value === 'string' ? [value] : []) {
      if (/[\x00-\x1f\x7f]/.test(text)) throw new UsageError(`--${spec.name}: control characters are not allowed`);
      if (text !== text.trim()) throw new UsageError(`--${spec.name}: leading or trailing blanks are not allowed`);
    }
  }
  for (const name of ABSOLUTE_PATHS) {
    const value = o[name];
    for (const p of name === 'qemu.path' ? (value ?? '').split(',') : [value]) {
      if (p !== undefined && !path.posix.isAbsolute(p.trim())) throw new UsageError(`--${name}: must be an absolute path, got '${p}'`);
    }
  }
  for (const name of ['http.listen', 'sidecar.listen'] as const) {
    if (isIP(o[name]) === 0) throw new UsageError(`--${name}: must be an IP address (e.g. 0.0.0.0, 127.0.0.1, ::), got '${o[name]}'`);
  }
  for (const name of ['forward.host', 'loki.host', 'opensearch.host'] as const) {
    const value = o[name];
    const output = name.split('.')[0];
    if (value !== undefined && !isHost(value))
      throw new UsageError(`--${name}: must be a host name or IP address without scheme, port or path (see --${output}.port, --${output}.tls), got '${value}'`);
  }
  for (const name of ['journal.tag', 'qemu.tag'] as const) {
    if (!TAG.test(o[name])) throw new UsageError(`--${name}: a tag may hold only letters, digits, '.', '_' and '-', got '${o[name]}'`);
  }
  for (const name of ['container.pod', 'container.namespace', 'container.name'] as const) {
    if (!K8S_NAME_GLOB.test(o[name])) throw new UsageError(`--${name}: must be a Kubernetes name or glob (a-z 0-9 . - * ?), got '${o[name]}'`);
  }
  for (const name of ['k8s.monitoring-namespace', 'k8s.logging-namespace', 'k8s.ha-namespace'] as const) {
    if (!NAMESPACE.test(o[name])) throw new UsageError(`--${name}: must be a Kubernetes namespace name (a-z 0-9 -, at most 63), got '${o[name]}'`);
  }
  for (const entry of o['k8s.tolerations']) toleration(entry);
  monitoringLabels(o['monitoring.labels']);
  checkPriorityClassName(o['k8s.priority-class-name']);
  if (!/^[^\s]+$/.test(o.image)) throw new UsageError(`--image: must be an image reference without blanks, got '${o.image}'`);
  if (qemuSource(o) === 'sidecar' && sidecarTagPrefix(o['qemu.tag']) === undefined)
    throw new UsageError(`--qemu.tag: with --qemu-logs sidecar it must end in .qemu (the sidecar tags <prefix>.qemu.<domain>), got '${o['qemu.tag']}'`);
  if (o.out === STDOUT && o.format !== 'yaml') throw new UsageError(`--out -: standard output takes one file; add --format yaml (classic is two files)`);
  if (o['journal.unit'].length === 0) throw new UsageError('--journal.unit: at least one unit is needed');
  if (o['tail.buffer-max-size'] < o['tail.buffer-chunk-size'])
    throw new UsageError('--tail.buffer-max-size must not be smaller than --tail.buffer-chunk-size');
  if (o.output.length === 0) throw new UsageError('--output: at least one output is needed');
  for (const kind of o.output) {
    if (!(OUTPUT_KINDS as readonly string[]).includes(kind))
      throw new UsageError(`--output: must be one of ${OUTPUT_KINDS.join(', ')}; got '${kind}'`);
    const host = REQUIRED_HOST[kind as keyof typeof REQUIRED_HOST];
    if (host && !o[host]) throw new UsageError(`--output ${kind} needs --${host}`);
  }
  for (const out of ['forward', 'loki', 'opensearch'] as const) {
    if (o[`${out}.tls-ca-file`] !== undefined && !o[`${out}.tls`]) throw new UsageError(`--${out}.tls-ca-file needs --${out}.tls`);
  }
  if (o['forward.self-hostname'] !== undefined && o['forward.shared-key'] === undefined)
    throw new UsageError('--forward.self-hostname is only sent with --forward.shared-key');
  for (const label of o['loki.labels']) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=\S+$/.test(label)) throw new UsageError(`--loki.labels: expected key=value, got '${label}'`);
  }
}

function formats(o: GenerateOptions): Format[] {
  return o.format === 'both' ? ['classic', 'yaml'] : [o.format as Format];
}

/** The files `generate` writes for these options, name → content. */
export function generateFiles(o: GenerateOptions): { config: FluentBitConfig; files: Map<string, string> } {
  validate(o);
  const config = buildModel(o);
  const files = new Map<string, string>();
  for (const format of formats(o)) for (const [name, content] of render(config, format)) files.set(name, content);
  return { config, files };
}

/** The manifest files `generate manifests` writes, name → content. */
export function generateManifestFiles(o: GenerateOptions): Map<string, string> {
  // A ConfigMap is readable by anyone who may read the namespace: secrets must come from the environment.
  if (o.out === STDOUT) throw new UsageError('--out -: the manifests are several files (one a patch); give a directory');
  for (const name of SECRETS) {
    const value = o[name];
    if (value !== undefined && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value))
      throw new UsageError(`--${name}: the manifests put the configuration into a ConfigMap; pass '\${VARIABLE}' and set VARIABLE in Fluent Bit's pod from a Secret`);
  }
  const { files } = generateFiles(o);
  return new Map([...buildManifests(o, files)].map(([name, file]) => [name, renderManifestFile(file)]));
}

function target(positionals: readonly string[]): Target {
  const what = positionals[0] ?? 'fluent-bit';
  if (!(TARGETS as readonly string[]).includes(what)) throw new UsageError(`unknown target '${what}' (targets: ${TARGETS.join(', ')})`);
  return what as Target;
}

/** What `generate` tells the user besides the files: on stdout, or on stderr when stdout carries the configuration. */
function report(toStdout: boolean, line: string): void {
  (toStdout ? process.stdout : process.stderr).write(`${line}\n`);
}

/** `generate [target]`: validates, renders and writes atomically, then checks with Fluent Bit if asked; returns the exit code. */
export async function runGenerate(options: GenerateOptions, positionals: readonly string[]): Promise<number> {
  const what = target(positionals);
  const out = options.out ?? DEFAULT_OUT[what];
  const secret = SECRETS.some((name) => options[name] !== undefined);
  let fluentBitFiles: ReadonlyMap<string, string>;
  if (what === 'manifests') {
    const files = generateManifestFiles(options);
    await writeDirectory(out, files, { replaceable: ALL_MANIFEST_FILE_NAMES, secret });
    report(true, `wrote ${[...files.keys()].map((f) => path.join(out, f)).join(', ')} (image ${options.image}, Fluent Bit ${options.model} model)`);
    fluentBitFiles = generateFiles(options).files;
  } else {
    fluentBitFiles = generateFiles(options).files;
    if (out === STDOUT) process.stdout.write([...fluentBitFiles.values()][0]!);
    else {
      await writeDirectory(out, fluentBitFiles, { replaceable: ALL_FILE_NAMES, secret });
      report(true, `wrote ${[...fluentBitFiles.keys()].map((f) => path.join(out, f)).join(', ')} (${options.model} model, outputs: ${[...new Set(options.output)].join(', ')})`);
    }
  }
  const toStdout = out !== STDOUT;
  if (qemuSource(options) === 'sidecar')
    report(toStdout, options.model === 'host' ? `QEMU logs come from the sidecar; run it as: ${sidecarCommandLine(options)}` : 'QEMU logs come from the sidecar container (libvirt-sidecar-patch.yaml of `generate manifests`)');
  if (!options.check) return 0;
  const verdict = await checkConfig(fluentBitFiles, options['fluent-bit']);
  for (const line of verdict.lines) report(toStdout, line);
  return verdict.ok ? 0 : 1;
}
