import test from 'ava';
import { notAfter, parseCursor } from '../../../sidecar/journal-cursor.js';

test('journal cursors: strict format, dedupe within one seqnum id only', (t) => {
  const c = parseCursor(`s=${'a'.repeat(32)};i=1f;b=${'b'.repeat(32)};m=9;t=6;x=7`)!;
  t.is(c.seqnum, 31n);
  t.is(parseCursor('s=zz;i=1'), undefined);
  t.true(notAfter({ ...c, seqnum: 30n }, c));
  t.false(notAfter({ ...c, seqnum: 32n }, c));
  t.false(notAfter({ ...c, seqnumId: 'c'.repeat(32), seqnum: 1n }, c));
});
