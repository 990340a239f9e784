// Every generated file is read back — classic the way Fluent Bit reads it, YAML against the schema —
// and checked for what would make Fluent Bit refuse to start or silently misbehave.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILTIN_MULTILINE_PARSERS } from '../../generator/model.js';
import { FILE_NAMES } from '../../generator/files.js';
import { readClassic, readYaml, splitTokens, undefinedParsers, unknownProperties, type NormalConfig } from '../harness/readers/fluent-bit-config.js';
import { VARIANTS, writeVariant } from '../harness/inputs/generator-variants.js';

/** The classic form minus what only classic has (the parsers file reference). */
function withoutParsersFile(c: NormalConfig): NormalConfig {
  const { parsers_file: _, ...service } = c.service;
  return { ...c, service };
}

for (const variant of VARIANTS) {
  test(`structure: ${variant.name}`, (t) => {
    const dir = writeVariant(variant);
    const classic = readClassic(path.join(dir, FILE_NAMES.classic.main));
    const yaml = readYaml(path.join(dir, FILE_NAMES.yaml.main));
    for (const [format, config] of [['classic', classic], ['yaml', yaml]] as const) {
      t.deepEqual(unknownProperties(config), [], `${format}: properties Fluent Bit would reject`);
      t.deepEqual(undefinedParsers(config, BUILTIN_MULTILINE_PARSERS), [], `${format}: parsers referenced but not defined`);
      t.true(config.inputs.length > 0 && config.outputs.length > 0);
      for (const input of config.inputs) t.deepEqual(input['storage.type'], ['filesystem'], `${format}: input ${input['name']} buffers on disk`);
      t.deepEqual(config.service['health_check'], ['on']);
      t.truthy(config.service['storage.path']);
    }
    t.deepEqual(classic.service['parsers_file'], [FILE_NAMES.classic.parsers]);
    t.deepEqual(withoutParsersFile(classic), yaml, 'classic and YAML say the same');
  });
}

test('the classic reader catches what Fluent Bit would misread', (t) => {
  const dir = writeVariant(VARIANTS[0]!);
  const main = path.join(dir, FILE_NAMES.classic.main);
  const bad: [string, RegExp][] = [
    ['[SERVICE]\n  Flush 1\n', /4-space/],
    ['[SERVICE]\n    Flush 1  # seconds\n', /end-of-line comment/],
    ['[SERVICE]\n    Flush 1\n[PARSER]\n    Name x\n', /not allowed in this file/],
    ['@INCLUDE missing.conf\n[SERVICE]\n    Flush 1\n', /does not exist/],
    ['    Flush 1\n', /outside a section/],
    ['[SERVICE]\n    Flush\t1\n', /tab/],
  ];
  for (const [text, expected] of bad) {
    writeFileSync(main, text);
    t.throws(() => readClassic(main), { message: expected }, JSON.stringify(text));
  }
  writeFileSync(main, '[SERVICE]\n    Flush 1\n    Bogus_Key 1\n[INPUT]\n    Name tail\n    Parser nope\n    Pathh /x\n[OUTPUT]\n    Name stdout\n    Match *\n');
  const config = readClassic(main);
  t.deepEqual(unknownProperties(config), ["service: unknown key 'bogus_key'", "input tail: unknown property 'pathh'"]);
  t.deepEqual(undefinedParsers(config, BUILTIN_MULTILINE_PARSERS), ['parser nope']);
});

test('multiline rule fields split like flb_slist_split_tokens()', (t) => {
  t.deepEqual(splitTokens('"start_state" "/^a \\"b\\" c$/" "cont"'), ['start_state', '/^a "b" c$/', 'cont']);
  t.deepEqual(splitTokens('"cont"   "/x/"  "cont"'), ['cont', '/x/', 'cont']);
});
