// The seccomp program of syscalls/x86_64.json, compiled at build time by
// scripts/gen-policy.mjs into dist/seccomp-policy.bin, so that a sandbox start does not
// compile it (5-30 ms). The artifact holds the table's exact text beside the program and
// is used only when that text equals the table's now; otherwise (table edited since the
// build, no build yet) the program is compiled as before. A unit test checks that the
// shipped program equals a fresh compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { compilePolicy } from './compile.js';
import { loadTable, TABLE_PATH } from './table.js';

export const POLICY_PATH = join(PACKAGE_ROOT, 'dist', 'seccomp-policy.bin');

/** The artifact: u32 LE length of the table text, the text, then the program. */
export function encodePolicyArtifact(tableText: Buffer, program: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(tableText.length);
  return Buffer.concat([len, tableText, program]);
}

/** The program in ARTIFACT if it was compiled from TABLETEXT, else undefined. */
export function decodePolicyArtifact(artifact: Buffer, tableText: Buffer): Buffer | undefined {
  if (artifact.length < 4) return undefined;
  const len = artifact.readUInt32LE(0);
  if (artifact.length <= 4 + len || !artifact.subarray(4, 4 + len).equals(tableText)) return undefined;
  return artifact.subarray(4 + len);
}

/** The seccomp program: precompiled when it matches the table, else compiled now. */
export function loadPolicy(): Buffer {
  try {
    const program = decodePolicyArtifact(readFileSync(POLICY_PATH), readFileSync(TABLE_PATH));
    if (program) return program;
  } catch {
    // No artifact: compile.
  }
  return compilePolicy(loadTable());
}
