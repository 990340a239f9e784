// The agent's series of stored Evictions: named by the VM's domain and uuid as the exporter's series are,
// and bounded (a day of them, at most 1000) however long the agent runs.
import test from 'ava';
import { AgentMetrics } from '../../events/metrics.js';
import { metricValue } from '../harness/roles/events-agent.js';

const NAME = 'libvirt_events_eviction_timestamp_seconds';
const vm = (i: number) => ({ name: `vm${i}`, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, id: i });

test('a stored Eviction is one series with its name, domain and uuid; the value is the event time', async (t) => {
  const metrics = new AgentMetrics();
  const at = Date.now() - 5000;
  metrics.evictionStored('node-1-vm1-0123456789', vm(1), at);
  metrics.evictionStored('node-1-vm1-0123456789', vm(1), at); // stored again (409: an earlier attempt created it)
  const text = await metrics.registry.metrics();
  t.is(text.split('\n').filter((l) => l.startsWith(`${NAME}{`)).length, 1);
  t.is(metricValue(text, NAME, { eviction: 'node-1-vm1-0123456789', domain: 'vm1', uuid: vm(1).uuid }), at / 1000);
});

test('Evictions older than a day, and beyond the newest 1000, leave the series', async (t) => {
  const metrics = new AgentMetrics();
  const now = Date.now();
  metrics.evictionStored('old', vm(0), now - 25 * 3600_000);
  for (let i = 1; i <= 1001; i++) metrics.evictionStored(`e${i}`, vm(i), now - 1000);
  const series = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith(`${NAME}{`));
  t.is(series.length, 1000);
  t.false(series.some((l) => l.includes('eviction="old"') || l.includes('eviction="e1"')));
  t.true(series.some((l) => l.includes('eviction="e1001"')));
});
