// Host processes as /proc shows them: start times (so that a recycled pid is never taken
// for a container's process, as crun's libcrun_check_pid_valid), children and descendants.
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Field 22 of /proc/PID/stat: the start time in clock ticks since boot, or undefined when
 * the process is gone. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from the last `)`.
 */
export function startTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 is fields[19].
  const v = Number(fields[19]);
  return Number.isFinite(v) ? v : undefined;
}

/** The state letter (field 3): R, S, D, Z, T... or undefined when gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** A process identified by pid and start time. */
export interface ProcRef {
  pid: number;
  start: number;
}

export function procRef(pid: number): ProcRef | undefined {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start };
}

/** Whether REF still names the same live (not zombie) process. */
export function isAlive(ref: ProcRef | undefined): ref is ProcRef {
  if (!ref || ref.pid <= 0) return false;
  if (startTime(ref.pid) !== ref.start) return false;
  return procState(ref.pid) !== 'Z';
}

/** Direct children of PID, from every thread's children list. */
export function children(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    } catch {
      // The thread exited meanwhile.
    }
  }
  return out;
}

/** PID and all its descendants, parents before children. */
export function tree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p) || startTime(p) === undefined) continue;
    seen.add(p);
    out.push(p);
    queue.push(...children(p));
  }
  return out;
}
