// The launcher's and the OCI daemons' processes, started by the addon (posix_spawn,
// addon/spawn.cc) instead of node:child_process, whose loading alone (net and the stream
// machinery behind it) cost every `tsvisor do`, OCI create and OCI daemon ~7 ms before a
// sandbox could start. A child's end is read from a pidfd watched on this thread's loop.
// Streams exist only for stdio asked as 'pipe' (the embedding API), which loads node:net
// then.
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { native, watch, type Watcher } from './native.js';

/** One of the child's fds 0-2: ours, /dev/null, a new pipe, or a given fd. */
export type Stdio = 'inherit' | 'ignore' | 'pipe' | number;

export interface SpawnOptions {
  stdio: [Stdio, Stdio, Stdio];
  /** The child's fds from 3 on. */
  extraFds: number[];
  env: NodeJS.ProcessEnv;
  newSession: boolean;
  /** Its working directory (default /). */
  cwd?: string;
}

const { EAGAIN } = constants.errno;
const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class NativeChild {
  readonly pid: number | undefined;
  /** Why it could not start (the spawn's errno as a message); undefined if it did. */
  readonly error: string | undefined;
  /** Its exit code once it has ended (null while it runs, or if a signal ended it). */
  exitCode: number | null = null;
  readonly stdin: Writable | null = null;
  readonly stdout: Readable | null = null;
  readonly stderr: Readable | null = null;
  private pidfd = -1;
  private watcher: Watcher | undefined;
  private readonly exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];

  constructor(path: string, args: string[], o: SpawnOptions) {
    const n = native();
    const childFds: number[] = [];
    const closeAfter: number[] = [];
    const ours: (Readable | Writable | null)[] = [null, null, null];
    try {
      o.stdio.forEach((s, i) => {
        if (s === 'inherit') childFds.push(i);
        else if (typeof s === 'number') childFds.push(s);
        else if (s === 'ignore') {
          const fd = openSync('/dev/null', i === 0 ? 'r' : 'w');
          closeAfter.push(fd);
          childFds.push(fd);
        } else {
          const [r, w] = n.pipe();
          if (r < 0) throw new Error(`pipe: errno ${-r}`);
          const [theirs, mine] = i === 0 ? [r, w] : [w, r];
          closeAfter.push(theirs);
          childFds.push(theirs);
          ours[i] = socketOn(mine, i === 0 ? 'write' : 'read');
        }
      });
      childFds.push(...o.extraFds);
      const env = Object.entries(o.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
      const pid = n.spawnProcess(path, [path, ...args], env, childFds, o.newSession, o.cwd ?? '/');
      if (pid < 0) {
        this.error = `spawn \`${path}\`: ${errnoNames.get(-pid) ?? `errno ${-pid}`}`;
        for (const s of ours) s?.destroy();
        return;
      }
      this.pid = pid;
    } finally {
      for (const fd of closeAfter) closeSync(fd);
    }
    [this.stdin, this.stdout, this.stderr] = ours as [Writable | null, Readable | null, Readable | null];
    // Our child, not reaped before we wait for it: the pid is still its own.
    this.pidfd = n.pidfdOpen(this.pid, 0);
    if (this.pidfd < 0) throw new Error(`pidfd_open of child ${this.pid}: errno ${-this.pidfd}`);
    this.watcher = watch(this.pidfd, () => this.reap());
  }

  /** CB once the process has ended: its exit code, or the signal that killed it. */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(cb);
  }

  kill(sig: NodeJS.Signals): void {
    if (this.pidfd >= 0) native().pidfdSendSignal(this.pidfd, constants.signals[sig]);
  }

  /** Stops waiting for its end: it may outlive this process (it is then never reaped
   * here, and its parent's exit hands it to a subreaper). */
  unref(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    if (this.pidfd >= 0) native().close(this.pidfd);
    this.pidfd = -1;
  }

  private reap(): void {
    let status = native().waitPidfd(this.pidfd);
    if (status === -EAGAIN) return; // a wake-up before the end
    // Reaped by someone else (a host process with SIGCHLD ignored): ended, status unknown.
    if (typeof status === 'number') status = { code: null, signal: null };
    this.watcher?.stop();
    this.watcher = undefined;
    native().close(this.pidfd);
    this.pidfd = -1;
    this.exitCode = status.code;
    const signal = status.signal === null ? null : (signalNames.get(status.signal) ?? null);
    for (const cb of this.exitListeners) cb(this.exitCode, signal);
  }
}

/** Our end of a stdio pipe as a stream (node:net handles pipes), loaded only here. */
function socketOn(fd: number, way: 'read' | 'write'): Readable | Writable {
  const { Socket } = createRequire(import.meta.url)('node:net') as typeof import('node:net');
  return new Socket({ fd, readable: way === 'read', writable: way === 'write' });
}

/** Everything FD (a pipe's read end) yields until EOF, as text; FD is closed then. */
export function readAll(fd: number): Promise<string> {
  return new Promise((done) => {
    const buf = Buffer.alloc(4096);
    let text = '';
    const watcher = watch(fd, () => {
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf);
        } catch (err) {
          // libuv made the fd non-blocking: EAGAIN is the end of what is there now.
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
          n = 0;
        }
        if (n === 0) break;
        text += buf.toString('utf8', 0, n);
      }
      watcher.stop();
      closeSync(fd);
      done(text);
    });
  });
}
