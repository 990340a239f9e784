// The log formats `parse --format` knows, each with the parser for one stream of it.

import { createCriParser } from './cri.js';
import { createJournalParser } from './journal.js';
import type { RecordParser } from './record.js';
import { createLibvirtdTextParser, createQemuLogParser } from './textlog.js';

export interface FormatOptions {
  /** Domain of a QEMU log (ignored by the other formats: their lines name no single domain). */
  readonly domain: string | null;
  /** The QEMU log's domain uuid known before the log names it (where a sidecar restart resumes). */
  readonly uuid?: string | null;
  readonly maxRecordChars?: number;
}

export interface LogFormat {
  readonly description: string;
  readonly create: (options: FormatOptions) => RecordParser;
}

export const LOG_FORMATS = {
  qemu: {
    description: 'per-domain QEMU log /var/log/libvirt/qemu/<domain>.log',
    create: (o: FormatOptions) => createQemuLogParser({ domain: o.domain, uuid: o.uuid ?? null, maxRecordChars: o.maxRecordChars }),
  },
  libvirtd: {
    description: 'libvirtd text output (stderr or log file)',
    create: (o: FormatOptions) => createLibvirtdTextParser({ maxRecordChars: o.maxRecordChars }),
  },
  journal: {
    description: 'journalctl -o json output of libvirtd.service',
    create: () => createJournalParser(),
  },
  cri: {
    description: 'CRI container log of a containerised libvirtd (/var/log/containers/*.log)',
    create: (o: FormatOptions) => createCriParser({ maxRecordChars: o.maxRecordChars }),
  },
} as const satisfies Record<string, LogFormat>;

export type LogFormatName = keyof typeof LOG_FORMATS;

export const LOG_FORMAT_NAMES = Object.keys(LOG_FORMATS) as LogFormatName[];

/** `instance-00000a1b.log` (or a virtlogd-rotated `instance-00000a1b.log.1`) -> `instance-00000a1b`. */
export function domainFromFileName(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const m = /^(.+)\.log(?:\.[0-9]+)?$/.exec(base);
  return m ? m[1]! : null;
}
