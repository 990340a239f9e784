// libvirtd's journal through `journalctl --follow --output=json`, started and restarted by the
// sidecar with backoff. Resuming uses `--cursor` (inclusive) plus our own dedupe by seqnum, not
// `--after-cursor`, which skips one entry unconditionally and so loses one when the cursor's
// entry was vacuumed or does not match the active filter.
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { recordBatch, type BatchIntake, type JournalCheckpoint } from './batch.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { DomainIdentities } from './domain-identities.js';
import { cursorOfLine, notAfter, parseCursor, type Cursor } from './journal-cursor.js';
import type { InputState, Source } from './source.js';
import { LineSplitter } from '../parsers/lines.js';
import type { Logger } from '../runtime/log.js';
import type { Metrics } from './metrics.js';
import { LINE_INVALID_UTF8, LINE_TRUNCATED, type LogRecord, type RecordParser } from '../parsers/record.js';

export interface JournalOptions {
  readonly journalctl: string;
  /** journalctl matches, e.g. `_SYSTEMD_UNIT=libvirtd.service` (same field ORed, different fields ANDed, `+` between groups). */
  readonly matches: readonly string[];
  readonly directory?: string | undefined;
  readonly files: readonly string[];
  readonly namespace?: string | undefined;
  /** How far back to read when there is no usable cursor. */
  readonly fallbackAgeMs: number;
  /** No cursor at all (first start): read the fallback age window (head) or only new entries (tail). */
  readonly startAt: 'head' | 'tail';
  readonly maxLineBytes: number;
  readonly tag: string;
  readonly intake: BatchIntake;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly store: CheckpointStore;
  readonly newParser: () => RecordParser;
  /** Gives records that name a domain its uuid (and Nova's fields). */
  readonly identities: DomainIdentities;
}

type StartMode = { cursor: string } | { sinceMs: number } | { tail: true };

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A journalctl that ran this long was healthy: the next failure starts the backoff over. */
const HEALTHY_RUN_MS = 30_000;

/** The running kernel's boot id as journald writes it (no dashes). */
export function currentBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '');
}

export class JournalSource implements Source {
  private child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private stopped = false;
  private backoff = BACKOFF_FIRST_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private mode: StartMode = { tail: true };
  /** Entries at or before this one in its journal were delivered already (or are queued). */
  private floor: Cursor | undefined;
  private lastRead: Cursor | undefined;
  private parser: RecordParser;
  private stderrTail = '';
  private exited: Promise<void> = Promise.resolve();
  private out: LogRecord[] = [];
  private outCursor: string | undefined;
  private outLines = 0;
  private outTruncated = 0;
  private outInvalid = 0;

  constructor(
    private readonly opts: JournalOptions,
    private readonly bootId: string = currentBootId(),
  ) {
    this.parser = opts.newParser();
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  state(): InputState {
    return { up: this.running, reason: this.running ? null : 'journalctl is restarting' };
  }

  private sourceArgs(): string[] {
    const args: string[] = [];
    if (this.opts.directory) args.push(`--directory=${this.opts.directory}`);
    for (const file of this.opts.files) args.push(`--file=${file}`);
    if (this.opts.namespace) args.push(`--namespace=${this.opts.namespace}`);
    return args;
  }

  async start(): Promise<void> {
    this.mode = await this.initialMode();
    this.spawn();
  }

  /** Decides where to begin from the stored cursor; an unusable cursor is counted and falls back to the age window. */
  private async initialMode(): Promise<StartMode> {
    const { store, metrics, log, fallbackAgeMs } = this.opts;
    const fallback: StartMode = { sinceMs: Date.now() - fallbackAgeMs };
    const stored = store.journal();
    if (!stored) return this.opts.startAt === 'head' ? fallback : { tail: true };
    const cursor = parseCursor(stored.cursor);
    if (!cursor) {
      metrics.cursorResets.inc({ reason: 'malformed' });
      log.warn(`stored journal cursor is malformed (${JSON.stringify(stored.cursor.slice(0, 80))}); ignored, reading the last ${fallbackAgeMs / 1000}s`);
      store.forgetJournal();
      return fallback;
    }
    this.floor = cursor;
    if (cursor.bootId !== this.bootId) {
      // journalctl --follow shows only the current boot: the rest of that boot is out of reach.
      metrics.cursorResets.inc({ reason: 'other_boot' });
      log.warn(`stored journal cursor is from another boot (${cursor.bootId}); reading the last ${fallbackAgeMs / 1000}s of this boot`);
      return fallback;
    }
    const first = await this.probe(cursor.text);
    if (first === undefined) return { cursor: cursor.text };
    const found = parseCursor(first);
    if (found && found.seqnumId === cursor.seqnumId) return { cursor: cursor.text };
    metrics.cursorResets.inc({ reason: 'vanished' });
    log.warn(`the journal of the stored cursor is gone (first entry at it belongs to another journal); reading the last ${fallbackAgeMs / 1000}s`);
    return fallback;
  }

  /** Cursor of the first entry at or after `cursor` (the entry itself if it still exists). */
  private probe(cursor: string): Promise<string | undefined> {
    const args = [...this.sourceArgs(), `--cursor=${cursor}`, '--lines=1', '--output=json', '--all', '--no-pager', ...this.opts.matches];
    return new Promise((resolve) =>
      execFile(this.opts.journalctl, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
        if (err && !stdout) {
          this.opts.log.warn(`journalctl cursor probe failed: ${String(err.message).split('\n')[0]}`);
          return resolve(undefined);
        }
        resolve(cursorOfLine(stdout.split('\n', 1)[0] ?? ''));
      }),
    );
  }

