// Stateful parsers of the two text logs: the per-domain QEMU log and libvirtd's text output.
// Lines are folded into records by the same multiline shapes Fluent Bit uses, then each record
// goes through the same parser chain.

import { ShapeChain } from './chain.js';
import { MultilineFolder } from './multiline.js';
import type { MultilineShape } from './shape.js';
import { LIBVIRTD_CHAIN, LIBVIRTD_MULTILINE, QEMU_CHAIN, QEMU_MULTILINE } from './shapes.js';
import { applyLineFlags, NO_RECORDS, type LogRecord, type RecordParser } from './record.js';

/** Default limit of one folded record (a QEMU command line is 3–4 KiB). */
export const DEFAULT_MAX_RECORD_CHARS = 1024 * 1024;

const QEMU_SHAPES = new ShapeChain(QEMU_CHAIN, 'qemu');
const LIBVIRTD_SHAPES = new ShapeChain(LIBVIRTD_CHAIN, 'libvirtd');

export interface QemuLogParserOptions {
  /** Domain name recorded in every record (the log file is `<domain>.log`). */
  readonly domain?: string | null;
  readonly maxRecordChars?: number;
}

export interface TextLogParser extends RecordParser {
  /**
   * `fallbackTime` (ISO) is the time of a record whose text carries none, e.g. the CRI timestamp
   * of a container line; without it such a record takes the preceding record's time.
   */
  push(line: string, flags?: number, fallbackTime?: string | null): readonly LogRecord[];
}

class FoldingParser implements TextLogParser {
  private readonly folder: MultilineFolder<string | null>;
  private out: LogRecord[] | null = null;
  private lastTime: string | null = null;

  constructor(
    multiline: MultilineShape,
    private readonly chain: ShapeChain,
    private readonly domain: string | null,
    maxRecordChars: number,
  ) {
    this.folder = new MultilineFolder(multiline, (text, flags, fallbackTime) => this.emit(text, flags, fallbackTime), maxRecordChars);
  }

  push(line: string, flags = 0, fallbackTime: string | null = null): readonly LogRecord[] {
    this.out = null;
    this.folder.push(line, flags, fallbackTime);
    return this.out ?? NO_RECORDS;
  }

  get pending(): boolean {
    return this.folder.pending;
  }

  flush(): readonly LogRecord[] {
    this.out = null;
    this.folder.flush();
    return this.out ?? NO_RECORDS;
  }

  private emit(text: string, flags: number, fallbackTime: string | null): void {
    const record = this.chain.parse(text, this.domain);
    if (record.time !== null) this.lastTime = record.time;
    else if (fallbackTime !== null) record.time = fallbackTime;
    else if (this.lastTime !== null) {
      record.time = this.lastTime;
      record.time_inferred = true;
    }
    if (flags !== 0) applyLineFlags(record, flags);
    (this.out ??= []).push(record);
  }
}

/** Parser of `/var/log/libvirt/qemu/<domain>.log`. */
export function createQemuLogParser(options: QemuLogParserOptions = {}): TextLogParser {
  return new FoldingParser(QEMU_MULTILINE, QEMU_SHAPES, options.domain ?? null, options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS);
}

/** Parser of libvirtd's text output (stderr, log file, or the lines inside a container log). */
export function createLibvirtdTextParser(options: { readonly maxRecordChars?: number } = {}): TextLogParser {
  return new FoldingParser(LIBVIRTD_MULTILINE, LIBVIRTD_SHAPES, null, options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS);
}
