// linux.cgroupsPath and hook failures, end to end: real bundles (busybox rootfs), every
// command a separate `tsvisor` process, the cgroup checked where runc would have put it on
// each hierarchy this machine has (cgroup v1 controllers, v2, or both).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout, type Hierarchy } from '../../src/sandbox/cgroup-layout.js';
import { cgroupsPathOf } from '../../src/sandbox/cgroup.js';
import { list, scratch, skipBecause, tsvisorBin } from '../helpers.js';
import { OciHarness } from '../oci-harness.js';

const isRoot = process.getuid?.() === 0;
const layout = hostLayout();
const hierarchies: Hierarchy[] = [...new Set([...(layout.v2 ? [layout.v2] : []), ...layout.v1.values()])];
/** Top levels of the test's cgroupsPaths, removed at the end (runc leaves them too). */
const tag = `tsvisor-test-${process.pid}`;
const slice = `tsvisortest${process.pid}.slice`;
const rand = (): string => Math.random().toString(16).slice(2, 10);

const h = new OciHarness();
let stateRoot: string;
beforeAll(() => ({ stateRoot } = h.setUp('tsvisor-oci-cg-root-')));
afterAll(() => {
  for (const id of list(stateRoot)) oci(['delete', '--force', id]);
  for (const hier of hierarchies) {
    for (const top of [join(hier.mount, tag), join(hier.own, tag), join(hier.mount, slice)]) {
      try {
        rmdirSync(top);
      } catch {
        // Not made on this hierarchy.
      }
    }
  }
  h.tearDown();
});
const oci = h.oci.bind(h);
const bundle = h.bundle.bind(h);
const runtimeOf = h.runtimeOf.bind(h);

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').trim();
const procsOf = (dir: string): number[] => read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const MEMORY = 64 * 1024 * 1024;

/** A started container running two sleeps under CGROUPS_PATH, with memory and pids limits. */
function startLimited(id: string, cgroupsPath: string): void {
  const dir = bundle((s) => {
    s.process.args = ['sh', '-c', 'sleep 60 & exec sleep 61'];
    s.linux.cgroupsPath = cgroupsPath;
    s.linux.resources = { memory: { limit: MEMORY }, pids: { limit: 30 } };
  });
  const c = oci(['create', '--bundle', dir, id]);
  expect(c.status, c.stderr).toBe(0);
  const s = oci(['start', id]);
  expect(s.status, s.stderr).toBe(0);
}

/**
 * Checks container ID's cgroup: one directory per hierarchy in use, each at BASE(h)/PATH;
 * the limits in the memory and pids ones; every process `ps` lists in each, and `ps`
 * listing the container's. Returns the directories.
 */
async function checkCgroup(id: string, path: string, base: (h: Hierarchy) => string): Promise<string[]> {
  const rec = runtimeOf(id).cgroup;
  expect(rec, 'a cgroup in runtime.json').toBeDefined();
  const dirs = rec.dirs as string[];
  const expected = hierarchies.map((h) => join(base(h), path));
  for (const d of dirs) expect(expected, d).toContain(d);
  for (const d of dirs) expect(existsSync(d), d).toBe(true);
  const mem = rec.roles.memory as string;
  expect(Number(read(mem, mem === rec.v2Dir ? 'memory.max' : 'memory.limit_in_bytes'))).toBe(MEMORY);
  // The sandbox's own launcher and init come on top of the container's 30.
  expect(read(rec.roles.pids as string, 'pids.max')).toBe('32');
  await until('both sleeps', () => (JSON.parse(oci(['ps', '--format', 'json', id]).stdout) as number[]).length >= 2);
  const ps = JSON.parse(oci(['ps', '--format', 'json', id]).stdout) as number[];
  expect(ps).toContain(JSON.parse(oci(['state', id]).stdout).pid);
  for (const d of dirs) for (const pid of ps) expect(procsOf(d), d).toContain(pid);
  return dirs;
}

skipBecause('oci-cgroup.test.ts', isRoot ? undefined : 'cgroupsPath needs root to create cgroups');

