// Extended attributes by name (getxattr(2), setxattr(2), listxattr(2), removexattr(2) and
// their l* variants). The name is resolved by the sentry's walk to an O_PATH fd, and the
// kernel reads or changes the attributes of that very file through /proc/self/fd (the f*
// calls refuse O_PATH fds). The f* variants pass through: they act on granted fds.
import { native } from '../../native.js';
import { E2BIG, EINTR, EINVAL, ENAMETOOLONG, ENOENT, ERANGE, errnoOf, isErrno, type Errno } from '../abi/errno.js';
import { AT_FDCWD } from '../abi/fcntl.js';
import type { Call } from '../call.js';
import type { SyscallResult } from '../result.js';

/** linux/limits.h */
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const XATTR_LIST_MAX = 65536;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** Resolves register 0's path and runs fn on a /proc/self/fd path to the file. */
function onFile(c: Call, nofollow: boolean, fn: (path: string) => SyscallResult): SyscallResult {
  const path = c.copyInPath(c.args.ptr(0));
  if (isErrno(path)) return path;
  if (path === '') return ENOENT;
  const abs = c.kernel.fs.absolute(c.task, AT_FDCWD, path);
  if (isErrno(abs)) return abs;
  const fd = c.kernel.fs.openPath(c.task, abs, nofollow);
  if (isErrno(fd)) return fd;
  try {
    return fn(`/proc/self/fd/${fd}`);
  } finally {
    native().close(fd);
  }
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

function getAt(c: Call, nofollow: boolean): SyscallResult {
  const name = copyInName(c, 1);
  if (isErrno(name)) return name;
  const size = Math.min(c.args.u64(3), XATTR_SIZE_MAX);
  return onFile(c, nofollow, (p) => {
    const buf = Buffer.alloc(size);
    const n = native().getxattr(p, name, buf);
    if (n < 0) return errnoOf(-n);
    return size === 0 ? n : (c.copyOut(c.args.ptr(2), buf, n) ?? n);
  });
}

function listAt(c: Call, nofollow: boolean): SyscallResult {
  const size = Math.min(c.args.u64(2), XATTR_LIST_MAX);
  return onFile(c, nofollow, (p) => {
    const buf = Buffer.alloc(size);
    const n = native().listxattr(p, buf);
    if (n < 0) return errnoOf(-n);
    return size === 0 ? n : (c.copyOut(c.args.ptr(1), buf, n) ?? n);
  });
}

function setAt(c: Call, nofollow: boolean): SyscallResult {
  const size = c.args.u64(3), flags = c.args.i32(4);
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  if (size > XATTR_SIZE_MAX) return E2BIG;
  const name = copyInName(c, 1);
  if (isErrno(name)) return name;
  const value = c.copyIn(c.args.ptr(2), size);
  if (isErrno(value)) return value;
  return onFile(c, nofollow, (p) => {
    const r = native().setxattr(p, name, value, flags);
    return r < 0 ? errnoOf(-r) : 0;
  });
}

function removeAt(c: Call, nofollow: boolean): SyscallResult {
  const name = copyInName(c, 1);
  if (isErrno(name)) return name;
  return onFile(c, nofollow, (p) => {
    const r = native().removexattr(p, name);
    return r < 0 ? errnoOf(-r) : 0;
  });
}

/** getxattr(2). */
export const getxattr = (c: Call): SyscallResult => getAt(c, false);
/** lgetxattr(2). */
export const lgetxattr = (c: Call): SyscallResult => getAt(c, true);
/** listxattr(2). */
export const listxattr = (c: Call): SyscallResult => listAt(c, false);
/** llistxattr(2). */
export const llistxattr = (c: Call): SyscallResult => listAt(c, true);
/** setxattr(2). */
export const setxattr = (c: Call): SyscallResult => setAt(c, false);
/** lsetxattr(2). */
export const lsetxattr = (c: Call): SyscallResult => setAt(c, true);
/** removexattr(2). */
export const removexattr = (c: Call): SyscallResult => removeAt(c, false);
/** lremovexattr(2). */
export const lremovexattr = (c: Call): SyscallResult => removeAt(c, true);
