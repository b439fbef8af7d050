// File syscalls: names, metadata, directories. Each handler decodes its registers, then
// calls a worker shared by its variants (open/openat/creat → openAt, ...), as gVisor's
// sys_file.go does. Every name goes through SandboxFs, which resolves it beneath the
// sandbox root; the host fds it opens are handed to the task with ADDFD.
import { constants } from 'node:os';
import { native } from '../../native.js';
import {
  EBADF, EEXIST, EFAULT, EFBIG, EINVAL, EISDIR, ENOENT, ENOSYS, ENOTDIR, ENOTEMPTY, EPERM, EXDEV, E2BIG,
  errnoOf, isErrno, type Errno,
} from '../abi/errno.js';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE,
  AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_NONBLOCK, O_PATH,
  O_TRUNC, O_VALID, O_WRONLY, O_ACCMODE, O_RDONLY, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, RESOLVE_BENEATH,
  RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
  S_IFCHR, S_IFBLK, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, X_OK, __O_TMPFILE, S_IFDIR, SYSFS_MAGIC, TMPFS_MAGIC,
} from '../abi/fcntl.js';
import { SIZEOF_STAT, SIZEOF_STATFS, SIZEOF_STATX, STATFS_OFFSETS, STATX__RESERVED, statDev, statMode, statSize, statxDev } from '../abi/stat.js';
import type { Call } from '../call.js';
import { CONTINUE, InjectFd, type SyscallResult } from '../result.js';
import { mapStatIds, mapStatxIds } from '../ids.js';
import { fileSizeLimit, signalThread, viaTaskFd } from '../task/tasks.js';
import { normalize } from '../vfs/path.js';
import { PIDFD_THREAD } from '../abi/pidfd.js';
import { openPathAt, openPathToChange, openTaskFdToChange, pathArg, withFd } from './at.js';

// ---------------------------------------------------------------------------------------
// Shared helpers.

/** 0 for success, or the Errno of a negative addon return. */
function ok(ret: number): number | Errno {
  return ret < 0 ? errnoOf(-ret) : 0;
}

/** Creation mode after the task's umask (the sentry's own umask is 0). */
function createMode(c: Call, mode: number): number {
  return mode & 0o7777 & ~c.task.group.umask;
}

// ---------------------------------------------------------------------------------------
// open(2) family.

function openAt(c: Call, dirfd: number, path: string | Errno, flags: number, mode: number): SyscallResult {
  if (isErrno(path)) return path;
  if (path === '') return ENOENT;
  // SECCOMP_IOCTL_NOTIF_ADDFD cannot install an O_PATH file (the kernel's fget refuses
  // them), so O_PATH opens continue in the kernel. The flags are in a register, so the
  // task cannot turn them into a data open after this check; the walk happens in the
  // sandbox's own mount namespace; and an O_PATH fd grants no data: reopening it through
  // /proc/self/fd comes back to the sentry and its checks.
  if (flags & O_PATH) return CONTINUE;
  // open(2) ignores unknown bits; openat2 (used underneath) would reject them.
  flags &= O_VALID;
  const creating = (flags & O_CREAT) !== 0 || (flags & __O_TMPFILE) !== 0;
  const fs = c.kernel.fs;
  const abs = fs.absolute(c.task, dirfd, path);
  if (isErrno(abs)) return abs;
  const fd = fs.open(c.task, abs, flags | O_CLOEXEC, creating ? createMode(c, mode) : 0, () => c.stillValid());
  return injected(fd, flags);
}

/** The answer for an open: the fd to install, honouring the task's O_CLOEXEC. */
function injected(fd: number | Errno | Promise<number | Errno>, flags: number): SyscallResult {
  const cloexec = (flags & O_CLOEXEC) !== 0, writable = (flags & O_ACCMODE) !== O_RDONLY;
  if (fd instanceof Promise) return fd.then((f) => (isErrno(f) ? f : new InjectFd(f, cloexec, writable)));
  return isErrno(fd) ? fd : new InjectFd(fd, cloexec, writable);
}

/** open(2). */
export function open(c: Call): SyscallResult {
  return openAt(c, AT_FDCWD, pathArg(c, 0), c.args.i32(1), c.args.u32(2));
}

/** openat(2). */
export function openat(c: Call): SyscallResult {
  return openAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), c.args.u32(3));
}

/** creat(2): open with O_CREAT|O_WRONLY|O_TRUNC. */
export function creat(c: Call): SyscallResult {
  return openAt(c, AT_FDCWD, pathArg(c, 0), O_CREAT | O_WRONLY | O_TRUNC, c.args.u32(1));
}

