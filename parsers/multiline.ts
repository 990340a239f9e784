// Runs a MultilineShape the way Fluent Bit's regex multiline parser does
// (src/multiline/flb_ml_rule.c, flb_ml.c `flb_ml_append_text`, v4.2), so the TypeScript parsers
// fold exactly the records Fluent Bit folds:
//   - while a record is open, the rules of the last matched rule's next state (start rules
//     excluded) are tried in definition order; a match appends the line after a `\n`;
//   - otherwise the start rules are tried in order; a match completes the open record and opens
//     a new one;
//   - a line matching neither completes the open record and becomes a record of its own; the
//     state is left as it was (Fluent Bit does not reset it);
//   - a record is complete as soon as the state it moved to has a start rule among its rules;
//   - a record over the size limit is cut, completed, and the state reset.

import type { MultilineShape } from './shape.js';
import { toJsRegExpForLine } from './regex.js';
import { LINE_TRUNCATED } from './record.js';

interface CompiledRule {
  readonly regex: RegExp;
  readonly isStart: boolean;
  /** Rules of the next state, definition order. */
  next: readonly CompiledRule[];
  /** The next state has a start rule: the record is complete after this rule. */
  completes: boolean;
}

/** Receives a folded record: its text, the OR of its lines' flags, and the context of its first line. */
export type FoldedRecordSink<C> = (text: string, flags: number, context: C) => void;

export class MultilineFolder<C> {
  private readonly startRules: readonly CompiledRule[];
  private state: CompiledRule | null = null;
  private lines: string[] = [];
  private chars = 0;
  private flags = 0;
  private context!: C;

  constructor(
    shape: MultilineShape,
    private readonly sink: FoldedRecordSink<C>,
    /** Limit of a folded record, in UTF-16 code units. */
    private readonly maxRecordChars: number,
  ) {
    const rules = shape.rules.map((r) => ({ state: r.state, nextState: r.next, compiled: compile(r.pattern, r.state) }));
    for (const r of rules) {
      r.compiled.next = rules.filter((o) => o.state === r.nextState).map((o) => o.compiled);
      r.compiled.completes = r.compiled.next.some((o) => o.isStart);
    }
    this.startRules = rules.filter((r) => r.state === 'start_state').map((r) => r.compiled);
  }

  /** True while a record waits for more lines (a flush timer should then call `flush`). */
  get pending(): boolean {
    return this.lines.length > 0;
  }

  push(line: string, flags: number, context: C): void {
    const state = this.state;
    if (state !== null) {
      for (const rule of state.next) {
        if (!rule.isStart && rule.regex.test(line)) {
          if (this.lines.length === 0) this.context = context;
          this.append(line, flags, rule);
          return;
        }
      }
    }
    for (const rule of this.startRules) {
      if (rule.regex.test(line)) {
        this.flush();
        this.context = context;
        this.append(line, flags, rule);
        return;
      }
    }
    this.flush();
    this.sink(line, flags, context);
  }

  /** Completes the open record, if any. */
  flush(): void {
    const lines = this.lines;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? lines[0]! : lines.join('\n');
    const flags = this.flags;
    this.lines = [];
    this.chars = 0;
    this.flags = 0;
    this.sink(text, flags, this.context);
  }

  private append(line: string, flags: number, rule: CompiledRule): void {
    const room = this.maxRecordChars - this.chars - (this.lines.length > 0 ? 1 : 0);
    if (line.length > room) {
      this.lines.push(line.slice(0, Math.max(0, room)));
      this.flags |= flags | LINE_TRUNCATED;
      this.flush();
      this.state = null;
      return;
    }
    this.chars += line.length + (this.lines.length > 0 ? 1 : 0);
    this.lines.push(line);
    this.flags |= flags;
    this.state = rule;
    if (rule.completes) this.flush();
  }
}

function compile(pattern: string, state: string): CompiledRule {
  // Rules only ever see single lines.
  return { regex: toJsRegExpForLine({ pattern }), isStart: state === 'start_state', next: [], completes: false };
}
