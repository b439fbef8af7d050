// The sentry opens, creates and checks files on behalf of tasks, so it must act with their
// identity, not the host root's: while any sandbox runs, the thread that runs the sentries
// uses the tasks' fs ids and groups, and the file capabilities the sandbox's root holds.
// The kernel then applies every permission rule (DAC, ACLs, search permission on each
// directory, read-only mounts) as it would for the task itself. Only this thread changes
// (raw per-thread syscalls in the addon); its own identity comes back when the last sandbox
// ends.
//
// The launcher drops every real capability from the tasks; the ones a container's root
// expects for files (Docker's default set has them) are the sentry's to use on its behalf:
// every name, and fchown/fchmod on fds, goes through the sentry.
import { readFileSync } from 'node:fs';
import { native } from '../native.js';

/** The identity of sandbox tasks, as the sentry's thread takes it on. */
export interface TaskIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

/** What `tsvisor do` runs as: the sandbox's root. */
export const SANDBOX_ROOT: TaskIdentity = { uid: 0, gid: 0, groups: [] };

/** CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID: the file capabilities of a
 * container's root (not CAP_DAC_READ_SEARCH, which Docker does not grant either). A
 * non-root task holds none, as Linux clears them when a process leaves uid 0. */
const ROOT_FILE_CAPS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4);

interface ThreadCreds {
  fsuid: number;
  fsgid: number;
  groups: number[];
  capLow: number;
  capHigh: number;
}

function ownCreds(): ThreadCreds {
  const status = readFileSync('/proc/thread-self/status', 'latin1');
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const eff = BigInt(`0x${field('CapEff') || '0'}`);
  return {
    fsuid: Number(field('Uid').split(/\s+/)[3]),
    fsgid: Number(field('Gid').split(/\s+/)[3]),
    groups: field('Groups').split(/\s+/).filter(Boolean).map(Number),
    capLow: Number(eff & 0xffffffffn),
    capHigh: Number(eff >> 32n),
  };
}

/**
 * The one capability the thread keeps: process_vm_readv/writev check the *real* ids
 * (PTRACE_MODE_ATTACH_REALCREDS), so without it the sentry could not read the memory of a
 * task whose uid is not its own real uid (an OCI process.user). It overrides no file
 * permission, so the kernel's checks still judge every file operation as the task's.
 */
const CAP_SYS_PTRACE_BIT = 1 << 19;

let active = 0;
let saved: ThreadCreds | undefined;
let current: TaskIdentity | undefined;

function apply(c: ThreadCreds): void {
  const r = native().setThreadCreds(c.fsuid, c.fsgid, c.groups, c.capLow, c.capHigh);
  if (r < 0) throw new Error(`taking on the sandbox's identity: errno ${-r}`);
}

/** Takes on the tasks' identity for as long as at least one sandbox runs. All sandboxes of
 * one process must share it (the thread can wear one identity at a time). */
export function enterTaskIdentity(id: TaskIdentity): void {
  if (active > 0 && current && (current.uid !== id.uid || current.gid !== id.gid)) {
    throw new Error('sandboxes with different identities cannot run in one process yet');
  }
  if (active++ === 0) {
    saved = ownCreds();
    current = id;
    const fileCaps = id.uid === 0 ? ROOT_FILE_CAPS : 0;
    apply({ fsuid: id.uid, fsgid: id.gid, groups: id.groups, capLow: CAP_SYS_PTRACE_BIT | fileCaps, capHigh: 0 });
  }
}

/** Gives the thread its own identity back once the last sandbox has ended. */
export function leaveTaskIdentity(): void {
  if (active === 0) return;
  if (--active === 0 && saved) {
    apply(saved);
    saved = undefined;
    current = undefined;
  }
}
