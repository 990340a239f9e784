// One definition per option: the same spec drives argument parsing, validation,
// environment fallbacks, `--help` and the CLI reference in docs/cli.md (scripts/cli-reference.ts).

export type OptionType = 'string' | 'path' | 'integer' | 'port' | 'bytes' | 'duration' | 'boolean' | 'enum' | 'list';

export interface OptionSpec {
  /** Long flag without the leading dashes, e.g. `model` or `libvirt.uri`. */
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values for `enum`. */
  readonly choices?: readonly string[];
  /** Environment variable consulted when the flag is absent. */
  readonly env?: string;
  readonly required?: boolean;
  /** Inclusive bounds for numeric types. */
  readonly min?: number;
  readonly max?: number;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
}

type ValueOf<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O['type'] extends 'integer' | 'port' | 'bytes' | 'duration'
    ? number
    : O['type'] extends 'list'
      ? string[]
      : string;

/** Parsed option values keyed by flag name; options with a default or `required` are never undefined. */
export type OptionValues<S extends readonly OptionSpec[]> = {
  [O in S[number] as O['name']]: O extends { default: unknown } | { required: true } | { type: 'boolean' | 'list' }
    ? ValueOf<O>
    : ValueOf<O> | undefined;
};

export interface CommandSpec<S extends readonly OptionSpec[] = readonly OptionSpec[]> {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options: S;
  readonly positionals?: readonly PositionalSpec[];
  /** Returns the process exit code. */
  readonly run: (options: OptionValues<S>, positionals: string[]) => Promise<number>;
}

/** Bad usage: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `512k`, `2MiB`, `1048576` into bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const value = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Parses `250ms`, `5s`, `2m`, `7h` (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const value = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!);
  return Number.isSafeInteger(value) ? value : undefined;
}

function convert(spec: OptionSpec, raw: string, origin: string): unknown {
  const fail = (why: string): never => {
    throw new UsageError(`${origin}: ${why}`);
  };
  const bounded = (n: number): number => {
    if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}, got ${raw}`);
    if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}, got ${raw}`);
    return n;
  };
  switch (spec.type) {
    case 'string':
    case 'path':
      if (raw === '' && spec.required) fail('must not be empty');
      return raw;
    case 'enum':
      if (!spec.choices?.includes(raw)) fail(`must be one of ${spec.choices?.join(', ')}; got '${raw}'`);
      return raw;
    case 'integer':
      if (!/^-?\d+$/.test(raw)) fail(`must be an integer, got '${raw}'`);
      return bounded(Number(raw));
    case 'port': {
      if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) fail(`must be a TCP port (1-65535), got '${raw}'`);
      return Number(raw);
    }
    case 'bytes': {
      const n = parseBytes(raw);
      return n === undefined ? fail(`must be a size such as 512k or 5M, got '${raw}'`) : bounded(n);
    }
    case 'duration': {
      const n = parseDuration(raw);
      return n === undefined ? fail(`must be a duration such as 500ms, 5s, 2m or 7h, got '${raw}'`) : bounded(n);
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return fail(`must be true or false, got '${raw}'`);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
}

function defaultValue(spec: OptionSpec): unknown {
  if (spec.default !== undefined) {
    if (typeof spec.default === 'string' && spec.type !== 'string' && spec.type !== 'path' && spec.type !== 'enum')
      return convert(spec, spec.default, `--${spec.name} default`);
    return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  if (spec.type === 'boolean') return false;
  if (spec.type === 'list') return [];
  return undefined;
}

export interface ParseResult<S extends readonly OptionSpec[]> {
  options: OptionValues<S>;
  positionals: string[];
  help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, `--flag`, `--no-flag`, and `--` (end of options).
 * A list option may be repeated; its values accumulate. Unknown flags are usage errors.
 */
export function parseCommandLine<S extends readonly OptionSpec[]>(
  command: CommandSpec<S>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParseResult<S> {
  const byName = new Map(command.options.map((o) => [o.name, o] as const));
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option '${arg}'`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean' && inline === undefined) {
      name = name.slice(3);
      spec = byName.get(name);
      inline = 'false';
    }
    if (!spec) throw new UsageError(`unknown option '--${name}' (see --help)`);
    let raw: string;
    if (inline !== undefined) raw = inline;
    else if (spec.type === 'boolean') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`option '--${name}' needs a value`);
      raw = next;
      i++;
    }
    const value = convert(spec, raw, `--${name}`);
    values[name] = spec.type === 'list' ? [...((values[name] as string[] | undefined) ?? []), ...(value as string[])] : value;
  }
  for (const spec of command.options) {
    if (spec.name in values) continue;
    const fromEnv = spec.env !== undefined ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') values[spec.name] = convert(spec, fromEnv, `$${spec.env}`);
    else values[spec.name] = defaultValue(spec);
    if (values[spec.name] === undefined && spec.required && !help)
      throw new UsageError(`option '--${spec.name}' is required`);
  }
  if (!help) {
    const declared = command.positionals ?? [];
    const required = declared.filter((p) => p.required).length;
    if (positionals.length < required) throw new UsageError(`missing ${declared[positionals.length]!.name}`);
    if (positionals.length > declared.length)
      throw new UsageError(`unexpected argument '${positionals[declared.length]}'`);
  }
  return { options: values as OptionValues<S>, positionals, help };
}

function placeholder(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return '';
    case 'enum':
      return ` ${spec.choices?.join('|')}`;
    case 'integer':
    case 'port':
      return ' N';
    case 'bytes':
      return ' SIZE';
    case 'duration':
      return ' DURATION';
    case 'path':
      return ' PATH';
    case 'list':
      return ' A,B';
    case 'string':
      return ' VALUE';
  }
}

export function formatDefault(spec: OptionSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}

/** The text `--help` prints for one command. */
export function renderHelp(program: string, command: CommandSpec<readonly OptionSpec[]>): string {
  const pos = (command.positionals ?? []).map((p) => (p.required ? ` ${p.name}` : ` [${p.name}]`)).join('');
  const lines = [`Usage: ${program} ${command.name} [options]${pos}`, '', command.summary];
  if (command.description) lines.push('', command.description);
  if (command.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(28)} ${p.description}`);
  }
  lines.push('', 'Options:');
  const rows = command.options.map((o) => {
    const extra: string[] = [];
    const def = formatDefault(o);
    if (def !== undefined && def !== '') extra.push(`default: ${def}`);
    if (o.env) extra.push(`env: ${o.env}`);
    if (o.required) extra.push('required');
    return [`--${o.name}${placeholder(o)}`, o.description + (extra.length ? ` (${extra.join('; ')})` : '')] as const;
  });
  rows.push(['--help', 'show this help']);
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  for (const [flag, text] of rows) {
    lines.push(flag.length + 2 > width ? `  ${flag}\n  ${''.padEnd(width)}${text}` : `  ${flag.padEnd(width)}${text}`);
  }
  return lines.join('\n') + '\n';
}