describe.runIf(isRoot)('linux.cgroupsPath', () => {
  it('puts an absolute path beneath each hierarchy\'s root; update, events, pause and delete use it', async () => {
    const path = `/${tag}/${rand()}`;
    startLimited('cg-abs', path);
    const dirs = await checkCgroup('cg-abs', path, (h) => h.mount);
    const rec = runtimeOf('cg-abs').cgroup;

    const up = oci(['update', '--resources', '-', 'cg-abs'], { input: JSON.stringify({ pids: { limit: 50 } }) });
    expect(up.status, up.stderr).toBe(0);
    expect(read(rec.roles.pids, 'pids.max')).toBe('52');
    const ev = oci(['events', '--stats', 'cg-abs']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).data.memory.usage.limit).toBe(MEMORY);

    const freezer = rec.roles.freezer as string;
    const frozen = (): boolean =>
      existsSync(join(freezer, 'freezer.state')) ? read(freezer, 'freezer.state') === 'FROZEN' : /^frozen 1$/m.test(read(freezer, 'cgroup.events'));
    expect(oci(['pause', 'cg-abs']).status).toBe(0);
    await until('frozen', frozen);
    expect(oci(['resume', 'cg-abs']).status).toBe(0);
    await until('thawed', () => !frozen());

    expect(oci(['kill', 'cg-abs', 'KILL']).status).toBe(0);
    await until('stopped', () => JSON.parse(oci(['state', 'cg-abs']).stdout).status === 'stopped');
    // As runc's, the cgroup outlives the container until delete: containerd's shim reads
    // the end's stats and OOM events there.
    for (const d of dirs) expect(procsOf(d), d).toEqual([]);
    expect(oci(['delete', 'cg-abs']).status).toBe(0);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  it('puts a relative path beneath the runtime\'s own cgroup', async () => {
    const path = `${tag}/${rand()}`;
    startLimited('cg-rel', path);
    const dirs = await checkCgroup('cg-rel', path, (h) => h.own);
    expect(oci(['kill', 'cg-rel', '9']).status).toBe(0);
    await until('stopped', () => JSON.parse(oci(['state', 'cg-rel']).stdout).status === 'stopped');
    expect(oci(['delete', 'cg-rel']).status).toBe(0);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  it('sets cpu shares, the quota\'s period, and the CPUs and memory nodes, at create and update', async () => {
    const cpus = (read('/sys/devices/system/cpu', 'online').match(/^(\d+)/) ?? ['0'])[0];
    const dir = bundle((s) => {
      s.process.args = ['sleep', '60'];
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { cpu: { shares: 512, quota: 20_000, period: 50_000, cpus, mems: '0' } };
    });
    expect(oci(['create', '--bundle', dir, 'cg-cpu']).status).toBe(0);
    const rec = runtimeOf('cg-cpu').cgroup;
    const cpu = rec.roles.cpu as string, cpuset = rec.roles.cpuset as string;
    const v2 = cpu === rec.v2Dir;
    expect(v2 ? read(cpu, 'cpu.max') : `${read(cpu, 'cpu.cfs_quota_us')} ${read(cpu, 'cpu.cfs_period_us')}`).toBe('20000 50000');
    // runc's conversion of shares to a v2 weight: 1 + (512 - 2) * 9999 / 262142.
    expect(v2 ? read(cpu, 'cpu.weight') : read(cpu, 'cpu.shares')).toBe(v2 ? '20' : '512');
    expect(read(cpuset, 'cpuset.cpus')).toBe(cpus);
    expect(read(cpuset, 'cpuset.mems')).toBe('0');
    const init = JSON.parse(oci(['state', 'cg-cpu']).stdout).pid as number;
    expect(/^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${init}/status`, 'utf8'))![1]).toBe(cpus);
    const up = oci(['update', '--resources', '-', 'cg-cpu'], { input: JSON.stringify({ cpu: { shares: 1024 } }) });
    expect(up.status, up.stderr).toBe(0);
    expect(v2 ? read(cpu, 'cpu.weight') : read(cpu, 'cpu.shares')).toBe(v2 ? '39' : '1024');
    expect(oci(['delete', '--force', 'cg-cpu']).status).toBe(0);
    expect(existsSync(cpuset)).toBe(false);
  });

  it('adds a cpu limit and CPUs by update to a container created without (docker update --cpus)', async () => {
    const cpus = (read('/sys/devices/system/cpu', 'online').match(/^(\d+)/) ?? ['0'])[0];
    const dir = bundle((s) => {
      s.process.args = ['sh', '-c', 'sleep 60 & exec sleep 61'];
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { memory: { limit: MEMORY } };
    });
    expect(oci(['create', '--bundle', dir, 'cg-add']).status).toBe(0);
    try {
      expect(oci(['start', 'cg-add']).status).toBe(0);
      const rec = runtimeOf('cg-add').cgroup;
      expect(rec.roles.cpu).toBeUndefined();
      const memoryDir = rec.roles.memory as string;
      await until('both sleeps', () => procsOf(memoryDir).length >= 3);
      const up = oci(['update', '--resources', '-', 'cg-add'], { input: JSON.stringify({ cpu: { quota: 25_000, period: 100_000, cpus } }) });
      expect(up.status, up.stderr).toBe(0);
      // Beside the others, with every task moved in, as a created one would be.
      const rel = memoryDir.slice(hierarchies.find((hier) => memoryDir.startsWith(`${hier.mount}/`))!.mount.length);
      const v2 = rec.v2Dir && existsSync(join(rec.v2Dir, 'cpu.max'));
      const cpuDir = v2 ? rec.v2Dir : join(layout.v1.get('cpu')!.mount, rel);
      expect(v2 ? read(cpuDir, 'cpu.max') : read(cpuDir, 'cpu.cfs_quota_us')).toMatch(/^25000\b/);
      expect(procsOf(cpuDir).sort()).toEqual(procsOf(memoryDir).sort());
      const init = JSON.parse(oci(['state', 'cg-add']).stdout).pid as number;
      expect(/^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${init}/status`, 'utf8'))![1]).toBe(cpus);
      // A process exec'd later joins it too, and delete removes it.
      const before = procsOf(memoryDir).length;
      const e = oci(['exec', '--detach', '--pid-file', join(dir, 'exec.pid'), 'cg-add', 'sleep', '30']);
      expect(e.status, e.stderr).toBe(0);
      await until('the exec\'d process', () => procsOf(memoryDir).length > before);
      expect(procsOf(cpuDir).sort()).toEqual(procsOf(memoryDir).sort());
      expect(oci(['delete', '--force', 'cg-add']).status).toBe(0);
      expect(existsSync(cpuDir)).toBe(v2 ? existsSync(rec.v2Dir) : false);
    } finally {
      oci(['delete', '--force', 'cg-add']);
    }
  });

  it('throttles block IO per device at create and update (docker --device-read-bps)', async (ctx) => {
    // A disk of this machine's, by its numbers (loop, ram and zram devices aside).
    const disk = readdirSync('/sys/block').find((d) => !/^(loop|ram|zram)/.test(d));
    if (!disk) return ctx.skip(skipBecause('oci-cgroup.test.ts (block IO)', 'no disk in /sys/block to throttle'));
    const [major, minor] = read(join('/sys/block', disk), 'dev').split(':').map(Number) as [number, number];
    const dir = bundle((s) => {
      s.process.args = ['sleep', '60'];
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }], throttleWriteIOPSDevice: [{ major, minor, rate: 100 }] } };
    });
    expect(oci(['create', '--bundle', dir, 'cg-bio']).status).toBe(0);
    try {
      const rec = runtimeOf('cg-bio').cgroup;
      const bio = rec.roles.blkio as string;
      const v2 = bio === rec.v2Dir;
      const limits = (): string => (v2 ? read(bio, 'io.max') : ['read_bps', 'write_bps', 'write_iops'].map((f) => read(bio, `blkio.throttle.${f}_device`)).join('|'));
      expect(limits()).toBe(v2 ? `${major}:${minor} rbps=1048576 wbps=max riops=max wiops=100` : `${major}:${minor} 1048576||${major}:${minor} 100`);
      const init = JSON.parse(oci(['state', 'cg-bio']).stdout).pid as number;
      expect(procsOf(bio)).toContain(init);
      const up = oci(['update', '--resources', '-', 'cg-bio'], { input: JSON.stringify({ blockIO: { throttleWriteBpsDevice: [{ major, minor, rate: 2097152 }] } }) });
      expect(up.status, up.stderr).toBe(0);
      expect(limits()).toBe(v2 ? `${major}:${minor} rbps=1048576 wbps=2097152 riops=max wiops=100` : `${major}:${minor} 1048576|${major}:${minor} 2097152|${major}:${minor} 100`);
      expect(oci(['delete', '--force', 'cg-bio']).status).toBe(0);
      if (!v2) expect(existsSync(bio)).toBe(false);
    } finally {
      oci(['delete', '--force', 'cg-bio']);
    }
  });

  it('limits huge pages per size, and refuses a size that names no hugetlb file', (ctx) => {
    const v2Has = layout.v2 ? read(layout.v2.mount, 'cgroup.controllers').split(/\s+/).includes('hugetlb') : false;
    if (!existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB') || (!layout.v1.has('hugetlb') && !v2Has)) {
      return ctx.skip(skipBecause('oci-cgroup.test.ts (huge pages)', 'no 2MB huge pages or no hugetlb controller here'));
    }
    const dir = bundle((s) => {
      s.process.args = ['true'];
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * 1024 * 1024 }] };
    });
    expect(oci(['create', '--bundle', dir, 'cg-huge']).status).toBe(0);
    try {
      const rec = runtimeOf('cg-huge').cgroup;
      const huge = rec.roles.hugetlb as string;
      expect(read(huge, huge === rec.v2Dir ? 'hugetlb.2MB.max' : 'hugetlb.2MB.limit_in_bytes')).toBe(String(4 * 1024 * 1024));
    } finally {
      oci(['delete', '--force', 'cg-huge']);
    }
    const bad = bundle((s) => {
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { hugepageLimits: [{ pageSize: '../../memory.max', limit: 1 }] };
    });
    const r = oci(['create', '--bundle', bad, 'cg-huge-bad']);
    expect(r.stderr).toMatch(/huge page size `\.\.\/\.\.\/memory\.max`: want a size such as 2MB/);
    expect(list(stateRoot)).not.toContain('cg-huge-bad');
  });

  it('sets the memory reservation, and on v1 the swappiness and a disabled OOM killer', () => {
    const mem = (v1: boolean): Record<string, unknown> => ({ limit: MEMORY, reservation: MEMORY / 2, ...(v1 ? { swappiness: 30, disableOOMKiller: true } : {}) });
    // Where the memory controller is: v2 when our v2 cgroup has it to hand down.
    const v1 = !(layout.v2 && existsSync(join(layout.v2.own, 'cgroup.controllers')) && read(layout.v2.own, 'cgroup.controllers').split(/\s+/).includes('memory'));
    const dir = bundle((s) => {
      s.process.args = ['sleep', '60'];
      s.linux.cgroupsPath = `/${tag}/${rand()}`;
      s.linux.resources = { memory: mem(v1) };
    });
    expect(oci(['create', '--bundle', dir, 'cg-mem']).status).toBe(0);
    const memory = runtimeOf('cg-mem').cgroup.roles.memory as string;
    if (memory === runtimeOf('cg-mem').cgroup.v2Dir) {
      expect(read(memory, 'memory.low')).toBe(String(MEMORY / 2));
    } else {
      expect(read(memory, 'memory.soft_limit_in_bytes')).toBe(String(MEMORY / 2));
      expect(read(memory, 'memory.swappiness')).toBe('30');
      expect(read(memory, 'memory.oom_control')).toMatch(/^oom_kill_disable 1$/m);
    }
    expect(oci(['delete', '--force', 'cg-mem']).status).toBe(0);
  });

  it('names systemd\'s slice:prefix:name as systemd would, and runs there', async () => {
    const name = rand();
    startLimited('cg-systemd', `${slice}:tsvtest:${name}`);
    const dirs = await checkCgroup('cg-systemd', `/${slice}/tsvtest-${name}.scope`, (h) => h.mount);
    expect(oci(['delete', '--force', 'cg-systemd']).status).toBe(0);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  it('refuses `..` and a cgroup holding another container\'s processes, and leaves no container', async () => {
    const escape = bundle((s) => (s.linux.cgroupsPath = `/${tag}/../escape`));
    const r = oci(['create', '--bundle', escape, 'cg-dotdot']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cgroupsPath `\/tsvisor-test-\d+\/\.\.\/escape`: `\.\.` is not allowed/);
    expect(list(stateRoot)).not.toContain('cg-dotdot');
    for (const h of hierarchies) expect(existsSync(join(h.mount, 'escape'))).toBe(false);

    const path = `/${tag}/${rand()}`;
    startLimited('cg-first', path);
    const dirs = await checkCgroup('cg-first', path, (h) => h.mount);
    const before = procsOf(dirs[0]!);
    const second = bundle((s) => {
      s.process.args = ['true'];
      s.linux.cgroupsPath = path;
    });
    const taken = oci(['create', '--bundle', second, 'cg-second']);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/already exists and holds processes of another container/);
    expect(list(stateRoot)).not.toContain('cg-second');
    // The first container's cgroup is untouched.
    expect(procsOf(dirs[0]!)).toEqual(before);
    expect(oci(['delete', '--force', 'cg-first']).status).toBe(0);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });
});

