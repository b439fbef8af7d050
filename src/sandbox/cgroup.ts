// One sandbox = one cgroup, on cgroup v2, v1 or both. Every sandbox process is in it from
// its first instruction (the launcher joins it with `--cgroup DIR`, once per hierarchy,
// before it forks anything), so the cgroup is what limits the sandbox (memory, tasks,
// cpu), what measures it (cpu time, peak memory, peak tasks, OOM kills) and what stops it
// (cgroup.kill, or freeze + SIGKILL on v1). Shared by `tsvisor do`, the embedding API and
// the OCI commands (pause/resume = freeze/thaw, update = update()).
//
// Each job goes to the best hierarchy that can do it: a v2 controller when our parent
// cgroup delegates it, else the v1 controller's own mount. v2 without any controller (a
// "hybrid" host) still gives cgroup.kill, cgroup.freeze and cpu.stat, which need none.
//
// Where: `<our own cgroup>/<parent>/<id>` in each hierarchy by default, or an OCI
// linux.cgroupsPath, placed as runc's cgroupfs driver places it (cgroupsPathOf).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { cgroupViewName, hostLayout, type Hierarchy, type Layout } from './cgroup-layout.js';

/** Limits of one sandbox; undefined leaves a limit as it is, null removes it. */
export interface CgroupResources {
  /** Bytes of memory (anonymous, page cache, tmpfs: the overlay's upper layer is tmpfs,
   * so files written in the sandbox count too). Swap is never allowed beyond it. */
  memory?: number | null;
  /** Tasks (processes and threads) alive at once. */
  pids?: number | null;
  /** CPUs' worth of time per scheduling period (1.5 = one and a half CPUs). */
  cpus?: number | null;
  /** Finer cpu controls (OCI linux.resources.cpu); see CpuTuning. */
  tuning?: CpuTuning;
  /** Finer memory controls (OCI linux.resources.memory); see MemoryTuning. */
  memoryTuning?: MemoryTuning;
  /** Block IO weights and throttles (OCI linux.resources.blockIO); see BlockIoTuning. */
  blockIO?: BlockIoTuning;
  /** Bytes of huge pages of each size (OCI linux.resources.hugepageLimits). */
  hugepages?: HugepageLimit[];
}

/** A limit on huge pages of one size, named as the kernel names them (`2MB`, `1GB`). */
export interface HugepageLimit {
  pageSize: string;
  bytes: number;
}

/** A huge page size as the hugetlb controller's files name it; anything else could name
 * another file. */
export const HUGEPAGE_SIZE = /^[1-9][0-9]*[KMG]B$/;

/** The block IO controls an OCI config may give: a relative weight, weights per device
 * (major:minor), and throttles per device in bytes or operations per second (a rate of 0
 * removes one). v1 blkio, v2 io. */
export interface BlockIoTuning {
  weight?: number;
  weightDevices?: { major: number; minor: number; weight: number }[];
  throttles?: { major: number; minor: number; kind: BlockIoThrottle; rate: number }[];
}
export type BlockIoThrottle = 'rbps' | 'wbps' | 'riops' | 'wiops';

/** v1's file for each throttle; v2 writes `rbps=` and the like to io.max. */
const V1_THROTTLE_FILES: Record<BlockIoThrottle, string> = {
  rbps: 'blkio.throttle.read_bps_device',
  wbps: 'blkio.throttle.write_bps_device',
  riops: 'blkio.throttle.read_iops_device',
  wiops: 'blkio.throttle.write_iops_device',
};

/** The memory controls an OCI config may add: a soft limit the kernel reclaims down to
 * under pressure (v1 memory.soft_limit_in_bytes, v2 memory.low), and, on v1 only, the
 * swappiness and an OOM killer turned off (the sandbox's tasks then wait for memory). */
