import test from 'ava';
import { releasedDeadline } from '../../runtime/deadline.js';

test('aborts with a TimeoutError when the delay passes, as AbortSignal.timeout does', async (t) => {
  const deadline = releasedDeadline(1);
  await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }));
  t.is((deadline.signal.reason as DOMException).name, 'TimeoutError');
  deadline.done();
});

test("aborts with the parent's reason when the parent aborts first", (t) => {
  const parent = new AbortController();
  const deadline = releasedDeadline(60_000, parent.signal);
  const reason = new Error('closing');
  parent.abort(reason);
  t.true(deadline.signal.aborted);
  t.is(deadline.signal.reason, reason);
  deadline.done();
});

test('done() releases it: neither the delay nor the parent aborts it afterwards', async (t) => {
  const parent = new AbortController();
  const deadline = releasedDeadline(1, parent.signal);
  deadline.done();
  await new Promise((resolve) => setTimeout(resolve, 20));
  parent.abort(new Error('later'));
  t.false(deadline.signal.aborted);
});
