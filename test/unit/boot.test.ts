// bin/boot.cjs keeps a V8 code cache of each bundle. Cached bytecode is code, so a cache
// anyone else could have written must never be used; a stale or broken one is replaced.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repo, scratch, tsvisorBin } from '../helpers.js';

const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;

function run(cacheDir: string): void {
  const r = spawnSync(process.execPath, [tsvisorBin, '--version'], { encoding: 'utf8', env: { ...process.env, TSVISOR_CACHE_DIR: cacheDir } });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`${version}\n`);
}

it('keeps a code cache per bundle, replaces a broken one and ignores one others can write', () => {
  const dir = join(scratch(), 'cache');
  run(dir);
  const [name] = readdirSync(dir);
  expect(name).toMatch(/^cli-[0-9a-f]{16}-none\.v8$/);
  const file = join(dir, name!);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const made = readFileSync(file);
  expect(made.length).toBeGreaterThan(1000);

  // Accepted: left as it is.
  run(dir);
  expect(readFileSync(file).equals(made)).toBe(true);

  // Rejected by V8: replaced after the run.
  const garbage = Buffer.alloc(made.length, 7);
  writeFileSync(file, garbage);
  run(dir);
  expect(readFileSync(file).equals(garbage)).toBe(false);
  expect(readFileSync(file).length).toBeGreaterThan(1000);

  // Writable by others: never read (a valid one read would be kept as it is), but
  // replaced by one of our own.
  writeFileSync(file, made);
  chmodSync(file, 0o666);
  run(dir);
  expect(statSync(file).mode & 0o777).toBe(0o600);

  // A directory others can write holds no cache at all.
  const open = join(scratch(), 'open');
  mkdirSync(open, { mode: 0o777 });
  chmodSync(open, 0o777);
  run(open);
  expect(readdirSync(open)).toEqual([]);
});

it('bundles load no module through import(): boot.cjs runs them without an ES module loader', () => {
  const dir = join(repo, 'dist', 'bundle');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.cjs'))) {
    // esbuild turns import() of a bundled module into a require, and keeps it for externals.
    expect(readFileSync(join(dir, name), 'utf8'), name).not.toMatch(/\bimport\(\s*["'`]/);
  }
});
