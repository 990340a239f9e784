import test from 'ava';
import { readFileSync } from 'node:fs';
import { LineSplitter } from '../../parsers/lines.js';
import { MultilineFolder } from '../../parsers/multiline.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from '../../parsers/record.js';
import { QEMU_MULTILINE } from '../../parsers/shapes.js';
import { libvirtTimeToIso, qemuTimeToIso, rfc3339ToIso, epochMicrosToIso } from '../../parsers/time.js';
import { parseBytes } from '../harness/roles/parse-file.js';
import { sample } from '../harness/inputs/samples.js';

/** Splits `bytes` fed in chunks of `chunkSize`; returns [line, flags] pairs. */
function split(bytes: Buffer, maxLineBytes?: number, chunkSize = 64 * 1024): [string, number][] {
  const out: [string, number][] = [];
  const splitter = new LineSplitter(maxLineBytes);
  const onLine = (line: string, flags: number) => void out.push([line, flags]);
  for (let i = 0; i < bytes.length; i += chunkSize) splitter.feed(bytes.subarray(i, i + chunkSize), i, onLine);
  splitter.finish(bytes.length, onLine);
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function garbage(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('line endings: LF, CRLF, no newline at the end, empty input, empty lines', (t) => {
  t.deepEqual(split(Buffer.from('a\nb\n')), [['a', 0], ['b', 0]]);
  t.deepEqual(split(Buffer.from('a\r\nb\r\n')), [['a', 0], ['b', 0]]);
  t.deepEqual(split(Buffer.from('a\nb')), [['a', 0], ['b', 0]]);
  t.deepEqual(split(Buffer.alloc(0)), []);
  t.deepEqual(split(Buffer.from('\n\r\n\n')), [['', 0], ['', 0], ['', 0]]);
  // A lone \r inside a line is content.
  t.deepEqual(split(Buffer.from('a\rb\n')), [['a\rb', 0]]);
});

test('the same lines whatever the chunk boundaries, multi-byte characters included', (t) => {
  const text = 'één\r\n2024 ✓ 𝄞 ok\nlast';
  const expected = split(Buffer.from(text));
  t.deepEqual(expected, [['één', 0], ['2024 ✓ 𝄞 ok', 0], ['last', 0]]);
  for (const size of [1, 2, 3, 5, 7]) t.deepEqual(split(Buffer.from(text), undefined, size), expected, `chunk ${size}`);
});

test('invalid UTF-8 is replaced and flagged on the line it occurs in only', (t) => {
  const bytes = Buffer.concat([Buffer.from('good\n'), Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a]), Buffer.from('also good\n')]);
  for (const size of [3, 64]) {
    t.deepEqual(split(bytes, undefined, size), [['good', 0], ['a\uFFFD\uFFFDb', LINE_INVALID_UTF8], ['also good', 0]]);
  }
});

test('a 10 MiB line is cut to the limit and flagged; the lines around it are intact', (t) => {
  const long = Buffer.alloc(10 * 1024 * 1024, 'x');
  const bytes = Buffer.concat([Buffer.from('before\n'), long, Buffer.from('\nafter\n')]);
  for (const size of [64 * 1024, 16 * 1024 * 1024]) {
    const lines = split(bytes, 1024 * 1024, size);
    t.is(lines.length, 3);
    t.deepEqual(lines[0], ['before', 0]);
    t.is(lines[1]![0].length, 1024 * 1024);
    t.is(lines[1]![1], LINE_TRUNCATED);
    t.deepEqual(lines[2], ['after', 0]);
  }
  // Cut at the limit when the input ends inside the long line.
  const unterminated = split(Buffer.concat([Buffer.from('a\n'), long]), 4096);
  t.deepEqual(unterminated.map(([l, f]) => [l.length, f]), [[1, 0], [4096, LINE_TRUNCATED]]);
});

test('a long line of multi-byte characters is cut to the byte limit', (t) => {
  const line = 'é'.repeat(5000); // 10000 bytes
  const [[text, flags]] = split(Buffer.from(`${line}\n`), 4096) as [[string, number]];
  t.is(flags, LINE_TRUNCATED);
  t.is(Buffer.byteLength(text), 4096);
});

test('binary garbage never throws; every byte ends up in some record', (t) => {
  const bytes = garbage(256 * 1024);
  for (const format of ['qemu', 'libvirtd', 'journal', 'cri'] as const) {
    const records = parseBytes(bytes, format, { chunkSize: 4093 });
    t.true(records.length > 0, format);
    t.true(records.every((r) => typeof r.message === 'string' && typeof JSON.stringify(r) === 'string'), format);
  }
  const qemu = parseBytes(bytes, 'qemu');
  const lines = split(bytes);
  t.is(qemu.reduce((n, r) => n + r.message.split('\n').length, 0), lines.length);
  t.true(qemu.some((r) => r.invalid_utf8 === true));
});

test('a CRLF copy of a sample gives the same records as the original', (t) => {
  const original = readFileSync(sample('qemu/instance-00000c3d.log'));
  const crlf = Buffer.from(original.toString('utf8').replaceAll('\n', '\r\n'));
  t.deepEqual(parseBytes(crlf, 'qemu', { domain: 'd' }), parseBytes(original, 'qemu', { domain: 'd' }));
});

