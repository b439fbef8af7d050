// The OCI runtime end to end: real bundles (busybox rootfs made at test time), real
// sandboxes, every command a separate `tsvisor` process as containerd would run them.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { list, program, scratch, skipBecause, tsvisorBin } from '../helpers.js';
import { OciHarness, type Result } from '../oci-harness.js';

const h = new OciHarness();
let rootfs: string;
let stateRoot: string;
const bundles = h.made;
beforeAll(() => ({ rootfs, stateRoot } = h.setUp('tsvisor-oci-root-')));
afterAll(() => h.tearDown());
const oci = h.oci.bind(h);
const bundle = h.bundle.bind(h);

function state(id: string): any {
  const r = oci(['state', id]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const runtimeOf = h.runtimeOf.bind(h);

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A console-socket receiver as containerd's shim is one: listens on SOCK, takes the master
 * with SCM_RIGHTS and reads it until every slave is closed (EIO). Resolves to
 * `<the message's data>|<all output, CRs dropped>` once listening has begun (listening).
 */
function consoleReceiver(sock: string): { listening: Promise<void>; got: Promise<string> } {
  const receiver = spawn('python3', ['-c', `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
out = b''
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(msg.decode() + '|' + out.decode().replace('\\r', ''))
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  receiver.stdout!.on('data', (d: Buffer) => (got += d.toString()));
  return {
    listening: until('the receiver to listen', () => existsSync(sock)),
    got: new Promise((done) => receiver.on('exit', () => done(got))),
  };
}

/** create with stdout/stderr in files we can read while the container runs. */
function createWithOutput(id: string, dir: string, extra: string[] = []): { out: string; err: string; r: Result } {
  const io = scratch('tsvisor-oci-io-');
  bundles.push(io); // removed with the bundles
  const out = join(io, 'out'), err = join(io, 'err');
  const outFd = openSync(out, 'w+'), errFd = openSync(err, 'w+');
  const r = spawnSync(process.execPath, [tsvisorBin, '--root', stateRoot, 'create', '--bundle', dir, ...extra, id], {
    stdio: ['ignore', outFd, errFd],
    timeout: 30_000,
  });
  closeSync(outFd);
  closeSync(errFd);
  return { out, err, r: { status: r.status, stdout: '', stderr: readFileSync(err, 'utf8') } };
}

describe('OCI lifecycle', () => {
  it('create holds the process until start; state, ps, list, kill, delete', async () => {
    const dir = bundle((s) => (s.process.args = ['sh', '-c', 'echo started as $$; exec sleep 60']));
    const pidFile = join(dir, 'init.pid');
    const { out, r } = createWithOutput('life', dir, ['--pid-file', pidFile]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    // The pid file names the launcher, which exits with the container's status: it lives in
    // the container's namespaces (but its pid namespace) and cgroup, where a shim looks.
    const daemonPid = Number(readFileSync(pidFile, 'utf8'));
    expect(existsSync(`/proc/${daemonPid}`)).toBe(true);
    const created = state('life');
    expect(created).toMatchObject({ id: 'life', status: 'created', bundle: dir, rootfs, owner: 'root' });
    expect(created.pid).toBeGreaterThan(0);
    // As runc's: the state's pid is the pid file's.
    expect(created.pid).toBe(daemonPid);
    const initPid = runtimeOf('life').init.pid as number;
    for (const ns of ['net', 'mnt', 'ipc', 'uts']) expect(readlinkSync(`/proc/${daemonPid}/ns/${ns}`)).toBe(readlinkSync(`/proc/${initPid}/ns/${ns}`));
    expect(readFileSync(`/proc/${daemonPid}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
    // Held at "go": nothing of the container's has run.
    await sleep(200);
    expect(readFileSync(out, 'utf8')).toBe('');

    const ps = JSON.parse(oci(['ps', '--format', 'json', 'life']).stdout) as number[];
    expect(ps).toContain(initPid);
    const listed = JSON.parse(oci(['list', '--format', 'json']).stdout) as any[];
    expect(listed.find((c) => c.id === 'life')).toMatchObject({ status: 'created', pid: created.pid });

    const started = oci(['start', 'life']);
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    // The container's stdout is create's stdout; process.args is pid 1, as the spec says.
    await until('the container to print', () => readFileSync(out, 'utf8').includes('started'));
    expect(readFileSync(out, 'utf8')).toBe('started as 1\n');
    expect(state('life').status).toBe('running');
    const table = oci(['list']).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    expect(table.find((l) => l.startsWith('life '))).toMatch(/\srunning\s/);

    expect(oci(['kill', 'life', 'KILL']).status).toBe(0);
    await until('the daemon to exit', () => !existsSync(`/proc/${daemonPid}`) || readFileSync(`/proc/${daemonPid}/stat`, 'utf8').includes(') Z'));
    const stopped = state('life');
    expect(stopped.status).toBe('stopped');
    expect(stopped.pid).toBe(0);
    expect(oci(['wait', 'life']).stdout).toBe('{"id":"life","exitStatus":137}\n');

    const del = oci(['delete', 'life']);
    expect(del.stderr).toBe('');
    expect(del.status).toBe(0);
    expect(list(stateRoot)).not.toContain('life');
    expect(oci(['state', 'life']).status).not.toBe(0);
  });

  it('run exits with the container status; stdin and stdout are the caller\'s', () => {
    const exit3 = bundle((s) => (s.process.args = ['sh', '-c', 'echo out; echo err >&2; exit 3']));
    const r = oci(['run', '--bundle', exit3, 'run3']);
    expect(r).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(list(stateRoot)).not.toContain('run3');

    // Pid 1 cannot SIGKILL itself from inside its namespace: a child of it is killed.
    const killed = bundle((s) => (s.process.args = ['sh', '-c', 'sh -c \'kill -9 $$\'; exit $?']));
    expect(oci(['run', '--bundle', killed, 'run9']).status).toBe(137);

    const cat = bundle((s) => (s.process.args = ['sh', '-c', 'tr a-z A-Z']));
    expect(oci(['run', '--bundle', cat, 'runcat'], { input: 'piped in\n' }).stdout).toBe('PIPED IN\n');
  });

  it('a foreground run supervises its container itself, passes SIGTERM on and takes relative paths', async () => {
    const dir = bundle((s) => (s.process.args = ['sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo up; while :; do sleep 0.1; done']));
    const cwd = scratch('tsvisor-oci-rel-');
    bundles.push(cwd); // removed with the bundles
    const run = spawn(process.execPath, [tsvisorBin, '--root', 'state', '--log', 'log.json', '--log-format', 'json', 'run', '--bundle', dir, 'fg'], { cwd });
    let out = '';
    run.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((done) => run.on('exit', (code) => done(code)));
    for (let i = 0; i < 200 && !out.includes('up'); i++) await sleep(50);
    expect(out).toBe('up\n');
    // No daemon: the state names the run command as the container's supervisor.
    const record = JSON.parse(readFileSync(join(cwd, 'state', 'fg', 'state.json'), 'utf8')) as { daemon: { pid: number } };
    expect(record.daemon.pid).toBe(run.pid);
    run.kill('SIGTERM');
    expect(await exited).toBe(3);
    expect(out).toBe('up\ngot TERM\n');
    expect(list(join(cwd, 'state'))).toEqual([]);

    // A failure while setting up is the supervisor's: it reaches the log and the caller.
    const failing = bundle((s) => (s.hooks = { prestart: [{ path: '/bin/false' }] }));
    const bad = spawnSync(process.execPath, [tsvisorBin, '--root', 'state', '--log', 'log.json', '--log-format', 'json', 'run', '--bundle', failing, 'bad'], { cwd, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/prestart hook `\/bin\/false`/);
    expect(readFileSync(join(cwd, 'log.json'), 'utf8')).toMatch(/"level":"error".*prestart hook/);
    expect(list(join(cwd, 'state'))).toEqual([]);
  });

  it('execs more processes in a running container', async () => {
    const dir = bundle((s) => (s.process.args = ['sleep', '30']));
    expect(createWithOutput('execd', dir).r.status).toBe(0);
    expect(oci(['start', 'execd']).status).toBe(0);
    const r = oci(['exec', 'execd', 'sh', '-c', 'echo $$; cat /proc/1/comm']);
    expect(r.status, r.stderr).toBe(0);
    const [pid, comm] = r.stdout.trim().split('\n');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(Number(pid)).toBeLessThan(100);
    expect(comm).toBe(readFileSync(`/proc/${runtimeOf('execd').init.pid}/comm`, 'utf8').trim());
    expect(oci(['exec', 'execd', 'sh', '-c', 'exit 5']).status).toBe(5);
    // As containerd asks: --process, --detach, --pid-file; the pid exits with the status.
    const io = scratch('tsvisor-exec-');
    writeFileSync(join(io, 'process.json'), JSON.stringify({ args: ['sh', '-c', 'sleep 0.3; exit 7'], env: ['PATH=/bin:/usr/bin'], cwd: '/' }));
    const pidFile = join(io, 'pid');
    const child = spawn(process.execPath, [tsvisorBin, '--root', stateRoot, 'exec', '--process', join(io, 'process.json'), '--detach', '--pid-file', pidFile, 'execd'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((done) => child.on('exit', done));
    expect(code, stderr).toBe(0);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    expect(existsSync(`/proc/${execPid}`)).toBe(true);
    await until('the exec daemon to exit', () => !existsSync(`/proc/${execPid}`) || readFileSync(`/proc/${execPid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'));
    // runc's foreground --tty relays a terminal of its own: there is none here.
    const noTerminal = oci(['exec', '--tty', 'execd', 'true']);
    expect(noTerminal.status).toBe(1);
    expect(noTerminal.stderr).toMatch(/--tty in the foreground needs a terminal on stdin, stdout or stderr/);
    expect(oci(['kill', 'execd', '9']).status).toBe(0);
    await until('stopped', () => state('execd').status === 'stopped');
    expect(oci(['exec', 'execd', 'true']).stderr).toMatch(/cannot exec in a container in the `stopped` state/);
    expect(oci(['delete', 'execd']).status).toBe(0);
  });

  it('gives an exec\'s terminal to --console-socket, as containerd\'s shim asks', async () => {
    const dir = bundle((s) => (s.process.args = ['sleep', '60']));
    expect(createWithOutput('exectty', dir).r.status).toBe(0);
    expect(oci(['start', 'exectty']).status).toBe(0);
    const io = scratch('tsvisor-exec-tty-');
    const sock = join(io, 'console.sock');
    const receiver = consoleReceiver(sock);
    await receiver.listening;
    // stat's tty_nr: the controlling terminal, pts 0 (major 136).
    const script = 'tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all; cut -d" " -f7 /proc/self/stat; exit 3';
    writeFileSync(join(io, 'process.json'), JSON.stringify({ terminal: true, consoleSize: { height: 20, width: 70 }, args: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/' }));
    const pidFile = join(io, 'pid');
    const r = oci(['exec', '--process', join(io, 'process.json'), '--console-socket', sock, '--detach', '--pid-file', pidFile, 'exectty']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    // The container's main process has no terminal: the exec's pty is the first of its devpts.
    expect(await receiver.got).toBe(`/dev/pts/0|/dev/pts/0\n20 70\nall\n${136 << 8}\n`);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    await until('the exec daemon to exit', () => !existsSync(`/proc/${execPid}`) || readFileSync(`/proc/${execPid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'));

    // runc's rules: detached needs a socket for the master, a socket needs both.
    const noSocket = oci(['exec', '--tty', '--detach', 'exectty', 'true']);
    expect(noSocket.status).toBe(1);
    expect(noSocket.stderr).toMatch(/cannot allocate a terminal when detached without --console-socket/);
    for (const flags of [['--console-socket', sock], ['--console-socket', sock, '--detach']]) {
      const r = oci(['exec', ...flags, 'exectty', 'true']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--console-socket needs --detach and a terminal/);
    }
    // A socket nobody listens on: a clear error at once, nothing left behind.
    const t0 = Date.now();
    const unreachable = oci(['exec', '--tty', '--detach', '--console-socket', join(io, 'nobody.sock'), 'exectty', 'true']);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/connect to console socket `[^`]*nobody\.sock`: No such file or directory/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(oci(['delete', '--force', 'exectty']).status).toBe(0);
    rmSync(io, { recursive: true, force: true });
  });

  it('relays a foreground exec\'s terminal to its own, as runc exec -t', async () => {
    const dir = bundle((s) => (s.process.args = ['sleep', '60']));
    expect(createWithOutput('execfg', dir).r.status).toBe(0);
    expect(oci(['start', 'execfg']).status).toBe(0);
    // tsvisor exec -t on a terminal of its own (a pty of python's): what it reads from
    // there reaches the process, what the process prints comes back.
    const r = spawnSync('python3', ['-c', `
import os, pty, sys, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 25, 90, 0, 0))
os.write(fd, b'typed\\n')
out = b''
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode().replace('\\r', '') + '|' + str(os.waitstatus_to_exitcode(status)))
`, process.execPath, tsvisorBin, '--root', stateRoot, 'exec', '-t', 'execfg', 'sh', '-c', 'read line; echo got $line; tty; stty size; exit 4'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    // Our terminal echoes "typed" once (it is raw while the relay runs, but the input may
    // come before that), the process's pty once more.
    const [out, code] = r.stdout.split('|');
    expect(code).toBe('4');
    expect(out).toMatch(/got typed\n\/dev\/pts\/\d+\n25 90\n$/);
    expect(oci(['delete', '--force', 'execfg']).status).toBe(0);
  });

  it('signals a created container, which then stops', async () => {
    const dir = bundle((s) => (s.process.args = ['sleep', '60']));
    expect(createWithOutput('precreated', dir).r.status).toBe(0);
    expect(oci(['kill', 'precreated', '15']).status).toBe(0);
    await until('stopped', () => state('precreated').status === 'stopped');
    expect(oci(['start', 'precreated']).stderr).toMatch(/cannot start a container in the `stopped` state/);
    expect(oci(['delete', 'precreated']).status).toBe(0);
  });

  it('pause stops every process and resume continues them', async () => {
    const dir = bundle((s) => (s.process.args = ['sh', '-c', 'sleep 60 & exec sleep 61']));
    expect(createWithOutput('pausing', dir).r.status).toBe(0);
    expect(oci(['start', 'pausing']).status).toBe(0);
    await until('both sleeps', () => (JSON.parse(oci(['ps', '--format', 'json', 'pausing']).stdout) as number[]).length >= 2);
    const pids = JSON.parse(oci(['ps', '--format', 'json', 'pausing']).stdout) as number[];
    const procState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;
    // With a cgroup, its freezer (tasks sleep, frozen); without, SIGSTOP (state T).
    const freezer = runtimeOf('pausing').cgroup?.roles?.freezer as string | undefined;
    const frozen = (): boolean => {
      if (!freezer) return pids.every((p) => procState(p) === 'T');
      if (existsSync(join(freezer, 'freezer.state'))) return readFileSync(join(freezer, 'freezer.state'), 'utf8').trim() === 'FROZEN';
      return /^frozen 1$/m.test(readFileSync(join(freezer, 'cgroup.events'), 'utf8'));
    };
    expect(oci(['pause', 'pausing']).status).toBe(0);
    expect(state('pausing').status).toBe('paused');
    await until('stopped processes', frozen);
    expect(oci(['pause', 'pausing']).stderr).toMatch(/cannot pause a container in the `paused` state/);
    expect(oci(['resume', 'pausing']).status).toBe(0);
    await until('running processes', () => !frozen() && pids.every((p) => procState(p) !== 'T'));
    expect(state('pausing').status).toBe('running');
    expect(oci(['delete', '--force', 'pausing']).status).toBe(0);
  });

  it('puts linux.resources in the container\'s cgroup; update changes them; events reads them', async (ctx) => {
    const dir = bundle((s) => {
      s.process.args = ['sleep', '60'];
      s.linux.resources = { memory: { limit: 96 * 1024 * 1024 }, pids: { limit: 40 }, cpu: { quota: 50000, period: 100000, shares: 512 } };
    });
    const c = createWithOutput('limited', dir);
    if (c.r.status !== 0 && /cgroup/.test(c.r.stderr)) {
      return ctx.skip(skipBecause('oci.test.ts (resources)', `no usable cgroup here: ${c.r.stderr.trim()}`));
    }
    expect(c.r.status, c.r.stderr).toBe(0);
    const cg = runtimeOf('limited').cgroup;
    expect(cg).toBeDefined();
    const file = (role: string, v2: string, v1: string): string => {
      const d = cg.roles[role] as string;
      return readFileSync(join(d, d === cg.v2Dir ? v2 : v1), 'utf8').trim();
    };
    expect(Number(file('memory', 'memory.max', 'memory.limit_in_bytes'))).toBe(96 * 1024 * 1024);
    // pids.max counts the sandbox's own two tasks (launcher, init) beside the container's.
    expect(file('pids', 'pids.max', 'pids.max')).toBe('42');
    if (cg.roles.cpu) expect(file('cpu', 'cpu.max', 'cpu.cfs_quota_us')).toMatch(/^50000\b/);
    expect(oci(['start', 'limited']).status).toBe(0);
    const up = oci(['update', '--resources', '-', 'limited'], { input: JSON.stringify({ pids: { limit: 100 }, memory: { limit: 128 * 1024 * 1024 } }) });
    expect(up.status, up.stderr).toBe(0);
    expect(file('pids', 'pids.max', 'pids.max')).toBe('102');
    expect(Number(file('memory', 'memory.max', 'memory.limit_in_bytes'))).toBe(128 * 1024 * 1024);
    const ev = oci(['events', '--stats', 'limited']);
    expect(ev.status, ev.stderr).toBe(0);
    const data = JSON.parse(ev.stdout).data;
    expect(data.memory.usage.limit).toBe(128 * 1024 * 1024);
    expect(data.memory.usage.usage).toBeGreaterThan(0);
    expect(data.pids).toMatchObject({ limit: 102 });
    expect(data.pids.current).toBeGreaterThanOrEqual(2);
    expect(oci(['delete', '--force', 'limited']).status).toBe(0);
    expect(existsSync(cg.dirs[0])).toBe(false);
  });

  it('gives a terminal\'s master to --console-socket; the slave is the controlling tty', async () => {
    const dir = bundle((s) => {
      s.process.terminal = true;
      s.process.consoleSize = { height: 33, width: 111 };
      s.process.args = ['sh', '-c', 'tty; stty size; [ -t 0 ] && [ -t 2 ] && echo both; ps -o pid,tty >/dev/null 2>&1; echo done'];
    });
    const io = scratch('tsvisor-console-');
    const sock = join(io, 'console.sock');
    const receiver = consoleReceiver(sock);
    await receiver.listening;
    const c = createWithOutput('console', dir, ['--console-socket', sock]);
    expect(c.r.status, c.r.stderr).toBe(0);
    expect(oci(['start', 'console']).status).toBe(0);
    expect(await receiver.got).toBe('/dev/pts/0|/dev/pts/0\n33 111\nboth\ndone\n');
    expect(oci(['delete', '--force', 'console']).status).toBe(0);
    rmSync(io, { recursive: true, force: true });
  });

  it('shows a container whose daemon crashed as stopped, and deletes it', async () => {
    const dir = bundle((s) => (s.process.args = ['sleep', '60']));
    const pidFile = join(dir, 'pid');
    expect(createWithOutput('crash', dir, ['--pid-file', pidFile]).r.status).toBe(0);
    expect(oci(['start', 'crash']).status).toBe(0);
    const pid = runtimeOf('crash').init.pid as number;
    const daemon = JSON.parse(readFileSync(join(stateRoot, 'crash', 'state.json'), 'utf8')).daemon.pid as number;
    process.kill(daemon, 'SIGKILL');
    await until('stopped', () => state('crash').status === 'stopped');
    // The sandbox died with its sentry (fail closed).
    await until('the sandbox gone', () => !existsSync(`/proc/${pid}`));
    expect(oci(['delete', 'crash']).status).toBe(0);
  });
});

describe('OCI errors', () => {
  it('reports unknown ids, duplicates, double starts and deleting a running container', () => {
    const unknown = oci(['state', 'nope']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('tsvisor: reading the state of container `nope`: container `nope` does not exist\n');
    expect(oci(['start', 'nope']).stderr).toMatch(/container `nope` does not exist/);
    expect(oci(['kill', 'nope']).status).toBe(1);
    expect(oci(['delete', 'nope']).status).toBe(1);
    // As runc: --force deletes what is there, and nothing is no error (containerd's shim
    // deletes with --force after its delete).
    expect(oci(['delete', '--force', 'nope'])).toMatchObject({ status: 0, stderr: '' });
    expect(oci(['state', '../etc']).stderr).toMatch(/container id `\.\.\/etc` may contain only/);

    const dir = bundle((s) => (s.process.args = ['sleep', '60']));
    expect(createWithOutput('dup', dir).r.status).toBe(0);
    const again = createWithOutput('dup', dir);
    expect(again.r.status).toBe(1);
    expect(again.r.stderr).toBe('tsvisor: creating container `dup`: container `dup` already exists\n');
    expect(oci(['start', 'dup']).status).toBe(0);
    const twice = oci(['start', 'dup']);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/cannot start a container in the `running` state/);
    const del = oci(['delete', 'dup']);
    expect(del.status).toBe(1);
    expect(del.stderr).toMatch(/cannot delete container `dup` that is not stopped: running/);
    expect(state('dup').status).toBe('running');
    expect(oci(['delete', '--force', 'dup']).status).toBe(0);
    expect(list(stateRoot)).not.toContain('dup');
  });

  it('answers the shim\'s delete --force of a deleted container in sh, and nothing else', () => {
    // A `node` that only says it was reached: bin/tsvisor's sh part must answer alone.
    const fake = scratch('tsvisor-fake-node-');
    bundles.push(fake);
    writeFileSync(join(fake, 'node'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    const log = join(fake, 'log.json');
    const sh = (...args: string[]): number | null => spawnSync('sh', [tsvisorBin, '--root', stateRoot, '--log', log, '--log-format', 'json', ...args], {
      env: { ...process.env, PATH: `${fake}:${process.env.PATH}` },
    }).status;
    expect(sh('delete', '--force', 'gone')).toBe(0);
    expect(sh('delete', 'gone', '-f')).toBe(0);
    expect(existsSync(log)).toBe(false);
    // Anything else goes to node: no --force, an id that is there, a bad id, another flag.
    mkdirSync(join(stateRoot, 'there'));
    try {
      expect(sh('delete', 'gone')).toBe(99);
      expect(sh('delete', '--force', 'there')).toBe(99);
      expect(sh('delete', '--force', '../etc')).toBe(99);
      expect(sh('--unknown', 'delete', '--force', 'gone')).toBe(99);
      expect(sh('state', 'gone')).toBe(99);
    } finally {
      rmSync(join(stateRoot, 'there'), { recursive: true });
    }
  });

  it('writes errors to --log as runc\'s JSON lines', () => {
    const logDir = scratch();
    const log = join(logDir, 'log.json');
    const r = oci(['start', 'missing'], { global: ['--log', log, '--log-format', 'json'] });
    expect(r.status).toBe(1);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'starting container `missing`: container `missing` does not exist' });
    expect(new Date(lines[0].time).getTime()).toBeGreaterThan(Date.now() - 60_000);
    rmSync(logDir, { recursive: true });
  });

  it('refuses an invalid config.json naming the field, and leaves nothing behind', () => {
    const dir = bundle((s) => {
      s.process.cwd = 'relative';
      s.process.user.uid = -1;
    });
    const r = createWithOutput('bad', dir).r;
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('`process.cwd`: must be an absolute path');
    expect(r.stderr).toContain('`process.user.uid`: must be >= 0');
    expect(list(stateRoot)).not.toContain('bad');
  });

  it('reports a program that cannot be executed at create', () => {
    const dir = bundle((s) => (s.process.args = ['/no/such/program']));
    // The workload execs only at start: create succeeds, start runs it, and it fails then.
    const r = oci(['run', '--bundle', dir, 'noprog']);
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/exec `\/no\/such\/program`: No such file or directory/);
  });
});

describe('config.json features', () => {
  it('runs as process.user with its groups, umask and rlimits', () => {
    const dir = bundle((s) => {
      s.process.user = { uid: 1000, gid: 1001, additionalGids: [1002, 1003], umask: 0o027 };
      s.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 99, hard: 100 }];
      s.process.args = ['sh', '-c', 'id -u; id -g; id -G; umask; ulimit -n; ulimit -Hn'];
    });
    const r = oci(['run', '--bundle', dir, 'user']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1000\n1001\n1001 1002 1003\n0027\n99\n100\n');
  });

  it('stacks linux.seccomp above its own policy and grants process.capabilities', () => {
    const dir = bundle((s) => {
      s.root.readonly = false;
      s.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      };
      s.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'] };
      s.process.args = ['sh', '-c', 'mkdir /tmp/d 2>&1; grep CapEff /proc/self/status; echo hi > /tmp/f && cat /tmp/f'];
    });
    const r = oci(['run', '--bundle', dir, 'seccomp']);
    expect(r.stderr).toBe('');
    // mkdir refused by the user's filter (EPERM), CAP_CHOWN | CAP_KILL, the rest allowed.
    expect(r.stdout).toBe("mkdir: can't create directory '/tmp/d': Operation not permitted\nCapEff:\t0000000000000021\nhi\n");
    expect(r.status).toBe(0);
    rmSync(join(rootfs, 'tmp', 'f'), { force: true });

    // Processes exec'd into the container get its filter and its capabilities too.
    const running = bundle((s) => {
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      s.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
      s.process.args = ['sleep', '60'];
    });
    expect(createWithOutput('seccomp-exec', running).r.status).toBe(0);
    expect(oci(['start', 'seccomp-exec']).status).toBe(0);
    const e = oci(['exec', 'seccomp-exec', 'sh', '-c', 'mkdir /tmp/e 2>&1; grep CapEff /proc/self/status']);
    expect(e.stdout).toBe("mkdir: can't create directory '/tmp/e': Operation not permitted\nCapEff:\t0000000000000020\n");
    expect(oci(['delete', '--force', 'seccomp-exec']).status).toBe(0);

    const notify = bundle((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY' }));
    const refused = oci(['run', '--bundle', notify, 'notify']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/SCMP_ACT_NOTIFY is not supported/);
  });

  it('keeps ambient capabilities across the exec of a non-root user, and only those', () => {
    const caps = (ambient: string[]) =>
      bundle((s) => {
        s.process.user = { uid: 1000, gid: 1000 };
        const set = ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'];
        s.process.capabilities = { bounding: set, effective: set, permitted: set, inheritable: ambient, ambient };
        s.process.args = ['grep', '-E', '^Cap(Eff|Amb)', '/proc/self/status'];
      });
    const withAmbient = oci(['run', '--bundle', caps(['CAP_NET_BIND_SERVICE']), 'ambient']);
    expect(withAmbient.stderr).toBe('');
    expect(withAmbient.stdout).toBe('CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n');
    const without = oci(['run', '--bundle', caps([]), 'noambient']);
    expect(without.stdout).toBe('CapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n');
  });

  it('honours process.noNewPrivileges: set-uid programs gain privileges only without it, as under runc', () => {
    const dir = scratch();
    bundles.push(dir); // removed with the bundles
    chmodSync(dir, 0o755); // the user 1000 must reach the program
    copyFileSync(program('euid', ['-static']), join(dir, 'euid'));
    chmodSync(join(dir, 'euid'), 0o4755);
    const asUser = (nnp: boolean | undefined) =>
      bundle((s) => {
        s.process.user = { uid: 1000, gid: 1000 };
        if (nnp === undefined) delete s.process.noNewPrivileges;
        else s.process.noNewPrivileges = nnp;
        s.mounts.push({ destination: '/suid', type: 'bind', source: dir, options: ['rbind', 'ro'] });
        s.process.args = ['/suid/euid'];
      });
    expect(oci(['run', '--bundle', asUser(true), 'nnp-on']).stdout).toBe('uid 1000 euid 1000\n');
    expect(oci(['run', '--bundle', asUser(false), 'nnp-off']).stdout).toBe('uid 1000 euid 0\n');
    // Absent is false, as Docker leaves it.
    expect(oci(['run', '--bundle', asUser(undefined), 'nnp-absent']).stdout).toBe('uid 1000 euid 0\n');
  });

  it('lets a container granted CAP_SYS_ADMIN mount a tmpfs (the sentry makes it), and no other', () => {
    const mountTmpfs = (add: string[]) =>
      bundle((s) => {
        const set = [...s.process.capabilities.bounding, ...add];
        s.process.capabilities = { bounding: set, effective: set, permitted: set };
        // On the image's /root: the root is read-only, and a mount needs no writable mount point.
        s.process.args = ['sh', '-c', 'mount -t tmpfs -o size=1m none /root && grep " /root " /proc/mounts | cut -d" " -f3'];
      });
    const granted = oci(['run', '--bundle', mountTmpfs(['CAP_SYS_ADMIN']), 'sysadmin']);
    expect(granted.stderr).toBe('');
    expect(granted.stdout).toBe('tmpfs\n');
    const plain = oci(['run', '--bundle', mountTmpfs([]), 'nosysadmin']);
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/permission denied/i);
  });

  it('honours root.readonly, hostname, env, cwd, bind and tmpfs mounts', () => {
    const host = scratch();
    writeFileSync(join(host, 'in'), 'from the host\n');
    const dir = bundle((s) => {
      s.hostname = 'oci-host';
      s.domainname = 'oci-domain';
      s.process.env = ['PATH=/bin', 'GREETING=hi there'];
      s.process.cwd = '/data';
      s.mounts.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rw'] });
      s.mounts.push({ destination: '/ro', type: 'bind', source: host, options: ['rbind', 'ro'] });
      s.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      s.process.args = [
        'sh', '-c',
        'hostname; cat /proc/sys/kernel/domainname; echo "$GREETING"; pwd; cat in; echo written > out; touch /ro/x 2>/dev/null || echo ro refused;' +
          ' touch /etc/x 2>/dev/null || echo root refused; echo t > /scratch/t && cat /scratch/t',
      ];
    });
    const r = oci(['run', '--bundle', dir, 'features']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('oci-host\noci-domain\nhi there\n/data\nfrom the host\nro refused\nroot refused\nt\n');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('written\n');
    expect(existsSync(join(host, 'x'))).toBe(false);

    const writable = bundle((s) => {
      s.root.readonly = false;
      s.process.args = ['sh', '-c', 'touch /etc/x && echo root writable'];
    });
    expect(oci(['run', '--bundle', writable, 'writable']).stdout).toBe('root writable\n');
    // Writes went to the bundle's rootfs, which is the container's own (as runc's do).
    expect(existsSync(join(rootfs, 'etc', 'x'))).toBe(true);
    rmSync(join(rootfs, 'etc', 'x'));
    rmSync(host, { recursive: true });
  });

  it('runs hooks with the state on stdin, and fails create when a prestart hook fails', () => {
    const out = scratch();
    const hook = (name: string): object => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/${name}`] });
    const dir = bundle((s) => {
      s.process.args = ['true'];
      s.annotations = { 'org.example.key': 'value' };
      s.hooks = { createRuntime: [hook('createRuntime')], prestart: [hook('prestart')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
    });
    expect(oci(['run', '--bundle', dir, 'hooked']).status).toBe(0);
    for (const name of ['createRuntime', 'prestart', 'poststart', 'poststop']) {
      const st = JSON.parse(readFileSync(join(out, name), 'utf8'));
      expect(st, name).toMatchObject({ id: 'hooked', bundle: dir, annotations: { 'org.example.key': 'value' } });
    }
    // prestart sees the sandbox's init, alive, in the container's namespaces.
    expect(JSON.parse(readFileSync(join(out, 'prestart'), 'utf8')).pid).toBeGreaterThan(0);

    const failing = bundle((s) => {
      s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no network for you >&2; exit 1'] }] };
    });
    const r = createWithOutput('hookfail', failing).r;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/prestart hook `\/bin\/sh`: exit status 1: no network for you/);
    expect(list(stateRoot)).not.toContain('hookfail');

    const slow = bundle((s) => {
      s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] };
    });
    const t0 = Date.now();
    expect(createWithOutput('hookslow', slow).r.stderr).toMatch(/createRuntime hook `\/bin\/sleep`: timed out after 1 s/);
    expect(Date.now() - t0).toBeLessThan(5000);
    rmSync(out, { recursive: true });
  });

  it('refuses what it cannot honour, naming the field', () => {
    const tty = bundle((s) => (s.process.terminal = true));
    expect(createWithOutput('tty', tty).r.stderr).toMatch(/`process.terminal`: a terminal needs --console-socket/);
    const joined = bundle((s) => s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' }));
    expect(createWithOutput('userns', joined).r.stderr).toMatch(/`linux.namespaces`: joining an existing `user` namespace is not supported/);
    expect(list(stateRoot).filter((n) => n === 'tty' || n === 'userns')).toEqual([]);
  });
});

