// From a validated OCI spec to the sandbox's options: what tsvisor supports is translated,
// what it provides by itself (/proc, /dev, /sys) is recognised, and what it cannot honour
// is refused with the field's name, or (where Docker always sends it and refusing would
// make every container fail) logged as ignored.
import { statSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';
import { GRANTABLE_CAPABILITIES } from '../sandbox/creds.js';
import type { Limits } from '../sandbox/limits.js';
import { capabilityMask } from '../sentry/abi/capability.js';
import type { SandboxMount } from '../sandbox/sandbox.js';
import { limitsOf } from './resources.js';
import { compileOciSeccomp } from './seccomp-profile.js';
import type { Mount, Spec } from './spec.js';
import type { IdRange } from '../sentry/ids.js';

/** What the sandbox needs from the spec, before stdio and logging are added. */
export interface Plan {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  rootfs: string;
  mounts: SandboxMount[];
  network: 'none' | 'host';
  hostname: string | null;
  domainname?: string;
  launcherArgs: string[];
  /** linux.uidMappings and gidMappings of a new user namespace (src/sentry/ids.ts). */
  idMappings?: { uid: IdRange[]; gid: IdRange[] };
  /** The workload's ids, which the sentry takes on to act for it. */
  identity: { uid: number; gid: number; groups: number[] };
  /** process.capabilities.permitted, as far as tsvisor grants them (src/sandbox/creds.ts). */
  capabilities: bigint;
  /** process.capabilities.ambient (the sandbox keeps only those it grants). */
  ambientCapabilities: bigint;
  /** linux.seccomp compiled, stacked above tsvisor's policy by the launcher. */
  userFilter?: Buffer;
  /** process.args is the container's pid 1, as the spec says. */
  noInit: true;
  /** The container's writes land in its rootfs, as runc's do. */
  overlay: false;
  /** No rlimits of tsvisor's own: process.rlimits (in launcherArgs) are all there is. */
  rlimits: [];
  /** linux.resources as the sandbox's cgroup limits (src/oci/resources.ts). */
  limits: Limits;
  /** Things the spec asks for that tsvisor does not do, for the log. */
  ignored: string[];
}

export class Unsupported extends Error {}

type Device = NonNullable<NonNullable<Spec['linux']>['devices']>[number];

/**
 * A linux.devices entry as the launcher makes it in the container's /dev (rootfs.c
 * make_devices). The sentry opens every file for a task, in its own namespaces, where
 * /dev/net/tun, say, would make its interfaces in the host's network: so only /dev's own
 * devices (null, zero, full, random, urandom, tty) open; any other node is made as asked
 * but opens nothing, as /dev is nodev.
 */
function deviceArgs(d: Device): string[] {
  const path = posix.normalize(d.path);
  if (!path.startsWith('/dev/') || path.includes(':')) throw new Unsupported(`\`linux.devices\`: \`${d.path}\` is not a path beneath /dev`);
  if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
    throw new Unsupported(`\`linux.devices\`: \`${d.path}\` of type \`${d.type}\` needs a major and a minor number`);
  }
  // Linux's device numbers: a 12-bit major, a 20-bit minor.
  if ((d.major ?? 0) < 0 || (d.major ?? 0) > 0xfff || (d.minor ?? 0) < 0 || (d.minor ?? 0) > 0xfffff) {
    throw new Unsupported(`\`linux.devices\`: \`${d.path}\`: no such device number ${d.major}:${d.minor}`);
  }
  const mode = ((d.fileMode ?? 0o666) & 0o7777).toString(8);
  return ['--device', [path, d.type, d.major ?? 0, d.minor ?? 0, mode, d.uid ?? 0, d.gid ?? 0].join(':')];
}

/** Mount points the launcher always builds itself (addon/launcher/README.md, "Mounts"). */
const PROVIDED: Record<string, string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs', 'bind'],
  '/dev': ['tmpfs', 'devtmpfs'],
  '/dev/pts': ['devpts'],
  '/dev/shm': ['tmpfs', 'bind'],
  '/dev/mqueue': ['mqueue'],
};

