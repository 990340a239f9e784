// The stats reply decoded while it arrives (streamDomainStats, GET_ALL_DOMAIN_STATS's CallSpec.decodeStream) gives
// exactly the columns the whole-buffer decode gives, wherever the chunks are cut, and fails exactly as it does.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { Calls } from '../../libvirt/calls.js';
import { streamDomainStats } from '../../libvirt/domain-stats.js';
import { Limits, TypedParamType } from '../../libvirt/protocol.js';
import type { DomainStatsRecord, StatsColumns } from '../../libvirt/types.js';
import { XdrReader, XdrWriter } from '../../libvirt/xdr.js';
import { statsReplyBody } from '../harness/fakes/stats-daemon.js';
import { statsPayload, writeStatsRecord, type Param } from '../harness/fakes/stats-records.js';
import { parseDomstats } from '../harness/readers/domstats-text.js';
import { sample } from '../harness/inputs/samples.js';

const spec = Calls.getAllDomainStats;

/** What a decode gave: each record's domain and place in its block of columns, and each block's contents. */
function columnsOf(records: DomainStatsRecord[]): unknown {
  const blocks: StatsColumns[] = [];
  const placed = records.map(({ domain, columns, first, end }) => {
    const block = blocks.includes(columns) ? blocks.indexOf(columns) : blocks.push(columns) - 1;
    return [domain.name, domain.uuid, domain.id, block, first, end];
  });
  const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return {
    records: placed,
    blocks: blocks.map((c) => [bytes(c.keys), bytes(c.indexes), bytes(c.types), bytes(c.values), c.strings]),
  };
}

const whole = (payload: Buffer): DomainStatsRecord[] => spec.decode(new XdrReader(payload));

/** `payload` fed in pieces cut at `cuts` (ascending offsets). */
function streamed(payload: Buffer, cuts: readonly number[]): DomainStatsRecord[] {
  const decoder = streamDomainStats(payload.length, spec.name);
  let from = 0;
  for (const cut of [...cuts, payload.length]) {
    decoder.feed(payload.subarray(from, cut));
    from = cut;
  }
  return decoder.end();
}

