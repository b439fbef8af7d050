// The package's root directory (the one holding package.json, build/ and syscalls/),
// found by walking up from this module: the same answer from src/ (vitest), dist/ (tsc)
// and dist/bundle/ (esbuild), whatever the depth of the file the code ended up in.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`tsvisor: no package.json above ${start}`);
  }
}

/** Absolute path of the package root. */
export const PACKAGE_ROOT = find();