const SIZEOF_OPEN_HOW = 24;
const RESOLVE_ALL =
  RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;

/** openat2(2). The app's own RESOLVE_* flags only narrow the walk, so they are added to
 * the sentry's; RESOLVE_BENEATH and RESOLVE_IN_ROOT are relative to the app's dirfd, which
 * then becomes the walk's root (it is inside the sandbox already). */
export function openat2(c: Call): SyscallResult {
  const dirfd = c.args.i32(0), size = c.args.u64(3);
  if (size < SIZEOF_OPEN_HOW) return EINVAL;
  if (size > 4096) return E2BIG;
  const path = pathArg(c, 1);
  if (isErrno(path)) return path;
  const how = c.copyIn(c.args.ptr(2), size);
  if (isErrno(how)) return how;
  for (let i = SIZEOF_OPEN_HOW; i < size; i++) if (how[i] !== 0) return E2BIG;
  const flagsHi = how.readUInt32LE(4), modeBig = how.readBigUInt64LE(8), resolve = how.readBigUInt64LE(16);
  const flags = how.readUInt32LE(0);
  if (flagsHi !== 0 || (flags & ~O_VALID) !== 0 || (resolve & ~BigInt(RESOLVE_ALL)) !== 0n) return EINVAL;
  if (modeBig & ~0o7777n) return EINVAL;
  const mode = Number(modeBig);
  // O_PATH through openat2 cannot continue in the kernel (the flags are in task memory,
  // which could turn into a data open after the check) nor be installed with ADDFD.
  if (flags & O_PATH) return ENOSYS;
  const creating = (flags & O_CREAT) !== 0 || (flags & __O_TMPFILE) !== 0;
  if (!creating && mode !== 0) return EINVAL;
  const res = Number(resolve);
  return res === 0 ? openAt(c, dirfd, path, flags, mode) : openInRoot(c, dirfd, path, flags, mode, res);
}

function openInRoot(c: Call, dirfd: number, path: string, flags: number, mode: number, resolve: number): SyscallResult {
  const fs = c.kernel.fs;
  const creating = (flags & O_CREAT) !== 0 || (flags & __O_TMPFILE) !== 0;
  mode = creating ? createMode(c, mode) : 0;
  if ((resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) === 0) {
    // Only narrowing flags: the sentry's own walk, with them added. But RESOLVE_NO_XDEV is
    // about the app's walk, which starts at its dirfd, where the sentry's starts at the
    // sandbox's root and crosses the mounts above it (a tmpfs /tmp, say): it is checked
    // after, as where the walk started and where it ended being one mount.
    const abs = fs.absolute(c.task, dirfd, path);
    if (isErrno(abs)) return abs;
    const opened = fs.open(c.task, abs, flags | O_CLOEXEC, mode, () => c.stillValid(), resolve & ~RESOLVE_NO_XDEV);
    if ((resolve & RESOLVE_NO_XDEV) === 0) return injected(opened, flags);
    const absolute = path.startsWith('/');
    const start = withFd(openPathAt(c, absolute ? AT_FDCWD : dirfd, absolute ? '/' : '', false, true), (d) => fs.mountIdOf(d));
    const sameMount = (fd: number | Errno): number | Errno => {
      if (isErrno(fd) || fs.mountIdOf(fd) === start) return fd;
      native().close(fd);
      return EXDEV;
    };
    return injected(opened instanceof Promise ? opened.then(sameMount) : sameMount(opened), flags);
  }
  const fd = withFd(openPathAt(c, dirfd, '', false, true), (root) => {
    const f = native().openat2(root, path, flags | O_CLOEXEC, mode, resolve | RESOLVE_NO_MAGICLINKS);
    if (f < 0) return errnoOf(-f);
    return fs.admit(c.task, f, flags);
  });
  return isErrno(fd) ? fd : injected(fd, flags);
}

// ---------------------------------------------------------------------------------------
// stat(2) family.

const statBuf = Buffer.alloc(SIZEOF_STAT);
const statxBuf = Buffer.alloc(SIZEOF_STATX);

