// /proc files the sentry rewrites before the app reads them, served as sealed memfd copies:
// - mounts and mountinfo, whose overlay options name the host directories behind the
//   sandbox's private layer (lowerdir=, upperdir=, workdir=), and whose cgroup mounts'
//   roots the kernel prints relative to the reader's cgroup namespace: the sentry's, not
//   the task's, which shows the task's own cgroup as / (as /proc/self/cgroup does); and
//   whose /sys, a read-only tmpfs holding the host's sysfs trees the sandbox may see (the
//   launcher names it "sysfs"), is the sandbox's sysfs, as programs and runtime-tools
//   expect to find it;
// - meminfo, which shows the sandbox's memory limit as the machine's memory when one is
//   set, as gVisor and LXCFS do, so that runtimes sizing their heaps from it (the JVM,
//   Node, Go's GC tuning, databases) size them for the sandbox;
// - a task's status, whose ids the kernel prints as the opener (the sentry) sees them: in
//   a sandbox with a user namespace of its own they are translated as the task sees them.
import type { IdMap } from '../ids.js';
/** What the sandbox's memory looks like: its limit and what its cgroup uses now. */
export interface SandboxMemory {
  limitBytes: number;
  usedBytes: number;
  /** Its tasks now, if known. */
  tasks: number | null;
}

/** What the rewrites need to know of the sandbox. */
export interface ProcView {
  memory: () => SandboxMemory | null;
  ids?: IdMap;
}

/** The rewrite a procfs path (relative to the proc root) needs in VIEW, or null when the
 * kernel's text is right as it is. readerCgroups gives the reading task's
 * /proc/<pid>/cgroup as the sentry reads it. */
export function procRewriter(rel: string, view: ProcView, readerCgroups: () => string): ((text: string) => string) | null {
  if (/^\d+(\/task\/\d+)?\/mountinfo$/.test(rel)) return (text) => cgroupRootsAsReader(sysAsSysfs(hideHostPaths(text)), readerCgroups());
  if (rel === 'mounts' || /^\d+(\/task\/\d+)?\/mounts$/.test(rel)) return (text) => sysAsSysfs(hideHostPaths(text));
  if (rel === 'meminfo') {
    const mem = view.memory();
    return mem ? (text) => sandboxMeminfo(text, mem) : null;
  }
  const ids = view.ids;
  if (ids && /^\d+(\/task\/\d+)?\/status$/.test(rel)) return (text) => mapStatusIds(text, ids);
  return null;
}

/** A status file's Uid, Gid and Groups lines as the sandbox's user namespace maps them. */
export function mapStatusIds(text: string, ids: IdMap): string {
  return text.replace(/^(Uid|Gid|Groups):(.*)$/gm, (_line, key: string, rest: string) => {
    const kind = key === 'Uid' ? 'uid' : 'gid';
    return `${key}:${rest.replace(/\d+/g, (id) => String(ids.toSandbox(kind, Number(id))))}`;
  });
}

// An overlay option naming host paths; values escape ',' and '\' with a backslash.
const HOST_PATH_OPTION = /,(?:lowerdir|upperdir|workdir)=(?:\\.|[^,\s\\])*/g;

/** mounts or mountinfo without the overlay options that name host directories. */
export function hideHostPaths(text: string): string {
  return text.replace(HOST_PATH_OPTION, '');
}

/** mounts or mountinfo with the launcher's /sys as a sysfs: its type, and no tmpfs options
 * (mode=). A tmpfs the app mounts is never named so. */
export function sysAsSysfs(text: string): string {
  return text
    .replace(/^(\S+ \S+ \S+ \S+ \/sys .* - )tmpfs sysfs (r[ow])\S*$/gm, '$1sysfs sysfs $2')
    .replace(/^sysfs \/sys tmpfs (\S+) 0 0$/gm, (_line, opts: string) => `sysfs /sys sysfs ${opts.split(',').filter((o) => !o.startsWith('mode=')).join(',')} 0 0`);
}

/**
 * mountinfo's cgroup mount roots relative to the reader's own cgroup, the root of its
 * cgroup namespace (PROC_CGROUP: its /proc/<pid>/cgroup as the sentry reads it, so in the
 * same terms as the roots). A root outside that cgroup is left as it is.
 */
export function cgroupRootsAsReader(mountinfo: string, procCgroup: string): string {
  const own = new Map<string, string>();
  for (const m of procCgroup.matchAll(/^\d+:([^:\n]*):(.*)$/gm)) {
    if (m[1] === '') own.set('', m[2]!);
    else for (const c of m[1]!.split(',')) own.set(c, m[2]!);
  }
  return mountinfo.replace(/^((?:\S+ ){3})(\S+)( .* - (cgroup2?) \S+ (\S+))$/gm,
    (line, head: string, root: string, tail: string, type: string, options: string) => {
      const path = type === 'cgroup2' ? own.get('') : options.split(',').map((o) => own.get(o)).find((p) => p !== undefined);
      if (path === undefined) return line;
      const under = path === '/' ? root : root === path ? '/' : root.startsWith(`${path}/`) ? root.slice(path.length) : null;
      return under === null ? line : head + under + tail;
    });
}

const KB = 1024;

/** The host's meminfo with the memory lines as the sandbox sees them: MemTotal is the
 * limit, MemFree and MemAvailable what is left of it; swap is off (the cgroup allows
 * none). Lines the sandbox has no measure of keep the host's values. */
export function sandboxMeminfo(host: string, mem: SandboxMemory): string {
  const total = Math.floor(mem.limitBytes / KB);
  const free = Math.max(0, total - Math.floor(mem.usedBytes / KB));
  const values: Record<string, number> = {
    MemTotal: total, MemFree: free, MemAvailable: free, Buffers: 0, Cached: 0,
    SwapCached: 0, SwapTotal: 0, SwapFree: 0,
  };
  // Values are right-aligned as the kernel prints them: "%-15s %8lu kB" in effect.
  return host.replace(/^(\w+):(\s+)(\d+) kB$/gm, (line, key: string, space: string, old: string) => {
    const v = values[key];
    if (v === undefined) return line;
    const width = space.length + old.length;
    return `${key}:${String(v).padStart(width)} kB`;
  });
}

