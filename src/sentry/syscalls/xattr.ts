// Extended attributes by name: getxattr(2), setxattr(2), listxattr(2), removexattr(2), their
// l* variants and the *xattrat calls of Linux 6.13; and the inode flags of file_getattr and
// file_setattr (Linux 6.17). The name is resolved by the sentry's walk to an O_PATH fd, and
// the kernel reads or changes that very file through /proc/self/fd (the f* calls refuse
// O_PATH fds). fgetxattr and flistxattr pass through: they read a granted fd; fsetxattr and
// fremovexattr are the sentry's, as the by-name calls that change a file.
import { native } from '../../native.js';
import { E2BIG, EINTR, EINVAL, ENAMETOOLONG, ENOENT, EPERM, ERANGE, errnoOf, isErrno, type Errno } from '../abi/errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW } from '../abi/fcntl.js';
import type { Call } from '../call.js';
import type { SyscallResult } from '../result.js';
import { openPathAt, openPathToChange, openTaskFdToChange, pathArg, withFd } from './at.js';

/** linux/limits.h */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const XATTR_LIST_MAX = 65536;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
/** linux/xattr.h: struct xattr_args { u64 value; u32 size; u32 flags; } */
const XATTR_ARGS_SIZE_VER0 = 16;
/** linux/fs.h: struct file_attr, its first version (the only one so far). */
const FILE_ATTR_SIZE_VER0 = 24;
/** Bigger argument structs than a page are E2BIG (copy_struct_from_user's callers). */
const PAGE_SIZE = 4096;

/** Runs fn on a /proc/self/fd path to the file a call names. */
type Target = (fn: (path: string) => SyscallResult) => SyscallResult;

/** The file a by-name call names: register 0's path, following symlinks unless NOFOLLOW. */
function byName(c: Call, nofollow: boolean, change = false): Target {
  return (fn) => {
    const path = pathArg(c, 0);
    if (isErrno(path)) return path;
    if (path === '') return ENOENT;
    const abs = c.kernel.fs.absolute(c.task, AT_FDCWD, path);
    if (isErrno(abs)) return abs;
    const fd = c.kernel.fs.openPath(c.task, abs, nofollow);
    if (change && !isErrno(fd) && !c.kernel.fs.mayChange(c.task, fd)) {
      native().close(fd);
      return EPERM;
    }
    return onFd(fd, fn);
  };
}

/** The file an *at call names: dirfd, path (NULL with AT_EMPTY_PATH: dirfd itself) and at
 * flags in registers 0, 1 and FLAGS. CHANGE: the call changes the file (openPathToChange). */
function byAt(c: Call, flagsReg: number, change = false): Target | Errno {
  const atFlags = c.args.u32(flagsReg);
  if (atFlags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) return EINVAL;
  const emptyPath = (atFlags & AT_EMPTY_PATH) !== 0;
  const open = change ? openPathToChange : openPathAt;
  return (fn) => {
    const path = c.args.ptr(1) === 0 && emptyPath ? '' : pathArg(c, 1);
    if (isErrno(path)) return path;
    return onFd(open(c, c.args.i32(0), path, (atFlags & AT_SYMLINK_NOFOLLOW) !== 0, emptyPath), fn);
  };
}

/** The file behind the task's fd in register 0, for fsetxattr and fremovexattr. */
function byFd(c: Call): Target {
  return (fn) => onFd(openTaskFdToChange(c, c.args.i32(0)), fn);
}

function onFd(fd: number | Errno, fn: (path: string) => SyscallResult): SyscallResult {
  return withFd(fd, (f) => fn(`/proc/self/fd/${f}`));
}

/** An attribute name: at most XATTR_NAME_MAX bytes, not empty (Linux: ERANGE). */
function copyInName(c: Call, i: number): string | Errno {
  const addr = c.args.ptr(i);
  const s = native().readString(c.task.hostTid, addr, XATTR_NAME_MAX);
  if (s === -ENAMETOOLONG.code) return ERANGE;
  if (typeof s === 'number') return errnoOf(-s);
  if (s === '') return ERANGE;
  return c.stillValid() ? s : EINTR;
}

/** struct xattr_args at register 4, sized by register 5: where the value is, its size
 * and the flags, checked as Linux does (a bigger struct must be zero past what we know). */
function copyInXattrArgs(c: Call): { value: number; size: number; flags: number } | Errno {
  const usize = c.args.u64(5);
  if (usize > PAGE_SIZE) return E2BIG;
  if (usize < XATTR_ARGS_SIZE_VER0) return EINVAL;
  const raw = c.copyIn(c.args.ptr(4), usize);
  if (isErrno(raw)) return raw;
  if (raw.subarray(XATTR_ARGS_SIZE_VER0).some((b) => b !== 0)) return E2BIG;
  return { value: Number(raw.readBigUInt64LE(0)), size: raw.readUInt32LE(8), flags: raw.readUInt32LE(12) };
}

function get(c: Call, target: Target, name: string | Errno, valueAddr: number, wanted: number): SyscallResult {
  if (isErrno(name)) return name;
  const size = Math.min(wanted, XATTR_SIZE_MAX);
  return target((p) => {
    const buf = Buffer.alloc(size);
    const n = native().getxattr(p, name, buf);
    if (n < 0) return errnoOf(-n);
    return size === 0 ? n : (c.copyOut(valueAddr, buf, n) ?? n);
  });
}

function list(c: Call, target: Target, listAddr: number, wanted: number): SyscallResult {
  const size = Math.min(wanted, XATTR_LIST_MAX);
  return target((p) => {
    const buf = Buffer.alloc(size);
    const n = native().listxattr(p, buf);
    if (n < 0) return errnoOf(-n);
    return size === 0 ? n : (c.copyOut(listAddr, buf, n) ?? n);
  });
}