test('a sample cut in the middle of its last line still yields every record', (t) => {
  const original = readFileSync(sample('qemu/instance-00000a1b.log'));
  const cut = original.subarray(0, original.indexOf('(/usr/sbin/libvirtd)'));
  const records = parseBytes(cut, 'qemu', { domain: 'd' });
  const full = parseBytes(original, 'qemu', { domain: 'd' });
  t.deepEqual(records.slice(0, -1), full.slice(0, records.length - 1));
  // The cut signal line no longer has the signal line's shape: it is kept as a plain QEMU message.
  t.like(records.at(-1), { kind: 'qemu_message', time: '2024-05-01T12:31:05.118344Z', message: 'terminating on signal 15 from pid 1462 ' });
});

test('multiline folding follows Fluent Bit: an unexpected line ends the block and stands alone', (t) => {
  const records: string[] = [];
  const folder = new MultilineFolder(QEMU_MULTILINE, (text) => records.push(text), 1 << 20);
  for (const line of ['LC_ALL=C \\', '/usr/bin/qemu-system-x86_64 \\', '2024-05-01 10:00:00.000+0000: shutting down, reason=crashed', '-S']) {
    folder.push(line, 0, null);
  }
  folder.flush();
  t.deepEqual(records, ['LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\', '2024-05-01 10:00:00.000+0000: shutting down, reason=crashed', '-S']);
});

test('a folded record over the record limit is cut, flagged, and ends the block', (t) => {
  const records: [string, number][] = [];
  const folder = new MultilineFolder(QEMU_MULTILINE, (text, flags) => records.push([text, flags]), 40);
  for (let i = 0; i < 10; i++) folder.push(`-arg${i} value${i} \\`, 0, null);
  folder.push('-last', 0, null);
  folder.flush();
  t.is(records[0]![1], LINE_TRUNCATED);
  t.is(records[0]![0].length, 40);
  t.true(records.every(([text]) => text.length <= 40));
  t.is(folder.pending, false);
});

test('timestamps: offsets converted to UTC, precision kept', (t) => {
  t.is(libvirtTimeToIso('2024-05-01 08:14:02.417+0000'), '2024-05-01T08:14:02.417Z');
  t.is(libvirtTimeToIso('2024-05-01 00:14:02.417+0130'), '2024-04-30T22:44:02.417Z');
  t.is(qemuTimeToIso('2024-05-01T10:15:30.688512Z'), '2024-05-01T10:15:30.688512Z');
  t.is(qemuTimeToIso('2024-05-01T10:15:30Z'), '2024-05-01T10:15:30.000000Z');
  t.is(rfc3339ToIso('2024-05-01T10:16:03.1313899Z'), '2024-05-01T10:16:03.131389900Z');
  t.is(rfc3339ToIso('2024-05-01T01:16:03-09:00'), '2024-05-01T10:16:03.000000000Z');
  t.is(rfc3339ToIso('yesterday'), null);
  t.is(epochMicrosToIso('1714558563131245'), '2024-05-01T10:16:03.131245Z');
  t.is(epochMicrosToIso('-1'), null);
});

test('timestamps of the right shape that name no real instant give null, never an invalid time or a throw', (t) => {
  t.is(libvirtTimeToIso('2024-13-45 99:99:99.999+0000'), null);
  t.is(libvirtTimeToIso('2024-13-45 99:99:99.999+0200'), null);
  t.is(libvirtTimeToIso('2023-02-29 10:00:00.000+0000'), null);
  t.is(libvirtTimeToIso('2024-02-29 10:00:00.000+0000'), '2024-02-29T10:00:00.000Z');
  t.is(libvirtTimeToIso('0000-01-01 00:30:00.000+0100'), null, 'shifted before year 0');
  t.is(libvirtTimeToIso('0024-05-01 00:14:02.417+0130'), '0024-04-30T22:44:02.417Z', 'years below 100 stay themselves');
  t.is(qemuTimeToIso('2024-04-31T10:15:30.688512Z'), null);
  t.is(qemuTimeToIso('2024-05-01T24:00:00Z'), null);
  t.is(rfc3339ToIso('2024-05-01T10:16:60Z'), null);
  t.is(rfc3339ToIso('2024-00-01T01:16:03-09:00'), null);
});

test('a QEMU line with an impossible timestamp keeps its kind and fields, takes the inferred time, keeps the text in invalid_time', (t) => {
  const records = parseBytes(
    Buffer.from(
      '2024-05-01 10:00:00.000+0000: starting up libvirt version: 9.0.0, qemu version: 7.2.0, kernel: 6.1.0, hostname: h\n' +
        '2024-13-45 99:99:99.999+0000: shutting down, reason=crashed\n' +
        '2024-05-01T10:00:01.000002Z qemu-system-x86_64: terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)\n',
    ),
    'qemu',
    { domain: 'd' },
  );
  t.is(records.length, 3);
  t.like(records[1], {
    kind: 'domain_shutdown',
    reason: 'crashed',
    time: '2024-05-01T10:00:00.000Z',
    time_inferred: true,
    invalid_time: '2024-13-45 99:99:99.999+0000',
  });
  t.false('invalid_time' in records[0]! || 'invalid_time' in records[2]!);
  for (const r of records) t.true(r.time === null || !Number.isNaN(Date.parse(r.time)), String(r.time));
});
