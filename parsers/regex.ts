// A shape's pattern (Onigmo, Ruby syntax, as Fluent Bit runs it) as JS RegExps that match the
// same text with the same captures. Both engines are backtracking, leftmost-first. A pattern's
// leading `^` anchors at the start of the text: it is rendered `\A` for Onigmo (see
// renderOnigmoRegex), so a record's regex is tried once, not again after every newline of a folded
// record. Otherwise the engines differ in:
//   - anchors: Ruby's `^`/`$` are line anchors (start of text or after `\n`; end of text or before
//     `\n`), JS's (without flag m) are text anchors;
//   - `.`: Onigmo's excludes only `\n`, JS's also `\r`, U+2028 and U+2029; with dotAll (Onigmo
//     option `m`, JS flag `s`) both match everything.

/** A pattern as it stands in a line shape or a multiline rule. */
export interface Pattern {
  readonly pattern: string;
  readonly dotAll?: boolean;
}

/** JS RegExp matching what Onigmo matches, on any text (inner anchors become `(?:^|(?<=\n))` / `(?=\n|$)`). */
export function toJsRegExp(shape: Pattern): RegExp {
  return new RegExp(translate(shape.pattern, shape.dotAll === true, true), shape.dotAll ? 's' : '');
}

/**
 * JS RegExp matching what Onigmo matches on text without `\n` (one line), where the anchors of the
 * two engines agree: they stay as written, so a leading `^` keeps the regex anchored and fast.
 */
export function toJsRegExpForLine(shape: Pattern): RegExp {
  return new RegExp(translate(shape.pattern, shape.dotAll === true, false), shape.dotAll ? 's' : '');
}

/**
 * `exec` as Onigmo's search would find it, with the plain anchors on single lines. Captures are
 * numbered (`names[i]` is in `match[i + 1]`): a JS regex with named groups builds a `groups`
 * object on every match.
 */
export class ShapeMatcher {
  /** Capture names in the order of their opening parentheses. */
  readonly names: readonly string[];
  private readonly line: RegExp;
  private readonly anywhere: RegExp;

  constructor(shape: Pattern) {
    const dotAll = shape.dotAll === true;
    const flags = dotAll ? 's' : '';
    this.names = [...shape.pattern.matchAll(/\(\?<([A-Za-z0-9_]+)>/g)].map((m) => m[1]!);
    this.line = new RegExp(translate(shape.pattern, dotAll, false, true), flags);
    this.anywhere = new RegExp(translate(shape.pattern, dotAll, true, true), flags);
  }

  exec(text: string): RegExpExecArray | null {
    return (text.indexOf('\n') === -1 ? this.line : this.anywhere).exec(text);
  }
}

function translate(source: string, dotAll: boolean, lineAnchors: boolean, numbered = false): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal member, not the end of the class.
      if (source[i + 1] === '^') out += source[++i];
      if (source[i + 1] === ']') out += source[++i];
    } else if (numbered && c === '(' && source.startsWith('(?<', i) && /^[A-Za-z0-9_]/.test(source[i + 3] ?? '')) {
      out += '(';
      i = source.indexOf('>', i);
    } else if (c === '.' && !dotAll) {
      out += '[^\\n]';
    } else if (c === '^' && lineAnchors && i > 0) {
      out += '(?:^|(?<=\\n))';
    } else if (c === '$' && lineAnchors) {
      out += '(?=\\n|$)';
    } else {
      out += c;
    }
  }
  return out;
}
