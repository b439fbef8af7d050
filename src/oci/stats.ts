// `events --stats`: runc's stats record. From the container's cgroup when it has one
// (cpu time, memory usage and limit, tasks and their limit: src/sandbox/cgroup.ts); else
// summed over the container's processes from /proc: CPU time from /proc/PID/stat, memory
// as resident set size from /proc/PID/statm.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cgroup } from '../sandbox/cgroup.js';

const TICK_NS = 1e7; // USER_HZ is 100 on Linux x86_64
const PAGE = 4096;

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function stats(pids: number[]): Record<string, unknown> {
  let user = 0, system = 0, rss = 0;
  for (const pid of pids) {
    const stat = readOr(`/proc/${pid}/stat`);
    if (stat) {
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]) * TICK_NS; // utime, field 14
      system += Number(f[12]) * TICK_NS; // stime, field 15
    }
    const statm = readOr(`/proc/${pid}/statm`);
    if (statm) rss += Number(statm.split(' ')[1]) * PAGE;
  }
  return {
    cpu: { usage: { total: user + system, user, kernel: system }, throttling: {} },
    memory: { usage: { usage: rss, max: 0, failcnt: 0, limit: 0 }, swap_usage: {}, kernel_usage: {}, raw: { rss } },
    pids: { current: pids.length, limit: 0 },
    blkio: {},
    hugetlb: {},
  };
}

/** A limit file's value as runc reports it: 0 for none. */
function limitOf(dir: string | undefined, names: string[]): number {
  for (const name of names) {
    const text = dir ? readOr(join(dir, name))?.trim() : undefined;
    if (text === undefined) continue;
    const n = Number(text);
    // v1 prints "no limit" as a huge page-rounded number.
    return Number.isFinite(n) && n < 2 ** 62 ? n : 0;
  }
  return 0;
}

/** The stats record from the container's cgroup CG. */
export function cgroupStats(cg: Cgroup): Record<string, unknown> {
  const u = cg.usage();
  const rec = cg.describe();
  const total = Math.round((u.cpuTimeMs ?? 0) * 1e6);
  return {
    cpu: { usage: { total, user: 0, kernel: 0 }, throttling: {} },
    memory: {
      usage: {
        usage: u.memoryBytes ?? 0,
        max: u.peakMemoryBytes ?? 0,
        failcnt: u.memoryLimitHits,
        limit: limitOf(rec.roles.memory, ['memory.max', 'memory.limit_in_bytes']),
      },
      swap_usage: {},
      kernel_usage: {},
      raw: { oom_kill: u.oomKills },
    },
    pids: { current: u.tasks ?? 0, limit: limitOf(rec.roles.pids, ['pids.max']) },
    blkio: {},
    hugetlb: {},
  };
}
