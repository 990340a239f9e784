// The rendered parser regexes run by real Onigmo (Ruby's regex engine, the library Fluent Bit
// bundles, in the same Ruby syntax) against the JS RegExps the TypeScript parsers use: on every
// sample line, every folded record, and edge cases, both must compile and find the same match
// with the same captures. Installs Debian's `ruby` when it is missing.

import test from 'ava';
import { ensurePackages } from '../env/packages.js';
import { spawn } from 'node:child_process';
import { FLUENT_BIT_MULTILINE_PARSERS, FLUENT_BIT_PARSERS, renderOnigmoRegex, toJsRegExp } from '../../parsers/fluentbit.js';
import { MultilineFolder } from '../../parsers/multiline.js';
import { ShapeMatcher, toJsRegExpForLine } from '../../parsers/regex.js';
import { CRI_LINE } from '../../parsers/shapes.js';
import { SYNTHETIC_QEMU_LINES } from '../harness/inputs/qemu-lines.js';
import { CRI_SAMPLES, JOURNAL_SAMPLES, QEMU_LOG_SAMPLES, linesOf } from '../harness/inputs/samples.js';
import { capturesOf } from '../harness/readers/captures.js';


/** Matches each rendered regex against each text in Ruby; null or [code-point index, named captures]. */
const RUBY = `
require 'json'
input = JSON.parse($stdin.read)
out = input['regexes'].map do |text|
  m = %r{\\A/(.*)/(m?)\\z}m.match(text)
  re = Regexp.new(m[1], m[2] == 'm' ? Regexp::MULTILINE : 0)
  input['texts'].map do |t|
    found = re.match(t)
    found ? [found.begin(0), found.named_captures] : nil
  end
end
puts JSON.generate(out)
`;

type RubyResult = ([number, Record<string, string | null>] | null)[][];

async function onigmo(regexes: string[], texts: string[]): Promise<RubyResult> {
  const child = spawn('ruby', ['-e', RUBY]);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.end(JSON.stringify({ regexes, texts }));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`ruby failed: ${Buffer.concat(err).toString()}`);
  return JSON.parse(Buffer.concat(out).toString()) as RubyResult;
}

function fold(name: string, lines: readonly string[]): string[] {
  const texts: string[] = [];
  const folder = new MultilineFolder(FLUENT_BIT_MULTILINE_PARSERS.find((m) => m.name === name)!, (t) => texts.push(t), 1 << 20);
  for (const l of lines) folder.push(l, 0, null);
  folder.flush();
  return texts;
}

function corpus(): { lines: string[]; texts: string[] } {
  const sampleLines = [...QEMU_LOG_SAMPLES, ...JOURNAL_SAMPLES, ...CRI_SAMPLES].flatMap(linesOf);
  const criInner = CRI_SAMPLES.flatMap(linesOf).map((l) => l.split(' ').slice(3).join(' '));
  const synthetic = Object.values(SYNTHETIC_QEMU_LINES);
  const edge = [
    '',
    '2024-05-01 16:00:00.100+0000: shutting down, reason=odd\rvalue\u2028here',
    '2024-05-01T16:00:00Z qemu-system-x86_64: \u00e9t\u00e9 \uFFFD',
    'prefix\nchar device redirected to /dev/pts/3 (label serial0)\nsuffix',
    'junk\n2024-05-01 16:00:00.100+0000: 12: error : f:1 : second line starts a libvirt line',
    '2024-05-01 16:00:00.100+0000: resuming migration\ntrailing',
    ' \\',
    '-S',
  ];
  const lines = [...sampleLines, ...criInner, ...synthetic, ...edge];
  const texts = [
    ...lines,
    ...fold('libvirt_qemu_multiline', [...QEMU_LOG_SAMPLES.flatMap(linesOf), ...synthetic]),
    ...fold('libvirt_daemon_multiline', criInner),
  ];
  // in_tail's multiline records end in `\n` unless the multiline parser sets Key_Content.
  const withNewline = texts.map((t) => `${t}\n`);
  return { lines: [...new Set(lines)], texts: [...new Set([...texts, ...withNewline])] };
}

test.before(async () => {
  await ensurePackages(['ruby']);
});

test('Onigmo compiles every rendered parser and finds the same matches and captures as the TypeScript parsers', async (t) => {
  const { texts } = corpus();
  const shapes = [...FLUENT_BIT_PARSERS, CRI_LINE];
  const results = await onigmo(shapes.map(renderOnigmoRegex), texts);
  let matches = 0;
  shapes.forEach((shape, i) => {
    const matcher = new ShapeMatcher(shape);
    const reference = toJsRegExp(shape);
    texts.forEach((text, j) => {
      const expected = results[i]![j]!;
      const fromMatcher = matcher.exec(text);
      const fromReference = reference.exec(text);
      for (const [m, groups] of [[fromMatcher, capturesOf(matcher, fromMatcher)], [fromReference, fromReference?.groups]] as const) {
        const got = m === null ? null : [[...text.slice(0, m.index)].length, Object.fromEntries(Object.entries(groups ?? {}).map(([k, v]) => [k, v ?? null]))];
        t.deepEqual(got, expected, `${shape.name} on ${JSON.stringify(text.slice(0, 80))}`);
      }
      if (expected !== null) matches++;
    });
  });
  t.true(matches > 100);
});

test('Onigmo and JS agree on which lines each multiline rule matches', async (t) => {
  const { lines } = corpus();
  const rules = FLUENT_BIT_MULTILINE_PARSERS.flatMap((m) => m.rules);
  const results = await onigmo(rules.map(renderOnigmoRegex), lines);
  rules.forEach((rule, i) => {
    const regex = toJsRegExpForLine(rule);
    lines.forEach((line, j) => {
      if (line.includes('\n')) return; // rules only ever see single lines
      t.is(regex.test(line), results[i]![j] !== null, `${rule.state} ${rule.pattern} on ${JSON.stringify(line.slice(0, 80))}`);
    });
    t.true(results[i]!.some((r) => r !== null), `rule ${rule.pattern} matches some line`);
  });
});