function fstatAt(c: Call, dirfd: number, path: string | Errno, flags: number, out: number): SyscallResult {
  if (isErrno(path)) return path;
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) return EINVAL;
  let r: number | Errno;
  if (path === '' && flags & AT_EMPTY_PATH && dirfd >= 0) {
    // fstat(2) as glibc makes it (newfstatat(fd, "", AT_EMPTY_PATH)): the task's own fd,
    // stat'ed through a duplicate of it; through its /proc link for a task being forgotten,
    // or one a rootless sentry may not take fds from (it changed ids: not dumpable).
    let ret = c.task.pidfd >= 0 ? native().fstatTaskFd(c.task.pidfd, dirfd, statBuf) : -EPERM.code;
    if (ret === -EPERM.code) ret = viaTaskFd(c.task, dirfd, (p) => native().fstatat(AT_FDCWD, p, 0, statBuf));
    r = ret === -ENOENT.code ? EBADF : ok(ret);
  } else {
    const fd = openPathAt(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0, true);
    r = withFd(fd, (f) => {
      const ret = ok(native().fstatat(f, '', AT_EMPTY_PATH, statBuf));
      return ret === 0 && c.kernel.fs.hiddenProc(f, statDev(statBuf)) ? ENOENT : ret;
    });
  }
  if (r !== 0) return r;
  if (c.kernel.hooks.ids) mapStatIds(statBuf, c.kernel.hooks.ids);
  return c.copyOut(out, statBuf) ?? 0;
}

/** stat(2). */
export function stat(c: Call): SyscallResult {
  return fstatAt(c, AT_FDCWD, pathArg(c, 0), 0, c.args.ptr(1));
}

/** lstat(2). */
export function lstat(c: Call): SyscallResult {
  return fstatAt(c, AT_FDCWD, pathArg(c, 0), AT_SYMLINK_NOFOLLOW, c.args.ptr(1));
}

/** newfstatat(2). */
export function newfstatat(c: Call): SyscallResult {
  return fstatAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(3), c.args.ptr(2));
}

/** statx(2). A NULL path with AT_EMPTY_PATH names dirfd, as since Linux 6.11. */
export function statx(c: Call): SyscallResult {
  const dirfd = c.args.i32(0), flags = c.args.i32(2), mask = c.args.u32(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) return EINVAL;
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) return EINVAL;
  if (mask & STATX__RESERVED) return EINVAL;
  const path = c.args.ptr(1) === 0 && flags & AT_EMPTY_PATH ? '' : pathArg(c, 1);
  if (isErrno(path)) return path;
  const fd = openPathAt(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0, true);
  const sync = flags & AT_STATX_SYNC_TYPE;
  const r = withFd(fd, (f) => {
    const ret = ok(native().statx(f, '', AT_EMPTY_PATH | sync, mask, statxBuf));
    return ret === 0 && c.kernel.fs.hiddenProc(f, statxDev(statxBuf)) ? ENOENT : ret;
  });
  if (r !== 0) return r;
  if (c.kernel.hooks.ids) mapStatxIds(statxBuf, c.kernel.hooks.ids);
  return c.copyOut(c.args.ptr(4), statxBuf) ?? 0;
}

const statfsBuf = Buffer.alloc(SIZEOF_STATFS);

/** statfs(2). */
export function statfs(c: Call): SyscallResult {
  const path = pathArg(c, 0);
  if (isErrno(path)) return path;
  const r = withFd(openPathAt(c, AT_FDCWD, path, false, false), (f) => {
    const got = ok(native().fstatfs(f, statfsBuf));
    // The launcher's /sys is the sandbox's sysfs (SandboxFs.onSysfsView).
    if (got === 0 && statfsBuf.readUInt32LE(STATFS_OFFSETS.f_type) === TMPFS_MAGIC && c.kernel.fs.onSysfsView(c.task, f)) {
      statfsBuf.writeBigInt64LE(BigInt(SYSFS_MAGIC), STATFS_OFFSETS.f_type);
    }
    return got;
  });
  if (r !== 0) return r;
  return c.copyOut(c.args.ptr(1), statfsBuf) ?? 0;
}

// ---------------------------------------------------------------------------------------
// access(2) family. The sentry's thread runs with the task's fs credentials, so the kernel
// checks as the task; AT_EACCESS is always set because the sentry's *real* uid is the
// host's root, whose access(2) would use the sentry's permitted capabilities.

function accessAt(c: Call, dirfd: number, path: string | Errno, mode: number, flags: number): SyscallResult {
  if (isErrno(path)) return path;
  if (mode & ~7) return EINVAL;
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const fd = openPathAt(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  return withFd(fd, (f) => ok(native().faccessat(f, '', mode, AT_EMPTY_PATH | AT_EACCESS)));
}

/** access(2). */
export function access(c: Call): SyscallResult {
  return accessAt(c, AT_FDCWD, pathArg(c, 0), c.args.i32(1), 0);
}

/** faccessat(2) (no flags argument: that is faccessat2). */
export function faccessat(c: Call): SyscallResult {
  return accessAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), 0);
}

