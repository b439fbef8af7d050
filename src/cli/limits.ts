// The resource-limit flags of `tsvisor do` (and of any command that starts a sandbox for
// one run): their help text states the defaults, parseLimitOptions turns them into the
// sandbox's Limits and rlimits. Defaults and their reasons: src/sandbox/limits.ts.
import { Command, Option } from 'commander';
import {
  DEFAULT_RLIMITS, LimitError, defaultLimits, parseCount, parseCpus, parseDuration, parseRlimit, parseSize,
  type Limits, type Rlimit,
} from '../sandbox/limits.js';
import { UsageError } from './errors.js';

export interface LimitOptions {
  memory?: string;
  pids?: string;
  cpus?: string;
  wallTime?: string;
  cpuTime?: string;
  rlimit?: string[];
  usageJson?: string;
}

// No commander default for the list: its help would print `(default: [])` after ours.
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function addLimitOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--memory <size>', 'memory limit of the whole sandbox, files it writes included, e.g. 512m or 2g; ' +
      'beyond it the OOM killer ends the sandbox (reason "oom", exit 137). `none` lifts it (default: half the host\'s RAM)'))
    .addOption(new Option('--pids <n>', 'tasks (processes + threads) the program may have at once; fork fails with EAGAIN ' +
      'beyond, so a fork bomb stays inside. `none` lifts it (default: 4096)'))
    .addOption(new Option('--cpus <n>', 'CPU bandwidth, in CPUs, e.g. 1.5 (default: no limit)'))
    .addOption(new Option('--wall-time <duration>', 'kill the sandbox after this long, e.g. 10s or 500ms (reason "wall-time", exit 137; default: no limit)'))
    .addOption(new Option('--cpu-time <duration>', 'kill the sandbox once all its tasks together used this much CPU, e.g. 5s ' +
      '(reason "cpu-time"; default: no limit)'))
    .addOption(new Option('--rlimit <name=soft[:hard]>', 'set a resource limit in the program before exec, names as prlimit(1): ' +
      'nofile, fsize, stack, core... (repeatable; default: core=0, since a core dump runs the host\'s core_pattern helper)').argParser(collect))
    .addOption(new Option('--usage-json <file>', 'write the usage record to FILE as JSON: exitCode, signal, reason, wallTimeMs, ' +
      'cpuTimeMs, peakMemoryBytes, tasks, syscalls'));
}

/** The sandbox's limits from the flags, defaults filled in. */
export function parseLimitOptions(o: LimitOptions): { limits: Limits; rlimits: Rlimit[] } {
  try {
    const d = defaultLimits();
    const limits: Limits = {
      memoryBytes: o.memory === undefined ? d.memoryBytes : parseSize(o.memory, '--memory'),
      pids: o.pids === undefined ? d.pids : parseCount(o.pids, '--pids'),
      cpus: o.cpus === undefined ? d.cpus : parseCpus(o.cpus, '--cpus'),
      wallTimeMs: o.wallTime === undefined ? d.wallTimeMs : parseDuration(o.wallTime, '--wall-time'),
      cpuTimeMs: o.cpuTime === undefined ? d.cpuTimeMs : parseDuration(o.cpuTime, '--cpu-time'),
    };
    // The last value given for a name wins, and replaces the default one.
    const byName = new Map((o.rlimit ?? []).map(parseRlimit).map((r) => [r.name, r] as const));
    const given = [...byName.values()];
    const rlimits = [...DEFAULT_RLIMITS.filter((r) => !given.some((g) => g.name === r.name)), ...given];
    return { limits, rlimits };
  } catch (err) {
    if (err instanceof LimitError) throw new UsageError(err.message);
    throw err;
  }
}
