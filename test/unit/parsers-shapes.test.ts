import test from 'ava';
import {
  FLUENT_BIT_MULTILINE_PARSERS,
  FLUENT_BIT_PARSERS,
  MULTILINE_NAMES,
  PARSER_CHAINS,
  renderOnigmoRegex,
  toJsRegExp,
} from '../../parsers/fluentbit.js';
import { ShapeMatcher, toJsRegExpForLine } from '../../parsers/regex.js';
import { ShapeChain, compileShape } from '../../parsers/chain.js';
import { CRI_LINE, QEMU_CHARDEV, QEMU_SHUTDOWN } from '../../parsers/shapes.js';
import { MultilineFolder } from '../../parsers/multiline.js';
import { QEMU_LOG_SAMPLES, linesOf } from '../harness/inputs/samples.js';
import { capturesOf } from '../harness/readers/captures.js';
import { SYNTHETIC_QEMU_LINES } from '../harness/inputs/qemu-lines.js';

const ALL_SHAPES = [...FLUENT_BIT_PARSERS, CRI_LINE];
const ALL_RULES = FLUENT_BIT_MULTILINE_PARSERS.flatMap((m) => m.rules);

/** `/pattern/` or `/pattern/m` back into a pattern, as Fluent Bit's str_to_regex() reads it. */
function fromRendered(text: string): { pattern: string; dotAll: boolean } {
  const m = /^\/(.*)\/(m?)$/s.exec(text);
  if (!m) throw new Error(`not a /…/ regex: ${text}`);
  return { pattern: m[1]!.replace(/^\\A/, '^'), dotAll: m[2] === 'm' };
}

function groupNames(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?<([^>=!]*)>/g)].map((m) => m[1]!);
}

test('parser names are unique and chains reference only defined parsers', (t) => {
  const names = FLUENT_BIT_PARSERS.map((s) => s.name);
  t.is(new Set(names).size, names.length);
  for (const name of [...PARSER_CHAINS.qemu, ...PARSER_CHAINS.libvirtd]) t.true(names.includes(name), name);
  t.deepEqual([...new Set([...PARSER_CHAINS.qemu, ...PARSER_CHAINS.libvirtd])].sort(), [...names].sort());
  t.deepEqual(
    FLUENT_BIT_MULTILINE_PARSERS.map((m) => m.name).sort(),
    [MULTILINE_NAMES.qemu, MULTILINE_NAMES.libvirtd].sort(),
  );
});

test('named groups use Onigmo-valid names; Time_Key and Types name captured fields', (t) => {
  for (const shape of ALL_SHAPES) {
    const groups = groupNames(shape.pattern);
    t.true(groups.length > 0, shape.name);
    for (const g of groups) t.regex(g, /^[A-Za-z0-9_]+$/, `${shape.name}: ${g}`);
    t.is(new Set(groups).size, groups.length, `${shape.name}: duplicate group`);
    if (shape.time) t.true(groups.includes(shape.time.key), `${shape.name}: time key`);
    for (const key of Object.keys(shape.types ?? {})) t.true(groups.includes(key), `${shape.name}: type of ${key}`);
  }
});

test('QEMU times are parsed with Time_Strict off (the fraction is missing when µs = 0)', (t) => {
  for (const shape of FLUENT_BIT_PARSERS.filter((s) => s.time?.format.includes('T'))) t.false(shape.time!.strict, shape.name);
});

test('patterns stay in the subset Onigmo and JS read alike', (t) => {
  const forbidden: [RegExp, string][] = [
    [/\(\?<[=!]/, 'lookbehind'],
    [/\\[hHpPkK]/, 'Onigmo-only or Unicode escape'],
    [/\\[1-9]/, 'backreference'],
    [/[*+?}][+]/, 'possessive quantifier'],
    [/\\[sSwWdD]/, 'class escape (engines differ outside ASCII)'],
  ];
  for (const p of [...ALL_SHAPES, ...ALL_RULES]) {
    for (const [re, what] of forbidden) t.notRegex(p.pattern, re, `${what} in ${p.pattern}`);
  }
});

