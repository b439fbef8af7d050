// npm run bench: native vs tsvisor (vs runsc when installed), side by side and
// interleaved in one run, on the same machine. Per-op costs are measured inside the
// workload (start-up excluded); start-up is the wall time of whole runs, and so are the
// whole-program workloads (find, untar, git status, make, python3, dd-like io), which
// include sandbox start-up. Reports medians and ratios to native, plus the machine's load.
//
// BENCH_REPS (default 5) interleaved reps; the io pair, which writes BENCH_IO_MB (default
// 1024) MiB per system and rep to the disk, runs min(BENCH_REPS, 3) of them.
// Fixtures are made once per run in a scratch dir under the OS tmpdir, removed at exit.
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, statSync, mkdtempSync, writeFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { loadavg, cpus, tmpdir, constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const reps = Number(process.env.BENCH_REPS ?? 5);
const heavyReps = Math.min(reps, 3);
const ioMb = Number(process.env.BENCH_IO_MB ?? 1024);

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

// wrap(argv, rw): rw is a host dir the workload writes to, which must be the host's own
// (a write to the sandbox's private layer would vanish, or be memory-fast).
const systems = [{ name: 'native', wrap: (argv) => argv }];
systems.push({
  name: 'tsvisor',
  wrap: (argv, rw) => [join(repo, 'bin', 'tsvisor'), 'do', ...(rw ? ['--mount', `${rw}:${rw}`] : []), '--', ...argv],
});
const runsc = which('runsc');
if (runsc && process.getuid?.() === 0) {
  // `runsc do` has no --volume; -force-overlay=false drops its memory overlay so writes
  // reach the host. It makes the whole host root writable, not only rw: used only for our
  // own workloads, which write nowhere else.
  systems.push({
    name: 'runsc',
    wrap: (argv, rw) => [runsc, '--network=none', '--platform=ptrace', 'do', ...(rw ? ['-force-overlay=false'] : []), '--', ...argv],
  });
} else {
  console.log('runsc: not compared (not installed, or not running as root)');
}

function run(argv, { timeoutMs, env } = {}) {
  const t0 = process.hrtime.bigint();
  // SIGTERM on timeout: tsvisor ends its whole sandbox on it, SIGKILL would orphan it.
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGTERM', env, maxBuffer: 64 << 20 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const fail = (what) => {
    const e = new Error(`${argv.join(' ')} ${what}: ${r.stderr}`);
    // A table cell's worth: the first line that reads like the cause (make ends with
    // "Waiting for unfinished jobs"), else the last.
    const lines = (r.stderr ?? '').trim().split('\n');
    e.reason = `${what}: ${lines.find((l) => /error|fail|denied|not permitted|no such|cannot|killed/i.test(l)) ?? lines.at(-1)}`;
    throw e;
  };
  if (r.error?.code === 'ETIMEDOUT') fail(`timed out after ${timeoutMs / 1000} s`);
  if (r.error) throw r.error;
  if (r.status !== 0) fail(`failed (${r.status ?? r.signal})`);
  return { out: r.stdout.trim(), wallMs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- Fixtures, made natively once, before any timing.
const scratch = mkdtempSync(join(tmpdir(), 'tsvisor-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(128 + osConstants.signals[sig]));

// DIR/dXXX/fYYY, 512 bytes each (loop's readsmall expects this layout and size).
function makeTree(dir, ndirs, nfiles) {
  for (let d = 0; d < ndirs; d++) {
    const sub = join(dir, `d${String(d).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < nfiles; f++) {
      const name = `f${String(f).padStart(3, '0')}`;
      writeFileSync(join(sub, name), `${d}/${f}`.padEnd(511, '.') + '\n');
    }
  }
}
const countFiles = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
const sh = (cmd, opts = {}) => run(['/bin/sh', '-c', cmd], opts).out;

const tree = join(scratch, 'tree20k');
makeTree(tree, 100, 200);

const archive = join(scratch, 'tree5k.tar');
makeTree(join(scratch, 'tarsrc'), 50, 100);
sh(`tar cf ${archive} -C ${join(scratch, 'tarsrc')} . && rm -rf ${join(scratch, 'tarsrc')}`);

const git = which('git');
const gitRepo = join(scratch, 'repo5k');
// No user or system config: hooks, fsmonitor or an untracked cache would change the work.
const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
const gitExpect = 'M d000/f000\n?? untracked'; // run() trims the leading space
if (git) {
  makeTree(gitRepo, 50, 100);
  // Mtimes an hour old: no racily-clean entries, so no run rewrites the index and every
  // run does the same work.
  const old = Date.now() / 1000 - 3600;
  for (const e of readdirSync(gitRepo, { recursive: true })) utimesSync(join(gitRepo, e), old, old);
  sh(`cd ${gitRepo} && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm fixture`, { env: gitEnv });
  // One modified and one untracked file: the expected output proves git looked.
  writeFileSync(join(gitRepo, 'd000', 'f000'), 'changed\n');
  writeFileSync(join(gitRepo, 'untracked'), 'new\n');
  const out = run([git, '-C', gitRepo, 'status', '--porcelain'], { env: gitEnv }).out;
  if (out !== gitExpect) throw new Error(`git fixture: unexpected status ${JSON.stringify(out)}`);
}

// 50 C files (49 functions and main), compiled by make -j2 with the usual pattern rule.
const proj = join(scratch, 'cproj');
mkdirSync(proj);
let projExpect = 0;
const fns = [];
for (let k = 1; k < 50; k++) {
  const f = `f${String(k).padStart(2, '0')}`;
  fns.push(f);
  writeFileSync(join(proj, `${f}.c`), `#include <stdio.h>\nint ${f}(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * ${k} % 13; return s; }\n`);
  for (let i = 0; i < 100; i++) projExpect += (i * k) % 13;
}
writeFileSync(
  join(proj, 'main.c'),
  `#include <stdio.h>\n${fns.map((f) => `int ${f}(int);`).join('\n')}\n` +
    `int main(void) { long s = 0;\n${fns.map((f) => `  s += ${f}(100);`).join('\n')}\n  printf("%ld\\n", s); return 0; }\n`,
);
writeFileSync(
  join(proj, 'Makefile'),
  'OBJS := $(patsubst %.c,%.o,$(wildcard *.c))\nprog: $(OBJS)\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -O2 -c -o $@ $<\n',
);
const cleanProj = () => {
  for (const e of readdirSync(proj)) if (e.endsWith('.o') || e === 'prog') rmSync(join(proj, e));
};

const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
// Not a pyenv-style shim, which would time a shell script first.
const python = ['/usr/bin/python3'].find((p) => existsSync(p)) ?? which('python3');
const ioFile = join(scratch, 'io.bin');

// ---- The benchmarks. Each row records one sample per (rep, system); a run that fails or
// prints the wrong result marks its cell FAILED (and is not retried) instead of aborting.
const loop = build();
const perOp = [
  { name: 'getppid (untrapped)', op: 'getppid', n: 2_000_000 },
  { name: 'umask (trivial trapped)', op: 'umask', n: 50_000 },
  { name: 'stat /etc/passwd', op: 'stat', n: 50_000 },
  { name: 'open+close', op: 'openclose', n: 50_000 },
  { name: 'open+read+close, 20 000 small files', op: 'readsmall', n: 20_000, arg: tree },
  // 1000 in a row for runsc too: a cost that grows with the number of processes shows.
  { name: 'fork+exec /bin/true', op: 'forkexec', n: 1000, nRunsc: 1000 },
];
const startup = [
  { name: '`/bin/true` start-up', argv: ['/bin/true'] },
  { name: '`sh -c true` start-up', argv: ['/bin/sh', '-c', 'true'] },
];
const expect = (want) => (out) => {
  if (out !== want) throw new Error(`printed ${JSON.stringify(out.slice(0, 200))}, want ${JSON.stringify(want)}`);
};
// Whole programs: wall time of the sandboxed run. rw: writes go to that host dir (checked
// from the host afterwards). setup/after run untimed; check throws on a wrong result.
const whole = [
  { name: '`/bin/true` start-up, host dir mounted rw', argv: ['/bin/true'], rw: scratch, check: () => {} },
  // -type f alone reads d_type from getdents and stats nothing; -size makes it lstat each file.
  { name: '`find -type f | wc -l`, 20 000 files', argv: ['/bin/sh', '-c', `find ${tree} -type f | wc -l`], check: expect('20000') },
  {
    name: '`find -type f -size +0c | wc -l`, 20 000 files (lstat each)',
    argv: ['/bin/sh', '-c', `find ${tree} -type f -size +0c | wc -l`],
    check: expect('20000'),
  },
  {
    name: '`tar xf` of 5 000 files into a fresh dir',
    rw: scratch,
    setup: () => {
      rmSync(join(scratch, 'untar'), { recursive: true, force: true });
      mkdirSync(join(scratch, 'untar'));
    },
    argv: ['tar', 'xf', archive, '-C', join(scratch, 'untar')],
    check: () => {
      const n = countFiles(join(scratch, 'untar'));
      if (n !== 5000) throw new Error(`${n} files on the host after untar, want 5000`);
    },
    after: () => rmSync(join(scratch, 'untar'), { recursive: true, force: true }),
  },
  git
    ? { name: '`git status --porcelain`, 5 000-file repo', argv: [git, '-C', gitRepo, 'status', '--porcelain'], env: gitEnv, check: expect(gitExpect) }
    : { name: '`git status`, 5 000-file repo', skip: 'git is not installed' },
  busybox
    ? {
        name: '`sh` loop of 500 `busybox true`',
        argv: ['/bin/sh', '-c', `n=0; for i in $(seq 500); do ${busybox} true && n=$((n+1)); done; echo $n`],
        check: expect('500'),
      }
    : { name: '`sh` loop of 500 `busybox true`', skip: 'busybox is not installed' },
  {
    name: '`make -j2`, 50-file C project',
    rw: proj,
    setup: cleanProj,
    argv: ['make', '-s', '-j2', '-C', proj],
    // The binary is run natively, so it proves the objects really reached the host.
    check: () => expect(String(projExpect))(run([join(proj, 'prog')]).out),
    after: cleanProj,
  },
  // print rather than pass: the output proves python ran; the start-up work is the same.
  python
    ? { name: 'python3 start-up, `python3 -c "print(42)"`', argv: [python, '-c', 'print(42)'], check: expect('42') }
    : { name: 'python3 start-up, `python3 -c "print(42)"`', skip: 'python3 is not installed' },
  {
    name: `write ${ioMb} MiB + fsync, 1 MiB writes`,
    also: `read ${ioMb} MiB back (page cache), 1 MiB reads`,
    unit: 's',
    heavy: true,
    rw: scratch,
    timeoutMs: 900_000,
    // Earlier workloads' dirty pages would otherwise be flushed by whichever fsync comes next.
    setup: () => spawnSync('sync'),
    argv: [loop, 'seqio', String(ioMb), ioFile],
    check: (out) => {
      const size = statSync(ioFile).size;
      if (size !== ioMb * 2 ** 20) throw new Error(`host file has ${size} bytes, want ${ioMb} MiB`);
      const [w, r] = out.split(' ').map(Number);
      if (!(w > 0 && r > 0)) throw new Error(`printed ${JSON.stringify(out)}`);
      return { [`write ${ioMb} MiB + fsync, 1 MiB writes`]: (w * ioMb) / 1e9, [`read ${ioMb} MiB back (page cache), 1 MiB reads`]: (r * ioMb) / 1e9 };
    },
    after: () => rmSync(ioFile, { force: true }),
  },
];

const results = new Map(); // row name -> system -> samples
const units = new Map(); // row name -> 'us' (samples in ns), 'ms' or 's'
const failed = new Map(); // row name -> system -> reason
const record = (bench, sys, v) => {
  if (!results.has(bench)) results.set(bench, new Map());
  const m = results.get(bench);
  if (!m.has(sys)) m.set(sys, []);
  m.get(sys).push(v);
};
// One measurement of rows on sys; a failure is printed in full on stderr, and in short in its cells.
function cell(rows, sys, fn) {
  if (rows.some((b) => failed.get(b)?.has(sys))) return;
  try {
    fn();
  } catch (e) {
    console.error(`\nFAILED ${rows[0]} on ${sys}: ${e.message.trim()}`);
    const reason = (e.reason ?? e.message).replaceAll('|', '/').replaceAll('\n', ' ').slice(0, 160);
    for (const b of rows) {
      if (!failed.has(b)) failed.set(b, new Map());
      failed.get(b).set(sys, reason);
    }
  }
}
const num = (out) => {
  const v = Number(out);
  if (!(v > 0)) throw new Error(`printed ${JSON.stringify(out)}, not a time`);
  return v;
};

for (const b of perOp) units.set(b.name, 'us');
for (const b of startup) units.set(b.name, 'ms');
for (const w of whole) if (!w.skip) for (const b of [w.name, w.also].filter(Boolean)) units.set(b, w.unit ?? 'ms');

const loadBefore = loadavg()[0];
for (let rep = 0; rep < reps; rep++) {
  process.stderr.write(`rep ${rep + 1}/${reps}\n`);
  for (const b of perOp) {
    for (const s of systems) {
      // runsc's ptrace platform is ~100x slower per call: fewer iterations, same per-op mean.
      const n = s.name === 'runsc' ? (b.nRunsc ?? Math.max(200, Math.floor(b.n / 50))) : b.n;
      cell([b.name], s.name, () => record(b.name, s.name, num(run(s.wrap([loop, b.op, String(n), ...(b.arg ? [b.arg] : [])])).out)));
    }
  }
  for (const b of startup) for (const s of systems) cell([b.name], s.name, () => record(b.name, s.name, run(s.wrap(b.argv)).wallMs));
  for (const w of whole) {
    if (w.skip || (w.heavy && rep >= heavyReps)) continue;
    // Writers go to the shared disk, whose state drifts (writeback, discards): rotate who
    // goes first so no system always meets it in the same state.
    const k = w.rw ? rep % systems.length : 0;
    for (const s of [...systems.slice(k), ...systems.slice(0, k)]) {
      cell([w.name, w.also].filter(Boolean), s.name, () => {
        try {
          w.setup?.();
          const { out, wallMs } = run(s.wrap(w.argv, w.rw), { timeoutMs: w.timeoutMs ?? 300_000, env: w.env });
          const rows = w.check(out) ?? { [w.name]: wallMs };
          for (const [b, v] of Object.entries(rows)) record(b, s.name, v);
        } finally {
          w.after?.();
        }
      });
    }
  }
}

const fmt = (bench, v) => ({ us: (v / 1000).toFixed(2), ms: v.toFixed(1), s: v.toFixed(2) })[units.get(bench)];
const header = ['benchmark', ...systems.map((s) => s.name), ...systems.slice(1).map((s) => `${s.name}/native`)];
function table(rows) {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const bench of rows) {
    const med = systems.map((s) => {
      const xs = results.get(bench)?.get(s.name);
      return failed.get(bench)?.has(s.name) || !xs?.length ? null : median(xs);
    });
    const cells = med.map((m, i) => (m === null ? `FAILED: ${failed.get(bench)?.get(systems[i].name) ?? 'no sample'}` : fmt(bench, m)));
    const ratios = med.slice(1).map((m) => (m === null || med[0] === null ? '-' : `${(m / med[0]).toFixed(2)}x`));
    console.log(`| ${bench.replaceAll('|', '\\|')} (${units.get(bench)}) | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
}
console.log(`\n${cpus().length} CPUs, load ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)}, ${reps} interleaved reps, medians`);
table([...perOp, ...startup].map((b) => b.name));
console.log(
  `\nWhole programs, wall time per run with sandbox start-up included (the start-up rows are ` +
    `that alone); the io pair ran ${heavyReps} reps. Written files live in a host dir: ` +
    `tsvisor --mount, runsc -force-overlay=false.`,
);
table([startup[0].name, ...whole.filter((w) => !w.skip).flatMap((w) => [w.name, w.also].filter(Boolean))]);
for (const w of whole) if (w.skip) console.log(`${w.name}: skipped (${w.skip})`);

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
    const tsv = [join(repo, 'bin', 'tsvisor')];
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
