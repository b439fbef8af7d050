// The sandbox cgroup on this machine's real hierarchies (v1 controllers beside a v2 tree
// without controllers), and on each of them alone: create, limits, usage, freeze, kill,
// destroy. Processes are moved in by pid, as the launcher's `--cgroup` does for itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildLayout, cgroupViewName, hostLayout, type Layout } from '../../src/sandbox/cgroup-layout.js';
import { cgroupRootsAsReader } from '../../src/sentry/vfs/procfiles.js';
import { Cgroup, CgroupError, CgroupPathError } from '../../src/sandbox/cgroup.js';
import { skipBecause } from '../helpers.js';

const parent = `tsvisor-test-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const layout = hostLayout();
const children: ChildProcess[] = [];
const made: Cgroup[] = [];

/** Cgroup.create, remembered so that a failing test still removes what it made. */
function create(...args: Parameters<typeof Cgroup.create>): Cgroup {
  const cg = Cgroup.create(...args);
  made.push(cg);
  return cg;
}

/** A process of ours, moved into CG (every hierarchy) before it runs CMD, as the
 * launcher moves itself before it forks. */
function startIn(cg: Cgroup, cmd: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', `read go; ${cmd}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(child);
  for (const dir of cg.dirs) writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  // stdin stays open: a script may `read` again to wait for the test (EOF when it ends).
  child.stdin!.write('go\n');
  return child;
}

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((done) => c.once('exit', done));

afterEach(async () => {
  for (const cg of made.splice(0)) await cg.destroy();
});

const hierarchies = [...new Set([...(layout.v2 ? [layout.v2] : []), ...layout.v1.values()])];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // A cgroupsPath's levels above the sandbox's stay, as with runc: ours to remove.
  for (const h of hierarchies) {
    for (const top of [join(h.mount, parent), join(h.own, `${parent}-rel`)]) {
      try {
        rmdirSync(top);
      } catch {
        // Not made in this hierarchy.
      }
    }
  }
  // Every test removed what it made, parent included.
  for (const h of hierarchies) expect(existsSync(join(h.own, parent)), h.mount).toBe(false);
});

describe('cgroup layout', () => {
  it('reads a hybrid host: v1 controllers and a v2 tree, each with our own cgroup', () => {
    const mountinfo = [
      '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
      '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
      '33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '34 30 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      '35 30 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
    ].join('\n');
    const procCgroup = ['4:memory:/jobs/7', '3:cpu,cpuacct:/', '1:name=systemd:/', '0::/user.slice'].join('\n');
    const l = buildLayout(mountinfo, procCgroup);
    expect(l.v2?.own).toBe('/sys/fs/cgroup/unified/user.slice');
    expect(l.v1.get('memory')?.own).toBe('/sys/fs/cgroup/memory/jobs/7');
    expect(l.v1.get('cpu')).toBe(l.v1.get('cpuacct'));
    expect(l.v1.get('cpu')?.own).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(l.v1.has('systemd')).toBe(false);
    // Where a sandbox sees its cgroups: under each hierarchy's own name, as Docker shows.
    expect(cgroupViewName('/sys/fs/cgroup/memory/jobs/7/sbx', l)).toBe('memory');
    expect(cgroupViewName('/sys/fs/cgroup/cpu,cpuacct/sbx', l)).toBe('cpu,cpuacct');
    expect(cgroupViewName('/sys/fs/cgroup/unified/user.slice/sbx', l)).toBe('unified');
    expect(cgroupViewName('/elsewhere/sbx', l)).toBeUndefined();
  });

  it('reads a pure v2 host, and a cgroup namespace whose mount root is a subtree', () => {
    const l = buildLayout('29 23 0:26 /ns/root /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/ns/root/app');
    expect(l.v1.size).toBe(0);
    expect(l.v2?.own).toBe('/sys/fs/cgroup/app');
    expect(cgroupViewName('/sys/fs/cgroup/app/sbx', l)).toBe('');
  });

  it('shows cgroup mount roots relative to the reader\'s own cgroup, as its namespace does', () => {
    const mountinfo = [
      '72 67 0:48 / /sys ro - tmpfs tmpfs ro,mode=555',
      '76 72 0:38 /tsvisor/sbx-1 /sys/fs/cgroup/unified ro,nosuid - cgroup2 cgroup2 rw',
      '77 72 0:32 /jobs/tsvisor/sbx-1 /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory',
      '78 72 0:36 /tsvisor/sbx-1/sub /sys/fs/cgroup/pids ro shared:5 - cgroup cgroup rw,pids',
      '79 72 0:37 /other /mnt ro - cgroup cgroup rw,pids',
    ].join('\n');
    const reader = ['8:pids:/tsvisor/sbx-1', '4:memory:/jobs/tsvisor/sbx-1', '1:cpu:/', '0::/tsvisor/sbx-1'].join('\n');
    expect(cgroupRootsAsReader(mountinfo, reader).split('\n').map((l) => l.split(' ')[3])).toEqual(['/', '/', '/', '/sub', '/other']);
  });
});

