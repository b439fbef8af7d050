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

describe('precompiled seccomp program', () => {
  it('equals a fresh compile of syscalls/x86_64.json, and is what the sandbox loads', async () => {
    const { compilePolicy } = await import('../../src/seccomp/compile.js');
    const { loadTable, TABLE_PATH } = await import('../../src/seccomp/table.js');
    const { decodePolicyArtifact, loadPolicy, POLICY_PATH } = await import('../../src/seccomp/policy.js');
    const fresh = compilePolicy(loadTable());
    const shipped = decodePolicyArtifact(readFileSync(POLICY_PATH), readFileSync(TABLE_PATH));
    expect(shipped).toBeDefined();
    expect(shipped!.equals(fresh)).toBe(true);
    expect(loadPolicy().equals(fresh)).toBe(true);
  });

  it('is ignored when the table text differs', async () => {
    const { decodePolicyArtifact, encodePolicyArtifact } = await import('../../src/seccomp/policy.js');
    const art = encodePolicyArtifact(Buffer.from('[1]'), Buffer.from([1, 2, 3]));
    expect(decodePolicyArtifact(art, Buffer.from('[1]'))).toEqual(Buffer.from([1, 2, 3]));
    expect(decodePolicyArtifact(art, Buffer.from('[2]'))).toBeUndefined();
    expect(decodePolicyArtifact(art.subarray(0, 7), Buffer.from('[1]'))).toBeUndefined();
  });
});
