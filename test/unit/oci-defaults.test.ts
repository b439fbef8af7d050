// `tsvisor spec` defaults (runc's), the spec → sandbox translation, install, features.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSandbox, Unsupported } from '../../src/oci/convert.js';
import { defaultSpec } from '../../src/oci/defaults.js';
import { install } from '../../src/oci/install.js';
import { validateSpec } from '../../src/oci/validate.js';
import { scratch } from '../helpers.js';

describe('default spec', () => {
  it('is runc\'s: sh, read-only rootfs, the usual mounts and namespaces', () => {
    const s = defaultSpec({ rootless: false, uid: 0, gid: 0 }) as any;
    expect(s.process.args).toEqual(['sh']);
    expect(s.process.terminal).toBe(true);
    expect(s.root).toEqual({ path: 'rootfs', readonly: true });
    expect(s.mounts.map((m: any) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    expect(s.linux.namespaces.map((n: any) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(validateSpec(s).ok).toBe(true);
  });

  it('--rootless maps the caller to root in a user namespace, without network namespace or cgroup mount', () => {
    const s = defaultSpec({ rootless: true, uid: 1234, gid: 99 }) as any;
    expect(s.linux.namespaces.map((n: any) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(s.linux.gidMappings).toEqual([{ containerID: 0, hostID: 99, size: 1 }]);
    expect(s.mounts.find((m: any) => m.destination === '/sys/fs/cgroup')).toBeUndefined();
    expect(s.mounts.find((m: any) => m.destination === '/dev/pts').options).not.toContain('gid=5');
    expect(s.linux.resources).toBeUndefined();
  });
});

describe('spec → sandbox', () => {
  const base = (): any => {
    const s = defaultSpec({ rootless: false, uid: 0, gid: 0 }) as any;
    s.process.terminal = false;
    return s;
  };

  it('maps root, user, rlimits, namespaces and mounts onto the launcher', () => {
    const s = base();
    s.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 6], umask: 0o22 };
    s.process.oomScoreAdj = 500;
    s.linux.namespaces = s.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
    s.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] });
    s.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['mode=755', 'size=1m', 'rprivate', 'noexec'] });
    const p = planSandbox(s, '/bundle');
    expect(p.rootfs).toBe('/bundle/rootfs');
    expect(p.network).toBe('none');
    expect(p.launcherArgs).toEqual([
      '--readonly-root', '--netns', '/run/netns/x', '--uid', '1000', '--gid', '1000', '--groups', '5,6', '--umask', '22', '--rlimit', 'nofile=1024:1024',
      '--oom-score-adj', '500',
      '--readonly-path', '/proc/bus', '--readonly-path', '/proc/fs', '--readonly-path', '/proc/irq', '--readonly-path', '/proc/sys',
      '--readonly-path', '/proc/sysrq-trigger',
      '--mask', '/proc/acpi', '--mask', '/proc/asound', '--mask', '/proc/kcore', '--mask', '/proc/keys', '--mask', '/proc/latency_stats',
      '--mask', '/proc/timer_list', '--mask', '/proc/timer_stats', '--mask', '/proc/sched_debug', '--mask', '/sys/firmware', '--mask', '/proc/scsi',
    ]);
    expect(p.identity).toEqual({ uid: 1000, gid: 1000, groups: [5, 6] });
    // /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys are the launcher's own; cgroup ignored.
    expect(p.mounts).toEqual([
      { source: '/bundle/data', destination: '/data', readonly: true },
      { type: 'tmpfs', destination: '/run', options: ['mode=755', 'size=1m', 'noexec'] },
    ]);
    expect(p.ignored).toEqual(expect.arrayContaining(['mount of cgroup on /sys/fs/cgroup', 'tmpfs option rprivate on /run']));
    expect(p.ignored).not.toContain('mount of mqueue on /dev/mqueue');
  });

  it('passes no oom score, mask or read-only path the spec does not ask for', () => {
    const s = base();
    delete s.linux.maskedPaths;
    s.linux.readonlyPaths = [];
    expect(planSandbox(s, '/b').launcherArgs.filter((a) => /^--(oom-score-adj|mask|readonly-path)$/.test(a))).toEqual([]);
  });

  it('uses the host network without a network namespace', () => {
    const s = base();
    s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network');
    expect(planSandbox(s, '/b').network).toBe('host');
  });

  it('refuses what it cannot do, naming the field', () => {
    const refuse = (edit: (s: any) => void): string => {
      const s = base();
      edit(s);
      try {
        planSandbox(s, '/b');
      } catch (err) {
        expect(err).toBeInstanceOf(Unsupported);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refuse((s) => delete s.process)).toMatch(/^`process`/);
    expect(refuse((s) => (s.process.terminal = true))).toMatch(/^`process.terminal`/);
    expect(refuse((s) => s.linux.namespaces.push({ type: 'mount', path: '/proc/self/ns/mnt' }))).toMatch(/joining an existing `mount` namespace/);
    expect(refuse((s) => s.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' }))).toMatch(/joining an existing `user` namespace/);
    expect(refuse((s) => s.linux.namespaces.push({ type: 'pid', path: '/proc/self/ns/pid' }))).toMatch(/is the host's pid namespace/);
    expect(refuse((s) => s.linux.namespaces.push({ type: 'ipc', path: '/proc/self/ns/ipc' }))).toMatch(/is the host's ipc namespace/);
    expect(refuse((s) => s.mounts.push({ destination: '/x', type: 'nfs', source: 'h:/x' }))).toMatch(/type `nfs` on `\/x`/);
    // Docker's `--network container:X` names X's reported pid: a sentry daemon's, on the host.
    const hostNet = (s: any): void => {
      s.linux.namespaces = s.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
    };
    expect(refuse(hostNet)).toMatch(/is the host's net namespace/);
  });
});

describe('install', () => {
  it('adds the runtime, keeps other keys, and is idempotent', () => {
    const dir = scratch();
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'log-level': 'warn', runtimes: { runsc: { path: '/usr/bin/runsc' } } }));
    install({ configFile: file, runtime: 'tsvisor', path: '/opt/tsvisor', runtimeArgs: [] });
    const once = readFileSync(file, 'utf8');
    install({ configFile: file, runtime: 'tsvisor', path: '/opt/tsvisor', runtimeArgs: [] });
    expect(readFileSync(file, 'utf8')).toBe(once);
    expect(JSON.parse(once)).toEqual({ 'log-level': 'warn', runtimes: { runsc: { path: '/usr/bin/runsc' }, tsvisor: { path: '/opt/tsvisor' } } });
    writeFileSync(file, '[1]');
    expect(() => install({ configFile: file, runtime: 't', path: '/x', runtimeArgs: [] })).toThrow(/not a JSON object/);
    rmSync(dir, { recursive: true });
  });
});
