// `libvirt-telemetry parse`: turns a log file (or stdin) into records, one JSON object per line.

import { open, type FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { UsageError, type CommandSpec, type OptionValues } from '../runtime/options.js';
import { domainFromFileName, LOG_FORMAT_NAMES, LOG_FORMATS, type LogFormatName } from './formats.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './lines.js';
import type { LogRecord, RecordParser } from './record.js';

const options = [
  {
    name: 'format',
    type: 'enum',
    choices: LOG_FORMAT_NAMES,
    default: 'qemu',
    description: `input format: ${LOG_FORMAT_NAMES.map((n) => `${n} = ${LOG_FORMATS[n].description}`).join('; ')}`,
  },
  {
    name: 'domain',
    type: 'string',
    description: 'domain name for the records of a QEMU log (default: the file name without .log)',
  },
  {
    name: 'max-line-bytes',
    deprecatedNames: ['max-line'],
    type: 'bytes',
    default: String(DEFAULT_MAX_LINE_BYTES),
    min: 1024,
    description: 'longest line kept; longer lines are cut to this and flagged "truncated": true',
  },
] as const;

/** Output is written in blocks of about this size. */
const OUTPUT_BLOCK = 64 * 1024;

class JsonLinesWriter {
  private buffer = '';

  constructor(private readonly out: Writable) {}

  async write(records: readonly LogRecord[]): Promise<void> {
    for (const r of records) this.buffer += JSON.stringify(r) + '\n';
    if (this.buffer.length >= OUTPUT_BLOCK) await this.drain();
  }

  async drain(): Promise<void> {
    const text = this.buffer;
    this.buffer = '';
    if (text !== '' && !this.out.write(text)) await waitForDrain(this.out);
  }
}

function waitForDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

async function openInput(file: string): Promise<FileHandle> {
  try {
    const handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new UsageError(`cannot read '${file}': is a directory`);
    }
    return handle;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read '${file}': ${why}`);
  }
}

/** Parses `input` to completion, writing records to `output`; returns the number of records. */
export async function parseStream(input: Readable, parser: RecordParser, output: Writable, maxLineBytes: number): Promise<number> {
  const writer = new JsonLinesWriter(output);
  let count = 0;
  let batch: LogRecord[] = [];
  const splitter = new LineSplitter(maxLineBytes);
  const onLine = (line: string, flags: number) => {
    for (const r of parser.push(line, flags)) batch.push(r);
  };
  let offset = 0;
  const emit = async () => {
    count += batch.length;
    await writer.write(batch);
    batch = [];
  };
  for await (const chunk of input) {
    splitter.feed(chunk as Buffer, offset, onLine);
    offset += (chunk as Buffer).length;
    await emit();
  }
  splitter.finish(offset, onLine);
  batch.push(...parser.flush());
  await emit();
  await writer.drain();
  return count;
}

export const parseCommand: CommandSpec<typeof options> = {
  name: 'parse',
  summary: 'Parse a libvirt/QEMU log into records (JSON lines)',
  description:
    'Reads FILE (or stdin for "-") and prints one JSON record per line, with the fields documented in docs/records.md. ' +
    'Lines that match no known shape are kept as kind "unparsed".',
  options,
  positionals: [{ name: 'FILE', description: 'log file to parse, or - for stdin', required: true }],
  async run(values: OptionValues<typeof options>, positionals: string[]): Promise<number> {
    const file = positionals[0]!;
    const format = values.format as LogFormatName;
    const domain = values.domain ?? (file === '-' ? null : domainFromFileName(file));
    const parser = LOG_FORMATS[format].create({ domain });
    const handle = file === '-' ? null : await openInput(file);
    const input = handle === null ? process.stdin : handle.createReadStream();
    try {
      await parseStream(input, parser, process.stdout, values['max-line-bytes']);
    } catch (err) {
      // The reader went away (e.g. `| head`): nothing left to do.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    } finally {
      await handle?.close();
    }
    return 0;
  },
};
