// The log record every parser produces and `parse` prints, one JSON object per line.
// Stable: fields are only ever added. Documented in docs/records.md.

/** Which log the record came from: the per-domain QEMU log, or libvirtd's own log (journal, stderr, container). */
export type LogSource = 'qemu' | 'libvirtd';

/** libvirt's priority names plus the syslog ones a journal PRIORITY can carry. */
export type LogLevel =
  | 'emergency'
  | 'alert'
  | 'critical'
  | 'error'
  | 'warning'
  | 'notice'
  | 'info'
  | 'debug'
  | 'unknown';

export type RecordKind =
  /** QEMU log header `starting up libvirt version: …`. */
  | 'domain_start'
  /** The environment + QEMU command line, folded into one record. */
  | 'command_line'
  | 'taint'
  /** `char device redirected to /dev/pts/N (label L)`. */
  | 'chardev'
  /** `shutting down, reason=R`. */
  | 'domain_shutdown'
  /** `initiating migration` / `resuming migration`. */
  | 'migration'
  | 'panic'
  | 'external_device'
  /** Any other line libvirtd writes into a QEMU log. */
  | 'libvirt_message'
  /** QEMU `terminating on signal N[ from pid P (process)]`. */
  | 'qemu_signal'
  /** Any other QEMU error/warning/info report. */
  | 'qemu_message'
  /** A line in libvirt's log format (libvirtd text, journal entry, a forked child's line in a QEMU log). */
  | 'libvirt_log'
  /** A journal entry of the unit not written by libvirt (e.g. systemd's `Started libvirtd.service`). */
  | 'service_message'
  /** Nothing matched: `message` holds the raw text. */
  | 'unparsed';

export interface LogRecord {
  /** ISO 8601 UTC with the source's precision (ms for libvirt, µs for QEMU and the journal, ns for CRI); null if unknown. */
  time: string | null;
  source: LogSource;
  /** Domain name (QEMU logs; a libvirtd message that names one), null where the log does not name one. */
  domain: string | null;
  kind: RecordKind;
  level: LogLevel;
  message: string;

  // Identity (docs/records.md#identity): the same names as the exporter's labels.
  /** The domain's libvirt UUID (canonical, lower-case); in OpenStack also the Nova instance's id. */
  uuid?: string;
  /** Nova's metadata of the domain (sidecar with --libvirt.uri): the instance's display name and its project. */
  instance_name?: string;
  project_id?: string;

  /** `time` was taken from the preceding record: the line itself carries no timestamp. */
  time_inferred?: true;
  /** The line exceeded the line limit, or the record the multiline limit, and was cut. */
  truncated?: true;
  /** The input was not valid UTF-8; invalid bytes were replaced by U+FFFD. */
  invalid_utf8?: true;
  /**
   * The line's own timestamp text when it has the shape of one but names no real instant
   * (`2024-13-45 99:99:99.999+0000`); `time` is then inferred as for a line without one.
   */
  invalid_time?: string;

  // domain_start
  libvirt_version?: string;
  libvirt_package?: string;
  qemu_version?: string;
  qemu_package?: string;
  kernel?: string;
  hostname?: string;
  // command_line
  binary?: string;
  // taint
  domain_id?: number;
  taint?: string;
  taint_detail?: string;
  // chardev
  pty?: string;
  label?: string;
  // domain_shutdown
  reason?: string;
  // migration
  phase?: 'initiating' | 'resuming';
  // panic
  panic_info?: string;
  // external_device
  device?: string;
  command?: string;
  // qemu_signal, qemu_message
  program?: string;
  qemu_thread?: string;
  option?: string;
  signal?: number;
  sender_pid?: number;
  sender_process?: string;
  // libvirt_log (text line and journal)
  thread?: number;
  function?: string;
  line?: number;
  file?: string;
  libvirt_source?: string;
  error_domain?: number;
  error_code?: number;
  // journal entries
  cursor?: string;
  boot_id?: string;
  pid?: number;
  unit?: string;
  // CRI container lines
  stream?: 'stdout' | 'stderr';
}

/** Per-line input flags (bit set), carried into the record built from the line. */
export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;

/** Sets the `truncated`/`invalid_utf8` fields from line flags. */
export function applyLineFlags(record: LogRecord, flags: number): LogRecord {
  if (flags & LINE_TRUNCATED) record.truncated = true;
  if (flags & LINE_INVALID_UTF8) record.invalid_utf8 = true;
  return record;
}

/** A stateful parser of one stream of lines. */
export interface RecordParser {
  /** Feeds one line (without its line terminator); returns the records it completes, often none. */
  push(line: string, flags?: number): readonly LogRecord[];
  /** Completes any record still waiting for continuation lines (at end of input or on a flush timer). */
  flush(): readonly LogRecord[];
  /** True while lines are held for a record that is not complete yet (what `flush` would emit). */
  readonly pending: boolean;
  /**
   * A parser of one domain's log (QEMU): the domain's uuid as of the records emitted so far, null while
   * unknown; settable when it was learnt elsewhere. Absent on parsers of logs that name many domains.
   */
  uuid?: string | null;
}

/** Returned when a line completes no record, so the hot path allocates nothing. */
export const NO_RECORDS: readonly LogRecord[] = Object.freeze([]);