skipBecause('cgroup.test.ts (real hierarchies)', isRoot ? undefined : 'creating cgroups needs root');

describe.runIf(isRoot)('sandbox cgroup on this machine', () => {
  it('creates a directory per hierarchy, applies limits, updates them and removes it all', async () => {
    const cg = create('unit-limits', { memory: 64 * 2 ** 20, pids: 20, cpus: 0.5 }, { parent });
    expect(cg.dirs.length).toBeGreaterThan(0);
    for (const d of cg.dirs) expect(existsSync(d), d).toBe(true);
    const v1mem = layout.v1.get('memory');
    if (v1mem) {
      const dir = join(v1mem.own, parent, 'unit-limits');
      expect(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 2 ** 20));
      cg.update({ memory: 128 * 2 ** 20 });
      expect(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(128 * 2 ** 20));
      cg.update({ memory: null });
      expect(Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8'))).toBeGreaterThan(2 ** 60);
    }
    const v1pids = layout.v1.get('pids');
    if (v1pids) expect(readFileSync(join(v1pids.own, parent, 'unit-limits', 'pids.max'), 'utf8').trim()).toBe('20');
    const v1cpu = layout.v1.get('cpu');
    if (v1cpu) expect(readFileSync(join(v1cpu.own, parent, 'unit-limits', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    await cg.destroy();
    for (const d of cg.dirs) expect(existsSync(d), d).toBe(false);
  });

  it('measures cpu time, memory and tasks of what runs inside', async () => {
    const cg = create('unit-usage', {}, { parent });
    // Three tasks (sh and two sleeps) until the test lets go, then some cpu.
    const child = startIn(cg, 'sleep 30 & a=$!; sleep 30 & b=$!; read done; kill $a $b; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done');
    for (let i = 0; i < 200 && cg.usage().tasks !== 3; i++) await new Promise((done) => setTimeout(done, 10));
    expect(cg.usage().tasks).toBe(3);
    child.stdin!.end();
    await exited(child);
    const u = cg.usage();
    expect(u.cpuTimeMs).toBeGreaterThan(50);
    expect(u.peakMemoryBytes ?? 1).toBeGreaterThan(0);
    expect(u.peakTasks ?? 3).toBeGreaterThanOrEqual(3);
    expect(u.oomKills).toBe(0);
    await cg.destroy();
  });

  it('freezes and thaws', async () => {
    const cg = create('unit-freeze', {}, { parent });
    const child = startIn(cg, 'while :; do :; done');
    await cg.freeze();
    const a = cg.cpuTimeMs()!;
    await new Promise((done) => setTimeout(done, 200));
    expect(cg.cpuTimeMs()! - a).toBeLessThan(5);
    cg.thaw();
    await new Promise((done) => setTimeout(done, 200));
    expect(cg.cpuTimeMs()! - a).toBeGreaterThan(50);
    await cg.destroy();
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
  });

  // Each kill path on its own: cgroup.kill (v2) and freeze + SIGKILL (v1).
  const alone: [string, Layout | undefined][] = [
    ['v2 cgroup.kill', layout.v2 ? { v1: new Map(), v2: layout.v2 } : undefined],
    ['v1 freeze and SIGKILL', layout.v1.size ? { v1: layout.v1 } : undefined],
  ];
  for (const [name, only] of alone) {
    // A machine has the hierarchies it has: the other kill path cannot be tried here.
    if (!only) console.log(`cgroup.test.ts: ${name} not tried: this machine has no such hierarchy`);
    it.runIf(only)(`kills a forking tree (${name}) and leaves nothing`, async () => {
      const cg = create(`unit-kill-${only!.v2 ? 2 : 1}`, {}, { parent, layout: only });
      const child = startIn(cg, 'for i in 1 2 3 4 5; do (while :; do sleep 0.01 & wait; done) & done; wait');
      await new Promise((done) => setTimeout(done, 200));
      expect(cg.procs().length).toBeGreaterThan(5);
      await cg.kill();
      expect(cg.procs()).toEqual([]);
      expect(cg.isEmpty()).toBe(true);
      await exited(child);
      await cg.destroy();
      for (const d of cg.dirs) expect(existsSync(d)).toBe(false);
    });
  }

  it('opens an existing sandbox cgroup by id, as a later OCI command would', async () => {
    const cg = create('unit-open', { pids: 7 }, { parent });
    const child = startIn(cg, 'exec sleep 30');
    const again = Cgroup.open('unit-open', { parent });
    expect(again.dirs).toEqual(cg.dirs);
    expect(again.procs()).toEqual([child.pid]);
    again.update({ pids: 9 });
    const v1pids = layout.v1.get('pids');
    if (v1pids) expect(readFileSync(join(v1pids.own, parent, 'unit-open', 'pids.max'), 'utf8').trim()).toBe('9');
    // A second create of the same id fails and leaves the first alone.
    expect(() => Cgroup.create('unit-open', {}, { parent })).toThrow(/already exists/);
    expect(again.procs()).toEqual([child.pid]);
    await again.destroy();
    await exited(child);
    expect(() => Cgroup.open('unit-open', { parent })).toThrow(/no such sandbox cgroup/);
  });

  it('refuses a limit no hierarchy can enforce, and leaves nothing behind', () => {
    const noControllers: Layout = { v1: new Map(), v2: layout.v2 ?? layout.v1.get('freezer') };
    expect(() => Cgroup.create('unit-refuse', { memory: 2 ** 30 }, { parent, layout: noControllers })).toThrow(CgroupError);
    expect(() => Cgroup.create('unit-refuse', { memory: 2 ** 30 }, { parent, layout: noControllers })).toThrow(/no memory controller/);
    const h = noControllers.v2!;
    expect(existsSync(join(h.own, parent, 'unit-refuse'))).toBe(false);
  });

  it('places a cgroupsPath from each hierarchy\'s root (absolute) or from ours (relative)', async () => {
    const abs = create('unit-abs', { pids: 11 }, { path: `/${parent}/abs` });
    const rel = create('unit-rel', { pids: 12 }, { path: `${parent}-rel/./rel` });
    for (const d of abs.dirs) expect(hierarchies.map((h) => join(h.mount, parent, 'abs'))).toContain(d);
    for (const d of rel.dirs) expect(hierarchies.map((h) => join(h.own, `${parent}-rel`, 'rel'))).toContain(d);
    const v1pids = layout.v1.get('pids');
    if (v1pids) expect(readFileSync(join(v1pids.mount, parent, 'abs', 'pids.max'), 'utf8').trim()).toBe('11');
    const child = startIn(abs, 'exec sleep 30');
    const again = Cgroup.open('unit-any', { path: `/${parent}/abs` });
    expect(again.dirs).toEqual(abs.dirs);
    expect(again.procs()).toEqual([child.pid]);
    // Another sandbox may not take a cgroup with processes in it, and leaves it alone.
    expect(() => Cgroup.create('unit-abs2', {}, { path: `/${parent}/abs` })).toThrow(CgroupPathError);
    expect(again.procs()).toEqual([child.pid]);
    await abs.destroy();
    await exited(child);
    await rel.destroy();
    for (const d of [...abs.dirs, ...rel.dirs]) expect(existsSync(d), d).toBe(false);
  });

  it.runIf(layout.v2)('makes every level of a cgroupsPath on v2 alone', async () => {
    const cg = create('unit-v2path', {}, { path: `/${parent}/v2/leaf`, layout: { v1: new Map(), v2: layout.v2 } });
    expect(cg.dirs).toEqual([join(layout.v2!.mount, parent, 'v2', 'leaf')]);
    const child = startIn(cg, 'exec sleep 30');
    expect(cg.procs()).toEqual([child.pid]);
    await cg.destroy();
    await exited(child);
    expect(existsSync(cg.dirs[0]!)).toBe(false);
    rmdirSync(join(layout.v2!.mount, parent, 'v2'));
  });

  it('takes an existing, empty cgroup at a cgroupsPath, as runc does, and removes it at the end', async () => {
    const dirs = hierarchies.map((h) => join(h.mount, parent, 'premade'));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const cg = create('unit-premade', { pids: 5 }, { path: `/${parent}/premade` });
    for (const d of cg.dirs) expect(dirs).toContain(d);
    await cg.destroy();
    for (const d of cg.dirs) expect(existsSync(d), d).toBe(false);
    for (const d of dirs) if (existsSync(d)) rmdirSync(d);
  });

  it('refuses a cgroupsPath with `..`, and makes nothing', () => {
    for (const path of ['../x', `/${parent}/../x`, '/']) expect(() => Cgroup.create('unit-dots', {}, { path }), path).toThrow(CgroupPathError);
    for (const h of hierarchies) expect(existsSync(join(h.mount, 'x'))).toBe(false);
  });

  it('refuses ids that are not plain names', () => {
    for (const id of ['', '../x', 'a/b', '.hidden']) expect(() => Cgroup.create(id, {}, { parent })).toThrow(CgroupError);
  });
});
