// `tsvisor do` limits end to end: memory (OOM), tasks (fork bomb), wall time, cpu time,
// cpu bandwidth, rlimits, and the --usage-json record; every sandbox's cgroup removed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout } from '../../src/sandbox/cgroup-layout.js';
import { program, scratch, tsvisor, tsvisorBin } from '../helpers.js';

// A cgroup parent of this file's own (inherited by every `tsvisor do` it runs), so the
// leak check below sees only our sandboxes.
const parent = `tsvisor-test-${process.pid}`;
process.env.TSVISOR_CGROUP_PARENT = parent;

let limits: string;
let dir: string;

beforeAll(() => {
  limits = program('limits');
  dir = scratch();
});

afterAll(() => {
  const layout = hostLayout();
  for (const h of [...(layout.v2 ? [layout.v2] : []), ...layout.v1.values()]) expect(existsSync(join(h.own, parent)), h.mount).toBe(false);
});

interface Usage {
  exitCode: number;
  signal?: string;
  reason: string;
  wallTimeMs: number;
  cpuTimeMs: number;
  peakMemoryBytes: number;
  tasks: number;
  oomKills: number;
  pidsLimitHits: number;
  syscalls: { trapped: Record<string, number>; missing: Record<string, number> };
}

let runs = 0;
/** `tsvisor do --usage-json F FLAGS -- ARGV`: the run and its usage record. */
function doWithUsage(flags: string[], argv: string[], timeout = 30_000): ReturnType<typeof tsvisor> & { usage: Usage } {
  const file = join(dir, `usage-${++runs}.json`);
  const r = tsvisor(['do', '--usage-json', file, ...flags, '--', ...argv], { timeout });
  return { ...r, usage: JSON.parse(readFileSync(file, 'utf8')) as Usage };
}

