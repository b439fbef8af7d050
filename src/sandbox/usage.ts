// Why a sandbox ended and what it used: the record judges and CI harnesses read
// (`tsvisor do --usage-json FILE`, the API's `usage`), in the spirit of isolate's meta file.
import { constants } from 'node:os';
import type { Limits } from './limits.js';

/**
 * - exited: the workload's init-side process exited on its own (any code);
 * - signaled: it died of a signal (code 128+N), none of the reasons below;
 * - oom: the memory limit's OOM killer ended it (code 137);
 * - wall-time / cpu-time: the sentry (or RLIMIT_CPU) ended it at that limit;
 * - killed: the caller ended it (kill(), SIGINT/SIGTERM to `tsvisor do`);
 * - setup-failed: it never ran: the launcher failed before or at exec (125-127).
 */
export type ExitReason = 'exited' | 'signaled' | 'oom' | 'wall-time' | 'cpu-time' | 'killed' | 'setup-failed';

/** Ends the sentry itself decides on. */
export type EndedBy = 'wall-time' | 'cpu-time' | 'killed';

export interface SandboxUsage {
  wallTimeMs: number;
  /** null: no cgroup measured it (the process could not make one). */
  cpuTimeMs: number | null;
  peakMemoryBytes: number | null;
  /** Peak number of the workload's tasks alive at once (the sandbox's own launcher and
   * init not counted). */
  tasks: number | null;
  oomKills: number;
  memoryLimitHits: number;
  pidsLimitHits: number;
}

const SIGXCPU = constants.signals.SIGXCPU;
const SIGKILL = constants.signals.SIGKILL;

/** The signal behind an exit code of 128+N, by name. Ambiguous by nature: a program may
 * also exit(137) itself; the launcher reports both the same way, as shells do. */
export function signalOf(code: number): NodeJS.Signals | undefined {
  if (code <= 128 || code > 128 + 64) return undefined;
  const n = code - 128;
  return (Object.keys(constants.signals) as NodeJS.Signals[]).find((k) => constants.signals[k] === n);
}

export function exitReason(code: number, setupError: string | undefined, endedBy: EndedBy | undefined, usage: SandboxUsage, limits: Limits): ExitReason {
  if (setupError !== undefined) return 'setup-failed';
  if (endedBy) return endedBy;
  if (usage.oomKills > 0 && code === 128 + SIGKILL) return 'oom';
  // RLIMIT_CPU's SIGXCPU (soft) or SIGKILL (hard) in one task, or the cgroup's total over
  // the limit when a signal ended it before the sentry's own check came round.
  const cpuLimit = limits.cpuTimeMs ?? null;
  if (cpuLimit !== null && (code === 128 + SIGXCPU || (code > 128 && (usage.cpuTimeMs ?? 0) >= cpuLimit))) return 'cpu-time';
  return signalOf(code) ? 'signaled' : 'exited';
}

/** What `--usage-json` writes (field names are a stable interface). */
export interface UsageRecord {
  exitCode: number;
  signal?: string;
  reason: ExitReason;
  message?: string;
  wallTimeMs: number;
  cpuTimeMs: number | null;
  peakMemoryBytes: number | null;
  tasks: number | null;
  oomKills: number;
  pidsLimitHits: number;
  limits: Limits;
  syscalls: { trapped: Record<string, number>; missing: Record<string, number> };
}

export interface RecordInput {
  code: number;
  signal?: string;
  reason: ExitReason;
  setupError?: string;
  usage: SandboxUsage;
  limits: Limits;
  trapped: Map<string, number>;
  missing: Map<string, number>;
}

// Plain code-unit order: syscall names are ASCII, and localeCompare would load ICU's
// collation (about 15 ms) at every exit.
const sorted = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function usageRecord(s: RecordInput): UsageRecord {
  const u = s.usage;
  return {
    exitCode: s.code,
    ...(s.signal ? { signal: s.signal } : {}),
    reason: s.reason,
    ...(s.setupError ? { message: s.setupError } : {}),
    wallTimeMs: Math.round(u.wallTimeMs),
    cpuTimeMs: u.cpuTimeMs === null ? null : Math.round(u.cpuTimeMs),
    peakMemoryBytes: u.peakMemoryBytes,
    tasks: u.tasks,
    oomKills: u.oomKills,
    pidsLimitHits: u.pidsLimitHits,
    limits: s.limits,
    syscalls: { trapped: sorted(s.trapped), missing: sorted(s.missing) },
  };
}

/** A one-line explanation for stderr when a limit ended the sandbox, else undefined. */
export function limitMessage(reason: ExitReason, limits: Limits, usage: SandboxUsage): string | undefined {
  const mib = (b: number | null | undefined): string => (b ? `${Math.round(b / 2 ** 20)} MiB` : 'none');
  const sec = (ms: number | null | undefined): string => `${((ms ?? 0) / 1000).toFixed(3).replace(/\.?0+$/, '')} s`;
  switch (reason) {
    case 'oom':
      return `out of memory: the sandbox reached its memory limit (${mib(limits.memoryBytes)}) and its OOM killer ended it`;
    case 'wall-time':
      return `wall-time limit (${sec(limits.wallTimeMs)}) exceeded: sandbox killed`;
    case 'cpu-time':
      return `cpu-time limit (${sec(limits.cpuTimeMs)}) exceeded after ${sec(usage.cpuTimeMs)} of cpu: sandbox killed`;
    default:
      return usage.pidsLimitHits > 0 ? `task limit (${limits.pids ?? 'none'}) reached: ${usage.pidsLimitHits} fork/clone calls refused` : undefined;
  }
}
