// Policy and dedupe against the event sequences measured on a real libvirtd (events-qemu.txt), plus the
// I/O error policies with a controllable clock.
import test from 'ava';
import type { DomainEvent } from '../../libvirt/types.js';
import { BurstFilter } from '../../events/dedupe.js';
import { DomainTracker } from '../../events/domains.js';
import { buildEviction } from '../../events/eviction.js';
import { lifecycleEvent, type ObservedEvent } from '../../events/observed.js';
import { EventPolicy, type Decision, type IoErrorPolicy, type PolicyConfig, type Timers } from '../../events/policy.js';
import { measuredSession, uuidOf } from '../harness/readers/virsh-events.js';

/** Timers that fire only when the test advances the clock. */
class ManualTimers implements Timers {
  private pending: { at: number; fn: () => void }[] = [];
  now = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.now + ms, fn };
    this.pending.push(timer);
    return timer;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t !== handle);
  }
  advance(to: number): void {
    this.now = to;
    const due = this.pending.filter((t) => t.at <= to);
    this.pending = this.pending.filter((t) => t.at > to);
    for (const t of due) t.fn();
  }
}

function setup(ioErrorPolicy: IoErrorPolicy = 'evict-on-persist', overrides: Partial<PolicyConfig> = {}) {
  const timers = new ManualTimers();
  const deferred: { observed: ObservedEvent; decision: Decision }[] = [];
  const tracker = new DomainTracker();
  const policy = new EventPolicy(
    { ioErrorPolicy, ioErrorPersistMs: 60_000, rebootWindowMs: 1000, ioErrorWindowMs: 1000, ...overrides },
    tracker,
    (observed, decision) => deferred.push({ observed, decision }),
    timers,
  );
  return { policy, tracker, timers, deferred };
}

function summary(events: ObservedEvent[], decide: (e: ObservedEvent) => Decision): string[] {
  return events.flatMap((e) => {
    const d = decide(e);
    if (d.action === 'none') return [];
    const what = e.event.kind === 'lifecycle' ? `${e.event.eventName}/${e.event.detailName}` : e.event.kind;
    return [`${e.event.domain.name} ${what} → ${d.action}${d.action === 'evict' ? ` (${d.cause.explanation})` : ''}`];
  });
}

const vm = { name: 'vm', uuid: uuidOf('vm'), id: 7 };
const at = (s: number) => Date.UTC(2026, 10, 29, 15) + s * 1000;
const live = (event: DomainEvent, seconds: number): ObservedEvent => ({ event, origin: 'live', at: at(seconds) });
const lc = (e: string, d: string, seconds: number) => live({ ...lifecycleEvent(vm, e, d), callbackId: 1 }, seconds);
const ioError = (seconds: number, actionName = 'pause'): ObservedEvent =>
  live({ kind: 'io-error', callbackId: 4, domain: vm, srcPath: '/img/vdb.raw', devAlias: 'virtio-disk1', action: actionName === 'pause' ? 1 : 2, actionName }, seconds);

test('the measured session (evict-on-persist): unexpected stops, panic and watchdog evict once; reboots patch once per burst', (t) => {
  const { policy } = setup('evict-on-persist');
  t.deepEqual(summary(measuredSession(), (e) => policy.decide(e)), [
    'tiny reboot → reboot-status',
    'tiny reboot → deduplicated',
    'tiny stopped/failed → evict (the QEMU process ended unexpectedly)',
    'tinylinux reboot → reboot-status',
    'tinylinux reboot → deduplicated',
    'tinylinux reboot → reboot-status',
    'tinylinux reboot → deduplicated',
    'tinylinux watchdog → evict (the guest watchdog fired (action reset))',
    'tinylinux reboot → reboot-status',
    'tinylinux reboot → deduplicated',
    'tinylinux io-error → watch-io-error',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux suspended/ioerror → deduplicated',
    'tinylinux io-error → deduplicated',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux io-error → deduplicated',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux suspended/ioerror → deduplicated',
    'tinylinux io-error → deduplicated',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux io-error → deduplicated',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux io-error → deduplicated',
    'tinylinux io-error-reason → deduplicated',
    'tinylinux crashed/panicked → evict (the guest kernel panicked)',
    'tinylinux stopped/crashed → deduplicated',
    'tinylinux stopped/failed → evict (the QEMU process ended unexpectedly)',
  ]);
  t.is(policy.openEpisodes, 0, 'the destroy closed the I/O error episode before its window ended');
});

test('the measured session: destroy, ACPI shutdown, suspend/resume and start never evict; evict-on-pause evicts the ENOSPC pause once', (t) => {
  const { policy } = setup('evict-on-pause');
  const evictions = measuredSession()
    .map((e) => ({ e, d: policy.decide(e) }))
    .filter(({ d }) => d.action === 'evict');
  t.deepEqual(
    evictions.map(({ e, d }) => `${e.event.domain.name} ${d.action === 'evict' ? `${d.cause.event} ${d.cause.detail}` : ''}`),
    ['tiny lifecycle stopped/failed', 'tinylinux watchdog reset', 'tinylinux io-error pause', 'tinylinux lifecycle crashed/panicked', 'tinylinux lifecycle stopped/failed'],
  );
  const names = evictions.map(({ d }) => (d.action === 'evict' ? buildEviction('node-1', 'default', d.cause).metadata.name : ''));
  t.is(new Set(names).size, names.length, 'every incident gets its own Eviction name');
});

