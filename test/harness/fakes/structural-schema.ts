// The part of a CRD's structural OpenAPI v3 schema the fake API server enforces, with the
// apiserver's semantics: unknown fields are pruned (unless x-kubernetes-preserve-unknown-fields),
// defaults are applied, then types, enums and required fields are validated (422 on failure).

export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  format?: string;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops fields the schema does not declare and fills in defaults; returns the pruned value. */
export function pruneAndDefault(value: Json, schema: Schema): Json {
  if (schema.type === 'object' && isObject(value)) {
    const out: Record<string, Json> = {};
    for (const [key, child] of Object.entries(value)) {
      const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (sub) out[key] = pruneAndDefault(child, sub);
      else if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties === true) out[key] = child;
    }
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (!(key in out) && sub.default !== undefined) out[key] = structuredClone(sub.default) as Json;
    }
    return out;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) return value.map((v) => pruneAndDefault(v, schema.items!));
  return value;
}

/** Field errors in the apiserver's wording, e.g. `spec.reason: Required value`. */
export function validate(value: Json, schema: Schema, path: string): string[] {
  const errors: string[] = [];
  const typeOk = (() => {
    switch (schema.type) {
      case undefined:
        return true;
      case 'object':
        return isObject(value);
      case 'array':
        return Array.isArray(value);
      case 'integer':
        return typeof value === 'number' && Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      default:
        return typeof value === schema.type;
    }
  })();
  if (!typeOk) return [`${path}: Invalid value: "${typeName(value)}": ${path} in body must be of type ${schema.type}`];
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errors.push(`${path}: Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (schema.format === 'date-time' && typeof value === 'string' && Number.isNaN(Date.parse(value))) {
    errors.push(`${path}: Invalid value: "${value}": ${path} in body must be of type date-time`);
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) if (!(key in value)) errors.push(`${path}.${key}: Required value`);
    for (const [key, child] of Object.entries(value)) {
      const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (sub) errors.push(...validate(child, sub, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(v, schema.items!, `${path}[${i}]`)));
  return errors;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
