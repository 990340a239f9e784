// Writers that behave like the real producers of QEMU logs, for tests: appends numbered QEMU
// lines (one record each) and rotates like virtlogd (rename chain) or logrotate (copytruncate).
import { closeSync, copyFileSync, existsSync, fstatSync, ftruncateSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** One QEMU `error_report` line carrying a sequence number; the QEMU parser makes one record of it. */
export function qemuLine(seq: number): string {
  const t = new Date(Date.UTC(2026, 10, 30, 10, 0, 0) + seq).toISOString().replace('Z', '123Z');
  return `${t} qemu-system-x86_64: warning: test sequence ${seq}\n`;
}

/** The QEMU-style lines with sequence numbers [from, to), concatenated. */
export function qemuLines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += qemuLine(i);
  return s;
}

export const SEQ = /test sequence (\d+)$/;

/** The sequence numbers in records, in order. */
export function sequences(records: readonly Record<string, unknown>[]): number[] {
  const out: number[] = [];
  for (const r of records) {
    const m = SEQ.exec(String(r['message'] ?? ''));
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Whether every sequence number below `end` is among `seen`. */
export function allBelow(seen: Iterable<number>, end: number): boolean {
  const present = new Set(seen);
  for (let i = 0; i < end; i++) if (!present.has(i)) return false;
  return true;
}

export interface Tally {
  readonly lost: number[];
  readonly duplicates: number;
  readonly outOfOrder: number;
}

/** Compares what was written (0..written-1) with what came out. */
export function tally(seen: readonly number[], written: number): Tally {
  const counts = new Map<number, number>();
  let outOfOrder = 0;
  let last = -1;
  for (const s of seen) {
    counts.set(s, (counts.get(s) ?? 0) + 1);
    if (s < last) outOfOrder++;
    last = s;
  }
  const lost: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < written; i++) {
    const n = counts.get(i) ?? 0;
    if (n === 0) lost.push(i);
    else duplicates += n - 1;
  }
  return { lost, duplicates, outOfOrder };
}

/** Appends like virtlogd: one open fd; past maxSize, x.log -> x.log.0 -> x.log.1 ... and a new x.log. */
export class RotatingWriter {
  private fd: number;
  seq = 0;
  rotations = 0;
  /** The first sequence number after each rotation (index k: after rotation k; 0 before the first). */
  private readonly rotatedAt = [0];

  constructor(
    readonly path: string,
    readonly maxSize: number,
    readonly backups = 3,
    readonly mode: 'rename' | 'copytruncate' = 'rename',
  ) {
    this.fd = openSync(path, 'a');
  }

  write(lines: number): void {
    let text = '';
    for (let i = 0; i < lines; i++) text += qemuLine(this.seq++);
    writeSync(this.fd, text);
    if (fstatSync(this.fd).size >= this.maxSize) this.rotate();
  }

  /**
   * Lines below this sequence number are gone after the next rotation: it deletes (rename) or overwrites
   * (copytruncate) the oldest backup. A follower that has not read them by then loses them by nature, so a
   * test asserting "nothing lost" waits for them before writing on (0: the next rotation deletes nothing).
   */
  deletedByNextRotation(): number {
    return this.rotatedAt[this.rotations + 1 - this.backups] ?? 0;
  }

  rotate(): void {
    this.rotations++;
    this.rotatedAt.push(this.seq);
    const { path, backups } = this;
    if (this.mode === 'copytruncate') {
      for (let i = backups - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      copyFileSync(path, `${path}.1`);
      ftruncateSync(this.fd, 0);
      return;
    }
    closeSync(this.fd);
    rmSync(`${path}.${backups - 1}`, { force: true });
    for (let i = backups - 2; i >= 0; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    renameSync(path, `${path}.0`);
    this.fd = openSync(path, 'a');
  }

  close(): void {
    closeSync(this.fd);
  }
}
