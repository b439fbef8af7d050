// exec: one more process in a running container (`tsvisor exec`, `docker exec`). The
// launcher joins the container's namespaces and root (`--join`, addon/launcher/join.c) and
// this process's own sentry serves the new process over a Kernel rooted at the container's
// root. Detached (--detach, as containerd asks), the work moves to a detached exec daemon
// (exec-daemon.ts) whose pid goes in --pid-file and which exits with the process's status.
// A terminal (process.terminal, --tty) is a pty the launcher makes in the container's
// devpts (addon/launcher/console.c); its master goes to --console-socket when detached, as
// containerd's shim asks, or, in the foreground, to us, and we relay it to our own terminal.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { native } from '../native.js';
import { startSandbox, type RunningSandbox } from '../sandbox/sandbox.js';
import { Cgroup } from '../sandbox/cgroup.js';
import type { Globals } from './container.js';
import { envRecord } from './convert.js';
import { compileOciSeccomp, type OciSeccomp } from './seccomp-profile.js';
import { GRANTABLE_CAPABILITIES } from '../sandbox/creds.js';
import { capabilityMask } from '../sentry/abi/capability.js';
import type { IdRange } from '../sentry/ids.js';
import { Log } from './log.js';
import { isAlive } from './proc.js';
import type { Spec } from './spec.js';
import { startReporting } from './ready.js';
import { loadContainer, writePidFile } from './state.js';

const execDaemonJs = join(dirname(fileURLToPath(import.meta.url)), 'exec-daemon-main.cjs');

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
  /** --tty: a terminal for a process given by ARGS (a --process file says it itself). */
  tty: boolean;
  /** --console-socket: where the terminal's master goes (with --detach only, as runc). */
  consoleSocket?: string;
}

/** Everything the exec daemon (or exec itself) needs to run the process. */
export interface ExecPlan {
  initPid: number;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** null: the container joined a UTS namespace, whose name the kernel answers. */
  hostname: string | null;
  network: 'none' | 'host';
  launcherArgs: string[];
  identity: { uid: number; gid: number; groups: number[] };
  log: Globals['log'];
  /** The process has a terminal; launcherArgs already name its console socket when
   * detached, exec adds its own in the foreground. */
  terminal: boolean;
  /** process.consoleSize, given: the launcher sets it (--console-size). */
  hasConsoleSize: boolean;
  /** The capabilities to grant (hexadecimal mask), from the process or the container. */
  capabilities: string;
  /** The container's linux.seccomp, applied to every process in it as runc does. */
  seccomp?: OciSeccomp;
  /** The id maps of the container's user namespace, which the process joins. */
  idMappings?: { uid: IdRange[]; gid: IdRange[] };
}

interface ProcessJson {
  terminal?: unknown;
  consoleSize?: { height?: unknown; width?: unknown };
  args?: unknown;
  env?: unknown;
  cwd?: unknown;
  user?: { uid?: unknown; gid?: unknown; additionalGids?: unknown; umask?: unknown };
  capabilities?: { permitted?: unknown };
  oomScoreAdj?: unknown;
  noNewPrivileges?: unknown;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
}

