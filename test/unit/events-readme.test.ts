// events/README.md documents exactly the flags of the command and the metrics the agent registers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { formatDefault, type OptionSpec } from '../../cli/options.js';
import { eventsCommand } from '../../events/command.js';
import { AgentMetrics } from '../../events/metrics.js';
import { REPO_ROOT } from '../support/samples.js';

const readme = readFileSync(path.join(REPO_ROOT, 'events', 'README.md'), 'utf8');
const section = (title: string) => readme.split(/^### /m).find((s) => s.startsWith(title)) ?? '';

/** Table rows whose first cell is code, as arrays of cells (backticks kept). */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

test('the flag table lists every option in spec order, with its default and environment variable', (t) => {
  const table = rows(section('Flags'));
  t.deepEqual(table.map(([flag]) => flag), eventsCommand.options.map((o) => `\`--${o.name}\``));
  for (const [i, option] of (eventsCommand.options as readonly OptionSpec[]).entries()) {
    const cell = table[i]![1]!;
    const def = formatDefault(option);
    if (def !== undefined) t.true(cell.includes(`\`${def}\``), `default of --${option.name}: ${cell}`);
    if (option.env) t.true(cell.includes(`\`${option.env}\``), `env of --${option.name}: ${cell}`);
  }
});

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
