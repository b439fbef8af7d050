// The container lifecycle, one function per runc verb, over the state directory
// (state.ts), the lock (lock.ts) and the daemon (daemon.ts). Each function takes the
// state root and typed options and throws an Error whose message is the whole story.
// `create` is in create.ts: it alone loads the sandbox, which the other verbs, each a
// process of its own that Docker runs for every container, should not pay for.
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Cgroup, CgroupError } from '../sandbox/cgroup.js';
import { cgroupUpdateOf } from './resources.js';
import { runHooksWarning } from './hooks.js';
import { lock, LockGone } from './lock.js';
import type { LogOptions } from './log.js';
import { isAlive, tree } from './proc.js';
import { sleep } from './sleep.js';
import type { Spec } from './spec.js';
import { containerDir, loadContainer, NotFound, type Container } from './state.js';

export interface Globals {
  root: string;
  log: LogOptions;
  strace?: string;
}

/** Runs FN holding the container's lock. */
async function locked<T>(root: string, id: string, fn: (c: Container) => Promise<T> | T): Promise<T> {
  const dir = containerDir(root, id);
  let release;
  try {
    release = await lock(dir);
  } catch (err) {
    if (err instanceof LockGone) throw new NotFound(`container \`${id}\` does not exist`);
    throw err;
  }
  try {
    return await fn(loadContainer(root, id));
  } finally {
    release();
  }
}

export async function start(g: Globals, id: string): Promise<void> {
  await locked(g.root, id, async (c) => {
    const status = c.status;
    if (status !== 'created') throw new Error(`cannot start a container in the \`${status}\` state`);
    const { request } = await import('./control.js');
    const reply = await request(c.dir, { op: 'start' });
    if (!reply.ok) throw new Error(reply.error);
  });
}

