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
import { ESRCH, type Errno } from '../abi/errno.js';
import { PIDFD_THREAD } from '../abi/pidfd.js';


/** State shared by the threads of one process (like Linux's fs_struct). */
export class ThreadGroup {
  /** File mode creation mask; mirrors the kernel's (umask is answered with CONTINUE). */
  umask: number;

  constructor(
    readonly hostTgid: number,
    readonly vpid: number,
    umask: number,
  ) {
    this.umask = umask;
  }
}

/** One thread of the sandbox, like Linux's task_struct as the sentry needs it. */
export class Task {
  constructor(
    readonly hostTid: number,
    readonly vtid: number,
    readonly group: ThreadGroup,
  ) {}

  get vpid(): number {
    return this.group.vpid;
  }
}

interface StatusIds {
  tgid: number;
  vtgid: number;
  vtid: number;
  umask: number;
}

/** Parses the lines of /proc/<tid>/status the sentry needs. */
export function parseStatus(text: string): StatusIds | null {
  const field = (name: string): string[] | undefined => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim().split(/\s+/) : undefined;
  };
  const tgid = field('Tgid'), nsTgid = field('NStgid'), nsPid = field('NSpid'), umask = field('Umask');
  if (!tgid || !nsTgid || !nsPid) return null;
  return {
    tgid: Number(tgid[0]),
    vtgid: Number(nsTgid[nsTgid.length - 1]),
    vtid: Number(nsPid[nsPid.length - 1]),
    umask: umask ? parseInt(umask[0]!, 8) : 0o022,
  };
}

export class TaskTable {
  private readonly tasks = new Map<number, Task>();
  private readonly groups = new Map<number, ThreadGroup>();

  /** The task for a notifying host tid, learned on first sight. `stillValid` re-checks
   * the notification after /proc was read (pid reuse). */
  lookup(hostTid: number, stillValid: () => boolean): Task | Errno {
    const known = this.tasks.get(hostTid);
    if (known) return known;
    let ids: StatusIds | null;
    try {
      ids = parseStatus(readFileSync(`/proc/${hostTid}/status`, 'latin1'));
    } catch {
      return ESRCH;
    }
    if (!ids || !stillValid()) return ESRCH;
    let group = this.groups.get(ids.tgid);
    if (!group) {
      group = new ThreadGroup(ids.tgid, ids.vtgid, ids.umask);
      this.groups.set(ids.tgid, group);
    }
    const task = new Task(hostTid, ids.vtid, group);
    this.tasks.set(hostTid, task);
    this.watchExit(task);
    return task;
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
    this.watchers.set(task.hostTid, () => {
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