export interface MemoryTuning {
  reservation?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** The cpu controls an OCI config may add: the quota's period (else 100 ms), a relative
 * weight (v1 cpu.shares; v2 cpu.weight, converted as runc does), the CPUs and memory
 * nodes it may run on (cpuset, in the kernel's list syntax). */
export interface CpuTuning {
  periodUs?: number;
  shares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}

/** What the cgroup measured; null where no hierarchy here can measure it. */
export interface CgroupUsage {
  /** user + system time of every task that ever ran in the sandbox. */
  cpuTimeMs: number | null;
  memoryBytes: number | null;
  peakMemoryBytes: number | null;
  tasks: number | null;
  peakTasks: number | null;
  /** Tasks the kernel's OOM killer killed for the memory limit. */
  oomKills: number;
  /** Times an allocation hit the memory limit (reclaim, then maybe OOM). */
  memoryLimitHits: number;
  /** fork/clone calls refused because of the task limit. */
  pidsLimitHits: number;
}

export class CgroupError extends Error {}

/** A cgroupsPath that must not be used (malformed, or another's cgroup): never a reason
 * to run without a cgroup, unlike a host that lets us make none. */
export class CgroupPathError extends CgroupError {}

/** Where a sandbox's cgroup goes. */
export interface Placement {
  /** The level beneath our own cgroup that holds sandboxes' (defaultParent()). */
  parent?: string;
  /** An OCI linux.cgroupsPath, as config.json spells it; replaces `<parent>/<id>`. */
  path?: string;
  layout?: Layout;
}

/** systemd's unit naming (runc's systemd driver): `a-b.slice` lives at
 * `/a.slice/a-b.slice`; `-.slice` is the root. */
function expandSlice(slice: string): string {
  if (slice === '-.slice') return '/';
  const name = slice.slice(0, -'.slice'.length);
  if (!slice.endsWith('.slice') || name.includes('--') || name.split('-').some((c) => c === '')) {
    throw new CgroupPathError(`systemd slice \`${slice}\`: want a name such as system.slice or a-b.slice`);
  }
  const parts = name.split('-');
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('-')}.slice`).join('');
}

/**
 * linux.cgroupsPath as a normalized path: absolute ones are relative to each hierarchy's
 * root, relative ones to our own cgroup (runtime-spec config-linux.md, runc's cgroupfs
 * driver). `slice:prefix:name` (what Docker and containerd send with the systemd driver)
 * becomes the directory systemd would give that unit, `/<slice>/<prefix>-<name>.scope`
 * (`system.slice:docker:ID` → `/system.slice/docker-ID.scope`), made by us as any other:
 * tsvisor does not ask systemd for a unit. `..` is refused, not resolved: it would climb
 * out of wherever the caller meant to put the container.
 */
export function cgroupsPathOf(spec: string): string {
  const systemd = /^([^:/]*):([^:/]*):([^:/]+)$/.exec(spec);
  let path = spec;
  if (systemd) {
    const [, slice = '', prefix = '', name = ''] = systemd;
    const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
    path = posix.join(expandSlice(slice || 'system.slice'), unit);
  }
  if (path.split('/').includes('..')) throw new CgroupPathError(`cgroupsPath \`${spec}\`: \`..\` is not allowed`);
  if (path.includes('\0')) throw new CgroupPathError(`cgroupsPath \`${spec}\`: contains a NUL byte`);
  const norm = posix.normalize(path).replace(/\/+$/, '');
  if (norm === '' || norm === '.') throw new CgroupPathError(`cgroupsPath \`${spec}\`: names no cgroup below the hierarchy's root or ours`);
  return norm;
}

/** What another process needs to reopen a sandbox's cgroup (Cgroup.reopen): the OCI
 * commands keep it in the container's state to update, freeze and measure it. */
export interface CgroupRecord {
  id: string;
  dirs: string[];
  roles: Record<string, string>;
  v2Dir?: string;
}

/** The jobs a sandbox's cgroup does, each done in at most one hierarchy. */
type Role = 'memory' | 'pids' | 'cpu' | 'cpuset' | 'blkio' | 'hugetlb' | 'cpuacct' | 'freezer';
/** The roles made only when asked for (Extras). */
type OptionalRole = 'cpu' | 'cpuset' | 'blkio' | 'hugetlb';
/** v2's name for a role's controller, where it differs. */
const V2_CONTROLLER: Partial<Record<Role, string>> = { blkio: 'io' };

/** Which limits can be enforced on this host (a caller may make defaults conditional). */
export interface CgroupSupport {
  memory: boolean;
  pids: boolean;
  cpus: boolean;
}

const CPU_PERIOD_US = 100_000;
/** Sandbox ids become directory names: keep them plain. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Where sandboxes go beneath our own cgroup; TSVISOR_CGROUP_PARENT overrides it (tests
 * use a private one, to check that nothing of theirs is left behind). */
export const defaultParent = (): string => process.env.TSVISOR_CGROUP_PARENT || 'tsvisor';

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function write(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    throw new CgroupError(`write \`${value}\` to \`${path}\`: ${errnoOf(err)}`, { cause: err });
  }
}

