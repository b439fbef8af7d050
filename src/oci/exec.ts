// exec: one more process in a running container (`tsvisor exec`, `docker exec`). The
// launcher joins the container's namespaces and root (`--join`, addon/launcher/join.c) and
// this process's own sentry serves the new process over a Kernel rooted at the container's
// root. Detached (--detach, as containerd asks), the work moves to a detached exec daemon
// (exec-daemon.ts) whose pid goes in --pid-file and which exits with the process's status.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../sandbox/sandbox.js';
import { Cgroup } from '../sandbox/cgroup.js';
import type { Globals } from './container.js';
import { envRecord } from './convert.js';
import { Log } from './log.js';
import { isAlive } from './proc.js';
import type { Spec } from './spec.js';
import { loadContainer } from './state.js';

const execDaemonJs = join(dirname(fileURLToPath(import.meta.url)), 'exec-daemon.js');

export interface ExecOptions {
  /** --process FILE: the whole process (OCI `process` JSON). */
  process?: string;
  /** ARGS after the id, when there is no --process. */
  args: string[];
  cwd?: string;
  /** --env K=V, added to the container's process.env. */
  env: string[];
  detach: boolean;
  pidFile?: string;
}

/** Everything the exec daemon (or exec itself) needs to run the process. */
export interface ExecPlan {
  initPid: number;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  hostname: string;
  network: 'none' | 'host';
  launcherArgs: string[];
  identity: { uid: number; gid: number; groups: number[] };
  log: Globals['log'];
}

interface ProcessJson {
  terminal?: boolean;
  args?: unknown;
  env?: unknown;
  cwd?: unknown;
  user?: { uid?: unknown; gid?: unknown; additionalGids?: unknown; umask?: unknown };
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
}

/** The plan for ID's new process; throws when the container or the process will not do. */
export function planExec(g: Globals, id: string, o: ExecOptions): ExecPlan {
  const c = loadContainer(g.root, id);
  if (c.status !== 'running' && c.status !== 'created') throw new Error(`cannot exec in a container in the \`${c.status}\` state`);
  const init = c.runtime?.init;
  if (!isAlive(init)) throw new Error('the container has no process left');
  const spec = JSON.parse(readFileSync(join(c.dir, 'config.json'), 'utf8')) as Spec;
  let p: ProcessJson;
  if (o.process) {
    try {
      p = JSON.parse(readFileSync(o.process, 'utf8')) as ProcessJson;
    } catch (err) {
      throw new Error(`--process \`${o.process}\`: ${(err as Error).message}`);
    }
    if (typeof p !== 'object' || p === null) throw new Error(`--process \`${o.process}\`: not a JSON object`);
    if (o.args.length > 0) throw new Error('give either --process or ARGS, not both');
  } else {
    p = { args: o.args, env: spec.process?.env ?? [], cwd: spec.process?.cwd ?? '/', user: spec.process?.user };
  }
  if (p.terminal) throw new Error('`process.terminal` (--tty) is not supported by exec yet');
  if (!isStrings(p.args) || p.args.length === 0) throw new Error('`process.args`: want a non-empty array of strings');
  if (p.env !== undefined && !isStrings(p.env)) throw new Error('`process.env`: want an array of strings');
  const cwd = o.cwd ?? (p.cwd === undefined ? '/' : p.cwd);
  if (typeof cwd !== 'string' || !cwd.startsWith('/')) throw new Error('`process.cwd`: want an absolute path');
  const user = p.user ?? {};
  const uid = user.uid ?? 0;
  const gid = user.gid ?? 0;
  const groups = user.additionalGids ?? [];
  if (!isId(uid) || !isId(gid) || !Array.isArray(groups) || !groups.every(isId)) throw new Error('`process.user`: want numeric uid, gid and additionalGids');
  if (user.umask !== undefined && !isId(user.umask)) throw new Error('`process.user.umask`: want a number');
  const launcherArgs: string[] = [];
  if (uid !== 0) launcherArgs.push('--uid', String(uid));
  if (gid !== 0) launcherArgs.push('--gid', String(gid));
  if (groups.length > 0) launcherArgs.push('--groups', groups.join(','));
  if (user.umask !== undefined) launcherArgs.push('--umask', (user.umask as number).toString(8));
  if (c.runtime?.cgroup) launcherArgs.push(...Cgroup.reopen(c.runtime.cgroup).launcherArgs());
  const env = envRecord(p.env as string[] | undefined);
  for (const kv of o.env) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`--env \`${kv}\`: want KEY=VALUE`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    initPid: init.pid,
    argv: p.args,
    env,
    cwd,
    hostname: spec.hostname ?? 'tsvisor',
    network: spec.linux?.namespaces?.some((n) => n.type === 'network') ? 'none' : 'host',
    launcherArgs,
    identity: { uid, gid, groups: groups as number[] },
    log: g.log,
  };
}

/**
 * Runs PLAN in this process with our stdio; ONREADY once the process waits for the sentry
 * (or false: it failed first). Resolves to its exit status.
 */
export async function runExec(plan: ExecPlan, onReady?: (ok: boolean, error?: string) => void): Promise<number> {
  const log = new Log(plan.log);
  const sandbox = startSandbox({
    argv: plan.argv,
    env: plan.env,
    cwd: plan.cwd,
    mounts: [],
    network: plan.network,
    hostname: plan.hostname,
    stdio: 'inherit',
    log: { warn: (msg) => log.warn(msg) },
    launcherArgs: plan.launcherArgs,
    identity: plan.identity,
    rlimits: [],
    joinPid: plan.initPid,
  });
  void sandbox.ready.then((ok) => {
    if (ok) onReady?.(true);
  });
  const status = await sandbox.exited;
  onReady?.(false, status.setupError ?? `exited with status ${status.code} before it ran`);
  await log.flushed();
  return status.code;
}

/** Writes the pid file as runc does: a temporary file renamed into place. */
function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}

/**
 * exec: without --detach, runs the process and returns its exit status. With --detach,
 * returns 0 once a detached exec daemon has the process waiting to run.
 */
export async function exec(g: Globals, id: string, o: ExecOptions): Promise<number> {
  const plan = planExec(g, id, o);
  if (!o.detach) {
    let setupError: string | undefined;
    let ran = false;
    const code = await runExec(plan, (ok, err) => {
      if (ok) ran = true;
      else if (!ran) setupError = err;
    });
    if (setupError && code >= 125) throw new Error(setupError);
    return code;
  }
  const child = spawn(process.execPath, [execDaemonJs, JSON.stringify(plan)], {
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    cwd: '/',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const msg = await new Promise<string>((done) => {
    let m = '';
    const s = child.stdio[3] as NodeJS.ReadableStream;
    s.setEncoding('utf8');
    s.on('data', (d: string) => (m += d));
    s.on('end', () => done(m));
    s.on('error', () => done(m));
  });
  if (msg !== 'ok') throw new Error(msg.startsWith('error: ') ? msg.slice(7) : 'the exec daemon exited before the process ran');
  if (o.pidFile) writePidFile(o.pidFile, child.pid!);
  child.unref();
  return 0;
}
