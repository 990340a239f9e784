// Every line shape of the libvirt/QEMU log grammar, defined once. Fluent Bit renders them into
// [PARSER] sections (parsers/fluentbit.ts); the TypeScript parsers compile the same patterns.
// Formats and their sources: libvirt's log line (src/util/virlog.c virLogFormatString(), timestamps from
// src/util/virtime.c; libvirt's docs/logging.rst), the QEMU domain log written by src/qemu/qemu_process.c
// and QEMU's util/qemu-error.c, and the CRI log line of containerd's internal/cri/io/logger.go.
//
// Patterns use [0-9] rather than \d and never `\s`/`\S`/`\w`: the two engines disagree on what
// those classes contain outside ASCII.

import type { LineShape, MultilineShape, TimeSpec } from './shape.js';

const DATE = '[0-9]{4}-[0-9]{2}-[0-9]{2}';
const CLOCK = '[0-9]{2}:[0-9]{2}:[0-9]{2}';

/** libvirt's own timestamp, `virTimeStringThenRaw()`: always UTC, milliseconds, literal `+0000`. */
export const LIBVIRT_TIME = `${DATE} ${CLOCK}\\.[0-9]{3}[+-][0-9]{4}`;

/** QEMU's `-msg timestamp=on` prefix: ISO 8601 UTC, microseconds, fraction omitted when µs = 0. */
export const QEMU_TIME = `${DATE}T${CLOCK}(?:\\.[0-9]+)?Z`;

/** Fields in range (month 01–12, day 01–31, hour 00–23, minute and second 00–59). */
const IN_RANGE_DATE = '[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])';
const IN_RANGE_CLOCK = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]';

/**
 * A record's timestamp: `time` when its fields are in range, else the text as `invalid_time` (the
 * record keeps its fields). Fluent Bit parses only `time` (Time_Key), so a timestamp out of range
 * gives the record the read time and keeps the text instead of a wrong or failed time; the
 * TypeScript parsers also reject days past the month's end (time.ts).
 */
function timestampField(shapeOnly: string, inRange: string): string {
  return `(?:(?<time>${inRange})|(?<invalid_time>${shapeOnly}))`;
}

export const LIBVIRT_TIME_FIELD = timestampField(LIBVIRT_TIME, `${IN_RANGE_DATE} ${IN_RANGE_CLOCK}\\.[0-9]{3}[+-][0-9]{4}`);
export const QEMU_TIME_FIELD = timestampField(QEMU_TIME, `${IN_RANGE_DATE}T${IN_RANGE_CLOCK}(?:\\.[0-9]+)?Z`);

/** `virLogPriorityString()`. */
const LIBVIRT_LEVELS = 'debug|info|warning|error|unknown';

/** Start of a line in libvirt's fd-output format (`virLogOutputToFd()`), as libvirt's own `VIR_LOG_REGEX`. */
const LIBVIRT_LOG_PREFIX = `${LIBVIRT_TIME}: [0-9]+: (?:${LIBVIRT_LEVELS}) : `;

/** `virCommandToString(cmd, true)` ends every line but the last of the command line with this. */
const COMMAND_LINE_CONTINUATION = ' \\\\';

/**
 * `message` to the end of a multi-line (dotAll) text, without the newline that may end it: Fluent Bit ends
 * every in_tail multiline record with `\n` unless the multiline parser sets Key_Content, and a
 * libvirt message may end with one. Captures must be the same either way.
 */
const MESSAGE_TO_END = '(?<message>(?:.*[^\\n])?)\\n?';

/** `qemuExtDeviceLogCommand()`: `"%s: Starting external device: %s\n%s\n"`. */
const EXTERNAL_DEVICE = 'Starting external device: ';

/** QEMU `print_loc()`: `<prgname>:`, optionally `(<tid>:<thread name>)` (pending QEMU series, see §2.2). */
const QEMU_PROGRAM = '(?<program>[^ :(]+)(?:\\((?<qemu_thread>[^)]*)\\))?';

const LIBVIRT_TIME_SPEC: TimeSpec = { key: 'time', format: '%Y-%m-%d %H:%M:%S.%L%z', keep: false, strict: true };
const QEMU_TIME_SPEC: TimeSpec = { key: 'time', format: '%Y-%m-%dT%H:%M:%S.%L%z', keep: false, strict: false };
/** RFC3339Nano trims trailing zeros and may drop the fraction entirely. */
const CRI_TIME_SPEC: TimeSpec = { key: 'time', format: '%Y-%m-%dT%H:%M:%S.%L%z', keep: false, strict: false };

/** A line libvirtd writes into the domain log: `<LIBVIRT_TIME>: <body>`. */
function libvirtWritten(name: string, description: string, body: string, extra: Partial<LineShape> = {}): LineShape {
  return { name, description, pattern: `^${LIBVIRT_TIME_FIELD}: ${body}$`, time: LIBVIRT_TIME_SPEC, ...extra };
}

