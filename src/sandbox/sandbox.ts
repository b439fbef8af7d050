// One running sandbox: the launcher process (the host-side wall, see
// addon/launcher/README.md) and the sentry that answers its trapped calls. Used by
// `tsvisor do`, the OCI commands and the embedding API alike.
import { mkdtempSync, rmdirSync } from 'node:fs';
import { constants, release, tmpdir, version } from 'node:os';
import { join } from 'node:path';
import { launcherPath, native, watch, type Watcher } from '../native.js';
import { loadPolicy } from '../seccomp/policy.js';
import { Kernel, type NetworkMode } from '../sentry/kernel.js';
import { Sentry, type SentryLog } from '../sentry/sentry.js';
import { Strace } from '../sentry/strace.js';
import { dispatchTable } from '../sentry/syscalls/index.js';
import { MountTable } from '../sentry/vfs/mounts.js';
import { maskedProcPaths } from '../sentry/vfs/procfs.js';
import { capabilityMask } from '../sentry/abi/capability.js';
import { actAs, actAsOwnIfForeign, DEFAULT_CAPABILITIES, NamespacedActing, enterSandbox, fixedCreds, grantedCapabilities, leaveSandbox, SANDBOX_ROOT, type TaskIdentity } from './creds.js';
import { openCgroup } from './sandbox-cgroup.js';
import { DEFAULT_RLIMITS, SANDBOX_OVERHEAD_TASKS, rlimitArg, type Limits, type Rlimit } from './limits.js';
import { NativeChild, type Stdio } from '../native-child.js';
import { LimitWatch } from './watch.js';
import { exitReason, signalOf, type EndedBy, type ExitReason, type SandboxUsage } from './usage.js';
import type { Cgroup } from './cgroup.js';
import { TaskTable, type Task } from '../sentry/task/tasks.js';
import type { SandboxMemory } from '../sentry/vfs/procfiles.js';
import { rangeIdMap, rootOnlyIdMap, type IdRange } from '../sentry/ids.js';
import { ESRCH, errnoOf, isErrno, type Errno } from '../sentry/abi/errno.js';
import { SandboxFs } from '../sentry/vfs/sandboxfs.js';

const CAP_SYS_ADMIN = capabilityMask(['CAP_SYS_ADMIN']);

export interface BindMount {
  source: string;
  destination: string;
  readonly: boolean;
}

/** A new tmpfs; OPTIONS as mount(8) takes them for tmpfs (size=, mode=, ro, noexec...),
 * enforced by the kernel (ENOSPC beyond size=). */
export interface TmpfsMount {
  type: 'tmpfs';
  destination: string;
  options: string[];
}

export type SandboxMount = BindMount | TmpfsMount;