/** A number from a one-value file, or null. */
function readNumber(path: string): number | null {
  const s = read(path);
  if (s === null) return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
}

/** A key of a flat-keyed file ("key value" lines: memory.events, cpu.stat...). */
function readKey(path: string, key: string): number | null {
  const s = read(path);
  const m = s === null ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(s);
  return m ? Number(m[1]) : null;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls COND until true; false after TIMEOUT_MS. Cgroup state changes (frozen, empty)
 * have no cheap event to wait on from Node, and they settle within milliseconds. */
async function poll(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let step = 1; ; step = Math.min(step * 2, 50)) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(step);
  }
}

/**
 * v1 cpuset cgroups start with no CPUs and no memory nodes, and refuse tasks so: each
 * level down to DIR that has none gets its parent's, as runc does.
 */
function fillV1Cpusets(dir: string): void {
  const levels: string[] = [];
  for (let d = dir; existsSync(join(posix.dirname(d), 'cpuset.cpus')); d = posix.dirname(d)) levels.unshift(d);
  for (const level of levels) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((read(join(level, file)) ?? '').trim() === '') write(join(level, file), (read(join(posix.dirname(level), file)) ?? '').trim());
    }
  }
}

/** mkdir -p that survives a concurrent sandbox removing the shared parent meanwhile. */
function makeDir(dir: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dir, { recursive: true });
      return;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' && attempt < 5) continue;
      throw new CgroupError(`creating cgroup \`${dir}\`: ${errnoOf(err)}`, { cause: err });
    }
  }
}

/** Enables for PARENT's children the v2 controllers PARENT gets (hugetlb only when
 * HUGETLB: nothing else uses it). Best effort: a controller that cannot be enabled is
 * done in v1. */
function enableV2Controllers(parent: string, hugetlb: boolean): void {
  const available = (read(join(parent, 'cgroup.controllers')) ?? '').split(/\s+/);
  for (const c of ['memory', 'pids', 'cpu', 'cpuset', 'io', ...(hugetlb ? ['hugetlb'] : [])]) {
    if (!available.includes(c)) continue;
    try {
      writeFileSync(join(parent, 'cgroup.subtree_control'), `+${c}`);
    } catch {
      // Refused (e.g. our parent has processes of its own): v1 or nothing does this job.
    }
  }
}

/** What a sandbox's cgroup needs beyond memory and pids. */
interface Extras {
  /** The cpu controller: only when a cpu limit or weight is wanted, since group
   * scheduling across the sentry's cgroup and the sandbox's makes every trapped call's
   * hand-off between them slower (measured: 2-3 us a call). */
  cpu: boolean;
  /** The cpuset controller: only when CPUs or memory nodes are chosen. */
  cpuset: boolean;
  /** The blkio (v2: io) controller: only when block IO is weighted or throttled. */
  blkio: boolean;
  /** The hugetlb controller: only when huge pages are limited. */
  hugetlb: boolean;
}

/** Which optional controllers RESOURCES needs. */
function extrasOf(r: CgroupResources): Extras {
  return {
    cpu: r.cpus != null || r.tuning?.shares !== undefined,
    cpuset: r.tuning?.cpusetCpus !== undefined || r.tuning?.cpusetMems !== undefined,
    blkio: r.blockIO !== undefined,
    hugetlb: (r.hugepages?.length ?? 0) > 0,
  };
}

/** Picks the hierarchy for each role; v2 first. */
function assignRoles(layout: Layout, v2Controllers: Set<string>, extras: Extras): Map<Role, Hierarchy> {
  const roles = new Map<Role, Hierarchy>();
  const v2 = layout.v2;
  const wanted: Role[] = ['memory', 'pids', ...(['cpu', 'cpuset', 'blkio', 'hugetlb'] as const).filter((role) => extras[role])];
  for (const role of wanted) {
    if (v2 && v2Controllers.has(V2_CONTROLLER[role] ?? role)) roles.set(role, v2);
    else if (layout.v1.has(role)) roles.set(role, layout.v1.get(role)!);
  }
  // cpu.stat and cgroup.freeze are core files of every v2 cgroup.
  const cpuacct = v2 ?? layout.v1.get('cpuacct');
  if (cpuacct) roles.set('cpuacct', cpuacct);
  const freezer = v2 ?? layout.v1.get('freezer');
  if (freezer) roles.set('freezer', freezer);
  return roles;
}

export class Cgroup {
  private destroyed = false;

