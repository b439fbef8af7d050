// Docker running containers on tsvisor, for real: a private dockerd (its own data root,
// exec root, socket, pid file and containerd namespace, so that it disturbs no other
// engine) with tsvisor registered by `tsvisor install`, and a busybox image imported from
// a rootfs made at test time. Runs when CI=true (installing docker.io if missing) or when
// dockerd is there and starts; otherwise every test says why it was skipped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRoot, CI, scratch, tsvisorBin } from '../helpers.js';

const IMAGE = 'tsvisor-busybox:test';

let skipReason: string | undefined;
let base: string;
let dockerd: ChildProcess | undefined;
let rootfs: string | null = null;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function docker(args: string[], input?: string): Result {
  const r = spawnSync('docker', ['-H', `unix://${join(base, 'docker.sock')}`, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** docker run --rm --runtime=tsvisor IMAGE ARGS, with FLAGS before the image. */
function run(flags: string[], args: string[], input?: string): Result {
  return docker(['run', '--rm', '--runtime=tsvisor', ...flags, IMAGE, ...args], input);
}

async function startDockerd(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!have('dockerd') && CI) {
    const r = spawnSync('apt-get', ['install', '-y', 'docker.io'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) return `apt-get install docker.io failed: ${r.stderr.trim().split('\n').pop()}`;
  }
  if (!have('dockerd') || !have('docker')) return 'dockerd or docker not installed (apt-get install docker.io)';
  rootfs = busyboxRoot();
  if (!rootfs) return 'busybox-static not installed';
  base = scratch('tsvisor-docker-');
  return startEngine({});
}

/** Starts the private engine in BASE with EXTRA in its daemon.json, and imports the image. */
async function startEngine(extra: Record<string, unknown>): Promise<string | undefined> {
  const config = join(base, 'daemon.json');
  writeFileSync(config, JSON.stringify({ 'log-level': 'warn', ...extra }));
  const inst = spawnSync(process.execPath, [tsvisorBin, 'install', '--config-file', config, '--runtime-args', `--log ${join(base, 'tsvisor.log')}`], { encoding: 'utf8' });
  if (inst.status !== 0) return `tsvisor install failed: ${inst.stderr}`;
  const log = join(base, 'dockerd.log');
  dockerd = spawn(
    'dockerd',
    [
      '--config-file', config, '--data-root', join(base, 'data'), '--exec-root', join(base, 'exec'),
      '--pidfile', join(base, 'docker.pid'), '-H', `unix://${join(base, 'docker.sock')}`,
      // No host network plumbing: this engine must leave the host's iptables and bridges alone.
      '--iptables=false', '--bridge=none',
      '--containerd-namespace', 'tsvisor-test', '--containerd-plugins-namespace', 'tsvisor-test-plugins',
    ],
    { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] },
  );
  dockerd.on('error', () => {});
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (dockerd.exitCode !== null) return `dockerd exited with status ${dockerd.exitCode}: ${readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ')}`;
    if (docker(['version', '--format', '{{.Server.Version}}']).status === 0) break;
    await sleep(200);
  }
  if (docker(['version']).status !== 0) return 'dockerd did not answer within 30 s';
  const tar = spawnSync('sh', ['-c', `tar -C '${rootfs}' -c . | docker -H unix://${join(base, 'docker.sock')} import - ${IMAGE}`], { encoding: 'utf8' });
  if (tar.status !== 0) return `docker import failed: ${tar.stderr}`;
  return undefined;
}

/** Stops the private engine, its containers removed first. */
async function stopEngine(): Promise<void> {
  if (!dockerd || dockerd.exitCode !== null) return;
  for (const id of docker(['ps', '-aq']).stdout.split('\n').filter(Boolean)) docker(['rm', '-f', id]);
  dockerd.kill('SIGTERM');
  const deadline = Date.now() + 20_000;
  while (dockerd.exitCode === null && Date.now() < deadline) await sleep(100);
  if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
}

beforeAll(async () => {
  skipReason = await startDockerd();
  if (skipReason) {
    process.stderr.write(`docker tests skipped: ${skipReason}\n`);
    if (CI) throw new Error(`docker tests cannot run in CI: ${skipReason}`);
  }
}, 180_000);

afterAll(async () => {
  // Always: stop the private engine and remove everything it made, even after failures.
  await stopEngine();
  if (base) {
    // Shims outlive their engine by design (containerd restarts reattach to them): after a
    // failure, kill whatever still runs from the private engine's directories; each
    // sandbox dies with its daemon.
    for (const pid of processesMentioning(base)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    // Overlay mounts dockerd failed to undo would make rm fail: detach them first.
    spawnSync('sh', ['-c', `grep -o ' ${base}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
    rmSync(base, { recursive: true, force: true });
  }
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
}, 60_000);

/** Host processes whose command line mentions S. */
function processesMentioning(s: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(s)) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

describe('docker on tsvisor', () => {
  it('runs a command and passes its output and exit code', (ctx) => {
    if (skipReason) return ctx.skip();
    const hi = run([], ['echo', 'hi']);
    expect(hi.stderr).toBe('');
    expect(hi).toMatchObject({ status: 0, stdout: 'hi\n' });
    expect(run([], ['sh', '-c', 'exit 3']).status).toBe(3);
    // As under runc: pid 1 cannot SIGKILL itself from inside, so a child of it is killed.
    expect(run([], ['sh', '-c', "sh -c 'kill -9 $$'; exit $?"]).status).toBe(137);
    // process.args is pid 1 of the container's own pid namespace, as under runc.
    expect(run([], ['sh', '-c', 'echo $$']).stdout).toBe('1\n');
  });

  it('takes stdin with -i', (ctx) => {
    if (skipReason) return ctx.skip();
    expect(run(['-i'], ['tr', 'a-z', 'A-Z'], 'piped in\n').stdout).toBe('PIPED IN\n');
  });

  it('allocates a terminal with -t', (ctx) => {
    if (skipReason) return ctx.skip();
    const t = run(['-t'], ['tty']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toBe('/dev/pts/0\r\n');
    // Without -t: the log pipes, no terminal.
    expect(run([], ['sh', '-c', 'tty || true']).stdout).toBe('not a tty\n');
  });

  it('runs as --user, with -v binds and --read-only', (ctx) => {
    if (skipReason) return ctx.skip();
    expect(run(['--user', '1000:1000'], ['id']).stdout).toBe('uid=1000 gid=1000 groups=1000\n');
    const host = scratch();
    writeFileSync(join(host, 'in'), 'from the host\n');
    const vol = run(['-v', `${host}:/data`], ['sh', '-c', 'cat /data/in; echo written > /data/out']);
    expect(vol.stdout).toBe('from the host\n');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('written\n');
    expect(run(['--read-only'], ['sh', '-c', 'touch /x 2>/dev/null || echo refused']).stdout).toBe('refused\n');
    expect(run([], ['sh', '-c', 'touch /x && echo writable']).stdout).toBe('writable\n');
    rmSync(host, { recursive: true });
  });

  it('ends a memory hog over --memory as OOM (137), contains a fork bomb with --pids-limit, pins --cpuset-cpus', (ctx) => {
    if (skipReason) return ctx.skip();
    // The string doubles until the cgroup's 64 MiB are gone: the kernel's OOM killer.
    const hog = run(['--memory', '64m'], ['sh', '-c', 'x=0123456789abcdef; while true; do x=$x$x; done']);
    expect(hog.status, hog.stderr).toBe(137);
    // 100 background sleeps against 50 tasks: ash cannot fork, says so and gives up.
    const bomb = run(['--pids-limit', '50'], ['sh', '-c', 'for i in $(seq 100); do sleep 30 & done; echo all forked']);
    expect(bomb.stdout).not.toMatch(/all forked/);
    expect(bomb.stderr).toMatch(/fork/);
    expect(bomb.status).not.toBe(0);
    // --cpuset-cpus and --cpu-shares: the container runs on the CPU it was given.
    const pinned = run(['--cpuset-cpus', '0', '--cpu-shares', '256'], ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status; cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.weight']);
    expect(pinned.stdout).toMatch(/^Cpus_allowed_list:\s+0\n(256|10)\n$/);
  });

  it('reports the container\'s own cgroup and namespaces: stats, OOMKilled, State.Pid', async (ctx) => {
    if (skipReason) return ctx.skip();
    const id = docker(['run', '-d', '--runtime=tsvisor', '--memory', '64m', IMAGE, 'sleep', '60']).stdout.trim();
    try {
      // containerd's shim reads stats from the cgroup of the pid it reaps: the container's.
      const usage = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]).stdout;
      expect(usage).toMatch(/ \/ 64MiB\n$/);
      // The container's few processes, not the shim's or the sentry's memory.
      const [, amount, unit] = usage.match(/^([\d.]+)(B|KiB|MiB)/) ?? [];
      expect(Number(amount) / (unit === 'MiB' ? 1 : 1024)).toBeLessThan(16);
      const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout);
      const inside = docker(['exec', id, 'readlink', '/proc/self/ns/net']).stdout;
      expect(readlinkSync(`/proc/${pid}/ns/net`) + '\n').toBe(inside);
      // So another container can share its network, as Docker does it: by that pid's path.
      expect(run(['--network', `container:${id}`], ['readlink', '/proc/self/ns/net']).stdout).toBe(inside);
    } finally {
      docker(['rm', '-f', id]);
    }
    const hog = docker(['run', '-d', '--runtime=tsvisor', '--memory', '32m', IMAGE, 'sh', '-c', 'x=0123456789abcdef; while true; do x=$x$x; done']).stdout.trim();
    try {
      const deadline = Date.now() + 20_000;
      while (docker(['inspect', '-f', '{{.State.Running}}', hog]).stdout.trim() === 'true' && Date.now() < deadline) await sleep(200);
      expect(docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', hog]).stdout).toBe('137 true\n');
    } finally {
      docker(['rm', '-f', hog]);
    }
  });

  it('runs detached: logs, top, kill -s, inspect, stop', async (ctx) => {
    if (skipReason) return ctx.skip();
    const script = 'trap "echo got-usr1" USR1; trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done';
    const d = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sh', '-c', script]);
    expect(d.status, d.stderr).toBe(0);
    const id = d.stdout.trim();
    const until = async (what: string, cond: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    await until('started', () => docker(['logs', id]).stdout.includes('started'));
    expect(docker(['inspect', '-f', '{{.State.Status}} {{.State.Running}}', id]).stdout).toBe('running true\n');
    expect(docker(['ps', '-q', '--no-trunc']).stdout).toContain(id);
    // docker top asks `ps --format json` for the host pids of the container's processes.
    const top = docker(['top', id]);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stdout).toContain('sh -c trap');
    // docker exec: `exec --process F --detach --pid-file P ID` through containerd's shim.
    const ex = docker(['exec', id, 'sh', '-c', 'echo exec-$((6 * 7)); exit 3']);
    expect(ex.stdout).toBe('exec-42\n');
    expect(ex.status).toBe(3);
    expect(docker(['kill', '-s', 'USR1', id]).status).toBe(0);
    await until('got-usr1', () => docker(['logs', id]).stdout.includes('got-usr1'));
    expect(docker(['stop', '-t', '5', id]).status).toBe(0);
    expect(docker(['logs', id]).stdout).toBe('started\ngot-usr1\ngot-term\n');
    expect(docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout).toBe('exited 7\n');
    expect(docker(['rm', id]).status).toBe(0);
  });

  it('gives docker exec -t a terminal of the container\'s devpts', (ctx) => {
    if (skipReason) return ctx.skip();
    // containerd's shim: `exec --process F (terminal: true) --console-socket S --detach`.
    const id = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '60']).stdout.trim();
    const t = docker(['exec', '-t', id, 'tty']);
    expect(t.status, t.stderr).toBe(0);
    // The main process has none: the exec's pty is the first of the container's devpts.
    expect(t.stdout).toBe('/dev/pts/0\r\n');
    expect(docker(['exec', '-t', id, 'sh', '-c', 'test -t 0 && test -t 1 && echo yes']).stdout).toBe('yes\r\n');
    expect(docker(['exec', '-t', id, 'sh', '-c', 'exit 4']).status).toBe(4);
    expect(docker(['rm', '-f', id]).status).toBe(0);
    // Beside a main process that has a terminal (run -t): a second pty of the same devpts.
    const withTty = docker(['run', '-d', '-t', '--runtime=tsvisor', IMAGE, 'sleep', '60']).stdout.trim();
    expect(docker(['exec', '-t', withTty, 'tty']).stdout).toBe('/dev/pts/1\r\n');
    expect(docker(['rm', '-f', withTty]).status).toBe(0);
  });

  it('keeps a container\'s writes in its rootfs: a restart and docker cp see them', (ctx) => {
    if (skipReason) return ctx.skip();
    const script = 'cat /kept 2>/dev/null; echo run >> /kept';
    const id = docker(['create', '--runtime=tsvisor', IMAGE, 'sh', '-c', script]).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    try {
      expect(docker(['start', '-a', id]).stdout).toBe('');
      expect(docker(['start', '-a', id]).stdout).toBe('run\n');
      expect(docker(['cp', `${id}:/kept`, '-']).status).toBe(0);
      expect(docker(['diff', id]).stdout).toContain('A /kept');
    } finally {
      docker(['rm', '-f', id]);
    }
  });

  it('shares a container\'s pid namespace with --pid container:X', async (ctx) => {
    if (skipReason) return ctx.skip();
    const pod = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']).stdout.trim();
    try {
      const r = run(['--pid', `container:${pod}`], ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; kill -TERM 1 && echo signalled']);
      expect(r.stdout).toBe('sh -c trap "exit 3" TERM; while :; do sleep 0.1; done \nsignalled\n');
      const deadline = Date.now() + 5000;
      while (docker(['inspect', '-f', '{{.State.Running}}', pod]).stdout !== 'false\n' && Date.now() < deadline) await sleep(100);
      expect(docker(['inspect', '-f', '{{.State.ExitCode}}', pod]).stdout).toBe('3\n');
    } finally {
      docker(['rm', '-f', pod]);
    }
  });

  it('stops with SIGKILL after the timeout, and rm -f leaves no process behind', async (ctx) => {
    if (skipReason) return ctx.skip();
    const stubborn = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done']).stdout.trim();
    const t0 = Date.now();
    expect(docker(['stop', '-t', '1', stubborn]).status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(docker(['inspect', '-f', '{{.State.ExitCode}}', stubborn]).stdout).toBe('137\n');
    docker(['rm', stubborn]);

    const id = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '600']).stdout.trim();
    // The container's daemon runs `daemon-main.cjs STATE_DIR`, STATE_DIR ending in the id.
    const daemons = processesMentioning(id).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'));
    const stateDir = daemons.find((argv) => argv[1]?.endsWith('/daemon-main.cjs'))?.[2];
    expect(stateDir).toMatch(new RegExp(`/${id}$`));
    expect(existsSync(stateDir!)).toBe(true);
    expect(docker(['rm', '-f', id]).status).toBe(0);
    const deadline = Date.now() + 5000;
    while (processesMentioning(id).length > 0 && Date.now() < deadline) await sleep(100);
    expect(processesMentioning(id)).toEqual([]);
    expect(existsSync(stateDir!)).toBe(false);
  });
});

// Last: the engine restarted with userns-remap, which applies to all its containers.
describe('docker on tsvisor with userns-remap', () => {
  let remapSkip: string | undefined;
  beforeAll(async () => {
    if (skipReason) return;
    await stopEngine();
    // `default`: dockerd makes the user dockremap and its subordinate ranges itself. The
    // remapped root must be able to pass through the engine's directory (scratch: 0700).
    chmodSync(base, 0o711);
    remapSkip = await startEngine({ 'userns-remap': 'default' });
    if (remapSkip) throw new Error(`dockerd with userns-remap: ${remapSkip}`);
  }, 120_000);

  it('runs the container\'s root as the remapped range\'s first id, root over its own files', async (ctx) => {
    if (skipReason) return ctx.skip();
    const first = Number(/^dockremap:(\d+):/m.exec(readFileSync('/etc/subuid', 'utf8'))?.[1]);
    expect(first).toBeGreaterThan(0);
    const r = run([], ['sh', '-c', 'id -u; cat /proc/self/uid_map; touch /tmp/made && stat -c %u /tmp/made; stat -c %u /']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0', `0 ${first} 65536`, '0', '0', '']);
    const id = docker(['run', '-d', '--runtime=tsvisor', IMAGE, 'sleep', '30']).stdout.trim();
    try {
      const pid = docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim();
      expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(first));
    } finally {
      docker(['rm', '-f', id]);
    }
  });
});
