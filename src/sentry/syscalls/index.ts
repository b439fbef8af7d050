// The dispatch table: the syscall table (syscalls/x86_64.json) joined with the handlers of
// each family. A handler is the camelCase of its syscall's name (pivot_root → pivotRoot).
import { loadTable, type SyscallEntry } from '../../seccomp/table.js';
import type { Call } from '../call.js';
import type { SyscallResult } from '../result.js';
import * as file from './file.js';
import * as identity from './identity.js';
import * as misc from './misc.js';
import * as mount from './mount.js';
import * as net from './net.js';
import * as process from './process.js';
import * as xattr from './xattr.js';

export type Handler = (c: Call) => SyscallResult;

/** Every handler, by its function name. */
export const handlers: ReadonlyMap<string, Handler> = new Map(
  Object.entries({ ...file, ...process, ...identity, ...net, ...misc, ...xattr, ...mount }) as [string, Handler][],
);

/** The handler name for a syscall name. */
export function handlerName(syscall: string): string {
  return syscall.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
}

export interface DispatchEntry {
  readonly entry: SyscallEntry;
  /** Absent for trapped calls without a handler yet: ENOSYS plus one log line. */
  readonly handler?: Handler;
}

/** Dispatch entries indexed by syscall number, for the trapped entries of the table. */
export function buildDispatch(table: readonly SyscallEntry[]): (DispatchEntry | undefined)[] {
  const out: (DispatchEntry | undefined)[] = [];
  for (const entry of table) {
    const trappedByRule = entry.rules?.some((r) => r.class === 'trapped') ?? false;
    if (entry.class !== 'trapped' && !trappedByRule) continue;
    out[entry.nr] = { entry, handler: handlers.get(handlerName(entry.name)) };
  }
  return out;
}

let cached: (DispatchEntry | undefined)[] | undefined;

/** The dispatch table for the table shipped in syscalls/, built once per process. */
export function dispatchTable(): readonly (DispatchEntry | undefined)[] {
  cached ??= buildDispatch(loadTable());
  return cached;
}
