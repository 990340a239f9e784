// A parser-filter chain run in TypeScript: the shapes of a chain tried in order, first match wins,
// exactly as Fluent Bit's parser filter tries them, plus the LogRecord each match becomes.
// A record's first characters rule out whole groups of shapes before any regex runs: a shape
// whose pattern opens with libvirt's timestamp can only match text with `-` at index 4 and a
// space at index 10, one opening with QEMU's timestamp only text with `T` at index 10.

import type { LineShape } from './shape.js';
import { ShapeMatcher } from './regex.js';
import type { LogLevel, LogRecord, LogSource } from './record.js';
import { LIBVIRT_TIME, LIBVIRT_TIME_FIELD, QEMU_TIME, QEMU_TIME_FIELD } from './shapes.js';
import { libvirtTimeToIso, qemuTimeToIso } from './time.js';

type TimeClass = 'libvirt' | 'qemu' | 'none';

/**
 * Per class: the timestamp field a shape opens with, the plain capture that replaces it here, and
 * the range check. The field is `(?:(?<time>in range)|(?<invalid_time>shape))` so that Fluent Bit
 * keeps an out-of-range text; here `toIso` checks the range (and days past the month's end), so
 * one capture of the shape gives the same record, and a shape that fails is not tried twice.
 */
const TIME_PREFIX: readonly [TimeClass, string, string, (text: string) => string | null][] = [
  ['libvirt', `^${LIBVIRT_TIME_FIELD}`, `^(?<time>${LIBVIRT_TIME})`, libvirtTimeToIso],
  ['qemu', `^${QEMU_TIME_FIELD}`, `^(?<time>${QEMU_TIME})`, qemuTimeToIso],
];

interface Field {
  readonly name: string;
  /** Index of the capture in the match. */
  readonly index: number;
  readonly convert: ((value: string) => unknown) | null;
}

export interface CompiledShape {
  readonly shape: LineShape;
  readonly matcher: ShapeMatcher;
  readonly timeClass: TimeClass;
  /** Normalises the captured `time` (a shape without a known timestamp prefix keeps it as captured). */
  readonly toIso: (text: string) => string | null;
  /** Capture indexes of time, level and message (-1: the shape has none). */
  readonly time: number;
  readonly level: number;
  readonly message: number;
  /** The other captured fields. */
  readonly fields: readonly Field[];
}

const keepTime = (text: string): string => text;

const CONVERTERS = {
  string: null,
  integer: (v: string) => Number(v),
  float: (v: string) => Number(v),
  bool: (v: string) => v === 'true',
} as const;

export function compileShape(shape: LineShape): CompiledShape {
  const prefix = TIME_PREFIX.find(([, p]) => shape.pattern.startsWith(p));
  const matcher = new ShapeMatcher(prefix === undefined ? shape : { ...shape, pattern: prefix[2] + shape.pattern.slice(prefix[1].length) });
  const index = (name: string) => {
    const i = matcher.names.indexOf(name);
    return i === -1 ? -1 : i + 1;
  };
  return {
    shape,
    matcher,
    timeClass: prefix?.[0] ?? 'none',
    toIso: prefix?.[3] ?? keepTime,
    time: index('time'),
    level: index('level'),
    message: index('message'),
    fields: matcher.names
      .filter((n) => n !== 'time' && n !== 'level' && n !== 'message')
      .map((name) => ({ name, index: index(name), convert: CONVERTERS[shape.types?.[name] ?? 'string'] })),
  };
}

/** The time class a text can belong to, from two characters. */
function timeClassOf(text: string): TimeClass {
  if (text.charCodeAt(4) !== 45 /* - */) return 'none';
  const c = text.charCodeAt(10);
  return c === 32 /* space */ ? 'libvirt' : c === 84 /* T */ ? 'qemu' : 'none';
}

/** A chain of shapes turning record texts of one log into LogRecords. */
export class ShapeChain {
  private readonly candidates: Record<TimeClass, readonly CompiledShape[]>;

  constructor(
    shapes: readonly LineShape[],
    private readonly source: LogSource,
  ) {
    for (const s of shapes) if (s.kind === undefined) throw new Error(`shape ${s.name} has no record kind and cannot be in a chain`);
    const compiled = shapes.map(compileShape);
    // Shapes without a timestamp prefix stay candidates for every text, in chain order.
    const of = (cls: TimeClass) => compiled.filter((c) => c.timeClass === cls || c.timeClass === 'none');
    this.candidates = { libvirt: of('libvirt'), qemu: of('qemu'), none: compiled.filter((c) => c.timeClass === 'none') };
  }

  /** The record for `text`, or an `unparsed` record with `time: null` when no shape matches. */
  parse(text: string, domain: string | null): LogRecord {
    for (const c of this.candidates[timeClassOf(text)]) {
      const m = c.matcher.exec(text);
      if (m !== null) return this.build(c, m, domain);
    }
    return { time: null, source: this.source, domain, kind: 'unparsed', level: 'unknown', message: text };
  }

  private build(c: CompiledShape, m: RegExpExecArray, domain: string | null): LogRecord {
    const time = c.time === -1 ? undefined : m[c.time];
    const level = c.level === -1 ? undefined : m[c.level];
    const iso = time === undefined ? null : c.toIso(time);
    const record: LogRecord = {
      time: iso,
      source: this.source,
      domain,
      kind: c.shape.kind!,
      level: (level as LogLevel | undefined) ?? c.shape.level ?? 'unknown',
      message: (c.message === -1 ? undefined : m[c.message]) ?? '',
    };
    // A timestamp that names no real instant: the record keeps its kind and the text, and takes
    // its time like an untimed line.
    if (time !== undefined && iso === null) record.invalid_time = time;
    const target = record as unknown as Record<string, unknown>;
    for (const f of c.fields) {
      const value = m[f.index];
      // Empty captures are left out, as Fluent Bit's Skip_Empty_Values does.
      if (value !== undefined && value !== '') target[f.name] = f.convert === null ? value : f.convert(value);
    }
    return record;
  }
}