describe('cgroupsPath spellings', () => {
  it('normalizes, maps systemd names and refuses what names no cgroup of ours', () => {
    expect(cgroupsPathOf('/docker/abc')).toBe('/docker/abc');
    expect(cgroupsPathOf('a//b/./c/')).toBe('a/b/c');
    expect(cgroupsPathOf('system.slice:docker:abc')).toBe('/system.slice/docker-abc.scope');
    expect(cgroupsPathOf(':cri-containerd:abc')).toBe('/system.slice/cri-containerd-abc.scope');
    expect(cgroupsPathOf('kubepods-besteffort.slice:cri:x')).toBe('/kubepods.slice/kubepods-besteffort.slice/cri-x.scope');
    expect(cgroupsPathOf('-.slice:p:x')).toBe('/p-x.scope');
    for (const bad of ['../x', '/a/../../b', 'a/..', '/', '.', 'bad--slice.slice:p:x', 'noslice:p:x']) {
      expect(() => cgroupsPathOf(bad), bad).toThrow();
    }
  });
});

describe('hook failures', () => {
  it('a failing poststart or poststop hook is a warning: later hooks and the container still run', () => {
    const out = scratch();
    const fail = { path: '/bin/sh', args: ['sh', '-c', 'echo hook says no >&2; exit 3'] };
    const mark = (name: string): object => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/${name}`], env: ['ONLY=this'] });
    const dir = bundle((s) => {
      s.process.args = ['sh', '-c', 'echo container ran'];
      s.hooks = { poststart: [fail, mark('poststart')], poststop: [fail, mark('poststop')] };
    });
    const log = join(out, 'log');
    const r = spawnSync(process.execPath, [tsvisorBin, '--root', stateRoot, '--log', log, 'run', '--bundle', dir, 'hook-warn'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('container ran\n');
    for (const name of ['poststart', 'poststop']) {
      expect(JSON.parse(readFileSync(join(out, name), 'utf8')), name).toMatchObject({ id: 'hook-warn' });
    }
    expect(readFileSync(log, 'utf8')).toMatch(/level=warning msg="poststart hook `\/bin\/sh`: exit status 3: hook says no"/);
    expect(r.stderr).toMatch(/poststop hook `\/bin\/sh`: exit status 3: hook says no/);
    expect(list(stateRoot)).not.toContain('hook-warn');
    rmSync(out, { recursive: true });
  });

  it('a failing prestart hook fails create, destroys the container and its cgroup, and runs poststop', () => {
    const out = scratch();
    const path = `/${tag}/${rand()}`;
    const dir = bundle((s) => {
      s.linux.cgroupsPath = path;
      s.hooks = {
        prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 1'] }, { path: '/bin/sh', args: ['sh', '-c', `touch ${out}/second-prestart`] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/poststop`] }],
      };
    });
    const r = oci(['create', '--bundle', dir, 'hook-fail']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/prestart hook `\/bin\/sh`: exit status 1/);
    expect(list(stateRoot)).not.toContain('hook-fail');
    expect(existsSync(join(out, 'second-prestart'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'poststop'), 'utf8'))).toMatchObject({ id: 'hook-fail', status: 'stopped' });
    for (const h of hierarchies) expect(existsSync(join(h.mount, path)), h.mount).toBe(false);
    rmSync(out, { recursive: true });
  });

  it('a failing startContainer hook fails start and stops the container', async () => {
    const dir = bundle((s) => {
      s.process.args = ['sleep', '60'];
      s.hooks = { startContainer: [{ path: '/bin/false', args: ['false'] }] };
    });
    expect(oci(['create', '--bundle', dir, 'hook-start']).status).toBe(0);
    const r = oci(['start', 'hook-start']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/startContainer hook `\/bin\/false`: exit status 1/);
    await until('stopped', () => JSON.parse(oci(['state', 'hook-start']).stdout).status === 'stopped');
    expect(oci(['delete', 'hook-start']).status).toBe(0);
  });
});
