// docs/events.md documents exactly the metrics the agent registers and every I/O error policy (its flags are in the
// generated CLI reference).
import { readFileSync } from 'node:fs';
import test from 'ava';
import type { OptionSpec } from '../../runtime/options.js';
import { eventsCommand } from '../../events/command.js';
import { AgentMetrics } from '../../events/metrics.js';

const page = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
const section = (title: string) => page.split(/^## /m).find((s) => s.startsWith(title)) ?? '';

/** Table rows whose first cell is code, as arrays of cells (backticks kept). */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

test('the metrics table lists every metric of the agent with its type and labels', (t) => {
  const registered = new AgentMetrics().registry
    .getMetricsAsArray()
    .filter((m) => m.name.startsWith('libvirt_events_'))
    .map((m) => [`\`${m.name}\``, (m as unknown as { type: string }).type, (m as unknown as { labelNames: string[] }).labelNames.join(', ')])
    .sort();
  const documented = rows(section('Metrics and health')).map(([name, type, labels]) => [name, type, labels]).sort();
  t.deepEqual(documented, registered);
});

test('the I/O error policy table documents every policy', (t) => {
  const policies = (eventsCommand.options as readonly OptionSpec[]).find((o) => o.name === 'io-error-policy')!.choices!;
  const documented = rows(section('What happens on which event')).map(([p]) => p!.replace(/`/g, '').replace(/ \(default\)$/, ''));
  for (const policy of policies) t.true(documented.includes(policy), policy);
});
