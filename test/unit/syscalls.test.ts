// Invariants of syscalls/x86_64.json: the table is complete, well formed, and its policy
// keeps every name behind the sentry.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRNO, TABLE_PATH, byName, byNr, loadTable, parseTable, type SyscallEntry } from '../../src/seccomp/table.js';
import { skipBecause } from '../helpers.js';

const UNISTD_64 = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const raw = JSON.parse(readFileSync(TABLE_PATH, 'utf8')) as SyscallEntry[];
const table = loadTable();

describe('syscalls/x86_64.json', () => {
  it('loads through the checked loader, cached', () => {
    expect(table.length).toBe(raw.length);
    expect(loadTable()).toBe(table);
    expect(byName('openat')?.nr).toBe(257);
    expect(byNr(0)?.name).toBe('read');
  });

  it('has unique numbers and names', () => {
    expect(new Set(raw.map((e) => e.nr)).size).toBe(raw.length);
    expect(new Set(raw.map((e) => e.name)).size).toBe(raw.length);
  });

  it('lists every number of the common and 64 ABIs: 0-336 and 424-471, nothing else', () => {
    const want = [...Array(337).keys(), ...Array.from({ length: 48 }, (_, i) => 424 + i)];
    expect(table.map((e) => e.nr)).toEqual(want);
  });

  it('gives every entry a valid class and the fields its class requires', () => {
    for (const e of raw) {
      expect(['trapped', 'passthrough', 'denied'], e.name).toContain(e.class);
      if (e.class === 'trapped') expect(['supported', 'partial', 'missing'], e.name).toContain(e.status);
      if (e.class !== 'trapped') expect(e.why?.trim(), e.name).toBeTruthy();
      if (e.class === 'denied') expect(Object.keys(ERRNO), e.name).toContain(e.errno);
      if (e.status === 'partial') expect(e.note?.trim(), e.name).toBeTruthy();
      for (const r of e.rules ?? []) {
        expect(r.why.trim(), e.name).toBeTruthy();
        if (r.class === 'denied') expect(Object.keys(ERRNO), e.name).toContain(r.errno);
      }
    }
  });

  it('never lets a syscall that takes a path pass through, by class or by rule', () => {
    const offenders = raw
      .filter((e) => e.args.includes('path'))
      .filter((e) => e.class === 'passthrough' || e.rules?.some((r) => r.class === 'passthrough'))
      .map((e) => e.name);
    expect(offenders).toEqual([]);
  });

  const noHeaders = skipBecause('syscalls.test.ts', existsSync(UNISTD_64) ? undefined : `${UNISTD_64} check: kernel headers not installed (linux-libc-dev)`);
  it.skipIf(noHeaders !== undefined)(`contains everything ${UNISTD_64} defines, with the same number`, () => {
    const defs = [...readFileSync(UNISTD_64, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)$/gm)];
    expect(defs.length).toBeGreaterThan(300);
    for (const [, name, nr] of defs) expect(byName(name!)?.nr, name).toBe(Number(nr));
  });
});

describe('policy decisions', () => {
  const cls = (name: string): string | undefined => byName(name)?.class;

  it('keeps the data plane native and the control plane trapped', () => {
    for (const n of ['read', 'write', 'mmap', 'futex', 'getcwd', 'fchdir', 'recvmsg', 'clone', 'wait4']) expect(cls(n), n).toBe('passthrough');
    for (const n of ['openat', 'execve', 'uname', 'socket', 'connect', 'sendmsg', 'sendmmsg', 'ioctl', 'umask', 'setuid']) expect(cls(n), n).toBe('trapped');
    for (const n of ['bpf', 'ptrace', 'io_uring_setup', 'clone3', 'open_by_handle_at', 'unshare', 'setns']) expect(cls(n), n).toBe('denied');
  });

  it('falls back with ENOSYS where programs have a fallback', () => {
    for (const n of ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'clone3', 'keyctl', 'add_key', 'request_key']) {
      expect(byName(n)?.errno, n).toBe('ENOSYS');
    }
  });

  it('lets no terminal input injection through the ioctl list', () => {
    const TIOCSTI = 0x5412;
    const TIOCLINUX = 0x541c;
    const allowed = byName('ioctl')!.rules!.filter((r) => r.class === 'passthrough').flatMap((r) => r.values ?? []);
    expect(allowed).toContain(0x5401); // TCGETS
    expect(allowed).not.toContain(TIOCSTI);
    expect(allowed).not.toContain(TIOCLINUX);
  });

  it('denies every namespace flag of clone', () => {
    // CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME
    const mask = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80;
    expect(byName('clone')!.rules).toEqual([expect.objectContaining({ arg: 0, op: 'anyBits', value: mask >>> 0, class: 'denied', errno: 'EPERM' })]);
  });

  it('traps sendto unless dest_addr is a full 64-bit NULL', () => {
    expect(byName('sendto')!.rules).toEqual([expect.objectContaining({ arg: 4, op: 'isZero', class: 'passthrough' })]);
  });
});

describe('parseTable', () => {
  const ok = { nr: 0, name: 'read', args: ['fd', 'out:buf', 'size'], class: 'passthrough', why: 'data plane' };
  const bad = (patch: object): (() => unknown) => () => parseTable([{ ...ok, ...patch }], 't.json');

  it('accepts a minimal entry', () => {
    expect(parseTable([ok]).byName.get('read')?.nr).toBe(0);
  });

  it('rejects malformed entries with the entry and the field', () => {
    expect(bad({ class: 'allowed' })).toThrow(/`read`.*class must be one of/);
    expect(bad({ why: undefined })).toThrow(/passthrough entry needs a why/);
    expect(bad({ class: 'denied' })).toThrow(/denied entry needs an errno/);
    expect(bad({ class: 'trapped', why: undefined })).toThrow(/trapped entry needs a status/);
    expect(bad({ args: ['fd', 'buffer'] })).toThrow(/args must be/);
    expect(bad({ colour: 'red' })).toThrow(/unknown field `colour`/);
    expect(bad({ rules: [{ arg: 5, op: 'in', values: [1], class: 'denied', errno: 'EPERM', why: 'x' }] })).toThrow(/rule 0: arg must name/);
    expect(bad({ rules: [{ arg: 0, op: 'isZero', value: 1, class: 'denied', errno: 'EPERM', why: 'x' }] })).toThrow(/value is not used by isZero/);
    expect(() => parseTable([ok, { ...ok, name: 'read2' }])).toThrow(/number 0 already used by `read`/);
    expect(() => parseTable({})).toThrow(/expected an array/);
  });
});
