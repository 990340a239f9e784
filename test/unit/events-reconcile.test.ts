// Reconciliation: the state difference across a disconnect becomes the events libvirtd would have sent,
// and together with policy a crash during the gap gives exactly one Eviction, whichever path sees it first.
import test from 'ava';
import { DomainState } from '../../libvirt/protocol.js';
import type { DomainRef } from '../../libvirt/types.js';
import { DomainTracker, type DomainSnapshot } from '../../events/domains.js';
import { lifecycleEvent, type ObservedEvent } from '../../events/observed.js';
import { EventPolicy } from '../../events/policy.js';
import { reconcile } from '../../events/reconcile.js';

const ref = (name: string, id: number): DomainRef => ({ name, uuid: `00000000-0000-0000-0000-${name.padStart(12, '0')}`, id });
const snap = (domain: DomainRef, state: number, reason: number): DomainSnapshot => ({ domain, state, reason });
const { RUNNING, PAUSED, SHUTOFF, CRASHED } = DomainState;

function names(events: ObservedEvent[]): string[] {
  return events.map((e) => (e.event.kind === 'lifecycle' ? `${e.event.domain.name} ${e.event.eventName}/${e.event.detailName}` : e.event.kind));
}

test('running → shut off: the stop detail follows the shut-off reason (daemon and unknown count as failed)', (t) => {
  const reasons: [number, string][] = [[1, 'shutdown'], [2, 'destroyed'], [3, 'crashed'], [4, 'migrated'], [5, 'saved'], [6, 'failed'], [7, 'from_snapshot'], [8, 'failed'], [0, 'failed']];
  for (const [reason, detail] of reasons) {
    const vm = ref('vm', 4);
    const out = reconcile([snap(vm, RUNNING, 1)], [snap({ ...vm, id: -1 }, SHUTOFF, reason)], 123);
    t.deepEqual(names(out), [`vm stopped/${detail}`], `reason ${reason}`);
    t.is(out[0]!.origin, 'reconcile');
    t.is(out[0]!.at, 123);
  }
});

test('other transitions during the gap', (t) => {
  const a = ref('a', 1);
  const b = ref('b', 2);
  const c = ref('c', 3);
  const d = ref('d', 4);
  const e = ref('e', -1);
  const f = ref('f', 6);
  const out = reconcile(
    [snap(a, RUNNING, 1), snap(b, PAUSED, 1), snap(c, RUNNING, 1), snap(d, RUNNING, 1), snap(e, SHUTOFF, 1), snap(f, RUNNING, 1)],
    [snap(a, PAUSED, 5), snap(b, RUNNING, 5), snap({ ...c, id: 9 }, RUNNING, 1), snap(ref('new', 10), RUNNING, 1), snap(ref('off', -1), SHUTOFF, 0), snap(f, CRASHED, 1)],
    0,
  );
  t.deepEqual(names(out), [
    'a suspended/ioerror',
    'b resumed/unpaused',
    'c stopped/unknown',
    'c started/booted',
    'new started/booted',
    'off defined/added',
    'f crashed/panicked',
    'd stopped/failed',
    'e undefined/removed',
  ]);
  t.regex(out.find((o) => o.event.domain.name === 'c')!.note!, /new domain id \(3 → 9\)/);
  t.regex(out.find((o) => o.event.domain.name === 'd')!.note!, /was running \(booted\), gone after reconnect/);
});

test('nothing changed → nothing synthesized', (t) => {
  const list = [snap(ref('a', 1), RUNNING, 1), snap(ref('b', -1), SHUTOFF, 2)];
  t.deepEqual(reconcile(list, list, 0), []);
});

function agent() {
  const tracker = new DomainTracker();
  const policy = new EventPolicy({ ioErrorPolicy: 'evict-on-persist', ioErrorPersistMs: 60_000, rebootWindowMs: 1000, ioErrorWindowMs: 1000 }, tracker, () => {});
  const evictions: string[] = [];
  const handle = (e: ObservedEvent) => {
    const d = policy.decide(e);
    if (d.action === 'evict') evictions.push(`${d.cause.domain.name} ${d.cause.detail} ${d.cause.origin}`);
  };
  /** A reconnect: the daemon's listing replaces the picture after the synthesized events are handled. */
  const reconnect = (listing: DomainSnapshot[], at: number) => {
    for (const e of reconcile(tracker.snapshot(), listing, at)) handle(e);
    tracker.replace(listing, at);
  };
  return { tracker, policy, handle, reconnect, evictions };
}

