// ≥100,000 random and mutated frames through the receive path (framing → route → body decoders):
// only ProtocolError may come out, nothing hangs, and nothing decoded is larger than the bytes it came from.
import test from 'ava';
import { prng } from '../harness/prng.js';
import { Calls } from '../../libvirt/calls.js';
import { ProtocolError } from '../../libvirt/errors.js';
import { decodeDomainEvent } from '../../libvirt/event-stream.js';
import { FrameReader, decodePacket } from '../../libvirt/framing.js';
import { Limits } from '../../libvirt/protocol.js';
import { type CallSpec, decodeReply, routeOf } from '../../libvirt/rpc.js';
import { errorReply, validEvents, validReplies } from '../harness/fakes/server-packets.js';

const SEED = 0x5eed1e55;
/** Streams of 1–3 frames each: about 200,000 frames. */
const ITERATIONS = 100_000;

const specs = Object.values(Calls) as CallSpec<unknown, unknown>[];
const specByProc = new Map(specs.map((s) => [s.proc, s]));

/**
 * A rough measure of decoded output: elements, map entries and string lengths. Decoding may expand a little
 * (a 16-byte UUID becomes 36 characters, enum values gain names) but never beyond a small multiple of the input.
 */
const bounded = (value: unknown, packet: Buffer): boolean => sizeOf(value) <= 4 * packet.length + 64;

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.length + v.reduce((n: number, x) => n + sizeOf(x), 0);
  if (v instanceof Map) return v.size + [...v].reduce((n: number, [k, x]) => n + sizeOf(k) + sizeOf(x), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + sizeOf(x), 0);
  return 0;
}

interface Tally {
  frames: number;
  decoded: number;
  remoteErrors: number;
  protocolErrors: number;
  incomplete: number;
}

/** Feeds one byte stream in random chunks, acting on packets as the client does, until a ProtocolError. */
function feed(stream: Buffer, rand: () => number, tally: Tally): void {
  const reader = new FrameReader();
  try {
    let at = 0;
    while (at < stream.length) {
      const n = 1 + Math.floor(rand() * Math.min(stream.length - at, rand() < 0.5 ? 8 : 4096));
      for (const packet of reader.push(stream.subarray(at, at + n))) {
        tally.frames++;
        const { header, body } = decodePacket(packet);
        const route = routeOf(header);
        if (route !== 'reply') {
          if (route === 'event' && !bounded(decodeDomainEvent(header.proc, body), packet)) throw new Error('event larger than its packet');
          tally.decoded++;
          continue;
        }
        // A reply is decoded with its procedure's decoder if it has one, else with a random one.
        const spec = specByProc.get(header.proc) ?? specs[Math.floor(rand() * specs.length)]!;
        const outcome = decodeReply(spec, header.status, body);
        if (outcome.ok) {
          if (!bounded(outcome.value, packet)) throw new Error(`${spec.name} decoded larger than its packet`);
          tally.decoded++;
        } else tally.remoteErrors++;
      }
      at += n;
      if (reader.bufferedBytes > Limits.PACKET_MAX) throw new Error(`reader holds ${reader.bufferedBytes} bytes`);
    }
    if (reader.bufferedBytes > 0) tally.incomplete++;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    tally.protocolErrors++;
  }
}

const INTERESTING = [0, 1, 2, 3, 4, 27, 28, 0x7f, 0xff, 0x7fff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, Limits.PACKET_MAX, Limits.PACKET_MAX + 1, Limits.STRING_MAX + 1, Limits.DOMAIN_LIST_MAX + 1];

