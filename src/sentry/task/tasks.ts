// The sentry's process model: every sandbox task known by host tid and virtual tid.
//
// Why no ptrace here: the launcher puts the workload in its own pid namespace, so the
// kernel already keeps the process tree (parentage, reaping, wait, signals confined to the
// namespace) and already hands the app virtual pids. The sentry learns a task the first
// time it makes a trapped call: /proc/<tid>/status names its ids in every namespace
// (NSpid's last field is the virtual one), and SECCOMP_IOCTL_NOTIF_ID_VALID after that read
// proves the tid still belongs to the notifying task. A pidfd per task tells the sentry
// when the task is gone, so a recycled host tid is never taken for an old task.
import { readFileSync } from 'node:fs';
import { native } from '../../native.js';
import { EACCES, EBADF, ENOENT, ESRCH, type Errno } from '../abi/errno.js';
import { ACTING_CAPABILITIES } from '../abi/capability.js';
import { PIDFD_THREAD } from '../abi/pidfd.js';

/** State shared by the threads of one process (like Linux's fs_struct). */
export class ThreadGroup {
  /** File mode creation mask; mirrors the kernel's (umask is answered with CONTINUE). */
  umask: number;
  /** The root the kernel gave the group's tasks (chroot), by its path from the sandbox's
   * root; null for the sandbox's root itself. Known for SandboxFs.chroots === rootEpoch. */
  root: string | null = null;
  rootEpoch = 0;

  constructor(
    readonly hostTgid: number,
    readonly vpid: number,
    umask: number,
  ) {
    this.umask = umask;
  }
}

/** What the kernel judges a task's file access by: the credentials the sentry's thread
 * takes on to act for it (src/sandbox/creds.ts). */
export interface TaskCreds {
  fsuid: number;
  fsgid: number;
  groups: number[];
  /** The effective capabilities the sentry's thread wears for it (ACTING_CAPABILITIES). */
  actingCaps: bigint;
  /** Equal for equal credentials: whether the thread must switch at all. */
  key: string;
}

/** One thread of the sandbox, like Linux's task_struct as the sentry needs it. */
export class Task {
  /** Its credentials as last read from /proc; undefined once a call may have changed them. */
  creds: TaskCreds | undefined;
  /** A pidfd of this thread while the sentry knows it (its exit watch), else -1. */
  pidfd = -1;

  constructor(
    readonly hostTid: number,
    readonly vtid: number,
    readonly group: ThreadGroup,
    creds: TaskCreds,
  ) {
    this.creds = creds;
  }

  get vpid(): number {
    return this.group.vpid;
  }
}

/**
 * Runs OP on a host path naming the task's fd FD: its link in the host's /proc, or, when
 * that is closed to the identity the sentry wears (a task that changed ids is no longer
 * dumpable, and its fd directory then belongs to root), a duplicate of the fd taken with
 * pidfd_getfd, which checks the sentry's real credentials instead. OP returns a negative
 * errno on failure, as the native calls do; the second try's result is final.
 */
export function viaTaskFd<R>(task: Task, fd: number, op: (hostPath: string) => R | number): R | number {
  const first = op(`/proc/${task.hostTid}/fd/${fd}`);
  if (first !== -EACCES.code) return first;
  const n = native();
  const dup = withTaskPidfd(task, (pidfd) => n.pidfdGetfd(pidfd, fd));
  if (dup < 0) return dup === -EBADF.code ? -ENOENT.code : dup;
  try {
    return op(`/proc/self/fd/${dup}`);
  } finally {
    n.close(dup);
  }
}

/** The open flags (as F_GETFL, O_PATH included) of the fd at HOSTPATH, a viaTaskFd path:
 * the octal `flags:` line of the fdinfo beside it. A negative errno on failure. */
export function fdFlagsAt(hostPath: string): number {
  try {
    const info = readFileSync(hostPath.replace(/\/fd\/(\d+)$/, '/fdinfo/$1'), 'latin1');
    const m = /^flags:\s*([0-7]+)$/m.exec(info);
    return m ? parseInt(m[1]!, 8) : -ENOENT.code;
  } catch (err) {
    return (err as NodeJS.ErrnoException).errno ?? -ENOENT.code;
  }
}

