// Opening a FIFO blocks until its other end is opened, and that other end is often opened
// by another task of the same sandbox, through the same sentry: an open done on the
// sentry's loop would deadlock the sandbox. Such opens are redone on libuv's thread pool
// through the sentry's O_PATH fd of the FIFO and answered when they complete; the loop
// goes on serving every other task. If the task dies meanwhile, or a signal comes that
// would interrupt the open (task/signals.ts), the sentry interrupts the pool thread's open
// (addon/blocking.cc) and drops what it got.
import { native } from '../../native.js';
import { EINTR, ERESTARTSYS, errnoOf, type Errno } from '../abi/errno.js';
import { AT_EACCESS, AT_EMPTY_PATH, O_ACCMODE, O_WRONLY, R_OK, W_OK, O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDWR, O_CREAT, O_EXCL, O_DIRECTORY, __O_TMPFILE, S_IFIFO, S_IFMT } from '../abi/fcntl.js';
import { SIZEOF_STAT, statMode } from '../abi/stat.js';

const statBuf = Buffer.alloc(SIZEOF_STAT);
/** How often a pending FIFO open checks on its task (alive, not signalled). */
const CHECK_MS = 20;

/** Whether an open with these flags could block on a FIFO. O_RDWR never blocks on one,
 * O_NONBLOCK never blocks, and directories or new files cannot be FIFOs. */
export function mayBlock(flags: number): boolean {
  if (flags & (O_PATH | O_NONBLOCK | O_DIRECTORY | __O_TMPFILE)) return false;
  if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return false;
  return (flags & O_ACCMODE) !== O_RDWR;
}

/** Whether an fd (O_PATH is enough) is a FIFO. */
export function isFifo(fd: number): boolean {
  return native().fstatat(fd, '', AT_EMPTY_PATH, statBuf) === 0 && (statMode(statBuf) & S_IFMT) === S_IFIFO;
}

/** Opens the FIFO behind pathFd (an O_PATH fd the sentry owns, closed here) with the
 * task's flags, off the loop. Resolves to the new fd, or an Errno: ERESTARTSYS once
 * signalled() says a signal must interrupt it. The pool thread has the sentry's own
 * credentials, so the task's permission is checked here first. */
export function openFifo(
  pathFd: number, flags: number, stillValid: () => boolean, signalled: () => boolean,
): Promise<number | Errno> | Errno {
  const want = (flags & O_ACCMODE) === O_WRONLY ? W_OK : R_OK;
  const denied = native().faccessat(pathFd, '', want, AT_EMPTY_PATH | AT_EACCESS);
  if (denied < 0) {
    native().close(pathFd);
    return errnoOf(-denied);
  }
  const link = `/proc/self/fd/${pathFd}`;
  // The link is a magic link: O_NOFOLLOW would refuse it; the walk already applied it.
  const reopenFlags = (flags & ~O_NOFOLLOW) | O_CLOEXEC;
  return new Promise((resolve) => {
    /** Why the open was given up: the task died (nobody waits), or a signal came. */
    let gaveUp: Errno | undefined;
    const open = native().openBlocking(link, reopenFlags, (fd) => {
      clearInterval(timer);
      native().close(pathFd);
      // Nobody waits for the answer of a dead task. A signalled one takes an open that
      // completed before the cancel reached it: the signal is delivered right after.
      if (gaveUp === EINTR && fd >= 0) native().close(fd);
      if (gaveUp && (gaveUp === EINTR || fd < 0)) resolve(gaveUp);
      else resolve(fd < 0 ? errnoOf(-fd) : fd);
    });
    const timer = setInterval(() => {
      if (!stillValid()) gaveUp = EINTR;
      else if (signalled()) gaveUp = ERESTARTSYS;
      else return;
      clearInterval(timer);
      // Only the pool thread blocked in this open is interrupted: opening the FIFO's other
      // end instead would also wake every other opener waiting on it.
      open.cancel();
    }, CHECK_MS);
  });
}
