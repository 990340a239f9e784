// Reads generated Fluent Bit configurations back — classic mode the way src/config_format reads
// it (sections, 4-space entries, @INCLUDE, Parsers_File, quoted multiline rules) plus the house
// rules the generator promises (no end-of-line comments, no tabs, no trailing blanks), YAML through
// the `yaml` package against the documented schema — into one normal form, so both formats can be
// checked and compared. Every structural problem throws with file:line.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { allowedKeys, MULTILINE_PARSER_KEYS, PARSER_KEYS, REPEATABLE, SERVICE_KEYS, type PluginKind } from '../checks/fluent-bit-schema.js';

/** Property name (lower-case) → values (a repeated classic key or a YAML list gives several). */
export type Props = Record<string, string[]>;

export interface Rule {
  state: string;
  regex: string;
  next_state: string;
}

export interface NormalConfig {
  service: Props;
  inputs: Props[];
  filters: Props[];
  outputs: Props[];
  parsers: Props[];
  multilineParsers: { props: Props; rules: Rule[] }[];
}

/** Fluent Bit reads on/off/true/false alike; the normal form says on/off. */
function normalValue(v: string): string {
  if (/^(on|true)$/i.test(v)) return 'on';
  if (/^(off|false)$/i.test(v)) return 'off';
  return v;
}

function addProp(props: Props, key: string, value: string): void {
  (props[key.toLowerCase()] ??= []).push(normalValue(value));
}

// ---- classic --------------------------------------------------------------------------------

interface ClassicSection {
  kind: string;
  file: string;
  line: number;
  entries: { key: string; value: string; line: number }[];
}

const MAIN_SECTIONS = ['SERVICE', 'INPUT', 'FILTER', 'OUTPUT'];
const PARSER_SECTIONS = ['PARSER', 'MULTILINE_PARSER'];

/** Sections of one classic file and the files it includes (relative to the including file). */
function readClassicFile(file: string, allowed: readonly string[], seen: Set<string> = new Set()): ClassicSection[] {
  if (seen.has(file)) throw new Error(`${file}: included twice`);
  seen.add(file);
  if (!existsSync(file)) throw new Error(`${file}: does not exist`);
  const text = readFileSync(file, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`${file}: no newline at the end`);
  const sections: ClassicSection[] = [];
  text.slice(0, -1).split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    if (/[\r\t]/.test(raw)) throw new Error(`${where}: tab or carriage return`);
    if (raw !== raw.trimEnd()) throw new Error(`${where}: trailing blanks`);
    if (raw === '' || /^\s*#/.test(raw)) return;
    const include = /^@INCLUDE\s+(\S+)$/.exec(raw);
    if (include) {
      sections.push(...readClassicFile(path.resolve(path.dirname(file), include[1]!), allowed, seen));
      return;
    }
    const header = /^\[([A-Z_]+)\]$/.exec(raw);
    if (header) {
      if (!allowed.includes(header[1]!)) throw new Error(`${where}: section [${header[1]}] is not allowed in this file`);
      sections.push({ kind: header[1]!, file, line: i + 1, entries: [] });
      return;
    }
    const entry = /^ {4}(\S+) +(\S.*)$/.exec(raw);
    if (!entry) throw new Error(`${where}: not a section, comment, @INCLUDE or 4-space indented 'Key value' entry: ${raw}`);
    const section = sections.at(-1);
    if (!section) throw new Error(`${where}: entry outside a section`);
    if (/\s#/.test(entry[2]!)) throw new Error(`${where}: end-of-line comment (Fluent Bit would keep it in the value)`);
    section.entries.push({ key: entry[1]!, value: entry[2]!, line: i + 1 });
  });
  return sections;
}

/** flb_slist_split_tokens(): blank-separated tokens, double-quoted ones with `\"` unescaped. */
export function splitTokens(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === '"' && text[j - 1] !== '\\')) j++;
      if (j >= text.length) throw new Error(`unterminated quote in ${text}`);
      tokens.push(text.slice(i + 1, j).replace(/\\"/g, '"'));
      i = j + 1;
    } else {
      const j = text.indexOf(' ', i);
      tokens.push(text.slice(i, j === -1 ? text.length : j));
      i = j === -1 ? text.length : j;
    }
  }
  return tokens;
}

function propsOf(section: ClassicSection, except: readonly string[] = []): Props {
  const props: Props = {};
  for (const e of section.entries) if (!except.includes(e.key.toLowerCase())) addProp(props, e.key, e.value);
  return props;
}

/** Reads a classic main file, its @INCLUDEs and its Parsers_File(s). */
export function readClassic(mainFile: string): NormalConfig {
  const main = readClassicFile(mainFile, MAIN_SECTIONS);
  const services = main.filter((s) => s.kind === 'SERVICE');
  if (services.length !== 1) throw new Error(`${mainFile}: expected one [SERVICE], found ${services.length}`);
  const service = propsOf(services[0]!);
  const config: NormalConfig = {
    service,
    inputs: main.filter((s) => s.kind === 'INPUT').map((s) => propsOf(s)),
    filters: main.filter((s) => s.kind === 'FILTER').map((s) => propsOf(s)),
    outputs: main.filter((s) => s.kind === 'OUTPUT').map((s) => propsOf(s)),
    parsers: [],
    multilineParsers: [],
  };
  for (const parsersFile of service['parsers_file'] ?? []) {
    for (const s of readClassicFile(path.resolve(path.dirname(mainFile), parsersFile), PARSER_SECTIONS)) {
      if (s.kind === 'PARSER') {
        config.parsers.push(propsOf(s));
        continue;
      }
      const rules = s.entries
        .filter((e) => e.key.toLowerCase() === 'rule')
        .map((e) => {
          const tokens = splitTokens(e.value);
          if (tokens.length !== 3) throw new Error(`${s.file}:${e.line}: a Rule needs "state" "/regex/" "next_state"`);
          return { state: tokens[0]!, regex: tokens[1]!, next_state: tokens[2]! };
        });
      config.multilineParsers.push({ props: propsOf(s, ['rule']), rules });
    }
  }
  return config;
}