/** The task's soft RLIMIT_FSIZE in bytes (Infinity: unlimited), from its /proc limits. */
export function fileSizeLimit(task: Task): number {
  try {
    const m = /^Max file size\s+(\S+)/m.exec(readFileSync(`/proc/${task.hostTid}/limits`, 'latin1'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

/** Sends SIG to TASK's thread alone, as the kernel's send_sig does. Sent while the task
 * waits for the sentry's answer, it stays pending until that answer is in (the wait is
 * killable only: WAIT_KILLABLE_RECV), so the call returns first, as under Linux. */
export function signalThread(task: Task, sig: number): void {
  // A task already gone has nobody to signal: the error is dropped.
  withTaskPidfd(task, (pidfd) => native().pidfdSendSignal(pidfd, sig));
}

/** OP on a pidfd of TASK's thread: the one its exit watch holds, else one opened for the
 * call (4.8 us). OP's result, or a negative errno from pidfd_open. */
function withTaskPidfd(task: Task, op: (pidfd: number) => number): number {
  if (task.pidfd >= 0) return op(task.pidfd);
  const n = native();
  const pidfd = n.pidfdOpen(task.hostTid, PIDFD_THREAD);
  if (pidfd < 0) return pidfd;
  try {
    return op(pidfd);
  } finally {
    n.close(pidfd);
  }
}

interface StatusIds {
  tgid: number;
  vtgid: number;
  vtid: number;
  umask: number;
  creds: TaskCreds;
}

/** Parses the lines of /proc/<tid>/status the sentry needs. */
export function parseStatus(text: string): StatusIds | null {
  const field = (name: string): string[] | undefined => {
    const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : undefined;
  };
  const tgid = field('Tgid'), nsTgid = field('NStgid'), nsPid = field('NSpid'), umask = field('Umask');
  const uids = field('Uid'), gids = field('Gid'), groups = field('Groups'), capEff = field('CapEff');
  if (!tgid || !nsTgid || !nsPid || uids?.length !== 4 || gids?.length !== 4 || !groups || !capEff) return null;
  // Uid and Gid list real, effective, saved and filesystem ids: files go by the last.
  const fsuid = Number(uids[3]), fsgid = Number(gids[3]);
  const groupList = groups.map(Number);
  const actingCaps = BigInt(`0x${capEff[0]}`) & ACTING_CAPABILITIES;
  return {
    tgid: Number(tgid[0]),
    vtgid: Number(nsTgid[nsTgid.length - 1]),
    vtid: Number(nsPid[nsPid.length - 1]),
    umask: umask ? parseInt(umask[0]!, 8) : 0o022,
    creds: { fsuid, fsgid, groups: groupList, actingCaps, key: `${fsuid}:${fsgid}:${groupList.join(',')}:${actingCaps}` },
  };
}

function readStatus(hostTid: number): StatusIds | null {
  try {
    return parseStatus(readFileSync(`/proc/${hostTid}/status`, 'latin1'));
  } catch {
    return null;
  }
}

export class TaskTable {
  private readonly tasks = new Map<number, Task>();
  private readonly groups = new Map<number, ThreadGroup>();

  /** The task for a notifying host tid, learned on first sight. `stillValid` re-checks
   * the notification after /proc was read (pid reuse). */
  lookup(hostTid: number, stillValid: () => boolean): Task | Errno {
    const known = this.tasks.get(hostTid);
    if (known) return known;
    const ids = readStatus(hostTid);
    if (!ids || !stillValid()) return ESRCH;
    let group = this.groups.get(ids.tgid);
    if (!group) {
      group = new ThreadGroup(ids.tgid, ids.vtgid, ids.umask);
      this.groups.set(ids.tgid, group);
    }
    const task = new Task(hostTid, ids.vtid, group, ids.creds);
    this.tasks.set(hostTid, task);
    this.watchExit(task);
    return task;
  }

  /** The task's credentials, re-read from /proc if a call may have changed them since.
   * `stillValid` as for lookup. */
  credsOf(task: Task, stillValid: () => boolean): TaskCreds | Errno {
    if (task.creds) return task.creds;
    const ids = readStatus(task.hostTid);
    if (!ids || !stillValid()) return ESRCH;
    task.creds = ids.creds;
    return ids.creds;
  }

  /** Drops every task (the sandbox is over). */
  clear(): void {
    for (const stop of this.watchers.values()) stop();
    this.watchers.clear();
    this.tasks.clear();
    this.groups.clear();
  }

  private readonly watchers = new Map<number, () => void>();

  private watchExit(task: Task): void {
    const n = native();
    const pidfd = n.pidfdOpen(task.hostTid, PIDFD_THREAD);
    if (pidfd < 0) return; // Already gone: the next lookup re-reads /proc and fails.
    const watcher = n.watchReadable(pidfd, () => this.forget(task.hostTid));
    if (typeof watcher === 'number') {
      n.close(pidfd);
      return;
    }
    task.pidfd = pidfd;
    this.watchers.set(task.hostTid, () => {
      // Unset first: the number may name another file once closed.
      task.pidfd = -1;
      watcher.stop();
      n.close(pidfd);
    });
  }

  private forget(hostTid: number): void {
    const task = this.tasks.get(hostTid);
    this.watchers.get(hostTid)?.();
    this.watchers.delete(hostTid);
    this.tasks.delete(hostTid);
    if (!task) return;
    const group = task.group;
    for (const t of this.tasks.values()) if (t.group === group) return;
    this.groups.delete(group.hostTgid);
  }
}
