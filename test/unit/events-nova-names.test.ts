// Evictions name the OpenStack instance as libvirt_domain_openstack_info and the log records do
// (instance_name, project_id), from the domain XML read when the agent learned of the domain.
import test from 'ava';
import { EventAgent, type ActionSink } from '../../events/agent.js';
import type { Eviction } from '../../events/eviction.js';
import { AgentMetrics } from '../../events/metrics.js';
import { NovaNameCache } from '../../events/nova-names.js';
import { lifecycleEvent } from '../../events/observed.js';
import { JsonLineSink } from '../../events/record.js';
import type { DomainRef, LibvirtClient } from '../../libvirt/types.js';
import { createLogger } from '../../runtime/log.js';
import { NOVA_INSTANCE, novaInstanceXml } from '../harness/inputs/nova.js';
import { Writable } from 'node:stream';

const nova: DomainRef = { name: 'instance-0000002a', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0', id: 3 };
const plain: DomainRef = { name: 'vm-plain', uuid: '0b1c2d3e-0000-4000-8000-000000000002', id: 4 };
const domainXml = (d: DomainRef, metadata = '') => `<domain type='qemu'><name>${d.name}</name><uuid>${d.uuid}</uuid><metadata>${metadata}</metadata></domain>`;

/** libvirtd's answers to DOMAIN_GET_XML_DESC, each after `delayMs`; a domain not listed is an error. */
function fakeClient(xml: Record<string, string>, delayMs = 0): LibvirtClient {
  return {
    domainGetXmlDesc: async (domain: DomainRef) => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const text = xml[domain.uuid];
      if (text === undefined) throw new Error(`Domain not found: no domain with matching uuid '${domain.uuid}'`);
      return text;
    },
  } as unknown as LibvirtClient;
}

function agentWith(names: NovaNameCache) {
  const evictions: Eviction[] = [];
  const actions: ActionSink = { dryRun: false, evict: (e) => evictions.push(e), patchHypervisorStatus: () => undefined };
  const records = new JsonLineSink(new Writable({ write: (_c, _e, done) => done() }), 1 << 20, () => undefined);
  const agent = new EventAgent(
    { hypervisor: 'node-1', namespace: 'ha', policy: { ioErrorPolicy: 'record', ioErrorPersistMs: 60_000, rebootWindowMs: 1000, ioErrorWindowMs: 1000 } },
    { actions, records, metrics: new AgentMetrics(), log: createLogger({ level: 'error' }), novaNames: names },
  );
  return { agent, evictions };
}

const crash = (d: DomainRef) => lifecycleEvent(d, 'stopped', 'failed');
/** Until the reads of `domains` are done (and what waited on them has run). */
async function settled(names: NovaNameCache, ...domains: DomainRef[]): Promise<void> {
  for (const d of domains) await names.pending(d.uuid);
  await new Promise((r) => setImmediate(r));
}

test('an Eviction of a Nova instance carries instance_name and project_id; one of a plain domain neither', async (t) => {
  const names = new NovaNameCache(1000, createLogger({ level: 'error' }));
  names.learn(fakeClient({ [nova.uuid]: domainXml(nova, novaInstanceXml()), [plain.uuid]: domainXml(plain) }), [nova, plain]);
  await settled(names, nova, plain);
  const { agent, evictions } = agentWith(names);
  agent.onEvent(crash(nova));
  agent.onEvent(crash(plain));
  t.deepEqual(evictions.map((e) => e.spec), [
    { hypervisor: 'node-1', reason: evictions[0]!.spec.reason, domain: nova.name, uuid: nova.uuid, instance_name: NOVA_INSTANCE.name, project_id: NOVA_INSTANCE.projectId },
    { hypervisor: 'node-1', reason: evictions[1]!.spec.reason, domain: plain.name, uuid: plain.uuid },
  ]);
});

test('a crash while the domain\'s XML is still being read: the Eviction waits for the names', async (t) => {
  const names = new NovaNameCache(1000, createLogger({ level: 'error' }));
  names.learn(fakeClient({ [nova.uuid]: domainXml(nova, novaInstanceXml()) }, 50), [nova]);
  const { agent, evictions } = agentWith(names);
  agent.onEvent(crash(nova));
  t.is(evictions.length, 0);
  await settled(names, nova);
  t.is(evictions.length, 1);
  t.like(evictions[0]!.spec, { uuid: nova.uuid, instance_name: NOVA_INSTANCE.name, project_id: NOVA_INSTANCE.projectId });
});

test('an XML that cannot be read is logged; the Eviction goes without the names', async (t) => {
  const logged: string[] = [];
  const names = new NovaNameCache(1000, createLogger({ level: 'warn', write: (line) => logged.push(line) }));
  names.learn(fakeClient({}), [nova]);
  await settled(names, nova);
  const { agent, evictions } = agentWith(names);
  agent.onEvent(crash(nova));
  t.deepEqual(Object.keys(evictions[0]!.spec).sort(), ['domain', 'hypervisor', 'reason', 'uuid']);
  t.is(logged.length, 1);
  t.regex(logged[0]!, /cannot read the domain XML for its Nova metadata.*uuid=4dea22b3-1d52-d8f3-2516-782e98ab3fa0.*Domain not found/);
});

test('a forgotten (undefined) domain has no names; the cache keeps at most its bound of domains, the newest', async (t) => {
  const names = new NovaNameCache(1000, createLogger({ level: 'error' }), 2);
  const client = fakeClient(new Proxy({}, { get: (_, uuid) => domainXml(nova, novaInstanceXml()).replace(nova.uuid, String(uuid)) }));
  names.learn(client, [nova]);
  await settled(names, nova);
  t.like(names.get(nova.uuid), { instance_name: NOVA_INSTANCE.name });
  names.forget(nova.uuid);
  t.is(names.get(nova.uuid), undefined);
  const three = [1, 2, 3].map((i) => ({ name: `vm${i}`, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, id: i }));
  names.learn(client, three);
  await settled(names, ...three);
  t.deepEqual(three.map((d) => names.get(d.uuid)?.instance_name), [undefined, NOVA_INSTANCE.name, NOVA_INSTANCE.name]);
});
