// The addon against the real kernel: every export of src/native.ts, exercised through
// sockets, memfds, child processes (test/programs/*.c, compiled here with gcc) and a real
// seccomp listener. Runs as root (pidfd_getfd, fchownat and setThreadCreds need it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { constants as os } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDir, native } from '../../src/native.js';

const n = native();
const E = os.errno;
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_DIRECTORY, O_NONBLOCK, S_IFMT, S_IFREG, S_IFIFO } = fs.constants;
const O_CLOEXEC = 0o2000000; // not in fs.constants
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_EACCESS = 0x200;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_BENEATH = 0x08;
const RESOLVE_IN_ROOT = 0x10;
const STATX_BASIC_STATS = 0x7ff;
const UTIME_OMIT = (1 << 30) - 2;
const MFD_CLOEXEC = 1;
const SYS_getppid = 110;
const AUDIT_ARCH_X86_64 = 0xc000003e;

const programs = join(import.meta.dirname, '..', 'programs');
let work: string;
const bins: Record<string, string> = {};

beforeAll(() => {
  work = fs.mkdtempSync(join(tmpdir(), 'tsvisor-native-'));
  for (const name of ['mem_child', 'notify_child']) {
    bins[name] = join(work, name);
    execFileSync('gcc', ['-O1', '-Wall', '-Wextra', '-o', bins[name], join(programs, `${name}.c`)]);
  }
}, 60_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** Resolves at the next readiness of fd (a one-shot watcher). */
function readable(fd: number): Promise<void> {
  return new Promise((resolve) => {
    const w = n.watchReadable(fd, () => {
      w.stop();
      resolve();
    });
    expect(typeof w).toBe('object');
  });
}

/** Line-by-line reader of a child's stdout. */
function lines(child: ChildProcess): () => Promise<string> {
  const queue: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else queue.push(line);
    }
  });
  return () =>
    queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => (waiting = resolve));
}

