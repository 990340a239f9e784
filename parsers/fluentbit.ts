// What the Fluent Bit config generator takes from the log grammar: the parser and multiline
// parser definitions, the parser-filter chains, and the two renderings of one pattern (Onigmo for
// Fluent Bit, RegExp for the TypeScript parsers).
//
// Record keys: in_tail puts each line under `log` (its default Key) and the multiline parsers
// concatenate into that same key, so both chains parse key `log`:
//   - qemu: the records of the tail input on /var/log/libvirt/qemu/*.log after `multiline.parser`
//     libvirt_qemu_multiline;
//   - libvirtd: the container records after `multiline.parser cri` (inner line in `log`) and the
//     multiline filter libvirt_daemon_multiline (`multiline.key_content log`).

import type { LineShape, MultilineShape } from './shape.js';
import {
  LIBVIRTD_LINE,
  LIBVIRTD_MULTILINE,
  QEMU_CHARDEV,
  QEMU_COMMAND_LINE,
  QEMU_EXTERNAL_DEVICE,
  QEMU_LIBVIRT_MESSAGE,
  QEMU_MESSAGE,
  QEMU_MIGRATION,
  QEMU_MULTILINE,
  QEMU_PANIC,
  QEMU_SHUTDOWN,
  QEMU_SIGNAL,
  QEMU_START,
  QEMU_TAINT,
} from './shapes.js';

/**
 * Shapes of a QEMU domain log record, in the order a parser filter tries them (first match wins).
 * Specific libvirt lines precede the catch-all `<time>: <message>`; the signal line precedes the
 * general QEMU message; the two untimestamped shapes come last.
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
  QEMU_CHARDEV,
  QEMU_COMMAND_LINE,
];

/** Shapes of a libvirtd text record (container model, after continuation lines are joined). */
export const LIBVIRTD_CHAIN: readonly LineShape[] = [LIBVIRTD_LINE];

/** Every regex parser a generated config references (each once). */
export const FLUENT_BIT_PARSERS: readonly LineShape[] = [...new Set([...QEMU_CHAIN, ...LIBVIRTD_CHAIN])];

export const FLUENT_BIT_MULTILINE_PARSERS: readonly MultilineShape[] = [QEMU_MULTILINE, LIBVIRTD_MULTILINE];

/** Parser names for a Fluent Bit parser filter (`Key_Name log`), in the order to try them. */
export const PARSER_CHAINS: { readonly qemu: readonly string[]; readonly libvirtd: readonly string[] } = {
  qemu: QEMU_CHAIN.map((s) => s.name),
  libvirtd: LIBVIRTD_CHAIN.map((s) => s.name),
};

/** Multiline parsers: `qemu` for in_tail `multiline.parser`, `libvirtd` for the multiline filter. */
export const MULTILINE_NAMES: { readonly qemu: string; readonly libvirtd: string } = {
  qemu: QEMU_MULTILINE.name,
  libvirtd: LIBVIRTD_MULTILINE.name,
};

/** A pattern as it stands in a shape or a multiline rule. */
interface Pattern {
  readonly pattern: string;
  readonly dotAll?: boolean;
}

/**
 * The regex as Fluent Bit's `Regex` (and a multiline `Rule`) takes it: `/…/`, or `/…/m` where `.`
 * must match newlines (Onigmo's Ruby syntax calls that option `m`).
 */
export function renderOnigmoRegex(shape: Pattern): string {
  return shape.dotAll ? `/${shape.pattern}/m` : `/${shape.pattern}/`;
}

/**
 * The same pattern as a JS RegExp that matches exactly what Onigmo matches on a line without `\n`.
 * Onigmo's `.` excludes only `\n`, while JS's also excludes `\r`, U+2028 and U+2029, so outside
 * dotAll every unescaped `.` outside a character class becomes `[^\n]`. (`^`/`$` need no change:
 * Ruby's line anchors and JS's input anchors agree on input without `\n`.)
 */
export function toJsRegExp(shape: Pattern): RegExp {
  return shape.dotAll ? new RegExp(shape.pattern, 's') : new RegExp(dotExcludingOnlyNewline(shape.pattern));
}

function dotExcludingOnlyNewline(source: string): string {
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
    } else {
      out += c === '.' ? '[^\\n]' : c;
    }
  }
  return out;
}