test('record policy: I/O errors are recorded only, bursts marked deduplicated', (t) => {
  const { policy } = setup('record');
  const actions = [ioError(0), lc('suspended', 'ioerror', 0), ioError(0), ioError(5)].map((e) => policy.decide(e).action);
  t.deepEqual(actions, ['none', 'deduplicated', 'deduplicated', 'none']);
});

test('evict-on-persist: still paused by the I/O error when the window ends → one Eviction', (t) => {
  const { policy, timers, deferred } = setup('evict-on-persist');
  t.like(policy.decide(ioError(0)), { action: 'watch-io-error', deadline: at(60) });
  policy.decide(lc('suspended', 'ioerror', 0));
  policy.decide(lc('resumed', 'unpaused', 0.3)); // virsh resume while the disk is still full …
  policy.decide(ioError(0.31)); // … pauses it again at once
  policy.decide(lc('suspended', 'ioerror', 0.31));
  timers.advance(59_000);
  t.is(deferred.length, 0);
  timers.advance(60_000);
  t.is(deferred.length, 1);
  const [{ observed, decision }] = deferred as [{ observed: ObservedEvent; decision: Decision }];
  t.is(observed.origin, 'policy');
  t.is(observed.at, at(60));
  t.is(decision.action, 'evict');
  t.regex(decision.action === 'evict' ? decision.cause.explanation : '', /virtio-disk1 .*persisted: the domain is still paused by it after 60s/);
});

test('evict-on-persist: resumed and no new error → no Eviction; stopped before the deadline → episode closed', (t) => {
  const { policy, timers, deferred } = setup('evict-on-persist');
  policy.decide(ioError(0));
  policy.decide(lc('suspended', 'ioerror', 0));
  policy.decide(lc('resumed', 'unpaused', 10));
  timers.advance(61_000);
  t.is(deferred.length, 0);
  t.is(policy.openEpisodes, 0);
  policy.decide(ioError(100));
  t.is(policy.openEpisodes, 1);
  policy.decide(lc('stopped', 'destroyed', 101));
  t.is(policy.openEpisodes, 0);
  timers.advance(200_000);
  t.is(deferred.length, 0);
});

test('evict-on-persist: errors that do not pause (report) but keep coming past the burst window → Eviction', (t) => {
  const { policy, timers, deferred } = setup('evict-on-persist', { ioErrorPersistMs: 30_000 });
  policy.decide(ioError(0, 'report'));
  policy.decide(ioError(12, 'report'));
  timers.advance(30_000);
  t.is(deferred.length, 1);
  t.regex(deferred[0]!.decision.action === 'evict' ? deferred[0]!.decision.cause.explanation : '', /errors kept coming for 30s/);
  const quiet = setup('evict-on-persist', { ioErrorPersistMs: 30_000 });
  quiet.policy.decide(ioError(0, 'report'));
  quiet.policy.decide(ioError(0.2, 'report'));
  quiet.timers.advance(30_000);
  t.is(quiet.deferred.length, 0, 'one burst that stopped is not persistence');
});

test('one Eviction per cause and run: a new run (started) may evict again', (t) => {
  const { policy } = setup();
  const actions = [
    lc('crashed', 'panicked', 0),
    lc('stopped', 'crashed', 1.6),
    lc('started', 'booted', 5),
    lc('stopped', 'failed', 9),
  ].map((e) => policy.decide(e).action);
  t.deepEqual(actions, ['evict', 'deduplicated', 'none', 'evict']);
  const watchdog = setup();
  const w = (s: number) => live({ kind: 'watchdog', callbackId: 3, domain: vm, action: 1, actionName: 'pause' }, s);
  t.deepEqual([w(0), lc('suspended', 'watchdog', 0), w(30), lc('stopped', 'failed', 40)].map((e) => watchdog.policy.decide(e).action), ['evict', 'deduplicated', 'deduplicated', 'evict']);
});

test('intended stops never evict', (t) => {
  for (const detail of ['shutdown', 'destroyed', 'migrated', 'saved', 'from_snapshot']) {
    const { policy } = setup();
    policy.decide(lc('started', 'booted', 0));
    t.is(policy.decide(lc('stopped', detail, 1)).action, 'none', detail);
  }
});

test('BurstFilter: fixed windows from the first event; keys independent; memory bounded', (t) => {
  const f = new BurstFilter(100);
  t.deepEqual([0, 40, 99, 100, 150, 199, 200].map((ms) => f.observe('a', ms)), [0, 1, 2, 0, 1, 2, 0]);
  t.is(f.observe('b', 50), 0);
  const bounded = new BurstFilter(1000, 3);
  for (let i = 0; i < 10; i++) bounded.observe(`k${i}`, i);
  t.is(bounded.size, 3);
  t.is(bounded.observe('k9', 10), 1, 'the newest bursts are kept');
});