describe('OCI commands without a container', () => {
  it('spec refuses to overwrite; features is runc-shaped JSON', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'b'));
    expect(spawnSync(process.execPath, [tsvisorBin, 'spec', '--bundle', join(dir, 'b')]).status).toBe(0);
    const again = spawnSync(process.execPath, [tsvisorBin, 'spec', '--bundle', join(dir, 'b')], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/file exists/);
    const f = JSON.parse(oci(['features']).stdout);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.hooks).toContain('prestart');
    expect(f.linux.namespaces).toContain('network');
    rmSync(dir, { recursive: true });
  });

  it('install adds the runtime to daemon.json, keeps other keys, and is idempotent', () => {
    const dir = scratch();
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ debug: true, runtimes: { other: { path: '/usr/bin/other' } } }));
    const args = ['install', '--config-file', file, '--runtime-args', '--debug --strace=/tmp/x'];
    expect(oci(args).status).toBe(0);
    const first = readFileSync(file, 'utf8');
    expect(oci(args).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(first);
    const config = JSON.parse(first);
    expect(config.debug).toBe(true);
    expect(config.runtimes.other).toEqual({ path: '/usr/bin/other' });
    expect(config.runtimes.tsvisor).toEqual({ path: tsvisorBin, runtimeArgs: ['--debug', '--strace=/tmp/x'] });
    rmSync(dir, { recursive: true });
  });
});
