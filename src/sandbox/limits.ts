// A sandbox's resource limits, their defaults, and the parsers for the CLI's spellings
// (`--memory 512m`, `--wall-time 10s`, `--rlimit nofile=1024:4096`). Shared by `tsvisor
// do` and the embedding API so both mean the same thing by the same words.
import { accessSync, constants as fsc } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { hostLayout } from './cgroup-layout.js';
import { Cgroup, type BlockIoTuning, type CpuTuning, type HugepageLimit, type MemoryTuning } from './cgroup.js';

/** Limits of one sandbox; null (or absent) means none. */
export interface Limits {
  /** Memory of the whole sandbox, in bytes (cgroup; includes files written to its
   * private overlay, which lives in memory). Exceeding it: OOM kill, reason "oom". */
  memoryBytes?: number | null;
  /** Tasks (processes + threads) of the workload alive at once (cgroup). fork() fails
   * with EAGAIN beyond it. */
  pids?: number | null;
  /** CPUs' worth of time per 100 ms period (cgroup cpu quota). */
  cpus?: number | null;
  /** Finer cpu controls an OCI config may give (cgroup.ts CpuTuning). */
  cpuTuning?: CpuTuning;
  /** Finer memory controls an OCI config may give (cgroup.ts MemoryTuning). */
  memoryTuning?: MemoryTuning;
  /** Block IO weights and throttles an OCI config may give (cgroup.ts BlockIoTuning). */
  blockIO?: BlockIoTuning;
  /** Huge page limits an OCI config may give (cgroup.ts HugepageLimit). */
  hugepages?: HugepageLimit[];
  /** Wall-clock time from launch; exceeding it kills the sandbox, reason "wall-time". */
  wallTimeMs?: number | null;
  /** CPU time (user + system) of all the workload's tasks together; exceeding it kills
   * the sandbox, reason "cpu-time". */
  cpuTimeMs?: number | null;
}

export const RLIMIT_NAMES = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime',
  'sigpending', 'stack',
] as const;
export type RlimitName = (typeof RLIMIT_NAMES)[number];

/** One setrlimit(2) applied in the workload before exec; null is RLIM_INFINITY. */
export interface Rlimit {
  name: RlimitName;
  soft: number | null;
  hard: number | null;
}

/** Tasks the sandbox itself runs beside the workload (the launcher and init): the cgroup's
 * pids.max is the workload's limit plus these, so `--pids N` means N for the program. */
export const SANDBOX_OVERHEAD_TASKS = 2;

/**
 * Defaults for code nobody has vetted. Tasks are capped so that a fork bomb stays a
 * nuisance inside the sandbox instead of exhausting the host's pid space; memory is capped
 * at half the host's RAM so a runaway allocation ends as a clean "oom" in the sandbox
 * instead of a host-wide OOM that may pick another victim. CPU and time are not limited:
 * any figure would be wrong for someone, and neither hurts the host's responsiveness.
 * Core dumps are off: the kernel runs core_pattern's helper on the host, outside every
 * wall. Defaults that need a cgroup are dropped when this process cannot make one.
 */
export function defaultLimits(): Limits {
  const cg = cgroupsUsable();
  return {
    memoryBytes: cg.memory ? Math.floor(totalmem() / 2) : null,
    pids: cg.pids ? 4096 : null,
    cpus: null,
    wallTimeMs: null,
    cpuTimeMs: null,
  };
}

export const DEFAULT_RLIMITS: readonly Rlimit[] = [{ name: 'core', soft: 0, hard: 0 }];

let usable: { memory: boolean; pids: boolean } | undefined;

/** Whether this process can put sandboxes in cgroups with these controllers: root (or a
 * delegated, writable cgroup) on a host that has them. */
export function cgroupsUsable(): { memory: boolean; pids: boolean } {
  if (usable) return usable;
  const layout = hostLayout();
  const support = Cgroup.support(layout);
  const own = layout.v1.get('pids')?.own ?? layout.v2?.own;
  let writable = false;
  try {
    if (own) accessSync(join(own, 'cgroup.procs'), fsc.W_OK);
    writable = own !== undefined && process.getuid?.() === 0;
  } catch {
    writable = false;
  }
  usable = { memory: writable && support.memory, pids: writable && support.pids };
  return usable;
}

export class LimitError extends Error {}

const NONE = new Set(['none', 'max', 'unlimited', 'off']);

/** 512m, 1.5G, 64KiB, 1048576 (bytes); binary multiples, as Docker reads them. null for
 * none/max/unlimited. */
export function parseSize(s: string, what = 'size'): number | null {
  const t = s.trim().toLowerCase();
  if (NONE.has(t)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/.exec(t);
  if (!m || (m[2] === '' && m[3] === 'ib')) throw new LimitError(`${what} \`${s}\`: want a size such as 512m, 2g or 1048576`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2] as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n <= 0) throw new LimitError(`${what} \`${s}\`: must be more than 0`);
  return n;
}

/** 10s, 500ms, 1.5m, 2h, 3 (seconds) → milliseconds; null for none. */
export function parseDuration(s: string, what = 'duration'): number | null {
  const t = s.trim().toLowerCase();
  if (NONE.has(t)) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(t);
  if (!m) throw new LimitError(`${what} \`${s}\`: want a duration such as 10s, 500ms or 2m`);
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (ms <= 0) throw new LimitError(`${what} \`${s}\`: must be more than 0`);
  return Math.round(ms);
}

/** A positive count (--pids); null for none. */
export function parseCount(s: string, what = 'count'): number | null {
  const t = s.trim().toLowerCase();
  if (NONE.has(t)) return null;
  if (!/^\d+$/.test(t) || Number(t) < 1) throw new LimitError(`${what} \`${s}\`: want a whole number of at least 1`);
  return Number(t);
}

/** CPUs as a decimal (1.5); null for none. */
export function parseCpus(s: string, what = 'cpus'): number | null {
  const t = s.trim().toLowerCase();
  if (NONE.has(t)) return null;
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) < 0.01) throw new LimitError(`${what} \`${s}\`: want a number of CPUs of at least 0.01, such as 1.5`);
  return Number(t);
}

function rlimitValue(v: string, spec: string): number | null {
  if (v === 'unlimited' || v === 'infinity') return null;
  if (!/^\d+$/.test(v)) throw new LimitError(`--rlimit \`${spec}\`: want NAME=SOFT[:HARD], values numbers or \`unlimited\``);
  return Number(v);
}

/** NAME=SOFT[:HARD], names as prlimit(1) spells them; HARD defaults to SOFT. */
export function parseRlimit(spec: string): Rlimit {
  const m = /^([a-z]+)=([^:]+)(?::(.+))?$/.exec(spec.trim());
  if (!m) throw new LimitError(`--rlimit \`${spec}\`: want NAME=SOFT[:HARD]`);
  const name = m[1] as RlimitName;
  if (!RLIMIT_NAMES.includes(name)) throw new LimitError(`--rlimit \`${spec}\`: unknown limit \`${m[1]}\` (known: ${RLIMIT_NAMES.join(', ')})`);
  const soft = rlimitValue(m[2]!, spec);
  const hard = m[3] === undefined ? soft : rlimitValue(m[3], spec);
  if (hard !== null && (soft === null || soft > hard)) throw new LimitError(`--rlimit \`${spec}\`: soft limit above the hard one`);
  return { name, soft, hard };
}

/** The launcher's spelling of an rlimit. */
export function rlimitArg(r: Rlimit): string {
  return `${r.name}=${r.soft ?? 'unlimited'}:${r.hard ?? 'unlimited'}`;
}
