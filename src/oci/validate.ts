// config.json validation: ajv against the schema kept beside this file. Every error names
// the field as a dotted path (`process.user.uid`) and says why, so a user can fix the file
// without reading the schema.
import AjvModule, { type ErrorObject } from 'ajv';
import schema from './schema/config.schema.json' with { type: 'json' };
import type { Spec } from './spec.js';

const Ajv = AjvModule.default;

// allErrors: report every problem at once; strict: a schema mistake is our bug, caught at
// start-up rather than silently ignoring a keyword.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const check = ajv.compile<Spec>(schema);

export type Validation = { ok: true; spec: Spec } | { ok: false; errors: string[] };

/** `/process/user/uid` → `process.user.uid`; array indices as `[0]`. */
function fieldName(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function describe(e: ErrorObject): string {
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const parent = fieldName(e.instancePath);
    return `\`${parent ? `${parent}.${missing}` : missing}\`: is required`;
  }
  const field = fieldName(e.instancePath) || '(root)';
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `\`${field}\`: must be one of ${allowed}`;
  }
  if (e.keyword === 'pattern' && (e.params as { pattern: string }).pattern === '^/') return `\`${field}\`: must be an absolute path`;
  return `\`${field}\`: ${e.message ?? e.keyword}`;
}

/** Validates a parsed config.json. Never throws: any JSON value gets an answer. */
export function validateSpec(value: unknown): Validation {
  if (check(value)) return { ok: true, spec: value };
  const errors = [...new Set((check.errors ?? []).map(describe))];
  return { ok: false, errors: errors.length > 0 ? errors : ['invalid'] };
}

const checkResources = ajv.getSchema('https://tsvisor.dev/schema/oci-config.json#/definitions/Resources')!;

/** Validates `update --resources` input: a linux.resources object. */
export function validateResources(value: unknown): string[] {
  if (checkResources(value)) return [];
  return [...new Set((checkResources.errors ?? []).map(describe))];
}
