import test from 'ava';
import { renderHelp } from '../../cli/help.js';
import { parseCommandLine, parseBytes, parseDuration, UsageError, type CommandSpec } from '../../runtime/options.js';

const spec = {
  name: 'demo',
  summary: 'demo command',
  positionals: [{ name: 'FILE', description: 'input', required: false }],
  options: [
    { name: 'model', type: 'enum', choices: ['host', 'container'], default: 'host', description: 'operating model' },
    { name: 'port', type: 'port', default: 24224, deprecatedNames: ['old-port'], deprecatedEnv: ['DEMO_PORT'], description: 'port' },
    { name: 'limit', type: 'bytes', default: '5M', description: 'limit' },
    { name: 'wait', type: 'duration', default: '5s', description: 'wait' },
    { name: 'tls', type: 'boolean', description: 'tls' },
    { name: 'match', type: 'list', description: 'matches' },
  ],
  run: async () => 0,
} as const satisfies CommandSpec;

test('defaults, env fallback and typed values', (t) => {
  const r = parseCommandLine(spec, [], { LIBVIRT_TELEMETRY_DEMO_PORT: '5170', LIBVIRT_TELEMETRY_DEMO_WAIT: '2m' });
  t.deepEqual(r.options, { model: 'host', port: 5170, limit: 5 * 1024 * 1024, wait: 120_000, tls: false, match: [] });
  t.deepEqual(r.warnings, []);
});

test('flags override env; --no-flag, --flag=value, repeated lists', (t) => {
  const r = parseCommandLine(spec, ['--port=1', '--tls', '--no-tls', '--match', 'a,b', '--match=c', 'file.log'], { LIBVIRT_TELEMETRY_DEMO_PORT: '5170' });
  t.is(r.options.port, 1);
  t.false(r.options.tls);
  t.deepEqual(r.options.match, ['a', 'b', 'c']);
  t.deepEqual(r.positionals, ['file.log']);
});

test('bad usage is a UsageError with a one-line reason', (t) => {
  for (const argv of [['--model', 'vm'], ['--port', '70000'], ['--bogus'], ['--limit', 'lots'], ['--port'], ['a', 'b'], ['-x']]) {
    const err = t.throws(() => parseCommandLine(spec, argv, {}), { instanceOf: UsageError });
    t.false(err!.message.includes('\n'));
  }
});

test('size and duration units', (t) => {
  t.is(parseBytes('2MiB'), 2 * 1024 * 1024);
  t.is(parseBytes('512k'), 512 * 1024);
  t.is(parseBytes('x'), undefined);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('7h'), 7 * 3600 * 1000);
  t.is(parseDuration('3'), 3000);
});

test('help lists every option with its default and env', (t) => {
  const help = renderHelp('prog', spec, 200);
  for (const o of spec.options) t.true(help.includes(`--${o.name}`));
  t.true(help.includes('env: LIBVIRT_TELEMETRY_DEMO_PORT'));
  t.true(help.includes('default: 24224'));
});

test('deprecated spellings of a flag or variable still work, each with a warning naming the new one', (t) => {
  const flag = parseCommandLine(spec, ['--old-port', '7'], {});
  t.is(flag.options.port, 7);
  t.deepEqual(flag.warnings, ['--old-port is deprecated, use --port']);
  const variable = parseCommandLine(spec, [], { DEMO_PORT: '8' });
  t.is(variable.options.port, 8);
  t.deepEqual(variable.warnings, ['$DEMO_PORT is deprecated, use $LIBVIRT_TELEMETRY_DEMO_PORT']);
  const both = parseCommandLine(spec, [], { DEMO_PORT: '8', LIBVIRT_TELEMETRY_DEMO_PORT: '9' });
  t.is(both.options.port, 9);
  t.deepEqual(both.warnings, []);
});

test('--version and -v are understood by every command, even with a required option missing', (t) => {
  const strict = { ...spec, options: [...spec.options, { name: 'must', type: 'string', required: true, description: 'needed' }] } as const satisfies CommandSpec;
  t.true(parseCommandLine(strict, ['--version'], {}).version);
  t.true(parseCommandLine(strict, ['-v'], {}).version);
  t.throws(() => parseCommandLine(strict, [], {}), { instanceOf: UsageError, message: "option '--must' is required" });
});

test('help is wrapped to the width it is given', (t) => {
  for (const width of [60, 80, 120]) {
    const help = renderHelp('prog', { ...spec, description: 'word '.repeat(100) }, width);
    const longest = Math.max(...help.split('\n').map((l) => l.length));
    t.true(longest <= width, `${longest} > ${width}`);
    t.true(longest > width - 10, `${longest} leaves the ${width} columns unused`);
  }
});
