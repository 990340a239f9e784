// Validates records against docs/record.schema.json, the published schema of every JSON line that
// `parse`, the sidecar and the HA agent write. Test helpers pass every record they collect through
// here, so a field added to a record without the schema (or a record that breaks it) fails the test.
// ajv: the reference JSON Schema validator (draft 2020-12 with if/then and unevaluatedProperties,
// formats through ajv-formats), already in the tree through kubernetes-models' validation.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { REPO_ROOT } from '../repo.js';

export const RECORD_SCHEMA_URL = pathToFileURL(path.join(REPO_ROOT, 'docs', 'record.schema.json'));

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv, ['date-time']);
const validate = ajv.compile(JSON.parse(readFileSync(RECORD_SCHEMA_URL, 'utf8')) as object);

/** Why `record` does not match the schema, or undefined when it does. */
export function recordSchemaErrors(record: unknown): string | undefined {
  if (validate(record)) return undefined;
  return (validate.errors ?? [])
    .map((e) => {
      const field = (e.params as { unevaluatedProperty?: string; additionalProperty?: string });
      const name = field.unevaluatedProperty ?? field.additionalProperty;
      return `${e.instancePath || 'record'} ${e.message}${name === undefined ? '' : `: ${name}`}`;
    })
    .join('; ');
}

/** Returns `records` unchanged; throws naming the first record that does not match the schema. */
export function checkedRecords<T>(records: T[]): T[] {
  for (const record of records) {
    const errors = recordSchemaErrors(record);
    if (errors !== undefined) throw new Error(`record does not match docs/record.schema.json: ${errors}\n${JSON.stringify(record)}`);
  }
  return records;
}
