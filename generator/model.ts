// The Fluent Bit configuration as data: one model per option set, rendered to classic and YAML
// by the templates, so both formats always say the same thing.
import path from 'node:path';
import type { LineShape, MultilineShape } from '../parsers/shape.js';
import {
  FLUENT_BIT_MULTILINE_PARSERS,
  FLUENT_BIT_PARSERS,
  MULTILINE_NAMES,
  PARSER_CHAINS,
  renderOnigmoRegex,
} from '../parsers/fluentbit.js';
import type { GenerateOptions, OutputKind } from './options.js';
import { SIDECAR_CONTAINER, sidecarCommandLine } from './sidecar-link.js';

/** A property value; a list repeats the key in classic mode and becomes a YAML sequence. */
export type Value = string | number | boolean | readonly string[];

export interface Property {
  /** Spelled as the Fluent Bit docs spell it (keys are case-insensitive to Fluent Bit). */
  readonly key: string;
  readonly value: Value;
}

/** A [SERVICE], [INPUT], [FILTER], [OUTPUT] or [PARSER] section. Plugins start with `Name`. */
export interface Section {
  /** Why the section is there; rendered as full-line comments above it. */
  readonly comment: readonly string[];
  readonly properties: readonly Property[];
}

export interface MultilineRule {
  readonly state: string;
  /** Onigmo regex with delimiters (`/…/`). */
  readonly regex: string;
  readonly next: string;
}

export interface MultilineParser {
  readonly comment: readonly string[];
  readonly name: string;
  readonly type: 'regex';
  /** Record key holding the text; see LOG_KEY. */
  readonly keyContent: string;
  readonly flushTimeoutMs: number;
  readonly rules: readonly MultilineRule[];
}

export interface FluentBitConfig {
  readonly model: 'host' | 'container';
  readonly service: Section;
  readonly inputs: readonly Section[];
  readonly filters: readonly Section[];
  readonly outputs: readonly Section[];
  readonly parsers: readonly Section[];
  readonly multilineParsers: readonly MultilineParser[];
}

/** Multiline parsers Fluent Bit ships; they need no definition in the parsers file. */
export const BUILTIN_MULTILINE_PARSERS: readonly string[] = ['cri', 'docker', 'go', 'java', 'python', 'ruby'];

/**
 * The domain name in a QEMU log path `<dir>/<domain>.log`, in_tail's Tag_Regex (tag
 * `<qemu.tag>.<domain>`). Lines read after virtlogd renamed the file (within Rotate_Wait) carry
 * the rotated name `<domain>.log.N`.
 */
export const QEMU_LOG_PATH_REGEX = '^.*/(?<domain>[^/]+)\\.log(?:\\.[0-9]+)?$';
/**
 * The key holding a log line: in_tail's default Key, the key the cri multiline parser writes, and
 * the key_content of our multiline parsers. Without a key_content Fluent Bit appends `\n` to every
 * record a multiline parser flushes in in_tail (`breakline_prepare()`, src/multiline/flb_ml.c),
 * which would end up in the parsed fields.
 */
const LOG_KEY = 'log';

function properties(entries: Record<string, Value | undefined>): Property[] {
  return Object.entries(entries)
    .filter((e): e is [string, Value] => e[1] !== undefined)
    .map(([key, value]) => ({ key, value }));
}