test('multiline parsers: states are defined, flush timeout is accepted, rules survive classic quoting', (t) => {
  for (const ml of FLUENT_BIT_MULTILINE_PARSERS) {
    const states = new Set(ml.rules.map((r) => r.state));
    t.true(states.has('start_state'), ml.name);
    for (const r of ml.rules) t.true(states.has(r.next), `${ml.name}: next state ${r.next}`);
    // flb_ml_auto_flush_init() refuses less than 500 ms.
    t.true(ml.flushTimeoutMs >= 500);
    // A classic `Rule "state" "/regex/" "next"` token ends at the first unescaped double quote.
    for (const r of ml.rules) t.false(r.pattern.includes('"'), r.pattern);
  }
});

test('renderOnigmoRegex gives /…/ or /…/m, and the rendered text compiles in JS', (t) => {
  for (const p of [...FLUENT_BIT_PARSERS, ...ALL_RULES]) {
    const rendered = renderOnigmoRegex(p);
    const back = fromRendered(rendered);
    t.is(back.pattern, p.pattern);
    // A leading `^` is the start of the text, `\A` for Onigmo (Ruby's `^` is a line anchor).
    t.is(rendered.startsWith('/\\A'), p.pattern.startsWith('^'), rendered);
    t.is(back.dotAll, 'dotAll' in p && p.dotAll === true);
    t.notThrows(() => toJsRegExp(back));
  }
});

test('outside dotAll `.` matches \\r and U+2028 as in Onigmo, never \\n', (t) => {
  const line = '2024-05-01 16:00:00.100+0000: shutting down, reason=odd\rreason\u2028here';
  t.is(toJsRegExp(QEMU_SHUTDOWN).exec(line)?.groups?.reason, 'odd\rreason\u2028here');
  t.is(toJsRegExpForLine(QEMU_SHUTDOWN).exec(line)?.groups?.reason, 'odd\rreason\u2028here');
  // Literal dots and dots inside classes are left alone.
  t.is(toJsRegExp({ pattern: '^a\\.[.]$' }).source, '^a\\.[.](?=\\n|$)');
  t.is(toJsRegExp({ pattern: 'x^a' }).source, 'x(?:^|(?<=\\n))a');
});

test('a shape anchors at the start of the record (`\\A`); its `$` stays a Ruby line anchor', (t) => {
  const chardev = new ShapeMatcher(QEMU_CHARDEV);
  const inside = 'first line\nchar device redirected to /dev/pts/7 (label charserial0)\nlast';
  t.is(toJsRegExp(QEMU_CHARDEV).exec(inside), null);
  t.is(chardev.exec(inside), null);
  const first = 'char device redirected to /dev/pts/7 (label charserial0)\nlast';
  t.is(toJsRegExp(QEMU_CHARDEV).exec(first)?.groups?.pty, '/dev/pts/7');
  t.is(capturesOf(chardev, chardev.exec(first))?.pty, '/dev/pts/7');
  t.is(toJsRegExpForLine(QEMU_CHARDEV).exec(first), null);
});

/** Every QEMU-log record text: the samples folded by the QEMU multiline parser, plus synthetic lines. */
function qemuRecordTexts(): string[] {
  const texts: string[] = [];
  const folder = new MultilineFolder(
    FLUENT_BIT_MULTILINE_PARSERS.find((m) => m.name === MULTILINE_NAMES.qemu)!,
    (text) => texts.push(text),
    1 << 20,
  );
  const lines = [...QEMU_LOG_SAMPLES.flatMap(linesOf), ...Object.values(SYNTHETIC_QEMU_LINES)];
  for (const line of lines) folder.push(line, 0, null);
  folder.flush();
  return texts;
}

