// QEMU-log records carry the domain's uuid: from the command line's `-uuid`, on every later record of
// the file, on the `starting up` header that announces that command line, and from what a restart
// knew before (the sidecar's checkpoint) for records read before the file's first command line.
import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { parseStream } from '../../parsers/command.js';
import type { LogRecord } from '../../parsers/record.js';
import { createQemuLogParser } from '../../parsers/textlog.js';
import { checkedRecords } from '../harness/checks/record-schema.js';
import { parseFile } from '../harness/roles/parse-file.js';
import { linesOf, sample } from '../harness/inputs/samples.js';

const TINY_UUID = '0b1c5e0a-7e57-4a11-9d6e-000000000001';
const OTHER_UUID = '5d0e9f1c-2b3a-4c4d-8e5f-6a7b8c9d0e1f';

function parseLines(lines: readonly string[], uuid: string | null = null): LogRecord[] {
  const parser = createQemuLogParser({ domain: 'tiny', uuid });
  return checkedRecords([...lines.flatMap((l) => parser.push(l)), ...parser.flush()]);
}

/** The real log of one start of the no-OS guest `tiny` (libvirt 9.0 + QEMU 7.2): header, command line, the rest. */
const TINY = linesOf(sample('real/qemu-tiny.log'));
const firstStart = TINY.findIndex((l, i) => i > 0 && l.includes('starting up libvirt'));
const ONE_START = firstStart === -1 ? TINY : TINY.slice(0, firstStart);

/** The same start as the domain of another incarnation: same name, its own uuid. */
const RECREATED = ONE_START.map((l) => l.replace(TINY_UUID, OTHER_UUID));

test('every record of a real QEMU log carries the uuid of its -uuid option, the header too', (t) => {
  const records = parseFile(sample('real/qemu-tiny.log'), 'qemu');
  t.true(records.length > 5);
  for (const r of records) t.is(r.uuid, TINY_UUID, `${r.kind}: ${r.message.slice(0, 60)}`);
  const commandLine = records.find((r) => r.kind === 'command_line')!;
  t.is(commandLine.binary, '/usr/bin/qemu-system-x86_64');
  t.regex(commandLine.message, /^-name guest=tiny,debug-threads=on \\$/m, 'the -name guest= line of the same block names the domain');
});

test('the synthetic OpenStack samples: uuid from -uuid, which Nova also uses for the disk path', (t) => {
  for (const [file, uuid] of [
    ['qemu/instance-00000a1b.log', '6f1c1d4e-8a43-4c3e-9b57-2f0e7a1d9c21'],
    ['qemu/instance-00000d4e.log', '9e41b7c3-0f2a-4a6d-b5c8-7d3e2f1a0b96'],
  ] as const) {
    const records = parseFile(sample(file), 'qemu');
    for (const r of records) t.is(r.uuid, uuid, `${file} ${r.kind}`);
    t.true(records.find((r) => r.kind === 'command_line')!.message.includes(`/var/lib/nova/instances/${uuid}/disk`));
  }
});

test('records before the first command line carry no uuid, unless one was known before (a restart mid-file)', (t) => {
  const tail = ONE_START.slice(ONE_START.findIndex((l) => /^-msg /.test(l)) + 1);
  t.true(tail.length >= 2, 'lines after the command line');
  for (const r of parseLines(tail)) t.is(r.uuid, undefined, r.message);
  for (const r of parseLines(tail, TINY_UUID)) t.is(r.uuid, TINY_UUID, r.message);
});

test('a domain deleted and defined again under the same name: records after its new command line carry the new uuid', (t) => {
  const records = parseLines([...ONE_START, ...RECREATED]);
  const starts = records.flatMap((r, i) => (r.kind === 'domain_start' ? [i] : []));
  t.is(starts.length, 2);
  const [first, second] = [records.slice(0, starts[1]), records.slice(starts[1])];
  for (const r of first) t.is(r.uuid, TINY_UUID, `first: ${r.kind}`);
  // The header is written before the command line it announces and takes its uuid, not the old one.
  for (const r of second) t.is(r.uuid, OTHER_UUID, `second: ${r.kind}`);
});

test('a known uuid gives way to the command line (the checkpoint predates a re-creation)', (t) => {
  const records = parseLines(RECREATED, TINY_UUID);
  for (const r of records) t.is(r.uuid, OTHER_UUID, r.kind);
});

test('a command line without -uuid (not written by libvirt) drops what was known', (t) => {
  const block = ['/usr/bin/qemu-system-x86_64 \\', '-name guest=tiny \\', '-S'];
  const records = parseLines([...block, '2026-11-29 14:56:06.000+0000: shutting down, reason=destroyed'], TINY_UUID);
  t.deepEqual(records.map((r) => [r.kind, r.uuid]), [['command_line', undefined], ['domain_shutdown', undefined]]);
});

test('an upper-case or malformed -uuid is not one: libvirt writes the canonical lower-case form', (t) => {
  for (const bad of [TINY_UUID.toUpperCase(), TINY_UUID.slice(1), `${TINY_UUID}0`]) {
    const records = parseLines(['/usr/bin/qemu-system-x86_64 \\', `-uuid ${bad} \\`, '-S']);
    t.is(records[0]!.kind, 'command_line', bad);
    t.is(records[0]!.uuid, undefined, bad);
  }
});

test('the header waits for its command line: pending until the next record, emitted by flush without one', (t) => {
  const parser = createQemuLogParser({ domain: 'tiny', uuid: OTHER_UUID });
  t.deepEqual(parser.push(ONE_START[0]!), []);
  t.true(parser.pending);
  const flushed = parser.flush();
  t.deepEqual(flushed.map((r) => [r.kind, r.uuid]), [['domain_start', OTHER_UUID]]);
  t.false(parser.pending);
  t.is(parser.uuid, OTHER_UUID);
});

test('the parser says which uuid holds after its records (what a checkpoint keeps), and takes one learnt elsewhere', (t) => {
  const parser = createQemuLogParser({ domain: 'tiny' });
  t.is(parser.uuid, null);
  for (const l of RECREATED) parser.push(l);
  parser.flush();
  t.is(parser.uuid, OTHER_UUID);
  const fresh = createQemuLogParser({ domain: 'tiny' });
  fresh.uuid = TINY_UUID;
  t.is(fresh.push('2026-11-29 14:56:06.000+0000: shutting down, reason=destroyed')[0]!.uuid, TINY_UUID);
});

test('CRLF line ends: the same uuids as LF, in parse however the bytes are cut', async (t) => {
  const lf = [...ONE_START, ...RECREATED].map((l) => `${l}\n`).join('');
  const crlf = lf.replace(/\n/g, '\r\n');
  const run = async (text: string, piece: number) => {
    let out = '';
    const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
    const chunks = [];
    for (let i = 0; i < text.length; i += piece) chunks.push(Buffer.from(text.slice(i, i + piece)));
    await parseStream(Readable.from(chunks), createQemuLogParser({ domain: 'tiny' }), sink, 256 * 1024);
    return out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as LogRecord).uuid);
  };
  const expected = await run(lf, 1 << 20);
  t.true(expected.includes(TINY_UUID) && expected.includes(OTHER_UUID));
  t.false(expected.includes(undefined));
  t.deepEqual(await run(crlf, 7), expected);
  t.deepEqual(await run(crlf, 4096), expected);
});
