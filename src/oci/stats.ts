// `events --stats`: runc's stats record. Without a cgroup of its own (not there yet) the
// numbers are summed over the container's processes from /proc: CPU time from
// /proc/PID/stat, memory as resident set size from /proc/PID/statm.
import { readFileSync } from 'node:fs';

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
