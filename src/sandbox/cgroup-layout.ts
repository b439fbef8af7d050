// Which cgroup hierarchies this host has and where this process sits in each of them, read
// from /proc/self/mountinfo and /proc/self/cgroup. A host may have cgroup v1 controllers
// (one mount each, or several co-mounted), a v2 (unified) hierarchy, or both ("hybrid":
// v1 controllers with a controller-less v2 tree beside them, as on this project's CI).
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** One mounted hierarchy. */
export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup/unified. */
  mount: string;
  /** v1: the controllers bound to it (plus `name=...` for named hierarchies). v2: the
   * controllers available to our sandboxes' parent, filled in when it is created. */
  controllers: Set<string>;
  /** This process's cgroup in it, as a directory on the host. Sandboxes are created
   * beneath it so they stay inside whatever limits our own cgroup has (and so whoever
   * manages our cgroup sees them as ours). */
  own: string;
}

export interface Layout {
  v1: Map<string, Hierarchy>; // by controller name
  v2?: Hierarchy;
}

interface MountLine {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Undoes mountinfo's octal escapes (\040 for a space...). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6 || f.length < dash + 4) continue;
    out.push({ root: unescape(f[3]!), mountPoint: unescape(f[4]!), fsType: f[dash + 1]!, superOptions: f[dash + 3]!.split(',') });
  }
  return out;
}

/** /proc/self/cgroup: "ID:controllers:path"; v2 is "0::path". Returns path by controller,
 * with "" for v2. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') out.set('', m[3]!);
    else for (const c of m[2]!.split(',')) out.set(c, m[3]!);
  }
  return out;
}

/** The host directory of cgroup PATH in a hierarchy mounted at MOUNT whose root is ROOT
 * (a bind or a cgroup namespace may mount a subtree). */
function ownDir(mount: string, root: string, path: string): string {
  const rel = posix.relative(root, path);
  // Our cgroup outside the mounted subtree: the mount's top is as close as we can get.
  return rel.startsWith('..') ? mount : join(mount, rel);
}

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc']);

export function buildLayout(mountinfo: string, procCgroup: string): Layout {
  const paths = parseProcCgroup(procCgroup);
  const layout: Layout = { v1: new Map() };
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fsType === 'cgroup2' && !layout.v2) {
      const path = paths.get('');
      if (path === undefined) continue;
      layout.v2 = { version: 2, mount: m.mountPoint, controllers: new Set(), own: ownDir(m.mountPoint, m.root, path) };
    } else if (m.fsType === 'cgroup') {
      const controllers = m.superOptions.filter((o) => V1_CONTROLLERS.has(o));
      const path = controllers.map((c) => paths.get(c)).find((p) => p !== undefined);
      if (path === undefined) continue;
      const h: Hierarchy = { version: 1, mount: m.mountPoint, controllers: new Set(controllers), own: ownDir(m.mountPoint, m.root, path) };
      // A controller mounted twice is the same hierarchy: keep the first mount.
      for (const c of controllers) if (!layout.v1.has(c)) layout.v1.set(c, h);
    }
  }
  return layout;
}

/**
 * Where a sandbox sees its directory of DIR's hierarchy, as a name under /sys/fs/cgroup,
 * as Docker shows a container's: a v1 hierarchy under its mount's name (memory,
 * cpu,cpuacct), a hybrid host's v2 tree under its own (unified), a v2-only host's at the
 * top (''). undefined for a directory in no hierarchy of LAYOUT.
 */
export function cgroupViewName(dir: string, layout: Layout): string | undefined {
  const all = [...layout.v1.values(), ...(layout.v2 ? [layout.v2] : [])];
  const h = all.filter((x) => dir === x.mount || dir.startsWith(`${x.mount}/`))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  if (!h) return undefined;
  if (h.version === 2 && layout.v1.size === 0) return '';
  const name = posix.basename(h.mount);
  // The launcher splits NAME:DIR at the first colon.
  return name.includes(':') || name === '' ? [...h.controllers].join(',') || 'unified' : name;
}

let cached: Layout | undefined;

/** This process's layout, read once (mounts and our own cgroup do not move under us). */
export function hostLayout(): Layout {
  cached ??= buildLayout(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  return cached;
}
