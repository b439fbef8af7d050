// The sentry opens, creates and checks files on behalf of tasks, so it must act with their
// identity, not the host root's: before it answers a call, the thread that runs the
// sentries takes on the calling task's fs ids, groups and file capabilities, as the kernel
// reports them in /proc/<tid>/status (src/sentry/task/tasks.ts). The kernel then applies
// every permission rule (DAC, ACLs, search permission on each directory, read-only mounts)
// as it would for the task itself. Only this thread changes (raw per-thread syscalls in the
// addon), only when the identity differs from the one it wears, and its own comes back
// when the last sandbox ends.
//
// The tasks hold real credentials: the launcher switches ids and keeps the capabilities
// sandbox.ts grants, so that setuid(2) and friends follow Linux's rules in the kernel, and
// the sentry learns the outcome from /proc afterwards.
import { access, readFileSync } from 'node:fs';
import { native } from '../native.js';
import { CAPABILITY_NAMES, capabilityMask, ACTING_CAPABILITIES } from '../sentry/abi/capability.js';
import type { TaskCreds } from '../sentry/task/tasks.js';
import { OVERFLOW_ID, type IdMap } from '../sentry/ids.js';

/** The identity of sandbox tasks, as the launcher sets it. */
export interface TaskIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

/** What `tsvisor do` runs as: the sandbox's root. */
export const SANDBOX_ROOT: TaskIdentity = { uid: 0, gid: 0, groups: [] };

/**
 * The capabilities a task may really hold. Each is judged by the sentry where it matters
 * (every name goes through it) or acts only inside the sandbox's namespaces: file
 * permissions, identity changes, signals within the pid namespace, low ports, raw sockets
 * (in the sandbox's own network only: see grantedCapabilities), device nodes (which open
 * nothing: every mount is nodev but /dev's own nodes), chroot (the sentry then walks from
 * the task's root: SandboxFs.rootOf), file capabilities (security.* xattrs stay refused)
 * and audit messages (no audit socket can be made). Never granted: what reaches past the
 * namespaces or the sentry (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE, ...).
 */
export const GRANTABLE_CAPABILITIES = capabilityMask([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
  'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP', 'CAP_SYS_CHROOT',
]);

/** A sandbox root's capabilities by default: Docker's default set. */
export const DEFAULT_CAPABILITIES = capabilityMask([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_MKNOD',
  'CAP_AUDIT_WRITE', 'CAP_SETFCAP', 'CAP_SYS_CHROOT',
]);

const CAP_NET_RAW = capabilityMask(['CAP_NET_RAW']);

/** Of the capabilities WANTED, those a sandbox's tasks get: the grantable ones, without
 * CAP_NET_RAW on the host's network, where raw packets would leave as the host's. */
export function grantedCapabilities(wanted: bigint, network: 'none' | 'host'): bigint {
  const granted = wanted & GRANTABLE_CAPABILITIES;
  return network === 'host' ? granted & ~CAP_NET_RAW : granted;
}

/** The default set plus the capabilities NAMES (CAP_ optional, any case), as `docker run
 * --cap-add` takes them; throws an Error naming the first unknown one. */
export function withCapabilities(names: readonly string[]): bigint {
  const full = names.map((n) => (n.toUpperCase().startsWith('CAP_') ? n.toUpperCase() : `CAP_${n.toUpperCase()}`));
  const unknown = full.find((n) => !(CAPABILITY_NAMES as readonly string[]).includes(n));
  if (unknown) throw new Error(`unknown capability \`${unknown}\``);
  return DEFAULT_CAPABILITIES | capabilityMask(full);
}

/** The credentials of a task with IDENTITY whose effective capabilities are CAPS. */
export function fixedCreds(identity: TaskIdentity, caps: bigint): TaskCreds {
  const actingCaps = identity.uid === 0 ? caps & ACTING_CAPABILITIES : 0n;
  return {
    fsuid: identity.uid,
    fsgid: identity.gid,
    groups: identity.groups,
    actingCaps,
    key: `${identity.uid}:${identity.gid}:${identity.groups.join(',')}:${actingCaps}`,
  };
}

/**
 * The one capability the thread keeps whoever it acts for: process_vm_readv/writev check
 * the *real* ids (PTRACE_MODE_ATTACH_REALCREDS), so without it the sentry could not read
 * the memory of a task whose uid is not its own real uid. It overrides no file permission.
 */
const CAP_SYS_PTRACE = capabilityMask(['CAP_SYS_PTRACE']);

interface ThreadCreds {
  fsuid: number;
  fsgid: number;
  groups: number[];
  caps: bigint;
}

function ownCreds(): ThreadCreds {
  const status = readFileSync('/proc/thread-self/status', 'latin1');
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return {
    fsuid: Number(field('Uid').split(/\s+/)[3]),
    fsgid: Number(field('Gid').split(/\s+/)[3]),
    groups: field('Groups').split(/\s+/).filter(Boolean).map(Number),
    caps: BigInt(`0x${field('CapEff') || '0'}`),
  };
}