function fdFlags(fd: number): number {
  const m = /flags:\s+([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return parseInt(m![1], 8);
}

function statusField(status: string, field: string): string {
  return new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(status)![1];
}

describe('usage errors', () => {
  it('throws TypeError with a usage string on wrong arity or types', () => {
    const loose = n as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => loose.readMem(1)).toThrow(TypeError);
    expect(() => loose.readMem(1)).toThrow('Usage: native.readMem(pid, addr, dst, len)');
    expect(() => loose.close('3')).toThrow('Usage: native.close(fd)');
    expect(() => loose.socketpair(1)).toThrow('Usage: native.socketpair()');
    expect(() => loose.notifIdValid(3, 1)).toThrow(TypeError);
    expect(() => n.notifIdValid(3, -1n)).toThrow('Usage: native.notifIdValid(listener, id)');
    expect(() => n.notifRespond(3, 2n ** 64n, 0, 0, 0)).toThrow(TypeError);
    expect(() => loose.sendMsg(3, Buffer.alloc(1), ['x'])).toThrow(TypeError);
    expect(() => n.readMem(process.pid, 0, Buffer.alloc(4), 5)).toThrow(TypeError);
    expect(() => n.notifRecv(3, Buffer.alloc(79))).toThrow(TypeError);
    expect(() => n.fstatat(AT_FDCWD, '/', 0, Buffer.alloc(100))).toThrow(TypeError);
    expect(() => n.utimensat(AT_FDCWD, '/', [1, 2], 0)).toThrow(TypeError);
    expect(() => loose.watchReadable(0, 'cb')).toThrow('Usage: native.watchReadable(fd, cb)');
  });

  it('answers errors as -errno, never exceptions', () => {
    expect(n.close(-1)).toBe(-E.EBADF);
    expect(n.openat2(AT_FDCWD, '/nonexistent/x', O_RDONLY, 0, 0)).toBe(-E.ENOENT);
    expect(n.openat2(AT_FDCWD, 'a\0b', O_RDONLY, 0, 0)).toBe(-E.EINVAL);
    expect(n.readString(process.pid, 0, 10)).toBe(-E.EFAULT);
  });
});

describe('fds and messages', () => {
  it('socketpair, setCloexec and close', () => {
    const [a, b] = n.socketpair();
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(fdFlags(a) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(n.setCloexec(a, false)).toBe(0);
    expect(fdFlags(a) & O_CLOEXEC).toBe(0);
    expect(n.setCloexec(a, true)).toBe(0);
    expect(fdFlags(a) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(n.close(a)).toBe(0);
    expect(n.close(a)).toBe(-E.EBADF);
    expect(n.setCloexec(a, true)).toBe(-E.EBADF);
    expect(n.close(b)).toBe(0);
  });

  it('sendMsg passes a working fd that recvMsg returns close-on-exec', () => {
    const [a, b] = n.socketpair();
    const mfd = n.memfdCreate('passed', MFD_CLOEXEC);
    expect(mfd).toBeGreaterThanOrEqual(0);
    expect(n.write(mfd, Buffer.from('payload of the passed fd'))).toBe(24);

    expect(n.recvMsg(b, Buffer.alloc(64))).toBe(-E.EAGAIN);
    expect(n.sendMsg(a, Buffer.from('hello'), [mfd])).toBe(5);
    const buf = Buffer.alloc(64);
    const got = n.recvMsg(b, buf);
    if (typeof got === 'number') throw new Error(`recvMsg: ${got}`);
    expect(got.n).toBe(5);
    expect(buf.subarray(0, 5).toString()).toBe('hello');
    expect(got.fds).toHaveLength(1);
    const fd = got.fds[0];
    expect(fd).not.toBe(mfd);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    const back = Buffer.alloc(64);
    const len = fs.readSync(fd, back, 0, 64, 0);
    expect(back.subarray(0, len).toString()).toBe('payload of the passed fd');

    // Without fds; message boundaries kept (SEQPACKET).
    expect(n.sendMsg(a, Buffer.from('one'), [])).toBe(3);
    expect(n.sendMsg(a, Buffer.from('two'), [])).toBe(3);
    expect(n.recvMsg(b, buf)).toEqual({ n: 3, fds: [] });
    expect(buf.subarray(0, 3).toString()).toBe('one');
    expect(n.recvMsg(b, buf)).toEqual({ n: 3, fds: [] });

    // More than 8 fds: the first 8 arrive, the kernel drops the rest.
    expect(n.sendMsg(a, Buffer.from('x'), Array(10).fill(mfd))).toBe(1);
    const many = n.recvMsg(b, buf);
    if (typeof many === 'number') throw new Error(`recvMsg: ${many}`);
    expect(many.fds).toHaveLength(8);
    for (const f of many.fds) expect(n.close(f)).toBe(0);

    expect(n.sendMsg(a, Buffer.from('x'), [-1])).toBe(-E.EBADF);
    for (const f of [fd, mfd, a]) n.close(f);
    expect(n.recvMsg(b, buf)).toEqual({ n: 0, fds: [] }); // peer closed
    expect(n.sendMsg(b, Buffer.from('x'), [])).toBe(-E.EPIPE);
    n.close(b);
  });

  it('write writes the whole buffer', () => {
    const fd = n.memfdCreate('big', MFD_CLOEXEC);
    const data = Buffer.alloc(1 << 20, 7);
    expect(n.write(fd, data)).toBe(data.length);
    expect(fs.fstatSync(fd).size).toBe(data.length);
    n.close(fd);
    expect(n.write(fd, data)).toBe(-E.EBADF);
  });

  it('memfdSnapshot gives a sealed, read-only fd with the content', () => {
    const fd = n.memfdSnapshot('snap', Buffer.from('snapshot data'));
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(fd) & 3).toBe(O_RDONLY);
    expect(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8')).toBe('snapshot data');
    const buf = Buffer.alloc(32);
    expect(buf.subarray(0, fs.readSync(fd, buf, 0, 32, 0)).toString()).toBe('snapshot data');
    expect(n.write(fd, Buffer.from('x'))).toBe(-E.EBADF);
    expect(n.ftruncate(fd, 0)).toBeLessThan(0);
    // Even a writable reopen cannot change it: the seals hold for every holder.
    const rw = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
    expect(() => fs.writeSync(rw, 'x', 0)).toThrow(/EPERM/);
    fs.closeSync(rw);
    expect(fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8')).toBe('snapshot data');
    n.close(fd);

    const empty = n.memfdSnapshot('empty', Buffer.alloc(0));
    expect(fs.fstatSync(empty).size).toBe(0);
    n.close(empty);
  });

  it('watchReadable fires on each readiness and stops cleanly (twice is fine)', async () => {
    const [a, b] = n.socketpair();
    let fired = 0;
    const buf = Buffer.alloc(16);
    let wake: () => void = () => {};
    const w = n.watchReadable(b, () => {
      fired++;
      n.recvMsg(b, buf);
      wake();
    });
    for (let i = 1; i <= 3; i++) {
      const seen = new Promise<void>((resolve) => (wake = resolve));
      n.sendMsg(a, Buffer.from('x'), []);
      await seen;
      expect(fired).toBe(i);
    }
    w.stop();
    w.stop();
    n.sendMsg(a, Buffer.from('x'), []);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fired).toBe(3);

    // A hang-up wakes the watcher too, so JS can read the EOF.
    const eof = readable(b);
    n.close(a);
    await eof;
    expect(n.recvMsg(b, buf)).toEqual({ n: 1, fds: [] });
    expect(n.recvMsg(b, buf)).toEqual({ n: 0, fds: [] });
    n.close(b);
  });

  it('openBlocking opens off the loop, and cancel() interrupts only its own open', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'tsvisor-native-fifo-'));
    const fifo = join(dir, 'f');
    execFileSync('mkfifo', [fifo]);
    const opened = (flags: number): { fd: Promise<number>; cancel: () => void } => {
      let done: (fd: number) => void = () => {};
      const fd = new Promise<number>((resolve) => (done = resolve));
      const handle = n.openBlocking(fifo, flags | O_CLOEXEC, done);
      return { fd, cancel: () => handle.cancel() };
    };
    // Two readers wait; cancelling one leaves the other waiting for a real writer.
    const first = opened(O_RDONLY);
    const second = opened(O_RDONLY);
    await new Promise((r) => setTimeout(r, 100));
    first.cancel();
    expect(await first.fd).toBe(-E.EINTR);
    const writer = fs.openSync(fifo, O_WRONLY);
    const fd = await second.fd;
    expect(fd).toBeGreaterThanOrEqual(0);
    n.close(fd);
    fs.closeSync(writer);
    // Cancelled before its turn, or after it opened: nothing is left blocked.
    const late = opened(O_RDWR);
    const got = await late.fd;
    late.cancel();
    expect(got).toBeGreaterThanOrEqual(0);
    n.close(got);
    expect(n.openBlocking(join(dir, 'missing'), O_RDONLY, () => {})).toHaveProperty('cancel');
    fs.rmSync(dir, { recursive: true });
  });

  it('watchReadable on a bad fd answers -errno', () => {
    expect(n.watchReadable(-1, () => {})).toBeLessThan(0);
  });

  it('works in worker threads and is torn down with them', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const n = require(workerData.addon);
      const [a, b] = n.socketpair();
      let told = false;
      const w = n.watchReadable(a, () => {
        if (!told) parentPort.postMessage('fired');
        told = true;
        if (workerData.stop) { n.recvMsg(a, Buffer.alloc(8)); w.stop(); n.close(a); n.close(b); }
      });
      n.sendMsg(b, Buffer.from('x'), []);
    `;
    const addon = join(buildDir(), 'tsvisor_native.node');
    // Terminated with the watcher running and its fd still readable (never drained): the
    // loop keeps firing while the env tears down, until the teardown hook closes it.
    const busy = new Worker(code, { eval: true, workerData: { addon, stop: false } });
    expect((await once(busy, 'message'))[0]).toBe('fired');
    await busy.terminate();
    // Stopped from its own callback, the worker's loop empties and it exits by itself.
    const done = new Worker(code, { eval: true, workerData: { addon, stop: true } });
    expect((await once(done, 'message'))[0]).toBe('fired');
    expect((await once(done, 'exit'))[0]).toBe(0);
  });
});

describe('tracee memory', () => {
  let child: ChildProcess;
  let next: () => Promise<string>;
  const at: Record<string, number> = {};

  beforeAll(async () => {
    child = spawn(bins.mem_child, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    next = lines(child);
    for (const kv of (await next()).split(' ')) {
      const [k, v] = kv.split('=');
      at[k] = Number(BigInt(v));
    }
  });

  afterAll(async () => {
    child.stdin!.end();
    if (child.exitCode === null) await once(child, 'exit');
  });

  it('readMem reads, short at an unmapped page, -EFAULT at a bad address', () => {
    const dst = Buffer.alloc(32);
    expect(n.readMem(child.pid!, at.greeting, dst, 16)).toBe(16);
    expect(dst.subarray(0, 16).toString()).toBe('hello from child');
    expect(n.readMem(child.pid!, at.unterminated, dst, 16)).toBe(8);
    expect(dst.subarray(0, 8).toString()).toBe('xxxxxxxx');
    expect(n.readMem(child.pid!, 0, dst, 8)).toBe(-E.EFAULT);
    expect(n.readMem(child.pid!, -1, dst, 8)).toBe(-E.EFAULT);
    expect(n.readMem(child.pid!, 2 ** 64, dst, 8)).toBe(-E.EFAULT);
    expect(n.readMem(child.pid!, at.greeting, dst, 0)).toBe(0);
  });

  it('readString stops at NUL, page by page, up to max', () => {
    const pid = child.pid!;
    expect(n.readString(pid, at.greeting, 4096)).toBe('hello from child');
    expect(n.readString(pid, at.greeting, 16)).toBe('hello from child');
    expect(n.readString(pid, at.greeting, 15)).toBe(-E.ENAMETOOLONG);
    expect(n.readString(pid, at.greeting + 16, 0)).toBe('');
    expect(n.readString(pid, at.cross, 4096)).toBe('across a page boundary');
    expect(n.readString(pid, at.edge, 4096)).toBe('edge');
    expect(n.readString(pid, at.edge, 4)).toBe('edge');
    expect(n.readString(pid, at.unterminated, 4096)).toBe(-E.EFAULT);
    expect(n.readString(pid, at.unterminated, 4)).toBe(-E.ENAMETOOLONG);
    expect(n.readString(pid, 0, 4096)).toBe(-E.EFAULT);
    expect(n.readString(pid, at.unterminated + 8, 4096)).toBe(-E.EFAULT);
  });

  it('writeMem writes into the tracee; a short write is -EFAULT', async () => {
    const pid = child.pid!;
    const src = Buffer.from('patched\0');
    expect(n.writeMem(pid, at.scratch, src, src.length)).toBe(src.length);
    child.stdin!.write('\n');
    expect(await next()).toBe('scratch=patched');
    const back = Buffer.alloc(8);
    expect(n.readMem(pid, at.scratch, back, 8)).toBe(8);
    expect(back.equals(src)).toBe(true);
    expect(n.writeMem(pid, at.unterminated, Buffer.alloc(16, 'y'), 16)).toBe(-E.EFAULT);
    expect(n.writeMem(pid, 0, src, 4)).toBe(-E.EFAULT);
  });

  it('answers -ESRCH for a process that is gone', async () => {
    const gone = spawn('true');
    await once(gone, 'exit');
    expect(n.readString(gone.pid!, at.greeting, 16)).toBe(-E.ESRCH);
    expect(n.readMem(gone.pid!, at.greeting, Buffer.alloc(4), 4)).toBe(-E.ESRCH);
  });
});

describe('host file operations', () => {
  let dir: string;
  let dirfd: number;
  const st = Buffer.alloc(144);
  const stx = Buffer.alloc(256);
  const stat = (name: string, flags = 0) => {
    expect(n.fstatat(dirfd, name, flags, st)).toBe(0);
    return {
      nlink: Number(st.readBigUInt64LE(16)),
      mode: st.readUInt32LE(24),
      uid: st.readUInt32LE(28),
      gid: st.readUInt32LE(32),
      size: Number(st.readBigInt64LE(48)),
    };
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(join(work, 'files-'));
    dirfd = n.openat2(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
    expect(dirfd).toBeGreaterThanOrEqual(0);
  });

  afterAll(() => {
    n.close(dirfd);
  });

  it('openat2 with RESOLVE_IN_ROOT keeps an absolute symlink inside the root', () => {
    expect(n.symlinkat('/etc/passwd', dirfd, 'escape')).toBe(0);
    const flags = O_RDONLY | O_CLOEXEC;
    expect(n.openat2(dirfd, 'escape', flags, 0, RESOLVE_IN_ROOT)).toBe(-E.ENOENT);
    expect(n.openat2(dirfd, 'escape', flags, 0, RESOLVE_BENEATH)).toBe(-E.EXDEV);
    expect(n.openat2(dirfd, '../x', flags, 0, RESOLVE_BENEATH)).toBe(-E.EXDEV);
    const outside = n.openat2(dirfd, 'escape', flags, 0, 0);
    expect(outside).toBeGreaterThanOrEqual(0); // without resolve flags it does escape
    n.close(outside);

    fs.mkdirSync(join(dir, 'etc'));
    fs.writeFileSync(join(dir, 'etc', 'passwd'), 'inside the root\n');
    const inside = n.openat2(dirfd, 'escape', flags, 0, RESOLVE_IN_ROOT);
    expect(inside).toBeGreaterThanOrEqual(0);
    expect(fs.readFileSync(`/proc/self/fd/${inside}`, 'utf8')).toBe('inside the root\n');
    n.close(inside);

    expect(n.openat2(AT_FDCWD, '/proc/self/exe', flags, 0, RESOLVE_NO_MAGICLINKS)).toBe(-E.ELOOP);
    expect(n.openat2(dirfd, 'x', O_RDONLY, 0o644, 0)).toBe(-E.EINVAL); // mode without O_CREAT
  });

  it('creates, stats, truncates and statfs a file', () => {
    expect(n.mkdirat(dirfd, 'sub', 0o755)).toBe(0);
    expect(n.mkdirat(dirfd, 'sub', 0o755)).toBe(-E.EEXIST);
    const fd = n.openat2(dirfd, 'sub/file', O_CREAT | O_RDWR | O_CLOEXEC, 0o644, RESOLVE_BENEATH);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(n.write(fd, Buffer.from('hello world'))).toBe(11);

    const s = stat('sub/file');
    expect(s.size).toBe(11);
    expect(s.mode & S_IFMT).toBe(S_IFREG);
    expect(stat('sub').mode & S_IFMT).toBe(fs.constants.S_IFDIR);

    expect(n.ftruncate(fd, 3)).toBe(0);
    expect(n.statx(dirfd, 'sub/file', 0, STATX_BASIC_STATS, stx)).toBe(0);
    expect(stx.readUInt32LE(0) & 0x200).toBe(0x200); // STATX_SIZE
    expect(Number(stx.readBigUInt64LE(40))).toBe(3);
    expect(stx.readUInt16LE(28) & S_IFMT).toBe(S_IFREG);
    expect(n.statx(dirfd, 'nope', 0, STATX_BASIC_STATS, stx)).toBe(-E.ENOENT);
    expect(n.ftruncate(fd, -1)).toBe(-E.EINVAL);

    const sfs = Buffer.alloc(120);
    expect(n.fstatfs(fd, sfs)).toBe(0);
    const host = fs.statfsSync(dir);
    expect(Number(sfs.readBigInt64LE(0))).toBe(host.type);
    expect(Number(sfs.readBigInt64LE(8))).toBe(host.bsize);
    expect(n.fstatfs(-1, sfs)).toBe(-E.EBADF);
    n.close(fd);
  });

  it('links, symlinks, renames and unlinks', () => {
    fs.writeFileSync(join(dir, 'f'), 'data');
    expect(n.symlinkat('f', dirfd, 'ln')).toBe(0);
    expect(n.readlinkat(dirfd, 'ln')).toBe('f');
    expect(n.readlinkat(dirfd, 'f')).toBe(-E.EINVAL);
    const long = 'd/'.repeat(2000) + 'end';
    expect(n.symlinkat(long, dirfd, 'longln')).toBe(0);
    expect(n.readlinkat(dirfd, 'longln')).toBe(long);

    expect(n.linkat(dirfd, 'f', dirfd, 'hard', 0)).toBe(0);
    expect(stat('f').nlink).toBe(2);
    expect(n.linkat(dirfd, 'f', dirfd, 'hard', 0)).toBe(-E.EEXIST);

    expect(n.renameat2(dirfd, 'hard', dirfd, 'f', RENAME_NOREPLACE)).toBe(-E.EEXIST);
    expect(n.renameat2(dirfd, 'hard', dirfd, 'moved', 0)).toBe(0);
    expect(n.renameat2(dirfd, 'moved', dirfd, 'ln', RENAME_EXCHANGE)).toBe(0);
    expect(n.readlinkat(dirfd, 'moved')).toBe('f');
    expect(stat('ln', AT_SYMLINK_NOFOLLOW).mode & S_IFMT).toBe(S_IFREG);

    expect(n.unlinkat(dirfd, 'ln', 0)).toBe(0);
    expect(n.unlinkat(dirfd, 'moved', 0)).toBe(0);
    expect(n.unlinkat(dirfd, 'moved', 0)).toBe(-E.ENOENT);
    expect(n.mkdirat(dirfd, 'full', 0o700)).toBe(0);
    fs.writeFileSync(join(dir, 'full', 'x'), '');
    expect(n.unlinkat(dirfd, 'full', AT_REMOVEDIR)).toBe(-E.ENOTEMPTY);
    expect(n.unlinkat(dirfd, 'full/x', 0)).toBe(0);
    expect(n.unlinkat(dirfd, 'full', AT_REMOVEDIR)).toBe(0);
  });

  it('chmod, chown, utimes, access and mknod', () => {
    fs.writeFileSync(join(dir, 'm'), 'x');
    expect(n.symlinkat('m', dirfd, 'mln')).toBe(0);
    expect(n.fchmodat(dirfd, 'm', 0o600, 0)).toBe(0);
    expect(stat('m').mode & 0o7777).toBe(0o600);
    expect(n.fchmodat(dirfd, 'mln', 0o640, 0)).toBe(0); // follows the link
    expect(stat('m').mode & 0o7777).toBe(0o640);
    // fchmodat2 really got the flag: a symlink's mode cannot be changed.
    expect(n.fchmodat(dirfd, 'mln', 0o600, AT_SYMLINK_NOFOLLOW)).toBe(-E.EOPNOTSUPP);
    expect(n.fchmodat(dirfd, 'm', 0o604, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(stat('m').mode & 0o7777).toBe(0o604);

    expect(n.fchownat(dirfd, 'm', 1234, 5678, 0)).toBe(0);
    expect(stat('m')).toMatchObject({ uid: 1234, gid: 5678 });
    expect(n.fchownat(dirfd, 'm', -1, 42, 0)).toBe(0);
    expect(stat('m')).toMatchObject({ uid: 1234, gid: 42 });
    expect(n.fchownat(dirfd, 'mln', 7, 7, AT_SYMLINK_NOFOLLOW)).toBe(0);
    expect(stat('mln', AT_SYMLINK_NOFOLLOW)).toMatchObject({ uid: 7, gid: 7 });
    expect(stat('m')).toMatchObject({ uid: 1234, gid: 42 });

    expect(n.utimensat(dirfd, 'm', [1000, 5, 2000, 7], 0)).toBe(0);
    expect(n.statx(dirfd, 'm', 0, STATX_BASIC_STATS, stx)).toBe(0);
    expect(Number(stx.readBigInt64LE(64))).toBe(1000); // stx_atime
    expect(stx.readUInt32LE(72)).toBe(5);
    expect(Number(stx.readBigInt64LE(112))).toBe(2000); // stx_mtime
    expect(stx.readUInt32LE(120)).toBe(7);
    expect(n.utimensat(dirfd, 'm', [0, UTIME_OMIT, 3000, 0], 0)).toBe(0);
    expect(n.statx(dirfd, 'm', 0, STATX_BASIC_STATS, stx)).toBe(0);
    expect(Number(stx.readBigInt64LE(64))).toBe(1000);
    expect(Number(stx.readBigInt64LE(112))).toBe(3000);
    const before = Math.floor(Date.now() / 1000) - 2;
    expect(n.utimensat(dirfd, 'm', null, 0)).toBe(0);
    expect(n.statx(dirfd, 'm', 0, STATX_BASIC_STATS, stx)).toBe(0);
    expect(Number(stx.readBigInt64LE(112))).toBeGreaterThanOrEqual(before);
    expect(n.utimensat(dirfd, 'nope', null, 0)).toBe(-E.ENOENT);

    expect(n.faccessat(dirfd, 'm', fs.constants.R_OK, 0)).toBe(0);
    expect(n.faccessat(dirfd, 'm', fs.constants.R_OK, AT_EACCESS)).toBe(0);
    expect(n.faccessat(dirfd, 'nope', fs.constants.F_OK, 0)).toBe(-E.ENOENT);
    expect(n.faccessat(dirfd, 'm', fs.constants.X_OK, 0)).toBe(-E.EACCES); // root too, no x bit

    expect(n.mknodat(dirfd, 'fifo', S_IFIFO | 0o600, 0)).toBe(0);
    expect(stat('fifo').mode & S_IFMT).toBe(S_IFIFO);
    expect(n.mknodat(dirfd, 'fifo', S_IFIFO | 0o600, 0)).toBe(-E.EEXIST);
  });
});

describe('processes', () => {
  it('pidfdOpen, pidfdGetfd and pidfdSendSignal on a child', async () => {
    const child = spawn(bins.mem_child, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const next = lines(child);
    await next();
    const pidfd = n.pidfdOpen(child.pid!, 0);
    expect(pidfd).toBeGreaterThanOrEqual(0);
    expect(fdFlags(pidfd) & O_CLOEXEC).toBe(O_CLOEXEC);
    // The child's stdout, duplicated into this process: what we write, the child "said".
    const out = n.pidfdGetfd(pidfd, 1);
    expect(out).toBeGreaterThanOrEqual(0);
    expect(fdFlags(out) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(n.write(out, Buffer.from('via pidfd_getfd\n'))).toBe(16);
    expect(await next()).toBe('via pidfd_getfd');
    n.close(out);
    expect(n.pidfdGetfd(pidfd, 999)).toBe(-E.EBADF);
    // fstatTaskFd: the child's stdout (a pipe) as fstat there would show it.
    const viaDup = Buffer.alloc(144), viaLink = Buffer.alloc(144);
    expect(n.fstatTaskFd(pidfd, 1, viaDup)).toBe(0);
    expect(n.fstatat(-100, `/proc/${child.pid}/fd/1`, 0, viaLink)).toBe(0);
    expect(viaDup.equals(viaLink)).toBe(true);
    expect(n.fstatTaskFd(pidfd, 999, viaDup)).toBe(-E.EBADF);

    const exited = once(child, 'exit');
    expect(n.pidfdSendSignal(pidfd, os.signals.SIGTERM)).toBe(0);
    expect((await exited)[1]).toBe('SIGTERM');
    n.close(pidfd);
    expect(n.pidfdOpen(-5, 0)).toBe(-E.EINVAL);
  });

  it('spawnProcess gives the child exactly the fds, cwd and signals asked; waitPidfd reaps it', async () => {
    const [r, w] = n.pipe();
    expect(r).toBeGreaterThanOrEqual(0);
    expect(fdFlags(r) & O_CLOEXEC).toBe(O_CLOEXEC);
    // fd 3 is the pipe's write end; everything else of ours (r included) stays out.
    const script = 'pwd; ls /proc/self/fd | sort -n | tr "\\n" " "; grep -E "^Sig(Blk|Ign)" /proc/self/status; echo "$X"';
    const pid = n.spawnProcess('/bin/sh', ['sh', '-c', `exec >&3; ${script}`], ['X=from env', 'PATH=/usr/bin:/bin'], [0, 1, 2, w], false, '/tmp');
    expect(n.close(w)).toBe(0);
    expect(pid).toBeGreaterThan(0);
    const pidfd = n.pidfdOpen(pid, 0);
    let out = '';
    const chunk = Buffer.alloc(4096);
    for (let k; (k = fs.readSync(r, chunk)) > 0; ) out += chunk.toString('utf8', 0, k);
    n.close(r);
    // ls's own directory fd is the one above 3.
    const m = /^\/tmp\n0 1 2 3 4 SigBlk:\t0+\nSigIgn:\t([0-9a-f]+)\nfrom env\n$/.exec(out);
    expect(m, out).not.toBeNull();
    // Node's ignored SIGPIPE is not inherited; 32 and 33 are glibc's own, which
    // posix_spawn leaves alone.
    expect(BigInt(`0x${m![1]}`) & ~(3n << 31n)).toBe(0n);
    let status = n.waitPidfd(pidfd);
    while (status === -E.EAGAIN) {
      await new Promise((res) => setTimeout(res, 5));
      status = n.waitPidfd(pidfd);
    }
    expect(status).toEqual({ code: 0, signal: null });
    expect(n.waitPidfd(pidfd)).toBe(-E.ECHILD);
    n.close(pidfd);

    const killed = n.spawnProcess('/bin/sleep', ['sleep', '10'], [], [0, 1, 2], true, '/');
    const kfd = n.pidfdOpen(killed, 0);
    expect(n.waitPidfd(kfd)).toBe(-E.EAGAIN);
    expect(n.pidfdSendSignal(kfd, os.signals.SIGTERM)).toBe(0);
    let ks = n.waitPidfd(kfd);
    while (ks === -E.EAGAIN) {
      await new Promise((res) => setTimeout(res, 5));
      ks = n.waitPidfd(kfd);
    }
    expect(ks).toEqual({ code: null, signal: os.signals.SIGTERM });
    n.close(kfd);

    expect(n.spawnProcess('/nonexistent', ['x'], [], [0, 1, 2], false, '/')).toBe(-E.ENOENT);
    expect(n.spawnProcess('/bin/true', ['true'], [], [0, 1, 2], false, '/nonexistent')).toBe(-E.ENOENT);
    expect(n.spawnProcess('/bin/true', ['true'], [], [0, 1, 2, 9999], false, '/')).toBe(-E.EBADF);
    expect(n.spawnProcess('/bin/true', ['a\0b'], [], [0, 1, 2], false, '/')).toBe(-E.EINVAL);
  });

  it('setThreadCreds changes this thread only, and restores', () => {
    const self = () => fs.readFileSync('/proc/thread-self/status', 'utf8');
    const orig = self();
    const capEff = BigInt(`0x${statusField(orig, 'CapEff')}`);
    const groups = statusField(orig, 'Groups').split(/\s+/).filter(Boolean).map(Number);
    const locked = fs.mkdtempSync(join(work, 'locked-'));
    fs.chmodSync(locked, 0o700);
    const tid = fs.readlinkSync('/proc/thread-self').split('/').pop();
    const other = fs.readdirSync('/proc/self/task').find((t) => t !== tid)!;

    expect(n.setThreadCreds(65534, 65533, [65532], 0, 0)).toBe(0);
    try {
      const now = self();
      expect(statusField(now, 'Uid').split(/\s+/)).toEqual(['0', '0', '0', '65534']);
      expect(statusField(now, 'Gid').split(/\s+/)).toEqual(['0', '0', '0', '65533']);
      expect(statusField(now, 'Groups').trim()).toBe('65532');
      expect(BigInt(`0x${statusField(now, 'CapEff')}`)).toBe(0n);
      // Another thread of this process is untouched.
      const theirs = fs.readFileSync(`/proc/self/task/${other}/status`, 'utf8');
      expect(statusField(theirs, 'Uid').split(/\s+/)).toEqual(['0', '0', '0', '0']);
      // The kernel now checks as 65534 without capabilities.
      expect(n.faccessat(AT_FDCWD, locked, fs.constants.R_OK, AT_EACCESS)).toBe(-E.EACCES);
      const flags = O_CREAT | O_WRONLY | O_CLOEXEC;
      expect(n.openat2(AT_FDCWD, join(locked, 'f'), flags, 0o600, 0)).toBe(-E.EACCES);
      // Raising an effective capability the thread does not hold is refused... but only
      // after ids changed, so restoring below is the caller's job either way.
    } finally {
      expect(n.setThreadCreds(0, 0, groups, Number(capEff & 0xffffffffn), Number(capEff >> 32n))).toBe(0);
    }
    const back = self();
    expect(statusField(back, 'Uid')).toBe(statusField(orig, 'Uid'));
    expect(statusField(back, 'Gid')).toBe(statusField(orig, 'Gid'));
    expect(statusField(back, 'Groups')).toBe(statusField(orig, 'Groups'));
    expect(statusField(back, 'CapEff')).toBe(statusField(orig, 'CapEff'));
    const fd = n.openat2(AT_FDCWD, join(locked, 'f'), O_CREAT | O_WRONLY | O_CLOEXEC, 0o600, 0);
    expect(fd).toBeGreaterThanOrEqual(0);
    n.close(fd);
  });
});

describe('actors in a user namespace', () => {
  /** A process in a new user namespace whose ids 0-65535 are the host's 100000-165535. */
  async function mappedProcess(): Promise<ChildProcess> {
    const child = spawn('unshare', ['--user', 'sleep', '60'], { stdio: 'ignore' });
    const own = fs.readlinkSync('/proc/self/ns/user');
    for (let i = 0; i < 200 && fs.readlinkSync(`/proc/${child.pid}/ns/user`) === own; i++) await new Promise((r) => setTimeout(r, 10));
    fs.writeFileSync(`/proc/${child.pid}/uid_map`, '0 100000 65536\n');
    fs.writeFileSync(`/proc/${child.pid}/gid_map`, '0 100000 65536\n');
    return child;
  }

  it('runs file calls inside the namespace: capabilities count over mapped owners only', async () => {
    const child = await mappedProcess();
    // Reachable by the namespace's ids (work is 0700).
    const dir = fs.mkdtempSync(join(tmpdir(), 'tsvisor-actor-'));
    fs.chmodSync(dir, 0o755);
    const hostOwned = join(dir, 'host'), mapped = join(dir, 'mapped');
    fs.writeFileSync(hostOwned, 'host\n', { mode: 0o600 });
    fs.writeFileSync(mapped, 'mapped\n', { mode: 0o600 });
    fs.chownSync(mapped, 100005, 100005);
    const stat = Buffer.alloc(256);
    const handle = n.actorOpen(child.pid!);
    expect(handle).toBeGreaterThan(0);
    try {
      expect(n.actorUse(handle)).toBe(0);
      // The namespace's root with CAP_DAC_OVERRIDE (bit 1).
      expect(n.setThreadCreds(0, 0, [], 1 << 1, 0)).toBe(0);
      expect(n.openat2(AT_FDCWD, hostOwned, O_RDONLY | O_CLOEXEC, 0, 0)).toBe(-E.EACCES);
      const fd = n.openat2(AT_FDCWD, mapped, O_RDONLY | O_CLOEXEC, 0, 0);
      expect(fd).toBeGreaterThanOrEqual(0);
      // Owners come back as the namespace sees them.
      expect(n.fstatat(AT_FDCWD, mapped, 0, stat)).toBe(0);
      expect([stat.readUInt32LE(28), stat.readUInt32LE(32)]).toEqual([5, 5]);
      expect(n.fstatat(AT_FDCWD, hostOwned, 0, stat)).toBe(0);
      expect(stat.readUInt32LE(28)).toBe(65534);
      // Ids it cannot map are refused, as chown(2) refuses them there.
      expect(n.fchownat(AT_FDCWD, mapped, 70000, -1, 0)).toBe(-E.EINVAL);
      n.actorUse(0);
      // Its fd is this process's; this thread is the host's root again.
      expect(fs.readFileSync(fd, 'utf8')).toBe('mapped\n');
      n.close(fd);
      const own = n.openat2(AT_FDCWD, hostOwned, O_RDONLY | O_CLOEXEC, 0, 0);
      expect(own).toBeGreaterThanOrEqual(0);
      n.close(own);
      expect(n.fstatat(AT_FDCWD, mapped, 0, stat)).toBe(0);
      expect(stat.readUInt32LE(28)).toBe(100005);
    } finally {
      n.actorUse(0);
      expect(n.actorClose(handle)).toBe(0);
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true });
    }
    expect(n.actorUse(handle)).toBe(-E.EINVAL);
    expect(n.actorClose(handle)).toBe(-E.EINVAL);
  });

  it('answers -errno for a namespace it cannot enter', () => {
    // Our own namespace: setns refuses to enter it again.
    expect(n.actorOpen(process.pid)).toBe(-E.EINVAL);
    expect(n.actorOpen(2 ** 22 + 1)).toBe(-E.ENOENT);
  });
});

describe('seccomp user notification', () => {
  it('receives, validates, answers and injects an fd', async () => {
    const [a, b] = n.socketpair();
    const child = spawn(bins.notify_child, [], { stdio: ['ignore', 'pipe', 'inherit', b] });
    n.close(b);
    const next = lines(child);
    const exited = once(child, 'exit');

    await readable(a);
    const msg = Buffer.alloc(16);
    const got = n.recvMsg(a, msg);
    if (typeof got === 'number') throw new Error(`recvMsg: ${got}`);
    expect(got.fds).toHaveLength(1);
    const listener = got.fds[0];
    expect(n.notifSetSyncWakeup(listener)).toBe(0);

    const notif = Buffer.alloc(80);
    expect(n.notifRecv(listener, notif)).toBe(-E.EAGAIN); // the child waits for "go"
    expect(n.sendMsg(a, Buffer.from('g'), [])).toBe(1);

    const receive = async () => {
      await readable(listener);
      notif.fill(0xff); // notifRecv must zero it itself
      expect(n.notifRecv(listener, notif)).toBe(0);
      expect(notif.readUInt32LE(8)).toBe(child.pid);
      expect(notif.readInt32LE(16)).toBe(SYS_getppid);
      expect(notif.readUInt32LE(20)).toBe(AUDIT_ARCH_X86_64);
      expect(notif.readBigUInt64LE(24)).not.toBe(0n); // instruction pointer
      const id = notif.readBigUInt64LE(0);
      expect(n.notifIdValid(listener, id)).toBe(true);
      return id;
    };

    const first = await receive();
    expect(n.notifRespond(listener, first, 4242, 0, 0)).toBe(0);
    expect(await next()).toBe('first=4242');
    expect(n.notifIdValid(listener, first)).toBe(false);
    expect(n.notifRespond(listener, first, 1, 0, 0)).toBe(-E.ENOENT);

    const second = await receive();
    expect(n.notifRespond(listener, second, 0, E.EACCES, 0)).toBe(0);
    expect(await next()).toBe(`second=-1 errno=${E.EACCES}`);

    const dirfd = n.openat2(AT_FDCWD, work, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
    expect(n.mknodat(dirfd, 'notify.fifo', S_IFIFO | 0o600, 0)).toBe(0);
    const rd = n.openat2(dirfd, 'notify.fifo', O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, 0);
    const wr = n.openat2(dirfd, 'notify.fifo', O_WRONLY | O_CLOEXEC, 0, 0);
    expect(rd).toBeGreaterThanOrEqual(0);
    expect(wr).toBeGreaterThanOrEqual(0);
    const third = await receive();
    expect(n.notifAddFd(listener, (third + 1n) & 0xffffffffffffffffn, wr, O_CLOEXEC, true)).toBe(-E.ENOENT);
    // Installed without an answer: the call waits on until the answer names the fd.
    const newfd = n.notifAddFd(listener, third, wr, O_CLOEXEC, false);
    expect(newfd).toBeGreaterThanOrEqual(3);
    expect(n.notifIdValid(listener, third)).toBe(true);
    expect(n.notifRespond(listener, third, newfd, 0, 0)).toBe(0);
    expect(await next()).toBe(`third=${newfd} cloexec=1`);
    n.close(wr);
    expect((await exited)[0]).toBe(0);
    const buf = Buffer.alloc(64);
    const len = fs.readSync(rd, buf, 0, 64, null);
    expect(buf.subarray(0, len).toString()).toBe('written through the injected fd\n');

    // No task uses the filter any more: the listener hangs up and notifRecv says so
    // instead of blocking.
    await readable(listener);
    expect(n.notifRecv(listener, notif)).toBe(-E.EPIPE);
    expect(n.notifIdValid(listener, third)).toBe(false);
    for (const fd of [rd, dirfd, listener, a]) expect(n.close(fd)).toBe(0);
  });

  it('answers -errno on a fd that is not a listener', () => {
    const [a, b] = n.socketpair();
    expect(n.notifSetSyncWakeup(a)).toBe(-E.ENOTTY);
    expect(n.notifRespond(a, 1n, 0, 0, 0)).toBe(-E.ENOTTY);
    expect(n.notifAddFd(a, 1n, b, 0, true)).toBe(-E.ENOTTY);
    expect(n.notifIdValid(a, 1n)).toBe(false);
    expect(n.notifRecv(-1, Buffer.alloc(80))).toBe(-E.EBADF);
    n.close(a);
    n.close(b);
  });
});
