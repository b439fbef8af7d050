// OCI hooks (config.md "POSIX-platform Hooks"): each runs with the container's state as
// JSON on its stdin, exactly its own args and env (nothing of ours is inherited), and an
// optional timeout in seconds. A failing prestart, createRuntime, createContainer or
// startContainer hook fails the operation and stops the container (runHooks); a failing
// poststart or poststop hook is a warning, and the remaining hooks and the lifecycle go
// on (runHooksWarning). node:child_process is loaded by the first hook, not by every
// `delete` that has none (a require: the bundles run without an ES module loader).
import { createRequire } from 'node:module';
import type { OciState } from './state.js';
import type { Hook } from './spec.js';

export class HookError extends Error {}

function envRecord(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Runs one hook; resolves when it exits 0, rejects with what went wrong. */
export function runHook(name: string, hook: Hook, state: OciState): Promise<void> {
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    const [argv0, ...rest] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const child = spawn(hook.path, rest, {
      argv0,
      env: envRecord(hook.env),
      stdio: ['pipe', 'ignore', 'pipe'],
      cwd: '/',
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8');
    });
    // A hook that does not read its stdin must not fail on EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(state));
    let timedOut = false;
    const timer =
      hook.timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HookError(`${name} hook \`${hook.path}\`: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = timedOut ? `timed out after ${hook.timeout} s` : signal ? `killed by ${signal}` : `exit status ${code}`;
      const detail = stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : '';
      reject(new HookError(`${name} hook \`${hook.path}\`: ${why}${detail}`));
    });
  });
}

/** Runs HOOKS in order, stopping at the first failure. */
export async function runHooks(name: string, hooks: Hook[] | undefined, state: OciState): Promise<void> {
  for (const hook of hooks ?? []) await runHook(name, hook, state);
}

/** Runs every one of HOOKS in order, whichever fail; each failure goes to WARN. */
export async function runHooksWarning(name: string, hooks: Hook[] | undefined, state: OciState, warn: (msg: string) => void): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(name, hook, state);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}
