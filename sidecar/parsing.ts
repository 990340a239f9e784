// The sidecar's view of the shared parsers: which parser reads which input, and the
// per-line flags it hands them. PROVISIONAL until parsers/ lands: a one-record-per-line
// stand-in with the same interface, replaced by the real parsers on merge.

export type LogSource = 'qemu' | 'libvirtd';

export interface LogRecord {
  time: string | null;
  source: LogSource;
  domain: string | null;
  kind: string;
  level: string;
  message: string;
  truncated?: true;
  invalid_utf8?: true;
  cursor?: string;
  [field: string]: unknown;
}

export interface RecordParser {
  push(line: string, flags?: number): readonly LogRecord[];
  flush(): readonly LogRecord[];
}

export const LINE_TRUNCATED = 1;
export const LINE_INVALID_UTF8 = 2;

/** The input formats the sidecar reads. */
export type InputFormat = 'qemu' | 'journal' | 'cri';

function flagged(record: LogRecord, flags: number): LogRecord {
  if (flags & LINE_TRUNCATED) record.truncated = true;
  if (flags & LINE_INVALID_UTF8) record.invalid_utf8 = true;
  return record;
}

export function createParser(format: InputFormat, domain: string | null): RecordParser {
  const source: LogSource = format === 'qemu' ? 'qemu' : 'libvirtd';
  return {
    push(line, flags = 0) {
      if (format === 'journal') {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          const usec = Number(entry['__REALTIME_TIMESTAMP']);
          return [
            flagged(
              {
                time: Number.isFinite(usec) ? new Date(usec / 1000).toISOString() : null,
                source,
                domain,
                kind: 'libvirt_log',
                level: 'unknown',
                message: String(entry['MESSAGE'] ?? ''),
                cursor: String(entry['__CURSOR']),
              },
              flags,
            ),
          ];
        } catch {
          // fall through to unparsed
        }
      }
      return [flagged({ time: null, source, domain, kind: 'unparsed', level: 'unknown', message: line }, flags)];
    },
    flush() {
      return [];
    },
  };
}
