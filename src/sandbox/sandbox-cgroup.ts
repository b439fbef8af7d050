// The cgroup of one sandbox as startSandbox makes it: a unique id, the limits translated
// to cgroup resources, and the rule for hosts where this process cannot make cgroups
// (not root, nothing delegated): limits that need one are an error, no limits run without.
// A cgroupsPath that may not be used (CgroupPathError) is an error either way.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostLayout } from './cgroup-layout.js';
import { Cgroup, CgroupError, CgroupPathError, defaultParent } from './cgroup.js';
import { SANDBOX_OVERHEAD_TASKS, type Limits } from './limits.js';

let seq = 0;
const swept = new Set<string>();

/** Ids of sandboxes made here: `sbx-<our pid>-<n>-<random>`, so a leftover can be traced
 * to its (dead) owner; the random part keeps a recycled pid from colliding. */
function newId(): string {
  const rand = Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0');
  return `sbx-${process.pid}-${++seq}-${rand}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes sandbox cgroups whose owner died without removing them (a crash, a SIGKILL):
 * once per parent and process, cheap, and only empty ones (rmdir refuses the others). */
function sweepStale(parent: string): void {
  if (swept.has(parent)) return;
  swept.add(parent);
  const layout = hostLayout();
  const hierarchies = [...new Set([...(layout.v2 ? [layout.v2] : []), ...layout.v1.values()])];
  for (const h of hierarchies) {
    let names: string[];
    try {
      names = readdirSync(join(h.own, parent));
    } catch {
      continue;
    }
    for (const name of names) {
      const owner = /^sbx-(\d+)-\d+-[0-9a-f]+$/.exec(name);
      if (!owner || Number(owner[1]) === process.pid || alive(Number(owner[1]))) continue;
      Cgroup.removeStale(join(h.own, parent, name));
    }
  }
}

/** The sandbox's cgroup with LIMITS applied, at PATH (an OCI linux.cgroupsPath) or beneath
 * `<our cgroup>/<PARENT>`, or undefined when none is needed and none can be made. Throws
 * CgroupError when a limit needs one this process cannot make, unless WARN is given: then
 * the limits are reported unsupported through it and not applied. */
export function openCgroup(
  limits: Limits,
  where: { parent?: string; path?: string } = {},
  warn?: (msg: string) => void,
): Cgroup | undefined {
  const parent = where.parent ?? defaultParent();
  const resources = {
    memory: limits.memoryBytes ?? null,
    pids: limits.pids ? limits.pids + SANDBOX_OVERHEAD_TASKS : null,
    cpus: limits.cpus ?? null,
    tuning: limits.cpuTuning,
    memoryTuning: limits.memoryTuning,
    blockIO: limits.blockIO,
    hugepages: limits.hugepages,
  };
  const needed = resources.memory !== null || resources.pids !== null || resources.cpus !== null || !!limits.cpuTuning || !!limits.memoryTuning || !!limits.blockIO || !!limits.hugepages || !!limits.cpuTimeMs;
  try {
    if (where.path) return Cgroup.create(newId(), resources, { path: where.path });
    sweepStale(parent);
    return Cgroup.create(newId(), resources, { parent });
  } catch (err) {
    if (err instanceof CgroupPathError) throw err;
    if (!needed) return undefined;
    const msg = err instanceof Error ? err.message : String(err);
    if (warn) {
      warn(`resource limits unsupported here (no writable cgroup: ${msg}); running without --memory, --pids, --cpus and --cpu-time limits`);
      return undefined;
    }
    throw new CgroupError(`creating the sandbox's cgroup: ${msg}`, { cause: err });
  }
}
