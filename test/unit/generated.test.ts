// Build-time artifacts must equal a fresh generation from their sources (the build
// regenerates them; this catches a schema edited without rebuilding).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { generate, outPath } from '../../scripts/gen-validators.mjs';

describe('generated config validators', () => {
  it('equal ajv standalone code freshly generated from the schema', () => {
    expect(readFileSync(outPath as string, 'utf8')).toBe((generate as () => string)());
  });
});
