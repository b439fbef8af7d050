// One trapped syscall in flight: the task, its decoded registers, and the copy-in/copy-out
// helpers. Every copy-in re-checks SECCOMP_IOCTL_NOTIF_ID_VALID after reading, so a
// decision is never taken on memory of a task that has moved on (or a recycled tid).
import { native } from '../native.js';
import { EFAULT, EINTR, ENAMETOOLONG, errnoOf, type Errno } from './abi/errno.js';
import { PATH_MAX } from './abi/fcntl.js';
import type { Notification } from './abi/seccomp.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task/tasks.js';

export class Call {
  constructor(
    readonly kernel: Kernel,
    readonly task: Task,
    readonly args: Notification,
  ) {}

  /** Whether the task is still blocked in this very call. */
  stillValid(): boolean {
    return native().notifIdValid(this.kernel.listener, this.args.id);
  }

  /** Copies in a NUL-terminated path (at most PATH_MAX bytes with its NUL). */
  copyInPath(addr: number): string | Errno {
    if (addr === 0) return EFAULT;
    const s = native().readString(this.task.hostTid, addr, PATH_MAX - 1);
    if (typeof s === 'number') return s === -ENAMETOOLONG.code ? ENAMETOOLONG : errnoOf(-s);
    return this.stillValid() ? s : EINTR;
  }

  /** Copies in len bytes. */
  copyIn(addr: number, len: number): Buffer | Errno {
    if (len === 0) return Buffer.alloc(0);
    if (addr === 0) return EFAULT;
    const buf = Buffer.allocUnsafe(len);
    const n = native().readMem(this.task.hostTid, addr, buf, len);
    if (n < 0) return errnoOf(-n);
    if (n !== len) return EFAULT;
    return this.stillValid() ? buf : EINTR;
  }

  /** Copies out buf[0..len) (all of buf by default). Returns null on success. */
  copyOut(addr: number, buf: Buffer, len = buf.length): Errno | null {
    if (len === 0) return null;
    if (addr === 0) return EFAULT;
    const n = native().writeMem(this.task.hostTid, addr, buf, len);
    if (n < 0) return errnoOf(-n);
    return n === len ? null : EFAULT;
  }
}
