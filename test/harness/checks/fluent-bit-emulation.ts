// Runs the parsers of a generated configuration in JavaScript the way Fluent Bit runs them, so a
// unit test can feed sample lines through what was actually rendered: the regex multiline state
// machine (src/multiline/flb_ml_rule.c), regex parsers (onig_search in Ruby syntax, named groups,
// Skip_Empty_Values, Types) and Time_Format/Time_Strict (src/flb_parser.c flb_parser_time_lookup).
import type { Props, Rule } from '../readers/fluent-bit-config.js';

/**
 * `/pattern/flags` (or a bare pattern) as Onigmo reads it, compiled in JS. In Ruby syntax `^`/`$`
 * always match at line boundaries (JS flag m); Onigmo's `m` option lets `.` match newlines (JS s).
 */
export function onigmoToJs(text: string): RegExp {
  const delimited = /^\/(.*)\/([a-z]*)$/s.exec(text);
  const [pattern, flags] = delimited ? [delimited[1]!, delimited[2]!] : [text, ''];
  for (const f of flags) if (f !== 'm') throw new Error(`regex option '${f}' is not emulated`);
  // `\A` (start of the text) is no JS escape; with flag m JS's `^` is a line anchor.
  return new RegExp(pattern.replace(/^\\A/, '(?<![\\s\\S])'), flags.includes('m') ? 'ms' : 'm');
}

/**
 * Lines grouped into records by a regex multiline parser, as flb_ml_rule_process() does. In_tail
 * feeds plain text; a parser without key_content then gets `\n` appended to every record it
 * flushes (`breakline_prepare()` in flb_ml_flush_stream_group()).
 */
export function runMultiline(rules: readonly Rule[], lines: readonly string[], options: { plainText: boolean; keyContent: boolean }): string[] {
  const compiled = rules.map((r) => ({
    from: r.state.split(','),
    start: r.state.split(',').includes('start_state'),
    regex: onigmoToJs(r.regex),
    next: r.next_state,
  }));
  const successors = (rule: (typeof compiled)[number]) => compiled.filter((r) => r.from.includes(rule.next));
  const records: string[] = [];
  let buf: string | undefined;
  let state: (typeof compiled)[number] | undefined;
  const breakline = options.plainText && !options.keyContent;
  const emit = (text: string) => records.push(breakline && !text.endsWith('\n') ? `${text}\n` : text);
  const flush = () => {
    if (buf !== undefined) emit(buf);
    buf = undefined;
  };
  for (const line of lines) {
    let rule: (typeof compiled)[number] | undefined;
    if (state) {
      rule = successors(state).find((r) => !r.start && r.regex.test(line));
      if (rule) buf = buf === undefined ? line : `${buf}\n${line}`;
    }
    if (!rule) {
      rule = compiled.find((r) => r.start && r.regex.test(line));
      if (rule) {
        flush();
        buf = line;
      }
    }
    if (rule) {
      state = rule;
      if (successors(rule).some((r) => r.start)) flush();
      continue;
    }
    // No rule matched: pending data is flushed and the line stands alone (state is kept).
    flush();
    emit(line);
  }
  flush();
  return records;
}

/** strptime for the directives the generated parsers use; returns epoch ns, or undefined. */
function strptime(text: string, format: string, strict: boolean): { ns: bigint; exact: boolean } | undefined {
  const parts: Record<string, number> = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0, frac: 0, offset: 0 };
  let fracDigits = '';
  let i = 0;
  let exact = true;
  const take = (re: RegExp): string | undefined => {
    const m = re.exec(text.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  outer: for (let f = 0; f < format.length; f++) {
    const c = format[f]!;
    if (c !== '%') {
      if (text[i] !== c) {
        exact = false;
        break;
      }
      i++;
      continue;
    }
    const d = format[++f]!;
    let v: string | undefined;
    switch (d) {
      case 'Y':
        v = take(/^\d{4}/);
        break;
      case 'm':
      case 'd':
      case 'H':
      case 'M':
      case 'S':
        v = take(/^\d{1,2}/);
        break;
      case 'L':
        v = take(/^\d+/);
        if (v !== undefined) fracDigits = v;
        break;
      case 'z': {
        v = take(/^(Z|[+-]\d{2}:?\d{2})/);
        if (v !== undefined && v !== 'Z') {
          const sign = v.startsWith('-') ? -1 : 1;
          const digits = v.slice(1).replace(':', '');
          parts['offset'] = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60;
        }
        break;
      }
      default:
        throw new Error(`strptime directive %${d} is not emulated`);
    }
    if (v === undefined) {
      exact = false;
      break outer;
    }
    if (d !== 'L' && d !== 'z') parts[d] = Number(v);
  }
  if (!exact && strict) return undefined;
  const seconds = Date.UTC(parts['Y']!, parts['m']! - 1, parts['d']!, parts['H']!, parts['M']!, parts['S']!) / 1000 - parts['offset']!;
  const ns = BigInt(seconds) * 1_000_000_000n + BigInt((fracDigits + '000000000').slice(0, 9));
  return { ns, exact };
}

export interface Parsed {
  parser: string;
  fields: Record<string, string | number | boolean>;
  /** Record time in ns when the parser has a Time_Key and it parsed. */
  timeNs?: bigint;
}

/** The first parser of `chain` whose regex matches, applied as flb_parser_regex_do() does. */
export function runParserChain(parsers: readonly Props[], chain: readonly string[], text: string): Parsed | undefined {
  for (const name of chain) {
    const p = parsers.find((x) => x['name']?.[0] === name);
    if (!p) throw new Error(`parser ${name} is not defined`);
    if (p['format']?.[0] !== 'regex') throw new Error(`parser ${name}: only regex parsers are emulated`);
    const m = onigmoToJs(p['regex']![0]!).exec(text);
    if (!m) continue;
    const skipEmpty = (p['skip_empty_values']?.[0] ?? 'on') === 'on';
    const types = Object.fromEntries((p['types']?.[0] ?? '').split(/\s+/).filter(Boolean).map((t) => t.split(':') as [string, string]));
    const fields: Parsed['fields'] = {};
    for (const [key, value] of Object.entries(m.groups ?? {})) {
      if (value === undefined || (skipEmpty && value === '')) continue;
      const type = types[key];
      fields[key] = type === 'integer' ? Number.parseInt(value, 10) : type === 'float' ? Number.parseFloat(value) : type === 'bool' ? value === 'true' : value;
    }
    const parsed: Parsed = { parser: name, fields };
    const timeKey = p['time_key']?.[0];
    if (timeKey && typeof fields[timeKey] === 'string') {
      const t = strptime(fields[timeKey] as string, p['time_format']![0]!, (p['time_strict']?.[0] ?? 'on') === 'on');
      if (t) parsed.timeNs = t.ns;
      if ((p['time_keep']?.[0] ?? 'off') !== 'on') delete fields[timeKey];
    }
    return parsed;
  }
  return undefined;
}
