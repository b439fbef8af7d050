// The embedding API (`import { Sandbox } from 'tsvisor'`): captured output, stdin, exit
// codes, limits, output cap, many sandboxes at once, streams, kill, typed errors.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, SandboxConfigError, SandboxError, SandboxStartError, type SandboxProcess } from '../../src/api/index.js';
import { hostLayout } from '../../src/sandbox/cgroup-layout.js';
import { busyboxRoot, program, repo, scratch, skipBecause } from '../helpers.js';

const parent = `tsvisor-test-${process.pid}`;
process.env.TSVISOR_CGROUP_PARENT = parent;

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => void unhandled.push(err);
let limits: string;

beforeAll(() => {
  limits = program('limits');
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
  const layout = hostLayout();
  for (const h of [...(layout.v2 ? [layout.v2] : []), ...layout.v1.values()]) expect(existsSync(join(h.own, parent)), h.mount).toBe(false);
});

const text = (b: Buffer): string => b.toString('utf8');

/** Reads STREAM until it has produced WANT. */
function readUntil(p: SandboxProcess, want: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const on = (d: Buffer): void => {
      got += d.toString();
      if (got.includes(want)) {
        p.stdout.off('data', on);
        resolve(got);
      }
    };
    p.stdout.on('data', on);
  });
}

