#!/usr/bin/env node
// Bundles the CLI (bin/tsvisor's entry) and the OCI daemons with esbuild into dist/bundle/,
// one CommonJS file each, which bin/boot.cjs loads with a V8 code cache: one file to read
// and compile, no module resolution, and the compile itself mostly cached. Run by
// `npm run build`, `prepare` and `pretest`, after gen-validators.mjs (it bundles from src/)
// and tsc (it reads the command names from dist/).
//
// dist/bundle/ holds:
// - cli.cjs, daemon.cjs, exec-daemon.cjs: the bundles. The daemons run on evaluation;
//   the CLI exports main().
// - daemon-main.cjs, exec-daemon-main.cjs: what `create` and `exec --detach` spawn
//   (node FILE ...), found beside the bundle that spawns them (src/oci/create.ts,
//   exec.ts).
// - manifest.json: each bundle's content hash, which names its code cache (V8 would take
//   a cache of another build of the same length), and the CLI's command names, which
//   key the caches (bin/boot.cjs).
// Files outside dist are found from the package root (src/package-root.ts).
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const final = `${root}dist/bundle`;
// Built aside and swapped in, so that a tsvisor started meanwhile finds a whole bundle.
const outdir = `${final}.new-${process.pid}`;
const old = `${final}.old-${process.pid}`;
const entries = { cli: 'src/cli/index.ts', daemon: 'src/oci/daemon.ts', 'exec-daemon': 'src/oci/exec-daemon.ts' };

// commander requires node:child_process as it loads, for executable subcommands tsvisor has
// none of; with net and streams behind it that is ~7 ms of every OCI verb that spawns
// nothing (Docker runs several per container). It gets child_process on first use instead.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (args.importer.includes('/node_modules/commander/') ? { path: 'child_process', namespace: 'lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let cp; module.exports = { spawn: (...args) => (cp ??= require('node:child_process')).spawn(...args) };",
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  plugins: [lazyChildProcessForCommander],
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // The sources are ES modules; in a CommonJS bundle their own URL is the bundle's.
  define: { 'import.meta.url': '__tsvisorModuleUrl' },
  banner: { js: "var __tsvisorModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
const hashes = {};
for (const name of Object.keys(entries)) {
  hashes[name] = createHash('sha256').update(readFileSync(`${outdir}/${name}.cjs`)).digest('hex').slice(0, 16);
  if (name !== 'cli') writeFileSync(`${outdir}/${name}-main.cjs`, `require('../../bin/boot.cjs').boot(${JSON.stringify(name)});\n`);
}
const { program } = await import(`${root}dist/cli/index.js`);
const commands = program().commands.map((c) => c.name());
writeFileSync(`${outdir}/manifest.json`, `${JSON.stringify({ hashes, commands }, null, 2)}\n`);
try {
  renameSync(final, old);
} catch {
  // First build.
}
renameSync(outdir, final);
rmSync(old, { recursive: true, force: true });
