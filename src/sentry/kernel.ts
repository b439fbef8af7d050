// Per-sandbox kernel state, like gVisor's kernel.Kernel: the filesystem view, the task
// table, system identity and the counters the usage report and --debug summary print.
import type { Errno } from './abi/errno.js';
import type { Utsname } from './abi/utsname.js';
import type { Task, TaskTable } from './task/tasks.js';
import type { IdMap } from './ids.js';
import type { SandboxMemory } from './vfs/procfiles.js';
import type { MountTable } from './vfs/mounts.js';
import type { SandboxFs } from './vfs/sandboxfs.js';

export type NetworkMode = 'none' | 'host';

export interface KernelCounters {
  /** Trapped calls answered, by syscall name. */
  trapped: Map<string, number>;
  /** Trapped calls without a handler (answered ENOSYS), by name. */
  missing: Map<string, number>;
}

export class Kernel {
  readonly counters: KernelCounters = { trapped: new Map(), missing: new Map() };

  constructor(
    /** The seccomp listener fd of this sandbox. */
    readonly listener: number,
    readonly fs: SandboxFs,
    readonly tasks: TaskTable,
    /** What uname(2) reports (nodename: the sandbox's hostname); null: the kernel's, for a
     * sandbox in a UTS namespace it joined. */
    readonly uts: Utsname | null,
    readonly network: NetworkMode,
    readonly hooks: KernelHooks = {},
    /** The mounts tasks made (syscalls/mount.ts); null where tasks may make none (the
     * sandbox was not granted CAP_SYS_ADMIN). */
    readonly mounts: MountTable | null = null,
  ) {}
}

/** What the sandbox around the sentry provides it. */
export interface KernelHooks {
  /** Makes the sentry's thread act with TASK's credentials before its call is handled
   * (src/sandbox/creds.ts); an Errno if they cannot be known (the task died). Absent:
   * the thread acts as it is. */
  actFor?: (task: Task, stillValid: () => boolean) => Errno | undefined;
  /** The sandbox's memory limit and use, when it has a limit: what sysinfo(2) and
   * /proc/meminfo report as the machine's memory. */
  memory?: () => SandboxMemory | null;
  /** How ids translate, for a sandbox in a user namespace of its own (ids.ts). */
  ids?: IdMap;
  /** The sentry has answered every pending call: the thread may go back to being itself
   * for the rest of the process (src/sandbox/creds.ts). */
  idle?: () => void;
}
