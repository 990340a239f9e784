// metrics/README.md documents exactly the metrics of the catalogue and the flags of the command.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { formatDefault } from '../../cli/options.js';
import { ALL_METRICS } from '../../metrics/catalogue.js';
import { exporterCommand } from '../../metrics/command.js';
import { repoRoot } from '../helpers/domstats-text.js';

const readme = readFileSync(path.join(repoRoot, 'metrics', 'README.md'), 'utf8');

/** Table rows whose first cell is code, as arrays of cells with backticks removed. */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, '')));
}

const section = (title: string) => readme.split(/^### /m).find((s) => s.startsWith(title)) ?? '';

test('the metric tables list every catalogue metric with its type and labels, and nothing else', (t) => {
  const documented = [...rows(section('Metrics of the design document')), ...rows(section('Extra metrics'))];
  t.deepEqual(
    documented.map(([name, type, labels]) => [name, type, labels]),
    ALL_METRICS.map((d) => [d.name, d.type, d.labels.join(', ')]),
  );
  t.deepEqual(
    rows(section('Metrics of the design document')).map(([name]) => name),
    ALL_METRICS.filter((d) => d.core).map((d) => d.name),
  );
});

test('the flag table matches the command spec: names, environment variables, defaults', (t) => {
  t.deepEqual(
    rows(section('Flags')).map(([flag, env, def]) => [flag, env, def]),
    exporterCommand.options.map((o) => [`--${o.name}`, o.env ?? '', formatDefault(o) ?? '']),
  );
});