  private constructor(
    readonly id: string,
    /** Every directory of this sandbox's cgroup, one per hierarchy; v2's first if any. */
    readonly dirs: string[],
    private readonly roles: Map<Role, string>,
    private readonly v2Dir: string | undefined,
    /** The parent directories, removed at destroy when no other sandbox uses them. */
    private readonly parents: string[],
  ) {}

  /** What this host lets a sandbox's cgroup enforce. */
  static support(layout: Layout = hostLayout()): CgroupSupport {
    const own = layout.v2?.own;
    const v2 = new Set(own ? (read(join(own, 'cgroup.controllers')) ?? '').split(/\s+/) : []);
    const has = (c: string): boolean => v2.has(c) || layout.v1.has(c);
    return { memory: has('memory'), pids: has('pids'), cpus: has('cpu') };
  }

  /**
   * Creates the sandbox's cgroup (see Placement) in every hierarchy a job needs and
   * applies RESOURCES. Throws CgroupError (and leaves nothing behind) when a directory
   * cannot be made or a requested limit cannot be enforced here.
   */
  static create(id: string, resources: CgroupResources = {}, opts: Placement = {}): Cgroup {
    const cg = Cgroup.locate(id, opts, true, extrasOf(resources));
    // Checked before anything is made: the cleanup below must never remove another's. A
    // cgroupsPath may name an existing, empty cgroup (made by whoever chose the path), as
    // with runc; never one with processes in it.
    const made: string[] = [];
    for (const dir of cg.dirs) {
      if (!existsSync(dir)) continue;
      if (!opts.path) throw new CgroupError(`creating cgroup \`${dir}\`: already exists`);
      const procs = (read(join(dir, 'cgroup.procs')) ?? '').trim().split('\n').filter(Boolean);
      // v2: processes in a cgroup beneath it count too (its tasks could not join it).
      if (procs.length > 0 || readKey(join(dir, 'cgroup.events'), 'populated') === 1) {
        throw new CgroupPathError(`cgroup \`${dir}\` already exists and holds processes of another container (pids ${procs.join(', ') || 'in cgroups beneath it'})`);
      }
    }
    try {
      for (const dir of cg.dirs) {
        if (existsSync(dir)) continue;
        makeDir(dir);
        made.push(dir);
      }
      const cpuset = cg.roles.get('cpuset');
      if (cpuset && cpuset !== cg.v2Dir) fillV1Cpusets(cpuset);
      cg.update(resources);
    } catch (err) {
      cg.removeDirs(made);
      throw err;
    }
    return cg;
  }

  /** This cgroup as another process can reopen it. */
  describe(): CgroupRecord {
    const rec: CgroupRecord = { id: this.id, dirs: this.dirs, roles: Object.fromEntries(this.roles) };
    if (this.v2Dir) rec.v2Dir = this.v2Dir;
    return rec;
  }

  /** A handle on a cgroup another process made (see describe): it can update, measure,
   * freeze and kill, and destroy removes only the sandbox's own directories. */
  static reopen(rec: CgroupRecord): Cgroup {
    const roles = new Map<Role, string>();
    for (const [role, dir] of Object.entries(rec.roles)) roles.set(role as Role, dir);
    const cg = new Cgroup(rec.id, [...rec.dirs], roles, rec.v2Dir, []);
    // An update may have given it such a directory since (addRole).
    for (const role of ['cpu', 'cpuset', 'blkio', 'hugetlb'] as const) {
      const dir = roles.has(role) ? undefined : cg.placeOf(role);
      if (dir && dir !== rec.v2Dir && existsSync(dir)) {
        roles.set(role, dir);
        cg.dirs.push(dir);
      }
    }
    return cg;
  }

  /** Where this sandbox's ROLE is or would be: its v2 directory when that has the
   * controller, else the same path as its other directories in the v1 hierarchy that
   * holds ROLE. */
  private placeOf(role: OptionalRole, layout: Layout = hostLayout()): string | undefined {
    const enabled = this.v2Dir ? (read(join(this.v2Dir, 'cgroup.controllers')) ?? '').split(/\s+/) : [];
    if (enabled.includes(V2_CONTROLLER[role] ?? role)) return this.v2Dir;
    const target = layout.v1.get(role);
    if (!target) return undefined;
    for (const h of new Set(layout.v1.values())) {
      const dir = this.dirs.find((d) => d.startsWith(`${h.mount}/`));
      if (dir) return join(target.mount, dir.slice(h.mount.length));
    }
    return undefined;
  }

