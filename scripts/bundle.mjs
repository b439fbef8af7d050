#!/usr/bin/env node
// Bundles the CLI (bin/tsvisor's entry) and the OCI container daemon with esbuild into
// dist/bundle/, with code splitting: each command loads a few chunks instead of dozens of
// modules, which saves start-up time of every tsvisor process. Run by `npm run build`,
// `prepare` and `pretest`, after gen-validators.mjs (it bundles from src/).
//
// Layout the code relies on: entries and chunks all sit in dist/bundle/, so the daemon's
// path that src/oci/container.ts computes (daemon.js beside its own module) is the
// daemon entry; files outside dist are found from the package root (src/package-root.ts).
import { renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const final = `${root}dist/bundle`;
// Built aside and swapped in, so that a tsvisor started meanwhile finds a whole bundle.
const outdir = `${final}.new-${process.pid}`;
const old = `${final}.old-${process.pid}`;

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/cli/index.ts', daemon: 'src/oci/daemon.ts', 'exec-daemon': 'src/oci/exec-daemon.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
  // Bundled CommonJS packages (commander, ajv's runtime helpers) call require().
  banner: { js: "import { createRequire as __tsvisorRequire } from 'node:module'; const require = __tsvisorRequire(import.meta.url);" },
});
try {
  renameSync(final, old);
} catch {
  // First build.
}
renameSync(outdir, final);
rmSync(old, { recursive: true, force: true });
