// The embedding API: `import { Sandbox } from 'tsvisor'`. One Sandbox holds a
// configuration; each run() or spawn() starts a fresh sandbox from it (own namespaces,
// own overlay, own cgroup, own sentry), so any number may run at once from one process.
//
//   const box = new Sandbox({ limits: { memory: '256m', wallTimeMs: 5000 } });
//   const r = await box.run(['python3', '-c', 'print(6*7)']);
//   r.exitCode, r.reason, r.stdout.toString(), r.usage.cpuTimeMs
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CgroupError } from '../sandbox/cgroup.js';
import {
  DEFAULT_RLIMITS, LimitError, RLIMIT_NAMES, defaultLimits, parseSize, type Limits, type Rlimit, type RlimitName,
} from '../sandbox/limits.js';
import { withCapabilities } from '../sandbox/creds.js';
import { startSandbox, type BindMount, type ExitStatus, type RunningSandbox } from '../sandbox/sandbox.js';
import { limitMessage, usageRecord, type ExitReason, type UsageRecord } from '../sandbox/usage.js';
import { SandboxConfigError, SandboxError, SandboxStartError } from './errors.js';
import { capture } from './output.js';

export { SandboxConfigError, SandboxError, SandboxStartError } from './errors.js';
export type { ExitReason, UsageRecord } from '../sandbox/usage.js';
export type { RlimitName } from '../sandbox/limits.js';

export interface MountSpec {
  /** Host path (file or directory). */
  source: string;
  /** Absolute path inside the sandbox. */
  destination: string;
  readonly?: boolean;
}

export interface SandboxLimits {
  /** Bytes, or a size such as '512m'; null: none. Default: half the host's RAM. */
  memory?: number | string | null;
  /** Tasks of the workload alive at once; null: none. Default 4096. */
  pids?: number | null;
  /** CPU bandwidth in CPUs (1.5); default none. */
  cpus?: number | null;
  /** Wall-clock limit; reason "wall-time". Default none. */
  wallTimeMs?: number | null;
  /** CPU time of all tasks together; reason "cpu-time". Default none. */
  cpuTimeMs?: number | null;
  /** run(): bytes kept of stdout and of stderr each; the rest is read and dropped, and
   * the result says so. Default 16 MiB. */
  outputBytes?: number;
}

export interface SandboxOptions {
  /** Root directory (lower layer under a private writable overlay). Default: the host's
   * / read-only beneath that overlay. */
  rootfs?: string;
  mounts?: MountSpec[];
  /** 'none' (default): own loopback only. 'host': the host's network. */
  network?: 'none' | 'host';
  /** The workload's whole environment. Default: PATH only (nothing of ours leaks in). */
  env?: Record<string, string>;
  /** Working directory inside. Default '/'. */
  cwd?: string;
  hostname?: string;
  limits?: SandboxLimits;
  /** setrlimit(2)s in the workload: soft, or [soft, hard]; null is unlimited. Default
   * core: 0 (a core dump would run the host's core_pattern helper). */
  rlimits?: Partial<Record<RlimitName, number | null | [number | null, number | null]>>;
  /** Who the workload runs as. Default: the sandbox's root (uid 0, with the few
   * capabilities tsvisor grants a container's root). Any other uid holds none. */
  user?: { uid: number; gid?: number; groups?: number[] };
  /** Run argv itself as pid 1, with no init to reap orphans and forward signals. */
  noInit?: boolean;
  /** Capabilities added to the default set, as `docker run --cap-add` takes them, as far
   * as tsvisor grants them; 'SYS_ADMIN' lets root make tmpfs and bind mounts inside. */
  capAdd?: string[];
  /** Sentry warnings (unimplemented syscalls...). Default: dropped. */
  onWarning?: (message: string) => void;
}

export interface RunOptions {
  /** Bytes for the workload's stdin; absent: /dev/null. */
  stdin?: string | Buffer;
  /** Added to (and overriding) the sandbox's env. */
  env?: Record<string, string>;
  cwd?: string;
  /** This run's wall-time limit (overrides limits.wallTimeMs). */
  timeoutMs?: number;
  /** Per-run limits, over the sandbox's. */
  limits?: SandboxLimits;
  /** Aborting ends the sandbox (reason "killed"). */
  signal?: AbortSignal;
}

export interface ExitResult {
  exitCode: number;
  /** The signal behind a code of 128+N; null otherwise. */
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  /** Why it failed to start, or which limit ended it, in one line. */
  message?: string;
  usage: UsageRecord;
}

export interface RunResult extends ExitResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Whether output beyond limits.outputBytes was dropped. */
  truncated: { stdout: boolean; stderr: boolean };
}