  /**
   * Gives the sandbox a ROLE it was created without (it is made only when asked for:
   * see Extras), for an update that asks for what it does, as runc's update can: the
   * directory is made beside the others and every task is moved in. Tasks forked
   * meanwhile start in the hierarchy's root; the next round moves them.
   */
  private addRole(role: OptionalRole): string | undefined {
    const dir = this.placeOf(role);
    if (!dir) return undefined;
    if (dir !== this.v2Dir) {
      makeDir(dir);
      if (role === 'cpuset') fillV1Cpusets(dir);
      for (let round = 0; round < 10; round++) {
        const inside = new Set((read(join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean).map(Number));
        const missing = this.procs().filter((pid) => !inside.has(pid));
        if (missing.length === 0) break;
        for (const pid of missing) {
          try {
            writeFileSync(join(dir, 'cgroup.procs'), String(pid));
          } catch {
            // It exited meanwhile.
          }
        }
      }
      this.dirs.push(dir);
    }
    this.roles.set(role, dir);
    return dir;
  }

  /**
   * The cgroup of a sandbox that another process created (an OCI container between
   * `create` and `delete`: pause, resume, update, events). Throws CgroupError when it
   * does not exist.
   */
  static open(id: string, opts: Placement = {}): Cgroup {
    // A sandbox made without what an optional controller does has no directory of it.
    const all = Cgroup.locate(id, opts, false, { cpu: true, cpuset: true, blkio: true, hugetlb: true });
    const made = (role: Role): boolean => existsSync(all.roles.get(role) ?? '');
    const cg = Cgroup.locate(id, opts, false, { cpu: made('cpu'), cpuset: made('cpuset'), blkio: made('blkio'), hugetlb: made('hugetlb') });
    for (const dir of cg.dirs) if (!existsSync(dir)) throw new CgroupError(`cgroup \`${dir}\`: no such sandbox cgroup`);
    return cg;
  }

  /** Where sandbox ID's directories are, and which does what. CREATING makes the levels
   * above the sandbox's and enables v2 controllers in them; opening only reads what was
   * enabled. */
  private static locate(id: string, opts: Placement, creating: boolean, extras: Extras): Cgroup {
    if (!ID.test(id)) throw new CgroupError(`cgroup id \`${id}\`: want letters, digits, \`_\`, \`.\`, \`-\``);
    const layout = opts.layout ?? hostLayout();
    const parentName = opts.parent ?? defaultParent();
    if (!opts.path && !ID.test(parentName)) throw new CgroupError(`cgroup parent \`${parentName}\`: want letters, digits, \`_\`, \`.\`, \`-\``);
    const path = opts.path ? cgroupsPathOf(opts.path) : `${parentName}/${id}`;
    const absolute = path.startsWith('/');
    // Absolute: from the hierarchy's root (its mount: a cgroup namespace's root is the
    // mount's); relative: from our own cgroup.
    const dirOf = (h: Hierarchy): string => join(absolute ? h.mount : h.own, path);
    let v2Controllers = new Set<string>();
    if (layout.v2) {
      const parts = path.split('/').filter(Boolean);
      if (creating) {
        // v2 hands a controller down one level at a time: every level above the sandbox's
        // enables it for the next. From the root for an absolute path, as runc does; for
        // a relative one from below our own cgroup, which holds processes (us) and so may
        // not enable any itself.
        const levels = absolute ? [layout.v2.mount] : [];
        for (let i = 1; i < parts.length; i++) levels.push(join(absolute ? layout.v2.mount : layout.v2.own, ...parts.slice(0, i)));
        for (const level of levels) {
          makeDir(level);
          enableV2Controllers(level, extras.hugetlb);
        }
      }
      const above = posix.dirname(dirOf(layout.v2));
      v2Controllers = new Set((read(join(above, 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean));
    }
    const byHierarchy = assignRoles(layout, v2Controllers, extras);
    const roles = new Map<Role, string>();
    for (const [role, h] of byHierarchy) roles.set(role, dirOf(h));
    const hierarchies = [...new Set(byHierarchy.values())].sort((a, b) => b.version - a.version);
    if (hierarchies.length === 0) throw new CgroupError('no cgroup hierarchy is mounted');
    // Our own `<parent>` level goes with its last sandbox; a cgroupsPath's levels belong
    // to whoever chose the path (Docker's /docker stays, as with runc).
    const parents = opts.path ? [] : hierarchies.map((h) => join(h.own, parentName));
    return new Cgroup(id, hierarchies.map(dirOf), roles, layout.v2 ? dirOf(layout.v2) : undefined, parents);
  }

  /** `--cgroup DIR` for each directory: what the launcher joins before it forks. */
  launcherArgs(): string[] {
    return this.dirs.flatMap((d) => ['--cgroup', d]);
  }

  /** The launcher flags that show this cgroup to a new sandbox under /sys/fs/cgroup,
   * read-only (its tasks read their limits and usage there). */
  viewArgs(layout: Layout = hostLayout()): string[] {
    return this.dirs.flatMap((d) => {
      const name = cgroupViewName(d, layout);
      return name === undefined ? [] : ['--cgroup-view', `${name}:${d}`];
    });
  }

  /** Applies the limits given; throws when one cannot be enforced on this host. */
  update(r: CgroupResources): void {
    if (r.memory !== undefined) this.setMemory(r.memory);
    if (r.memoryTuning) this.tuneMemory(r.memoryTuning);
    if (r.blockIO) this.tuneBlockIo(r.blockIO);
    if (r.hugepages?.length) this.limitHugepages(r.hugepages);
    if (r.pids !== undefined) {
      const dir = this.need('pids', r.pids);
      if (dir) write(join(dir, 'pids.max'), r.pids === null ? 'max' : String(Math.max(1, Math.floor(r.pids))));
    }
    const period = r.tuning?.periodUs ?? CPU_PERIOD_US;
    if (r.cpus !== undefined) {
      const dir = this.need('cpu', r.cpus);
      if (dir) {
        // The kernel's floor for a quota is 1 ms per period.
        const quota = r.cpus === null ? null : Math.max(1000, Math.round(r.cpus * period));
        if (dir === this.v2Dir) write(join(dir, 'cpu.max'), `${quota ?? 'max'} ${period}`);
        else {
          write(join(dir, 'cpu.cfs_period_us'), String(period));
          write(join(dir, 'cpu.cfs_quota_us'), String(quota ?? -1));
        }
      }
    }
    const t = r.tuning ?? {};
    if (t.shares !== undefined) {
      const dir = this.need('cpu', t.shares);
      // runc's conversion of shares [2, 262144] to a weight [1, 10000].
      if (dir === this.v2Dir) write(join(dir!, 'cpu.weight'), String(Math.floor(1 + ((Math.min(Math.max(t.shares, 2), 262144) - 2) * 9999) / 262142)));
      else write(join(dir!, 'cpu.shares'), String(t.shares));
    }
    for (const [file, value] of [['cpuset.cpus', t.cpusetCpus], ['cpuset.mems', t.cpusetMems]] as const) {
      if (value === undefined) continue;
      const dir = this.roles.get('cpuset') ?? this.addRole('cpuset');
      if (!dir) throw new CgroupError('cannot choose CPUs or memory nodes: no cpuset controller available to this process');
      write(join(dir, file), value);
    }
  }

  private tuneBlockIo(b: BlockIoTuning): void {
    const dir = this.roles.get('blkio') ?? this.addRole('blkio');
    if (!dir) throw new CgroupError('cannot control block IO: no blkio or io controller available to this process');
    const v2 = dir === this.v2Dir;
    // Weights are the IO scheduler's (CFQ's, BFQ's): a kernel without one has no file.
    const weightFile = (names: string[]): string => {
      const name = names.find((n) => existsSync(join(dir, n)));
      if (!name) throw new CgroupError("cannot set a block IO weight: this kernel's IO scheduler takes none");
      return join(dir, name);
    };
    if (b.weight !== undefined) write(weightFile(v2 ? ['io.weight', 'io.bfq.weight'] : ['blkio.weight', 'blkio.bfq.weight']), v2 ? `default ${b.weight}` : String(b.weight));
    for (const d of b.weightDevices ?? []) {
      write(weightFile(v2 ? ['io.weight', 'io.bfq.weight'] : ['blkio.weight_device', 'blkio.bfq.weight_device']), `${d.major}:${d.minor} ${d.weight}`);
    }
    for (const t of b.throttles ?? []) {
      if (v2) write(join(dir, 'io.max'), `${t.major}:${t.minor} ${t.kind}=${t.rate === 0 ? 'max' : t.rate}`);
      else write(join(dir, V1_THROTTLE_FILES[t.kind]), `${t.major}:${t.minor} ${t.rate}`);
    }
  }

  private limitHugepages(limits: HugepageLimit[]): void {
    const dir = this.roles.get('hugetlb') ?? this.addRole('hugetlb');
    if (!dir) throw new CgroupError('cannot limit huge pages: no hugetlb controller available to this process');
    for (const { pageSize, bytes } of limits) {
      if (!HUGEPAGE_SIZE.test(pageSize)) throw new CgroupError(`huge page size \`${pageSize}\`: want a size such as 2MB or 1GB`);
      const file = join(dir, dir === this.v2Dir ? `hugetlb.${pageSize}.max` : `hugetlb.${pageSize}.limit_in_bytes`);
      if (!existsSync(file)) throw new CgroupError(`cannot limit huge pages of ${pageSize}: this kernel has none of that size`);
      write(file, String(bytes));
    }
  }

  /** The directory doing ROLE; a CgroupError when a limit is asked for and none can. */
  private need(role: Role, value: number | null): string | undefined {
    const dir = this.roles.get(role) ?? (role === 'cpu' && value !== null ? this.addRole('cpu') : undefined);
    if (!dir && value !== null) throw new CgroupError(`cannot enforce a ${role} limit: no ${role} controller available to this process`);
    return dir;
  }

  private setMemory(bytes: number | null): void {
    const dir = this.need('memory', bytes);
    if (!dir) return;
    if (dir === this.v2Dir) {
      write(join(dir, 'memory.max'), bytes === null ? 'max' : String(bytes));
      // No swap for a limited sandbox: the limit is the memory it may use, anywhere.
      if (existsSync(join(dir, 'memory.swap.max'))) write(join(dir, 'memory.swap.max'), bytes === null ? 'max' : '0');
      return;
    }
    const value = bytes === null ? '-1' : String(bytes);
    const mem = join(dir, 'memory.limit_in_bytes');
    const memsw = join(dir, 'memory.memsw.limit_in_bytes');
    if (!existsSync(memsw)) return write(mem, value);
    // v1 wants memsw (memory + swap) >= memory at every step: lower memory first, raise
    // memsw first. Setting both to the same value allows no swap.
    const current = readNumber(mem) ?? Infinity;
    const lowering = bytes !== null && bytes < current;
    for (const file of lowering ? [mem, memsw] : [memsw, mem]) write(file, value);
  }

  private tuneMemory(t: MemoryTuning): void {
    const dir = this.need('memory', 0);
    if (!dir) return;
    const v2 = dir === this.v2Dir;
    if (t.reservation !== undefined) {
      const unlimited = v2 ? 'max' : '-1';
      write(join(dir, v2 ? 'memory.low' : 'memory.soft_limit_in_bytes'), t.reservation < 0 ? unlimited : String(t.reservation));
    }
    if (v2 && (t.swappiness !== undefined || t.disableOOMKiller)) {
      throw new CgroupError('memory swappiness and a disabled OOM killer are cgroup v1 controls, and this memory cgroup is v2');
    }
    if (t.swappiness !== undefined) write(join(dir, 'memory.swappiness'), String(t.swappiness));
    if (t.disableOOMKiller) write(join(dir, 'memory.oom_control'), '1');
  }

  /** user + system cpu time of the sandbox so far (one small read: polled for limits). */
  cpuTimeMs(): number | null {
    const dir = this.roles.get('cpuacct');
    if (!dir) return null;
    if (dir === this.v2Dir) {
      const us = readKey(join(dir, 'cpu.stat'), 'usage_usec');
      return us === null ? null : us / 1000;
    }
    const ns = readNumber(join(dir, 'cpuacct.usage'));
    return ns === null ? null : ns / 1e6;
  }

  usage(): CgroupUsage {
    const cpuTimeMs = this.cpuTimeMs();
    const mem = this.roles.get('memory');
    const v2mem = mem !== undefined && mem === this.v2Dir;
    const pids = this.roles.get('pids');
    const memFile = (v1: string, v2: string): number | null => (mem ? readNumber(join(mem, v2mem ? v2 : v1)) : null);
    return {
      cpuTimeMs,
      memoryBytes: memFile('memory.usage_in_bytes', 'memory.current'),
      peakMemoryBytes: memFile('memory.max_usage_in_bytes', 'memory.peak'),
      tasks: pids ? readNumber(join(pids, 'pids.current')) : null,
      peakTasks: pids ? readNumber(join(pids, 'pids.peak')) : null,
      oomKills: (mem && readKey(join(mem, v2mem ? 'memory.events' : 'memory.oom_control'), 'oom_kill')) || 0,
      memoryLimitHits: (mem && (v2mem ? readKey(join(mem, 'memory.events'), 'max') : readNumber(join(mem, 'memory.failcnt')))) || 0,
      pidsLimitHits: (pids && readKey(join(pids, 'pids.events'), 'max')) || 0,
    };
  }

  /** What the tasks use now, the two numbers /proc/meminfo and sysinfo need: cheaper
   * than usage(), which reads eight files. */
  memoryNow(): { memoryBytes: number | null; tasks: number | null } {
    const mem = this.roles.get('memory');
    const pids = this.roles.get('pids');
    return {
      memoryBytes: mem ? readNumber(join(mem, mem === this.v2Dir ? 'memory.current' : 'memory.usage_in_bytes')) : null,
      tasks: pids ? readNumber(join(pids, 'pids.current')) : null,
    };
  }

  /** Host pids of every process in the sandbox. */
  procs(): number[] {
    const text = read(join(this.dirs[0]!, 'cgroup.procs')) ?? '';
    return text.split('\n').filter(Boolean).map(Number);
  }

  /** True once no process is left in any of the sandbox's hierarchies (or once they are
   * removed: a kill() still waiting when destroy() ran must end, not time out). */
  isEmpty(): boolean {
    if (this.v2Dir) return (readKey(join(this.v2Dir, 'cgroup.events'), 'populated') ?? 0) === 0;
    return this.dirs.every((d) => (read(join(d, 'cgroup.procs')) ?? '').trim() === '');
  }

  /** Stops every task where it stands (pause); resolves once all are frozen. */
  async freeze(): Promise<void> {
    const dir = this.roles.get('freezer');
    if (!dir) throw new CgroupError('cannot freeze: no freezer available to this process');
    const v2 = dir === this.v2Dir;
    write(join(dir, v2 ? 'cgroup.freeze' : 'freezer.state'), v2 ? '1' : 'FROZEN');
    const frozen = (): boolean =>
      v2 ? readKey(join(dir, 'cgroup.events'), 'frozen') === 1 : read(join(dir, 'freezer.state'))?.trim() === 'FROZEN';
    if (!(await poll(frozen, 5000))) throw new CgroupError(`freezing \`${dir}\`: still not frozen after 5 s`);
  }

  /** Lets frozen tasks run again (resume). */
  thaw(): void {
    const dir = this.roles.get('freezer');
    if (!dir) return;
    const v2 = dir === this.v2Dir;
    write(join(dir, v2 ? 'cgroup.freeze' : 'freezer.state'), v2 ? '0' : 'THAWED');
  }

  /** SIGKILLs every task of the sandbox, including ones forking as fast as they can, and
   * resolves once none is left. */
  async kill(): Promise<void> {
    // Nothing to kill in the common end of a sandbox, whose tasks died with its init.
    if (this.destroyed || this.isEmpty()) return;
    if (this.v2Dir && existsSync(join(this.v2Dir, 'cgroup.kill'))) {
      write(join(this.v2Dir, 'cgroup.kill'), '1');
    } else {
      // v1: frozen tasks cannot fork between our read of cgroup.procs and the kills;
      // SIGKILL reaches them frozen, and they die once thawed.
      const canFreeze = this.roles.has('freezer');
      for (let round = 0; round < 100 && !this.isEmpty(); round++) {
        if (canFreeze) await this.freeze().catch(() => undefined);
        for (const pid of this.procs()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        if (canFreeze) this.thaw();
        if (await poll(() => this.isEmpty(), 200)) break;
      }
    }
    if (!(await poll(() => this.destroyed || this.isEmpty(), 5000))) throw new CgroupError(`killing \`${this.dirs[0]}\`: tasks left after 5 s`);
  }

  /** Kills what is left and removes every directory; safe to call more than once. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    if (!this.isEmpty()) await this.kill();
    this.destroyed = true;
    this.removeDirs();
  }

  /** Removes a leftover sandbox directory if nothing runs in it; quiet otherwise. */
  static removeStale(dir: string): void {
    try {
      rmdirSync(dir);
    } catch {
      // In use (EBUSY) or already gone.
    }
  }

  /** Removes DIRS (by default every directory of the sandbox), then the parents. */
  private removeDirs(dirs = this.dirs): void {
    for (const dir of dirs) {
      try {
        rmdirSync(dir);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw new CgroupError(`removing cgroup \`${dir}\`: ${errnoOf(err)}`, { cause: err });
      }
    }
    for (const parent of this.parents) {
      try {
        rmdirSync(parent);
      } catch {
        // Another sandbox still uses it (EBUSY): the last one out removes it.
      }
    }
  }
}