// ---- YAML -----------------------------------------------------------------------------------

const TOP_LEVEL = ['env', 'includes', 'service', 'pipeline', 'parsers', 'multiline_parsers', 'plugins', 'upstream_servers', 'customs'];

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: expected a scalar, got ${JSON.stringify(v)}`);
}

function yamlProps(map: unknown, where: string, allowLists: boolean): Props {
  if (!isMap(map)) throw new Error(`${where}: expected a map`);
  const props: Props = {};
  for (const [key, value] of Object.entries(map)) {
    if (Array.isArray(value) && allowLists) value.forEach((v, i) => addProp(props, key, scalar(v, `${where}.${key}[${i}]`)));
    else addProp(props, key, scalar(value, `${where}.${key}`));
  }
  return props;
}

/** An optional list; a key that is present must hold one (Fluent Bit rejects `parsers:` with nothing under it). */
function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${where}: expected a list`);
  return v;
}

/** Reads a YAML config (parsers inline) and checks it against the documented schema. */
export function readYaml(file: string): NormalConfig {
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  const top: unknown = doc.toJS();
  if (!isMap(top)) throw new Error(`${file}: the document is not a map`);
  for (const key of Object.keys(top)) if (!TOP_LEVEL.includes(key)) throw new Error(`${file}: unknown top-level key '${key}'`);
  const pipeline = top['pipeline'];
  if (!isMap(pipeline)) throw new Error(`${file}: no pipeline map`);
  for (const key of Object.keys(pipeline)) if (!['inputs', 'filters', 'outputs'].includes(key)) throw new Error(`${file}: unknown pipeline key '${key}'`);
  const plugins = (kind: string) =>
    list(pipeline[kind], `pipeline.${kind}`).map((p, i) => yamlProps(p, `${file}: pipeline.${kind}[${i}]`, true));
  return {
    service: yamlProps(top['service'], `${file}: service`, false),
    inputs: plugins('inputs'),
    filters: plugins('filters'),
    outputs: plugins('outputs'),
    parsers: list(top['parsers'], 'parsers').map((p, i) => yamlProps(p, `${file}: parsers[${i}]`, false)),
    multilineParsers: list(top['multiline_parsers'], 'multiline_parsers').map((m, i) => {
      const where = `${file}: multiline_parsers[${i}]`;
      if (!isMap(m)) throw new Error(`${where}: expected a map`);
      const { rules, ...rest } = m;
      return {
        props: yamlProps(rest, where, false),
        rules: list(rules, `${where}.rules`).map((r, j) => {
          if (!isMap(r) || Object.keys(r).sort().join() !== 'next_state,regex,state')
            throw new Error(`${where}.rules[${j}]: expected state, regex, next_state`);
          return { state: scalar(r['state'], where), regex: scalar(r['regex'], where), next_state: scalar(r['next_state'], where) };
        }),
      };
    }),
  };
}

// ---- checks on the normal form --------------------------------------------------------------

function one(props: Props, key: string): string | undefined {
  return props[key]?.[0];
}

/** Problems Fluent Bit would reject at start: unknown sections keys, unnamed or unknown plugins. */
export function unknownProperties(config: NormalConfig): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(config.service)) if (!SERVICE_KEYS.has(key)) problems.push(`service: unknown key '${key}'`);
  const plugins: [PluginKind, Props[]][] = [['input', config.inputs], ['filter', config.filters], ['output', config.outputs]];
  for (const [kind, list] of plugins) {
    for (const props of list) {
      const name = one(props, 'name');
      const allowed = name ? allowedKeys(kind, name) : undefined;
      if (!allowed) {
        problems.push(`${kind} '${name}': unknown plugin`);
        continue;
      }
      for (const key of Object.keys(props)) if (!allowed.has(key)) problems.push(`${kind} ${name}: unknown property '${key}'`);
      for (const [key, values] of Object.entries(props)) {
        if (values.length > 1 && !REPEATABLE.has(`${name}.${key}`)) problems.push(`${kind} ${name}: '${key}' given ${values.length} times`);
      }
    }
  }
  for (const p of config.parsers) for (const key of Object.keys(p)) if (!PARSER_KEYS.has(key)) problems.push(`parser ${one(p, 'name')}: unknown key '${key}'`);
  for (const m of config.multilineParsers) for (const key of Object.keys(m.props)) if (!MULTILINE_PARSER_KEYS.has(key)) problems.push(`multiline parser ${one(m.props, 'name')}: unknown key '${key}'`);
  return problems;
}

/** Names a config references but does not define (built-in multiline parsers excepted). */
export function undefinedParsers(config: NormalConfig, builtinMultiline: readonly string[]): string[] {
  const parsers = new Set(config.parsers.map((p) => one(p, 'name')));
  const multiline = new Set(config.multilineParsers.map((m) => one(m.props, 'name')));
  const missing: string[] = [];
  for (const props of [...config.inputs, ...config.filters]) {
    for (const name of props['parser'] ?? []) if (!parsers.has(name)) missing.push(`parser ${name}`);
    for (const list of props['multiline.parser'] ?? []) {
      for (const name of list.split(',').map((s) => s.trim())) {
        if (!multiline.has(name) && !builtinMultiline.includes(name)) missing.push(`multiline parser ${name}`);
      }
    }
  }
  return missing;
}