function isDimension(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

/**
 * Whether the process gets a terminal, checked as runc's exec does (utils_linux.go,
 * checkTerminal): a --process file says so itself (--tty then counts for nothing); a
 * detached one needs --console-socket for its master, and only a detached one with a
 * terminal may have one. A foreground one gets a terminal relayed to ours.
 */
function wantsTerminal(p: ProcessJson, o: ExecOptions): boolean {
  if (o.process && p.terminal !== undefined && typeof p.terminal !== 'boolean') throw new Error('`process.terminal`: want a boolean');
  const terminal = o.process ? p.terminal === true : o.tty;
  if (o.detach && terminal && !o.consoleSocket) throw new Error('cannot allocate a terminal when detached without --console-socket');
  if ((!o.detach || !terminal) && o.consoleSocket) throw new Error('--console-socket needs --detach and a terminal (--tty, or `process.terminal` in --process)');
  return terminal;
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
  const terminal = wantsTerminal(p, o);
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
  const oom = p.oomScoreAdj ?? spec.process?.oomScoreAdj;
  if (oom !== undefined) {
    if (typeof oom !== 'number' || !Number.isInteger(oom) || oom < -1000 || oom > 1000) throw new Error('`process.oomScoreAdj`: want an integer from -1000 to 1000');
    launcherArgs.push('--oom-score-adj', String(oom));
  }
  if ((p.noNewPrivileges ?? spec.process?.noNewPrivileges) !== true) launcherArgs.push('--new-privs');
  const permitted = p.capabilities ? p.capabilities.permitted ?? [] : spec.process?.capabilities?.permitted;
  if (permitted !== undefined && !isStrings(permitted)) throw new Error('`process.capabilities.permitted`: want an array of names');
  // Absolute: the exec daemon and the launcher run in `/`.
  if (o.consoleSocket) launcherArgs.push('--console-socket', resolve(o.consoleSocket));
  const size = terminal ? p.consoleSize : undefined;
  if (size !== undefined) {
    if (typeof size !== 'object' || size === null || !isDimension(size.height) || !isDimension(size.width)) throw new Error('`process.consoleSize`: want height and width from 0 to 65535');
    launcherArgs.push('--console-size', `${size.height},${size.width}`);
  }
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
    hostname: spec.linux?.namespaces?.some((n) => n.type === 'uts' && n.path) ? null : spec.hostname ?? 'tsvisor',
    network: spec.linux?.namespaces?.some((n) => n.type === 'network') ? 'none' : 'host',
    launcherArgs,
    identity: { uid, gid, groups: groups as number[] },
    log: g.log,
    terminal,
    hasConsoleSize: size !== undefined,
    capabilities: (permitted ? capabilityMask(permitted) : GRANTABLE_CAPABILITIES).toString(16),
    seccomp: spec.linux?.seccomp,
    ...(spec.linux?.namespaces?.some((n) => n.type === 'user' && !n.path) && spec.linux.uidMappings && spec.linux.gidMappings
      ? { idMappings: { uid: spec.linux.uidMappings, gid: spec.linux.gidMappings } }
      : {}),
  };
}

/** The sandbox of PLAN's process, which waits for start() when HOLD. */
function launch(plan: ExecPlan, log: Log, hold = false): RunningSandbox {
  return startSandbox({
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
    holdUntilStart: hold,
    capabilities: BigInt(`0x${plan.capabilities}`),
    userFilter: plan.seccomp && compileOciSeccomp(plan.seccomp),
    ...(plan.idMappings ? { idMappings: plan.idMappings } : {}),
  });
}

/**
 * Runs PLAN in this process with our stdio; ONREADY once the process waits for the sentry
 * (or false: it failed first). Resolves to its exit status.
 */
export async function runExec(plan: ExecPlan, onReady?: (ok: boolean, error?: string) => void): Promise<number> {
  const log = new Log(plan.log);
  const sandbox = launch(plan, log);
  void sandbox.ready.then((ok) => {
    if (ok) onReady?.(true);
  });
  const status = await sandbox.exited;
  onReady?.(false, status.setupError ?? `exited with status ${status.code} before it ran`);
  await log.flushed();
  return status.code;
}

/** How long a master the launcher has already sent may take to show up here: it is queued
 * before the process is ready, so this only keeps a bug from hanging us. */
const MASTER_WAIT_MS = 5000;