/** faccessat2(2). */
export function faccessat2(c: Call): SyscallResult {
  return accessAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), c.args.i32(3));
}

// ---------------------------------------------------------------------------------------
// readlink(2).

function readlinkAt(c: Call, dirfd: number, path: string | Errno, buf: number, size: number): SyscallResult {
  if (isErrno(path)) return path;
  if (size <= 0 || size > 0x7fffffff) return EINVAL;
  const target = linkText(c, dirfd, path);
  if (isErrno(target)) return target;
  const bytes = Buffer.from(target, 'latin1');
  const len = Math.min(bytes.length, size);
  return c.copyOut(buf, bytes, len) ?? len;
}

/** What the symlink (dirfd, path) holds. */
function linkText(c: Call, dirfd: number, path: string): string | Errno {
  const read = (fd: number): string | Errno => {
    const text = native().readlinkat(fd, '');
    return typeof text === 'number' ? errnoOf(-text) : text;
  };
  // An empty path reads the symlink dirfd itself is (an O_PATH|O_NOFOLLOW fd), as since
  // Linux 2.6.39; on anything else that is ENOENT.
  if (path === '') return withFd(openPathAt(c, dirfd, '', true, true), read);
  const fs = c.kernel.fs;
  const abs = fs.absolute(c.task, dirfd, path);
  if (isErrno(abs)) return abs;
  const norm = normalize(abs);
  // The sentry is not in the sandbox's pid namespace: these two links are ours to answer.
  if (norm === '/proc/self') return String(c.task.vpid);
  if (norm === '/proc/thread-self') return `${c.task.vpid}/task/${c.task.vtid}`;
  const denied = fs.peerEntryDenied(c.task, norm);
  if (denied) return denied;
  const fd = fs.openPath(c.task, abs, true);
  if (isErrno(fd)) return fd;
  const text = withFd(fd, read);
  // readlinkat on an O_PATH fd of a non-symlink fails with ENOENT; Linux's readlink of
  // such a name says EINVAL.
  return text === ENOENT ? EINVAL : text;
}

/** readlink(2). */
export function readlink(c: Call): SyscallResult {
  return readlinkAt(c, AT_FDCWD, pathArg(c, 0), c.args.ptr(1), c.args.s64(2));
}

/** readlinkat(2). */
export function readlinkat(c: Call): SyscallResult {
  return readlinkAt(c, c.args.i32(0), pathArg(c, 1), c.args.ptr(2), c.args.s64(3));
}

// ---------------------------------------------------------------------------------------
// chdir(2). The kernel must change the task's cwd itself (later relative names, execve and
// children depend on it), so after the sentry's checks the call continues in the kernel.
// The kernel resolves the name in the sandbox's own mount namespace, so a name changed
// after the check can only lead to another directory of that same sandbox.

/** chdir(2). */
export function chdir(c: Call): SyscallResult {
  const path = pathArg(c, 0);
  if (isErrno(path)) return path;
  if (path === '') return ENOENT;
  const abs = c.kernel.fs.absolute(c.task, AT_FDCWD, path);
  if (isErrno(abs)) return abs;
  const r = withFd(c.kernel.fs.openPath(c.task, abs, false, true), (f) =>
    ok(native().faccessat(f, '', X_OK, AT_EMPTY_PATH | AT_EACCESS)),
  );
  return r === 0 ? CONTINUE : r;
}

// ---------------------------------------------------------------------------------------
// Names: mkdir, mknod, unlink, rmdir, rename, link, symlink. The kernel never follows the
// final component of these, so (parent fd, name) is exactly what the task named.

/** Resolves the parent and runs fn(parentFd, name); a trailing slash is passed on so the
 * kernel applies Linux's rules for it (ENOTDIR for a file, accepted for a directory). */
function atParent(c: Call, dirfd: number, path: string | Errno, fn: (dir: number, name: string) => number | Errno): number | Errno {
  if (isErrno(path)) return path;
  if (path === '') return ENOENT;
  const p = c.kernel.fs.openParent(c.task, dirfd, path);
  if (isErrno(p)) return p;
  try {
    return fn(p.dirFd, p.trailingSlash ? `${p.name}/` : p.name);
  } finally {
    native().close(p.dirFd);
  }
}