function set(c: Call, target: Target, name: string | Errno, valueAddr: number, size: number, flags: number): SyscallResult {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  if (isErrno(name)) return name;
  if (size > XATTR_SIZE_MAX) return E2BIG;
  const value = c.copyIn(valueAddr, size);
  if (isErrno(value)) return value;
  return target((p) => {
    const r = native().setxattr(p, name, value, flags);
    return r < 0 ? errnoOf(-r) : 0;
  });
}

function remove(target: Target, name: string | Errno): SyscallResult {
  if (isErrno(name)) return name;
  return target((p) => {
    const r = native().removexattr(p, name);
    return r < 0 ? errnoOf(-r) : 0;
  });
}

/** getxattr(2). */
export const getxattr = (c: Call): SyscallResult => get(c, byName(c, false), copyInName(c, 1), c.args.ptr(2), c.args.u64(3));
/** lgetxattr(2). */
export const lgetxattr = (c: Call): SyscallResult => get(c, byName(c, true), copyInName(c, 1), c.args.ptr(2), c.args.u64(3));
/** listxattr(2). */
export const listxattr = (c: Call): SyscallResult => list(c, byName(c, false), c.args.ptr(1), c.args.u64(2));
/** llistxattr(2). */
export const llistxattr = (c: Call): SyscallResult => list(c, byName(c, true), c.args.ptr(1), c.args.u64(2));
/** setxattr(2). */
export const setxattr = (c: Call): SyscallResult => set(c, byName(c, false, true), copyInName(c, 1), c.args.ptr(2), c.args.u64(3), c.args.i32(4));
/** lsetxattr(2). */
export const lsetxattr = (c: Call): SyscallResult => set(c, byName(c, true, true), copyInName(c, 1), c.args.ptr(2), c.args.u64(3), c.args.i32(4));
/** fsetxattr(2): made by the sentry, so that the sandbox's root, which holds CAP_SETFCAP
 * and CAP_DAC_OVERRIDE, gives no file capabilities and sets no attributes on a host
 * file it holds an fd to, nor security.* on any (as setxattr by name). */
export const fsetxattr = (c: Call): SyscallResult => set(c, byFd(c), copyInName(c, 1), c.args.ptr(2), c.args.u64(3), c.args.i32(4));
/** fremovexattr(2), likewise. */
export const fremovexattr = (c: Call): SyscallResult => remove(byFd(c), copyInName(c, 1));
/** removexattr(2). */
export const removexattr = (c: Call): SyscallResult => remove(byName(c, false, true), copyInName(c, 1));
/** lremovexattr(2). */
export const lremovexattr = (c: Call): SyscallResult => remove(byName(c, true, true), copyInName(c, 1));

/** getxattrat(2): (dirfd, path, at_flags, name, struct xattr_args *, size). */
export function getxattrat(c: Call): SyscallResult {
  const target = byAt(c, 2);
  if (isErrno(target)) return target;
  const args = copyInXattrArgs(c);
  if (isErrno(args)) return args;
  if (args.flags !== 0) return EINVAL;
  return get(c, target, copyInName(c, 3), args.value, args.size);
}

/** setxattrat(2): the value, its size and XATTR_CREATE/REPLACE come in struct xattr_args. */
export function setxattrat(c: Call): SyscallResult {
  const target = byAt(c, 2, true);
  if (isErrno(target)) return target;
  const args = copyInXattrArgs(c);
  if (isErrno(args)) return args;
  return set(c, target, copyInName(c, 3), args.value, args.size, args.flags);
}

/** listxattrat(2): (dirfd, path, at_flags, list, size). */
export function listxattrat(c: Call): SyscallResult {
  const target = byAt(c, 2);
  return isErrno(target) ? target : list(c, target, c.args.ptr(3), c.args.u64(4));
}

/** removexattrat(2): (dirfd, path, at_flags, name). */
export function removexattrat(c: Call): SyscallResult {
  const target = byAt(c, 2, true);
  return isErrno(target) ? target : remove(target, copyInName(c, 3));
}

/** The struct file_attr size at register 3, checked as Linux does. */
function fileAttrSize(c: Call): number | Errno {
  const usize = c.args.u64(3);
  if (usize > PAGE_SIZE) return E2BIG;
  return usize < FILE_ATTR_SIZE_VER0 ? EINVAL : usize;
}

/** file_getattr(2): (dirfd, path, struct file_attr *, size, at_flags). */
export function fileGetattr(c: Call): SyscallResult {
  const target = byAt(c, 4);
  if (isErrno(target)) return target;
  const usize = fileAttrSize(c);
  if (isErrno(usize)) return usize;
  return target((p) => {
    const attr = Buffer.alloc(usize);
    const r = native().fileAttr(p, attr, false);
    if (r < 0) return errnoOf(-r);
    return c.copyOut(c.args.ptr(2), attr) ?? 0;
  });
}

/** file_setattr(2): the kernel checks the flags and the caller's right to set them. */
export function fileSetattr(c: Call): SyscallResult {
  const target = byAt(c, 4, true);
  if (isErrno(target)) return target;
  const usize = fileAttrSize(c);
  if (isErrno(usize)) return usize;
  const attr = c.copyIn(c.args.ptr(2), usize);
  if (isErrno(attr)) return attr;
  return target((p) => {
    const r = native().fileAttr(p, attr, true);
    return r < 0 ? errnoOf(-r) : 0;
  });
}
