// libvirtd's journal entries as `journalctl -o json` prints them (one object per line): libvirt's
// own fields (virLogOutputToJournald() in libvirt's src/util/virlog.c) and journald's (systemd's
// src/shared/logs-show.c output_json()).
// Values are strings, byte arrays (non-printable or non-UTF-8 data), arrays of those (a repeated
// field) or null (a field of 4096 bytes and more without `--all`).

import { isUtf8 } from 'node:buffer';
import { nameDomain } from './domain-mention.js';
import { LINE_INVALID_UTF8, NO_RECORDS, applyLineFlags, type LogLevel, type LogRecord, type RecordParser } from './record.js';
import { epochMicrosToIso } from './time.js';

/** syslog priority (journal PRIORITY) -> level. */
const PRIORITY_LEVELS: readonly LogLevel[] = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];

const utf8 = new TextDecoder('utf-8');

interface Decoded {
  readonly text: string;
  readonly invalidUtf8: boolean;
}

function isByteArray(value: unknown[]): value is number[] {
  return value.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255);
}

/** A field value as text; a repeated field's values joined by newlines. */
function decode(value: unknown): Decoded | undefined {
  if (typeof value === 'string') return { text: value, invalidUtf8: false };
  if (!Array.isArray(value)) return undefined;
  if (isByteArray(value)) {
    const bytes = Uint8Array.from(value);
    return { text: utf8.decode(bytes), invalidUtf8: !isUtf8(bytes) };
  }
  const parts = value.map(decode).filter((d): d is Decoded => d !== undefined);
  if (parts.length === 0) return undefined;
  return { text: parts.map((p) => p.text).join('\n'), invalidUtf8: parts.some((p) => p.invalidUtf8) };
}

function text(entry: Record<string, unknown>, key: string): string | undefined {
  return decode(entry[key])?.text;
}

function integer(entry: Record<string, unknown>, key: string): number | undefined {
  const t = text(entry, key);
  return t !== undefined && /^-?[0-9]{1,15}$/.test(t) ? Number(t) : undefined;
}

/** One journal entry (a parsed `journalctl -o json` line) as a record. */
export function parseJournalEntry(entry: unknown): LogRecord {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { time: null, source: 'libvirtd', domain: null, kind: 'unparsed', level: 'unknown', message: JSON.stringify(entry) ?? '' };
  }
  const e = entry as Record<string, unknown>;
  const message = decode(e.MESSAGE);
  const realtime = text(e, '__REALTIME_TIMESTAMP') ?? text(e, '_SOURCE_REALTIME_TIMESTAMP');
  const priority = integer(e, 'PRIORITY');
  const libvirtSource = text(e, 'LIBVIRT_SOURCE');
  const record: LogRecord = {
    time: realtime === undefined ? null : epochMicrosToIso(realtime),
    source: 'libvirtd',
    domain: null,
    kind: libvirtSource !== undefined ? 'libvirt_log' : 'service_message',
    level: priority !== undefined ? (PRIORITY_LEVELS[priority] ?? 'unknown') : 'unknown',
    message: message?.text ?? '',
  };
  const optional: [keyof LogRecord, string | number | undefined][] = [
    ['libvirt_source', libvirtSource],
    ['function', text(e, 'CODE_FUNC')],
    ['file', text(e, 'CODE_FILE')],
    ['line', integer(e, 'CODE_LINE')],
    ['error_domain', integer(e, 'LIBVIRT_DOMAIN')],
    ['error_code', integer(e, 'LIBVIRT_CODE')],
    ['pid', integer(e, '_PID')],
    ['unit', text(e, '_SYSTEMD_UNIT')],
    ['hostname', text(e, '_HOSTNAME')],
    ['boot_id', text(e, '_BOOT_ID')],
    ['cursor', text(e, '__CURSOR')],
  ];
  const target = record as unknown as Record<string, unknown>;
  for (const [key, value] of optional) if (value !== undefined) target[key] = value;
  nameDomain(record);
  return message?.invalidUtf8 ? applyLineFlags(record, LINE_INVALID_UTF8) : record;
}

/** `journalctl -o json` output, one entry per line; a line that is not JSON becomes `unparsed`. */
export function createJournalParser(): RecordParser {
  return {
    push(line: string, flags = 0): readonly LogRecord[] {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return [applyLineFlags({ time: null, source: 'libvirtd', domain: null, kind: 'unparsed', level: 'unknown', message: line }, flags)];
      }
      return [applyLineFlags(parseJournalEntry(entry), flags)];
    },
    flush: () => NO_RECORDS,
    pending: false,
  };
}
