// linux.resources (config.json at create, `update --resources` later) → the sandbox's
// cgroup (src/sandbox/cgroup.ts). What it honours: memory.limit, reservation, swappiness
// and disableOOMKiller, pids.limit, cpu.quota with cpu.period, cpu.shares, cpu.cpus and
// cpu.mems, blockIO's weights and throttles, hugepageLimits. The rest (memory.swap: the
// sandbox never swaps; the kernel memory limits Linux dropped; realtime cpu,
// blockIO.leafWeight (CFQ's, gone from Linux), network) is best effort: reported as
// ignored.
import type { BlockIoThrottle, BlockIoTuning, CgroupResources, CpuTuning, HugepageLimit, MemoryTuning } from '../sandbox/cgroup.js';
import { SANDBOX_OVERHEAD_TASKS, type Limits } from '../sandbox/limits.js';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface Translated {
  /** undefined: not given (leave as is); null: no limit (-1, 0 or "max" in the spec). */
  memoryBytes?: number | null;
  pids?: number | null;
  cpus?: number | null;
  tuning?: CpuTuning;
  memoryTuning?: MemoryTuning;
  blockIO?: BlockIoTuning;
  hugepages?: HugepageLimit[];
  ignored: string[];
}

const THROTTLES: [string, BlockIoThrottle][] = [
  ['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops'],
];

/** linux.resources.blockIO as the cgroup takes it; undefined when it asks for nothing. */
function blockIoOf(bio: Obj, ignored: string[]): BlockIoTuning | undefined {
  const out: BlockIoTuning = {};
  const devices = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj).filter((d): d is Obj => !!d) : []);
  const id = (d: Obj): { major: number; minor: number } | undefined => {
    const major = num(d.major), minor = num(d.minor);
    return major !== undefined && minor !== undefined ? { major, minor } : undefined;
  };
  // runc: a weight of 0 leaves it alone.
  if (num(bio.weight)) out.weight = num(bio.weight);
  for (const d of devices(bio.weightDevice)) {
    const dev = id(d), weight = num(d.weight);
    if (dev && weight) (out.weightDevices ??= []).push({ ...dev, weight });
    if (num(d.leafWeight)) ignored.push('linux.resources.blockIO.weightDevice[].leafWeight');
  }
  for (const [key, kind] of THROTTLES) {
    for (const d of devices(bio[key])) {
      const dev = id(d), rate = num(d.rate);
      if (dev && rate !== undefined) (out.throttles ??= []).push({ ...dev, kind, rate });
    }
  }
  if (num(bio.leafWeight)) ignored.push('linux.resources.blockIO.leafWeight');
  return Object.keys(out).length > 0 ? out : undefined;
}

const HONOURED_MEMORY = ['limit', 'swap', 'reservation', 'swappiness', 'disableOOMKiller'];

const HONOURED_CPU = ['quota', 'period', 'shares', 'cpus', 'mems'];

