// What a syscall handler answers. The dispatcher turns each kind into one seccomp reply.
import { Errno } from './abi/errno.js';

/** Answer with a host fd installed in the task (SECCOMP_IOCTL_NOTIF_ADDFD). The
 * dispatcher closes hostFd after installing it: before answering when the task's close
 * must be the file's last (see Sentry.reply), else after. */
export class InjectFd {
  constructor(
    readonly hostFd: number,
    readonly cloexec: boolean,
    /** Opened for writing: IN_CLOSE_WRITE, a FIFO's EOF and the like wait for the last close. */
    readonly writable: boolean,
  ) {}
}

/** Let the kernel run the call as the task made it (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 * Only for calls whose outcome does not depend on memory the task controls, or where the
 * sandbox's own namespaces bound everything the call could reach (each use says which). */
export const CONTINUE = Object.freeze({ continue: true as const });
export type Continue = typeof CONTINUE;

/** A non-negative number is the syscall's return value. */
export type Immediate = number | Errno | InjectFd | Continue;
export type SyscallResult = Immediate | Promise<Immediate>;
