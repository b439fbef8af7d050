// The notification loop of one sandbox: receive every pending trapped call, dispatch it to
// its handler, answer it. It runs on the thread that created it, driven by a uv_poll on
// the listener (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP makes the wake-up a direct hand-off).
// A handler that must wait returns a Promise; its call is answered when that settles,
// while the loop goes on serving every other task.
import { native, watch, type Watcher } from '../native.js';
import { EAGAIN, EINTR, ENOENT, ENOSYS, EIO, isErrno, type Errno } from './abi/errno.js';
import { O_CLOEXEC } from './abi/fcntl.js';
import { AUDIT_ARCH_X86_64, Notification, SECCOMP_USER_NOTIF_FLAG_CONTINUE, SIZEOF_SECCOMP_NOTIF } from './abi/seccomp.js';
import { Call } from './call.js';
import type { Kernel } from './kernel.js';
import { InjectFd, type Immediate } from './result.js';
import type { DispatchEntry } from './syscalls/index.js';
import type { Strace } from './strace.js';

export interface SentryLog {
  warn(msg: string): void;
}

export class Sentry {
  private readonly buf = Buffer.alloc(SIZEOF_SECCOMP_NOTIF);
  private watcher: Watcher | undefined;
  private readonly missingLogged = new Set<string>();

  constructor(
    readonly kernel: Kernel,
    private readonly dispatch: readonly (DispatchEntry | undefined)[],
    private readonly log: SentryLog,
    private readonly strace?: Strace,
  ) {}

  start(): void {
    const n = native();
    // Kernels before 6.6 lack the flag; the loop is correct without it, only slower.
    const r = n.notifSetSyncWakeup(this.kernel.listener);
    if (r < 0) this.log.warn(`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable (errno ${-r}); trapped calls will be slower`);
    this.watcher = watch(this.kernel.listener, () => this.receive());
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  /** Answers every notification pending now: one wake-up, as many calls as are queued. */
  private receive(): void {
    for (;;) {
      const r = native().notifRecv(this.kernel.listener, this.buf);
      if (r === -EAGAIN.code) {
        this.kernel.hooks.idle?.();
        return;
      }
      // The task died (or was signalled) between the wake-up and the receive.
      if (r === -ENOENT.code || r === -EINTR.code) continue;
      if (r < 0) {
        // EPIPE: no task uses the filter any more. Anything else: the listener failed.
        // Either way no call is pending: the thread is the process's own again.
        this.stop();
        this.kernel.hooks.idle?.();
        return;
      }
      this.handle(new Notification(this.buf));
    }
  }

  private handle(notif: Notification): void {
    const d = notif.arch === AUDIT_ARCH_X86_64 ? this.dispatch[notif.nr] : undefined;
    if (!d) {
      // The filter kills foreign arches and answers unknown numbers itself; a trap here
      // means filter and table disagree.
      this.reply(notif, ENOSYS);
      return;
    }
    const name = d.entry.name;
    const counters = this.kernel.counters.trapped;
    counters.set(name, (counters.get(name) ?? 0) + 1);
    const stillValid = (): boolean => native().notifIdValid(this.kernel.listener, notif.id);
    const task = this.kernel.tasks.lookup(notif.pid, stillValid);
    if (isErrno(task)) {
      this.reply(notif, task);
      return;
    }
    const unknown = this.kernel.hooks.actFor?.(task, stillValid);
    if (unknown) {
      this.reply(notif, unknown);
      return;
    }
    const call = new Call(this.kernel, task, notif);
    const trace = this.strace?.begin(call, d.entry);
    let result;
    try {
      result = d.handler ? d.handler(call) : this.missing(name);
    } catch (err) {
      // An exception out of a handler is a sentry bug: log it with the call, answer EIO.
      this.log.warn(`bug: ${name} handler threw: ${(err as Error).stack ?? String(err)}`);
      result = EIO;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.finish(notif, r, trace),
        (err: unknown) => {
          this.log.warn(`bug: ${name} handler rejected: ${String(err)}`);
          this.finish(notif, EIO, trace);
        },
      );
    } else {
      this.finish(notif, result, trace);
    }
  }

  private finish(notif: Notification, result: Immediate, trace: ((r: Immediate, fd?: number) => void) | undefined): void {
    const installed = this.reply(notif, result);
    trace?.(result, installed);
  }

  private missing(name: string): Errno {
    const missing = this.kernel.counters.missing;
    missing.set(name, (missing.get(name) ?? 0) + 1);
    if (!this.missingLogged.has(name)) {
      this.missingLogged.add(name);
      this.log.warn(`unimplemented syscall ${name}: answering ENOSYS`);
    }
    return ENOSYS;
  }

  /** Sends one answer; returns the fd number installed in the task for InjectFd. A send
   * that fails with ENOENT means the task gave up the call (it died): nothing to do. */
  private reply(notif: Notification, result: Immediate): number | undefined {
    const n = native(), listener = this.kernel.listener;
    if (typeof result === 'number') {
      n.notifRespond(listener, notif.id, result, 0, 0);
    } else if (result instanceof InjectFd) {
      const flags = result.cloexec ? O_CLOEXEC : 0;
      if (!result.writable) {
        // Installed and answered at once (ADDFD_FLAG_SEND); the sentry's copy goes after.
        const fd = n.notifAddFd(listener, notif.id, result.hostFd, flags, true);
        n.close(result.hostFd);
        // ADDFD fails (EMFILE at the task's RLIMIT_NOFILE, say): the call still needs an answer.
        if (fd < 0 && fd !== -ENOENT.code) n.notifRespond(listener, notif.id, 0, -fd, 0);
        return fd;
      }
      // Installed, then answered once the sentry's copy is closed, so that the task's own
      // close is the last one, as under Linux: IN_CLOSE_WRITE, a FIFO's EOF and the like
      // wait for the last close, and with an answer in one step the task often runs first.
      // The extra round trip (the task installs the fd, then waits again) is paid by
      // writable opens only. Safe because the task waits killably (WAIT_KILLABLE_RECV): no
      // signal can abandon the call in between and leave it an fd it never learns of.
      const fd = n.notifAddFd(listener, notif.id, result.hostFd, flags, false);
      n.close(result.hostFd);
      if (fd >= 0) n.notifRespond(listener, notif.id, fd, 0, 0);
      else if (fd !== -ENOENT.code) n.notifRespond(listener, notif.id, 0, -fd, 0);
      return fd;
    } else if (isErrno(result)) {
      n.notifRespond(listener, notif.id, 0, result.code, 0);
    } else {
      n.notifRespond(listener, notif.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
    }
    return undefined;
  }
}
