// What the *at calls of several families share: a path argument and the file that
// (dirfd, path) names. Helpers, not handlers: index.ts lists the handler modules.
import { native } from '../../native.js';
import { EBADF, ENOENT, EPERM, errnoOf, isErrno, type Errno } from '../abi/errno.js';
import { AT_FDCWD, O_CLOEXEC, O_PATH } from '../abi/fcntl.js';
import { fdFlagsAt, viaTaskFd } from '../task/tasks.js';
import type { Call } from '../call.js';

/** Copies in the path argument at register i. */
export function pathArg(c: Call, i: number): string | Errno {
  return c.copyInPath(c.args.ptr(i));
}

/** O_PATH fd of what (dirfd, path) names; an empty path with AT_EMPTY_PATH is dirfd
 * itself (reached through the task's own /proc fd link). FORSTAT: the caller checks the
 * procfs allow-list itself (SandboxFs.hiddenProc). */
export function openPathAt(c: Call, dirfd: number, path: string, nofollow: boolean, emptyPath: boolean, forStat = false): number | Errno {
  const fs = c.kernel.fs;
  if (path === '') {
    if (!emptyPath) return ENOENT;
    // Not "/proc/self/fd/-1", which would not exist: no such fd.
    if (dirfd < 0 && dirfd !== AT_FDCWD) return EBADF;
    const self = dirfd === AT_FDCWD ? fs.base(c.task, AT_FDCWD) : `/proc/self/fd/${dirfd}`;
    if (isErrno(self)) return self;
    return forStat ? fs.openPathUnchecked(c.task, self, false) : fs.openPath(c.task, self, false);
  }
  const abs = fs.absolute(c.task, dirfd, path);
  if (isErrno(abs)) return abs;
  return forStat ? fs.openPathUnchecked(c.task, abs, nofollow) : fs.openPath(c.task, abs, nofollow);
}

/** openPathAt for a call that changes the file (mode, owner, times, attributes, a new
 * link): EPERM for a host file the task holds an fd to (SandboxFs.mayChange). */
export function openPathToChange(c: Call, dirfd: number, path: string, nofollow: boolean, emptyPath: boolean): number | Errno {
  const fd = openPathAt(c, dirfd, path, nofollow, emptyPath);
  if (isErrno(fd) || c.kernel.fs.mayChange(c.task, fd)) return fd;
  native().close(fd);
  return EPERM;
}

/** O_PATH fd (the sentry's) of the file behind the task's FD, for a call that changes it
 * through the fd (fchmod, fsetxattr, ...): EBADF for no fd or an O_PATH one, which gives
 * no access to its file; EPERM for a host file (SandboxFs.mayChange). */
export function openTaskFdToChange(c: Call, fd: number): number | Errno {
  if (fd < 0) return EBADF;
  const r = viaTaskFd(c.task, fd, (p) => {
    const flags = fdFlagsAt(p);
    if (flags < 0) return flags;
    return flags & O_PATH ? -EBADF.code : native().openat2(AT_FDCWD, p, O_PATH | O_CLOEXEC, 0, 0);
  });
  if (r < 0) return r === -ENOENT.code ? EBADF : errnoOf(-r);
  if (c.kernel.fs.mayChange(c.task, r)) return r;
  native().close(r);
  return EPERM;
}

/** Runs fn with an fd the sentry opened, closing it afterwards. */
export function withFd<T>(fd: number | Errno, fn: (fd: number) => T): T | Errno {
  if (isErrno(fd)) return fd;
  try {
    return fn(fd);
  } finally {
    native().close(fd);
  }
}
