import test from 'ava';
import { LineSplitter } from '../../../sidecar/line-splitter.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED } from '../../../parsers/record.js';
import { notAfter, parseCursor } from '../../../sidecar/journal-cursor.js';

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

test('finish() emits an unterminated last line', (t) => {
  const { splitter, offset } = split(100, ['tail']);
  const out: string[] = [];
  t.true(splitter.finish(offset, (l) => out.push(l)));
  t.deepEqual(out, ['tail']);
  t.false(splitter.finish(offset, () => t.fail()));
});

test('journal cursors: strict format, dedupe within one seqnum id only', (t) => {
  const c = parseCursor(`s=${'a'.repeat(32)};i=1f;b=${'b'.repeat(32)};m=9;t=6;x=7`)!;
  t.is(c.seqnum, 31n);
  t.is(parseCursor('s=zz;i=1'), undefined);
  t.true(notAfter({ ...c, seqnum: 30n }, c));
  t.false(notAfter({ ...c, seqnum: 32n }, c));
  t.false(notAfter({ ...c, seqnumId: 'c'.repeat(32), seqnum: 1n }, c));
});
