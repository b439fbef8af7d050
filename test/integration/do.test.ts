// `tsvisor do` end to end: real programs in real sandboxes, compared with native runs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxRoot, list, native, program, repo, scratch, tsvisor, tsvisorBin } from '../helpers.js';

let probe: string;
let probeStatic: string;
let rootfs: string | null;

beforeAll(() => {
  probe = program('probe');
  probeStatic = program('probe', ['-static']);
  rootfs = busyboxRoot();
});

afterAll(() => {
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
});

describe('tsvisor do runs programs', () => {
  it('runs the quick-start command', () => {
    const r = tsvisor(['do', '--', '/bin/sh', '-c', 'echo hello from the sandbox; ls /; head -3 /proc/self/status']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('hello from the sandbox');
    expect(r.stdout).toMatch(/^usr$/m);
    expect(r.stdout).toMatch(/^Name:\s+head$/m);
    expect(r.stdout).toMatch(/^Umask:\s+0022$/m);
    // grep is a child of sh, which is the sandbox's pid 2 under its init (pid 1): its pid
    // is a small virtual one, never the host's.
    const status = tsvisor(['do', '--', '/bin/sh', '-c', 'grep ^Pid: /proc/self/status']).stdout;
    const pid = Number(/^Pid:\s+(\d+)$/m.exec(status)?.[1]);
    expect(pid).toBeGreaterThan(2);
    expect(pid).toBeLessThan(10);
  });

  it('gives the same output as native for coreutils and python', () => {
    for (const argv of [
      ['/bin/ls', '-la', '/etc/debian_version'],
      ['/bin/cat', '/etc/os-release'],
      ['/usr/bin/env', '-i', 'A=1', '/usr/bin/printenv', 'A'],
      ['python3', '-c', 'import os; print(1, os.path.exists("/etc/passwd"))'],
      ['/bin/sh', '-c', 'find /etc/apt -maxdepth 1 | sort | head -5'],
    ]) {
      const inside = tsvisor(['do', '--', ...argv]);
      const outside = native(argv);
      expect(inside.stdout, argv.join(' ')).toBe(outside.stdout);
      expect(inside.status, argv.join(' ')).toBe(outside.status);
    }
  });

  it('runs the file syscalls like Linux, in a directory mounted in', () => {
    const verbs = [
      'mkdir', 'd', ',', 'write', 'd/f', 'hello', ',', 'stat', 'd/f', ',', 'lstat', 'd', ',',
      'symlink', 'f', 'd/l', ',', 'readlink', 'd/l', ',', 'stat', 'd/l', ',', 'lstat', 'd/l', ',',
      'cat', 'd/l', ',', 'link', 'd/f', 'd/h', ',', 'stat', 'd/h', ',', 'rename', 'd/h', 'd/i', ',',
      'rename_noreplace', 'd/i', 'd/f', ',', 'ls', 'd', ',', 'chmod', 'd/f', '600', ',', 'stat', 'd/f', ',',
      'access', 'd/f', '4', ',', 'access', 'd/f', '1', ',', 'truncate', 'd/f', '2', ',', 'cat', 'd/f', ',',
      'open', 'd/f', 'creat,excl', ',', 'open', 'd/l', 'nofollow', ',', 'open', 'd/f', 'dir', ',',
      'open', 'd', 'tmpfile', ',', 'statx', 'd/f', ',', 'unlink', 'd/nope', ',', 'unlink', 'd/f/', ',',
      'rmdir', 'd', ',', 'unlink', 'd/i', ',', 'unlink', 'd/l', ',', 'unlink', 'd/f', ',', 'rmdir', 'd', ',',
      'mkdir', 'a/b', ',', 'stat', '../nonexistent', ',', 'chdir', '..', ',', 'readlink', '/proc/self/cwd',
    ];
    const dirNative = scratch(), dirInside = scratch();
    const outside = native([probe, ...verbs], { cwd: dirNative });
    // The same path inside and out, so every printed path compares equal.
    const inside = tsvisor(['do', '--mount', `${dirInside}:${dirNative}`, '--cwd', dirNative, '--', probe, ...verbs]);
    expect(inside.stderr).toBe('');
    expect(inside.stdout.replaceAll(dirInside, dirNative)).toBe(outside.stdout);
    rmSync(dirNative, { recursive: true });
    rmSync(dirInside, { recursive: true });
  });

  it('checks permissions as for a container root (file capabilities only)', () => {
    const dir = scratch();
    const file = join(dir, 'theirs');
    writeFileSync(file, 'not yours');
    chownSync(file, 1000, 1000);
    chmodSync(file, 0o400);
    mkdirSync(join(dir, 'locked'), 0o000);
    const verbs = [
      'cat', file, ',', 'access', file, '2', ',', 'open', file, 'w', ',', 'chmod', file, '644', ',', 'stat', file, ',',
      'ls', join(dir, 'locked'), ',', 'stat', join(dir, 'locked'), ',', 'fchown', file, '1001', ',', 'stat', file, ',',
      'fchmod', file, '600', ',', 'stat', file, ',', 'mknod_fifo', join(dir, 'p'), ',', 'stat', join(dir, 'p'),
    ];
    // Natively: root holding only the file capabilities a container root has.
    const caps = '--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid';
    const outside = native(['setpriv', '--inh-caps=-all', caps, probe, ...verbs]);
    rmSync(join(dir, 'p'));
    chownSync(file, 1000, 1000);
    chmodSync(file, 0o400);
    const inside = tsvisor(['do', '--mount', `${dir}:${dir}`, '--', probe, ...verbs]);
    expect(outside.stdout).toContain(`cat ${file}: not yours`);
    expect(inside.stdout).toBe(outside.stdout);
    // And with no capabilities at all the same files are out of reach, as for the task.
    const capless = native(['setpriv', '--inh-caps=-all', '--bounding-set=-all', probe, 'cat', file]);
    expect(capless.stdout).toBe(`cat ${file}: EACCES\n`);
    rmSync(dir, { recursive: true });
  });

  it('holds Docker\'s default capabilities; device nodes it makes or finds open nothing', () => {
    // Docker's default set is a80425fb; CAP_NET_RAW (bit 13) is not granted on the host's
    // network.
    const caps = tsvisor(['do', '--', 'sh', '-c', 'grep CapEff /proc/self/status']);
    expect(caps.stdout).toBe('CapEff:\t00000000a80425fb\n');
    const host = tsvisor(['do', '--network', 'host', '--', 'sh', '-c', 'grep CapEff /proc/self/status']);
    expect(host.stdout).toBe('CapEff:\t00000000a80405fb\n');
    // A node of the host's /dev/full (1:7) would fail writes with ENOSPC if it opened.
    const dir = scratch();
    if (native(['mknod', join(dir, 'full'), 'c', '1', '7']).status !== 0) throw new Error('mknod on the host failed');
    const write = (f: string): string => `dd if=/dev/zero of=${f} bs=1 count=1 2>&1 | head -1 | sed "s/.*: //"`;
    const script = [
      write(`${dir}/full`),
      `mknod /tmp/full c 1 7 && ${write('/tmp/full')}`,
      `mknod /dev/full2 c 1 7 && ${write('/dev/full2')}`,
      `mknod /scratch/full c 1 7 && ${write('/scratch/full')}`,
      'mknod /tmp/disk b 8 0 && stat -c "%F %t:%T" /tmp/disk',
      write('/dev/full'),
      // Without CAP_MKNOD (another user), mknod of a device is refused, as by Linux.
      'setpriv --reuid=1000 --regid=1000 --clear-groups mknod /tmp/n c 1 7 2>&1 | sed "s/.*: //"',
    ].join('; ');
    const r = tsvisor(['do', '--mount', `${dir}:${dir}`, '--tmpfs', '/scratch', '--', 'sh', '-c', script]);
    expect(r.stdout).toBe(`${'Permission denied\n'.repeat(4)}block special file 8:0\nNo space left on device\nOperation not permitted\n`);
  });

  it('reads and writes extended attributes by name as Linux does', () => {
    const script = join(repo, 'test', 'programs', 'xattr.py');
    const outsideDir = scratch(), insideDir = scratch();
    const caps = '--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid';
    const outside = native(['setpriv', '--inh-caps=-all', caps, 'python3', script, outsideDir]);
    const inside = tsvisor(['do', '--mount', `${insideDir}:${outsideDir}`, '--', 'python3', script, outsideDir]);
    expect(outside.stdout).toContain("get b'hello'");
    expect(inside.stdout).toBe(outside.stdout);
    rmSync(outsideDir, { recursive: true });
    rmSync(insideDir, { recursive: true });
  });

  it('answers the *xattrat calls and file_getattr/file_setattr as Linux does', () => {
    const prog = program('xattrat');
    const outsideDir = scratch(), insideDir = scratch();
    const caps = '--bounding-set=-all,+chown,+dac_override,+fowner,+fsetid';
    const outside = native(['setpriv', '--inh-caps=-all', caps, prog, outsideDir]);
    const inside = tsvisor(['do', '--mount', `${insideDir}:${outsideDir}`, '--', prog, outsideDir]);
    expect(outside.stdout).toContain('value: hello');
    expect(inside.stderr).toBe('');
    expect(inside.stdout).toBe(outside.stdout);
    rmSync(outsideDir, { recursive: true });
    rmSync(insideDir, { recursive: true });
  });

  it('lets root make tmpfs and bind mounts in a sandbox granted CAP_SYS_ADMIN, and only those', () => {
    const script = join(repo, 'test', 'programs', 'mounts.py');
    const nat = native(['unshare', '--mount', '--propagation', 'private', 'python3', script]);
    expect(nat.stdout).toContain('big write ENOSPC');
    // Natively root may also unmount /proc, mount a procfs and make a bind of a read-only
    // mount writable; in the sandbox its frame is fixed and read-only stays read-only.
    const refused = ['bind of ro made rw', 'umount /proc', 'proc'];
    const expected = refused.reduce((out, what) => out.replace(`\n${what} ok\n`, `\n${what} EPERM\n`), nat.stdout);
    const granted = tsvisor(['do', '--cap-add', 'SYS_ADMIN', '--', 'python3', script]);
    expect(granted.stderr).toBe('');
    expect(granted.stdout).toBe(expected);
    // Without the grant, as in Docker by default: no mounts at all.
    expect(tsvisor(['do', '--', 'python3', script]).stdout).toMatch(/^tmpfs EPERM\n/);
    expect(tsvisor(['do', '--cap-add', 'NOPE', '--', 'true']).stderr).toMatch(/unknown capability `CAP_NOPE`/);
  });

  it('fires inotify watches added by name', () => {
    const script = join(repo, 'test', 'programs', 'inotify.py');
    const outsideDir = scratch(), insideDir = scratch();
    const outside = native(['python3', script, outsideDir]);
    const inside = tsvisor(['do', '--mount', `${insideDir}:${outsideDir}`, '--', 'python3', script, outsideDir]);
    expect(outside.stdout).toContain("(True, '0x100', 'new')");
    expect(inside.stdout).toBe(outside.stdout);
    rmSync(outsideDir, { recursive: true });
    rmSync(insideDir, { recursive: true });
  });

  it('opens FIFOs whose other end comes later without stalling the sentry', () => {
    const r = tsvisor(['do', '--', '/bin/sh', '-c',
      'mkfifo /tmp/f; (sleep 0.2; echo late writer > /tmp/f) & cat /tmp/f; ' +
      '(echo early writer > /tmp/f &); sleep 0.2; cat /tmp/f; ' +
      // A reader that gives up (SIGTERM from timeout) must not leave the sandbox stuck.
      'timeout 0.3 cat /tmp/f; echo gave up $?'], { timeout: 10_000 });
    expect(r.stdout).toBe('late writer\nearly writer\ngave up 124\n');
  });

  it('serves 64 threads making trapped calls at once', () => {
    const threads = program('threads');
    const r = tsvisor(['do', '--cwd', '/tmp', '--', threads, '64', '40']);
    expect(r.stdout).toBe('threads 64 x 40: 0 failures\n');
    expect(r.status).toBe(0);
  });

  it('gives the sandbox its own loopback, where its root may bind low ports', () => {
    const script = [
      'import socket, threading',
      's = socket.socket(); s.bind(("127.0.0.1", 80)); s.listen()',
      'def serve():',
      '    c, _ = s.accept(); c.sendall(c.recv(64).upper()); c.close()',
      'threading.Thread(target=serve).start()',
      'k = socket.create_connection(("127.0.0.1", 80)); k.sendall(b"over loopback"); print(k.recv(64).decode())',
      'socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print("ping socket")',
    ].join('\n');
    const r = tsvisor(['do', '--', 'python3', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('OVER LOOPBACK\nping socket\n');
    // ss asks sock_diag for the sockets of that network, and finds the listener there;
    // stat -L of the namespace link is the inode readlink names.
    const listed = tsvisor(['do', '--', '/bin/sh', '-c',
      'python3 -c \'import socket, subprocess; s = socket.socket(); s.bind(("127.0.0.1", 4567)); s.listen(); print(subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout.split()[3])\'; ' +
      'stat -L -c "net:[%i]" /proc/self/ns/net; readlink /proc/self/ns/net']);
    expect(listed.stderr).toBe('');
    const [addr, statted, linked] = listed.stdout.trim().split('\n');
    expect(addr).toBe('127.0.0.1:4567');
    expect(statted).toBe(linked);
    expect(linked).not.toBe(readlinkSync('/proc/self/ns/net'));
  });

  it('propagates exit codes and deaths by signal', () => {
    expect(tsvisor(['do', '--', '/bin/sh', '-c', 'exit 7']).status).toBe(7);
    expect(tsvisor(['do', '--', '/bin/sh', '-c', 'kill -9 $$']).status).toBe(137);
    expect(tsvisor(['do', '--', '/bin/true']).status).toBe(0);
  });

  it('passes stdin through', () => {
    const r = tsvisor(['do', '--', '/bin/cat'], { input: 'piped input\n' });
    expect(r.stdout).toBe('piped input\n');
  });

  it("hands the caller's environment on as it was, NODE_EXTRA_CA_CERTS included", () => {
    // bin/tsvisor starts node without NODE_EXTRA_CA_CERTS (45 ms of certificate loading)
    // and must give it back to the program, set, empty or unset alike.
    const show = ['do', '--env', 'ADDED=1', '--', '/bin/sh', '-c', 'echo "${NODE_EXTRA_CA_CERTS-unset}|$KEPT|$ADDED"; env | grep -c ^TSVISOR_CALLER'];
    const { NODE_EXTRA_CA_CERTS: _, ...rest } = process.env;
    expect(tsvisor(show, { env: { ...rest, KEPT: 'k', NODE_EXTRA_CA_CERTS: '/a b/$c' } }).stdout).toBe('/a b/$c|k|1\n0\n');
    expect(tsvisor(show, { env: { ...rest, KEPT: 'k', NODE_EXTRA_CA_CERTS: '' } }).stdout).toBe('|k|1\n0\n');
    expect(tsvisor(show, { env: { ...rest, KEPT: 'k' } }).stdout).toBe('unset|k|1\n0\n');
  });

  it('answers the sandbox identity', () => {
    const r = tsvisor(['do', '--hostname', 'box', '--', probe, 'uname', ',', 'pid']);
    expect(r.stdout).toBe('uname: Linux box x86_64\npid: 2 ppid: 1\n');
  });

  it('names the sandbox in /etc/hostname and resolves it through /etc/hosts', () => {
    const lookup = 'import socket; print(socket.gethostname(), socket.gethostbyname(socket.gethostname()))';
    const r = tsvisor(['do', '--hostname', 'box', '--', '/bin/sh', '-c', `cat /etc/hostname; python3 -c '${lookup}'`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('box\nbox 127.0.1.1\n');
    if (!rootfs) throw new Error('busybox-static is not installed');
    // A root without /etc/hosts gets one, with localhost too.
    const bare = tsvisor(['do', '--root', rootfs, '--', '/bin/sh', '-c', 'cat /etc/hosts; cat /etc/hostname']);
    expect(bare.stdout).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\ttsvisor\ntsvisor\n');
  });

  it("gives a root without /etc/resolv.conf the host's, minus loopback servers in a network of its own", () => {
    if (!rootfs) throw new Error('busybox-static is not installed');
    // The host's file, as the launcher reads it: a private mount namespace shows another.
    const dir = scratch();
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\nnameserver 192.0.2.1\noptions edns0\n');
    const withHostFile = (network: string): string => {
      const cmd = `mount --bind ${dir}/resolv.conf /etc/resolv.conf && exec ${process.execPath} ${tsvisorBin} do --network ${network} --root ${rootfs} -- cat /etc/resolv.conf`;
      const r = native(['unshare', '-m', '--propagation', 'private', 'sh', '-c', cmd]);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    expect(withHostFile('none')).toBe('nameserver 192.0.2.1\noptions edns0\n');
    expect(withHostFile('host')).toBe('nameserver 127.0.0.53\nnameserver 192.0.2.1\noptions edns0\n');
    expect(list(join(rootfs, 'etc'))).not.toContain('resolv.conf'); // the root itself is untouched
    rmSync(dir, { recursive: true });
  });

  it('runs static busybox applets in a --root of its own', () => {
    if (!rootfs) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
    const r = tsvisor([
      'do', '--root', rootfs, '--', '/bin/sh', '-c',
      'echo hi | grep h; ls /bin/cat; cat /proc/self/comm; find /etc -maxdepth 0; mkdir /tmp/x && echo made',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hi\n/bin/cat\ncat\n/etc\nmade\n');
  });
});

describe('tsvisor do walls', () => {
  it('hides the host outside --root', () => {
    if (!rootfs) throw new Error('busybox-static is not installed');
    const secret = join(scratch(), 'secret');
    writeFileSync(secret, 'host only');
    const r = tsvisor(['do', '--root', rootfs, '--', '/bin/cat', secret]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/No such file or directory/);
    const viaProc = tsvisor(['do', '--root', rootfs, '--', '/bin/cat', `/proc/1/root${secret}`]);
    expect(viaProc.stdout).not.toContain('host only');
  });

  it('never follows a symlink swapped in a race to a host file', () => {
    if (!rootfs) throw new Error('busybox-static is not installed');
    const race = program('race', ['-static']);
    const host = scratch();
    const canary = join(host, 'canary');
    writeFileSync(canary, 'HOST CANARY');
    const root = scratch('tsvisor-raceroot-');
    mkdirSync(join(root, 'tmp'));
    writeFileSync(join(root, 'tmp', 'inside'), 'inside');
    // The outside target is the canary's host path, absolute and through `..` chains.
    const r = tsvisor(['do', '--root', root, '--mount', `${race}:/race:ro`, '--', '/race', '/tmp/link', '/tmp/inside', `/../../..${canary}`, '3000']);
    expect(r.stderr).not.toContain('HOST CANARY');
    expect(r.stdout).toMatch(/^inside=1 other=0 failed=1\n$/);
    rmSync(host, { recursive: true });
    rmSync(root, { recursive: true });
  });

  it('keeps writes to / and /tmp away from the host', () => {
    const canary = `tsvisor-canary-${process.pid}-${Date.now()}`;
    const r = tsvisor(['do', '--', '/bin/sh', '-c', `echo x > /tmp/${canary} && echo x > /${canary} && cat /tmp/${canary}`]);
    expect(r.stdout).toBe('x\n');
    expect(existsSync(`/tmp/${canary}`)).toBe(false);
    expect(existsSync(`/${canary}`)).toBe(false);
  });

  it('cannot change the host\'s device nodes that /dev binds, yet reads and writes them', () => {
    const devices = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
    const meta = (): string[] => devices.map((d) => {
      const st = statSync(`/dev/${d}`);
      return `${d} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
    });
    const before = meta();
    // Root inside holds CAP_CHOWN and CAP_FOWNER: only the read-only binds stop it. The
    // mode and owner asked are the nodes' own, so that a regression harms no host.
    const tries = devices.filter((d) => d !== 'tty').flatMap((d) => [`chmod 666 /dev/${d}`, `chown 0:0 /dev/${d}`, `touch /dev/${d}`]);
    const script = `${tries.map((t) => `${t} 2>&1 | sed "s/.*: //"`).join('; ')}; echo data > /dev/null && head -c 2 /dev/zero | od -An -tx1`;
    const r = tsvisor(['do', '--', 'sh', '-c', script]);
    expect(r.stdout).toBe(`${'Read-only file system\n'.repeat(tries.length)} 00 00\n`);
    expect(meta()).toEqual(before);
  });

  it('has no say over a host file handed to it as stdin: mode, owner, times, content stay', () => {
    const dir = scratch();
    const canary = join(dir, 'canary');
    writeFileSync(canary, 'secret\n');
    chmodSync(canary, 0o640);
    const before = statSync(canary);
    // Root inside holds CAP_FOWNER, CAP_CHOWN and CAP_DAC_OVERRIDE; the file is the host's.
    const script = [
      'chmod 777 /proc/self/fd/0', 'chown 1:1 /proc/self/fd/0', 'python3 -c "import os; os.fchmod(0, 0o777)"',
      'python3 -c "import os; os.utime(0)"', 'python3 -c "import os; os.setxattr(0, \'user.pwn\', b\'1\')"',
      'echo pwned > /proc/self/fd/0', 'truncate -s 0 /proc/self/fd/0',
    ].map((t) => `${t} 2>/dev/null || echo refused`).join('; ');
    const stdin = openSync(canary, 'r');
    try {
      const r = spawnSync(process.execPath, [tsvisorBin, 'do', '--', 'sh', '-c', `${script}; cat`], { stdio: [stdin, 'pipe', 'pipe'], encoding: 'utf8' });
      expect(r.stdout).toBe(`${'refused\n'.repeat(7)}secret\n`);
    } finally {
      closeSync(stdin);
    }
    const after = statSync(canary);
    expect([after.mode, after.uid, after.gid, after.mtimeMs, after.size]).toEqual([before.mode, before.uid, before.gid, before.mtimeMs, before.size]);
    expect(readFileSync(canary, 'utf8')).toBe('secret\n');
    expect(native(['python3', '-c', `import os; print(os.listxattr('${canary}'))`]).stdout).toBe('[]\n');
    // Nor does its CAP_SETFCAP give a host binary in a mounted directory file capabilities.
    copyFileSync('/bin/true', join(dir, 'prog'));
    const setcap = `import os; fd = os.open('${dir}/prog', os.O_RDONLY); os.setxattr(fd, 'security.capability', bytes.fromhex('0100000280000000000000000000000000000000'))`;
    const fcap = tsvisor(['do', '--mount', `${dir}:${dir}`, '--', 'python3', '-c', setcap]);
    expect(fcap.stderr).toMatch(/PermissionError: \[Errno 1\]/);
    expect(native(['python3', '-c', `import os; print(os.listxattr('${dir}/prog'))`]).stdout).toBe('[]\n');
  });

  describe('host unix sockets', () => {
    let server: Server;
    let dir: string;
    beforeAll(async () => {
      dir = scratch();
      server = createServer((s) => s.end('leaked\n'));
      await new Promise<void>((done) => server.listen(join(dir, 'host.sock'), done));
    });
    afterAll(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('cannot be connected to unless mounted in', () => {
      const sock = join(dir, 'host.sock');
      const denied = tsvisor(['do', '--', probe, 'connect', sock]);
      expect(denied.stdout).toBe(`connect ${sock}: ECONNREFUSED\n`);
      const allowed = tsvisor(['do', '--mount', `${dir}:/mnt`, '--', probe, 'connect', '/mnt/host.sock']);
      expect(allowed.stdout).toBe('connect /mnt/host.sock: ok\n');
    });
  });

  it('answers denied syscalls with their errno', () => {
    const r = tsvisor([
      'do', '--', probeStatic, 'denied', 'io_uring_setup', ',', 'denied', 'bpf', ',', 'denied', 'ptrace', ',',
      'denied', 'open_by_handle_at', ',', 'denied', 'x32', ',', 'denied', 'unshare', ',', 'denied', 'kexec_load',
    ]);
    expect(r.stdout).toBe(
      [
        'denied io_uring_setup: ENOSYS', 'denied bpf: EPERM', 'denied ptrace: EPERM',
        'denied open_by_handle_at: EPERM', 'denied x32: ENOSYS', 'denied unshare: EPERM',
        'denied kexec_load: EPERM', '',
      ].join('\n'),
    );
  });

  it('serves /proc from the sandbox only', () => {
    const r = tsvisor(['do', '--', '/bin/sh', '-c', 'ls /proc; cat /proc/sys/kernel/hostname']);
    const pids = r.stdout.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    // Only the sandbox's own tasks (init, sh, ls): small virtual pids, no host process.
    expect(pids.slice(0, 2)).toEqual([1, 2]);
    expect(Math.max(...pids)).toBeLessThan(10);
    expect(r.stdout.endsWith('tsvisor\n')).toBe(true);
    const kcore = tsvisor(['do', '--', probe, 'open', '/proc/kcore', 'r', ',', 'open', '/proc/sys/kernel/core_pattern', 'w', ',', 'open', '/proc/self/status', 'r']);
    expect(kcore.stdout).toBe('open /proc/kcore r: ENOENT\nopen /proc/sys/kernel/core_pattern w: EROFS\nopen /proc/self/status r: ok\n');
    // What monitoring libraries read (psutil: vmstat, diskstats) is there, as natively.
    const stats = ['vmstat', 'diskstats', 'cmdline', 'cgroups', 'interrupts', 'self/smaps_rollup', 'self/uid_map', 'self/timers', 'self/oom_adj', 'self/projid_map'];
    const readable = tsvisor(['do', '--', '/bin/sh', '-c', `for f in ${stats.join(' ')}; do head -c1 /proc/$f >/dev/null && echo $f; done`]);
    expect(readable.stdout).toBe(stats.map((f) => `${f}\n`).join(''));
    // Global sysctls read as natively; those of the network and IPC namespaces are the
    // sandbox's own (the launcher sets ip_unprivileged_port_start to 0 in its network, a
    // fresh IPC namespace has the defaults); ns_last_pid (the pid namespace's) is masked.
    const global = ['/proc/sys/fs/inotify/max_user_watches', '/proc/sys/fs/lease-break-time', '/proc/sys/kernel/tainted', '/proc/sys/vm/swappiness'];
    const ipc = ['/proc/sys/kernel/shmmni', '/proc/sys/fs/mqueue/msg_max'];
    const fresh = native(['unshare', '--ipc', 'cat', ...ipc]).stdout;
    const sysctl = tsvisor(['do', '--', '/bin/sh', '-c', `cat ${global.join(' ')} ${ipc.join(' ')} /proc/sys/net/ipv4/ip_unprivileged_port_start; ls /proc/sys/net/ipv4/conf; cat /proc/sys/kernel/ns_last_pid; test -r /proc/sys/net/ipv4/ip_forward && test -r ${ipc[0]} && echo access; echo 1 > /proc/sys/net/ipv4/ip_forward`]);
    expect(sysctl.stdout).toBe(`${global.map((f) => readFileSync(f, 'utf8')).join('')}${fresh}0\nall\ndefault\nlo\naccess\n`);
    expect(sysctl.stderr).toMatch(/Read-only file system/);
    // What the sandbox does not see is masked, as Docker masks kcore and its like: empty,
    // so that everything a listing shows can be looked at.
    const listed = tsvisor(['do', '--', '/bin/sh', '-c', 'ls -l /proc /proc/sys/kernel >/dev/null && find /proc/sys /proc/sysvipc >/dev/null && echo listed; wc -c < /proc/kallsyms']);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toBe('listed\n0\n');
    // A task's directory lists what the kernel has, and each entry can be looked at, as
    // natively; those the allow-list keeps closed (mem, stack, syscall) read as empty.
    const perTask = tsvisor(['do', '--', '/bin/sh', '-c', 'wc -c < /proc/self/mem; wc -c < /proc/self/stack; wc -c < /proc/self/syscall; head -c5 /proc/self/status']);
    expect(perTask.stdout).toBe('0\n0\n0\nName:');
    const own = tsvisor(['do', '--', '/bin/sh', '-c', 'ls -l /proc/self/ >/dev/null && echo looked; ls /proc/self | wc -l']);
    expect(own.stderr).toBe('');
    expect(own.stdout).toBe(`looked\n${native(['/bin/sh', '-c', 'ls /proc/self | wc -l']).stdout}`);
  });

  it('lets a task read another task\'s memory map, environment and file links only as Linux does', () => {
    // Root's sleep, read by nobody: refused natively (PTRACE_MODE_READ), though the
    // sentry that opens for it holds CAP_SYS_PTRACE; its own are readable.
    const script = 'sleep 5 & p=$!; setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "head -c1 /proc/$p/maps; readlink /proc/$p/cwd; head -c1 /proc/$p/environ; ls /proc/$p/fd; head -c8 /proc/self/maps; echo; readlink /proc/self/cwd" 2>&1; kill $p';
    const tidy = (out: string): string => out.replace(/\/proc\/\d+/g, '/proc/N').replace(/^[0-9a-f]{8}$/m, 'ADDRESS');
    const nat = native(['/bin/sh', '-c', script], { cwd: '/tmp' });
    expect(tidy(nat.stdout)).toMatch(/maps' for reading: Permission denied/);
    const r = tsvisor(['do', '--', '/bin/sh', '-c', script], { cwd: '/tmp' });
    expect(tidy(r.stdout)).toBe(tidy(nat.stdout));
  });

  it('leaves nothing running after the sandbox ends', () => {
    const marker = `${300 + (process.pid % 600)}.${Date.now() % 1000}`;
    const r = tsvisor(['do', '--', '/bin/sh', '-c', `sleep ${marker} & sleep ${marker} & echo started`]);
    expect(r.stdout).toBe('started\n');
    const left = native(['pgrep', '-f', `sleep ${marker}`]);
    expect(left.stdout).toBe('');
  });

  it('stops the whole sandbox on SIGTERM', async () => {
    const child = spawn(process.execPath, [tsvisorBin, 'do', '--', '/bin/sh', '-c', 'echo up; sleep 1000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((ready) => child.stdout.once('data', () => ready()));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code).not.toBe(0);
    expect(native(['pgrep', '-f', 'sleep 1000']).stdout).toBe('');
  });
});

describe('tsvisor do input errors', () => {
  it('reports a missing program with 127', () => {
    const r = tsvisor(['do', '--', '/no/such/program']);
    expect(r.status).toBe(127);
    // Once: the launcher's stderr is the program's, and the sentry says it.
    expect(r.stderr).toBe('tsvisor: exec `/no/such/program`: No such file or directory\n');
  });

  it('reports a non-executable program with 126', () => {
    const r = tsvisor(['do', '--', '/etc/passwd']);
    expect(r.status).toBe(126);
    expect(r.stderr).toBe('tsvisor: exec `/etc/passwd`: Permission denied\n');
  });

  it('rejects unknown flags, bad --root, bad --mount and a relative --cwd with a usage error', () => {
    const unknown = tsvisor(['do', '--frobnicate', '--', '/bin/true']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const noRoot = tsvisor(['do', '--root', '/no/such/dir', '--', '/bin/true']);
    expect(noRoot.status).toBe(2);
    expect(noRoot.stderr).toBe('tsvisor: --root `/no/such/dir`: no such directory\n');
    const fileRoot = tsvisor(['do', '--root', '/etc/passwd', '--', '/bin/true']);
    expect(fileRoot.stderr).toBe('tsvisor: --root `/etc/passwd`: not a directory\n');
    const badMount = tsvisor(['do', '--mount', 'nocolon', '--', '/bin/true']);
    expect(badMount.status).toBe(2);
    expect(badMount.stderr).toMatch(/--mount `nocolon`: expected SRC:DST/);
    const missing = tsvisor(['do']);
    expect(missing.status).toBe(2);
    const relativeCwd = tsvisor(['do', '--cwd', 'sub', '--', '/bin/true']);
    expect(relativeCwd.status).toBe(2);
    expect(relativeCwd.stderr).toBe('tsvisor: --cwd `sub`: must be absolute\n');
  });
});

describe('tsvisor do --strace', () => {
  it('prints trapped calls with decoded arguments and results', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'sub'));
    const log = join(dir, 'strace.log');
    const r = tsvisor(['do', '--strace-log', log, '--', probe, 'stat', '/etc/passwd', ',', 'open', '/nonexistent', 'r']);
    expect(r.status).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text).toMatch(/\] newfstatat\(AT_FDCWD, "\/etc\/passwd", 0x[0-9a-f]+, 0\) = 0$/m);
    expect(text).toMatch(/\] openat\(AT_FDCWD, "\/nonexistent", 0, 0\) = -1 ENOENT$/m);
    expect(text).toMatch(/\] execve\(".*probe", /m);
  });
});
