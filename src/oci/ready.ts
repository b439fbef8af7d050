// How a detached daemon (the container's, or an exec's) tells the command that spawned
// it how setting up went: one message on fd 3, then the pipe is closed. Both ends.
import { closeSync, writeSync } from 'node:fs';
import { ownNodeEnv } from '../caller-env.js';
import { native } from '../native.js';
import { NativeChild, readAll } from '../native-child.js';

const READY_FD = 3;

export class ReadyPipe {
  /** Whether the message has gone (later ones are dropped). */
  sent = false;

  report(msg: string): void {
    if (this.sent) return;
    this.sent = true;
    try {
      writeSync(READY_FD, msg);
      closeSync(READY_FD);
    } catch {
      // The command that waited was killed: the daemon goes on without it.
    }
  }
}

/**
 * Starts SCRIPT (a daemon's entry, run by our node) in a session of its own, with our
 * stdio (none with a terminal, whose stdio is the pty: keeping ours open would make a
 * caller that reads it to EOF, as containerd's shim does, wait for the daemon's end) and
 * the report pipe as its fd 3. The child, and what it reports once it closes the pipe.
 */
export function startReporting(script: string, args: string[], o: { terminal: boolean; cwd?: string; what: string }): { child: NativeChild; report: Promise<string> } {
  const [readEnd, writeEnd] = native().pipe();
  if (readEnd < 0) throw new Error(`pipe: errno ${-readEnd}`);
  let child: NativeChild;
  try {
    child = new NativeChild(process.execPath, [script, ...args], {
      stdio: o.terminal ? ['ignore', 'ignore', 'ignore'] : ['inherit', 'inherit', 'inherit'],
      extraFds: [writeEnd],
      env: ownNodeEnv(),
      newSession: true,
      cwd: o.cwd,
    });
  } finally {
    native().close(writeEnd);
  }
  if (child.error) {
    native().close(readEnd);
    throw new Error(`starting ${o.what}: ${child.error}`);
  }
  return { child, report: readAll(readEnd) };
}
