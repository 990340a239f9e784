// journald cursors: `s=<seqnum id>;i=<seqnum>;b=<boot id>;m=<monotonic>;t=<realtime>;x=<xor hash>`,
// all hex. Within one seqnum id the seqnum orders entries, which is what the dedupe compares.

export interface Cursor {
  readonly seqnumId: string;
  readonly seqnum: bigint;
  readonly bootId: string;
  readonly text: string;
}

const CURSOR = /^s=([0-9a-f]{32});i=([0-9a-f]{1,16});b=([0-9a-f]{32});m=[0-9a-f]{1,16};t=[0-9a-f]{1,16};x=[0-9a-f]{1,16}$/;

export function parseCursor(text: string): Cursor | undefined {
  const m = CURSOR.exec(text);
  return m ? { seqnumId: m[1]!, seqnum: BigInt(`0x${m[2]}`), bootId: m[3]!, text } : undefined;
}

/** True if `entry` is at or before `floor` in the same journal (already delivered). */
export function notAfter(entry: Cursor, floor: Cursor | undefined): boolean {
  return floor !== undefined && entry.seqnumId === floor.seqnumId && entry.seqnum <= floor.seqnum;
}

const CURSOR_FIELD = /"__CURSOR":"([^"]+)"/;

/** The `__CURSOR` of a `journalctl -o json` line, found without parsing the whole entry. */
export function cursorOfLine(line: string): string | undefined {
  return CURSOR_FIELD.exec(line)?.[1];
}