function mkdirAt(c: Call, dirfd: number, path: string | Errno, mode: number): SyscallResult {
  return atParent(c, dirfd, path, (dir, name) => {
    if (name === '.' || name === '..' || name === './' || name === '../') return EEXIST;
    return ok(native().mkdirat(dir, name, createMode(c, mode)));
  });
}

/** mkdir(2). */
export function mkdir(c: Call): SyscallResult {
  return mkdirAt(c, AT_FDCWD, pathArg(c, 0), c.args.u32(1));
}

/** mkdirat(2). */
export function mkdirat(c: Call): SyscallResult {
  return mkdirAt(c, c.args.i32(0), pathArg(c, 1), c.args.u32(2));
}

function mknodAt(c: Call, dirfd: number, path: string | Errno, mode: number, dev: number): SyscallResult {
  const type = mode & S_IFMT;
  // Devices need CAP_MKNOD, which the sentry's thread wears when the task holds it; the
  // node then opens nothing, as the sandbox's mounts are nodev.
  if (type !== 0 && type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFCHR && type !== S_IFBLK) {
    return EINVAL;
  }
  return atParent(c, dirfd, path, (dir, name) =>
    ok(native().mknodat(dir, name, (type || S_IFREG) | createMode(c, mode), type === S_IFCHR || type === S_IFBLK ? dev : 0)),
  );
}

/** mknod(2): regular files, fifos, sockets and (inert) device nodes. */
export function mknod(c: Call): SyscallResult {
  return mknodAt(c, AT_FDCWD, pathArg(c, 0), c.args.u32(1), c.args.u32(2));
}

/** mknodat(2). */
export function mknodat(c: Call): SyscallResult {
  return mknodAt(c, c.args.i32(0), pathArg(c, 1), c.args.u32(2), c.args.u32(3));
}

function unlinkAt(c: Call, dirfd: number, path: string | Errno, flags: number): SyscallResult {
  if (flags & ~AT_REMOVEDIR) return EINVAL;
  const rmdir = (flags & AT_REMOVEDIR) !== 0;
  return atParent(c, dirfd, path, (dir, name) => {
    const bare = name.replace(/\/$/, '');
    if (rmdir && bare === '.') return EINVAL;
    if (rmdir && bare === '..') return ENOTEMPTY;
    if (!rmdir && (bare === '.' || bare === '..')) return EISDIR;
    return ok(native().unlinkat(dir, name, flags));
  });
}

/** unlink(2). */
export function unlink(c: Call): SyscallResult {
  return unlinkAt(c, AT_FDCWD, pathArg(c, 0), 0);
}

/** unlinkat(2). */
export function unlinkat(c: Call): SyscallResult {
  return unlinkAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2));
}

/** rmdir(2). */
export function rmdir(c: Call): SyscallResult {
  return unlinkAt(c, AT_FDCWD, pathArg(c, 0), AT_REMOVEDIR);
}

/** Runs fn with two resolved parents (rename, link). */
function atTwoParents(
  c: Call,
  olddirfd: number, oldpath: string | Errno,
  newdirfd: number, newpath: string | Errno,
  fn: (od: number, on: string, nd: number, nn: string) => number | Errno,
): number | Errno {
  return atParent(c, olddirfd, oldpath, (od, on) => atParent(c, newdirfd, newpath, (nd, nn) => fn(od, on, nd, nn)));
}

function renameAt(c: Call, od: number, op: string | Errno, nd: number, np: string | Errno, flags: number): SyscallResult {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return EINVAL;
  if (flags & RENAME_EXCHANGE && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) return EINVAL;
  // A whiteout is a character device: the kernel asks for CAP_MKNOD, as for mknod.
  return atTwoParents(c, od, op, nd, np, (a, an, b, bn) => ok(native().renameat2(a, an, b, bn, flags)));
}

/** rename(2). */
export function rename(c: Call): SyscallResult {
  return renameAt(c, AT_FDCWD, pathArg(c, 0), AT_FDCWD, pathArg(c, 1), 0);
}

/** renameat(2). */
export function renameat(c: Call): SyscallResult {
  return renameAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), pathArg(c, 3), 0);
}

/** renameat2(2). */
export function renameat2(c: Call): SyscallResult {
  return renameAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), pathArg(c, 3), c.args.u32(4));
}

