// The state directory, like runc's: one directory per container under --root. Each file
// has a single writer, so that no writer waits on another:
//   state.json    what the CLI knows (bundle, creation time, the daemon's identity, paused),
//                 written by the commands under the container's lock;
//   runtime.json  what the daemon knows (phase, the sandbox's pids, exit code), written
//                 only by the daemon;
//   config.json   the validated spec, copied at create (the bundle may change later);
//   ctl.sock      the daemon's control socket; lock (see lock.ts).
// Every write is a temporary file renamed over the old one, so a reader never sees half a
// file, and every pid is stored with its start time, so a recycled pid is never taken for
// the container's.
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { invalidId } from './id.js';
import type { CgroupRecord } from '../sandbox/cgroup.js';
import { isAlive, type ProcRef } from './proc.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The OCI spec version our state output follows. */
export const OCI_VERSION = '1.2.0';

export interface StateRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339, UTC. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The sentry daemon: its pid is the one in --pid-file. */
  daemon?: ProcRef;
  paused?: boolean;
}

export interface RuntimeRecord {
  phase: 'created' | 'running' | 'stopped';
  /** The launcher (in the host's pid namespace). */
  launcher?: ProcRef;
  /** The launcher left the daemon (create --pid-file): its pid is the one in the pid file
   * and the one the state reports, as runc's are one pid. */
  detached?: boolean;
  /** The sandbox's init: pid 1 of the container's pid namespace, as the host sees it. */
  init?: ProcRef;
  /** The container's process (process.args), as the host sees it. */
  workload?: ProcRef;
  /** The sandbox's cgroup, when this host let the daemon make one: `update`, `pause`,
   * `resume` and `events` use it from their own processes. */
  cgroup?: CgroupRecord;
  exitCode?: number;
  /** Why the sandbox could not be set up, when it could not. */
  error?: string;
}

export class NotFound extends Error {}

export class BadId extends Error {}

/** What `tsvisor state` prints: the OCI state, in runc's field order. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** The runtime spec's state of a container (what `state` prints and hooks read on stdin). */
export function ociStateOf(r: StateRecord, pid: number, status: Status): OciState {
  const state: OciState = {
    ociVersion: OCI_VERSION,
    id: r.id,
    pid,
    status,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: r.owner,
  };
  if (r.annotations && Object.keys(r.annotations).length > 0) state.annotations = r.annotations;
  return state;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function checkId(id: string): void {
  const why = invalidId(id);
  if (why) throw new BadId(`container id \`${id}\` ${why}`);
}

/** --root: created on first use, private to its owner. */
export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o711 });
}

export function containerDir(root: string, id: string): string {
  checkId(id);
  return join(root, id);
}

/** One container as read from its directory. */
export class Container {
  constructor(
    readonly dir: string,
    readonly record: StateRecord,
    readonly runtime: RuntimeRecord | undefined,
  ) {}

  get id(): string {
    return this.record.id;
  }

  /**
   * The spec's status: stopped once the daemon says so or is gone (a crashed sentry takes
   * the sandbox with it), paused as the CLI left it, else the daemon's phase.
   */
  get status(): Status {
    if (this.runtime?.phase === 'stopped') return 'stopped';
    if (!isAlive(this.record.daemon)) return 'stopped';
    if (this.record.paused) return 'paused';
    return this.runtime?.phase ?? 'creating';
  }

  /** The container's init as the host sees it, while it lives. */
  get initPid(): number {
    const s = this.status;
    if (s === 'stopped' || s === 'creating') return 0;
    return isAlive(this.runtime?.init) ? this.runtime!.init!.pid : 0;
  }

  /** The pid the state reports: the pid file's when there is one (a detached launcher, in
   * the container's namespaces but pid), else the container's init. */
  get reportedPid(): number {
    const init = this.initPid;
    const launcher = this.runtime?.launcher;
    return init && this.runtime?.detached && isAlive(launcher) ? launcher!.pid : init;
  }

  ociState(): OciState {
    return ociStateOf(this.record, this.reportedPid, this.status);
  }

  saveRecord(record: StateRecord): void {
    writeJsonAtomic(join(this.dir, 'state.json'), record);
  }
}

export function loadContainer(root: string, id: string): Container {
  const dir = containerDir(root, id);
  const record = readJson<StateRecord>(join(dir, 'state.json'));
  if (!record) throw new NotFound(`container \`${id}\` does not exist`);
  return new Container(dir, record, readJson<RuntimeRecord>(join(dir, 'runtime.json')));
}

/** Every container under ROOT, by id; directories without a state file are skipped. */
export function listContainers(root: string): Container[] {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return [];
  }
  const out: Container[] = [];
  for (const name of names) {
    if (invalidId(name)) continue;
    try {
      out.push(loadContainer(root, name));
    } catch {
      // Being created or deleted right now.
    }
  }
  return out;
}

export function readRuntime(dir: string): RuntimeRecord | undefined {
  return readJson<RuntimeRecord>(join(dir, 'runtime.json'));
}

/** Written by the daemon only, by its sentry's thread once it acts as its own identity
 * again (supervisor.ts setRuntime). */
export function writeRuntime(dir: string, rt: RuntimeRecord): void {
  writeJsonAtomic(join(dir, 'runtime.json'), rt);
}

/** Writes the pid file as runc does: a temporary file renamed into place. */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, abs);
}
