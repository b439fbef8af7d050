// File syscall conformance: edge cases of names and paths, run natively in a scratch
// directory and under tsvisor in a directory mounted at the same path; outputs must match.
import { chmodSync, rmSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { native, program, scratch, tsvisor } from '../helpers.js';

let probe: string;
beforeAll(() => {
  probe = program('probe');
});

/** Runs ARGV natively and in a sandbox, in fresh directories seen at the same path
 * (searchable by all: a program may drop to another user), and expects the same output
 * and a clean stderr inside. The output. */
function sameAs(argv: string[]): string {
  const outsideDir = scratch(), insideDir = scratch();
  for (const d of [outsideDir, insideDir]) chmodSync(d, 0o755);
  const outside = native(argv, { cwd: outsideDir });
  expect(outside.status, outside.stderr).toBe(0);
  const inside = tsvisor(['do', '--mount', `${insideDir}:${outsideDir}`, '--cwd', outsideDir, '--', ...argv], { timeout: 120_000 });
  expect(inside.stderr).toBe('');
  expect(inside.stdout).toBe(outside.stdout);
  rmSync(outsideDir, { recursive: true, force: true });
  rmSync(insideDir, { recursive: true, force: true });
  return inside.stdout;
}

/** sameAs for the probe's VERBS. */
const same = (verbs: string[]): string => sameAs([probe, ...verbs]);

const seq = (...verbs: string[][]): string[] => verbs.flatMap((v, i) => (i ? [',', ...v] : v));

it('resolves symlinks: relative, absolute, chained, dangling, loops', () => {
  const out = same(seq(
    ['mkdir', 'd'], ['write', 'd/f', 'data'], ['symlink', 'f', 'd/rel'], ['symlink', 'rel', 'd/chain'],
    ['symlink', 'nowhere', 'd/dangling'], ['symlink', 'loop2', 'd/loop1'], ['symlink', 'loop1', 'd/loop2'],
    ['cat', 'd/chain'], ['stat', 'd/dangling'], ['lstat', 'd/dangling'], ['stat', 'd/loop1'],
    ['open', 'd/loop1', 'r'], ['open', 'd/chain', 'nofollow'], ['readlink', 'd/chain'], ['readlink', 'd/f'],
    ['stat', 'd/rel/'], ['symlink', '../d', 'd/up'], ['ls', 'd/up'], ['stat', 'd/up/up/up/f'],
  ));
  expect(out).toContain('stat d/loop1: ELOOP');
});

it('keeps Linux rules for trailing slashes, dots and empty names', () => {
  same(seq(
    ['mkdir', 'dir/'], ['write', 'file', 'x'], ['stat', 'file/'], ['open', 'file/', 'r'], ['unlink', 'file/'],
    ['rmdir', 'dir/'], ['mkdir', 'dir'], ['rmdir', 'dir/.'], ['rmdir', '.'], ['mkdir', '.'], ['unlink', '.'],
    ['rename', 'file', 'dir/'], ['rename', 'dir', 'file'], ['open', '', 'r'], ['stat', ''], ['mkdir', ''],
    ['rename', 'dir', 'dir/sub'], ['link', 'dir', 'dir2'], ['chdir', 'dir'], ['chdir', '../../../../..'],
  ));
});

it('creates, lists and removes 10 000 entries', () => {
  const out = same(seq(['mkdir', 'big'], ['touchmany', 'big', '10000']));
  expect(out).toContain('made=10000 seen=10000');
});

it('keeps names as bytes: not UTF-8, and UTF-8, through create, rename, symlink, readlink, chdir and getdents', () => {
  const out = sameAs([program('bytenames')]);
  expect(out).toContain('readlink renamed-ff-\\xff = 12');
  expect(out).toContain('ls d: dir-cont-\\x80');
});

it('applies NAME_MAX and PATH_MAX', () => {
  same(seq(['name', '255'], ['name', '256'], ['deeppath', '4094'], ['deeppath', '4096'], ['deeppath', '8000']));
});

it('handles O_TMPFILE, O_EXCL, O_DIRECTORY and O_TRUNC', () => {
  same(seq(
    ['mkdir', 'd'], ['open', 'd', 'tmpfile'], ['open', 'd/n', 'w,creat,excl'], ['open', 'd/n', 'w,creat,excl'],
    ['open', 'd/n', 'dir'], ['open', 'd', 'w'], ['write', 'd/n', 'long content'], ['open', 'd/n', 'w,trunc'],
    ['stat', 'd/n'], ['open', 'd/missing', 'r'], ['open', 'd/missing/x', 'w,creat'],
  ));
});

it('answers EFAULT for pointers the task cannot read or write', () => {
  const out = same(['badptrs']);
  expect(out).toBe('badptrs: open=EFAULT stat=EFAULT statpath=EFAULT readlink=EFAULT mkdir=EFAULT uname=EFAULT\n');
});

it('mounts a tmpfs with its size enforced (ENOSPC), its mode, and files that execute', () => {
  const dir = scratch();
  const script = [
    `cd ${dir}`,
    'stat -c "%a %F" .',
    'dd if=/dev/zero of=big bs=64k count=32 2>&1 | grep -o "No space left on device"',
    'rm big; cp /bin/true t && ./t && echo exec ok',
    "df -k . | tail -1 | awk '{print $1, $2}'",
  ].join('; ');
  // The same natively, on a tmpfs mounted there with the same options.
  const mounted = native(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=1777', 'tmpfs', dir]);
  expect(mounted.status, mounted.stderr).toBe(0);
  let outside;
  try {
    outside = native(['sh', '-c', script]);
  } finally {
    native(['umount', dir]);
  }
  expect(outside.stdout).toContain('No space left on device');
  const inside = tsvisor(['do', '--tmpfs', `${dir}:size=1m,mode=1777`, '--', 'sh', '-c', script]);
  expect(inside.stderr).toBe('');
  expect(inside.stdout).toBe(outside.stdout);
  rmSync(dir, { recursive: true, force: true });
});

it('answers fstat of every kind of fd as natively', () => {
  expect(sameAs([program('fstatfd')])).toContain('deleted: 0 mode=100640 nlink=0');
});

it('chroots as natively: names, `..` and absolute symlinks stop at the new root; children and execve keep it', () => {
  // Static: execve finds the program beneath the new root, where no libc is. Its last
  // step, a chroot as a user, is refused for want of CAP_SYS_CHROOT.
  const out = sameAs([program('chroot', ['-static'])]);
  expect(out).toContain('../../file: in the jail\n');
  expect(out).toContain('exec\'d in the root: cwd /\n/file: in the jail\n');
  expect(out).toContain('chroot as a user: EPERM\n');
});