describe('run()', () => {
  const box = new Sandbox();

  it('captures stdout and stderr, feeds stdin, and returns the exit code and usage', async () => {
    const r = await box.run(['/bin/sh', '-c', 'echo out; echo err >&2; cat; exit 3'], { stdin: 'from stdin\n' });
    expect(text(r.stdout)).toBe('out\nfrom stdin\n');
    expect(text(r.stderr)).toBe('err\n');
    expect(r).toMatchObject({ exitCode: 3, signal: null, reason: 'exited', truncated: { stdout: false, stderr: false } });
    expect(r.usage.syscalls.trapped.execve).toBeGreaterThanOrEqual(2);
    expect(r.usage.cpuTimeMs).toBeGreaterThan(0);
    expect(r.usage.wallTimeMs).toBeGreaterThan(0);
  });

  it('gives the workload only the environment asked for, in the cwd asked for', async () => {
    const r = await new Sandbox({ env: { A: '1' }, cwd: '/etc' }).run(['/bin/sh', '-c', 'env | sort; pwd'], { env: { B: '2' } });
    expect(text(r.stdout)).toBe(`A=1\nB=2\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/etc\n/etc\n`);
  });

  it('reports deaths by signal and programs that cannot start', async () => {
    const sig = await box.run(['/bin/sh', '-c', 'kill -TERM $$']);
    expect(sig).toMatchObject({ exitCode: 143, signal: 'SIGTERM', reason: 'signaled' });
    const missing = await box.run(['/nonexistent/program']);
    expect(missing).toMatchObject({ exitCode: 127, reason: 'setup-failed' });
    expect(missing.message).toMatch(/exec `\/nonexistent\/program`: No such file or directory/);
  });

  it('ends a run at timeoutMs', async () => {
    const t = performance.now();
    const r = await box.run(['sleep', '100'], { timeoutMs: 500 });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r).toMatchObject({ exitCode: 137, signal: 'SIGKILL', reason: 'wall-time' });
    expect(r.message).toBe('wall-time limit (0.5 s) exceeded: sandbox killed');
  });

  it('applies memory, task and cpu limits', async () => {
    const oom = await new Sandbox({ limits: { memory: '48m' } }).run([limits, 'hog', '512']);
    expect(oom).toMatchObject({ exitCode: 137, reason: 'oom' });
    const cpu = await new Sandbox({ limits: { cpuTimeMs: 500 } }).run([limits, 'spin', '0']);
    expect(cpu.reason).toBe('cpu-time');
    expect(cpu.usage.cpuTimeMs).toBeLessThan(800);
    const bomb = await new Sandbox({ limits: { pids: 20 } }).run([limits, 'bomb', '1']);
    expect(bomb.exitCode).toBe(0);
    expect(bomb.usage.tasks).toBeLessThanOrEqual(20);
    expect(bomb.usage.pidsLimitHits).toBeGreaterThan(0);
  });

  it('caps captured output, draining the rest so the writer finishes', async () => {
    const capped = new Sandbox({ limits: { outputBytes: 1000 } });
    const r = await capped.run([limits, 'flood', String(20 * 2 ** 20)]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toEqual({ stdout: true, stderr: false });
    // A writer that never stops is ended by the time limit, its output still capped.
    const forever = await capped.run([limits, 'flood', '0'], { timeoutMs: 500 });
    expect(forever.reason).toBe('wall-time');
    expect(forever.stdout.length).toBe(1000);
  });

  it('runs 8 sandboxes at once with independent results', async () => {
    const runs = Array.from({ length: 8 }, (_, i) =>
      box.run(['/bin/sh', '-c', 'echo "$ID $(cat)"; exec sleep 0.$ID; exit 99', 'sh'], { env: { ID: String(i) }, stdin: `in-${i}` }),
    );
    const spinner = box.run([limits, 'spin', '0.2']);
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(text(r.stdout)).toBe(`${i} in-${i}\n`);
      expect(r.exitCode).toBe(0);
      expect(r.reason).toBe('exited');
    });
    // Each sandbox's cgroup measured only itself.
    expect((await spinner).usage.cpuTimeMs).toBeGreaterThanOrEqual(190);
    for (const r of results) expect(r.usage.cpuTimeMs).toBeLessThan(150);
  });

  it('runs in a given rootfs', async (ctx) => {
    const root = busyboxRoot();
    if (!root) return ctx.skip(skipBecause('api.test.ts (rootfs run)', 'busybox-static is not installed'));
    const r = await new Sandbox({ rootfs: root }).run(['/bin/ls', '/']);
    expect(text(r.stdout).split('\n')).toContain('bin');
    expect(text(r.stdout)).not.toMatch(/^usr$/m);
    rmSync(root, { recursive: true, force: true });
  });

  it('runs as another user, with sandboxes of different users at once, and as pid 1', async () => {
    const script = 'id -u; id -g; echo $$; touch /etc/x 2>/dev/null || echo denied; f=$(mktemp) && stat -c %u $f';
    const [nobody, root] = await Promise.all([
      new Sandbox({ user: { uid: 65534, gid: 65534 } }).run(['/bin/sh', '-c', script]),
      new Sandbox({ noInit: true }).run(['/bin/sh', '-c', script]),
    ]);
    expect(text(nobody.stderr)).toBe('');
    expect(text(nobody.stdout)).toBe('65534\n65534\n2\ndenied\n65534\n');
    expect(text(root.stdout)).toBe('0\n0\n1\n0\n');
    expect(() => new Sandbox({ user: { uid: -1 } })).toThrow(SandboxConfigError);
  });

  it('answers opens right while the embedding process is flooded with signals', async () => {
    // A signal that interrupted the sentry's fd injection once made the task's open
    // return 0 (ld.so then failed "file too short" about once in 40 runs).
    const reopen = program('reopen');
    const file = join(scratch(), 'canary');
    writeFileSync(file, 'reopen canary\n');
    const ignore = (): void => undefined;
    process.on('SIGUSR2', ignore);
    const storm = spawn('/bin/sh', ['-c', `while kill -USR2 ${process.pid}; do sleep 0.0002; done`], { stdio: 'ignore' });
    try {
      const r = await new Sandbox().run([reopen, file, '5000']);
      expect(text(r.stdout)).toBe('wrong opens: 0 of 5000\n');
    } finally {
      storm.kill('SIGKILL');
      process.off('SIGUSR2', ignore);
    }
  });

  it('adds capabilities: SYS_ADMIN lets root mount a tmpfs inside', async () => {
    const mountTmpfs = 'mkdir /tmp/t && mount -t tmpfs -o size=1m none /tmp/t && grep -c " /tmp/t tmpfs " /proc/mounts';
    const granted = await new Sandbox({ capAdd: ['SYS_ADMIN'] }).run(['/bin/sh', '-c', mountTmpfs]);
    expect(text(granted.stdout)).toBe('1\n');
    const plain = await new Sandbox().run(['/bin/sh', '-c', mountTmpfs]);
    expect(plain.exitCode).not.toBe(0);
    expect(() => new Sandbox({ capAdd: ['SYS_BOGUS'] })).toThrow(/capAdd: unknown capability `CAP_SYS_BOGUS`/);
  });
});