/** Sizes as Fluent Bit reads them (K/M/G are powers of 1024, `flb_utils_size_to_bytes()`). */
export function size(bytes: number): string {
  for (const [unit, factor] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/** Whole seconds (Fluent Bit's Rotate_Wait, Refresh_Interval, …); rounds up so a limit never shrinks to 0. */
function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/**
 * The tag in_tail gives `Tag <prefix>.*` for a file in `dir` (`tag_compose()`: `/` → `.`,
 * leading dot dropped), i.e. what filter_kubernetes must strip as Kube_Tag_Prefix.
 */
export function kubeTagPrefix(prefix: string, dir: string): string {
  const dotted = path.posix.resolve('/', dir).split('/').filter(Boolean).join('.');
  return `${prefix}.${dotted}.`;
}

function parserSection(shape: LineShape): Section {
  const types = Object.entries(shape.types ?? {}).map(([k, t]) => `${k}:${t}`);
  return {
    comment: [shape.description],
    properties: properties({
      Name: shape.name,
      Format: 'regex',
      Regex: renderOnigmoRegex(shape),
      Time_Key: shape.time?.key,
      Time_Format: shape.time?.format,
      Time_Keep: shape.time?.keep,
      Time_Strict: shape.time?.strict,
      Types: types.length ? types.join(' ') : undefined,
    }),
  };
}

function multilineParser(shape: MultilineShape): MultilineParser {
  return {
    comment: [shape.description],
    name: shape.name,
    type: 'regex',
    keyContent: LOG_KEY,
    flushTimeoutMs: shape.fluentBitFlushPeriodMs ?? shape.flushTimeoutMs,
    rules: shape.rules.map((r) => ({ state: r.state, regex: renderOnigmoRegex(r), next: r.next })),
  };
}

function byName<T extends { name: string }>(all: readonly T[], name: string, what: string): T {
  const found = all.find((s) => s.name === name);
  if (!found) throw new Error(`${what} '${name}' is referenced but not defined in parsers/fluentbit.ts`);
  return found;
}

/** Where the QEMU records come from: the sidecar, Fluent Bit's own tail of the logs, or nowhere. */
export type QemuSource = 'sidecar' | 'tail' | 'off';

export function qemuSource(o: GenerateOptions): QemuSource {
  const choice = o['qemu-logs'];
  return choice === 'on' ? 'tail' : choice === 'off' ? 'off' : 'sidecar';
}

/** The sidecar's record as JSON: its fields as they are, its `time` as the event time. */
export const RECORD_JSON_PARSER = 'libvirt_telemetry_record';
/** Tag of the sidecar container's log lines before they are retagged per domain. */
const SIDECAR_LOG_TAG = 'sidecar';

/** Settings every input shares: memory limit and filesystem buffering. */
function buffering(o: GenerateOptions): Record<string, Value> {
  return { Mem_Buf_Limit: size(o['mem-buf-limit']), 'storage.type': 'filesystem' };
}

/** in_tail settings shared by the QEMU and the container log inputs. */
function tailSettings(o: GenerateOptions, db: string): Record<string, Value> {
  return {
    DB: path.posix.join(o['state-dir'], db),
    'DB.locking': true,
    Read_from_Head: o['tail.read-from-head'],
    Refresh_Interval: seconds(o['tail.refresh-interval']),
    Rotate_Wait: seconds(o['tail.rotate-wait']),
    Skip_Long_Lines: true,
    Buffer_Chunk_Size: size(o['tail.buffer-chunk-size']),
    Buffer_Max_Size: size(o['tail.buffer-max-size']),
  };
}

function journalInput(o: GenerateOptions): Section {
  return {
    comment: ['libvirtd logs to the systemd journal (log_outputs 3:journald); records keep its fields', '(MESSAGE, PRIORITY, LIBVIRT_SOURCE, CODE_FILE/LINE/FUNC, LIBVIRT_DOMAIN/CODE, _PID, _BOOT_ID, ...).'],
    properties: properties({
      Name: 'systemd',
      Tag: o['journal.tag'],
      Path: o['journal.directory'],
      Systemd_Filter: o['journal.unit'].map((unit) => `_SYSTEMD_UNIT=${unit}`),
      Systemd_Filter_Type: 'or',
      DB: path.posix.join(o['state-dir'], 'journal.db'),
      'DB.sync': 'normal',
      Read_From_Tail: o['journal.read-from-tail'],
      ...buffering(o),
    }),
  };
}

function journalFilter(o: GenerateOptions): Section {
  return { comment: ['`source` tells libvirtd records from QEMU records.'], properties: properties({ Name: 'modify', Match: o['journal.tag'], Add: 'source libvirtd' }) };
}

function qemuInput(o: GenerateOptions): Section {
  return {
    comment: [
      'Per-domain QEMU logs written by libvirtd/virtlogd and QEMU; the tag names the domain (no record field: a',
      'second parser pass over the file name would cost every record a re-encoding).',
      'The multiline parser folds the environment + command-line block into one record.',
    ],
    properties: properties({
      Name: 'tail',
      Tag: `${o['qemu.tag']}.<domain>`,
      Tag_Regex: QEMU_LOG_PATH_REGEX,
      Path: o['qemu.path'],
      'multiline.parser': MULTILINE_NAMES.qemu,
      ...tailSettings(o, 'qemu-logs.db'),
      ...buffering(o),
    }),
  };
}

/** The kubelet's log file name of a container of the libvirt pods. */
function containerLogPath(o: GenerateOptions, container: string): string {
  return path.posix.join(o['container.log-dir'], `${o['container.pod']}_${o['container.namespace']}_${container}-*.log`);
}

function sidecarForwardInput(o: GenerateOptions): Section {
  return {
    comment: [
      'Records of the libvirt-telemetry sidecar, which reads the QEMU logs: its fields as they are, its `time` as',
      'the event time, tagged <qemu.tag>.<domain>. It waits for the ack of every chunk (sent once the chunk is in',
      "this input's buffer) and sends it again otherwise: at least once. Run it as:",
      `  ${sidecarCommandLine(o)}`,
    ],
    properties: properties({
      Name: 'forward',
      Listen: o['sidecar.listen'],
      Port: o['sidecar.port'],
      Shared_Key: o['sidecar.shared-key'],
      ...buffering(o),
    }),
  };
}

function sidecarContainerInput(o: GenerateOptions): Section {
  return {
    comment: [
      `stdout of the sidecar container (${SIDECAR_CONTAINER}, added by the sidecar patch of \`generate manifests\`):`,
      'one JSON record per line, read from the QEMU logs; the cri multiline parser removes the CRI framing.',
    ],
    properties: properties({
      Name: 'tail',
      Tag: `${SIDECAR_LOG_TAG}.*`,
      Path: containerLogPath(o, SIDECAR_CONTAINER),
      'multiline.parser': 'cri',
      ...tailSettings(o, 'sidecar.db'),
      ...buffering(o),
    }),
  };
}

function sidecarContainerFilters(o: GenerateOptions): Section[] {
  const match = `${SIDECAR_LOG_TAG}.*`;
  return [
    {
      comment: ['The JSON record into fields (the CRI fields go), its `time` into the event time. The sidecar\'s own log', 'lines (stderr, not JSON) stay as they are.'],
      properties: properties({ Name: 'parser', Match: match, Key_Name: LOG_KEY, Parser: RECORD_JSON_PARSER }),
    },
    {
      comment: ['The same tag as on every other path: <qemu.tag>.<domain>.'],
      properties: properties({
        Name: 'rewrite_tag',
        Match: match,
        Rule: `$domain ^(.+)$ ${o['qemu.tag']}.$domain false`,
        Emitter_Name: 'sidecar_records',
        'Emitter_Storage.type': 'filesystem',
        Emitter_Mem_Buf_Limit: size(o['mem-buf-limit']),
      }),
    },
  ];
}

function containerInput(o: GenerateOptions): Section {
  return {
    comment: ['stderr of the libvirtd container (log_outputs 3:stderr) as the kubelet writes it (CRI format);', 'the cri multiline parser joins partial (P) lines.'],
    properties: properties({
      Name: 'tail',
      Tag: 'kube.*',
      Path: containerLogPath(o, o['container.name']),
      'multiline.parser': 'cri',
      ...tailSettings(o, 'containers.db'),
      ...buffering(o),
    }),
  };
}

function qemuFilters(o: GenerateOptions): Section[] {
  const match = `${o['qemu.tag']}.*`;
  return [
    {
      comment: ['QEMU log lines into fields; the first parser that matches wins, unmatched lines keep their raw `log`.'],
      properties: properties({ Name: 'parser', Match: match, Key_Name: LOG_KEY, Parser: [...PARSER_CHAINS.qemu], Reserve_Data: true }),
    },
    { comment: ['`source` tells QEMU records from libvirtd records.'], properties: properties({ Name: 'modify', Match: match, Add: 'source qemu' }) },
  ];
}

function containerFilters(o: GenerateOptions): Section[] {
  return [
    {
      comment: ['libvirtd writes multi-line messages; the runtime makes one record per line. Join continuation lines.'],
      properties: properties({
        Name: 'multiline',
        Match: 'kube.*',
        'multiline.key_content': LOG_KEY,
        'multiline.parser': MULTILINE_NAMES.libvirtd,
        buffer: true,
        flush_ms: 2000,
        emitter_name: 'libvirtd_multiline',
        'emitter_storage.type': 'filesystem',
        emitter_mem_buf_limit: size(o['mem-buf-limit']),
      }),
    },
    {
      comment: ['The CRI wrapper fields: the record time already is the CRI time, and `time` would clash with the parsed one.'],
      properties: properties({ Name: 'modify', Match: 'kube.*', Remove: ['time', '_p'], Add: 'source libvirtd' }),
    },
    {
      comment: ['libvirtd text lines into fields; unmatched lines (e.g. wrapper scripts) keep their raw `log`.'],
      properties: properties({ Name: 'parser', Match: 'kube.*', Key_Name: LOG_KEY, Parser: [...PARSER_CHAINS.libvirtd], Reserve_Data: true }),
    },
    {
      comment: ['Pod metadata from the API server; the tag carries pod, namespace and container.'],
      properties: properties({
        Name: 'kubernetes',
        Match: 'kube.*',
        Kube_URL: o['kubernetes.url'],
        Kube_CA_File: o['kubernetes.ca-file'],
        Kube_Token_File: o['kubernetes.token-file'],
        Kube_Tag_Prefix: kubeTagPrefix('kube', o['container.log-dir']),
        Merge_Log: false,
        Labels: true,
        Annotations: false,
      }),
    },
  ];
}

function tlsSettings(tls: boolean, verify: boolean, caFile: string | undefined): Record<string, Value | undefined> {
  return { tls, 'tls.verify': tls ? verify : undefined, 'tls.ca_file': tls ? caFile : undefined };
}

function output(kind: OutputKind, o: GenerateOptions): Section {
  const common = { Retry_Limit: 'no_limits', 'storage.total_limit_size': size(o['storage.total-limit']) };
  switch (kind) {
    case 'forward':
      return {
        comment: ['To a Fluentd/Fluent Bit aggregator (forward protocol).'],
        properties: properties({
          Name: 'forward',
          Match: '*',
          Host: o['forward.host'],
          Port: o['forward.port'],
          ...tlsSettings(o['forward.tls'], o['forward.tls-verify'], o['forward.tls-ca-file']),
          Shared_Key: o['forward.shared-key'],
          Self_Hostname: o['forward.shared-key'] !== undefined ? o['forward.self-hostname'] : undefined,
          ...common,
        }),
      };
    case 'loki':
      return {
        comment: ['To Loki; records stay JSON lines.'],
        properties: properties({
          Name: 'loki',
          Match: '*',
          Host: o['loki.host'],
          Port: o['loki.port'],
          ...tlsSettings(o['loki.tls'], o['loki.tls-verify'], o['loki.tls-ca-file']),
          Labels: o['loki.labels'].join(', '),
          Tenant_ID: o['loki.tenant'],
          Line_Format: 'json',
          ...common,
        }),
      };
    case 'opensearch':
      return {
        comment: ['To OpenSearch.'],
        properties: properties({
          Name: 'opensearch',
          Match: '*',
          Host: o['opensearch.host'],
          Port: o['opensearch.port'],
          ...tlsSettings(o['opensearch.tls'], o['opensearch.tls-verify'], o['opensearch.tls-ca-file']),
          Index: o['opensearch.index'],
          HTTP_User: o['opensearch.user'],
          HTTP_Passwd: o['opensearch.password'],
          Suppress_Type_Name: true,
          Replace_Dots: true,
          Trace_Error: true,
          ...common,
        }),
      };
    case 'stdout':
      return {
        comment: ['JSON lines on standard output.'],
        properties: properties({ Name: 'stdout', Match: '*', Format: 'json_lines', Json_Date_Format: 'iso8601', Retry_Limit: common.Retry_Limit }),
      };
  }
}

/** Parsers of the generator's own, beside the line shapes. */
const OWN_PARSERS = new Map<string, Section>([
  [
    RECORD_JSON_PARSER,
    {
      comment: ["A record of libvirt-telemetry (sidecar, parse) as JSON; `time` is ISO 8601 UTC with a fraction, kept as a field."],
      properties: properties({
        Name: RECORD_JSON_PARSER,
        Format: 'json',
        Time_Key: 'time',
        Time_Format: '%Y-%m-%dT%H:%M:%S.%L%z',
        Time_Keep: true,
      }),
    },
  ],
]);

/** Names of the parsers and multiline parsers the pipeline references, in first-use order. */
function referencedParsers(inputs: readonly Section[], filters: readonly Section[]): { parsers: string[]; multiline: string[] } {
  const parsers = new Set<string>();
  const multiline = new Set<string>();
  for (const s of [...inputs, ...filters]) {
    for (const { key, value } of s.properties) {
      const values = typeof value === 'object' ? value : [String(value)];
      if (key === 'Parser') values.forEach((v) => parsers.add(v));
      if (key === 'multiline.parser') values.forEach((v) => multiline.add(v));
    }
  }
  return { parsers: [...parsers], multiline: [...multiline].filter((n) => !BUILTIN_MULTILINE_PARSERS.includes(n)) };
}

/** Builds the configuration; options are assumed valid (see validate() in command.ts). */
export function buildModel(o: GenerateOptions): FluentBitConfig {
  const inputs = o.model === 'host' ? [journalInput(o)] : [containerInput(o)];
  const filters = o.model === 'host' ? [journalFilter(o)] : containerFilters(o);
  const qemu = qemuSource(o);
  if (qemu === 'tail') {
    inputs.push(qemuInput(o));
    filters.push(...qemuFilters(o));
  } else if (qemu === 'sidecar' && o.model === 'host') {
    inputs.push(sidecarForwardInput(o));
  } else if (qemu === 'sidecar') {
    inputs.push(sidecarContainerInput(o));
    filters.push(...sidecarContainerFilters(o));
  }
  const outputs = [...new Set(o.output as OutputKind[])].map((kind) => output(kind, o));
  const used = referencedParsers(inputs, filters);
  const parsers = used.parsers.map((name) => OWN_PARSERS.get(name) ?? parserSection(byName(FLUENT_BIT_PARSERS, name, 'parser')));
  return {
    model: o.model as 'host' | 'container',
    service: {
      comment: ['HTTP server for /api/v1/metrics and /api/v1/health; filesystem buffering so nothing is lost while outputs are down.'],
      properties: properties({
        Flush: o.flush / 1000,
        Daemon: false,
        Log_Level: o['fluent-bit.log-level'],
        HTTP_Server: true,
        HTTP_Listen: o['http.listen'],
        HTTP_Port: o['http.port'],
        Health_Check: true,
        HC_Errors_Count: 5,
        HC_Retry_Failure_Count: 5,
        HC_Period: 60,
        'storage.path': path.posix.join(o['state-dir'], 'buffer'),
        'storage.sync': o['storage.sync'],
        'storage.checksum': false,
        'storage.backlog.mem_limit': size(o['storage.backlog-mem-limit']),
        'storage.metrics': true,
      }),
    },
    inputs,
    filters,
    outputs,
    parsers,
    multilineParsers: used.multiline.map((name) => multilineParser(byName(FLUENT_BIT_MULTILINE_PARSERS, name, 'multiline parser'))),
  };
}
