// npm run bench: native vs tsvisor (vs runsc when installed), side by side and
// interleaved in one run, on the same machine. Per-op costs are measured inside the
// workload (start-up excluded); start-up is the wall time of whole runs. Reports medians
// and ratios to native, plus the machine's load.
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const reps = Number(process.env.BENCH_REPS ?? 5);

function build() {
  // Not under build/: node-gyp rebuild wipes that.
  const out = join(here, 'bin');
  mkdirSync(out, { recursive: true });
  const bin = join(out, 'loop');
  const src = join(here, 'loop.c');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    const r = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', bin, src], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('gcc failed');
  }
  return bin;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

const systems = [{ name: 'native', wrap: (argv) => argv }];
systems.push({ name: 'tsvisor', wrap: (argv) => [process.execPath, join(repo, 'bin', 'tsvisor'), 'do', '--', ...argv] });
const runsc = which('runsc');
if (runsc && process.getuid?.() === 0) {
  systems.push({ name: 'runsc', wrap: (argv) => [runsc, '--network=none', '--platform=ptrace', 'do', '--', ...argv] });
} else {
  console.log('runsc: not compared (not installed, or not running as root)');
}

function run(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout.trim(), wallMs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const loop = build();
const perOp = [
  { name: 'getppid (untrapped)', op: 'getppid', n: 2_000_000 },
  { name: 'umask (trivial trapped)', op: 'umask', n: 50_000 },
  { name: 'stat /etc/passwd', op: 'stat', n: 50_000 },
  { name: 'open+close', op: 'openclose', n: 50_000 },
  { name: 'fork+exec /bin/true', op: 'forkexec', n: 200 },
];
const startup = [
  { name: '`/bin/true` start-up', argv: ['/bin/true'] },
  { name: '`sh -c true` start-up', argv: ['/bin/sh', '-c', 'true'] },
];

const results = new Map(); // bench name -> system -> samples
const record = (bench, sys, v) => {
  if (!results.has(bench)) results.set(bench, new Map());
  const m = results.get(bench);
  if (!m.has(sys)) m.set(sys, []);
  m.get(sys).push(v);
};

const loadBefore = loadavg()[0];
for (let rep = 0; rep < reps; rep++) {
  for (const b of perOp) {
    for (const s of systems) {
      // runsc's ptrace platform is ~100x slower per call: fewer iterations, same per-op mean.
      const n = s.name === 'runsc' ? Math.max(200, Math.floor(b.n / 50)) : b.n;
      record(b.name, s.name, Number(run(s.wrap([loop, b.op, String(n)])).out));
    }
  }
  for (const b of startup) for (const s of systems) record(b.name, s.name, run(s.wrap(b.argv)).wallMs);
}

const unit = (bench) => (bench.includes('start-up') ? 'ms' : 'us');
const fmt = (bench, v) => (unit(bench) === 'ms' ? v.toFixed(1) : (v / 1000).toFixed(2));
const header = ['benchmark', ...systems.map((s) => s.name), ...systems.slice(1).map((s) => `${s.name}/native`)];
console.log(`\n${cpus().length} CPUs, load ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)}, ${reps} interleaved reps, medians`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const [bench, bySys] of results) {
  const med = systems.map((s) => median(bySys.get(s.name)));
  const ratios = med.slice(1).map((m) => `${(m / med[0]).toFixed(2)}x`);
  console.log(`| ${bench} (${unit(bench)}) | ${med.map((m) => fmt(bench, m)).join(' | ')} | ${ratios.join(' | ')} |`);
}

// ---- OCI `run` of a busybox `true` container (create+start+wait+delete), side by side
// with runc and runsc when installed. Each runtime gets its own state root; the bundle is
// the same (busybox-static rootfs, `tsvisor spec` with terminal off and args ["true"]).
{
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox || process.getuid?.() !== 0) {
    console.log('\nOCI run: skipped (needs root and busybox-static)');
  } else {
    const { mkdtempSync, mkdirSync: mk, copyFileSync, symlinkSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-bench-oci-'));
    const rootfs = join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys']) mk(join(rootfs, d), { recursive: true });
    copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
    for (const a of ['sh', 'true']) symlinkSync('busybox', join(rootfs, 'bin', a));
    const tsv = [process.execPath, join(repo, 'bin', 'tsvisor')];
    spawnSync(tsv[0], [...tsv.slice(1), 'spec', '--bundle', dir]);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['true'];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    const runtimes = [{ name: 'tsvisor', argv: (root, id) => [...tsv, '--root', root, 'run', '--bundle', dir, id] }];
    const runc = which('runc');
    if (runc) runtimes.push({ name: 'runc', argv: (root, id) => [runc, '--root', root, 'run', '--bundle', dir, id] });
    if (runsc) runtimes.push({ name: 'runsc', argv: (root, id) => [runsc, '--root', root, '--network=none', 'run', '--bundle', dir, id] });
    const samples = new Map(runtimes.map((r) => [r.name, []]));
    const load0 = loadavg()[0];
    for (let rep = 0; rep < Math.max(reps, 5); rep++) {
      for (const r of runtimes) {
        const root = join(dir, `state-${r.name}`);
        samples.get(r.name).push(run(r.argv(root, `bench-${rep}`)).wallMs);
      }
    }
    console.log(`\nOCI run of busybox \`true\` (create+start+wait+delete), load ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}, medians`);
    console.log('| runtime | ms | tsvisor/runtime |');
    console.log('|---|---|---|');
    const ours = median(samples.get('tsvisor'));
    for (const r of runtimes) {
      const m = median(samples.get(r.name));
      console.log(`| ${r.name} | ${m.toFixed(1)} | ${(ours / m).toFixed(2)}x |`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
