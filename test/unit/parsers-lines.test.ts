// The one line splitter of `parse` and the sidecar: line ends (LF, CRLF), end offsets, the line
// limit, invalid UTF-8, and the same result for any chunking of the same bytes.
import test from 'ava';
import { LineSplitter } from '../../parsers/lines.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from '../../parsers/record.js';

function split(max: number, chunks: (string | Buffer)[]) {
  const s = new LineSplitter(max);
  const out: [string, number, number][] = [];
  let offset = 0;
  for (const c of chunks) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    s.feed(b, offset, (line, flags, end) => out.push([line, flags, end]));
    offset += b.length;
  }
  return { out, splitter: s, offset };
}

test('lines across chunks keep their end offsets; a partial line is held', (t) => {
  const { out, splitter } = split(100, ['ab\ncd', 'e\nf']);
  t.deepEqual(out, [['ab', 0, 3], ['cde', 0, 7]]);
  t.is(splitter.pendingBytes, 1);
});

test('a line over the limit keeps its head, is flagged, and the rest is skipped up to the newline', (t) => {
  const { out, splitter } = split(4, ['abcdefgh', 'ij\nxy\n']);
  t.deepEqual(out, [['abcd', LINE_TRUNCATED, 11], ['xy', 0, 14]]);
  t.is(splitter.takeSkipped(), 6);
});

test('the cut never splits a UTF-8 character', (t) => {
  const { out } = split(5, ['abcdé€\n']);
  t.deepEqual(out, [['abcd', LINE_TRUNCATED, 10]]);
});

test('invalid UTF-8 is flagged; a real U+FFFD is not', (t) => {
  const { out } = split(100, [Buffer.from([0x61, 0xff, 0x0a]), Buffer.from('�\n')]);
  t.is(out[0]![1], LINE_INVALID_UTF8);
  t.is(out[1]![1], 0);
});

test('CRLF: the \\r before a newline is part of the line end, also when a chunk ends between them; a lone \\r is content', (t) => {
  const { out } = split(100, ['a\r\nb\r', '\nc\rd\n\r\n']);
  t.deepEqual(out, [['a', 0, 3], ['b', 0, 6], ['c\rd', 0, 10], ['', 0, 12]]);
});

test('CRLF and the limit: a line of exactly the limit plus its \\r\\n is not truncated; one byte more is', (t) => {
  for (const chunks of [['abcd\r\nabcde\r\n'], ['abcd\r', '\nabcde\r', '\n'], ['ab', 'cd', '\r\nabc', 'de\r\n']]) {
    const { out, splitter } = split(4, chunks);
    t.deepEqual(out, [['abcd', 0, 6], ['abcd', LINE_TRUNCATED, 13]], chunks.join('|'));
    t.is(splitter.takeSkipped(), 2, 'the cut byte and the \\r of the truncated line');
  }
});

test('finish() emits an unterminated last line', (t) => {
  const { splitter, offset } = split(100, ['tail']);
  const out: string[] = [];
  t.true(splitter.finish(offset, (l) => out.push(l)));
  t.deepEqual(out, ['tail']);
  t.false(splitter.finish(offset, () => t.fail()));
});

/** A small deterministic PRNG, so that a failing case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Lines of every kind the fast (all-ASCII) and the line-by-line paths meet. */
function mixedInput(rand: () => number, max: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    const r = rand();
    const len = Math.floor(rand() * (r < 0.1 ? 3 * max : 60));
    if (r < 0.6) parts.push(Buffer.from('a'.repeat(len).replace(/a/g, () => String.fromCharCode(32 + Math.floor(rand() * 95)))));
    else if (r < 0.75) parts.push(Buffer.from('é€😀x'.repeat(1 + (len >> 2))));
    else if (r < 0.85) parts.push(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x62].slice(0, 1 + (len % 5))));
    else if (r < 0.92) parts.push(Buffer.from([0x00, 0x0d, 0x41, 0x00].slice(0, 1 + (len % 4))));
    else parts.push(Buffer.alloc(len, 0x41));
    parts.push(Buffer.from(rand() < 0.3 ? '\r\n' : '\n'));
  }
  parts.push(Buffer.from('tail without newline\r'));
  return Buffer.concat(parts);
}

test('any chunking gives the lines, flags, end offsets and skipped bytes of feeding the input at once', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = prng(seed);
    const max = 16 + Math.floor(rand() * 200);
    const input = mixedInput(rand, max);
    const whole = split(max, [input]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; ) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 2000));
      chunks.push(input.subarray(at, at + n));
      at += n;
    }
    const chunked = split(max, chunks);
    t.deepEqual(chunked.out, whole.out, `seed ${seed}`);
    t.is(chunked.splitter.takeSkipped(), whole.splitter.takeSkipped(), `seed ${seed}`);
    t.is(chunked.splitter.pendingBytes, whole.splitter.pendingBytes, `seed ${seed}`);
    const last = (r: ReturnType<typeof split>) => {
      const out: [string, number, number][] = [];
      r.splitter.finish(r.offset, (line, flags, end) => out.push([line, flags, end]));
      return out;
    };
    t.deepEqual(last(chunked), last(whole), `seed ${seed}: the unterminated last line`);
  }
});

test('all-ASCII input: exactly the lines of a plain split, cut at the limit', (t) => {
  const rand = prng(7);
  const max = 50;
  let text = '';
  for (let i = 0; i < 2000; i++) text += 'x'.repeat(Math.floor(rand() * 120)) + '\n';
  const input = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += 4096) chunks.push(input.subarray(at, at + 4096));
  const { out, splitter } = split(max, chunks);
  let end = 0;
  const expected = text
    .split('\n')
    .slice(0, -1)
    .map((l): [string, number, number] => {
      end += l.length + 1;
      return [l.slice(0, max), l.length > max ? LINE_TRUNCATED : 0, end];
    });
  t.deepEqual(out, expected);
  t.is(splitter.takeSkipped(), text.split('\n').reduce((n, l) => n + Math.max(0, l.length - max), 0));
});
