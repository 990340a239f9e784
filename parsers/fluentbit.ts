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
import type { Pattern } from './regex.js';
import { LIBVIRTD_CHAIN, LIBVIRTD_MULTILINE, QEMU_CHAIN, QEMU_MULTILINE } from './shapes.js';

export { toJsRegExp } from './regex.js';

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

/**
 * The regex as Fluent Bit's `Regex` (and a multiline `Rule`) takes it: `/…/`, or `/…/m` where `.`
 * must match newlines (Onigmo's Ruby syntax calls that option `m`). A leading `^` becomes `\A`:
 * Ruby's `^` is a line anchor, so a failing regex would be tried again after every newline of a
 * folded record; the shapes mean the start of the record.
 */
export function renderOnigmoRegex(shape: Pattern): string {
  const pattern = shape.pattern.startsWith('^') ? `\\A${shape.pattern.slice(1)}` : shape.pattern;
  return shape.dotAll ? `/${pattern}/m` : `/${pattern}/`;
}