describe('spawn()', () => {
  const box = new Sandbox();

  it('streams stdin, stdout and stderr while the workload runs', async () => {
    const p = box.spawn([limits, 'echo-stdin']);
    p.stdin.write('hello\n');
    expect(await readUntil(p, 'hello\n')).toBe('hello\n');
    p.stdin.write('again\n');
    expect(await readUntil(p, 'again\n')).toBe('again\n');
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.end();
    const r = await p.exited;
    expect(r).toMatchObject({ exitCode: 0, reason: 'exited' });
    expect(err).toBe('12\n');
  });

  it('kill() ends the whole sandbox at once', async () => {
    // A duration no other test uses, so pgrep finds only these.
    const p = box.spawn(['/bin/sh', '-c', 'sleep 100.25 & sleep 100.25 & echo started; wait']);
    const sleeps = (): string[] => spawnSync('pgrep', ['-f', '^sleep 100.25$']).stdout.toString().split('\n').filter(Boolean);
    await readUntil(p, 'started');
    for (let i = 0; i < 100 && sleeps().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sleeps()).toHaveLength(2);
    const t = performance.now();
    p.kill();
    const r = await p.exited;
    expect(performance.now() - t).toBeLessThan(1500);
    expect(r).toMatchObject({ exitCode: 143, reason: 'killed' });
    expect(sleeps()).toEqual([]);
  });

  it('an AbortSignal ends a run', async () => {
    const ac = new AbortController();
    const run = box.run(['sleep', '100'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    expect(await run).toMatchObject({ reason: 'killed' });
  });
});

describe('errors', () => {
  it('rejects bad options with SandboxConfigError and a clear message', async () => {
    const missing = join(scratch(), 'nope');
    expect(() => new Sandbox({ rootfs: missing })).toThrow(SandboxConfigError);
    expect(() => new Sandbox({ rootfs: missing })).toThrow(`rootfs \`${missing}\`: no such directory`);
    expect(() => new Sandbox({ rootfs: '/etc/passwd' })).toThrow('not a directory');
    expect(() => new Sandbox({ mounts: [{ source: missing, destination: '/x' }] })).toThrow(/mount source .* does not exist/);
    expect(() => new Sandbox({ mounts: [{ source: '/tmp', destination: 'rel' }] })).toThrow(/destination must be absolute/);
    expect(() => new Sandbox({ limits: { memory: '12q' } })).toThrow(SandboxConfigError);
    expect(() => new Sandbox({ limits: { pids: -1 } })).toThrow(/limits.pids/);
    expect(() => new Sandbox({ rlimits: { nofile: [10, 5] } })).toThrow(/soft limit above/);
    expect(() => new Sandbox({ network: 'bridge' as 'none' })).toThrow(/network/);
    const box = new Sandbox();
    await expect(box.run([])).rejects.toThrow(SandboxConfigError);
    await expect(box.run(['true'], { cwd: 'relative' })).rejects.toBeInstanceOf(SandboxError);
    expect(() => box.spawn([])).toThrow(SandboxConfigError);
  });

  it('rejects with SandboxStartError when the sandbox cannot be set up on this host', async () => {
    process.env.TSVISOR_CGROUP_PARENT = 'not/a/name';
    try {
      await expect(new Sandbox({ limits: { pids: 10 } }).run(['true'])).rejects.toBeInstanceOf(SandboxStartError);
    } finally {
      process.env.TSVISOR_CGROUP_PARENT = parent;
    }
  });

  it('is importable as the package `tsvisor` from the built dist', () => {
    const code = "import { Sandbox } from 'tsvisor'; const r = await new Sandbox().run(['echo', 'ok']); process.stdout.write(r.stdout);";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
  });
});