function linkAt(c: Call, od: number, op: string | Errno, nd: number, np: string | Errno, flags: number): SyscallResult {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) return EINVAL;
  if (isErrno(op)) return op;
  if (flags & AT_SYMLINK_FOLLOW || (op === '' && flags & AT_EMPTY_PATH)) {
    // The old name is resolved (following links) by the sentry's walk; the kernel then
    // links the file behind the sentry's own fd through its /proc/self/fd link.
    const src = openPathToChange(c, od, op, false, (flags & AT_EMPTY_PATH) !== 0);
    return withFd(src, (f) =>
      atParent(c, nd, np, (dir, name) =>
        ok(native().linkat(AT_FDCWD, `/proc/self/fd/${f}`, dir, name, AT_SYMLINK_FOLLOW)),
      ),
    );
  }
  return atTwoParents(c, od, op, nd, np, (a, an, b, bn) => ok(native().linkat(a, an, b, bn, 0)));
}

/** link(2). */
export function link(c: Call): SyscallResult {
  return linkAt(c, AT_FDCWD, pathArg(c, 0), AT_FDCWD, pathArg(c, 1), 0);
}

/** linkat(2). */
export function linkat(c: Call): SyscallResult {
  return linkAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), pathArg(c, 3), c.args.i32(4));
}

function symlinkAt(c: Call, target: string | Errno, dirfd: number, path: string | Errno): SyscallResult {
  if (isErrno(target)) return target;
  if (target === '') return ENOENT;
  return atParent(c, dirfd, path, (dir, name) => ok(native().symlinkat(target, dir, name)));
}

/** symlink(2). The target is stored as given: it is resolved later, inside the sandbox. */
export function symlink(c: Call): SyscallResult {
  return symlinkAt(c, pathArg(c, 0), AT_FDCWD, pathArg(c, 1));
}

/** symlinkat(2). */
export function symlinkat(c: Call): SyscallResult {
  return symlinkAt(c, pathArg(c, 0), c.args.i32(1), pathArg(c, 2));
}

// ---------------------------------------------------------------------------------------
// Attributes: chmod, chown, truncate, utimes. Each resolves the name (following links
// unless told not to) to an O_PATH fd, then changes that very file.

