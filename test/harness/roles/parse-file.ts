// Runs a file (or bytes) through the line splitter and a format's parser, as `parse` does; every record
// is checked against the record schema.
import { readFileSync } from 'node:fs';
import { domainFromFileName, LOG_FORMATS, type LogFormatName } from '../../../parsers/formats.js';
import { LineSplitter } from '../../../parsers/lines.js';
import type { LogRecord, RecordParser } from '../../../parsers/record.js';
import { checkedRecords } from '../checks/record-schema.js';

export function parseBytes(
  bytes: Buffer,
  format: LogFormatName,
  options: { domain?: string | null; maxLineBytes?: number; chunkSize?: number } = {},
): LogRecord[] {
  const parser: RecordParser = LOG_FORMATS[format].create({ domain: options.domain ?? null });
  const records: LogRecord[] = [];
  const splitter = new LineSplitter(options.maxLineBytes);
  const onLine = (line: string, flags: number) => void records.push(...parser.push(line, flags));
  const chunk = options.chunkSize ?? 64 * 1024;
  for (let i = 0; i < bytes.length; i += chunk) splitter.feed(bytes.subarray(i, i + chunk), i, onLine);
  splitter.finish(bytes.length, onLine);
  records.push(...parser.flush());
  return checkedRecords(records);
}

export function parseFile(file: string, format: LogFormatName): LogRecord[] {
  return parseBytes(readFileSync(file), format, { domain: domainFromFileName(file) });
}