export interface SandboxProcess {
  /** Host pid of the sandbox's launcher. */
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when every task of the sandbox is gone. Never rejects. */
  readonly exited: Promise<ExitResult>;
  /** Ends the sandbox now (reason "killed"). */
  kill(): void;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_OUTPUT_BYTES = 16 * 2 ** 20;

function positive(name: string, v: number | null | undefined): number | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new SandboxConfigError(`limits.${name}: want a positive number, got ${String(v)}`);
  return v;
}

function toLimits(l: SandboxLimits): Limits {
  let memoryBytes: number | null | undefined;
  try {
    memoryBytes = typeof l.memory === 'string' ? parseSize(l.memory, 'limits.memory') : positive('memory', l.memory);
  } catch (err) {
    throw new SandboxConfigError((err as LimitError).message);
  }
  const out: Limits = {
    memoryBytes,
    pids: positive('pids', l.pids),
    cpus: positive('cpus', l.cpus),
    wallTimeMs: positive('wallTimeMs', l.wallTimeMs),
    cpuTimeMs: positive('cpuTimeMs', l.cpuTimeMs),
  };
  positive('outputBytes', l.outputBytes);
  // Only what was given: undefined fields must not hide the defaults when merged.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Limits;
}

function toCapabilities(names: string[] | undefined): bigint | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new SandboxConfigError('capAdd: want an array of capability names');
  try {
    return withCapabilities(names);
  } catch (err) {
    throw new SandboxConfigError(`capAdd: ${(err as Error).message}`);
  }
}

function toRlimits(r: SandboxOptions['rlimits'] = {}): Rlimit[] {
  const given: Rlimit[] = Object.entries(r).map(([name, v]) => {
    if (!RLIMIT_NAMES.includes(name as RlimitName)) throw new SandboxConfigError(`rlimits.${name}: unknown (known: ${RLIMIT_NAMES.join(', ')})`);
    const [soft, hard] = Array.isArray(v) ? v : [v ?? null, v ?? null];
    for (const x of [soft, hard]) {
      if (x !== null && (!Number.isInteger(x) || x < 0)) throw new SandboxConfigError(`rlimits.${name}: want a whole number or null`);
    }
    if (hard !== null && (soft === null || soft > hard)) throw new SandboxConfigError(`rlimits.${name}: soft limit above the hard one`);
    return { name: name as RlimitName, soft, hard };
  });
  return [...DEFAULT_RLIMITS.filter((d) => !given.some((g) => g.name === d.name)), ...given];
}

function checkDir(what: string, path: string): string {
  const abs = resolve(path);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new SandboxConfigError(`${what} \`${abs}\`: no such directory`);
  }
  if (!isDir) throw new SandboxConfigError(`${what} \`${abs}\`: not a directory`);
  return abs;
}

function toMounts(mounts: MountSpec[] = []): BindMount[] {
  return mounts.map((m) => {
    const source = resolve(m.source);
    if (!isAbsolute(m.destination)) throw new SandboxConfigError(`mount \`${m.destination}\`: destination must be absolute`);
    // The launcher's command line separates the two paths with `:`.
    if (source.includes(':') || m.destination.includes(':')) throw new SandboxConfigError(`mount \`${source}\`: paths may not contain \`:\``);
    try {
      statSync(source);
    } catch {
      throw new SandboxConfigError(`mount source \`${source}\`: does not exist`);
    }
    return { source, destination: m.destination, readonly: m.readonly ?? false };
  });
}

function toResult(s: ExitStatus): ExitResult {
  const record = usageRecord(s);
  return {
    exitCode: s.code,
    signal: s.signal ?? null,
    reason: s.reason,
    message: s.setupError ?? limitMessage(s.reason, s.limits, s.usage),
    usage: record,
  };
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel

/** The launcher's identity options for USER; throws SandboxConfigError if it is bad. */
function userArgs(user: SandboxOptions['user']): string[] {
  if (user === undefined) return [];
  const id = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) {
      throw new SandboxConfigError(`${name} \`${String(v)}\`: want an integer from 0 to ${MAX_ID}`);
    }
    return v;
  };
  if (typeof user !== 'object' || user === null) throw new SandboxConfigError('user: want { uid, gid?, groups? }');
  const uid = id('user.uid', user.uid);
  const gid = id('user.gid', user.gid ?? uid);
  if (user.groups !== undefined && !Array.isArray(user.groups)) throw new SandboxConfigError('user.groups: want an array of gids');
  const groups = (user.groups ?? []).map((g) => id('user.groups[]', g));
  const args = ['--uid', String(uid), '--gid', String(gid)];
  if (groups.length > 0) args.push('--groups', groups.join(','));
  return args;
}