/** Host processes running the limits helper (none may outlive its sandbox). */
function helperProcesses(): string[] {
  return spawnSync('pgrep', ['-f', '-a', `^${limits} `], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

describe('memory limit', () => {
  it('ends a memory hog as oom, exit 137, with one clear line', () => {
    const r = doWithUsage(['--memory', '64m'], [limits, 'hog', '1024']);
    expect(r.status).toBe(137);
    expect(r.stdout).not.toMatch(/allocated/);
    expect(r.stderr).toBe('tsvisor: out of memory: the sandbox reached its memory limit (64 MiB) and its OOM killer ended it\n');
    expect(r.usage).toMatchObject({ exitCode: 137, signal: 'SIGKILL', reason: 'oom' });
    expect(r.usage.oomKills).toBeGreaterThanOrEqual(1);
    expect(r.usage.peakMemoryBytes).toBeLessThanOrEqual(64 * 2 ** 20);
  });

  it('lets a program under its limit run', () => {
    const r = doWithUsage(['--memory', '256m'], [limits, 'hog', '64']);
    expect(r.stdout).toBe('allocated 64\n');
    expect(r.usage.reason).toBe('exited');
    expect(r.usage.peakMemoryBytes).toBeGreaterThan(64 * 2 ** 20);
  });
});

describe('task limit', () => {
  it('contains a fork bomb, keeps the host responsive, and the sandbox ends with nothing left', async () => {
    const file = join(dir, 'bomb.json');
    const bomb = spawn(process.execPath, [tsvisorBin, 'do', '--pids', '50', '--usage-json', file, '--', limits, 'bomb', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    bomb.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<number | null>((resolve) => bomb.on('exit', (code) => resolve(code)));
    // While it runs, the host still starts processes promptly.
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      expect(spawnSync('/bin/true').status).toBe(0);
      expect(performance.now() - t).toBeLessThan(500);
    }
    expect(await done).toBe(0);
    const m = /^made (\d+) refused (\d+)$/m.exec(out);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    const usage = JSON.parse(readFileSync(file, 'utf8')) as Usage;
    expect(usage.tasks).toBeLessThanOrEqual(50);
    expect(usage.tasks).toBeGreaterThanOrEqual(40);
    expect(usage.pidsLimitHits).toBeGreaterThan(0);
    expect(helperProcesses()).toEqual([]);
  });

  it('ends a bomb that never stops at the wall-time limit, reporting the task limit too', () => {
    const r = doWithUsage(['--pids', '50', '--wall-time', '1500ms'], [limits, 'bomb', '100']);
    expect(r.usage.reason).toBe('wall-time');
    expect(r.usage.wallTimeMs).toBeLessThan(2500);
    expect(r.usage.pidsLimitHits).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^tsvisor: wall-time limit \(1\.5 s\) exceeded: sandbox killed$/m);
    expect(helperProcesses()).toEqual([]);
  });
});

describe('time limits', () => {
  it('kills sleep 100 within a second of --wall-time', () => {
    const t = performance.now();
    const r = doWithUsage(['--wall-time', '1s'], ['sleep', '100']);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(r.status).toBe(137);
    expect(r.usage).toMatchObject({ exitCode: 137, signal: 'SIGKILL', reason: 'wall-time' });
    expect(r.usage.wallTimeMs).toBeGreaterThanOrEqual(1000);
    expect(r.usage.wallTimeMs).toBeLessThan(2000);
    expect(r.stderr).toBe('tsvisor: wall-time limit (1 s) exceeded: sandbox killed\n');
  });

  it('ends a busy loop at --cpu-time, counting every process together', () => {
    const one = doWithUsage(['--cpu-time', '1s'], [limits, 'spin', '0']);
    expect(one.status).toBe(137);
    expect(one.usage.reason).toBe('cpu-time');
    expect(one.usage.cpuTimeMs).toBeGreaterThanOrEqual(1000);
    expect(one.usage.cpuTimeMs).toBeLessThan(1300);
    expect(one.stderr).toMatch(/^tsvisor: cpu-time limit \(1 s\) exceeded after 1\.\d+ s of cpu: sandbox killed\n$/);
    // Two processes share one budget (RLIMIT_CPU alone would give each its own).
    const two = doWithUsage(['--cpu-time', '1s'], [limits, 'spinners', '2']);
    expect(two.usage.reason).toBe('cpu-time');
    expect(two.usage.cpuTimeMs).toBeLessThan(1300);
    expect(two.usage.tasks).toBe(2);
  });

  it('caps cpu bandwidth with --cpus', () => {
    const r = doWithUsage(['--cpus', '0.5', '--wall-time', '2s'], [limits, 'spinners', '2']);
    expect(r.usage.reason, r.stderr).toBe('wall-time');
    const share = r.usage.cpuTimeMs / r.usage.wallTimeMs;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });
});

describe('usage record and rlimits', () => {
  it('records cpu time, peak memory, tasks and trapped syscalls', () => {
    const r = doWithUsage([], [limits, 'spin', '0.3']);
    expect(r.status).toBe(0);
    expect(r.usage.exitCode).toBe(0);
    expect(r.usage.signal).toBeUndefined();
    expect(r.usage.reason).toBe('exited');
    expect(r.usage.cpuTimeMs).toBeGreaterThanOrEqual(290);
    expect(r.usage.wallTimeMs).toBeGreaterThanOrEqual(r.usage.cpuTimeMs - 50);
    expect(r.usage.tasks).toBe(1);
    expect(r.usage.syscalls.trapped.execve).toBeGreaterThanOrEqual(1);
    const hog = doWithUsage([], [limits, 'hog', '100']);
    expect(hog.usage.peakMemoryBytes).toBeGreaterThan(100 * 2 ** 20);
    const sh = doWithUsage([], ['/bin/sh', '-c', 'exit 3']);
    expect(sh.usage).toMatchObject({ exitCode: 3, reason: 'exited' });
    const sig = doWithUsage([], ['/bin/sh', '-c', 'kill -USR1 $$']);
    expect(sig.usage).toMatchObject({ exitCode: 138, signal: 'SIGUSR1', reason: 'signaled' });
  });

  it('shows the sandbox its own cgroup as the root, never the host paths', () => {
    const r = tsvisor(['do', '--', 'cat', '/proc/self/cgroup']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\d+:[^:]*:\/$/);
  });

  it('records a launch failure as setup-failed', () => {
    const r = doWithUsage([], ['/nonexistent/prog']);
    expect(r.status, r.stderr).toBe(127);
    expect(r.usage).toMatchObject({ exitCode: 127, reason: 'setup-failed' });
  });

  it('sets rlimits in the program, core dumps off by default', () => {
    expect(tsvisor(['do', '--rlimit', 'nofile=100:200', '--', limits, 'rlimit', 'nofile']).stdout).toBe('100 200\n');
    expect(tsvisor(['do', '--rlimit', 'fsize=unlimited', '--', limits, 'rlimit', 'fsize']).stdout).toBe('unlimited unlimited\n');
    expect(tsvisor(['do', '--', limits, 'rlimit', 'core']).stdout).toBe('0 0\n');
    expect(tsvisor(['do', '--rlimit', 'core=unlimited', '--', limits, 'rlimit', 'core']).stdout).toBe('unlimited unlimited\n');
  });

  it('rejects malformed limits with a usage error', () => {
    for (const flags of [['--memory', '12x'], ['--pids', '0'], ['--cpus', 'two'], ['--wall-time', '-1s'], ['--rlimit', 'bogus=1'], ['--rlimit', 'nofile=10:5']]) {
      const r = tsvisor(['do', ...flags, '--', 'true']);
      expect(r.status, flags.join(' ')).toBe(2);
      expect(r.stderr, flags.join(' ')).toMatch(/^tsvisor: --\w[\w-]* `/);
    }
  });
});
