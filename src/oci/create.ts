// `create`: validates the bundle, records the container and starts its supervisor (a
// daemon of its own, or this process for a foreground `run`), then returns once the
// container's process waits for `start`. Apart from the other verbs (container.ts): it
// loads the sandbox.
import { mkdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Globals } from './container.js';
import { supervise, type DaemonOptions } from './supervisor.js';
import { lock } from './lock.js';
import { startReporting } from './ready.js';
import { procRef } from './proc.js';
import { containerDir, ensureRoot, loadContainer, writeJsonAtomic, writePidFile, type StateRecord } from './state.js';

const daemonJs = join(dirname(fileURLToPath(import.meta.url)), 'daemon-main.cjs');

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** Supervise the container in this process (a foreground `run`), not in a daemon. */
  inProcess?: boolean;
}

/** The container's supervisor as create sees it. */
interface Supervisor {
  /** What it says once set up: "ok", or "error: WHY". */
  ready: Promise<string>;
  /** Its exit: the container's status, or what ended the daemon. */
  exited: Promise<number | string>;
}

/** Spawns the container's daemon (daemon.ts) with our stdio, in a session of its own. */
function spawnDaemon(dir: string, record: StateRecord, terminal: boolean): Supervisor {
  const { child, report: ready } = startReporting(daemonJs, [dir], { terminal, cwd: dir, what: "the container's daemon" });
  const daemon = procRef(child.pid ?? 0);
  if (daemon) {
    record.daemon = daemon;
    writeJsonAtomic(join(dir, 'state.json'), record);
  }
  const exited = new Promise<number | string>((done) => child.onExit((code, sig) => done(code ?? sig!)));
  // Once it is ready, the daemon outlives create; before that create waits for its end.
  void ready.then((msg) => msg === 'ok' && child.unref());
  return { ready, exited };
}

/** Supervises the container in this very process: a foreground `run`, whose end is the
 * container's. The state's daemon is then this process. */
function superviseHere(dir: string, record: StateRecord): Supervisor {
  record.daemon = procRef(process.pid);
  writeJsonAtomic(join(dir, 'state.json'), record);
  process.chdir(dir);
  let report!: (msg: string) => void, exit!: (code: number) => void;
  const ready = new Promise<string>((done) => (report = done));
  const exited = new Promise<number>((done) => (exit = done));
  const fail = supervise({ report, exit });
  // As the daemon does: a sentry bug ends the container with a reason, not this process.
  process.on('uncaughtException', (err) => fail(`internal error: ${err.stack ?? err.message}`));
  return { ready, exited };
}

/**
 * create: validates the bundle, records the container, spawns its daemon with our stdio,
 * and returns once the container's process waits for `start`.
 */
export async function create(g: Globals, id: string, o: CreateOptions): Promise<void> {
  // Loaded here only: compiling the schema costs ~100 ms, which no other verb should pay.
  const { loadBundle } = await import('./bundle.js');
  const bundle = loadBundle(o.bundle);
  // Before an in-process supervisor changes into the container's directory.
  const pidFile = o.pidFile && resolve(o.pidFile);
  // runc refuses this pairing too: the socket would never get a terminal.
  if (o.consoleSocket && !bundle.spec.process?.terminal) throw new Error('--console-socket given, but `process.terminal` is false');
  ensureRoot(g.root);
  const dir = containerDir(g.root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`container \`${id}\` already exists`);
    throw err;
  }
  const release = await lock(dir);
  try {
    const record: StateRecord = {
      id,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      created: new Date().toISOString(),
      owner: userInfo().username,
    };
    if (bundle.spec.annotations) record.annotations = bundle.spec.annotations;
    writeJsonAtomic(join(dir, 'config.json'), bundle.spec);
    writeJsonAtomic(join(dir, 'state.json'), record);
    const daemonOpts: DaemonOptions = { log: g.log, strace: g.strace };
    if (o.consoleSocket) daemonOpts.consoleSocket = resolve(o.consoleSocket);
    if (o.pidFile) daemonOpts.detach = true;
    writeJsonAtomic(join(dir, 'daemon.json'), daemonOpts);
    const supervisor = o.inProcess ? superviseHere(dir, record) : spawnDaemon(dir, record, !!o.consoleSocket);
    const msg = await supervisor.ready;
    if (msg !== 'ok') {
      await supervisor.exited;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(msg.startsWith('error: ') ? msg.slice(7) : `the sandbox daemon exited (${await supervisor.exited}) before it was ready`);
    }
    // The launcher, adopted by the caller as a subreaper (containerd's shim), exits with the
    // container's status; it lives in the container's cgroup, where the shim reads stats.
    if (pidFile) writePidFile(pidFile, loadContainer(g.root, id).runtime?.launcher?.pid ?? record.daemon!.pid);
  } finally {
    release();
  }
}