/** Pseudo filesystems tsvisor does not mount elsewhere: the sentry serves (or refuses)
 * their paths. */
const SKIPPED_TYPES = new Set(['mqueue', 'cgroup', 'cgroup2', 'sysfs', 'proc', 'devpts']);

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** What a tmpfs mount's options may hold: tmpfs's own parameters and mount flags. */
const TMPFS_PARAMETERS = new Set(['size', 'nr_blocks', 'nr_inodes', 'mode', 'uid', 'gid', 'huge', 'mpol']);
const TMPFS_FLAGS = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'noatime', 'relatime', 'strictatime']);

/** The options of a tmpfs mount the launcher passes on; the rest (propagation, `tmpcopyup`,
 * atime variants it does not know) go to IGNORED. */
function tmpfsOptions(m: Mount, ignored: string[]): string[] {
  const kept: string[] = [];
  for (const o of m.options ?? []) {
    if (TMPFS_FLAGS.has(o) || TMPFS_PARAMETERS.has(o.split('=')[0]!)) kept.push(o);
    else ignored.push(`tmpfs option ${o} on ${m.destination}`);
  }
  return kept;
}

/** Sysctls of the namespaces a container has of its own (network, IPC, UTS), as runc
 * allows them; the launcher checks them again. */
const NAMESPACED_SYSCTL = /^(net\.|kernel\.shm|kernel\.msg|fs\.mqueue\.|kernel\.sem$|kernel\.hostname$|kernel\.domainname$)[a-z0-9_.-]*$/i;

/** The namespaces a container may join by path (Docker's `container:X` modes, a
 * Kubernetes pod's containers): the launcher option, and the name under /proc/PID/ns. */
const JOINABLE: Record<string, { flag: string; proc: string }> = {
  network: { flag: '--netns', proc: 'net' },
  ipc: { flag: '--ipcns', proc: 'ipc' },
  uts: { flag: '--utsns', proc: 'uts' },
  pid: { flag: '--pidns', proc: 'pid' },
};

/**
 * Refuses a namespace path that is in fact this host's own (PROC names its kind under
 * /proc/self/ns): another container's namespaces are named through /proc/<its pid>/ns, and
 * a container run without --pid-file reports its sentry daemon's pid, in the host's
 * namespaces. Joining there would put the container in the host's, not the other's.
 */
function refuseHostNamespace(path: string, proc: string): void {
  let joined, own;
  try {
    joined = statSync(path);
    own = statSync(`/proc/self/ns/${proc}`);
  } catch {
    return; // The launcher reports a path it cannot open.
  }
  if (joined.ino === own.ino && joined.dev === own.dev) {
    throw new Unsupported(`\`linux.namespaces\`: \`${path}\` is the host's ${proc} namespace`);
  }
}

/**
 * The pid namespace PATH means. A tsvisor container's pid (Docker's State.Pid, which
 * `--pid container:X` names) is its launcher's, which lives in the host's pid namespace and
 * made the container's for its children: there /proc/N/ns/pid names the host's, and
 * pid_for_children the container's.
 */
function containerPidNamespace(path: string): string {
  const m = /^\/proc\/(\d+)\/ns\/pid$/.exec(path);
  if (!m) return path;
  const children = `/proc/${m[1]}/ns/pid_for_children`;
  const same = (a: string, b: string): boolean => {
    const x = statSync(a), y = statSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  };
  try {
    return same(path, '/proc/self/ns/pid') && !same(children, '/proc/self/ns/pid') ? children : path;
  } catch {
    return path; // The launcher reports a path it cannot open.
  }
}

