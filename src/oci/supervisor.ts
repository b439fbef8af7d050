// The supervisor of one container: the sentry's host. It runs in the container's daemon
// (daemon.ts), which `create` spawns detached with its own stdin, stdout and stderr,
// handed unchanged to the container's process; or, for a foreground `run`, in the CLI
// itself, which saves starting a second node. It launches the sandbox held before exec
// (its cgroup where linux.cgroupsPath says, else beneath our own: src/sandbox/cgroup.ts),
// runs the createRuntime and prestart hooks once the namespaces exist, tells `create` it
// is ready, then serves start/wait on DIR/ctl.sock, and ends with the container's exit
// status. With --pid-file, the launcher leaves this process (--detach) and its pid is the
// one in the file: containerd's shim, a subreaper, adopts it and learns the container's
// status by reaping it, exactly as it reaps runc's container init; living in the
// container's cgroup and namespaces, it is also where the shim reads stats and OOM events.
//
// It writes only DIR/runtime.json (see state.ts) and never to its stderr, which belongs to
// the container: its own messages go to --log. While the sentry answers a call, this
// process's main thread wears the calling task's file identity (src/sandbox/creds.ts), so
// the log goes through libuv's thread pool, whose threads keep the daemon's own, and
// runtime.json is written once the thread has taken its own back (setRuntime).
import { createWriteStream, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { actAsOwnIfForeign } from '../sandbox/creds.js';
import { startSandbox, type RunningSandbox } from '../sandbox/sandbox.js';
import { serve, SOCKET, type Reply, type Request } from './control.js';
import { planSandbox } from './convert.js';
import { runHooks, runHooksWarning } from './hooks.js';
import { Log, type LogOptions } from './log.js';
import { children, procRef } from './proc.js';
import type { Hook, Spec } from './spec.js';
import { ociStateOf, writeRuntime, type OciState, type RuntimeRecord, type StateRecord } from './state.js';

/** What `create` leaves in DIR/daemon.json for the daemon. */
export interface DaemonOptions {
  log: LogOptions;
  /** --strace output file, if tracing. */
  strace?: string;
  /** create --console-socket, absolute: where the terminal's master goes. */
  consoleSocket?: string;
  /** create --pid-file: its caller reaps the pid there (containerd's shim, a subreaper),
   * which is the launcher's: it leaves us (launcher --detach) to live in the container's
   * cgroup and namespaces and exit with the container's status. */
  detach?: boolean;
}

/** Where the supervisor reports to: the daemon's process, or the `run` command. */
export interface SupervisorHost {
  /** How setting up went, once: "ok" when the container waits for start, else
   * "error: WHY". */
  report(msg: string): void;
  /** The end: the container's exit status, or 125 when setting up failed. */
  exit(code: number): void;
}

/** Supervises the container whose directory is the current one (see daemon.ts). Returns
 * what gives up on it, for errors nobody caught. */
export function supervise(host: SupervisorHost): (why: string) => void {
  const opts = JSON.parse(readFileSync('daemon.json', 'utf8')) as DaemonOptions;
  const log = new Log(opts.log, undefined, true);
  const spec = JSON.parse(readFileSync('config.json', 'utf8')) as Spec;
  const record = JSON.parse(readFileSync('state.json', 'utf8')) as StateRecord;

  /** Whether setting up was reported. */
  let reported = false;
  const report = (msg: string): void => {
    if (reported) return;
    reported = true;
    host.report(msg);
  };

  /** The daemon's view; undefined phase until the workload waits for start. */
  let runtime: RuntimeRecord | undefined;
  /**
   * Records RT in runtime.json at once. `start` may answer only once `state` shows the
   * container running, and a write through the thread pool waited for the event loop
   * between its steps, which the container's first calls keep busy (5-10 ms). The thread
   * first takes back the daemon's own identity if it wears a task's (creds.ts).
   */
  function setRuntime(rt: RuntimeRecord): Promise<void> {
    runtime = rt;
    try {
      actAsOwnIfForeign();
      writeRuntime('.', rt);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The state hooks get; its pid as `state` reports it (Container.reportedPid). */
  function hookState(status: OciState['status']): OciState {
    const pid = runtime?.detached ? runtime.launcher?.pid : runtime?.init?.pid;
    return ociStateOf(record, pid ?? 0, status);
  }

  let sandbox: RunningSandbox | undefined;
  let server: Server | undefined;
  /** `wait` requests, answered at the end. */
  let waiting: ((r: Reply) => void)[] = [];
  let aborting = false;

  /** The container is over: record its status, answer every `wait`, and exit with it. */
  async function end(code: number, error?: string): Promise<void> {
    await setRuntime({ ...runtime, phase: 'stopped', exitCode: code, ...(error ? { error } : {}) }).catch(() => {});
    for (const w of waiting) w({ ok: true, exitCode: code });
    waiting = [];
    server?.close();
    await unlink(SOCKET).catch(() => {});
    await log.flushed();
    if (error) report(`error: ${error}`);
    host.exit(code);
  }

  /**
   * Gives up (before the container ran, or on an internal error): record, report, exit. The sandbox is ended and
   * waited for first, so that its cgroup is gone before `create` fails (a cgroupsPath may
   * be used again at once). POSTSTOP: the container existed (a create hook failed), so it
   * is destroyed as the spec says, poststop hooks included.
   */
  async function abort(msg: string, poststop = false): Promise<never> {
    // The sandbox's end, which this causes, must not report a second reason.
    if (aborting) return new Promise(() => {});
    aborting = true;
    log.error(msg);
    if (sandbox) {
      sandbox.kill();
      await Promise.race([sandbox.exited, sleep(5000, undefined, { ref: false })]);
      await sandbox.cgroup?.destroy().catch((err: Error) => log.warn(`removing the sandbox's cgroup: ${err.message}`));
    }
    if (poststop) await runHooksWarning('poststop', spec.hooks?.poststop, { ...hookState('stopped'), pid: 0 }, (m) => log.warn(m));
    await end(125, msg);
    return new Promise(() => {});
  }

  /** Hooks whose failure is only a warning (poststart): the rest run, the container goes on. */
  function runHooksLogged(name: string, hooks: Hook[] | undefined): Promise<void> {
    return runHooksWarning(name, hooks, hookState('running'), (msg) => log.warn(msg));
  }

  async function main(): Promise<void> {
    let plan;
    try {
      plan = planSandbox(spec, record.bundle, opts.consoleSocket);
    } catch (err) {
      return abort((err as Error).message);
    }
    for (const what of plan.ignored) log.debug(`ignoring ${what}`);

    let start: (() => Promise<Reply>) | undefined;
    const handle = async (req: Request): Promise<Reply> => {
      switch (req.op) {
        case 'ping':
          return { ok: true };
        case 'wait':
          if (runtime?.phase === 'stopped') return { ok: true, exitCode: runtime.exitCode };
          return new Promise((resolve) => waiting.push(resolve));
        case 'start':
          if (!start || runtime?.phase !== 'created') {
            return { ok: false, error: `cannot start a container in the \`${runtime?.phase ?? 'creating'}\` state` };
          }
          return start();
      }
    };
    // Listening before the sentry runs: the socket file is created with our own identity.
    try {
      server = await serve(handle);
    } catch (err) {
      return abort(`listen on \`${SOCKET}\`: ${(err as Error).message}`);
    }

    const straceOut = opts.strace ? createWriteStream(opts.strace, { flags: 'a' }) : undefined;
    try {
      sandbox = startSandbox({
        ...plan,
        detach: opts.detach,
        // Empty is absent: the runtime picks (runtime-spec config-linux.md).
        cgroupsPath: spec.linux?.cgroupsPath || undefined,
        keepCgroup: true,
        stdio: 'inherit',
        holdUntilStart: true,
        newSession: true,
        strace: straceOut ? (line) => straceOut.write(line) : undefined,
        log: { warn: (msg) => log.warn(msg) },
      });
    } catch (err) {
      return abort((err as Error).message);
    }
    const box = sandbox;

    box.exited.then(async (status) => {
      if (!reported) {
        return abort(status.setupError ?? `sandbox ended with exit status ${status.code} before it was ready`);
      }
      log.info(`container exited with status ${status.code}`);
      // A failure after create (the process's exec, at start) is the container's to show:
      // on its stderr, which is ours.
      if (status.setupError) process.stderr.write(`tsvisor: ${status.setupError}\n`);
      await end(status.code);
    });

    if (!(await box.ready)) return; // exited: handled above
    const launcher = procRef(box.pid ?? 0);
    const initPid = launcher ? children(launcher.pid)[0] : undefined;
    const init = initPid ? procRef(initPid) : undefined;
    // process.args is pid 1 itself (plan.noInit): no init in between.
    const workloadPid = init?.pid;
    await setRuntime({ phase: 'created', launcher, detached: opts.detach, init, workload: workloadPid ? procRef(workloadPid) : undefined, cgroup: box.cgroup?.describe() });

    try {
      // The namespaces exist and the workload has not exec'd: the point where runc runs
      // these. createContainer runs here too, in the runtime's namespaces (a deviation).
      await runHooks('createRuntime', spec.hooks?.createRuntime, hookState('creating'));
      await runHooks('prestart', spec.hooks?.prestart, hookState('creating'));
      await runHooks('createContainer', spec.hooks?.createContainer, hookState('creating'));
    } catch (err) {
      return abort((err as Error).message, true);
    }
    start = async () => {
      try {
        await runHooks('startContainer', spec.hooks?.startContainer, hookState('created'));
      } catch (err) {
        // The spec: an error, and the container stops (its poststop hooks run at delete).
        box.kill();
        return { ok: false, error: (err as Error).message };
      }
      if (!box.start()) return { ok: false, error: 'the sandbox is no longer waiting to start' };
      await setRuntime({ ...runtime, phase: 'running' });
      await runHooksLogged('poststart', spec.hooks?.poststart);
      return { ok: true };
    };
    log.debug(`container created: init ${init?.pid}, workload ${workloadPid}`);
    await log.flushed();
    report('ok');
  }

  main().catch((err: Error) => abort(`internal error: ${err.stack ?? err.message}`));
  return (why) => void abort(why);
}
