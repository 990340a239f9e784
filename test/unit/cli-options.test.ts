import test from 'ava';
import { parseCommandLine, parseBytes, parseDuration, renderHelp, UsageError, type CommandSpec } from '../../cli/options.js';

const spec = {
  name: 'demo',
  summary: 'demo command',
  positionals: [{ name: 'FILE', description: 'input', required: false }],
  options: [
    { name: 'model', type: 'enum', choices: ['host', 'container'], default: 'host', description: 'operating model' },
    { name: 'port', type: 'port', default: 24224, env: 'DEMO_PORT', description: 'port' },
    { name: 'limit', type: 'bytes', default: '5M', description: 'limit' },
    { name: 'wait', type: 'duration', default: '5s', description: 'wait' },
    { name: 'tls', type: 'boolean', description: 'tls' },
    { name: 'match', type: 'list', description: 'matches' },
  ],
  run: async () => 0,
} as const satisfies CommandSpec;

test('defaults, env fallback and typed values', (t) => {
  const r = parseCommandLine(spec, [], { DEMO_PORT: '5170' });
  t.deepEqual(r.options, { model: 'host', port: 5170, limit: 5 * 1024 * 1024, wait: 5000, tls: false, match: [] });
});

test('flags override env; --no-flag, --flag=value, repeated lists', (t) => {
  const r = parseCommandLine(spec, ['--port=1', '--tls', '--no-tls', '--match', 'a,b', '--match=c', 'file.log'], { DEMO_PORT: '5170' });
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
  const help = renderHelp('prog', spec);
  for (const o of spec.options) t.true(help.includes(`--${o.name}`));
  t.true(help.includes('env: DEMO_PORT'));
  t.true(help.includes('default: 24224'));
});
