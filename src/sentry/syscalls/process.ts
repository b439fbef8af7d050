// Process syscalls the sentry answers. The process tree itself (fork, wait, signals) is
// the kernel's, inside the sandbox's pid namespace: see task/tasks.ts for why.
import { native } from '../../native.js';
import { EACCES, EBADF, EINVAL, ELOOP, ENOENT, errnoOf, isErrno, type Errno } from '../abi/errno.js';
import { AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, S_IFLNK, S_IFMT, S_IFREG, X_OK } from '../abi/fcntl.js';
import { SIZEOF_STAT, statMode } from '../abi/stat.js';
import type { Call } from '../call.js';
import { CONTINUE, type SyscallResult } from '../result.js';

const statBuf = Buffer.alloc(SIZEOF_STAT);

// execve cannot be answered by a notification: the kernel must load the image. The sentry
// resolves the name with its own walk first, so a missing or non-executable program gets
// Linux's errno, then lets the kernel exec it. The kernel resolves the same name in the
// sandbox's own mount namespace, so a name swapped after the check still names a file of
// that sandbox; what is executable there is exactly what the sandbox may run.
function execveAt(c: Call, dirfd: number, path: string | Errno, flags: number): SyscallResult {
  if (isErrno(path)) return path;
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) return EINVAL;
  const fs = c.kernel.fs;
  let fd: number | Errno;
  if (path === '') {
    if (!(flags & AT_EMPTY_PATH)) return ENOENT;
    if (dirfd === AT_FDCWD) fd = EACCES;
    else fd = dirfd < 0 ? EBADF : fs.openPath(c.task, `/proc/self/fd/${dirfd}`, false);
  } else {
    const abs = fs.absolute(c.task, dirfd, path);
    if (isErrno(abs)) return abs;
    fd = fs.openPath(c.task, abs, (flags & AT_SYMLINK_NOFOLLOW) !== 0);
  }
  if (isErrno(fd)) return fd;
  const n = native();
  try {
    const st = n.fstatat(fd, '', AT_EMPTY_PATH, statBuf);
    if (st < 0) return errnoOf(-st);
    // A final symlink kept by AT_SYMLINK_NOFOLLOW is opened as O_NOFOLLOW would: ELOOP.
    if ((statMode(statBuf) & S_IFMT) === S_IFLNK) return ELOOP;
    if ((statMode(statBuf) & S_IFMT) !== S_IFREG) return EACCES;
    const acc = n.faccessat(fd, '', X_OK, AT_EMPTY_PATH | AT_EACCESS);
    if (acc < 0) return errnoOf(-acc);
  } finally {
    n.close(fd);
  }
  // Exec recomputes capabilities (a non-root task loses those it kept): re-read them after.
  c.task.creds = undefined;
  return CONTINUE;
}

/** execve(2). */
export function execve(c: Call): SyscallResult {
  return execveAt(c, AT_FDCWD, c.copyInPath(c.args.ptr(0)), 0);
}

/** execveat(2). */
export function execveat(c: Call): SyscallResult {
  const flags = c.args.i32(4);
  const path = c.args.ptr(1) === 0 && flags & AT_EMPTY_PATH ? '' : c.copyInPath(c.args.ptr(1));
  return execveAt(c, c.args.i32(0), path, flags);
}

/** umask(2). The sentry keeps the mask because it creates files for the task; the kernel
 * keeps its copy too (children inherit it, and the sentry reads it for them). */
export function umask(c: Call): SyscallResult {
  c.task.group.umask = c.args.u32(0) & 0o777;
  return CONTINUE;
}