/** What R asks of the cgroup, field by field. */
export function translateResources(r: unknown): Translated {
  const out: Translated = { ignored: [] };
  const res = obj(r);
  if (!res) return out;
  const mem = obj(res.memory);
  if (mem) {
    const limit = num(mem.limit);
    // runc: 0 leaves it alone, -1 removes the limit.
    if (limit !== undefined && limit !== 0) out.memoryBytes = limit < 0 ? null : limit;
    const tuning: MemoryTuning = {};
    // runc: 0 leaves the reservation alone; -1 (and beyond 100) the swappiness.
    const reservation = num(mem.reservation);
    if (reservation !== undefined && reservation !== 0) tuning.reservation = reservation < 0 ? -1 : reservation;
    const swappiness = num(mem.swappiness);
    if (swappiness !== undefined && swappiness >= 0 && swappiness <= 100) tuning.swappiness = swappiness;
    if (mem.disableOOMKiller === true) tuning.disableOOMKiller = true;
    if (Object.keys(tuning).length > 0) out.memoryTuning = tuning;
    for (const k of Object.keys(mem)) if (!HONOURED_MEMORY.includes(k) && mem[k] !== undefined) out.ignored.push(`linux.resources.memory.${k}`);
    // Docker sends swap = 2 x memory by default; the sandbox never swaps (cgroup.ts).
  }
  const pids = obj(res.pids);
  if (pids) {
    const limit = num(pids.limit);
    if (limit !== undefined && limit !== 0) out.pids = limit < 0 ? null : limit;
  }
  const cpu = obj(res.cpu);
  if (cpu) {
    const quota = num(cpu.quota);
    const period = num(cpu.period) || 100_000;
    if (quota !== undefined && quota !== 0) out.cpus = quota < 0 ? null : quota / period;
    const tuning: CpuTuning = {};
    if (num(cpu.period)) tuning.periodUs = period;
    // runc: 0 leaves the weight alone.
    if (num(cpu.shares)) tuning.shares = num(cpu.shares);
    if (typeof cpu.cpus === 'string' && cpu.cpus !== '') tuning.cpusetCpus = cpu.cpus;
    if (typeof cpu.mems === 'string' && cpu.mems !== '') tuning.cpusetMems = cpu.mems;
    if (Object.keys(tuning).length > 0) out.tuning = tuning;
    for (const k of Object.keys(cpu)) {
      if (!HONOURED_CPU.includes(k) && cpu[k] !== undefined && cpu[k] !== 0 && cpu[k] !== '') out.ignored.push(`linux.resources.cpu.${k}`);
    }
  }
  const bio = obj(res.blockIO);
  if (bio) {
    const tuning = blockIoOf(bio, out.ignored);
    if (tuning) out.blockIO = tuning;
  }
  if (Array.isArray(res.hugepageLimits)) {
    const limits = res.hugepageLimits.map(obj).flatMap((l) => (l && typeof l.pageSize === 'string' && num(l.limit) !== undefined ? [{ pageSize: l.pageSize, bytes: num(l.limit)! }] : []));
    if (limits.length > 0) out.hugepages = limits;
  }
  for (const k of Object.keys(res)) {
    if (!['memory', 'pids', 'cpu', 'devices', 'blockIO', 'hugepageLimits'].includes(k)) out.ignored.push(`linux.resources.${k}`);
  }
  return out;
}

/** The sandbox's limits at create (startSandbox adds its own tasks to the pids limit). */
export function limitsOf(r: unknown): { limits: Limits; ignored: string[] } {
  const t = translateResources(r);
  return {
    limits: {
      memoryBytes: t.memoryBytes ?? null,
      pids: t.pids ?? null,
      cpus: t.cpus ?? null,
      ...(t.tuning ? { cpuTuning: t.tuning } : {}),
      ...(t.memoryTuning ? { memoryTuning: t.memoryTuning } : {}),
      ...(t.blockIO ? { blockIO: t.blockIO } : {}),
      ...(t.hugepages ? { hugepages: t.hugepages } : {}),
    },
    ignored: t.ignored,
  };
}

/** The cgroup change that `update` makes: the same arithmetic as at create. */
export function cgroupUpdateOf(r: unknown): { resources: CgroupResources; ignored: string[] } {
  const t = translateResources(r);
  const resources: CgroupResources = {};
  if (t.memoryBytes !== undefined) resources.memory = t.memoryBytes;
  if (t.pids !== undefined) resources.pids = t.pids === null ? null : t.pids + SANDBOX_OVERHEAD_TASKS;
  if (t.cpus !== undefined) resources.cpus = t.cpus;
  if (t.tuning) resources.tuning = t.tuning;
  if (t.memoryTuning) resources.memoryTuning = t.memoryTuning;
  if (t.blockIO) resources.blockIO = t.blockIO;
  if (t.hugepages) resources.hugepages = t.hugepages;
  return { resources, ignored: t.ignored };
}