  private followArgs(): string[] {
    const m = this.mode;
    const position =
      'cursor' in m ? [`--cursor=${m.cursor}`, '--lines=all'] : 'sinceMs' in m ? [`--since=@${Math.floor(m.sinceMs / 1000)}`, '--lines=all'] : ['--lines=0'];
    return [...this.sourceArgs(), '--follow', '--output=json', '--all', '--no-pager', ...position, ...this.opts.matches];
  }

  private spawn(): void {
    if (this.stopped) return;
    const started = Date.now();
    const child = spawn(this.opts.journalctl, this.followArgs(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.stderrTail = '';
    const splitter = new LineSplitter(this.opts.maxLineBytes);
    let offset = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (this.stderrTail = (this.stderrTail + text).slice(-2000)));
    child.stdout.on('data', (chunk: Buffer) => {
      child.stdout.pause();
      splitter.feed(chunk, offset, this.onLine);
      offset += chunk.length;
      const skipped = splitter.takeSkipped();
      if (skipped) this.opts.metrics.truncatedBytes.inc({ source: 'journal' }, skipped);
      this.opts.metrics.bytesRead.inc({ source: 'journal' }, chunk.length);
      this.emit().then(
        () => child.stdout.resume(),
        () => undefined, // queue closed: shutting down
      );
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        this.opts.log.warn(`cannot run ${this.opts.journalctl}: ${err.message}`);
      });
      child.on('close', (code, signal) => {
        this.child = undefined;
        resolve();
        if (this.stopped) return;
        if (Date.now() - started >= HEALTHY_RUN_MS) this.backoff = BACKOFF_FIRST_MS;
        const why = this.stderrTail.trim().split('\n').pop() ?? '';
        this.opts.metrics.journalctlRestarts.inc();
        this.opts.log.warn(`journalctl exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}; restarting in ${this.backoff / 1000}s`);
        // Continue after the last entry read in this run; the floor drops it if shown again.
        if (this.lastRead) this.mode = { cursor: this.lastRead.text };
        this.restartTimer = setTimeout(() => this.spawn(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      });
    });
  }

  private readonly onLine = (line: string, flags: number): void => {
    const text = cursorOfLine(line);
    const cursor = text === undefined ? undefined : parseCursor(text);
    if (cursor) {
      if (notAfter(cursor, this.floor)) return;
      this.floor = cursor;
      this.lastRead = cursor;
    }
    this.outLines++;
    if (flags & LINE_TRUNCATED) this.outTruncated++;
    if (flags & LINE_INVALID_UTF8) this.outInvalid++;
    // A journal entry is complete in itself: flushing keeps the checkpoint at this entry.
    for (const r of this.parser.push(line, flags)) this.out.push(r);
    for (const r of this.parser.flush()) this.out.push(r);
    if (cursor) this.outCursor = cursor.text;
  };

  private async emit(): Promise<void> {
    const { metrics } = this.opts;
    if (this.outLines) metrics.linesRead.inc({ source: 'journal' }, this.outLines);
    if (this.outTruncated) metrics.truncations.inc({ source: 'journal' }, this.outTruncated);
    if (this.outInvalid) metrics.invalidUtf8.inc({ source: 'journal' }, this.outInvalid);
    this.outLines = this.outTruncated = this.outInvalid = 0;
    if (this.out.length === 0 && this.outCursor === undefined) return;
    const records = this.out;
    const at: JournalCheckpoint | undefined = this.outCursor ? { cursor: this.outCursor } : undefined;
    this.out = [];
    this.outCursor = undefined;
    const asking = this.opts.identities.identify(records);
    if (asking) await asking;
    await this.opts.intake.accept(recordBatch('journal', this.opts.tag, records, at ? [{ journal: at }] : []));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      // Unread output would keep the 'close' event from firing.
      child.stdout.destroy();
      child.stderr.destroy();
    }
    await this.exited;
  }
}
