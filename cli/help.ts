// `--help` of the CLI and of each command, rendered from the option specs and wrapped to the terminal width.
import { envName, formatDefault, type CommandSpec, type OptionSpec } from '../runtime/options.js';

/** Columns of the terminal help is written to; 80 when it is not a terminal (a pipe, a file). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY && stream.columns ? stream.columns : 80;
}

/**
 * Words of `text` in lines of at most `width` columns, every line after the first indented by `indent`
 * (a word longer than a line gets a line of its own). A single newline in the text is a space, two end a
 * paragraph.
 */
export function wrap(text: string, width: number, indent = 0): string {
  const room = Math.max(20, width - indent);
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line !== '' && line.length + 1 + word.length > room) {
        out.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out.join(`\n${pad}`);
}

function placeholder(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return '';
    case 'enum':
      return ` ${spec.choices?.join('|')}`;
    case 'integer':
    case 'port':
      return ' N';
    case 'bytes':
      return ' SIZE';
    case 'duration':
      return ' DURATION';
    case 'path':
      return ' PATH';
    case 'list':
      return ' A,B';
    case 'string':
      return ' VALUE';
  }
}

/** Terminals narrower than this get each text below its term rather than beside it. */
const TWO_COLUMNS_FROM = 100;

/** Each term, then its text wrapped beside it (or, on a narrow terminal or after a wide term, below it). */
function table(rows: readonly (readonly [string, string])[], width: number): string[] {
  if (width < TWO_COLUMNS_FROM) return rows.map(([term, text]) => `  ${term}\n      ${wrap(text, width, 6)}`);
  const column = Math.min(34, Math.max(...rows.map(([term]) => term.length)) + 4);
  return rows.map(([term, text]) => {
    const body = wrap(text, width, column);
    return term.length + 4 > column ? `  ${term}\n${' '.repeat(column)}${body}` : `  ${term.padEnd(column - 2)}${body}`;
  });
}

/** The text `--help` prints for one command. */
export function renderHelp(program: string, command: CommandSpec<readonly OptionSpec[]>, width = terminalWidth()): string {
  const pos = (command.positionals ?? []).map((p) => (p.required ? ` ${p.name}` : ` [${p.name}]`)).join('');
  const lines = [`Usage: ${program} ${command.name} [options]${pos}`, '', wrap(command.summary, width)];
  if (command.description) lines.push('', wrap(command.description, width));
  if (command.positionals?.length) lines.push('', 'Arguments:', ...table(command.positionals.map((p) => [p.name, p.description]), width));
  const rows: (readonly [string, string])[] = command.options.map((o) => {
    const extra: string[] = [];
    const def = formatDefault(o);
    if (def !== undefined && def !== '') extra.push(`default: ${def}`);
    extra.push(`env: ${envName(command.name, o.name)}`);
    if (o.required) extra.push('required');
    return [`--${o.name}${placeholder(o)}`, `${o.description} (${extra.join('; ')})`] as const;
  });
  rows.push(['-h, --help', 'show this help'], ['-v, --version', 'print the version']);
  lines.push('', 'Options:', ...table(rows, width));
  return lines.join('\n') + '\n';
}
