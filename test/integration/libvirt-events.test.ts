// Domain events from the real daemon: what define/start/suspend/resume/destroy/kill -9/undefine emit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { LibvirtError } from '../../libvirt/errors.js';
import { DOMAIN_EVENT_KIND_NAMES } from '../../libvirt/protocol.js';
import type { DomainEvent, LibvirtClient, LifecycleEvent } from '../../libvirt/types.js';
import { type TinyDomain, defineTinyDomain, qemuPid, removeDomain, testDomainName, waitForDomainState } from '../harness/env/domains.js';
import { client } from '../harness/env/libvirt-client.js';
import { URIS as uris, paths } from '../env/layout.js';
import { virsh } from '../harness/env/testenv.js';


/** Collects one domain's lifecycle events as `event/detail`; waitFor resolves once `expected` arrived in order. */
function recorder(c: LibvirtClient, name: string) {
  const seen: LifecycleEvent[] = [];
  const waiters: (() => void)[] = [];
  c.on('event', (e: DomainEvent) => {
    if (e.kind !== 'lifecycle' || e.domain.name !== name) return;
    seen.push(e);
    for (const w of waiters.splice(0)) w();
  });
  let taken = 0;
  return {
    /** Waits for these events (any others in between are kept) and returns everything since the last call. */
    async next(expected: string[], timeoutMs = 30_000): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = seen.slice(taken).map((e) => `${e.eventName}/${e.detailName}`);
        if (expected.every((x) => got.includes(x))) {
          taken = seen.length;
          return got;
        }
        if (Date.now() > deadline) throw new Error(`waited for ${expected.join(', ')}; got ${got.join(', ') || 'nothing'}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200).unref();
        });
      }
    },
    seen,
  };
}

test('define, start, suspend, resume, destroy, kill -9 and undefine arrive as libvirt documents them', async (t) => {
  const c = await client(t, uris.qemuTcp, { readOnly: true });
  const callbackIds = await Promise.all(DOMAIN_EVENT_KIND_NAMES.map((kind) => c.registerDomainEvent(kind)));
  t.is(new Set(callbackIds).size, DOMAIN_EVENT_KIND_NAMES.length, 'one registration per kind');
  const name = testDomainName('events');
  const events = recorder(c, name);

  let domain: TinyDomain | undefined;
  t.teardown(async () => {
    // This test undefines the domain itself; remove what is left (removeDomain expects the domain to exist).
    if (domain && (await virsh(['list', '--all', '--name'])).split('\n').includes(name)) await removeDomain(domain);
    else rmSync(path.join(paths.domains, name), { recursive: true, force: true });
  });
  domain = await defineTinyDomain(name, { enospcDisk: false });
  t.deepEqual(await events.next(['defined/added']), ['defined/added']);
  const uuid = (await virsh(['domuuid', name])).trim();
  t.like(events.seen[0], { domain: { name, uuid, id: -1 }, event: 0, detail: 0 });
  t.true(callbackIds.includes(events.seen[0]!.callbackId));

  await virsh(['start', name]);
  // QEMU starts paused and is resumed: libvirt emits resumed/unpaused and started/booted (reference: in either order).
  t.deepEqual((await events.next(['started/booted', 'resumed/unpaused'])).sort(), ['resumed/unpaused', 'started/booted']);
  const id = Number((await virsh(['domid', name])).trim());
  t.is(events.seen.at(-1)!.domain.id, id);

  await virsh(['suspend', name]);
  t.deepEqual(await events.next(['suspended/paused']), ['suspended/paused']);
  await virsh(['resume', name]);
  t.deepEqual(await events.next(['resumed/unpaused']), ['resumed/unpaused']);

  await virsh(['destroy', name]);
  t.deepEqual(await events.next(['shutdown/host', 'stopped/destroyed']), ['shutdown/host', 'stopped/destroyed']);

  await virsh(['start', name]);
  await events.next(['started/booted']);
  const qemu = qemuPid(name);
  process.kill(qemu.pid, 'SIGKILL');
  t.deepEqual(await events.next(['stopped/failed']), ['stopped/failed']);
  t.deepEqual(await waitForDomainState(name, 'shut off'), { state: 'shut off', reason: 'crashed' });

  await virsh(['undefine', name]);
  t.deepEqual(await events.next(['undefined/removed']), ['undefined/removed']);
  t.true(events.seen.every((e) => e.domain.uuid === uuid && e.domain.name === name));
});

test('events flow as an async iterable; a domain filter and deregistration select what arrives', async (t) => {
  const c = await client(t, uris.testTcp);
  const dir = mkdtempSync(path.join(tmpdir(), 'libvirt-events-'));
  const names = [testDomainName('iter'), testDomainName('iter-other')] as const;
  t.teardown(async () => {
    for (const name of names) await virsh(['undefine', name], { uri: uris.testTcp }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const name of names) {
    const xml = path.join(dir, `${name}.xml`);
    writeFileSync(xml, `<domain type='test'><name>${name}</name><memory>8192</memory><os><type>hvm</type></os></domain>`);
    await virsh(['define', xml], { uri: uris.testTcp });
  }
  const refs = await c.listAllDomains();
  const target = refs.find((d) => d.name === names[0])!;
  const iterator = c.events();
  const all = await c.registerDomainEvent('lifecycle');
  const onlyTarget = await c.registerDomainEvent('lifecycle', { domain: target });
  // libvirt 9.0 refuses a second registration of the same event and filter on one connection.
  await t.throwsAsync(c.registerDomainEvent('lifecycle'), { instanceOf: LibvirtError, message: /already tracked/ });

  await virsh(['start', names[1]], { uri: uris.testTcp });
  await virsh(['start', names[0]], { uri: uris.testTcp });
  const started: DomainEvent[] = [];
  for (let i = 0; i < 3; i++) started.push((await iterator.next()).value as DomainEvent);
  t.deepEqual(started.map((e) => `${e.domain.name} ${e.callbackId}`).sort(), [
    `${names[0]} ${all}`, `${names[0]} ${onlyTarget}`, `${names[1]} ${all}`,
  ].sort(), 'the filtered registration sees only its domain');
  t.true(started.every((e) => e.kind === 'lifecycle' && e.eventName === 'started' && e.detailName === 'booted'));

  await c.deregisterDomainEvent(all);
  const afterDeregistration: DomainEvent[] = [];
  c.on('event', (e) => afterDeregistration.push(e));
  await virsh(['destroy', names[0]], { uri: uris.testTcp });
  t.like((await iterator.next()).value, { callbackId: onlyTarget, eventName: 'stopped', detailName: 'destroyed', domain: { name: names[0] } });
  await c.getLibVersion();
  t.deepEqual(afterDeregistration.map((e) => e.callbackId), [onlyTarget], 'nothing for the deregistered callback');
  await iterator.return!();
  t.deepEqual(await iterator.next(), { value: undefined, done: true });
  await t.throwsAsync(c.deregisterDomainEvent(all), { instanceOf: LibvirtError, message: /not registered/ });
  await virsh(['destroy', names[1]], { uri: uris.testTcp });
});