export interface SandboxOptions {
  /** Program and arguments; a name without a slash is looked up in PATH inside. */
  argv: string[];
  /** The workload's environment, exactly. */
  env: Record<string, string>;
  /** Working directory inside the sandbox. */
  cwd: string;
  /** Lower layer of the root; the host's / when absent. */
  rootfs?: string;
  /** false: ROOTFS itself is the root and writes land in it (an OCI bundle's rootfs, as
   * runc does), instead of in a private layer that vanishes at exit. */
  overlay?: boolean;
  /** Mounted in order, after the root is assembled. */
  mounts: SandboxMount[];
  network: NetworkMode;
  /** The sandbox's hostname; null: the one of a UTS namespace it joins (launcher
   * --utsns), which the kernel answers. */
  hostname: string | null;
  /** The sandbox's NIS domain name (uname's domainname); "(none)" when absent. */
  domainname?: string;
  /** stdin, stdout, stderr of the workload: ours, /dev/null, new pipes, or given fds. */
  stdio: Stdio | [Stdio, Stdio, Stdio];
  /** Where --strace lines go, if tracing. */
  strace?: (line: string) => void;
  log: SentryLog;
  /** Keep the workload waiting for "go" until start() (OCI create, then start). */
  holdUntilStart?: boolean;
  /** The launcher in a session of its own, as an OCI container is: what the caller's
   * terminal sends (Ctrl-C) then reaches the workload only as the caller forwards it. */
  newSession?: boolean;
  /** More launcher options (addon/launcher/README.md), placed before `--`. */
  launcherArgs?: string[];
  /** The tasks' identity when the launcher switches it (--uid/--gid/--groups); root by
   * default. */
  identity?: TaskIdentity;
  /** The capabilities the tasks hold (bit N: capability N), cut to GRANTABLE_CAPABILITIES
   * (src/sandbox/creds.ts); DEFAULT_CAPABILITIES when absent. None in a user namespace. */
  capabilities?: bigint;
  /** Of those, the ones raised as ambient, so that a non-root workload keeps them across
   * exec (an OCI spec's process.capabilities.ambient). */
  ambientCapabilities?: bigint;
  /** A seccomp program of the user's own (an OCI config's linux.seccomp, compiled by
   * src/oci/seccomp-profile.ts), installed above tsvisor's: it can only take calls away. */
  userFilter?: Buffer;
  /** The launcher leaves this process (launcher `--detach`) to be adopted by the nearest
   * subreaper, containerd's shim for an OCI container, which reaps it as the container's
   * process: `pid` is then its pid, and its code comes over the channel. */
  detach?: boolean;
  /** Run ARGV itself as the sandbox's pid 1 (the OCI shape) instead of under an init that
   * reaps orphans and forwards signals (`tsvisor do`'s default, as `docker run --init`). */
  noInit?: boolean;
  /** Resource limits (src/sandbox/limits.ts); absent or null fields: no limit. Callers
   * choose the defaults (defaultLimits()). */
  limits?: Limits;
  /** setrlimit(2)s in the workload before exec; DEFAULT_RLIMITS when absent. */
  rlimits?: Rlimit[];
  /** The cgroup beneath our own that holds this sandbox's (default `tsvisor`). */
  cgroupParent?: string;
  /** An OCI linux.cgroupsPath: the sandbox's cgroup goes there instead (src/sandbox/cgroup.ts,
   * cgroupsPathOf). */
  cgroupsPath?: string;
  /** The cgroup outlives the sandbox (emptied, not removed): an OCI container's goes with
   * `delete`, as runc's does, since containerd's shim reads the end's stats and OOM
   * events from it after the exit. */
  keepCgroup?: boolean;
  /** Run in a new user namespace with these id maps (an OCI config's linux.uidMappings
   * and gidMappings; launcher `--uid-map`/`--gid-map`), or, with joinPid, in the one of
   * that sandbox, which has them. Needs root. The identity is then the namespace's ids. */
  idMappings?: { uid: IdRange[]; gid: IdRange[] };
  /** Run in a user namespace of the caller's own (launcher `--userns`): forced by true,
   * and always so when this process is not root. */
  rootless?: boolean;
  /** When this process cannot make a cgroup (not root, nothing delegated), run without the
   * limits that need one, with a warning, instead of failing: for default limits, not
   * ones the user asked for. */
  limitsOptional?: boolean;
  /** Run ARGV inside the running sandbox whose init is this host pid (launcher `--join`,
   * OCI exec) instead of a new one: rootfs, mounts, network, hostname and limits are
   * that sandbox's (pass its cgroup in launcherArgs); no cgroup of its own is made. */
  joinPid?: number;
}

/** Whether a sandbox with OPTS runs in its own user namespace. */
export function usesUserNamespace(opts: Pick<SandboxOptions, 'rootless' | 'idMappings'>): boolean {
  return !opts.idMappings && (!!opts.rootless || process.geteuid?.() !== 0);
}

