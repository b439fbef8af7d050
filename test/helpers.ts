// Shared by the integration tests: build the C programs under test/programs with the
// machine's gcc, run commands natively and under `tsvisor do`, make a busybox rootfs.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
export const tsvisorBin = join(repo, 'bin', 'tsvisor');
const programsDir = join(repo, 'test', 'programs');
const binDir = join(programsDir, 'bin');

/** Compiles test/programs/NAME.c (once per source change) and returns the binary. */
export function program(name: string, extraFlags: string[] = []): string {
  const src = join(programsDir, `${name}.c`);
  const out = join(binDir, name + (extraFlags.includes('-static') ? '-static' : ''));
  mkdirSync(binDir, { recursive: true });
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    const r = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', ...extraFlags, '-o', out, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${name}.c failed:\n${r.stderr}`);
  }
  return out;
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function toRun(r: SpawnSyncReturns<string>): Run {
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `tsvisor ARGS...` as a user does (bin/tsvisor itself), in ENV if given. */
export function tsvisor(args: string[], opts: { input?: string; cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  return toRun(
    spawnSync(tsvisorBin, args, {
      encoding: 'utf8',
      input: opts.input,
      cwd: opts.cwd,
      env: opts.env,
      timeout: opts.timeout ?? 30_000,
    }),
  );
}

/** Runs a command natively. */
export function native(argv: string[], opts: { cwd?: string; input?: string; timeout?: number } = {}): Run {
  return toRun(
    spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: opts.cwd, input: opts.input, timeout: opts.timeout ?? 30_000 }),
  );
}

const scratchDirs: string[] = [];
// Scratch directories a test left empty go when its worker exits; anything still in one
// (a failed test's evidence, a mount) is left for a look.
process.on('exit', () => {
  for (const dir of scratchDirs) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty, or gone already.
    }
  }
});

/** A fresh scratch directory on the host. */
export function scratch(prefix = 'tsvisor-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** Under CI, .ci/run has installed everything the tests need: nothing may be skipped. */
export const CI = process.env.CI === 'true';

/**
 * WHY (undefined: nothing) tests of FILE cannot run here: printed, so a skip never goes
 * unexplained, and fatal under CI. Returns WHY, for skipIf.
 */
export function skipBecause(file: string, why: string | undefined): string | undefined {
  if (why === undefined) return undefined;
  if (CI) throw new Error(`${file}: cannot be skipped in CI: ${why}`);
  console.log(`${file}: skipped: ${why}`);
  return why;
}

/** Why test/programs/seccomp_probe.c cannot load filters into the kernel here, if so. */
export function seccompProbeUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs Linux x86_64';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'needs gcc to build test/programs/seccomp_probe.c';
  const avail = '/proc/sys/kernel/seccomp/actions_avail';
  if (!existsSync(avail) || !readFileSync(avail, 'utf8').includes('user_notif')) return 'kernel lacks SECCOMP_RET_USER_NOTIF';
  return undefined;
}

/** A minimal root made of the static busybox: /bin/<applet> links, /etc, /tmp, /proc,
 * /dev and /sys mount points. Null when busybox-static is not installed. */
export function busyboxRoot(): string | null {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) return null;
  const root = scratch('tsvisor-rootfs-');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'root']) mkdirSync(join(root, d));
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(root, 'bin', a));
  return root;
}

/** Names in a directory (for leak checks). */
export function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