export class Sandbox {
  private readonly options: SandboxOptions;
  private readonly limits: Limits;
  private readonly rlimits: Rlimit[];
  private readonly capabilities: bigint | undefined;

  /** Checks the options now; throws SandboxConfigError with the reason. */
  constructor(options: SandboxOptions = {}) {
    this.options = { ...options };
    if (options.rootfs !== undefined) this.options.rootfs = checkDir('rootfs', options.rootfs);
    if (options.network !== undefined && options.network !== 'none' && options.network !== 'host') {
      throw new SandboxConfigError(`network \`${String(options.network)}\`: want 'none' or 'host'`);
    }
    if (options.cwd !== undefined && !isAbsolute(options.cwd)) throw new SandboxConfigError(`cwd \`${options.cwd}\`: must be absolute`);
    toMounts(options.mounts);
    userArgs(options.user);
    this.limits = toLimits(options.limits ?? {});
    this.rlimits = toRlimits(options.rlimits);
    this.capabilities = toCapabilities(options.capAdd);
  }

  /** Runs ARGV to completion and collects its output. Rejects only with a SandboxError
   * (bad options, a host that cannot start sandboxes); everything about the workload is
   * in the result. */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    const cap = opts.limits?.outputBytes ?? this.options.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES;
    const sb = this.start(argv, opts, opts.stdin === undefined ? 'ignore' : 'pipe');
    const out = capture(sb.child.stdout!, cap);
    const err = capture(sb.child.stderr!, cap);
    if (opts.stdin !== undefined) {
      // The workload may exit without reading it all: EPIPE is not our error.
      sb.child.stdin!.on('error', () => undefined);
      sb.child.stdin!.end(opts.stdin);
    }
    const [status, stdout, stderr] = await Promise.all([sb.exited, out, err]);
    return { ...toResult(status), stdout: stdout.data, stderr: stderr.data, truncated: { stdout: stdout.truncated, stderr: stderr.truncated } };
  }

  /** Starts ARGV with its stdio as streams. Throws a SandboxError if it cannot start. */
  spawn(argv: string[], opts: Omit<RunOptions, 'stdin'> = {}): SandboxProcess {
    const sb = this.start(argv, opts, 'pipe');
    // Nobody may be listening: a write after the sandbox ended must not crash the host.
    sb.child.stdin!.on('error', () => undefined);
    return {
      pid: sb.pid,
      stdin: sb.child.stdin!,
      stdout: sb.child.stdout!,
      stderr: sb.child.stderr!,
      exited: sb.exited.then(toResult),
      kill: () => sb.kill(),
    };
  }

  private start(argv: string[], opts: RunOptions, stdin: 'ignore' | 'pipe'): RunningSandbox {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new SandboxConfigError('argv: want a non-empty array of strings');
    }
    const o = this.options;
    const cwd = opts.cwd ?? o.cwd ?? '/';
    if (!isAbsolute(cwd)) throw new SandboxConfigError(`cwd \`${cwd}\`: must be absolute`);
    const limits: Limits = { ...defaultLimits(), ...this.limits, ...toLimits(opts.limits ?? {}) };
    if (opts.timeoutMs !== undefined) limits.wallTimeMs = positive('timeoutMs', opts.timeoutMs);
    let sb: RunningSandbox;
    try {
      sb = startSandbox({
        argv,
        env: { PATH: DEFAULT_PATH, ...o.env, ...opts.env },
        cwd,
        // Checked again: it may have gone since the constructor.
        rootfs: o.rootfs === undefined ? undefined : checkDir('rootfs', o.rootfs),
        mounts: toMounts(o.mounts),
        network: o.network ?? 'none',
        hostname: o.hostname ?? 'tsvisor',
        stdio: [stdin, 'pipe', 'pipe'],
        log: { warn: (msg) => o.onWarning?.(msg) },
        limits,
        rlimits: this.rlimits,
        launcherArgs: userArgs(o.user),
        identity: o.user && { uid: o.user.uid, gid: o.user.gid ?? o.user.uid, groups: o.user.groups ?? [] },
        noInit: o.noInit,
        capabilities: this.capabilities,
      });
    } catch (err) {
      if (err instanceof SandboxError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new SandboxStartError(err instanceof CgroupError ? msg : `starting a sandbox: ${msg}`, { cause: err });
    }
    if (opts.signal) {
      const signal = opts.signal;
      const abort = (): void => sb.kill();
      if (signal.aborted) abort();
      else {
        signal.addEventListener('abort', abort, { once: true });
        void sb.exited.then(() => signal.removeEventListener('abort', abort));
      }
    }
    return sb;
  }
}
