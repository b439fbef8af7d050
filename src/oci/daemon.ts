// The sentry daemon of one container: `create` spawns it (node dist/oci/daemon.js DIR),
// detached and with create's own stdin, stdout and stderr, which it hands unchanged to the
// container's process. It launches the sandbox held before exec, runs the createRuntime
// and prestart hooks once the namespaces exist, tells `create` it is ready on fd 3, then
// serves start/wait on DIR/ctl.sock. Its pid is the one in --pid-file, and it exits with
// the container's exit status: containerd's shim, a subreaper, learns the status by
// reaping it, exactly as it reaps runc's container init.
//
// It writes only DIR/runtime.json (see state.ts) and never to its stderr, which belongs to
// the container: its own messages go to --log.
import { closeSync, createWriteStream, readFileSync, unlinkSync, writeSync } from 'node:fs';
import type { Server } from 'node:net';
import { startSandbox, type RunningSandbox } from '../sandbox/sandbox.js';
import { serve, SOCKET, type Reply, type Request } from './control.js';
import { planSandbox } from './convert.js';
import { runHooks } from './hooks.js';
import { Log, type LogOptions } from './log.js';
import { children, procRef } from './proc.js';
import type { Hook, Spec } from './spec.js';
import { OCI_VERSION, writeRuntime, type OciState, type RuntimeRecord, type StateRecord } from './state.js';

/** What `create` leaves in DIR/daemon.json for the daemon. */
export interface DaemonOptions {
  log: LogOptions;
  /** --strace output file, if tracing. */
  strace?: string;
}

/** The fd on which `create` waits for "ok" or an error message. */
const READY_FD = 3;

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: daemon.js DIR (started by `tsvisor create`)\n');
  process.exit(2);
}
process.chdir(dir);
const opts = JSON.parse(readFileSync('daemon.json', 'utf8')) as DaemonOptions;
const log = new Log(opts.log);
const spec = JSON.parse(readFileSync('config.json', 'utf8')) as Spec;
const record = JSON.parse(readFileSync('state.json', 'utf8')) as StateRecord;

let readyReported = false;
/** Tells `create` how setting up went (once); create is gone if the pipe is. */
function reportReady(msg: string): void {
  if (readyReported) return;
  readyReported = true;
  try {
    writeSync(READY_FD, msg);
    closeSync(READY_FD);
  } catch {
    // create was killed: the container goes on without it.
  }
}

let runtime: RuntimeRecord = { phase: 'created' };
function setRuntime(rt: RuntimeRecord): void {
  runtime = rt;
  writeRuntime('.', rt);
}

function hookState(status: OciState['status']): OciState {
  const s: OciState = {
    ociVersion: OCI_VERSION,
    id: record.id,
    pid: runtime.init?.pid ?? 0,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  };
  if (record.annotations && Object.keys(record.annotations).length > 0) s.annotations = record.annotations;
  return s;
}

/** Gives up before the container ran: report, record, exit (the sandbox dies with us). */
function abort(msg: string, sandbox?: RunningSandbox): never {
  log.error(msg);
  reportReady(`error: ${msg}`);
  setRuntime({ ...runtime, phase: 'stopped', exitCode: 125, error: msg });
  sandbox?.kill();
  process.exit(125);
}

process.on('uncaughtException', (err) => abort(`internal error: ${err.stack ?? err.message}`));

async function main(): Promise<void> {
  let plan;
  try {
    plan = planSandbox(spec, record.bundle, '.');
  } catch (err) {
    abort((err as Error).message);
  }
  for (const what of plan.ignored) log.debug(`ignoring ${what}`);
  plan.mounts = plan.mounts.map((m) => (m.source.startsWith('/') ? m : { ...m, source: `${dir}/${m.source}` }));
  const straceOut = opts.strace ? createWriteStream(opts.strace, { flags: 'a' }) : undefined;
  const sandbox = startSandbox({
    ...plan,
    stdio: 'inherit',
    holdUntilStart: true,
    strace: straceOut ? (line) => straceOut.write(line) : undefined,
    log: { warn: (msg) => log.warn(msg) },
  });
  let waiting: ((r: Reply) => void)[] = [];
  let server: Server | undefined;

  sandbox.exited.then((status) => {
    const msg = status.setupError ?? `sandbox ended with exit status ${status.code} before it was ready`;
    if (!readyReported) abort(msg);
    setRuntime({ ...runtime, phase: 'stopped', exitCode: status.code });
    log.info(`container exited with status ${status.code}`);
    for (const w of waiting) w({ ok: true, exitCode: status.code });
    waiting = [];
    server?.close();
    try {
      unlinkSync(SOCKET);
    } catch {
      // Already gone.
    }
    process.exitCode = status.code;
    // Replies flush as the loop drains; should anything keep it alive, exit anyway.
    setTimeout(() => process.exit(status.code), 200).unref();
  });

  if (!(await sandbox.ready)) return; // exited: handled above
  const launcher = procRef(sandbox.pid ?? 0);
  const initPid = launcher ? children(launcher.pid)[0] : undefined;
  const init = initPid ? procRef(initPid) : undefined;
  const workloadPid = init ? children(init.pid)[0] : undefined;
  setRuntime({ phase: 'created', launcher, init, workload: workloadPid ? procRef(workloadPid) : undefined });

  try {
    // The namespaces exist and the workload has not exec'd: the point where runc runs
    // these. createContainer runs here too, in the runtime's namespaces (a deviation).
    await runHooks('createRuntime', spec.hooks?.createRuntime, hookState('creating'));
    await runHooks('prestart', spec.hooks?.prestart, hookState('creating'));
    await runHooks('createContainer', spec.hooks?.createContainer, hookState('creating'));
    server = await serve((req) => handle(req));
  } catch (err) {
    abort((err as Error).message, sandbox);
  }
  log.debug(`container created: init ${init?.pid}, workload ${workloadPid}`);
  reportReady('ok');

  async function handle(req: Request): Promise<Reply> {
    switch (req.op) {
      case 'ping':
        return { ok: true };
      case 'wait':
        if (runtime.phase === 'stopped') return { ok: true, exitCode: runtime.exitCode };
        return new Promise((resolve) => waiting.push(resolve));
      case 'start': {
        if (runtime.phase !== 'created') return { ok: false, error: `cannot start a container in the \`${runtime.phase}\` state` };
        await runHooks('startContainer', spec.hooks?.startContainer, hookState('created'));
        if (!sandbox.start()) return { ok: false, error: 'the sandbox is no longer waiting to start' };
        setRuntime({ ...runtime, phase: 'running' });
        await runHooksLogged('poststart', spec.hooks?.poststart);
        return { ok: true };
      }
    }
  }
}

/** Hooks whose failure is only logged (poststart). */
async function runHooksLogged(name: string, hooks: Hook[] | undefined): Promise<void> {
  try {
    await runHooks(name, hooks, hookState('running'));
  } catch (err) {
    log.warn((err as Error).message);
  }
}

void main();
