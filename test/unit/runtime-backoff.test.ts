import test from 'ava';
import { Backoff, sleep } from '../../runtime/backoff.js';

test('waits double from the minimum up to the cap, each drawn from the upper half of its step', (t) => {
  const low = new Backoff({ minMs: 500, maxMs: 1000, random: () => 0 });
  t.deepEqual([low.next(), low.next(), low.next()], [250, 500, 500]);
  const high = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0.999999 });
  t.deepEqual([high.next(), high.next(), high.next(), high.next(), high.next()].map(Math.round), [100, 200, 400, 800, 1000]);
});

test('reset() starts again from the minimum', (t) => {
  const backoff = new Backoff({ minMs: 100, maxMs: 10_000, random: () => 0 });
  backoff.next();
  backoff.next();
  backoff.reset();
  t.is(backoff.next(), 50);
});

test('jitter spreads the waits of clients that failed together', (t) => {
  const waits = Array.from({ length: 50 }, () => new Backoff({ minMs: 1000, maxMs: 1000 }).next());
  t.true(waits.every((w) => w >= 500 && w <= 1000));
  t.true(new Set(waits).size > 40);
});

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('sleep() ends when its signal aborts, not at its time, and leaves no timer behind', async (t) => {
  const before = timers();
  const stop = new AbortController();
  let ended = false;
  const sleeping = sleep(3_600_000, stop.signal).then(() => (ended = true));
  await nextTurn();
  t.false(ended);
  t.is(timers(), before + 1);
  stop.abort();
  await nextTurn();
  t.true(ended, 'ended within the turn of the abort');
  t.is(timers(), before);
  await sleeping;
});
