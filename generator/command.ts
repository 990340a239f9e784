import path from 'node:path';
import { UsageError, type CommandSpec } from '../cli/options.js';
import { buildModel, type FluentBitConfig } from './model.js';
import { generateOptions, OUTPUT_KINDS, type GenerateOptions } from './options.js';
import { ALL_FILE_NAMES, render, type Format } from './render.js';
import { writeDirectory } from './write.js';

const REQUIRED_HOST = { forward: 'forward.host', loki: 'loki.host', opensearch: 'opensearch.host' } as const;
const ABSOLUTE_PATHS = [
  'state-dir', 'journal.path', 'qemu.path', 'container.log-dir', 'kubernetes.ca-file', 'kubernetes.token-file',
  'forward.tls-ca-file', 'loki.tls-ca-file', 'opensearch.tls-ca-file',
] as const;
/** Tag characters that survive both formats and Fluent Bit's match patterns. */
const TAG = /^[A-Za-z0-9_.-]+$/;
/** Kubernetes names plus glob characters; `_` separates pod, namespace and container in the file name. */
const K8S_NAME_GLOB = /^[a-z0-9.*?[\]-]+$/;

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
  for (const name of ['journal.tag', 'qemu.tag'] as const) {
    if (!TAG.test(o[name])) throw new UsageError(`--${name}: a tag may hold only letters, digits, '.', '_' and '-', got '${o[name]}'`);
  }
  for (const name of ['container.pod', 'container.namespace', 'container.name'] as const) {
    if (!K8S_NAME_GLOB.test(o[name])) throw new UsageError(`--${name}: must be a Kubernetes name or glob (a-z 0-9 . - * ?), got '${o[name]}'`);
  }
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

export const generateCommand: CommandSpec<typeof generateOptions> = {
  name: 'generate',
  summary: 'write a Fluent Bit 4.x configuration that collects and parses libvirtd and QEMU logs',
  description:
    'Writes fluent-bit.conf + parsers-libvirt.conf (classic) and/or fluent-bit.yaml into --out, rendered from one model so both formats are equivalent. ' +
    'Run it with `fluent-bit -c <out>/fluent-bit.conf` or `fluent-bit -c <out>/fluent-bit.yaml`.',
  options: generateOptions,
  async run(options) {
    const { files } = generateFiles(options);
    const secret = options['forward.shared-key'] !== undefined || options['opensearch.password'] !== undefined;
    await writeDirectory(options.out, files, { replaceable: ALL_FILE_NAMES, secret });
    process.stdout.write(`wrote ${[...files.keys()].map((f) => path.join(options.out, f)).join(', ')} (${options.model} model, outputs: ${[...new Set(options.output)].join(', ')})\n`);
    return 0;
  },
};