export function envRecord(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** The id maps of the container's new user namespace, as runc checks them: both maps
 * with one, neither without one; undefined without a user namespace. */
function userIdMappings(spec: Spec, userns: boolean): { uid: IdRange[]; gid: IdRange[] } | undefined {
  const uid = spec.linux?.uidMappings ?? [];
  const gid = spec.linux?.gidMappings ?? [];
  if (!userns) {
    if (uid.length > 0 || gid.length > 0) throw new Unsupported('`linux.uidMappings`: id maps need a `user` namespace in `linux.namespaces`');
    return undefined;
  }
  if (uid.length === 0) throw new Unsupported('`linux.uidMappings`: a new user namespace needs a uid map');
  if (gid.length === 0) throw new Unsupported('`linux.gidMappings`: a new user namespace needs a gid map');
  const euid = process.geteuid?.() ?? 0, egid = process.getegid?.() ?? 0;
  if (euid === 0) return { uid, gid };
  // Not root, the runtime always runs the container in a user namespace mapping the
  // caller to root (`tsvisor spec --rootless` writes just that, as runc's does); other
  // maps need a writer with privileges over the host's namespace.
  const own = (maps: IdRange[], id: number): boolean => maps.length === 1 && maps[0]!.containerID === 0 && maps[0]!.hostID === id && maps[0]!.size === 1;
  if (own(uid, euid) && own(gid, egid)) return undefined;
  throw new Unsupported(`\`linux.uidMappings\`: not root, the runtime can map only its own ids (0 ${euid} 1, 0 ${egid} 1)`);
}

/**
 * Translates SPEC (from BUNDLE). CONSOLE_SOCKET: `create --console-socket`, where the
 * terminal's master goes.
 */
export function planSandbox(spec: Spec, bundle: string, consoleSocket?: string): Plan {
  const p = spec.process;
  if (!p) throw new Unsupported('`process`: is required to start a container');
  if (!p.args || p.args.length === 0) throw new Unsupported('`process.args`: is required to start a container');
  const ignored: string[] = [];
  const launcherArgs: string[] = [];
  if (p.terminal) {
    // The launcher makes the pty and sends its master to the socket (console.c).
    if (!consoleSocket) throw new Unsupported('`process.terminal`: a terminal needs --console-socket');
    launcherArgs.push('--console-socket', consoleSocket);
    if (p.consoleSize) launcherArgs.push('--console-size', `${p.consoleSize.height},${p.consoleSize.width}`);
  }

  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
  if (spec.root.readonly) launcherArgs.push('--readonly-root');

  let network: 'none' | 'host' = 'host';
  let userns = false;
  for (const ns of spec.linux?.namespaces ?? []) {
    if (ns.type === 'network') network = 'none';
    const join = ns.path ? JOINABLE[ns.type] : undefined;
    if (ns.path && join) {
      const path = ns.type === 'pid' ? containerPidNamespace(ns.path) : ns.path;
      refuseHostNamespace(path, join.proc);
      launcherArgs.push(join.flag, path);
    } else if (ns.path) {
      throw new Unsupported(`\`linux.namespaces\`: joining an existing \`${ns.type}\` namespace is not supported`);
    } else if (ns.type === 'user') {
      userns = true;
    }
  }
  const idMappings = userIdMappings(spec, userns);

  const user = p.user ?? {};
  if (user.uid !== undefined && user.uid !== 0) launcherArgs.push('--uid', String(user.uid));
  if (user.gid !== undefined && user.gid !== 0) launcherArgs.push('--gid', String(user.gid));
  if (user.additionalGids && user.additionalGids.length > 0) launcherArgs.push('--groups', user.additionalGids.join(','));
  if (user.umask !== undefined) launcherArgs.push('--umask', user.umask.toString(8));
  // The launcher takes prlimit(1)'s names: RLIMIT_NOFILE is `nofile`.
  for (const r of p.rlimits ?? []) launcherArgs.push('--rlimit', `${r.type.slice('RLIMIT_'.length).toLowerCase()}=${r.soft}:${r.hard}`);
  if (p.oomScoreAdj !== undefined) launcherArgs.push('--oom-score-adj', String(p.oomScoreAdj));
  // Absent means false, as under runc: set-id programs (sudo, su) gain privileges.
  if (p.noNewPrivileges !== true) launcherArgs.push('--new-privs');
  // Resolved inside the root by the launcher; paths missing there are skipped, as runc does.
  for (const path of spec.linux?.readonlyPaths ?? []) launcherArgs.push('--readonly-path', path);
  for (const path of spec.linux?.maskedPaths ?? []) launcherArgs.push('--mask', path);

  const mounts: SandboxMount[] = [];
  for (const m of spec.mounts ?? []) {
    const dest = m.destination;
    if (!dest.startsWith('/')) throw new Unsupported(`\`mounts\`: destination \`${dest}\` must be absolute`);
    if (PROVIDED[dest]?.includes(m.type ?? (isBind(m) ? 'bind' : ''))) continue;
    if (isBind(m)) {
      if (!m.source) throw new Unsupported(`\`mounts\`: bind mount on \`${dest}\` has no source`);
      const source = isAbsolute(m.source) ? m.source : resolve(bundle, m.source);
      mounts.push({ source, destination: dest, readonly: (m.options ?? []).includes('ro') });
    } else if (m.type === 'tmpfs') {
      mounts.push({ type: 'tmpfs', destination: dest, options: tmpfsOptions(m, ignored) });
    } else if (m.type && SKIPPED_TYPES.has(m.type)) {
      ignored.push(`mount of ${m.type} on ${dest}`);
    } else {
      throw new Unsupported(`\`mounts\`: type \`${m.type ?? '(none)'}\` on \`${dest}\` is not supported`);
    }
  }

  let userFilter: Buffer | undefined;
  if (spec.linux?.seccomp) {
    try {
      userFilter = compileOciSeccomp(spec.linux.seccomp);
    } catch (err) {
      throw new Unsupported(`\`${(err as Error).message.replace(/:/, '`:')}`);
    }
    if (spec.linux.seccomp.flags?.length) ignored.push(`linux.seccomp.flags ${spec.linux.seccomp.flags.join(', ')}`);
  }
  // Absent, runc leaves the process with every capability it has; tsvisor with the most
  // it grants.
  const capabilities = p.capabilities ? capabilityMask(p.capabilities.permitted ?? []) : GRANTABLE_CAPABILITIES;
  const notGranted = (p.capabilities?.permitted ?? []).filter((name) => !(capabilityMask([name]) & GRANTABLE_CAPABILITIES));
  if (notGranted.length > 0) ignored.push(`process.capabilities ${notGranted.join(', ')} (emulated by the sentry or not granted)`);
  // Enforced by the sandbox's cgroup; what a cgroup here cannot do is listed as ignored.
  const { limits, ignored: ignoredResources } = limitsOf(spec.linux?.resources);
  ignored.push(...ignoredResources);
  launcherArgs.push(...(spec.linux?.devices ?? []).flatMap(deviceArgs));
  // The kernel's copy, for /proc/sys/kernel/domainname; the sentry answers uname's.
  if (spec.domainname !== undefined) launcherArgs.push('--sysctl', `kernel.domainname=${spec.domainname}`);
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    if (!NAMESPACED_SYSCTL.test(key)) throw new Unsupported(`\`linux.sysctl\`: \`${key}\` is not a sysctl of the container's own namespaces`);
    if (key.startsWith('net.') && network === 'host') throw new Unsupported(`\`linux.sysctl\`: \`${key}\` would change the host's network`);
    launcherArgs.push('--sysctl', `${key}=${value}`);
  }

  return {
    argv: p.args,
    env: envRecord(p.env),
    cwd: p.cwd,
    rootfs,
    mounts,
    network,
    // A joined UTS namespace keeps the name its owner gave it.
    hostname: launcherArgs.includes('--utsns') ? null : spec.hostname ?? hostHostname(),
    domainname: spec.domainname,
    launcherArgs,
    identity: { uid: user.uid ?? 0, gid: user.gid ?? 0, groups: user.additionalGids ?? [] },
    ...(idMappings ? { idMappings } : {}),
    capabilities,
    ambientCapabilities: capabilityMask(p.capabilities?.ambient ?? []),
    userFilter,
    noInit: true,
    overlay: false,
    rlimits: [],
    limits,
    ignored,
  };
}