function apply(c: ThreadCreds): void {
  const low = Number(c.caps & 0xffffffffn), high = Number(c.caps >> 32n);
  const r = native().setThreadCreds(c.fsuid, c.fsgid, c.groups, low, high);
  if (r < 0) throw new Error(`switching the sentry's credentials: errno ${-r}`);
}

let active = 0;
let saved: ThreadCreds | undefined;
/** The key of the task credentials the thread wears, if any, and their fsuid. */
let wearing: string | undefined;
let wearingFsuid: number | undefined;

/** A sandbox whose sentry acts for its tasks starts: the thread's own identity is saved. */
export function enterSandbox(): void {
  if (active++ > 0) return;
  saved = ownCreds();
  // A new thread takes the credentials of the thread that makes it, and libuv makes its
  // pool on first use: made later, while this thread wears a task's identity, the pool
  // would do the process's own file work (state files, logs) as that task for good.
  access('/', () => undefined);
}

/** Gives the thread its own identity back once the last sandbox has ended. */
export function leaveSandbox(): void {
  if (active === 0) return;
  if (--active === 0 && saved) {
    apply(saved);
    saved = undefined;
    wearing = undefined;
  }
}

/**
 * Between calls the thread is the rest of the process's too (cgroup and staging work, the
 * embedder's own code): when it wears a task's identity that is not the process's own fs
 * identity, it goes back to its own. A task of the process's own fsuid is left worn, as
 * switching back and forth on every wake-up would cost six syscalls each way.
 */
export function actAsOwnIfForeign(): void {
  if (!saved || wearing === undefined || wearingFsuid === saved.fsuid) return;
  apply(saved);
  wearing = undefined;
}

/** Takes on CREDS for the calls that follow; nothing to do if already worn. */
export function actAs(creds: TaskCreds): void {
  if (wearing === creds.key) return;
  apply({ fsuid: creds.fsuid, fsgid: creds.fsgid, groups: creds.groups, caps: creds.actingCaps | CAP_SYS_PTRACE });
  wearing = creds.key;
  wearingFsuid = creds.fsuid;
}

/**
 * How the sentry acts for the tasks of a sandbox in a user namespace with id maps (OCI
 * linux.uidMappings): the kernel must judge each file call against that namespace, where a
 * capability counts only over inodes whose owner it maps, and a thread cannot enter it.
 * So the file calls run in an actor inside it (addon/actor.cc), made on the first call,
 * wearing the task's ids as the namespace has them, its file capabilities and CAP_SYS_PTRACE
 * over the namespace's tasks (to follow their /proc entries, as the thread does). The thread
 * itself wears the task's host ids and no capability but CAP_SYS_PTRACE, for the little it
 * does itself (reading the task's memory and /proc entries): never more than the task.
 */
export class NamespacedActing {
  private handle = 0;
  private wearing: string | undefined;

  constructor(private readonly ids: IdMap) {}

  /** Takes on the task's CREDS (host ids, as /proc shows them to the sentry) for the calls
   * that follow; PID is one of the sandbox's tasks. 0, or -errno if no actor could start. */
  actAs(pid: number, creds: TaskCreds): number {
    const n = native();
    n.actorUse(0);
    if (!this.handle) {
      // Made while the thread is still itself: joining needs CAP_SYS_ADMIN over the namespace.
      const handle = n.actorOpen(pid);
      if (handle < 0) return handle;
      this.handle = handle;
    }
    actAs({ ...creds, actingCaps: 0n, key: `${creds.key}:thread` });
    n.actorUse(this.handle);
    if (this.wearing === creds.key) return 0;
    const inside = (kind: 'uid' | 'gid', id: number): number => this.ids.toSandbox(kind, id);
    // CAP_SYS_PTRACE, as the thread keeps it (see above): the task's /proc entries (its
    // cwd, its fds) open only for a caller whose effective capabilities cover the task's.
    const caps = creds.actingCaps | CAP_SYS_PTRACE;
    const r = n.setThreadCreds(inside('uid', creds.fsuid), inside('gid', creds.fsgid),
      creds.groups.map((g) => inside('gid', g)).filter((g) => g !== OVERFLOW_ID),
      Number(caps & 0xffffffffn), Number(caps >> 32n));
    this.wearing = r < 0 ? undefined : creds.key;
    return r;
  }

  /** Between calls: the thread's file work is its own again. */
  idle(): void {
    native().actorUse(0);
    actAsOwnIfForeign();
  }

  /** The sandbox has ended: so does its actor. */
  close(): void {
    if (this.handle) native().actorClose(this.handle);
    this.handle = 0;
  }
}
