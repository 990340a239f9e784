import test from 'ava';
import { decodeMulti, Encoder, ExtData } from '@msgpack/msgpack';
import { forwardEntries, type FlatRecord } from '../../../sidecar/forward-entries.js';
import { recycle } from '../../../sidecar/payload-slabs.js';
import { prng } from '../../harness/prng.js';

/** The EventTime as first written: DataView and a regex, kept as the reference. */
function referenceEventTime(iso: string | null, fallbackMs: number): ExtData {
  let ms = iso ? Date.parse(iso) : NaN;
  let nanos: number;
  if (Number.isNaN(ms)) {
    ms = fallbackMs;
    nanos = (ms % 1000) * 1e6;
  } else nanos = Number((/\.(\d+)/.exec(iso!)?.[1] ?? '').padEnd(9, '0').slice(0, 9));
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, Math.floor(ms / 1000));
  view.setUint32(4, nanos);
  return new ExtData(0, new Uint8Array(view.buffer));
}

/** The entries as a general msgpack encoder writes them: one array encoded, minus its header. */
function referenceEntries(records: readonly FlatRecord[], now: number): Buffer {
  const all = new Encoder({ ignoreUndefined: true }).encode(records.map((r) => [referenceEventTime(r.time, now), r]));
  const header = all[0]! >= 0x90 && all[0]! <= 0x9f ? 1 : all[0] === 0xdc ? 3 : 5;
  return Buffer.from(all.subarray(header));
}

function entries(records: readonly FlatRecord[], now: number): Buffer {
  const payload = forwardEntries(records, now);
  const copy = Buffer.from(payload);
  recycle(payload);
  return copy;
}

test('EventTime: seconds and nanoseconds of every time the parsers produce, and of times they cannot parse', (t) => {
  const times = [
    '2026-11-29T14:56:25.535Z',
    '2026-11-29T14:56:25.535123Z',
    '2026-11-29T14:56:25.535123456Z',
    '2026-11-29T14:56:25.5351234567Z',
    '2026-11-29T14:56:25.5Z',
    '2026-11-29T14:56:25Z',
    '2026-11-29T14:56:25.Z',
    '1969-12-31T23:59:59.999Z',
    '2106-02-07T06:28:16.000001Z',
    'Sun, 29 Nov 2026 14:56:25 GMT',
    'not a time',
    '',
    null,
  ];
  for (const time of times) {
    for (const now of [1_764_428_185_535, -1]) {
      const bytes = entries([{ time }], now);
      t.is(bytes[1], 0xd7, 'fixext 8');
      t.is(bytes[2], 0, 'ext type 0 (EventTime)');
      t.deepEqual([...bytes.subarray(3, 11)], [...(referenceEventTime(time, now).data as Uint8Array)], String(time));
    }
  }
});

const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\0', 'é', 'ß', '€', '日', '本', '\u{1f600}', '\ufffd', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff'];

function randomString(random: () => number, length: number): string {
  let s = '';
  const ascii = random() < 0.5;
  while (s.length < length) s += ascii ? String.fromCharCode(32 + Math.floor(random() * 95)) : CHARS[Math.floor(random() * CHARS.length)]!;
  return s;
}

/** Lengths around every header boundary, in UTF-16 units (UTF-8 bytes are up to 3 times more). */
const LENGTHS = [0, 1, 10, 11, 30, 31, 32, 33, 85, 86, 254, 255, 256, 257, 21_845, 21_846, 65_535, 65_536, 70_000];

const NUMBERS = [
  0, -0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER,
  -1, -31, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40) - 7, Number.MIN_SAFE_INTEGER,
  0.5, -1.25, 1e300, 2 ** 53, -(2 ** 60), Number.EPSILON, NaN, Infinity, -Infinity,
];

function randomRecord(random: () => number): FlatRecord {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const record: Record<string, unknown> = { time: random() < 0.8 ? '2026-11-29T14:56:25.535123Z' : null };
  const fields = Math.floor(random() * 22);
  for (let i = 0; i < fields; i++) {
    const key = random() < 0.9 ? `field_${i}` : randomString(random, pick([1, 31, 32, 40]));
    const type = random();
    record[key] =
      type < 0.5 ? randomString(random, random() < 0.02 ? pick(LENGTHS) : Math.floor(random() * 120))
      : type < 0.75 ? (random() < 0.5 ? pick(NUMBERS) : Math.floor((random() - 0.5) * 2 ** (random() * 60)))
      : type < 0.85 ? random() < 0.5
      : type < 0.93 ? null
      : undefined;
  }
  return record as FlatRecord;
}

test('entries are byte for byte what @msgpack/msgpack writes, and decode to the records, for random records', (t) => {
  const random = prng(14);
  for (let round = 0; round < 100; round++) {
    const records = Array.from({ length: 1 + Math.floor(random() * 20) }, () => randomRecord(random));
    const now = 1_764_428_185_535 + round;
    const bytes = entries(records, now);
    t.true(bytes.equals(referenceEntries(records, now)), `round ${round}`);
    const decoded = [...decodeMulti(bytes)] as [ExtData, Record<string, unknown>][];
    t.is(decoded.length, records.length);
    decoded.forEach(([time, record], i) => {
      t.is(time.type, 0);
      // -0 is an integer to msgpack: it comes back as 0, as JSON writes it.
      const expected = Object.fromEntries(Object.entries(records[i]!).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Object.is(v, -0) ? 0 : v]));
      t.deepEqual(record, expected, `round ${round} record ${i}`);
    });
  }
});

test('every header boundary: strings, maps of 15, 16 and more fields, integers beyond 2^32, negative numbers, floats', (t) => {
  const random = prng(7);
  const records: FlatRecord[] = [];
  for (const length of LENGTHS) records.push({ time: null, ascii: randomString(() => 0.25, length), text: randomString(random, length) } as FlatRecord);
  for (const fields of [14, 15, 16, 17, 300]) records.push(Object.fromEntries([['time', null], ...Array.from({ length: fields - 1 }, (_, i) => [`k${i}`, i])]) as FlatRecord);
  for (const n of NUMBERS) records.push({ time: null, n } as FlatRecord);
  const now = 1_764_428_185_535;
  t.true(entries(records, now).equals(referenceEntries(records, now)));
});

test('a field that is not a string, number, boolean or null is refused, not written wrongly', (t) => {
  t.throws(() => forwardEntries([{ time: null, nested: { a: 1 } } as FlatRecord]), { message: /record field nested is a object/ });
});