export interface ExitStatus {
  /** The workload's exit code; 128+N for death by signal N; 125-127 for launch failures. */
  code: number;
  /** What the launcher reported when it failed before or at exec. */
  setupError?: string;
  /** Trapped calls without a handler, by name (for --debug). */
  missing: Map<string, number>;
  /** Trapped calls answered, by name. */
  trapped: Map<string, number>;
  /** The signal behind a code of 128+N (see signalOf for the ambiguity). */
  signal?: NodeJS.Signals;
  /** Why the sandbox ended (src/sandbox/usage.ts). */
  reason: ExitReason;
  /** What it used, measured by its cgroup. */
  usage: SandboxUsage;
  /** The limits it ran under. */
  limits: Limits;
}

/** A sandbox that has been launched; `exited` settles when its last process is gone. */
export class RunningSandbox {
  readonly exited: Promise<ExitStatus>;
  /** True once the workload waits for "go" with the sentry serving it; false if the
   * sandbox ended first. */
  readonly ready: Promise<boolean>;
  private markReady: (ok: boolean) => void = () => {};
  private goSent = false;
  private sentry: Sentry | undefined;
  private kernel: Kernel | undefined;
  private channelWatch: Watcher | undefined;
  private readonly ownedFds: number[] = [];
  private setupError: string | undefined;
  private endedBy: EndedBy | undefined;
  private readonly startedAt = performance.now();
  private readonly watch: LimitWatch;
  private wearsIdentity = false;
  /** The actor of a sandbox with id maps (creds.ts NamespacedActing). */
  private acting: NamespacedActing | undefined;
  /** With detach: the launcher that left us, a pidfd on it, and its code once sent. */
  private detached: { pid: number; pidfd: number; watcher: Watcher; code?: number } | undefined;
  private over = false;
  private endWith: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};

  constructor(
    readonly child: NativeChild,
    private readonly channel: number,
    private readonly staging: string,
    private readonly opts: SandboxOptions,
    /** The sandbox's cgroup; undefined when this process cannot make one. */
    readonly cgroup?: Cgroup,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.exited = new Promise((resolve) => {
      let done = false;
      const end = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        this.over = true;
        // exited never rejects: whoever holds the sandbox gets a status, whatever failed.
        this.finish(code, signal).then(resolve, (err: Error) => {
          this.opts.log.warn(`ending the sandbox: ${err.message}`);
          const usage = { wallTimeMs: 0, cpuTimeMs: null, peakMemoryBytes: null, tasks: null, oomKills: 0, memoryLimitHits: 0, pidsLimitHits: 0 };
          const c = code ?? 128 + (signal ? signalNumber(signal) : 0);
          resolve({ code: c, setupError: this.setupError, missing: new Map(), trapped: new Map(), reason: exitReason(c, this.setupError, this.endedBy, usage, {}), usage, limits: this.opts.limits ?? {} });
        });
      };
      this.endWith = end;
      // Detached, the launcher we spawned exits 0 once its fork has taken over.
      child.onExit((code, signal) => {
        if (opts.detach && code === 0) return;
        // What it sent before it exited (an `E` record, say) may still be unread.
        if (this.channelWatch) this.onChannel();
        end(code, signal);
      });
      if (child.error) {
        this.setupError = `spawning the launcher: ${child.error}`;
        // A launcher that never started has no exit to wait for.
        queueMicrotask(() => end(125, null));
      }
    });
    this.channelWatch = watch(channel, () => this.onChannel());
    this.watch = new LimitWatch(opts.limits ?? {}, cgroup, (why) => this.end(why));
  }

  /** Host pid of the launcher (the process whose exit status is the sandbox's). */
  get pid(): number | undefined {
    return this.detached?.pid ?? this.child.pid;
  }

  private signalLauncher(sig: NodeJS.Signals): void {
    if (this.detached) native().pidfdSendSignal(this.detached.pidfd, constants.signals[sig]);
    else this.child.kill(sig);
  }

  /** Lets a held workload exec (see holdUntilStart); false if it is not waiting. */
  start(): boolean {
    if (!this.sentry || this.goSent) return false;
    this.goSent = true;
    return native().sendMsg(this.channel, Buffer.from('G'), []) > 0;
  }

  /** Ends the sandbox (reason "killed"): every task dies at once. */
  kill(): void {
    this.end('killed');
  }

  /**
   * Kills every task of the sandbox. A limit kills through the cgroup at once (nothing can
   * fork away from cgroup.kill; exit 137). kill() asks the launcher (SIGTERM: it SIGKILLs
   * init and with it the pid namespace, and exits 143, the code shells give a terminated
   * job), then uses the cgroup if the launcher does not go within a second (frozen, say).
   * The first reason given is the one reported.
   */
  private end(why: EndedBy): void {
    if (this.over) return;
    this.endedBy ??= why;
    this.watch.stop();
    if (why === 'killed' || !this.cgroup) {
      this.signalLauncher('SIGTERM');
      if (this.cgroup) setTimeout(() => this.killCgroup(), 1000).unref();
      return;
    }
    this.killCgroup();
  }

  private killCgroup(): void {
    if (!this.cgroup || this.over) return;
    this.cgroup.kill().catch((err: Error) => {
      this.opts.log.warn(`killing the sandbox: ${err.message}`);
      this.signalLauncher('SIGKILL');
    });
  }

  private onChannel(): void {
    const n = native();
    const buf = Buffer.alloc(4096);
    for (;;) {
      const r = n.recvMsg(this.channel, buf);
      if (typeof r === 'number' || r.n === 0) {
        // EAGAIN: wait for more; EOF or error: the launcher side is closed.
        if (typeof r === 'number' && r === -11) return;
        this.channelWatch?.stop();
        this.channelWatch = undefined;
        // Detached, a launcher that failed before it said who it is ends here.
        if (this.opts.detach && !this.detached && this.child.exitCode === 0) this.endWith(125, null);
        return;
      }
      this.onRecord(buf.subarray(0, r.n), r.fds);
    }
  }

  private onRecord(rec: Buffer, fds: number[]): void {
    const type = String.fromCharCode(rec[0] ?? 0);
    if (type === 'R' && fds.length === 3 && !this.sentry) {
      const [listener, rootfd, procfd] = fds as [number, number, number];
      // The sentry walks /proc through the sandbox root; it has no use for a second handle.
      native().close(procfd);
      this.ownedFds.push(listener, rootfd);
      this.startSentry(listener, rootfd);
      this.markReady(true);
      if (!this.opts.holdUntilStart) this.start();
      return;
    }
    for (const fd of fds) native().close(fd);
    if (type === 'E') this.setupError = rec.subarray(1).toString('utf8').trim();
    if (type === 'P' && rec.length === 5 && this.opts.detach && !this.detached) this.adoptDetached(rec.readUInt32LE(1));
    if (type === 'X' && rec.length === 2 && this.detached) this.detached.code = rec[1];
  }

  /** The launcher that left us is PID: watch it, as it is no child of ours. */
  private adoptDetached(pid: number): void {
    const n = native();
    const pidfd = n.pidfdOpen(pid, 0);
    if (pidfd < 0) {
      this.setupError ??= `the detached launcher ${pid} is gone (errno ${-pidfd})`;
      this.endWith(125, null);
      return;
    }
    const watcher = watch(pidfd, () => {
      // Its `X` was sent before it exited: take what the channel still holds first.
      this.onChannel();
      this.endWith(this.detached?.code ?? 128 + constants.signals.SIGKILL, null);
    });
    this.detached = { pid, pidfd, watcher };
  }

  private startSentry(listener: number, rootfd: number): void {
    const o = this.opts;
    const uts = o.hostname === null ? null : {
      sysname: 'Linux',
      nodename: o.hostname,
      release: release(),
      version: version(),
      machine: 'x86_64',
      domainname: o.domainname ?? '(none)',
    };
    // In a user namespace of a non-root caller the tasks' root is the caller's own uid
    // outside, which this thread already is, without capabilities: nothing to take on (nor
    // could it: setgroups and capset need privileges it lacks). In one of a root caller
    // the tasks' capabilities are the namespace's, not the host's: the thread wears the
    // sandbox root's. In one with id maps an actor inside it acts for each task
    // (creds.ts NamespacedActing). Otherwise each task's own credentials, as the kernel
    // has them.
    this.wearsIdentity = !(usesUserNamespace(o) && process.geteuid?.() !== 0);
    const tasks = new TaskTable();
    let actFor: ((task: Task, stillValid: () => boolean) => Errno | undefined) | undefined;
    let idle = this.wearsIdentity ? actAsOwnIfForeign : undefined;
    if (o.idMappings) {
      const acting = new NamespacedActing(rangeIdMap(o.idMappings.uid, o.idMappings.gid));
      this.acting = acting;
      actFor = (task, stillValid) => {
        const creds = tasks.credsOf(task, stillValid);
        if (isErrno(creds)) return creds;
        const r = acting.actAs(task.hostTid, creds);
        if (r < 0 && !stillValid()) return ESRCH;
        return r < 0 ? errnoOf(-r) : undefined;
      };
      idle = () => acting.idle();
    } else if (this.wearsIdentity && usesUserNamespace(o)) {
      const creds = fixedCreds(o.identity ?? SANDBOX_ROOT, DEFAULT_CAPABILITIES);
      actFor = () => void actAs(creds);
    } else if (this.wearsIdentity) {
      actFor = (task, stillValid) => {
        const creds = tasks.credsOf(task, stillValid);
        if (isErrno(creds)) return creds;
        actAs(creds);
        return undefined;
      };
    }
    const memory = this.memoryView();
    // Root inside is the caller outside (addon/launcher/userns.c), and nothing else is mapped.
    // With id maps the actor's kernel calls already see ids as the namespace has them.
    const ids = usesUserNamespace(o) ? rootOnlyIdMap(process.geteuid?.() ?? 0, process.getegid?.() ?? 0) : undefined;
    // CAP_SYS_ADMIN is never granted for real; asked for, the sentry makes the mounts it
    // would allow (syscalls/mount.ts), in the sandbox's own mount namespace only.
    const mounts = !usesUserNamespace(o) && !o.idMappings && (o.capabilities ?? DEFAULT_CAPABILITIES) & CAP_SYS_ADMIN ? new MountTable() : null;
    this.kernel = new Kernel(listener, new SandboxFs(rootfd, { memory, ids }), tasks, uts, o.network, { actFor, memory, ids, idle }, mounts);
    const strace = o.strace ? new Strace(o.strace) : undefined;
    this.sentry = new Sentry(this.kernel, dispatchTable(), o.log, strace);
    if (this.wearsIdentity) enterSandbox();
    this.sentry.start();
  }

  /** The sandbox's memory as its tasks should see it: the limit its cgroup enforces (when
   * there is one) and what the cgroup uses. */
  private memoryView(): () => SandboxMemory | null {
    const limitBytes = this.opts.limits?.memoryBytes;
    const cgroup = this.cgroup;
    if (!limitBytes || !cgroup) return () => null;
    return () => {
      const now = cgroup.memoryNow();
      return { limitBytes, usedBytes: now.memoryBytes ?? 0, tasks: now.tasks };
    };
  }

  private async finish(code: number | null, signal: NodeJS.Signals | null): Promise<ExitStatus> {
    const wallTimeMs = performance.now() - this.startedAt;
    this.watch.stop();
    this.markReady(false);
    if (this.sentry && this.wearsIdentity) leaveSandbox();
    this.acting?.close();
    this.sentry?.stop();
    this.channelWatch?.stop();
    this.kernel?.tasks.clear();
    if (this.detached) {
      this.detached.watcher.stop();
      native().close(this.detached.pidfd);
    }
    const n = native();
    for (const fd of [...this.ownedFds, this.channel]) n.close(fd);
    try {
      rmdirSync(this.staging);
    } catch {
      // Left behind only if something was created in it on the host: keep it for a look.
    }
    const signo = signal ? signalNumber(signal) : 0;
    const exitCode = code ?? 128 + signo;
    const usage = await this.closeCgroup(wallTimeMs);
    const limits = this.opts.limits ?? {};
    return {
      code: exitCode,
      setupError: this.setupError,
      missing: this.kernel?.counters.missing ?? new Map(),
      trapped: this.kernel?.counters.trapped ?? new Map(),
      signal: this.setupError === undefined ? signalOf(exitCode) : undefined,
      reason: exitReason(exitCode, this.setupError, this.endedBy, usage, limits),
      usage,
      limits,
    };
  }

  /** Reads what the sandbox used, then removes its cgroup unless kept (killing any
   * straggler: the launcher has exited, but a task could have escaped its pid namespace's
   * end). */
  private async closeCgroup(wallTimeMs: number): Promise<SandboxUsage> {
    const none: SandboxUsage = { wallTimeMs, cpuTimeMs: null, peakMemoryBytes: null, tasks: null, oomKills: 0, memoryLimitHits: 0, pidsLimitHits: 0 };
    if (!this.cgroup) return none;
    try {
      await this.cgroup.kill();
      const u = this.cgroup.usage();
      return {
        ...none,
        cpuTimeMs: u.cpuTimeMs,
        peakMemoryBytes: u.peakMemoryBytes,
        tasks: u.peakTasks === null ? null : Math.max(0, u.peakTasks - SANDBOX_OVERHEAD_TASKS),
        oomKills: u.oomKills,
        memoryLimitHits: u.memoryLimitHits,
        pidsLimitHits: u.pidsLimitHits,
      };
    } catch (err) {
      this.opts.log.warn(`reading the sandbox's usage: ${(err as Error).message}`);
      return none;
    } finally {
      if (!this.opts.keepCgroup) await this.cgroup.destroy().catch((err: Error) => this.opts.log.warn(`removing the sandbox's cgroup: ${err.message}`));
    }
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig] ?? 0;
}