test('a crash while disconnected becomes exactly one Eviction, whether the live event comes before or after the reconcile', (t) => {
  const vm = ref('vm', 5);
  const live = (at: number): ObservedEvent => ({ event: { ...lifecycleEvent({ ...vm, id: -1 }, 'stopped', 'crashed'), callbackId: 1 }, origin: 'live', at });
  const after = [snap({ ...vm, id: -1 }, SHUTOFF, 3)];

  const reconcileFirst = agent();
  reconcileFirst.tracker.replace([snap(vm, RUNNING, 1)], 0);
  reconcileFirst.reconnect(after, 10);
  reconcileFirst.handle(live(11));
  t.deepEqual(reconcileFirst.evictions, ['vm stopped/crashed reconcile']);

  const liveFirst = agent();
  liveFirst.tracker.replace([snap(vm, RUNNING, 1)], 0);
  liveFirst.handle(live(9));
  liveFirst.reconnect(after, 10);
  t.deepEqual(liveFirst.evictions, ['vm stopped/crashed live']);

  const twice = agent();
  twice.tracker.replace([snap(vm, RUNNING, 1)], 0);
  twice.reconnect(after, 10);
  twice.reconnect(after, 20);
  t.deepEqual(twice.evictions, ['vm stopped/crashed reconcile'], 'a second reconnect does not repeat it');
});

test('a domain still in the same run keeps its evicted causes across a reconnect; a new run does not', (t) => {
  const vm = ref('vm', 5);
  const a = agent();
  a.tracker.replace([snap(vm, RUNNING, 1)], 0);
  a.handle({ event: { kind: 'watchdog', callbackId: 3, domain: vm, action: 2, actionName: 'reset' }, origin: 'live', at: 1 });
  a.reconnect([snap(vm, RUNNING, 1)], 5);
  a.handle({ event: { kind: 'watchdog', callbackId: 3, domain: vm, action: 2, actionName: 'reset' }, origin: 'live', at: 6 });
  t.deepEqual(a.evictions, ['vm reset live']);
  a.reconnect([snap({ ...vm, id: 8 }, RUNNING, 1)], 10);
  a.handle({ event: { kind: 'watchdog', callbackId: 3, domain: { ...vm, id: 8 }, action: 2, actionName: 'reset' }, origin: 'live', at: 11 });
  t.deepEqual(a.evictions, ['vm reset live', 'vm reset live']);
});

test('shut-off domains are forgotten 10 minutes after they stopped, those from the listing too, running ones never', (t) => {
  const minutes = (n: number) => n * 60_000;
  const tracker = new DomainTracker();
  const listed = ref('listed', -1);
  const running = ref('running', 4);
  tracker.replace([snap(listed, SHUTOFF, 1), snap(running, RUNNING, 1)], 0);
  const stopped = Array.from({ length: 3 }, (_, i) => ref(`stopped${i}`, 10 + i));
  for (const [i, vm] of stopped.entries()) tracker.apply(lifecycleEvent(vm, 'stopped', 'failed'), minutes(5) + i);
  t.truthy(tracker.get(listed.uuid), 'not yet 10 minutes');
  const late = ref('late', 20);
  tracker.apply(lifecycleEvent(late, 'stopped', 'failed'), minutes(11));
  t.falsy(tracker.get(listed.uuid), 'listed shut off at 0, gone at the first stop after 10 minutes');
  t.deepEqual(stopped.map((vm) => Boolean(tracker.get(vm.uuid))), [true, true, true]);
  tracker.apply(lifecycleEvent(late, 'started', 'booted'), minutes(15));
  tracker.apply(lifecycleEvent(ref('other', 30), 'stopped', 'failed'), minutes(15) + 1);
  t.deepEqual(stopped.map((vm) => Boolean(tracker.get(vm.uuid))), [false, true, true], 'stopped at 5 min is past 10 minutes; 1 ms later is exactly 10 minutes ago, kept');
  t.truthy(tracker.get(late.uuid), 'running again');
  t.truthy(tracker.get(running.uuid));
});
