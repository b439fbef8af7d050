// `tsvisor do [flags] -- PROG [ARGS...]`: run one command in a fresh sandbox whose root is
// the host's / (or --root DIR) beneath a private writable layer, with the caller's stdio,
// and exit with its status.
import { createWriteStream, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { BindMount, SandboxMount, TmpfsMount, startSandbox } from '../sandbox/sandbox.js';
import { UsageError, fail, EXIT_SETUP } from './errors.js';
import { addLimitOptions, parseLimitOptions, type LimitOptions } from './limits.js';
import { limitMessage, usageRecord, type UsageRecord } from '../sandbox/usage.js';
import { callerEnv } from '../caller-env.js';

export interface DoOptions {
  root?: string;
  mount: string[];
  tmpfs: string[];
  network: 'none' | 'host';
  env: string[];
  cwd?: string;
  hostname: string;
  strace: boolean;
  straceLog?: string;
  debug: boolean;
  rootless: boolean;
  init: boolean;
  capAdd: string[];
}

export type DoFlags = DoOptions & LimitOptions;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function doCommand(): Command {
  const cmd = new Command('do')
    .description('run a command in a new sandbox and exit with its status')
    .usage('[flags] -- PROG [ARGS...]')
    .option('--root <dir>', 'use DIR as the root (beneath a private writable layer) instead of the host /')
    .option('--mount <src:dst[:ro]>', 'bind a host path into the sandbox (repeatable)', collect, [])
    .option('--tmpfs <dst[:options]>', 'mount a new tmpfs, e.g. /scratch:size=64m,mode=1777 (repeatable)', collect, [])
    .addOption(new Option('--network <mode>', 'network: none (own loopback) or host').choices(['none', 'host']).default('none'))
    .option('--env <K=V>', 'set an environment variable (repeatable)', collect, [])
    .option('--cwd <dir>', 'working directory inside the sandbox (default: the current directory, or / with --root)')
    .option('--hostname <name>', 'hostname inside the sandbox', 'tsvisor')
    .option('--strace', 'print each trapped syscall with its arguments and result', false)
    .option('--strace-log <file>', 'write --strace lines to FILE instead of stderr')
    .option('--debug', 'print a summary of unimplemented syscalls at exit', false)
    .option('--rootless', 'run in a user namespace of the caller\'s own even as root (always so when not root)', false)
    .option('--no-init', 'run PROG itself as pid 1, with no init to reap orphans and forward signals')
    .option('--cap-add <cap>', 'grant a capability beyond Docker\'s default set, as far as tsvisor grants it; SYS_ADMIN lets root mount tmpfs and bind mounts inside (repeatable)', collect, []);
  return addLimitOptions(cmd)
    .argument('<prog>', 'program to run')
    .argument('[args...]', 'its arguments')
    .action(async (prog: string, args: string[], opts: DoFlags) => {
      process.exitCode = await runDo([prog, ...args], opts);
    });
}

/** Parses SRC:DST[:ro]. */
export function parseMount(spec: string): BindMount {
  const parts = spec.split(':');
  const [source, destination, mode] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !destination || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new UsageError(`--mount \`${spec}\`: expected SRC:DST or SRC:DST:ro`);
  }
  if (!destination.startsWith('/')) throw new UsageError(`--mount \`${spec}\`: destination must be absolute`);
  const src = resolve(source);
  try {
    statSync(src);
  } catch {
    throw new UsageError(`--mount \`${spec}\`: source \`${src}\` does not exist`);
  }
  return { source: src, destination, readonly: mode === 'ro' };
}

/** Parses DST[:OPTIONS] (mount(8)'s tmpfs options, comma-separated). */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(':');
  const destination = colon < 0 ? spec : spec.slice(0, colon);
  if (!destination.startsWith('/')) throw new UsageError(`--tmpfs \`${spec}\`: destination must be absolute`);
  const options = colon < 0 ? [] : spec.slice(colon + 1).split(',').filter(Boolean);
  return { type: 'tmpfs', destination, options };
}

function parseEnv(list: string[]): Record<string, string> {
  const env = callerEnv();
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env \`${kv}\`: expected K=V`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

function checkRoot(dir: string): string {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new UsageError(`--root \`${abs}\`: no such directory`);
  }
  if (!isDir) throw new UsageError(`--root \`${abs}\`: not a directory`);
  return abs;
}

