// The daemon of one container: `create` spawns it (node dist/bundle/daemon-main.cjs DIR) to
// supervise the container (supervisor.ts) from the container's directory, and waits on
// fd 3 (ready.ts) until it is ready to start. It exits with the container's status.
import { supervise } from './supervisor.js';
import { ReadyPipe } from './ready.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: daemon-main.cjs DIR (started by `tsvisor create`)\n');
  process.exit(2);
}
process.chdir(dir);
const ready = new ReadyPipe();
const fail = supervise({
  report: (msg) => ready.report(msg),
  exit: (code) => {
    process.exitCode = code;
    // Replies flush as the loop drains; should anything keep it alive, exit anyway.
    setTimeout(() => process.exit(code), 200).unref();
  },
});
process.on('uncaughtException', (err) => fail(`internal error: ${err.stack ?? err.message}`));
