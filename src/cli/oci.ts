// What every OCI command shares: the global flags of runc and runsc (--root, --log,
// --log-format, --debug, --systemd-cgroup, --rootless) plus ours, and one way to report a
// failure: one line on stderr, the same as runc's JSON (or text) line in --log, exit 1.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { LogFormat } from '../oci/log.js';
import type { Globals } from '../oci/container.js';
import { UsageError } from './errors.js';

export const DEFAULT_ROOT = '/run/tsvisor';

interface RawGlobals {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug?: boolean;
  strace?: string;
}

/** Adds the global flags to the program (they go before the command, as with runc). */
export function addGlobalOptions(p: Command): Command {
  return p
    .option('--root <dir>', 'state directory of the containers', DEFAULT_ROOT)
    .option('--log <file>', 'log file (default: stderr)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--debug', 'log debug messages')
    .option('--systemd-cgroup', 'accepted for runc compatibility (cgroupfs driver is used)')
    .option('--rootless <value>', 'accepted for runc compatibility')
    .option('--strace <file>', 'append each trapped syscall of the containers to FILE');
}

/** The global flags as the OCI layer takes them. */
export function globals(cmd: Command): Globals {
  let top = cmd;
  while (top.parent) top = top.parent;
  const raw = top.opts<RawGlobals>();
  // Absolute: the container's daemon works in the container's directory.
  return {
    root: resolve(raw.root ?? DEFAULT_ROOT),
    log: { file: raw.log && resolve(raw.log), format: raw.logFormat ?? 'text', debug: raw.debug ?? false },
    strace: raw.strace && resolve(raw.strace),
  };
}

/**
 * Runs one command's work; a failure becomes `tsvisor: STEP: CAUSE` on stderr and an
 * error line in --log (where containerd's shim reads it back), and exit status 1
 * (2 for usage errors), as runc.
 */
export async function runOci(cmd: Command, step: string, fn: (g: Globals) => Promise<void> | void): Promise<void> {
  const g = globals(cmd);
  try {
    await fn(g);
  } catch (err) {
    const msg = `${step}: ${err instanceof Error ? err.message : String(err)}`;
    if (g.log.file) new (await import('../oci/log.js')).Log(g.log).error(msg);
    process.stderr.write(`tsvisor: ${msg}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
