// /dev/tty names the opener's controlling terminal. The sentry opens names for tasks, so a
// plain open of /dev/tty would give the sentry's own terminal (or ENXIO): a task under a
// console socket's pty would reach the user's terminal instead. The sentry opens the
// task's terminal itself: through a fd the task holds on it, else the sandbox's devpts.
import { readdirSync, readFileSync } from 'node:fs';
import { native } from '../../native.js';
import { ENOENT, ENXIO, errnoOf, type Errno } from '../abi/errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, S_IFCHR, S_IFMT } from '../abi/fcntl.js';
import { SIZEOF_STAT, STAT_OFFSETS, statMode } from '../abi/stat.js';
import { viaTaskFd, type Task } from '../task/tasks.js';

const statBuf = Buffer.alloc(SIZEOF_STAT);

/** The device number of /dev/tty itself: major 5, minor 0. */
const DEV_TTY = (5 << 8) | 0;
/** The major of Unix98 pty slaves: /dev/pts/N is minor N. */
const PTS_MAJOR = 136;

/** The character device an fd (or path) is, as an encoded dev_t, or null. */
function charDevice(stat: (buf: Buffer) => number): bigint | null {
  if (stat(statBuf) < 0 || (statMode(statBuf) & S_IFMT) !== S_IFCHR) return null;
  return statBuf.readBigUInt64LE(STAT_OFFSETS.st_rdev);
}

/** Whether FD is /dev/tty itself (reached by whatever name). */
export function isDevTty(fd: number): boolean {
  return charDevice((b) => native().fstatat(fd, '', AT_EMPTY_PATH, b)) === BigInt(DEV_TTY);
}

/** The task's controlling terminal (tty_nr of /proc/<tid>/stat), 0 for none. */
function controllingTerminal(task: Task): number {
  try {
    const stat = readFileSync(`/proc/${task.hostTid}/stat`, 'latin1');
    // Fields after the command (which may hold spaces): state ppid pgrp session tty_nr.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
  } catch {
    return 0;
  }
}

/** The task's fd numbers, stdio first; only stdio if the list is closed to the sentry. */
function taskFds(task: Task): number[] {
  let listed: number[] = [];
  try {
    listed = readdirSync(`/proc/${task.hostTid}/fd`).map(Number).filter((fd) => fd > 2);
  } catch {
    // Not dumpable after an identity change: its fd directory belongs to root.
  }
  return [0, 1, 2, ...listed];
}

/**
 * Opens the controlling terminal of TASK with FLAGS, as opening /dev/tty would for it;
 * OPEN_PTS opens /dev/pts/N of the sandbox (a negative errno on failure). ENXIO if the
 * task has none, or none the sentry can reach.
 */
export function openControllingTerminal(task: Task, flags: number, openPts: (path: string) => number): number | Errno {
  const tty = controllingTerminal(task);
  if (tty === 0) return ENXIO;
  const want = BigInt(tty);
  const n = native();
  for (const fd of taskFds(task)) {
    const dev = charDevice((b) => viaTaskFd(task, fd, (p) => n.fstatat(AT_FDCWD, p, 0, b)));
    if (dev !== want) continue;
    const opened = viaTaskFd(task, fd, (p) => n.openat2(AT_FDCWD, p, flags, 0, 0));
    return opened < 0 ? errnoOf(-opened) : opened;
  }
  // tty_nr is encoded as the kernel's new_encode_dev does.
  const major = (tty >> 8) & 0xfff, minor = (tty & 0xff) | ((tty >> 12) & 0xfff00);
  if (major !== PTS_MAJOR) return ENXIO;
  const fd = openPts(`/dev/pts/${minor}`);
  if (fd < 0) return fd === -ENOENT.code ? ENXIO : errnoOf(-fd);
  // Another devpts instance's terminal (the host's): not the sandbox's to hand out.
  if (charDevice((b) => n.fstatat(fd, '', AT_EMPTY_PATH, b)) !== want) {
    n.close(fd);
    return ENXIO;
  }
  return fd;
}