/** The pty master that came over CONN, a connection to our console socket. */
function receiveMaster(conn: Socket): number {
  // net.Socket exposes no fd, but its pipe handle does; paused since accept
  // (pauseOnConnect), Node has read nothing of the message, whose fd it would drop.
  const fd = (conn as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  try {
    if (typeof fd !== 'number' || fd < 0) throw new Error('console socket: the connection has no fd');
    const r = native().recvMsg(fd, Buffer.alloc(256));
    if (typeof r === 'number') throw new Error(`console socket: recvmsg failed (errno ${-r})`);
    const [master, ...extra] = r.fds;
    for (const x of extra) native().close(x);
    if (master === undefined) throw new Error('console socket: no terminal came with the message');
    return master;
  } finally {
    conn.destroy();
  }
}

/**
 * Relays MASTER to our stdio, as runc's foreground terminal: our stdin (raw, when a
 * terminal) to the process, its output to our stdout. done settles when the last slave
 * closes (reads fail with EIO); stop() undoes it all.
 */
function relayTerminal(master: number): { done: Promise<void>; stop: () => void } {
  // One duplex stream over the master: a second handle on the same fd would clash in libuv.
  const pty = new ReadStream(master);
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const done = new Promise<void>((settle) => {
    pty.on('error', () => {}); // EIO: the process's side is closed, the normal end
    pty.on('close', () => settle());
  });
  if (raw) stdin.setRawMode(true);
  // Not ended with stdin: the process may still print, and a pty cannot be half-closed.
  stdin.pipe(pty, { end: false });
  pty.pipe(process.stdout, { end: false });
  return {
    done,
    stop: () => {
      stdin.unpipe(pty);
      if (raw) stdin.setRawMode(false);
      stdin.destroy();
      pty.destroy();
    },
  };
}

/**
 * A foreground process with a terminal: the launcher sends the pty's master to a socket
 * of ours (in a private directory) and we relay it until the process is gone. Like runc,
 * this needs a terminal of our own; the pty gets its size unless process.consoleSize says.
 */
async function execWithTerminal(plan: ExecPlan): Promise<number> {
  const out = [process.stdout, process.stderr].find((s) => s.isTTY);
  if (!out && !process.stdin.isTTY) throw new Error('--tty in the foreground needs a terminal on stdin, stdout or stderr');
  const log = new Log(plan.log);
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-exec-'));
  const server = createServer({ pauseOnConnect: true });
  const connected = new Promise<Socket>((done) => server.once('connection', done));
  let open = true;
  const closeSocket = (): void => {
    if (!open) return;
    open = false;
    server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let relay: ReturnType<typeof relayTerminal> | undefined;
  let status;
  try {
    const sock = join(dir, 'console.sock');
    await new Promise<void>((done, fail) => server.once('error', fail).listen(sock, done));
    plan.launcherArgs.push('--console-socket', sock);
    if (!plan.hasConsoleSize && out) plan.launcherArgs.push('--console-size', `${out.rows},${out.columns}`);
    // Held at "go" until the relay is in place, so nothing the process prints is missed.
    const sandbox = launch(plan, log, true);
    if (await sandbox.ready) {
      try {
        const conn = await Promise.race([connected, sleep(MASTER_WAIT_MS, undefined, { ref: false })]);
        if (!conn) throw new Error('console socket: the launcher sent no terminal');
        relay = relayTerminal(receiveMaster(conn));
      } catch (err) {
        sandbox.kill();
        await sandbox.exited;
        throw err;
      } finally {
        closeSocket();
      }
      sandbox.start();
    }
    status = await sandbox.exited;
  } finally {
    closeSocket();
  }
  if (relay) {
    // What it printed last is still in the pty; a child it left behind may hold the slave.
    await Promise.race([relay.done, sleep(1000, undefined, { ref: false })]);
    relay.stop();
  }
  await log.flushed();
  if (!relay && status.setupError) throw new Error(status.setupError);
  return status.code;
}

/**
 * exec: without --detach, runs the process and returns its exit status. With --detach,
 * returns 0 once a detached exec daemon has the process waiting to run.
 */
export async function exec(g: Globals, id: string, o: ExecOptions): Promise<number> {
  const plan = planExec(g, id, o);
  if (!o.detach && plan.terminal) return execWithTerminal(plan);
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
  const { child, report } = startReporting(execDaemonJs, [JSON.stringify(plan)], { terminal: !!plan.terminal, what: 'the exec daemon' });
  const msg = await report;
  if (msg !== 'ok') throw new Error(msg.startsWith('error: ') ? msg.slice(7) : 'the exec daemon exited before the process ran');
  if (o.pidFile) writePidFile(o.pidFile, child.pid!);
  child.unref();
  return 0;
}
