// How a detached daemon (the container's, or an exec's) tells the command that spawned
// it how setting up went: one message on fd 3, then the pipe is closed.
import { closeSync, writeSync } from 'node:fs';

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
