// docs/exporter.md documents exactly the metrics of the catalogue.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ALL_METRICS } from '../../exporter/catalogue.js';
import { REPO_ROOT as repoRoot } from '../harness/repo.js';

const page = readFileSync(path.join(repoRoot, 'docs', 'exporter.md'), 'utf8');

/** Table rows whose first cell is code, as arrays of cells with backticks removed. */
function rows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, '')));
}

const section = (title: string) => page.split(/^## /m).find((s) => s.startsWith(title)) ?? '';

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
