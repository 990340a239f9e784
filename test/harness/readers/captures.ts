// The named captures of a ShapeMatcher match (its regexes number their groups), as RegExp.groups would give them.
import type { ShapeMatcher } from '../../../parsers/regex.js';

export function capturesOf(matcher: ShapeMatcher, m: RegExpExecArray | null): Record<string, string | undefined> | undefined {
  return m === null ? undefined : Object.fromEntries(matcher.names.map((name, i) => [name, m[i + 1]]));
}