test('ShapeMatcher finds what the any-text RegExp finds, on every record text', (t) => {
  const texts = [...qemuRecordTexts(), 'x\nchar device redirected to /dev/pts/1 (label a)', 'a\n2024-05-01 16:00:00.100+0000: resuming migration'];
  for (const shape of FLUENT_BIT_PARSERS) {
    const matcher = new ShapeMatcher(shape);
    const reference = toJsRegExp(shape);
    for (const text of texts) {
      const a = matcher.exec(text);
      const b = reference.exec(text);
      t.is(a?.index, b?.index, `${shape.name} on ${JSON.stringify(text.slice(0, 60))}`);
      t.deepEqual(capturesOf(matcher, a), b?.groups === undefined ? undefined : { ...b.groups });
    }
  }
});

test('the first-character dispatch of a chain picks what trying every shape in order picks', (t) => {
  const shapes = FLUENT_BIT_PARSERS.filter((s) => PARSER_CHAINS.qemu.includes(s.name));
  const ordered = PARSER_CHAINS.qemu.map((n) => compileShape(shapes.find((s) => s.name === n)!));
  const chain = new ShapeChain(
    PARSER_CHAINS.qemu.map((n) => shapes.find((s) => s.name === n)!),
    'qemu',
  );
  for (const text of qemuRecordTexts()) {
    const first = ordered.find((c) => toJsRegExp(c.shape).test(text));
    const record = chain.parse(text, null);
    t.is(record.kind === 'unparsed', first === undefined, text.slice(0, 60));
    if (first) t.is(record.message, toJsRegExp(first.shape).exec(text)!.groups!.message ?? '');
  }
});

test('a timestamp out of range is captured as invalid_time, not time, by the rendered Fluent Bit parser and the TypeScript chain alike', (t) => {
  const shapes = PARSER_CHAINS.qemu.map((n) => FLUENT_BIT_PARSERS.find((s) => s.name === n)!);
  const chain = new ShapeChain(shapes, 'qemu');
  const cases: { line: string; shape: string; time?: string; invalid?: string }[] = [
    { line: '2024-13-45 99:99:99.999+0000: shutting down, reason=crashed', shape: 'libvirt_qemu_shutdown', invalid: '2024-13-45 99:99:99.999+0000' },
    { line: '2024-05-01 24:00:00.000+0000: 12: error : f:1 : hour 24', shape: 'libvirt_daemon_line', invalid: '2024-05-01 24:00:00.000+0000' },
    { line: '2024-00-01T10:00:00Z qemu-system-x86_64: terminating on signal 15', shape: 'libvirt_qemu_signal', invalid: '2024-00-01T10:00:00Z' },
    { line: '2024-05-01T10:60:00.5Z qemu-system-x86_64: warning: minute 60', shape: 'libvirt_qemu_message', invalid: '2024-05-01T10:60:00.5Z' },
    { line: '2024-05-01 10:00:00.000+0000: shutting down, reason=in range', shape: 'libvirt_qemu_shutdown', time: '2024-05-01 10:00:00.000+0000' },
  ];
  for (const c of cases) {
    const rendered = shapes.map((s) => ({ s, regex: toJsRegExp(fromRendered(renderOnigmoRegex(s))) })).find((r) => r.regex.test(c.line))!;
    t.is(rendered.s.name, c.shape, c.line);
    const groups = rendered.regex.exec(c.line)!.groups!;
    t.is<string | undefined, string | undefined>(groups['invalid_time'], c.invalid, c.line);
    t.is<string | undefined, string | undefined>(groups['time'], c.time, c.line);
    const record = chain.parse(c.line, null);
    t.is(record.invalid_time, c.invalid, c.line);
    t.is(record.time === null, c.invalid !== undefined, c.line);
  }
  // In range but past the month's end: Fluent Bit takes it as a time (rolled over into March), the TypeScript parsers do not.
  t.is(chain.parse('2024-02-30 10:00:00.000+0000: shutting down, reason=x', null).invalid_time, '2024-02-30 10:00:00.000+0000');
});
