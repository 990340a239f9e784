// docs/record.schema.json: in step with docs/records.md and docs/events.md, and strict enough to fail.
// (Every record the tests produce is checked against it by test/harness/checks/record-schema.ts.)
import test from 'ava';
import { readFileSync } from 'node:fs';
import { RECORD_SCHEMA_URL, recordSchemaErrors } from '../harness/checks/record-schema.js';

interface SchemaNode {
  properties?: Record<string, SchemaNode & { enum?: string[] }>;
  allOf?: { then: SchemaNode }[];
}
const schema = JSON.parse(readFileSync(RECORD_SCHEMA_URL, 'utf8')) as { $defs: { logRecord: SchemaNode; eventRecord: SchemaNode } };
const page = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
const records = page('records.md');
const events = page('events.md');

const logFields = new Set([
  ...Object.keys(schema.$defs.logRecord.properties!),
  ...schema.$defs.logRecord.allOf!.flatMap((branch) => Object.keys(branch.then.properties ?? {})),
]);

/** Lines of the markdown tables whose first cell is code, first cell without backticks. */
const firstCells = (markdown: string): string[] =>
  markdown.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.split('|')[1]!.trim().replace(/`/g, ''));

const jsonExamples = (markdown: string): unknown[] =>
  [...markdown.matchAll(/^```json\n(.*?)\n```$/gms)].map((m) => JSON.parse(m[1]!) as unknown);

test('every field of a log record in the schema is documented in docs/records.md', (t) => {
  for (const field of logFields) t.true(records.includes(`\`${field}\``), field);
});

test('the kinds of docs/records.md are exactly the schema\'s', (t) => {
  const table = records.slice(records.indexOf('| `kind` | From |')).split('\n\n')[0]!;
  const documented = firstCells(table).slice(1);
  t.deepEqual(documented.sort(), [...schema.$defs.logRecord.properties!['kind']!.enum!].sort());
});

test('the event record fields of docs/events.md are exactly the schema\'s beyond the base fields', (t) => {
  const section = events.slice(events.indexOf('## Records'), events.indexOf('## Metrics and health'));
  const documented = firstCells(section).flatMap((c) => c.split(', '));
  const base = ['time', 'source', 'domain', 'kind', 'level', 'message'];
  t.deepEqual(documented.sort(), Object.keys(schema.$defs.eventRecord.properties!).filter((f) => !base.includes(f)).sort());
});

test('the documented example records match the schema', (t) => {
  const examples = [...jsonExamples(records), ...jsonExamples(events)];
  t.is(examples.length, 2);
  for (const example of examples) t.is(recordSchemaErrors(example), undefined, JSON.stringify(example));
});

const qemuShutdown = { time: '2024-05-01T12:31:05.118Z', source: 'qemu', domain: 'vm1', kind: 'domain_shutdown', level: 'info', message: 'shutting down, reason=crashed', reason: 'crashed' };

test('the schema rejects what a downstream store would not take or what is not documented', (t) => {
  t.is(recordSchemaErrors(qemuShutdown), undefined);
  const rejected: [string, object][] = [
    ['a time that is not a real instant', { ...qemuShutdown, time: '2024-13-45T99:99:99.999Z' }],
    ['a time with an offset instead of Z', { ...qemuShutdown, time: '2024-05-01T12:31:05.118+00:00' }],
    ['a field not documented', { ...qemuShutdown, exit_code: 1 }],
    ['a field of another kind', { ...qemuShutdown, signal: 15 }],
    ['null for an absent field', { ...qemuShutdown, reason: null }],
    ['a QEMU kind from libvirtd', { ...qemuShutdown, source: 'libvirtd', domain: null }],
    ['a missing base field', { ...qemuShutdown, level: undefined }],
    ['an event record without its event fields', { ...qemuShutdown, source: 'libvirt-event', kind: 'domain_event' }],
  ];
  for (const [what, record] of rejected) t.not(recordSchemaErrors(JSON.parse(JSON.stringify(record))), undefined, what);
});
