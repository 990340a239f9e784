// The shared runtime kernel: one logger for every role, the memory policy's keep-alive between scrapes.
import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import { HeldUntilNext } from '../../runtime/heap.js';
import { createLogger } from '../../runtime/log.js';

function captured(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  return { lines, log: createLogger({ ...options, write: (line) => lines.push(line) }) };
}

test('logfmt: one line per message with ts, level, msg and the fields; values with spaces quoted', (t) => {
  const { lines, log } = captured();
  log.warn('cannot connect to libvirtd', { uri: 'qemu:///system', error: 'connection refused', attempt: 2, skipped: undefined });
  log('info', 'plain');
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=warn msg="cannot connect to libvirtd" uri=qemu:\/\/\/system error="connection refused" attempt=2\n$/);
  t.regex(lines[1]!, /^ts=\S+ level=info msg=plain\n$/);
});

test('json: one object per line; a field cannot overwrite ts, level or msg', (t) => {
  const { lines, log } = captured({ format: 'json' });
  log.error('stdout failed', { error: 'EPIPE', level: 'debug', count: 3, ok: false });
  const record = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.like(record, { level: 'error', msg: 'stdout failed', error: 'EPIPE', count: 3, ok: false });
  t.deepEqual(Object.keys(record).slice(0, 3), ['ts', 'level', 'msg']);
  t.true(lines[0]!.endsWith('}\n'));
});

test('levels below --log.level are dropped', (t) => {
  const { lines, log } = captured({ level: 'warn' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  t.deepEqual(lines.map((l) => /level=(\w+)/.exec(l)![1]), ['warn', 'error']);
});

test('warnOnce logs a repeating condition once until it is cleared', (t) => {
  const { lines, log } = captured();
  for (let i = 0; i < 3; i++) log.warnOnce('dir:/x', 'cannot read /x');
  log.clear('dir:/x');
  log.warnOnce('dir:/x', 'cannot read /x');
  t.is(lines.length, 2);
});

async function fullCollection(): Promise<void> {
  // A WeakRef's target survives the job that created or dereferenced it: collect in a later macrotask.
  await new Promise((resolve) => setImmediate(resolve));
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

test('HeldUntilNext keeps the last scrape alive through full collections and lets it go at the next one', async (t) => {
  const held = new HeldUntilNext<{ samples: number[] }>();
  const scrape = (): WeakRef<{ samples: number[] }> => {
    const result = { samples: Array.from({ length: 1000 }, (_, i) => i) };
    held.hold(result);
    return new WeakRef(result);
  };
  const unheld = (): WeakRef<object> => new WeakRef({ samples: [1, 2, 3] });

  const first = scrape();
  const control = unheld();
  await fullCollection();
  t.truthy(first.deref(), 'the last scrape survives a full collection');
  t.is(control.deref(), undefined, 'an object nothing holds does not (the check can fail)');

  const second = scrape();
  await fullCollection();
  t.is(first.deref(), undefined, 'the previous scrape is released');
  t.truthy(second.deref());
  t.is(held.held, second.deref());
});
