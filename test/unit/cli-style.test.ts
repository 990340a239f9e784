// One CLI style for every role: Prometheus' dotted namespaces, one spelling per concept across roles, one
// environment-variable scheme, --version/-v everywhere, help that fits the terminal.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { COMMAND_NAMES, loadCommands } from '../../cli/commands.js';
import { envName, parseCommandLine } from '../../runtime/options.js';
import { CLI } from '../harness/repo.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** lower-case words joined by '-', namespaces separated by '.': `web.listen-address`, `forward.tls-ca-file`. */
const HOUSE_STYLE = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$/;

/**
 * What a flag means, with its spelling taken away: separators dropped, and inside a multi-word segment the
 * words that only say "a location" or "a unit" (file, path, dir, bytes, backoff). `forward-tls-ca` and
 * `forward.tls-ca-file`, `max-line` and `max-line-bytes`, `log-level` and `log.level` each share a concept.
 */
export function concept(name: string): string {
  const FILLER = new Set(['file', 'path', 'dir', 'directory', 'bytes', 'backoff']);
  return name
    .split('.')
    .map((segment) => {
      const words = segment.split('-');
      return (words.length > 1 ? words.filter((w) => !FILLER.has(w)) : words).join('');
    })
    .join('');
}

test('concept() puts the spellings the roles used to disagree on together, and keeps distinct ideas apart', (t) => {
  for (const [a, b] of [['forward-host', 'forward.host'], ['log-level', 'log.level'], ['forward-tls-ca', 'forward.tls-ca-file'], ['max-line', 'max-line-bytes'], ['libvirt.reconnect-max-backoff', 'libvirt.reconnect-max']]) {
    t.is(concept(a), concept(b), `${a} ~ ${b}`);
  }
  for (const [a, b] of [['output', 'output.file'], ['qemu.path', 'qemu.log-dir'], ['libvirt.reconnect-min', 'libvirt.reconnect-max']]) t.not(concept(a), concept(b));
});

test('every flag of every role is in the house style', async (t) => {
  for (const command of await loadCommands()) {
    for (const o of command.options) t.regex(o.name, HOUSE_STYLE, `${command.name} --${o.name}`);
  }
});

test('no two roles (or two flags of one role) spell the same concept differently', async (t) => {
  const spellings = new Map<string, Set<string>>();
  for (const command of await loadCommands()) {
    for (const o of command.options) {
      const key = concept(o.name);
      if (!spellings.has(key)) spellings.set(key, new Set());
      spellings.get(key)!.add(`--${o.name}`);
    }
  }
  const disagreements = [...spellings.values()].filter((names) => names.size > 1).map((names) => [...names].join(' vs '));
  t.deepEqual(disagreements, []);
});

test('one environment-variable scheme: LIBVIRT_TELEMETRY_<ROLE>_<FLAG>, and it works for every option', async (t) => {
  t.is(envName('exporter', 'web.listen-address'), 'LIBVIRT_TELEMETRY_EXPORTER_WEB_LISTEN_ADDRESS');
  for (const command of await loadCommands()) {
    const byVariable = new Map(command.options.map((o) => [envName(command.name, o.name), o.name]));
    t.is(byVariable.size, command.options.length, `${command.name}: two options share a variable`);
    for (const o of command.options.filter((o) => o.type === 'string' && !o.validate)) {
      const parsed = parseCommandLine(command, command.positionals?.some((p) => p.required) ? ['-'] : [], { [envName(command.name, o.name)]: 'from-env' });
      t.is((parsed.options as Record<string, unknown>)[o.name], 'from-env', `${command.name} $${envName(command.name, o.name)}`);
      t.deepEqual(parsed.warnings, []);
    }
  }
});

test('deprecated spellings never shadow a current flag of the same role', async (t) => {
  for (const command of await loadCommands()) {
    const current = new Set(command.options.map((o) => o.name));
    for (const o of command.options) for (const old of o.deprecatedNames ?? []) t.false(current.has(old), `${command.name} --${old}`);
  }
});

for (const name of COMMAND_NAMES) {
  test(`${name}: --version and -v print the version; --help fits 80 columns when not on a terminal`, (t) => {
    for (const flag of ['--version', '-v']) {
      const r = spawnSync(process.execPath, [CLI, name, flag], { encoding: 'utf8', timeout: 30_000 });
      t.is(r.status, 0, r.stderr);
      t.is(r.stdout, `${VERSION}\n`);
    }
    const help = spawnSync(process.execPath, [CLI, name, '--help'], { encoding: 'utf8', timeout: 30_000 });
    const long = help.stdout.split('\n').filter((l) => l.length > 80);
    t.deepEqual(long, []);
  });
}

test('the top level takes --version and -v too', (t) => {
  for (const flag of ['--version', '-v']) t.is(spawnSync(process.execPath, [CLI, flag], { encoding: 'utf8' }).stdout, `${VERSION}\n`);
});

test('an old spelling works and says once, on stderr, what to write instead', (t) => {
  const r = spawnSync(process.execPath, [CLI, 'parse', '--max-line', '4096', '-'], { input: '', encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, 'libvirt-telemetry parse: warning: --max-line is deprecated, use --max-line-bytes\n');
});
