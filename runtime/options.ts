// One definition per option: the same spec drives argument parsing, validation, environment fallbacks,
// `--help` (cli/help.ts) and the CLI reference in docs/cli.md (cli/reference.ts). One style for every role:
// Prometheus' dotted namespaces (`--libvirt.uri`, `--web.listen-address`, `--forward.host`), and each
// option's environment variable derived from the role and the flag (envName), never spelled by hand.

export type OptionType = 'string' | 'path' | 'integer' | 'port' | 'bytes' | 'duration' | 'boolean' | 'enum' | 'list';

export interface OptionSpec {
  /** Long flag without the leading dashes, e.g. `model` or `libvirt.uri`. */
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values for `enum`. */
  readonly choices?: readonly string[];
  /**
   * Earlier spellings of the flag, still accepted with a warning so that existing command lines and
   * manifests keep working (`forward-host` for `forward.host`).
   */
  readonly deprecatedNames?: readonly string[];
  /** Earlier environment variables of the option, still read (with a warning) when the current one is unset. */
  readonly deprecatedEnv?: readonly string[];
  /** Checks a string value beyond its type; returns why it is wrong, or undefined. */
  readonly validate?: (value: string) => string | undefined;
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
  /**
   * Node.js flags the command runs with from start-up (runtime/start-flags.ts): when run as the program, the
   * CLI restarts itself with them once the command line is valid, before the command does anything.
   */
  readonly nodeFlags?: readonly string[];
  /** Returns the process exit code. */
  readonly run: (options: OptionValues<S>, positionals: string[]) => Promise<number>;
}

/** The environment variable of an option: `LIBVIRT_TELEMETRY_<ROLE>_<FLAG>`, e.g. LIBVIRT_TELEMETRY_EXPORTER_LIBVIRT_URI. */
export function envName(command: string, option: string): string {
  return `LIBVIRT_TELEMETRY_${command}_${option}`.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
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

/** A size or duration in the unit a reader expects (`64 KiB`, `1.5 s`); plain numbers stay as they are. */
export function withUnit(type: OptionSpec['type'], n: number): string {
  if (type === 'bytes') {
    const [unit, size] = n >= 1024 ** 3 ? ['GiB', 1024 ** 3] : n >= 1024 ** 2 ? ['MiB', 1024 ** 2] : n >= 1024 ? ['KiB', 1024] : ['bytes', 1];
    return `${Number((n / (size as number)).toFixed(2))} ${unit}`;
  }
  if (type === 'duration') return n >= 1000 ? `${Number((n / 1000).toFixed(3))} s` : `${n} ms`;
  return String(n);
}

function convert(spec: OptionSpec, raw: string, origin: string): unknown {
  const fail = (why: string): never => {
    throw new UsageError(`${origin}: ${why}`);
  };
  // Bounds are said in the option's unit, so `--queue-limit 10` reads 'at least 64 KiB', not '65536'.
  const bounded = (n: number): number => {
    const said = (bound: number) => withUnit(spec.type, bound);
    if (spec.min !== undefined && n < spec.min) fail(`must be at least ${said(spec.min)}, got '${raw}' (${said(n)})`);
    if (spec.max !== undefined && n > spec.max) fail(`must be at most ${said(spec.max)}, got '${raw}' (${said(n)})`);
    return n;
  };
  switch (spec.type) {
    case 'string':
    case 'path': {
      if (raw === '' && spec.required) fail('must not be empty');
      const problem = spec.validate?.(raw);
      if (problem !== undefined) fail(problem);
      return raw;
    }
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
  version: boolean;
  /** One line each: deprecated spellings that were used. */
  warnings: string[];
}

/**
 * Parses `--name value`, `--name=value`, `--flag`, `--no-flag`, and `--` (end of options); `--help`/`-h` and
 * `--version`/`-v` on every command. A list option may be repeated; its values accumulate. Unknown flags are
 * usage errors. Absent flags fall back to the environment (envName, then deprecated names), then the default.
 */
export function parseCommandLine<S extends readonly OptionSpec[]>(
  command: CommandSpec<S>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParseResult<S> {
  const byName = new Map<string, OptionSpec>();
  for (const o of command.options) for (const name of [o.name, ...(o.deprecatedNames ?? [])]) byName.set(name, o);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const warnings: string[] = [];
  let help = false;
  let version = false;
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
    if (arg === '--version' || arg === '-v') {
      version = true;
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
    if (name !== spec.name) warnings.push(`--${name} is deprecated, use --${spec.name}`);
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
    const key = spec.name;
    values[key] = spec.type === 'list' ? [...((values[key] as string[] | undefined) ?? []), ...(value as string[])] : value;
  }
  for (const spec of command.options) {
    if (spec.name in values) continue;
    const fromEnv = environmentValue(command.name, spec, env, warnings);
    if (fromEnv !== undefined) values[spec.name] = convert(spec, fromEnv.value, `$${fromEnv.variable}`);
    else values[spec.name] = defaultValue(spec);
    if (values[spec.name] === undefined && spec.required && !help && !version)
      throw new UsageError(`option '--${spec.name}' is required`);
  }
  if (!help && !version) {
    const declared = command.positionals ?? [];
    const required = declared.filter((p) => p.required).length;
    if (positionals.length < required) throw new UsageError(`missing ${declared[positionals.length]!.name}`);
    if (positionals.length > declared.length)
      throw new UsageError(`unexpected argument '${positionals[declared.length]}'`);
  }
  return { options: values as OptionValues<S>, positionals, help, version, warnings };
}

function environmentValue(
  command: string,
  spec: OptionSpec,
  env: NodeJS.ProcessEnv,
  warnings: string[],
): { variable: string; value: string } | undefined {
  const current = envName(command, spec.name);
  for (const variable of [current, ...(spec.deprecatedEnv ?? [])]) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    if (variable !== current) warnings.push(`$${variable} is deprecated, use $${current}`);
    return { variable, value };
  }
  return undefined;
}

export function formatDefault(spec: OptionSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  return Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
}
