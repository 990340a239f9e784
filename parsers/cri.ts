// CRI container log lines (`<RFC3339Nano> <stream> <F|P> <text>`, containerd
// internal/cri/io/logger.go) wrapping libvirtd's stderr: partial (`P`) records are joined up to
// the next `F`, per stream, and the joined lines go through a libvirtd text parser per stream.

import { ShapeMatcher } from './regex.js';
import { CRI_LINE } from './shapes.js';
import { applyLineFlags, LINE_TRUNCATED, NO_RECORDS, type LogRecord, type RecordParser } from './record.js';
import { createLibvirtdTextParser, DEFAULT_MAX_RECORD_CHARS, type TextLogParser } from './textlog.js';
import { rfc3339ToIso } from './time.js';

const CRI = new ShapeMatcher(CRI_LINE);
const capture = (name: string) => CRI.names.indexOf(name) + 1;
const TIME = capture('time');
const STREAM = capture('stream');
const LOGTAG = capture('logtag');
const LOG = capture('log');

type Stream = 'stdout' | 'stderr';

interface StreamState {
  readonly parser: TextLogParser;
  partial: string;
  partialTime: string | null;
  partialFlags: number;
}

class CriParser implements RecordParser {
  private readonly streams = new Map<Stream, StreamState>();
  private lastTime: string | null = null;

  constructor(private readonly maxRecordChars: number) {}

  push(line: string, flags = 0): readonly LogRecord[] {
    const m = CRI.exec(line);
    if (m === null) return [this.foreign(line, flags)];
    const stream = m[STREAM] as Stream;
    const time = rfc3339ToIso(m[TIME]!);
    if (time !== null) this.lastTime = time;
    const state = this.state(stream);
    const text = m[LOG]!;
    if (m[LOGTAG]!.startsWith('P')) {
      if (state.partial === '') state.partialTime = time;
      const room = this.maxRecordChars - state.partial.length;
      state.partial += text.length > room ? text.slice(0, Math.max(0, room)) : text;
      state.partialFlags |= flags | (text.length > room ? LINE_TRUNCATED : 0);
      return NO_RECORDS;
    }
    const joined = state.partial + text;
    const joinedFlags = state.partialFlags | flags;
    const firstTime = state.partial === '' ? time : state.partialTime;
    state.partial = '';
    state.partialFlags = 0;
    return withStream(state.parser.push(joined, joinedFlags, firstTime), stream);
  }

  get pending(): boolean {
    for (const state of this.streams.values()) if (state.partial !== '' || state.parser.pending) return true;
    return false;
  }

  flush(): readonly LogRecord[] {
    const out: LogRecord[] = [];
    for (const [stream, state] of this.streams) {
      if (state.partial !== '') {
        // A partial record whose final part never came: parse what arrived.
        out.push(...withStream(state.parser.push(state.partial, state.partialFlags, state.partialTime), stream));
        state.partial = '';
        state.partialFlags = 0;
      }
      out.push(...withStream(state.parser.flush(), stream));
    }
    return out.length === 0 ? NO_RECORDS : out;
  }

  private state(stream: Stream): StreamState {
    let state = this.streams.get(stream);
    if (state === undefined) {
      state = { parser: createLibvirtdTextParser({ maxRecordChars: this.maxRecordChars }), partial: '', partialTime: null, partialFlags: 0 };
      this.streams.set(stream, state);
    }
    return state;
  }

  /** A line that is not a CRI record at all. */
  private foreign(line: string, flags: number): LogRecord {
    const record: LogRecord = { time: this.lastTime, source: 'libvirtd', domain: null, kind: 'unparsed', level: 'unknown', message: line };
    if (this.lastTime !== null) record.time_inferred = true;
    return applyLineFlags(record, flags);
  }
}

function withStream(records: readonly LogRecord[], stream: Stream): readonly LogRecord[] {
  for (const r of records) r.stream = stream;
  return records;
}

/** Parser of a CRI container log file of a containerised libvirtd. */
export function createCriParser(options: { readonly maxRecordChars?: number } = {}): RecordParser {
  return new CriParser(options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS);
}