/** A line QEMU reports through `error_report()`/`warn_report()`/`info_report()`. */
function qemuReported(name: string, description: string, body: string, extra: Partial<LineShape> = {}): LineShape {
  return { name, description, pattern: `^${QEMU_TIME_FIELD} ${QEMU_PROGRAM}: ${body}$`, time: QEMU_TIME_SPEC, ...extra };
}

// --- libvirtd's text line (stderr, file output; also forked children's lines in a domain log) ---

export const LIBVIRTD_LINE: LineShape = {
  name: 'libvirt_daemon_line',
  description:
    'libvirtd text line `<time>: <thread>: <level> : [<function>:<line> : ]<message>`; `.` spans the joined continuation lines',
  pattern:
    `^${LIBVIRT_TIME_FIELD}: (?<thread>[0-9]+): (?<level>${LIBVIRT_LEVELS}) : ` +
    `(?:(?<function>[A-Za-z_][A-Za-z0-9_]*):(?<line>[0-9]+) : )?${MESSAGE_TO_END}$`,
  dotAll: true,
  time: LIBVIRT_TIME_SPEC,
  types: { thread: 'integer', line: 'integer' },
  kind: 'libvirt_log',
  level: 'unknown',
};

// --- the per-domain QEMU log /var/log/libvirt/qemu/<domain>.log ---

export const QEMU_START: LineShape = libvirtWritten(
  'libvirt_qemu_start',
  '`qemuLogOperation()` header: libvirt version[, package], qemu version immediately followed by its package, kernel, hostname',
  '(?<message>starting up libvirt version: (?<libvirt_version>[^,]+)(?:, package: (?<libvirt_package>.*?))?, ' +
    'qemu version: (?<qemu_version>[0-9]+\\.[0-9]+\\.[0-9]+)(?<qemu_package>.*?), kernel: (?<kernel>.*?), hostname: (?<hostname>.*))',
  { kind: 'domain_start', level: 'info' },
);

export const QEMU_TAINT: LineShape = libvirtWritten(
  'libvirt_qemu_taint',
  '`qemuDomainObjTaintMsg()`: `Domain id=N is tainted: <flag>[ (<detail>)]`',
  '(?<message>Domain id=(?<domain_id>[0-9]+) is tainted: (?<taint>[^ \\n]+)(?: \\((?<taint_detail>.*)\\))?)',
  { kind: 'taint', level: 'warning', types: { domain_id: 'integer' } },
);

export const QEMU_SHUTDOWN: LineShape = libvirtWritten(
  'libvirt_qemu_shutdown',
  '`qemuProcessStop()`: `shutting down, reason=<virDomainShutoffReason>` (`from snapshot` contains a space)',
  '(?<message>shutting down, reason=(?<reason>.*))',
  { kind: 'domain_shutdown', level: 'info' },
);

export const QEMU_MIGRATION: LineShape = libvirtWritten(
  'libvirt_qemu_migration',
  '`qemuMigrationSrcStart()`: `initiating migration` / `resuming migration`',
  '(?<message>(?<phase>initiating|resuming) migration)',
  { kind: 'migration', level: 'info' },
);

export const QEMU_PANIC: LineShape = libvirtWritten(
  'libvirt_qemu_panic',
  '`qemuProcessGuestPanicEventInfo()`: `panic <hyper-v|s390 details>`',
  '(?<message>panic (?<panic_info>.*))',
  { kind: 'panic', level: 'error' },
);

export const QEMU_EXTERNAL_DEVICE: LineShape = {
  name: 'libvirt_qemu_external_device',
  description: '`qemuExtDeviceLogCommand()`: `Starting external device: <name>`, the helper command on the next line',
  pattern: `^${LIBVIRT_TIME_FIELD}: (?<message>${EXTERNAL_DEVICE}(?<device>[^\\n]*))(?:\\n(?<command>[^\\n]+))?\\n?$`,
  time: LIBVIRT_TIME_SPEC,
  kind: 'external_device',
  level: 'info',
};

export const QEMU_LIBVIRT_MESSAGE: LineShape = libvirtWritten(
  'libvirt_qemu_libvirt_message',
  'any other line libvirtd writes into the domain log (`<time>: <message>`)',
  '(?<message>.*)',
  { kind: 'libvirt_message', level: 'info' },
);

export const QEMU_SIGNAL: LineShape = qemuReported(
  'libvirt_qemu_signal',
  'QEMU `qemu_kill_report()`: `terminating on signal N[ from pid P (<argv[0]>|<unknown process>)]`',
  '(?<message>terminating on signal (?<signal>[0-9]+)(?: from pid (?<sender_pid>[0-9]+) \\((?<sender_process>.*)\\))?)',
  // QEMU reports the signal through error_report(), but it is the normal end of a guest.
  { kind: 'qemu_signal', level: 'info', types: { signal: 'integer', sender_pid: 'integer' } },
);

export const QEMU_MESSAGE: LineShape = qemuReported(
  'libvirt_qemu_message',
  'QEMU `vreport()`: `[<option>: ][warning: |info: ]<message>` (no level word = error)',
  '(?:(?<option>-.*?): )?(?:(?<level>warning|info): )?(?<message>.*)',
  // error_report() prints no level word.
  { kind: 'qemu_message', level: 'error' },
);

