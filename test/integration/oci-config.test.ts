// OCI config fields the launcher honours inside a real container: linux.maskedPaths,
// linux.readonlyPaths (resolved inside the root, whatever symlinks the image holds),
// process.oomScoreAdj, and the mqueue filesystem at /dev/mqueue.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native, program, scratch, tsvisor, tsvisorBin } from '../helpers.js';
import { OciHarness, type Result } from '../oci-harness.js';

const h = new OciHarness();
let rootfs: string;
const bundles = h.made;

beforeAll(() => {
  ({ rootfs } = h.setUp('tsvisor-oci-config-root-'));
  // A directory to mask and one to make read-only, both with content.
  mkdirSync(join(rootfs, 'hidden'));
  writeFileSync(join(rootfs, 'hidden', 'secret'), 'secret\n');
  mkdirSync(join(rootfs, 'ro'));
  writeFileSync(join(rootfs, 'etc', 'marker'), 'marker\n');
  // Symlinks to absolute host paths: resolved inside the root, they name the container's
  // /etc and /tmp, and a /usr/lib the busybox root does not have.
  symlinkSync('/etc', join(rootfs, 'masklink'));
  symlinkSync('/tmp', join(rootfs, 'rolink'));
  symlinkSync('/usr/lib', join(rootfs, 'gone'));
});
afterAll(() => h.tearDown());
const oci = h.oci.bind(h);

/** Runs SCRIPT in a container from bundleFor. */
function run(id: string, script: string, edit: (spec: any) => void): Result {
  return oci(['run', '--bundle', bundleFor(['sh', '-c', script], edit), id]);
}

