// Stateful parsers of the two text logs: the per-domain QEMU log and libvirtd's text output.
// Lines are folded into records by the same multiline shapes Fluent Bit uses, then each record
// goes through the same parser chain.

import { ShapeChain } from './chain.js';
import { MultilineFolder } from './multiline.js';
import { nameDomain } from './domain-mention.js';
import { QemuLogIdentity } from './qemu-identity.js';
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
  /** The domain's uuid before the log names it: where a restart resumes in the middle of a file. */
  readonly uuid?: string | null;
  readonly maxRecordChars?: number;
}

export interface TextLogParser extends RecordParser {
  /**
   * `fallbackTime` (ISO) is the time of a record whose text carries none, e.g. the CRI timestamp
   * of a container line; without it such a record takes the preceding record's time.
   */
  push(line: string, flags?: number, fallbackTime?: string | null): readonly LogRecord[];
}

/** A QEMU log parser: its records carry the domain's uuid once known (parsers/qemu-identity.ts). */
export interface QemuLogParser extends TextLogParser {
  /** The uuid as of the records emitted so far; set it when it was learnt elsewhere (a libvirt lookup). */
  uuid: string | null;
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
    /** Stamps each record with the domain's uuid (QEMU logs); null for logs of many domains. */
    protected readonly identity: QemuLogIdentity | null = null,
  ) {
    this.folder = new MultilineFolder(multiline, (text, flags, fallbackTime) => this.emit(text, flags, fallbackTime), maxRecordChars);
  }

  push(line: string, flags = 0, fallbackTime: string | null = null): readonly LogRecord[] {
    this.out = null;
    this.folder.push(line, flags, fallbackTime);
    return this.out ?? NO_RECORDS;
  }

  get pending(): boolean {
    return this.folder.pending || this.identity?.pending === true;
  }

  flush(): readonly LogRecord[] {
    this.out = null;
    this.folder.flush();
    if (this.identity?.pending) this.identity.release((this.out ??= []));
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
    // One domain's log is stamped with its uuid; libvirtd's log names a domain per message, if any.
    if (this.identity !== null) this.identity.add(record, (this.out ??= []));
    else (this.out ??= []).push(nameDomain(record));
  }
}

class QemuFoldingParser extends FoldingParser implements QemuLogParser {
  get uuid(): string | null {
    return this.identity!.uuid;
  }

  set uuid(uuid: string | null) {
    this.identity!.uuid = uuid;
  }
}

/** Parser of `/var/log/libvirt/qemu/<domain>.log`. */
export function createQemuLogParser(options: QemuLogParserOptions = {}): QemuLogParser {
  const identity = new QemuLogIdentity(options.uuid ?? null);
  return new QemuFoldingParser(QEMU_MULTILINE, QEMU_SHAPES, options.domain ?? null, options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS, identity);
}

/** Parser of libvirtd's text output (stderr, log file, or the lines inside a container log). */
export function createLibvirtdTextParser(options: { readonly maxRecordChars?: number } = {}): TextLogParser {
  return new FoldingParser(LIBVIRTD_MULTILINE, LIBVIRTD_SHAPES, null, options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS);
}