export const QEMU_CHARDEV: LineShape = {
  name: 'libvirt_qemu_chardev',
  description: 'QEMU `char-pty.c`: `char device redirected to <pty> (label <label>)`, printed without a timestamp',
  pattern: '^(?<message>char device redirected to (?<pty>[^ ]+) \\(label (?<label>[^)]*)\\))$',
  kind: 'chardev',
  level: 'info',
};

/** libvirt's `virUUIDFormat()`: the canonical form, lower-case hex, as it writes `-uuid` and its messages. */
export const DOMAIN_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/**
 * The `-uuid <uuid>` option line anywhere after the binary (qemuBuildCommandLine() writes it a few
 * options after `-name`), captured as `uuid`; optional, so a command line without one still folds.
 */
const UUID_OPTION = `(?:(?:[^\\n]*\\n)*?-uuid (?<uuid>${DOMAIN_UUID})${COMMAND_LINE_CONTINUATION}\\n)?`;

export const QEMU_COMMAND_LINE: LineShape = {
  name: 'libvirt_qemu_command_line',
  description:
    'environment and QEMU command line folded into one record: `VAR=value \\` lines, the binary, one option per line; `-uuid` gives `uuid`',
  pattern: `^(?<message>(?:[A-Za-z_][A-Za-z0-9_]*=[^\\n]*${COMMAND_LINE_CONTINUATION}\\n)*(?<binary>[^ \\n]+)${COMMAND_LINE_CONTINUATION}\\n${UUID_OPTION}.*[^\\n])\\n?$`,
  dotAll: true,
  kind: 'command_line',
  level: 'info',
};

/**
 * Shapes of a QEMU domain log record, in the order a parser tries them (first match wins).
 * Specific libvirt lines precede the catch-all `<time>: <message>`; the signal line precedes the
 * general QEMU message; the two untimestamped shapes come last, the folded command line (which
 * needs ` \` + newline and so fails at once on a single line) before the chardev line (which
 * would otherwise be searched for on every line of the command-line block).
 */
export const QEMU_CHAIN: readonly LineShape[] = [
  LIBVIRTD_LINE,
  QEMU_START,
  QEMU_TAINT,
  QEMU_SHUTDOWN,
  QEMU_MIGRATION,
  QEMU_PANIC,
  QEMU_EXTERNAL_DEVICE,
  QEMU_LIBVIRT_MESSAGE,
  QEMU_SIGNAL,
  QEMU_MESSAGE,
  QEMU_COMMAND_LINE,
  QEMU_CHARDEV,
];

/** Shapes of a libvirtd text record (container model, after continuation lines are joined). */
export const LIBVIRTD_CHAIN: readonly LineShape[] = [LIBVIRTD_LINE];

// --- CRI container log line (containerd `internal/cri/io/logger.go`) ---

export const CRI_LINE: LineShape = {
  name: 'libvirt_cri_line',
  description: 'CRI log line `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, the same fields as Fluent Bit\'s built-in `cri`',
  pattern: '^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$',
  time: CRI_TIME_SPEC,
};

// --- multiline parsers ---

export const QEMU_MULTILINE: MultilineShape = {
  name: 'libvirt_qemu_multiline',
  description:
    'folds the environment + command-line block (lines ending ` \\` plus the final option line) and an external device line with its command',
  flushTimeoutMs: 1000,
  // Blocks end themselves (their last option line), so only a block cut by a tick or left open at
  // the end of a file waits for one; a long period makes cuts rarer.
  fluentBitFlushPeriodMs: 10_000,
  rules: [
    { state: 'start_state', pattern: `${COMMAND_LINE_CONTINUATION}$`, next: 'command_line' },
    { state: 'start_state', pattern: `^${LIBVIRT_TIME}: ${EXTERNAL_DEVICE}`, next: 'external_device' },
    { state: 'command_line', pattern: `${COMMAND_LINE_CONTINUATION}$`, next: 'command_line' },
    // The last line is an option (`-msg timestamp=on`); a next state of start_state ends the record at once.
    { state: 'command_line', pattern: '^-', next: 'start_state' },
    // The helper's command on one line: its binary path or its first `VAR=value`, no ` \` at the end.
    { state: 'external_device', pattern: `^(?:/|[A-Za-z_][A-Za-z0-9_]*=).*[^\\\\]$`, next: 'start_state' },
  ],
};

export const LIBVIRTD_MULTILINE: MultilineShape = {
  name: 'libvirt_daemon_multiline',
  description:
    'joins the continuation lines of a multi-line libvirtd message (lines that do not start with a libvirt log prefix)',
  flushTimeoutMs: 1000,
  rules: [
    { state: 'start_state', pattern: `^${LIBVIRT_LOG_PREFIX}`, next: 'continuation' },
    { state: 'continuation', pattern: `^(?!${LIBVIRT_LOG_PREFIX})`, next: 'continuation' },
  ],
};