/** Writes the --usage-json record; a failure is reported, never fatal to the status. */
function writeUsage(file: string | undefined, record: UsageRecord): void {
  if (!file) return;
  try {
    writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`tsvisor: writing --usage-json \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
  }
}

/** --cap-add names added to the default set; undefined if none. */
async function parseCapabilities(names: string[]): Promise<bigint | undefined> {
  if (names.length === 0) return undefined;
  const { withCapabilities } = await import('../sandbox/creds.js');
  try {
    return withCapabilities(names);
  } catch (err) {
    throw new UsageError(`--cap-add: ${(err as Error).message}`);
  }
}

export async function runDo(argv: string[], opts: DoFlags): Promise<number> {
  let rootfs: string | undefined, mounts: SandboxMount[], env: Record<string, string>;
  let limits: ReturnType<typeof parseLimitOptions>, capAdd: bigint | undefined;
  try {
    rootfs = opts.root === undefined ? undefined : checkRoot(opts.root);
    // A path inside the sandbox: relative to nothing the caller could mean.
    if (opts.cwd !== undefined && !opts.cwd.startsWith('/')) throw new UsageError(`--cwd \`${opts.cwd}\`: must be absolute`);
    mounts = [...opts.mount.map(parseMount), ...opts.tmpfs.map(parseTmpfs)];
    capAdd = await parseCapabilities(opts.capAdd);
    env = parseEnv(opts.env);
    limits = parseLimitOptions(opts);
  } catch (err) {
    return fail(err);
  }
  const straceOut = opts.straceLog ? createWriteStream(opts.straceLog) : undefined;
  let sandbox: ReturnType<typeof startSandbox>;
  try {
    const { startSandbox } = await import('../sandbox/sandbox.js');
    const { cgroupsUsable } = await import('../sandbox/limits.js');
    const limitsGiven = [opts.memory, opts.pids, opts.cpus, opts.cpuTime].some((v) => v !== undefined);
    const cg = cgroupsUsable();
    if (!limitsGiven && !cg.memory && !cg.pids) {
      process.stderr.write('tsvisor: warning: resource limits unsupported here (no writable cgroup: not root, nothing delegated); running without the default --memory and --pids limits\n');
    }
    sandbox = startSandbox({
      ...limits,
      argv,
      env,
      cwd: opts.cwd ?? (rootfs ? '/' : process.cwd()),
      rootfs,
      mounts,
      network: opts.network,
      hostname: opts.hostname,
      stdio: 'inherit',
      strace: opts.strace || straceOut ? (line) => (straceOut ? straceOut.write(line) : process.stderr.write(line)) : undefined,
      log: { warn: (msg) => process.stderr.write(`tsvisor: ${msg}\n`) },
      rootless: opts.rootless,
      noInit: !opts.init,
      ...(capAdd === undefined ? {} : { capabilities: capAdd }),
      // Limits asked for must hold; the defaults may go where no cgroup can be made.
      limitsOptional: !limitsGiven,
    });
  } catch (err) {
    straceOut?.end();
    const code = fail(err);
    const message = err instanceof Error ? err.message : String(err);
    const usage = { wallTimeMs: 0, cpuTimeMs: null, peakMemoryBytes: null, tasks: null, oomKills: 0, memoryLimitHits: 0, pidsLimitHits: 0 };
    writeUsage(opts.usageJson, usageRecord({ code: EXIT_SETUP, reason: 'setup-failed', setupError: message, usage, limits: limits.limits, trapped: new Map(), missing: new Map() }));
    return code;
  }
  const stop = (): void => sandbox.kill();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, stop);
  const status = await sandbox.exited;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, stop);
  if (straceOut) await new Promise((done) => straceOut.end(done));
  if (status.setupError) process.stderr.write(`tsvisor: ${status.setupError}\n`);
  const limitHit = limitMessage(status.reason, status.limits, status.usage);
  // A refused fork is only news when the program then failed.
  if (limitHit && (status.reason !== 'exited' || status.code !== 0)) process.stderr.write(`tsvisor: ${limitHit}\n`);
  writeUsage(opts.usageJson, usageRecord(status));
  if (opts.debug && status.missing.size > 0) {
    const list = [...status.missing].map(([name, count]) => `${name} x${count}`).join(', ');
    process.stderr.write(`tsvisor: unimplemented syscalls answered ENOSYS: ${list}\n`);
  }
  return status.code;
}
