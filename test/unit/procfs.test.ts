// Which /proc entries the launcher masks: those the sentry's allow-list leaves out, found
// in the kernel's own /proc (here a made-up one).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { sysAsSysfs } from '../../src/sentry/vfs/procfiles.js';
import { maskedProcPaths } from '../../src/sentry/vfs/procfs.js';
import { scratch } from '../helpers.js';

it('masks the /proc and /proc/sys entries the allow-list leaves out, and only those', () => {
  const proc = scratch();
  for (const f of ['cpuinfo', 'kcore', 'kallsyms', 'meminfo']) writeFileSync(join(proc, f), '');
  for (const d of ['1', '42', 'acpi', 'sysvipc', 'pressure', 'sys/kernel', 'sys/debug', 'sys/net/ipv4', 'sys/vm']) mkdirSync(join(proc, d), { recursive: true });
  for (const f of ['sysvipc/msg', 'sys/kernel/hostname', 'sys/kernel/ns_last_pid', 'sys/kernel/shmmax', 'sys/vm/swappiness']) writeFileSync(join(proc, f), '');
  expect(maskedProcPaths(proc).sort()).toEqual(['/proc/acpi', '/proc/kallsyms', '/proc/kcore', '/proc/sys/debug', '/proc/sys/kernel/ns_last_pid']);
});

it('finds entries to mask in this kernel\'s /proc, and none that programs read', () => {
  const masked = maskedProcPaths();
  expect(masked.length).toBeGreaterThan(0);
  for (const read of ['/proc/cpuinfo', '/proc/meminfo', '/proc/self', '/proc/sys', '/proc/sys/kernel', '/proc/sys/net', '/proc/sysvipc']) expect(masked).not.toContain(read);
});

it('shows the launcher\'s /sys as a sysfs in mountinfo and mounts, and no other tmpfs', () => {
  const mountinfo = [
    '77 69 0:51 / /sys ro,nosuid,nodev,noexec,relatime - tmpfs sysfs ro,mode=555',
    '78 77 0:52 / /sys/x rw - tmpfs sysfs rw',
    '79 69 0:53 / /tmp rw - tmpfs sysfs rw,size=10k',
    '80 69 0:54 / /sys rw - tmpfs tmpfs rw',
  ].join('\n');
  expect(sysAsSysfs(mountinfo).split('\n')).toEqual([
    '77 69 0:51 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
    '78 77 0:52 / /sys/x rw - tmpfs sysfs rw',
    '79 69 0:53 / /tmp rw - tmpfs sysfs rw,size=10k',
    '80 69 0:54 / /sys rw - tmpfs tmpfs rw',
  ]);
  expect(sysAsSysfs('sysfs /sys tmpfs ro,nosuid,mode=555 0 0\ntmpfs /sys tmpfs rw 0 0\n')).toBe('sysfs /sys sysfs ro,nosuid 0 0\ntmpfs /sys tmpfs rw 0 0\n');
});
