// Loads a bundle of dist/bundle/ (scripts/bundle.mjs) with a V8 code cache, the way
// v8-compile-cache does for CommonJS: compiling the bundle costs every tsvisor process
// about 25 ms, a third of what it adds to Node's own start. The cache is made after a run,
// so it also holds the functions that run compiled, and kept per bundle and command (a
// `do` and an OCI `state` run different code). V8 checks a cache only against the
// source's length, so its name carries the bundle's content hash, and it is used only
// from a directory of this user's that nobody else can write: cached bytecode is code.
// CommonJS, as is every entry that loads it: Node's ES module loader adds 5-8 ms to a
// start (its own modules, and node:fs's lazy streams that an ES import pulls in).
'use strict';
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundleDir = join(__dirname, '..', 'dist', 'bundle');

/** Whether PATH is ours and writable by nobody else. */
function trusted(st) {
  return st.uid === process.geteuid() && (st.mode & 0o022) === 0;
}

/** A directory for caches that only this user can write, made if need be; or null.
 * TSVISOR_CACHE_DIR names the only one to use. */
function cacheDir() {
  const env = process.env.TSVISOR_CACHE_DIR;
  const candidates = env ? [env] : [join(bundleDir, 'cache'), join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tsvisor')];
  for (const dir of candidates) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (trusted(statSync(dir)) && trusted(statSync(dirname(dir)))) return dir;
    } catch {
      // Not writable here (an install owned by another user): try the next.
    }
  }
  return null;
}

/** The cache's bytes, if the file is ours alone. */
function readCache(path) {
  let fd;
  try {
    fd = openSync(path, 'r');
    return trusted(fstatSync(fd)) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes the cache atomically and drops this bundle's caches of other builds. */
function writeCache(dir, path, data, prefix, hash) {
  try {
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, path);
    for (const f of readdirSync(dir)) if (f.startsWith(`${prefix}-`) && !f.startsWith(`${prefix}-${hash}-`)) unlinkSync(join(dir, f));
  } catch {
    // A cache is an optimisation: failing to keep one changes nothing else.
  }
}

/**
 * Evaluates dist/bundle/NAME.cjs and returns its exports. The cache key's command is the
 * first argument that names one of the CLI's commands (manifest.json lists them).
 */
function boot(name) {
  const file = join(bundleDir, `${name}.cjs`);
  const source = readFileSync(file, 'utf8');
  const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'));
  const hash = manifest.hashes[name];
  const command = process.argv.slice(2).find((a) => manifest.commands.includes(a)) ?? 'none';
  const dir = hash ? cacheDir() : null;
  const cachePath = dir && join(dir, `${name}-${hash}-${command}.v8`);
  const cachedData = cachePath ? readCache(cachePath) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cachePath && (!cachedData || script.cachedDataRejected)) {
    process.once('exit', () => writeCache(dir, cachePath, script.createCachedData(), name, hash));
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, bundleDir);
  return module.exports;
}

module.exports = { boot };
