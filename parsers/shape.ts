// The one definition of a log line shape. Each shape drives both the Fluent Bit parser that
// `generate` renders (Onigmo, Ruby syntax) and the TypeScript parsers (JS RegExp, translated by
// parsers/regex.ts), so its pattern stays in the subset both engines read the same way: named
// groups `(?<name>...)` with [A-Za-z0-9_] names, character classes, greedy and non-greedy
// quantifiers, anchors `^ $`, non-capturing groups, negative lookahead `(?!...)`. No lookbehind,
// no `\h`, no possessive quantifiers, no backreferences, no Unicode property escapes, and no
// `\d \s \w` (the engines disagree on them outside ASCII): write `[0-9]`, ` `, `[A-Za-z0-9_]`.
// test/unit/parsers-shapes.test.ts enforces this; test/integration/parsers-onigmo.test.ts runs
// every pattern in real Onigmo.

import type { LogLevel, RecordKind } from './record.js';

export type FieldType = 'string' | 'integer' | 'float' | 'bool';

export interface TimeSpec {
  /** Captured field holding the time. */
  readonly key: string;
  /** strptime format as Fluent Bit reads it (`%L` = fraction after `%S`). */
  readonly format: string;
  /** Keep the time field in the record (Fluent Bit `Time_Keep`). */
  readonly keep: boolean;
  /** Fluent Bit `Time_Strict`; Off where the fraction may be missing (QEMU omits it when µs = 0). */
  readonly strict: boolean;
}

export interface LineShape {
  /** Fluent Bit parser name; also the shape's id in TypeScript. */
  readonly name: string;
  readonly description: string;
  /** Regex source without delimiters. */
  readonly pattern: string;
  /** `.` matches newlines: rendered as `/…/m` for Onigmo and the `s` flag in JS. */
  readonly dotAll?: boolean;
  readonly time?: TimeSpec;
  readonly types?: Readonly<Record<string, FieldType>>;
  /** The record kind a match becomes; absent on a framing shape no chain runs (CRI). */
  readonly kind?: RecordKind;
  /** The record's level when the shape captures none. */
  readonly level?: LogLevel;
}

export interface MultilineRule {
  readonly state: string;
  readonly pattern: string;
  readonly next: string;
}

/** A Fluent Bit `[MULTILINE_PARSER]` of type regex. */
export interface MultilineShape {
  readonly name: string;
  readonly description: string;
  /** How long a group waits for its next line before it is emitted (the sidecar's idle timeout). */
  readonly flushTimeoutMs: number;
  /**
   * Fluent Bit's Flush_Timeout when it must differ: Fluent Bit's is a period, not an idle time. It
   * flushes every open group at each tick however recent its last line (cb_ml_flush_timer() in
   * src/multiline/flb_ml.c), so a tick between two reads of one group cuts it.
   */
  readonly fluentBitFlushPeriodMs?: number;
  readonly rules: readonly MultilineRule[];
}
