// The limits the sentry enforces itself, by watching: wall time (a timer) and the
// sandbox's total cpu time (its cgroup's counter; RLIMIT_CPU only sees one process at a
// time, so a workload that forks would get a fresh budget per child).
import { availableParallelism } from 'node:os';
import type { Cgroup } from './cgroup.js';
import type { Limits } from './limits.js';

export class LimitWatch {
  private wallTimer: NodeJS.Timeout | undefined;
  private cpuTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly limits: Limits,
    private readonly cgroup: Cgroup | undefined,
    private readonly exceeded: (what: 'wall-time' | 'cpu-time') => void,
  ) {
    if (limits.wallTimeMs) this.wallTimer = setTimeout(() => this.exceeded('wall-time'), limits.wallTimeMs);
    if (limits.cpuTimeMs && cgroup) this.checkCpu(limits.cpuTimeMs);
  }

  /**
   * Reads the cgroup's cpu time and checks again when the limit could first be reached:
   * the sandbox cannot burn more than `cpus` seconds of cpu per second of wall time, so
   * sleeping (limit - used) / cpus never overshoots, and costs one small read per check.
   */
  private checkCpu(limitMs: number): void {
    if (this.stopped) return;
    const used = this.cgroup!.cpuTimeMs();
    if (used !== null && used >= limitMs) return this.exceeded('cpu-time');
    const cpus = Math.min(this.limits.cpus ?? Infinity, availableParallelism());
    const delay = Math.min(250, Math.max(5, (limitMs - (used ?? 0)) / cpus));
    this.cpuTimer = setTimeout(() => this.checkCpu(limitMs), delay);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.wallTimer);
    clearTimeout(this.cpuTimer);
  }
}
