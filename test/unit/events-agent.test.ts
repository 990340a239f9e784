// The agent's glue: one record per event (schema fields, action, notes), the actions taken, reconnect
// reconciliation counted, --dry-run printing objects, and stdout that cannot grow without bound.
import { PassThrough, Writable } from 'node:stream';
import test from 'ava';
import { DryRunActions } from '../../events/actions.js';
import { EventAgent, type ActionSink } from '../../events/agent.js';
import type { Eviction } from '../../events/eviction.js';
import { createLogger } from '../../runtime/log.js';
import { AgentMetrics } from '../../events/metrics.js';
import type { EventRecord } from '../../events/record.js';
import { JsonLineSink } from '../../events/record.js';
import { DomainState } from '../../libvirt/protocol.js';
import { metricValue } from '../harness/roles/events-agent.js';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { measuredSession } from '../harness/readers/virsh-events.js';

class CollectingActions implements ActionSink {
  readonly dryRun = false;
  readonly evictions: Eviction[] = [];
  readonly patches: { hypervisor: string; patch: any }[] = [];
  evict(eviction: Eviction): void {
    this.evictions.push(eviction);
  }
  patchHypervisorStatus(hypervisor: string, patch: object): void {
    this.patches.push({ hypervisor, patch });
  }
}

function setup(makeActions: (records: JsonLineSink) => ActionSink = () => new CollectingActions()) {
  const out: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const value = JSON.parse(line) as Record<string, any>;
        // Records are checked against the schema; --dry-run's Evictions and patches share the stream.
        out.push(value['source'] === undefined ? value : checkedRecords([value])[0]!);
      }
      done();
    },
  });
  const metrics = new AgentMetrics();
  const records = new JsonLineSink(stream, 1 << 20, () => metrics.recordsDropped.inc());
  const actions = makeActions(records);
  let now = Date.UTC(2026, 10, 29, 14, 0, 0);
  const agent = new EventAgent(
    { hypervisor: 'node-1', namespace: 'ha', policy: { ioErrorPolicy: 'evict-on-pause', ioErrorPersistMs: 60_000, rebootWindowMs: 1000, ioErrorWindowMs: 1000 } },
    { actions, records, metrics, log: createLogger({ level: 'error' }), now: () => now },
  );
  return { agent, out, metrics, actions, setNow: (ms: number) => (now = ms) };
}

test('every event of the measured session becomes one record; actions match the records', async (t) => {
  const { agent, out, actions, setNow } = setup();
  const session = measuredSession();
  for (const e of session) {
    setNow(e.at);
    agent.onEvent(e.event);
  }
  await new Promise((r) => setImmediate(r));
  const records = out as EventRecord[];
  t.is(records.length, session.length);
  t.true(records.every((r) => r.source === 'libvirt-event' && r.kind === 'domain_event' && r.hypervisor === 'node-1' && typeof r.time === 'string'));
  const collected = actions as CollectingActions;
  t.deepEqual(records.filter((r) => r.action === 'eviction').map((r) => r.eviction), collected.evictions.map((e) => e.metadata.name));
  t.is(records.filter((r) => r.action === 'hypervisor-status').length, collected.patches.length);
  t.is(collected.patches.length, 4, 'one per reboot burst');
  t.is(collected.evictions.length, 5, 'kill -9, watchdog, ENOSPC pause, panic, kill -9');
  const io = records.find((r) => r.event === 'io-error-reason')!;
  t.like(io, { device: 'virtio-disk1', path: '/var/lib/libvirt/images/enospc/vdb.raw', reason: 'enospc', detail: 'pause/enospc', level: 'warning' });
  t.is(io.message, 'io-error-reason pause/enospc on virtio-disk1 (/var/lib/libvirt/images/enospc/vdb.raw)');
  t.regex(records.find((r) => r.action === 'deduplicated' && r.event === 'reboot')!.note!, /^part of: reboot burst$/);
  t.like(collected.evictions[0], {
    apiVersion: 'hypervisor.c5c3.io/v1',
    kind: 'Eviction',
    metadata: { namespace: 'ha', labels: { 'app.kubernetes.io/managed-by': 'libvirt-telemetry-events', 'hypervisor.c5c3.io/hypervisor': 'node-1', 'hypervisor.c5c3.io/event': 'lifecycle-stopped-failed' } },
    spec: { hypervisor: 'node-1' },
  });
});