function mutate(packet: Buffer, rand: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const p = Buffer.from(packet);
  const fixLength = (b: Buffer): Buffer => {
    if (b.length >= 4 && rand() < 0.8) b.writeUInt32BE(b.length, 0);
    return b;
  };
  switch (Math.floor(rand() * 7)) {
    case 0: // flip bytes anywhere, length word included
      for (let i = 1 + Math.floor(rand() * 8); i > 0; i--) p[Math.floor(rand() * p.length)] ^= 1 << Math.floor(rand() * 8);
      return p;
    case 1: { // an aligned word (a length, a count, a discriminant, a header field) gets an extreme value
      const word = 4 * Math.floor(rand() * (p.length / 4));
      p.writeUInt32BE(rand() < 0.7 ? pick(INTERESTING) : Math.floor(rand() * 2 ** 32), word);
      return p;
    }
    case 2: // truncated, with or without a matching length word
      return fixLength(p.subarray(0, Math.floor(rand() * p.length)));
    case 3: { // garbage appended
      const extra = Buffer.alloc(1 + Math.floor(rand() * 64));
      for (let i = 0; i < extra.length; i++) extra[i] = Math.floor(rand() * 256);
      return fixLength(Buffer.concat([p, extra]));
    }
    case 4: { // header fields: prog, vers, proc, type, serial, status
      const field = 4 + 4 * Math.floor(rand() * 6);
      p.writeUInt32BE(rand() < 0.5 ? (p.readUInt32BE(field) + pick([1, -1, 2])) >>> 0 : pick(INTERESTING), field);
      return p;
    }
    case 5: { // valid length word, random body
      const len = 28 + Math.floor(rand() * 200);
      const b = Buffer.alloc(len);
      for (let i = 4; i < len; i++) b[i] = Math.floor(rand() * 256);
      b.writeUInt32BE(len, 0);
      if (rand() < 0.5) p.copy(b, 4, 4, 28); // keep a plausible header
      return b;
    }
    default: { // pure noise
      const b = Buffer.alloc(Math.floor(rand() * 96));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
      return b;
    }
  }
}

const corpus = [...validReplies(9).values(), ...validEvents(), errorReply(24, 9, 42, 'Domain not found')];

test('the valid corpus decodes without error', (t) => {
  const tally: Tally = { frames: 0, decoded: 0, remoteErrors: 0, protocolErrors: 0, incomplete: 0 };
  for (const packet of corpus) feed(packet, prng(1), tally);
  t.deepEqual(tally, { frames: corpus.length, decoded: corpus.length - 1, remoteErrors: 1, protocolErrors: 0, incomplete: 0 });
});

test(`${ITERATIONS} streams of random and mutated frames yield decoded values or ProtocolError only`, (t) => {
  const rand = prng(SEED);
  const tally: Tally = { frames: 0, decoded: 0, remoteErrors: 0, protocolErrors: 0, incomplete: 0 };
  const started = Date.now();
  let generated = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const parts: Buffer[] = [];
    for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
      const base = corpus[Math.floor(rand() * corpus.length)]!;
      parts.push(rand() < 0.15 ? base : mutate(base, rand));
      generated++;
    }
    feed(Buffer.concat(parts), rand, tally);
  }
  const ms = Date.now() - started;
  t.log(`seed ${SEED.toString(16)}: ${generated} frames generated, ${JSON.stringify(tally)} in ${ms} ms`);
  t.true(generated >= 100_000);
  t.true(tally.frames > ITERATIONS / 2, 'most streams reach the packet decoders');
  t.true(tally.protocolErrors > ITERATIONS / 4, 'most mutations are caught');
  t.true(tally.decoded > ITERATIONS / 10, 'valid and harmlessly mutated packets still decode');
});

test('oversized and undersized length words fail before any body byte arrives', (t) => {
  const rand = prng(SEED + 1);
  for (let i = 0; i < 10_000; i++) {
    const word = Buffer.alloc(4);
    const len = rand() < 0.5 ? Math.floor(rand() * Limits.PACKET_MIN) : Limits.PACKET_MAX + 1 + Math.floor(rand() * (2 ** 32 - Limits.PACKET_MAX - 1));
    word.writeUInt32BE(len);
    const reader = new FrameReader();
    t.throws(() => reader.push(word), { instanceOf: ProtocolError });
  }
});