/** A bundle from `tsvisor spec` running ARGS (writable root), adjusted by EDIT. */
function bundleFor(args: string[], edit: (spec: any) => void): string {
  const dir = scratch('tsvisor-bundle-');
  bundles.push(dir);
  const r = spawnSync(process.execPath, [tsvisorBin, 'spec', '--bundle', dir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  spec.root = { path: rootfs, readonly: false };
  spec.process.terminal = false;
  spec.process.args = args;
  edit(spec);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

/** Whether this process may lower its oom_score_adj (CAP_SYS_RESOURCE, bit 24). */
function hasSysResource(): boolean {
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  return ((BigInt(`0x${bnd}`) >> 24n) & 1n) === 1n;
}

describe('OCI config', () => {
  // The sandbox's /proc is a procfs of the same kernel: what the host's shows exists there.
  const maskedFile = ['/proc/kcore', '/proc/keys', '/proc/timer_list'].find((p) => existsSync(p))!;
  const maskedDir = existsSync('/proc/acpi') ? '/proc/acpi' : '/hidden';

  it('masks paths, makes paths read-only, sets oom_score_adj and mounts /dev/mqueue', () => {
    const r = run('config', [
      `cat ${maskedFile}; echo "file $?"`,
      `ls -A ${maskedDir}; echo "dir $?"`,
      'ls -A /hidden; echo "hidden $?"',
      'touch /ro/x 2>&1; echo "ro $?"',
      'touch /tmp/x && echo "tmp writable"',
      'cat /proc/self/oom_score_adj',
      'ls -A /dev/mqueue; echo "mqueue $?"',
      'grep "^mqueue /dev/mqueue " /proc/mounts',
    ].join('; '), (s) => {
      s.process.oomScoreAdj = 500;
      // Docker's defaults are kept: those missing from this kernel's /proc are skipped.
      s.linux.maskedPaths.push(maskedFile, maskedDir, '/hidden', '/no/such/path');
      s.linux.readonlyPaths.push('/ro', '/no/such/dir');
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    // Empty file and directories: /dev/null and empty tmpfs on top.
    expect(lines.slice(0, 5)).toEqual(['file 0', 'dir 0', 'hidden 0', 'touch: /ro/x: Read-only file system', 'ro 1']);
    expect(lines.slice(5, 8)).toEqual(['tmp writable', '500', 'mqueue 0']);
    expect(lines[8]).toMatch(/^mqueue \/dev\/mqueue mqueue rw,nosuid,nodev,noexec\b/);
    // The masks and the read-only bind were the container's own: the rootfs is untouched.
    expect(readFileSync(join(rootfs, 'hidden', 'secret'), 'utf8')).toBe('secret\n');
    writeFileSync(join(rootfs, 'ro', 'host-write'), '');
  });

  it('resolves symlinks in the image inside the root', () => {
    const r = run('symlinks', 'ls -A /etc; echo "etc $?"; touch /tmp/x 2>&1; echo "tmp $?"', (s) => {
      s.linux.maskedPaths = ['/masklink', '/gone'];
      s.linux.readonlyPaths = ['/rolink'];
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // /masklink -> /etc masked the container's /etc (its marker hidden), /rolink -> /tmp made
    // the container's /tmp read-only, /gone -> /usr/lib (not in the image) was skipped.
    expect(r.stdout).toBe('etc 0\ntouch: /tmp/x: Read-only file system\ntmp 1\n');
    // Neither the host's /etc nor the image's was touched.
    expect(existsSync('/etc/passwd')).toBe(true);
    expect(readFileSync(join(rootfs, 'etc', 'marker'), 'utf8')).toBe('marker\n');
  });

  it('opens no device node the image holds (runc has the devices cgroup, tsvisor nodev mounts)', () => {
    // A node of the host's /dev/full (1:7) in the image: open, it would fail writes with ENOSPC.
    expect(native(['mknod', join(rootfs, 'full'), 'c', '1', '7']).status).toBe(0);
    const r = run('devnode', 'echo x > /full; echo "rc $?"; echo x > /dev/full; echo "rc $?"', () => undefined);
    expect(r.stdout).toBe('rc 1\nrc 1\n');
    expect(r.stderr).toMatch(/can't create \/full: Permission denied\n.*write error: No space left on device/s);
  });

  it('makes linux.devices in /dev: /dev\'s own devices work, other nodes exist but open nothing', () => {
    const devices = [
      { path: '/dev/test1', type: 'c', major: 10, minor: 666, fileMode: 0o432, uid: 0, gid: 0 },
      { path: '/dev/disk/test2', type: 'b', major: 8, minor: 666, fileMode: 0o640, uid: 1000, gid: 1001 },
      { path: '/dev/test3', type: 'p', fileMode: 0o600 },
      { path: '/dev/mynull', type: 'c', major: 1, minor: 3 },
      { path: '/dev/net/tun', type: 'c', major: 10, minor: 200 },
    ];
    const script = [
      'stat -c "%n %A %t:%T %u:%g" /dev/test1 /dev/disk/test2 /dev/test3 /dev/mynull /dev/net/tun',
      'echo x > /dev/mynull && echo "null works"',
      'cat /dev/net/tun 2>&1; cat /dev/disk/test2 2>&1',
      '(echo through > /dev/test3 &) ; cat /dev/test3',
    ].join('; ');
    const r = run('devices', script, (spec) => (spec.linux.devices = devices));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      '/dev/test1 cr---wx-w- a:29a 0:0',
      '/dev/disk/test2 brw-r----- 8:29a 1000:1001',
      '/dev/test3 prw------- 0:0 0:0',
      // Bound from the host: its mode and owner are the host's /dev/null's.
      `/dev/mynull ${native(['stat', '-c', '%A %t:%T %u:%g', '/dev/null']).stdout.trim()}`,
      '/dev/net/tun crw-rw-rw- a:c8 0:0',
      'null works',
      "cat: can't open '/dev/net/tun': Permission denied",
      "cat: can't open '/dev/disk/test2': Permission denied",
      'through',
      '',
    ].join('\n'));
    const outside = run('devices-out', 'true', (spec) => (spec.linux.devices = [{ path: '/etc/evil', type: 'c', major: 1, minor: 3 }]));
    expect(outside.status).not.toBe(0);
    expect(outside.stderr).toMatch(/`linux.devices`: `\/etc\/evil` is not a path beneath \/dev/);
  });

  it('refuses an oomScoreAdj below the current one without CAP_SYS_RESOURCE', () => {
    const r = run('oom-low', 'cat /proc/self/oom_score_adj', (s) => (s.process.oomScoreAdj = -500));
    if (hasSysResource()) {
      expect(r.stdout).toBe('-500\n');
      return;
    }
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/oom_score_adj `-500`: below the current value -?\d+, and going lower needs CAP_SYS_RESOURCE/);
  });
});

describe('POSIX message queues', () => {
  it('mq_open, mq_send, mq_receive and mq_unlink work under `tsvisor do` as natively', () => {
    const prog = program('mqueue');
    const nat = native([prog]);
    expect(nat.status, nat.stderr).toBe(0);
    const r = tsvisor(['do', '--', prog]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(nat.stdout);
  });
});

/** Creates container ID running ARGS (EDIT adjusts its spec) with a pid file: its pid. */
function createPod(id: string, args: string[], edit: (spec: any) => void = () => undefined): number {
  const dir = bundleFor(args, edit);
  const pidFile = join(dir, 'pid');
  expect(oci(['create', '--bundle', dir, '--pid-file', pidFile, id]).status).toBe(0);
  return Number(readFileSync(pidFile, 'utf8'));
}

describe('OCI namespaces shared by path', () => {
  it('joins the network, IPC and UTS namespaces of another container, as a pod\'s containers do', () => {
    // The "sandbox" container; with --pid-file its launcher, whose pid that is, lives in
    // its namespaces, as containerd's shim reports it.
    const pid = createPod('pod', ['sleep', '60'], (s) => (s.hostname = 'pod-host'));
    try {
      const ns = (kind: string): string => `/proc/${pid}/ns/${kind}`;
      const r = run('member', 'for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname', (s) => {
        s.hostname = 'ignored';
        s.linux.namespaces = s.linux.namespaces.map((n: any) =>
          n.type === 'network' ? { type: 'network', path: ns('net') } : n.type === 'ipc' ? { type: 'ipc', path: ns('ipc') } : n.type === 'uts' ? { type: 'uts', path: ns('uts') } : n,
        );
      });
      expect(r.stderr).toBe('');
      const expected = ['net', 'ipc', 'uts'].map((k) => spawnSync('readlink', [ns(k)], { encoding: 'utf8' }).stdout).join('');
      expect(r.stdout).toBe(`${expected}pod-host\n`);
    } finally {
      oci(['delete', '--force', 'pod']);
    }
  });
});

describe('OCI pid namespace shared by path', () => {
  it('joins another container\'s pid namespace (Docker\'s --pid container:X): sees and signals its processes', () => {
    // Its pid 1 takes only the signals it has a handler for from its namespace's members.
    const pid = createPod('pidpod', ['sh', '-c', 'trap "exit 7" TERM; while true; do sleep 1; done']);
    try {
      expect(oci(['start', 'pidpod']).status).toBe(0);
      // The launcher's own pid namespace is the host's: the path Docker gives names it.
      const theirs = spawnSync('readlink', [`/proc/${pid}/ns/pid_for_children`], { encoding: 'utf8' }).stdout;
      const script = [
        'readlink /proc/self/ns/pid',
        'echo self=$$',
        'tr "\\0" " " < /proc/1/cmdline; echo',
        'kill -TERM 1 && echo signalled',
      ].join('; ');
      const r = run('pidmember', script, (s) => s.linux.namespaces = s.linux.namespaces.map((n: any) =>
        n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
      expect(r.stderr, r.stdout).toBe('');
      const lines = r.stdout.split('\n');
      expect(lines[0] + '\n').toBe(theirs);
      expect(Number(lines[1]!.slice('self='.length))).toBeGreaterThan(1);
      expect(lines[2]).toMatch(/^sh -c trap/);
      expect(lines[3], r.stdout).toBe('signalled');
      // The other container's pid 1 took the signal and ended.
      let state = '';
      for (let i = 0; i < 50 && state !== 'stopped'; i++) {
        state = JSON.parse(oci(['state', 'pidpod']).stdout).status;
        if (state !== 'stopped') spawnSync('sleep', ['0.1']);
      }
      expect(state).toBe('stopped');
    } finally {
      oci(['delete', '--force', 'pidpod']);
    }
  });

  it('refuses the host\'s pid namespace', () => {
    const path = `/proc/${process.pid}/ns/pid`;
    const r = run('pidhost', 'true', (s) => s.linux.namespaces = s.linux.namespaces.map((n: any) =>
      n.type === 'pid' ? { type: 'pid', path } : n));
    expect(r.stderr).toContain(`\`${path}\` is the host's pid namespace`);
    expect(r.status).not.toBe(0);
  });
});

describe('OCI sysctls', () => {
  it('sets the namespaced linux.sysctl in the container\'s own namespaces, and refuses the others', () => {
    // The proof is behaviour (a queue of 4 messages is over fs.mqueue.msg_max = 2, for a
    // task without CAP_SYS_RESOURCE) and the values read back inside.
    const mq = program('mqueue', ['-static']);
    const withMount = (s: any): void => {
      s.mounts.push({ destination: '/mq', type: 'bind', source: mq, options: ['rbind', 'ro'] });
    };
    const before = readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8');
    const plain = run('mq-default', '/mq 2>&1 | head -1', withMount);
    expect(plain.stdout).not.toMatch(/mq_open/);
    const limited = run('mq-sysctl', '/mq 2>&1 | head -1', (s) => {
      withMount(s);
      s.linux.sysctl = { 'fs.mqueue.msg_max': '2', 'kernel.shmmni': '1234', 'net.ipv4.ip_unprivileged_port_start': '2000' };
    });
    expect(limited.stderr).toBe('');
    expect(limited.stdout).toBe('mq_open: Invalid argument\n');
    // And read back, as the container's own namespaces hold them.
    const readBack = run('sysctl-read', 'cat /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_unprivileged_port_start', (s) => {
      s.linux.sysctl = { 'fs.mqueue.msg_max': '2', 'kernel.shmmni': '1234', 'net.ipv4.ip_unprivileged_port_start': '2000' };
    });
    expect(readBack.stdout).toBe('2\n1234\n2000\n');
    expect(readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8')).toBe(before);
    const host = run('hostwide', 'true', (s) => (s.linux.sysctl = { 'kernel.pid_max': '4096' }));
    expect(host.status).not.toBe(0);
    expect(host.stderr).toMatch(/kernel.pid_max` is not a sysctl of the container's own namespaces/);
  });
});