test('reconnect: the state difference is replayed, counted as corrections, and acted on once', (t) => {
  const { agent, out, metrics, actions } = setup();
  const vm = { name: 'vm', uuid: '11111111-2222-3333-4444-555555555555', id: 4 };
  agent.onConnected([{ domain: vm, state: DomainState.RUNNING, reason: 1 }], true);
  t.is(out.length, 0, 'the first listing is only the starting picture');
  agent.onDisconnected({ reason: 'eof' });
  agent.onConnected([{ domain: { ...vm, id: -1 }, state: DomainState.SHUTOFF, reason: 3 }], false);
  agent.onEvent({ kind: 'lifecycle', callbackId: 1, domain: { ...vm, id: -1 }, event: 5, eventName: 'stopped', detail: 2, detailName: 'crashed' });
  t.deepEqual(out.map((r) => [r.detail, r.origin, r.action]), [['stopped/crashed', 'reconcile', 'eviction'], ['stopped/crashed', 'live', 'deduplicated']]);
  t.regex(out[0]!.note, /was running \(booted\), shutoff \(crashed\) after reconnect/);
  t.is((actions as CollectingActions).evictions.length, 1);
  t.regex((actions as CollectingActions).evictions[0]!.spec.reason, /^domain vm \(uuid 11111111-2222-3333-4444-555555555555\): lifecycle stopped\/crashed — the guest crashed and was stopped \(found after reconnecting to libvirtd\)$/);
  return metrics.registry.metrics().then((text) => {
    t.is(metricValue(text, 'libvirt_events_reconnects_total'), 1);
    t.is(metricValue(text, 'libvirt_events_reconcile_corrections_total', { type: 'lifecycle', detail: 'stopped/crashed' }), 1);
    t.is(metricValue(text, 'libvirt_events_total', { type: 'lifecycle', detail: 'stopped/crashed' }), 2);
    t.is(metricValue(text, 'libvirt_events_deduplicated_total', { type: 'lifecycle' }), 1);
    t.is(metricValue(text, 'libvirt_events_connected'), 1);
  });
});

test('--dry-run: the Eviction object and the status patch are printed; the record says eviction-dry-run', (t) => {
  const { agent, out } = setup((records) => new DryRunActions(records));
  const vm = { name: 'vm', uuid: '11111111-2222-3333-4444-555555555555', id: 4 };
  agent.onEvent({ kind: 'watchdog', callbackId: 3, domain: vm, action: 2, actionName: 'reset' });
  agent.onEvent({ kind: 'reboot', callbackId: 2, domain: vm });
  t.deepEqual(out.map((o) => o.kind), ['Eviction', 'domain_event', 'Hypervisor', 'domain_event']);
  t.is(out[1]!.action, 'eviction-dry-run');
  t.is(out[1]!.eviction, out[0]!.metadata.name);
  t.deepEqual(out[2], { apiVersion: 'hypervisor.c5c3.io/v1', kind: 'Hypervisor', metadata: { name: 'node-1' }, status: { lastDomainReboot: { domain: 'vm', uuid: vm.uuid, time: '2026-11-29T14:00:00.000Z' } } });
});

test('stdout that nobody reads: lines beyond the buffer limit are dropped and counted, memory stays bounded', (t) => {
  const stuck = new PassThrough({ highWaterMark: 16 });
  let dropped = 0;
  const sink = new JsonLineSink(stuck, 64 * 1024, () => dropped++);
  let written = 0;
  for (let i = 0; i < 10_000; i++) if (sink.write({ i, pad: 'x'.repeat(100) })) written++;
  t.true(stuck.writableLength <= 64 * 1024 + 200);
  t.is(written + dropped, 10_000);
  t.true(dropped > 9000);
});
