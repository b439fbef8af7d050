// An OCI bundle: a directory with config.json, validated before anything is created.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Spec } from './spec.js';
import { validateSpec } from './validate.js';

export class BundleError extends Error {}

export interface Bundle {
  /** Absolute path of the bundle directory. */
  dir: string;
  spec: Spec;
  /** Absolute path of the root filesystem. */
  rootfs: string;
}

/** Parses and validates TEXT as a config.json; errors name every bad field. */
export function parseConfig(text: string): Spec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`config.json: not JSON: ${(err as Error).message}`);
  }
  const v = validateSpec(value);
  if (!v.ok) throw new BundleError(`config.json: ${v.errors.join('; ')}`);
  return v.spec;
}

export function loadBundle(dir: string): Bundle {
  const abs = resolve(dir);
  let text: string;
  try {
    text = readFileSync(resolve(abs, 'config.json'), 'utf8');
  } catch (err) {
    throw new BundleError(`open \`${resolve(abs, 'config.json')}\`: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const spec = parseConfig(text);
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : resolve(abs, spec.root.path);
  return { dir: abs, spec, rootfs };
}
