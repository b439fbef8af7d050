// config.json validation: ajv against the schema kept beside this file. Every error names
// the field as a dotted path (`process.user.uid`) and says why, so a user can fix the file
// without reading the schema.
//
// The validators are ajv's standalone code, generated at build time by
// scripts/gen-validators.mjs (allErrors: report every problem at once; strict: a schema
// mistake is our bug, caught by the build), so no schema is compiled at run time.
import type { ErrorObject } from 'ajv';
import * as generated from './validators.generated.js';
import type { Spec } from './spec.js';

/** An ajv validate function: a type guard that leaves its errors on itself. */
interface Check<T> {
  (value: unknown): value is T;
  errors?: ErrorObject[] | null;
}

const check = generated.checkSpec as Check<Spec>;
const checkResources = generated.checkResources as Check<unknown>;

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

/** Validates `update --resources` input: a linux.resources object. */
export function validateResources(value: unknown): string[] {
  if (checkResources(value)) return [];
  return [...new Set((checkResources.errors ?? []).map(describe))];
}