/** The umask this process started with, before the sentry set its own to 0. */
const callerUmask = process.umask();

let policy: Buffer | undefined;

/** The seccomp program of syscalls/x86_64.json (precompiled at build time), once per process. */
function compiledPolicy(): Buffer {
  policy ??= loadPolicy();
  return policy;
}

/** Launches a sandbox. Resolves once the launcher runs; its exit is `exited`. */
export function startSandbox(opts: SandboxOptions): RunningSandbox {
  // First, so that a limit this host cannot enforce fails before anything else is made.
  const cgroup = opts.joinPid ? undefined : openCgroup(opts.limits ?? {}, { parent: opts.cgroupParent, path: opts.cgroupsPath }, opts.limitsOptional ? (msg) => opts.log.warn(msg) : undefined);
  try {
    return launch(opts, cgroup);
  } catch (err) {
    // Nothing joined the cgroup yet: it is empty and goes at once.
    void cgroup?.destroy().catch(() => undefined);
    throw err;
  }
}

/** The launcher's hostname when the sandbox joins a UTS namespace (and sets none). */
const DEFAULT_HOSTNAME = 'tsvisor';

let procMasks: string[] | undefined;

/** maskedProcPaths, read once: the kernel's /proc entries do not change under us. */
function hiddenProcPaths(): string[] {
  procMasks ??= maskedProcPaths();
  return procMasks;
}