function chmodAt(c: Call, dirfd: number, path: string | Errno, mode: number, flags: number): SyscallResult {
  if (isErrno(path)) return path;
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const fd = openPathToChange(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  return withFd(fd, (f) => ok(native().fchmodat(f, '', mode & 0o7777, AT_EMPTY_PATH)));
}

/** chmod(2). */
export function chmod(c: Call): SyscallResult {
  return chmodAt(c, AT_FDCWD, pathArg(c, 0), c.args.u32(1), 0);
}

/** fchmodat(2) (no flags: glibc handles AT_SYMLINK_NOFOLLOW through fchmodat2). */
export function fchmodat(c: Call): SyscallResult {
  return chmodAt(c, c.args.i32(0), pathArg(c, 1), c.args.u32(2), 0);
}

/** fchmodat2(2). */
export function fchmodat2(c: Call): SyscallResult {
  return chmodAt(c, c.args.i32(0), pathArg(c, 1), c.args.u32(2), c.args.i32(3));
}

/** A chown's ids on the host (-1: unchanged, kept), or EINVAL for one the sandbox's user
 * namespace does not map, as the kernel answers. */
function hostOwner(c: Call, uid: number, gid: number): [number, number] | Errno {
  const ids = c.kernel.hooks.ids;
  if (!ids) return [uid, gid];
  const hostUid = uid === -1 ? -1 : ids.toHost('uid', uid);
  const hostGid = gid === -1 ? -1 : ids.toHost('gid', gid);
  return hostUid === null || hostGid === null ? EINVAL : [hostUid, hostGid];
}

function chownAt(c: Call, dirfd: number, path: string | Errno, uid: number, gid: number, flags: number): SyscallResult {
  if (isErrno(path)) return path;
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const owner = hostOwner(c, uid, gid);
  if (isErrno(owner)) return owner;
  [uid, gid] = owner;
  const fd = openPathToChange(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  return withFd(fd, (f) => ok(native().fchownat(f, '', uid, gid, AT_EMPTY_PATH)));
}

/** chown(2). */
export function chown(c: Call): SyscallResult {
  return chownAt(c, AT_FDCWD, pathArg(c, 0), c.args.i32(1), c.args.i32(2), 0);
}

/** lchown(2). */
export function lchown(c: Call): SyscallResult {
  return chownAt(c, AT_FDCWD, pathArg(c, 0), c.args.i32(1), c.args.i32(2), AT_SYMLINK_NOFOLLOW);
}

/** fchownat(2). */
export function fchownat(c: Call): SyscallResult {
  return chownAt(c, c.args.i32(0), pathArg(c, 1), c.args.i32(2), c.args.i32(3), c.args.i32(4));
}

/** truncate(2). */
export function truncate(c: Call): SyscallResult {
  const path = pathArg(c, 0), length = c.args.s64(1);
  if (isErrno(path)) return path;
  if (length < 0) return EINVAL;
  if (path === '') return ENOENT;
  const abs = c.kernel.fs.absolute(c.task, AT_FDCWD, path);
  if (isErrno(abs)) return abs;
  // O_NONBLOCK: truncating a FIFO is EINVAL anyway, and the sentry must never wait on one.
  const fd = c.kernel.fs.open(c.task, abs, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0, () => true);
  if (fd instanceof Promise) return fd.then((f) => withFd(f, (g) => truncateFor(c, g, length)));
  return withFd(fd, (f) => truncateFor(c, f, length));
}

/** ftruncate by the sentry under the task's RLIMIT_FSIZE, not the sentry's own: growing a
 * file past it fails with EFBIG and signals SIGXFSZ to the thread (inode_newsize_ok). */
function truncateFor(c: Call, fd: number, length: number): number | Errno {
  if (length > fileSizeLimit(c.task)) {
    const r = native().fstatat(fd, '', AT_EMPTY_PATH, statBuf);
    if (r < 0) return errnoOf(-r);
    if (statSize(statBuf) < length) {
      signalThread(c.task, constants.signals.SIGXFSZ);
      return EFBIG;
    }
  }
  return ok(native().ftruncate(fd, length));
}

const UTIME_NOW = 0x3fffffff;
const UTIME_OMIT = 0x3ffffffe;

/** Sets times on what (dirfd, path) names; path null means dirfd itself (futimens). */
function utimesAt(c: Call, dirfd: number, path: string | null | Errno, times: number[] | null, flags: number): SyscallResult {
  if (isErrno(path)) return path;
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  if (times) {
    for (const i of [1, 3]) {
      const ns = times[i]!;
      if (ns !== UTIME_NOW && ns !== UTIME_OMIT && (ns < 0 || ns > 999_999_999)) return EINVAL;
    }
  }
  if (path === null) {
    // futimens(2): the fd itself, which AT_FDCWD is not (Linux then reads the NULL path:
    // EFAULT), with no flags, and which must give access to its file (O_PATH does not).
    if (dirfd === AT_FDCWD) return EFAULT;
    if (flags) return EINVAL;
  }
  const fd = path === null
    ? openTaskFdToChange(c, dirfd)
    : openPathToChange(c, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) !== 0, (flags & AT_EMPTY_PATH) !== 0);
  return withFd(fd, (f) => ok(native().utimensat(f, '', times, AT_EMPTY_PATH)));
}

/** Reads two struct timespec (or timeval when micro) into [s, ns, s, ns]. */
function copyInTimes(c: Call, addr: number, micro: boolean): number[] | null | Errno {
  if (addr === 0) return null;
  const b = c.copyIn(addr, 32);
  if (isErrno(b)) return b;
  const t = [0, 8, 16, 24].map((o) => Number(b.readBigInt64LE(o)));
  if (micro) {
    for (const i of [1, 3]) {
      if (t[i]! < 0 || t[i]! > 999_999) return EINVAL;
      t[i] = t[i]! * 1000;
    }
  }
  return t;
}

/** utimensat(2). A NULL path operates on dirfd itself (glibc's futimens). */
export function utimensat(c: Call): SyscallResult {
  const dirfd = c.args.i32(0), flags = c.args.i32(3);
  const path = c.args.ptr(1) === 0 ? null : pathArg(c, 1);
  const times = copyInTimes(c, c.args.ptr(2), false);
  if (isErrno(times)) return times;
  return utimesAt(c, dirfd, path, times, flags);
}

/** futimesat(2): microsecond times relative to dirfd. */
export function futimesat(c: Call): SyscallResult {
  const times = copyInTimes(c, c.args.ptr(2), true);
  if (isErrno(times)) return times;
  return utimesAt(c, c.args.i32(0), pathArg(c, 1), times, 0);
}

/** utimes(2). */
export function utimes(c: Call): SyscallResult {
  const times = copyInTimes(c, c.args.ptr(1), true);
  if (isErrno(times)) return times;
  return utimesAt(c, AT_FDCWD, pathArg(c, 0), times, 0);
}

/** utime(2): struct utimbuf holds two seconds values. */
export function utime(c: Call): SyscallResult {
  const addr = c.args.ptr(1);
  let times: number[] | null = null;
  if (addr !== 0) {
    const b = c.copyIn(addr, 16);
    if (isErrno(b)) return b;
    times = [Number(b.readBigInt64LE(0)), 0, Number(b.readBigInt64LE(8)), 0];
  }
  return utimesAt(c, AT_FDCWD, pathArg(c, 0), times, 0);
}

// ---------------------------------------------------------------------------------------
// pivot_root would need CAP_SYS_ADMIN, which no task holds: Linux itself answers EPERM.
// Mounts inside the sandbox are made by the sentry (syscalls/mount.ts).

/** pivot_root(2). */
export function pivotRoot(_c: Call): SyscallResult {
  return EPERM;
}

/**
 * chroot(2): the name is resolved first, so a bad one gets its own errno, then the kernel
 * makes it in the task (CAP_SYS_CHROOT is granted): its execve and unix socket names go
 * by the new root. The sentry reads the task's root from the kernel from then on
 * (SandboxFs.rootOf). A name swapped after the check names another directory of the
 * same sandbox.
 */
export function chroot(c: Call): SyscallResult {
  const path = pathArg(c, 0);
  if (isErrno(path)) return path;
  const fd = openPathAt(c, AT_FDCWD, path, false, false);
  const checked = withFd(fd, (f) => {
    const r = native().fstatat(f, '', AT_EMPTY_PATH, statBuf);
    if (r < 0) return errnoOf(-r);
    return (statMode(statBuf) & S_IFMT) === S_IFDIR ? 0 : ENOTDIR;
  });
  if (checked !== 0) return checked;
  c.kernel.fs.noteChroot(c.task);
  return CONTINUE;
}

// ---------------------------------------------------------------------------------------
// fchmod and fchown act on an fd, but are judged with the sandbox root's file capabilities,
// which only the sentry holds: the sentry changes the file behind the task's fd through
// the host's /proc link to it.

function onTaskFd(c: Call, fd: number, op: (path: string) => number): SyscallResult {
  // An O_PATH fd gives no access to its file: Linux's fdget refuses it. (ftruncate, fchdir
  // and fstat pass through: the kernel judges them, EBADF, allowed and allowed.)
  return withFd(openTaskFdToChange(c, fd), (f) => ok(op(`/proc/self/fd/${f}`)));
}

/** fchmod(2). */
export function fchmod(c: Call): SyscallResult {
  const mode = c.args.u32(1) & 0o7777;
  return onTaskFd(c, c.args.i32(0), (p) => native().fchmodat(AT_FDCWD, p, mode, 0));
}

/** fchown(2). */
export function fchown(c: Call): SyscallResult {
  const owner = hostOwner(c, c.args.i32(1), c.args.i32(2));
  if (isErrno(owner)) return owner;
  const [uid, gid] = owner;
  return onTaskFd(c, c.args.i32(0), (p) => native().fchownat(AT_FDCWD, p, uid, gid, 0));
}

// ---------------------------------------------------------------------------------------
// inotify_add_watch(2): the task's inotify fd is a real one (inotify_init passes through);
// the sentry resolves the name with its own walk, takes a dup of that fd with pidfd_getfd,
// and adds the watch on the resolved file through /proc/self/fd, so events fire for the
// very file the task named.

const IN_DONT_FOLLOW = 0x02000000;
const IN_ONLYDIR = 0x01000000;

/** inotify_add_watch(2). */
export function inotifyAddWatch(c: Call): SyscallResult {
  const fd = c.args.i32(0), mask = c.args.u32(2);
  const path = pathArg(c, 1);
  if (isErrno(path)) return path;
  if (path === '') return ENOENT;
  const abs = c.kernel.fs.absolute(c.task, AT_FDCWD, path);
  if (isErrno(abs)) return abs;
  const target = c.kernel.fs.openPath(c.task, abs, (mask & IN_DONT_FOLLOW) !== 0, (mask & IN_ONLYDIR) !== 0);
  return withFd(target, (t) => {
    const n = native();
    const pidfd = n.pidfdOpen(c.task.hostTid, PIDFD_THREAD);
    if (pidfd < 0) return errnoOf(-pidfd);
    const dup = n.pidfdGetfd(pidfd, fd);
    n.close(pidfd);
    if (dup < 0) return EBADF;
    // The walk already applied IN_DONT_FOLLOW and IN_ONLYDIR; the /proc link must be followed.
    const wd = n.inotifyAddWatch(dup, `/proc/self/fd/${t}`, mask & ~(IN_DONT_FOLLOW | IN_ONLYDIR));
    n.close(dup);
    return wd < 0 ? errnoOf(-wd) : wd;
  });
}