/** A repeatable random integer below n. */
function seeded(seed: number): (n: number) => number {
  return (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
}

const bytewise = (payload: Buffer): number[] => Array.from({ length: payload.length }, (_, i) => i);

/** A small reply with every type, an empty record, names with and without index, and a string longer than a chunk. */
function syntheticPayload(longString = 'x'): Buffer {
  const vm = (n: number) => ({ name: `vm${n}`, uuid: `4dea22b3-1d52-d8f3-2516-${String(n).padStart(12, '0')}`, id: n });
  const records: Param[][] = [
    [
      ['state.state', TypedParamType.INT, 1],
      ['vcpu.current', TypedParamType.UINT, 2],
      ['cpu.time', TypedParamType.ULLONG, 2n ** 63n + 2049n],
      ['x.signed', TypedParamType.LLONG, -(2n ** 53n) - 3n],
      ['x.ratio', TypedParamType.DOUBLE, 1.5],
      ['x.flag', TypedParamType.BOOLEAN, true],
      ['block.0.name', TypedParamType.STRING, 'vda'],
      ['block.0.path', TypedParamType.STRING, longString],
      ['block.0.rd.bytes', TypedParamType.ULLONG, 7n],
      ['cpu.time', TypedParamType.ULLONG, 8n],
    ],
    [],
    [['state.state', TypedParamType.INT, 3], [`block.1.${'n'.repeat(71)}`, TypedParamType.STRING, '']],
  ];
  const w = new XdrWriter(Limits.MESSAGE_MAX);
  w.uint(records.length);
  records.forEach((params, i) => writeStatsRecord(w, vm(i), params));
  return w.finish();
}

const captures = ['domstats-testdriver-head.txt', 'domstats-tiny-noos.txt', 'domstats-tinylinux-ioerror-paused.txt', 'domstats-tinylinux.txt'];
const capturePayload = (file: string): Buffer => statsPayload(parseDomstats(readFileSync(sample(`real/${file}`), 'utf8')));

test('real captures and a synthetic reply give the same columns streamed as whole, cut in two at every byte and byte by byte', (t) => {
  for (const [name, payload] of [...captures.map((f) => [f, capturePayload(f)] as const), ['synthetic', syntheticPayload('/var/lib/libvirt/images/a.qcow2')] as const]) {
    const records = whole(payload);
    t.true(records.length > 0, name);
    const expected = columnsOf(records);
    const differing: number[] = [];
    for (let cut = 0; cut <= payload.length; cut++) if (!isDeepStrictEqual(columnsOf(streamed(payload, [cut])), expected)) differing.push(cut);
    t.deepEqual(differing, [], `${name}: cuts whose decode differs`);
    t.deepEqual(columnsOf(streamed(payload, bytewise(payload))), expected, `${name} byte by byte`);
  }
});

test('a string value longer than a chunk is carried across chunks', (t) => {
  const payload = syntheticPayload('p'.repeat(200_000));
  const expected = columnsOf(whole(payload));
  for (const chunk of [1000, 65536]) {
    const cuts = Array.from({ length: Math.floor(payload.length / chunk) }, (_, i) => (i + 1) * chunk);
    t.deepEqual(columnsOf(streamed(payload, cuts)), expected, `chunks of ${chunk}`);
  }
});

test('a 2 MiB reply of QEMU-like domains gives the same columns cut at random points', (t) => {
  const { write } = statsReplyBody(2 * 1024 * 1024);
  const w = new XdrWriter(Limits.MESSAGE_MAX, 2 * 1024 * 1024);
  write(w);
  const payload = w.finish();
  const expected = columnsOf(whole(payload));
  const random = seeded(12345);
  for (let round = 0; round < 8; round++) {
    const cuts: number[] = [];
    // Pieces from 1 byte to about a socket read, so that cuts land in every kind of item.
    for (let at = random(100); at < payload.length; at += 1 + random(round % 2 ? 64 : 70_000)) cuts.push(at);
    t.true(isDeepStrictEqual(columnsOf(streamed(payload, cuts)), expected), `round ${round}: ${cuts.length} pieces`);
  }
});

/** A decode's outcome as text: its columns, or the class and message of its error. */
function outcome(decode: () => DomainStatsRecord[]): string {
  try {
    return JSON.stringify(columnsOf(decode()), (_key, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

test('bad replies fail the same way streamed as whole, wherever they are cut: truncation, counts, types, names, trailing bytes', (t) => {
  const good = syntheticPayload();
  const at = (needle: string): number => good.indexOf(needle);
  const withWord = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(good);
    copy.writeUInt32BE(value, offset);
    return copy;
  };
  const bad: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    'cut in the count': good.subarray(0, 2),
    'cut in a name': good.subarray(0, at('cpu.time') + 3),
    'cut in a 64-bit value': good.subarray(0, at('x.signed') + 8 + 4 + 4),
    'cut in a string': good.subarray(0, at('vda') + 1),
    'one record missing': good.subarray(0, at('vm2') - 4),
    'more records announced than fit': withWord(0, 4096),
    'records above the protocol maximum': withWord(0, 0x7fffffff),
    'params announced that cannot fit': withWord(at('vm0') + 4 + 16 + 4, 100_000),
    'params above the protocol maximum': withWord(at('vm0') + 4 + 16 + 4, Limits.DOMAIN_STATS_PARAMS_MAX + 1),
    'unknown type': withWord(at('state.state') + 12, 8),
    'a name of 80 bytes': withWord(at('block.1.') - 4, 80),
    'trailing bytes': Buffer.concat([good, Buffer.alloc(8)]),
  };
  for (const [name, payload] of Object.entries(bad)) {
    const expected = outcome(() => whole(payload));
    t.regex(expected, /^ProtocolError: /, name);
    t.is(outcome(() => streamed(payload, [])), expected, `${name}, one piece`);
    t.is(outcome(() => streamed(payload, bytewise(payload))), expected, `${name}, byte by byte`);
  }
});

test('mutated replies: streamed in random pieces, each decodes to the same columns or fails with the same error as whole', (t) => {
  const good = syntheticPayload('/var/lib/libvirt/images/a.qcow2');
  const random = seeded(777);
  const outcomes = new Set<string>();
  for (let round = 0; round < 400; round++) {
    const payload = Buffer.from(good.subarray(0, good.length - (round % 5 === 0 ? random(good.length) : 0)));
    for (let flips = 1 + random(3); flips > 0 && payload.length > 0; flips--) payload[random(payload.length)] = random(256);
    const cuts: number[] = [];
    for (let at = random(8); at < payload.length; at += 1 + random(24)) cuts.push(at);
    const expected = outcome(() => whole(payload));
    const got = outcome(() => streamed(payload, cuts));
    if (got !== expected) return t.fail(`round ${round}: streamed ${got.slice(0, 200)}, whole ${expected.slice(0, 200)}`);
    outcomes.add(expected.startsWith('ProtocolError') ? expected.replace(/[0-9]+/g, 'N') : 'decoded');
  }
  t.true(outcomes.has('decoded') && outcomes.size > 5, [...outcomes].join('\n'));
});