function launch(opts: SandboxOptions, cgroup: Cgroup | undefined): RunningSandbox {
  // Only a writer with CAP_SETUID over the host's namespace may map other ids than its own.
  if (opts.idMappings && process.geteuid?.() !== 0) throw new Error('user namespace id maps need root');
  const n = native();
  const staging = mkdtempSync(join(tmpdir(), 'tsvisor-'));
  const [channel, launcherEnd] = n.socketpair();
  // The filter is queued before the launcher starts, so it never waits for it.
  n.sendMsg(channel, Buffer.concat([Buffer.from('F'), compiledPolicy()]), []);
  if (opts.userFilter) n.sendMsg(channel, Buffer.concat([Buffer.from('U'), opts.userFilter]), []);
  const args = opts.joinPid ? ['--join', String(opts.joinPid), '--cwd', opts.cwd] : ['--staging', staging, '--net', opts.network, '--hostname', opts.hostname ?? DEFAULT_HOSTNAME, '--cwd', opts.cwd];
  if (cgroup) args.push(...cgroup.launcherArgs());
  if (cgroup && !opts.joinPid) args.push(...cgroup.viewArgs());
  for (const r of opts.rlimits ?? DEFAULT_RLIMITS) args.push('--rlimit', rlimitArg(r));
  if (opts.limits?.cpuTimeMs && !opts.rlimits?.some((r) => r.name === 'cpu')) {
    // Per process and in whole seconds: a backstop for the sentry's check of the cgroup's
    // total, one second late when that check runs so that it, not SIGXCPU, ends the run.
    const s = Math.ceil(opts.limits.cpuTimeMs / 1000) + (cgroup ? 1 : 0);
    args.push('--rlimit', `cpu=${s}:${s + 1}`);
  }
  if (opts.rootfs) args.push('--rootfs', opts.rootfs);
  if (opts.rootfs && opts.overlay === false) args.push('--no-overlay');
  if (usesUserNamespace(opts) && !opts.joinPid) args.push('--userns');
  if (opts.idMappings && !opts.joinPid) {
    for (const m of opts.idMappings.uid) args.push('--uid-map', `${m.containerID}:${m.hostID}:${m.size}`);
    for (const m of opts.idMappings.gid) args.push('--gid-map', `${m.containerID}:${m.hostID}:${m.size}`);
  }
  const caps = usesUserNamespace(opts) ? 0n : grantedCapabilities(opts.capabilities ?? DEFAULT_CAPABILITIES, opts.network);
  if (caps) args.push('--caps', caps.toString(16));
  const ambient = caps & (opts.ambientCapabilities ?? 0n);
  if (ambient) args.push('--ambient', ambient.toString(16));
  if (opts.noInit && !opts.joinPid) args.push('--no-init');
  if (opts.detach && !opts.joinPid) args.push('--detach');
  args.push(...(opts.launcherArgs ?? []));
  if (!opts.joinPid) {
    const given = new Set(args.filter((_, i) => args[i - 1] === '--mask'));
    for (const path of hiddenProcPaths()) if (!given.has(path)) args.push('--mask', path);
  }
  for (const m of opts.mounts) {
    if ('type' in m) args.push('--tmpfs', `${m.destination}:${m.options.join(',')}`);
    else args.push('--mount', `${m.source}:${m.destination}${m.readonly ? ':ro' : ''}`);
  }
  args.push('--', ...opts.argv);
  const stdio: [Stdio, Stdio, Stdio] = Array.isArray(opts.stdio) ? opts.stdio : [opts.stdio, opts.stdio, opts.stdio];
  // The workload inherits the caller's umask; the sentry's own is 0 because it creates
  // files for tasks with their umask already applied.
  process.umask(callerUmask);
  let child: NativeChild;
  try {
    child = new NativeChild(launcherPath(), args, { stdio, extraFds: [launcherEnd], env: opts.env, newSession: opts.newSession ?? false });
  } finally {
    process.umask(0);
    n.close(launcherEnd);
  }
  const box = new RunningSandbox(child, channel, staging, opts, cgroup);
  // Built (once per process) while the launcher assembles the root, off the start-up's
  // critical path: the sentry needs it the moment the listener arrives.
  dispatchTable();
  return box;
}