export function state(g: Globals, id: string): Container {
  return loadContainer(g.root, id);
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/**
 * Host pids of every process of the container: those in its cgroup (exec'd ones too) that
 * are in its pid namespace, which leaves out the launchers that joined the cgroup from the
 * host's; without a cgroup, its init and all descendants.
 */
export function pids(c: Container): number[] {
  const init = c.runtime?.init;
  if (c.status === 'stopped' || !isAlive(init)) return [];
  const ns = pidNamespace(init.pid);
  const cg = cgroupOf(c);
  if (!cg || !ns) return tree(init.pid);
  return cg.procs().filter((pid) => pidNamespace(pid) === ns);
}

function signal(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // Exited since we listed it.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * kill: the signal goes to the container's process (process.args), or with ALL to every
 * process of the container. SIGKILL goes to the sandbox's init as well, whose death
 * takes down its whole pid namespace.
 */
export async function kill(g: Globals, id: string, sig: number, all: boolean): Promise<void> {
  await locked(g.root, id, (c) => {
    const status = c.status;
    if (status === 'stopped' || status === 'creating') throw new Error(`cannot kill a container in the \`${status}\` state`);
    if (all) {
      for (const pid of pids(c)) signal(pid, sig);
      return;
    }
    const target = isAlive(c.runtime?.workload) ? c.runtime!.workload! : c.runtime?.init;
    if (!isAlive(target)) throw new Error('the container has no process left');
    signal(target.pid, sig);
    if (sig === 9 && isAlive(c.runtime?.init)) signal(c.runtime!.init!.pid, 9);
  });
}

/** Waits for the daemon to exit, SIGKILLing it after GRACE ms. */
async function reapDaemon(c: Container, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (isAlive(c.record.daemon)) {
    if (Date.now() > deadline) {
      signal(c.record.daemon!.pid, 9);
      await sleep(10);
      if (Date.now() > deadline + 2000) break;
    }
    await sleep(5);
  }
}

export async function remove(g: Globals, id: string, force: boolean): Promise<void> {
  try {
    await removeLocked(g, id, force);
  } catch (err) {
    // runc's rule: --force of a container that is not there is no error (containerd's
    // shim deletes that way after its delete); a create that died before writing its
    // state leaves a directory, which goes.
    if (!(force && err instanceof NotFound)) throw err;
    rmSync(containerDir(g.root, id), { recursive: true, force: true });
  }
}

async function removeLocked(g: Globals, id: string, force: boolean): Promise<void> {
  await locked(g.root, id, async (c) => {
    const status = c.status;
    if ((status === 'running' || status === 'paused') && !force) {
      throw new Error(`cannot delete container \`${id}\` that is not stopped: ${status} (use --force)`);
    }
    if (status !== 'stopped') {
      // created, creating, or forced: everything goes with the sandbox's init.
      for (const ref of [c.runtime?.init, c.runtime?.launcher]) if (isAlive(ref)) signal(ref.pid, 9);
      if (status === 'creating' && isAlive(c.record.daemon)) signal(c.record.daemon!.pid, 9);
    }
    // A foreground `run` supervises its container itself: it is done with it by now.
    if (c.record.daemon?.pid !== process.pid) await reapDaemon(c, 5000);
    // The cgroup lasts until delete, as runc's (the daemon empties it as the sandbox
    // ends); a daemon killed first may leave a straggler in it too.
    if (c.runtime?.cgroup) {
      await Cgroup.reopen(c.runtime.cgroup)
        .destroy()
        .catch((err: Error) => process.emitWarning(`removing the container's cgroup: ${err.message}`));
    }
    const spec = JSON.parse(readFileSync(join(c.dir, 'config.json'), 'utf8')) as Spec;
    // The spec: a poststop failure is logged, and the other hooks and delete go on.
    await runHooksWarning('poststop', spec.hooks?.poststop, { ...c.ociState(), status: 'stopped', pid: 0 }, (msg) => process.emitWarning(msg));
    rmSync(c.dir, { recursive: true, force: true });
  });
}

/** wait: the container's exit status, once it has one. */
export async function wait(g: Globals, id: string): Promise<number> {
  const c = loadContainer(g.root, id);
  if (c.status !== 'stopped') {
    try {
      const { request } = await import('./control.js');
      const reply = await request(c.dir, { op: 'wait' });
      if (reply.ok && reply.exitCode !== undefined) return reply.exitCode;
    } catch {
      // The daemon went away: fall back to what it recorded.
    }
  }
  const after = loadContainer(g.root, id);
  return after.runtime?.exitCode ?? 128 + 9;
}

/** The container's cgroup, when its daemon made one (and the container still runs). */
export function cgroupOf(c: Container): Cgroup | undefined {
  const rec = c.runtime?.cgroup;
  return rec && c.status !== 'stopped' ? Cgroup.reopen(rec) : undefined;
}

/**
 * pause and resume: the cgroup freezer when the container has a cgroup (nothing can fork
 * away from it), else SIGSTOP/SIGCONT to every process, parents first.
 */
export async function setPaused(g: Globals, id: string, paused: boolean): Promise<void> {
  await locked(g.root, id, async (c) => {
    const status = c.status;
    if (paused && status !== 'running') throw new Error(`cannot pause a container in the \`${status}\` state`);
    if (!paused && status !== 'paused') throw new Error(`cannot resume a container in the \`${status}\` state`);
    const cg = cgroupOf(c);
    let frozen = false;
    if (cg) {
      try {
        if (paused) await cg.freeze();
        else cg.thaw();
        frozen = true;
      } catch (err) {
        if (!(err instanceof CgroupError)) throw err;
      }
    }
    if (!frozen) for (const pid of pids(c)) signal(pid, paused ? 19 /* SIGSTOP */ : 18 /* SIGCONT */);
    c.saveRecord({ ...c.record, paused });
  });
}

/** ps without --format json: the host's `ps ARGS` limited to the container's pids. */
export function psTable(c: Container, args: string[]): string {
  // Required here, as hooks.ts does: only `ps` needs node:child_process.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const mine = new Set(pids(c));
  const r = spawnSync('ps', args.length > 0 ? args : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ps: ${r.stderr.trim() || `exit status ${r.status}`}`);
  const [header = '', ...lines] = r.stdout.split('\n');
  const pidCol = header.trim().split(/\s+/).indexOf('PID');
  if (pidCol < 0) throw new Error('ps: output has no PID column');
  return [header, ...lines.filter((l) => mine.has(Number(l.trim().split(/\s+/)[pidCol])))].join('\n') + '\n';
}


/**
 * update: applies linux.resources RESOURCES to the container's cgroup; returns what of it
 * was ignored (best effort fields). A container without a cgroup cannot be updated.
 */
export async function update(g: Globals, id: string, resources: unknown): Promise<string[]> {
  return locked(g.root, id, (c) => {
    if (c.status === 'stopped') throw new Error('container is stopped');
    const cg = cgroupOf(c);
    if (!cg) throw new Error('the container has no cgroup (this host did not let tsvisor make one)');
    const { resources: r, ignored } = cgroupUpdateOf(resources);
    cg.update(r);
    return ignored;
  });
}
