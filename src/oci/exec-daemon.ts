// The detached sentry of one `exec --detach` (src/oci/exec.ts): `node exec-daemon-main.cjs PLAN`
// with exec's stdio (none with a terminal: the launcher sends the pty's master to the
// plan's console socket) and a readiness pipe on fd 3. It runs the process, says "ok" on fd 3
// once the process waits for the sentry (or "error: ..."), and exits with the process's
// exit status: its pid is the one in --pid-file, which containerd's shim reaps.
import { runExec, type ExecPlan } from './exec.js';
import { ReadyPipe } from './ready.js';

const plan = JSON.parse(process.argv[2] ?? '{}') as ExecPlan;
const ready = new ReadyPipe();

runExec(plan, (ok, error) => ready.report(ok ? 'ok' : `error: ${error}`)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: Error) => {
    ready.report(`error: ${err.message}`);
    process.exit(125);
  },
);
