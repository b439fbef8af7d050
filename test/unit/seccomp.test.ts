// The compiled seccomp program, held to the table twice: in a BPF interpreter over
// {desc, nr, arch, args, want} rows and every number, and under a real seccomp filter
// (test/programs/seccomp_probe.c) for the calls whose answer the kernel must give.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, BPF_MAXINSNS, OPCODES, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, __X32_SYSCALL_BIT, checkProgram, decode, encode, jump, stmt,
} from '../../src/seccomp/bpf.js';
import {
  ALLOW, KILL, NOTIFY, classify, compileInstructions, compilePolicy, decodeAction, encodeAction, errnoAction,
  formatAction, interpret, run, segments, type Action,
} from '../../src/seccomp/compile.js';
import { ERRNO, byName, loadTable } from '../../src/seccomp/table.js';
import { seccompProbeUnavailable, skipBecause } from '../helpers.js';

const table = loadTable();
const prog = compilePolicy(table);
const EPERM = errnoAction(ERRNO.EPERM);
const ENOSYS = errnoAction(ERRNO.ENOSYS);
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const ONES = Array<bigint>(6).fill(0xffffffffffffffffn);
const nrOf = (name: string): number => byName(name)!.nr;

const decide = (nr: number, args: readonly (bigint | number)[] = [], arch = AUDIT_ARCH_X86_64): string =>
  formatAction(decodeAction(interpret(prog, { nr, arch, args })));

interface Row {
  desc: string;
  nr: number;
  arch?: number;
  args?: (bigint | number)[];
  want: Action;
}

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;
// What glibc's pthread_create passes: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
const CLONE_THREAD_FLAGS = 0x3d0f00;
const TCGETS = 0x5401;
const TIOCSTI = 0x5412;

const rows: Row[] = [
  { desc: 'i386 arch (int $0x80) is killed', nr: 20, arch: AUDIT_ARCH_I386, want: KILL },
  { desc: 'foreign arch is killed even for a passthrough number', nr: nrOf('read'), arch: AUDIT_ARCH_AARCH64, want: KILL },
  { desc: 'x32 getpid', nr: __X32_SYSCALL_BIT | nrOf('getpid'), want: ENOSYS },
  { desc: 'x32 bit with a trapped number', nr: __X32_SYSCALL_BIT | nrOf('openat'), want: ENOSYS },
  { desc: 'nr -1', nr: -1, want: ENOSYS },
  { desc: 'unknown number 1000', nr: 1000, want: ENOSYS },
  { desc: 'unassigned 400 (the 387-423 hole)', nr: 400, want: ENOSYS },
  { desc: 'unassigned 337, right after the 0-336 run', nr: 337, want: ENOSYS },
  { desc: 'unassigned 472, after the newest', nr: 472, want: ENOSYS },
  { desc: 'largest non-x32 number', nr: __X32_SYSCALL_BIT - 1, want: ENOSYS },
  { desc: 'read passes through', nr: 0, want: ALLOW },
  { desc: 'write passes through', nr: 1, want: ALLOW },
  { desc: 'futex passes through', nr: nrOf('futex'), want: ALLOW },
  { desc: 'getcwd passes through (the kernel cwd is in the sandbox root)', nr: nrOf('getcwd'), want: ALLOW },
  { desc: 'rseq_slice_yield (471) passes through', nr: 471, want: ALLOW },
  { desc: 'openat is trapped', nr: nrOf('openat'), args: [-100, 0x7ffc0000], want: NOTIFY },
  { desc: 'uname is trapped', nr: nrOf('uname'), want: NOTIFY },
  { desc: 'execve is trapped', nr: nrOf('execve'), want: NOTIFY },
  { desc: 'sendmsg is trapped (msg_name is in memory)', nr: nrOf('sendmsg'), want: NOTIFY },
  { desc: 'file_setattr (469) is trapped', nr: 469, want: NOTIFY },
  { desc: 'bpf is EPERM', nr: nrOf('bpf'), want: EPERM },
  { desc: 'ptrace is EPERM', nr: nrOf('ptrace'), want: EPERM },
  { desc: 'open_by_handle_at is EPERM', nr: nrOf('open_by_handle_at'), want: EPERM },
  { desc: 'io_uring_setup is ENOSYS', nr: nrOf('io_uring_setup'), want: ENOSYS },
  { desc: 'clone3 is ENOSYS (glibc falls back to clone)', nr: nrOf('clone3'), want: ENOSYS },
  { desc: 'clone with CLONE_NEWUSER', nr: nrOf('clone'), args: [CLONE_NEWUSER | SIGCHLD], want: EPERM },
  { desc: 'clone with CLONE_NEWNS', nr: nrOf('clone'), args: [0x20000 | SIGCHLD], want: EPERM },
  { desc: 'clone with CLONE_NEWNET and garbage high bits', nr: nrOf('clone'), args: [0xffff000040000000n], want: EPERM },
  { desc: 'clone with thread flags', nr: nrOf('clone'), args: [CLONE_THREAD_FLAGS, 0x7f0000001000n], want: ALLOW },
  { desc: 'clone as fork (SIGCHLD|CHILD_SETTID|CHILD_CLEARTID)', nr: nrOf('clone'), args: [0x01200011], want: ALLOW },
  { desc: 'clone flags with garbage only in the high half', nr: nrOf('clone'), args: [0xffffffff00000011n], want: ALLOW },
  { desc: 'ioctl TCGETS', nr: nrOf('ioctl'), args: [0, TCGETS], want: ALLOW },
  { desc: 'ioctl TIOCGWINSZ', nr: nrOf('ioctl'), args: [1, 0x5413], want: ALLOW },
  { desc: 'ioctl TIOCGPTN (bit 31 set in the request)', nr: nrOf('ioctl'), args: [3, 0x80045430], want: ALLOW },
  { desc: 'ioctl TIOCSTI is trapped (terminal input injection)', nr: nrOf('ioctl'), args: [0, TIOCSTI], want: NOTIFY },
  { desc: 'ioctl FS_IOC_SETFLAGS is trapped', nr: nrOf('ioctl'), args: [3, 0x40086602], want: NOTIFY },
  { desc: 'ioctl TCGETS with garbage high bits (the kernel reads cmd as 32-bit)', nr: nrOf('ioctl'), args: [0, 0xdeadbeef00005401n], want: ALLOW },
  { desc: 'ioctl between two listed requests', nr: nrOf('ioctl'), args: [0, TCGETS + 0x100], want: NOTIFY },
  { desc: 'sendto with dest_addr NULL', nr: nrOf('sendto'), args: [3, 0x1000, 10, 0, 0, 0], want: ALLOW },
  { desc: 'sendto with a dest_addr', nr: nrOf('sendto'), args: [3, 0x1000, 10, 0, 0x7ffc1000, 16], want: NOTIFY },
  { desc: 'sendto dest_addr low half zero, high half set', nr: nrOf('sendto'), args: [3, 0x1000, 10, 0, 0x100000000n, 16], want: NOTIFY },
  { desc: 'personality query 0xffffffff', nr: nrOf('personality'), args: [0xffffffff], want: ALLOW },
  { desc: 'personality PER_LINUX', nr: nrOf('personality'), args: [0], want: ALLOW },
  { desc: 'personality PER_LINUX32|UNAME26', nr: nrOf('personality'), args: [0x20008], want: ALLOW },
  { desc: 'personality ADDR_NO_RANDOMIZE', nr: nrOf('personality'), args: [0x0040000], want: EPERM },
];

describe('compiled policy in the interpreter', () => {
  it.each(rows)('$desc', ({ nr, arch, args, want }) => {
    expect(decide(nr, args ?? [], arch)).toBe(formatAction(want));
    if (arch === undefined) expect(formatAction(classify(table, nr, args ?? []))).toBe(formatAction(want));
  });

  it('agrees with classify() for every nr 0..520, zero and all-ones args', () => {
    for (let nr = 0; nr <= 520; nr++) {
      for (const args of [[], ONES]) {
        expect(decide(nr, args), `nr ${nr}`).toBe(formatAction(classify(table, nr, args)));
      }
    }
  });

  it('agrees with classify() on every rule value and its neighbours', () => {
    for (const e of table.filter((x) => x.rules)) {
      for (const r of e.rules!) {
        const probes = [...(r.values ?? []), r.value ?? 0].flatMap((v) => [v - 1, v, v + 1, v | 0x80000000]);
        for (const v of probes) {
          for (const high of [0n, 0xdead0000n << 32n]) {
            const args = Array<bigint>(6).fill(0n);
            args[r.arg] = high | BigInt(v >>> 0);
            expect(decide(e.nr, args), `${e.name} arg ${r.arg} = 0x${args[r.arg]!.toString(16)}`)
              .toBe(formatAction(classify(table, e.nr, args)));
          }
        }
      }
    }
  });

  it('is short, and logarithmic in the number of runs it searches', () => {
    const insns = compileInstructions(table);
    const runs = segments(table).length;
    const steps = (nr: number, args: bigint[]): number => run(prog, { nr, arch: AUDIT_ARCH_X86_64, args }).steps;
    const nrs = [...Array(521).keys()];
    const maxSteps = Math.max(...nrs.flatMap((nr) => [steps(nr, []), steps(nr, ONES)]));
    // Without rules: 4 prologue instructions, at most 2 per tree level (JGE, JA), one RET.
    const plain = nrs.filter((nr) => !table.byNr.get(nr)?.rules);
    const maxPlain = Math.max(...plain.map((nr) => steps(nr, [])));
    expect(insns.length).toBeLessThan(BPF_MAXINSNS);
    expect(maxPlain).toBeLessThanOrEqual(4 + 2 * Math.ceil(Math.log2(runs)) + 1);
    expect(maxSteps).toBeLessThan(40);
    console.info(`seccomp program: ${insns.length} instructions, ${runs} runs, at most ${maxSteps} executed (${maxPlain} without rules)`);
  });

  it('starts with the arch check, then the x32 check', () => {
    const insns = decode(prog);
    expect(insns.slice(0, 6)).toEqual([
      stmt(OPCODES.LD_ABS, 4),
      jump(OPCODES.JEQ, AUDIT_ARCH_X86_64, 1, 0),
      stmt(OPCODES.RET, SECCOMP_RET_KILL_PROCESS),
      stmt(OPCODES.LD_ABS, 0),
      jump(OPCODES.JGE, __X32_SYSCALL_BIT, 0, 1),
      stmt(OPCODES.RET, SECCOMP_RET_ERRNO | ERRNO.ENOSYS),
    ]);
  });
});

describe('bpf helpers', () => {
  it('encodes struct sock_filter little-endian, 8 bytes each', () => {
    const buf = encode([jump(OPCODES.JEQ, 0xc000003e, 1, 2)]);
    expect([...buf]).toEqual([0x15, 0x00, 1, 2, 0x3e, 0x00, 0x00, 0xc0]);
    expect(decode(buf)).toEqual([jump(OPCODES.JEQ, 0xc000003e, 1, 2)]);
  });

  it('round-trips actions through SECCOMP_RET_* values', () => {
    expect(encodeAction(NOTIFY)).toBe(SECCOMP_RET_USER_NOTIF);
    expect(encodeAction(ALLOW)).toBe(SECCOMP_RET_ALLOW);
    expect(encodeAction(KILL)).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(encodeAction(EPERM)).toBe(0x00050001);
    for (const a of [NOTIFY, ALLOW, KILL, EPERM, ENOSYS]) expect(decodeAction(encodeAction(a))).toEqual(a);
  });

  it('rejects programs the kernel would reject', () => {
    const ret = stmt(OPCODES.RET, SECCOMP_RET_ALLOW);
    expect(() => checkProgram([])).toThrow(/instructions/);
    expect(() => checkProgram([stmt(OPCODES.LD_ABS, 64), ret])).toThrow(/outside struct seccomp_data/);
    expect(() => checkProgram([stmt(OPCODES.LD_ABS, 2), ret])).toThrow(/outside struct seccomp_data/);
    expect(() => checkProgram([jump(OPCODES.JEQ, 0, 0, 1), ret])).toThrow(/out of range/);
    expect(() => checkProgram([stmt(OPCODES.JA, 1), ret])).toThrow(/out of range/);
    expect(() => checkProgram([stmt(OPCODES.LD_ABS, 0)])).toThrow(/last instruction/);
    expect(() => checkProgram([stmt(0x07, 0), ret])).toThrow(/opcode/);
  });
});

// ---- a real seccomp filter -------------------------------------------------------------

const PROBE_SRC = fileURLToPath(new URL('../programs/seccomp_probe.c', import.meta.url));
const MARKER = 200; // the probe's supervisor answers every notification with this errno
const SIGSYS = 31;

const skipReason = skipBecause('seccomp.test.ts (real seccomp)', seccompProbeUnavailable());

interface CallResult {
  label: string;
  ret: number;
  errno: number;
}

interface ProbeRun {
  pid: number;
  calls: CallResult[];
  notified: number[];
  signal?: number;
  exit?: number;
}

describe.skipIf(skipReason !== undefined)('real seccomp', () => {
  let dir = '';
  let probe = '';
  let filter = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsvisor-seccomp-'));
    probe = join(dir, 'seccomp_probe');
    filter = join(dir, 'filter.bpf');
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', probe, PROBE_SRC], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    writeFileSync(filter, prog);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runProbe(calls: string[]): ProbeRun {
    const r = spawnSync(probe, [filter, ...calls], { encoding: 'utf8', timeout: 20_000, cwd: dir });
    expect(r.error, 'probe did not finish (a trapped call nobody answered?)').toBeUndefined();
    expect(r.stderr).toBe('');
    const out: ProbeRun = { pid: 0, calls: [], notified: [] };
    for (const line of r.stdout.trim().split('\n')) {
      let m: RegExpMatchArray | null;
      if ((m = line.match(/^probe pid=(\d+)$/))) out.pid = Number(m[1]);
      else if ((m = line.match(/^notif nr=(\d+)$/))) out.notified.push(Number(m[1]));
      else if ((m = line.match(/^(\S+) ret=(-?\d+) errno=(\d+)$/))) out.calls.push({ label: m[1]!, ret: Number(m[2]), errno: Number(m[3]) });
      else if ((m = line.match(/^signal=(\d+)$/))) out.signal = Number(m[1]);
      else if ((m = line.match(/^exit=(\d+)$/))) out.exit = Number(m[1]);
      else throw new Error(`unexpected probe output: ${line}`);
    }
    return out;
  }

  it('lets passthrough calls run on the host kernel', () => {
    const r = runProbe([`${nrOf('getppid')}`, `${nrOf('write')}:1:buf:0`, `${nrOf('getpid')}`]);
    expect(r.exit).toBe(0);
    expect(r.calls[0]).toEqual({ label: `${nrOf('getppid')}`, ret: r.pid, errno: 0 });
    expect(r.calls[1]).toMatchObject({ ret: 0, errno: 0 });
    expect(r.calls[2]!.ret).toBeGreaterThan(0);
    expect(r.calls[2]!.ret).not.toBe(r.pid);
    expect(r.notified).toEqual([]);
  });

  it('sends trapped calls to the supervisor', () => {
    const r = runProbe([`${nrOf('uname')}:buf`, `${nrOf('openat')}:-100:path:0`, `${nrOf('ioctl')}:0:${TIOCSTI}:buf`]);
    expect(r.calls.map((c) => c.errno)).toEqual([MARKER, MARKER, MARKER]);
    expect(r.notified).toEqual([nrOf('uname'), nrOf('openat'), nrOf('ioctl')]);
  });

  it('answers denied calls with their errno, and x32 with ENOSYS', () => {
    const calls = ['bpf', 'io_uring_setup', 'ptrace', 'open_by_handle_at'].map((n) => `${nrOf(n)}`);
    const r = runProbe([...calls, `x32:${nrOf('getpid')}`, `${nrOf('personality')}:0x40000`]);
    expect(r.calls.map((c) => [c.label, c.ret, c.errno])).toEqual([
      [`${nrOf('bpf')}`, -1, ERRNO.EPERM],
      [`${nrOf('io_uring_setup')}`, -1, ERRNO.ENOSYS],
      [`${nrOf('ptrace')}`, -1, ERRNO.EPERM],
      [`${nrOf('open_by_handle_at')}`, -1, ERRNO.EPERM],
      [`x32:${nrOf('getpid')}`, -1, ERRNO.ENOSYS],
      [`${nrOf('personality')}`, -1, ERRNO.EPERM],
    ]);
    expect(r.notified).toEqual([]);
  });

  it('decides argument rules in the kernel as in the interpreter', () => {
    const ENOTTY = 25;
    const EBADF = 9;
    const r = runProbe([
      `${nrOf('ioctl')}:1:0xdeadbeef00005401:buf`, // TCGETS reaches the kernel: stdout is no tty
      `${nrOf('sendto')}:-1:buf:0:0:0:0`, // dest NULL reaches the kernel: fd -1
      `${nrOf('sendto')}:-1:buf:0:0:0x100000000:16`, // high-half dest is trapped
      `${nrOf('personality')}:0xffffffff`, // query passes
      `${nrOf('clone')}:${CLONE_NEWUSER | SIGCHLD}`, // last: had it passed, two processes would print
    ]);
    expect(r.calls.map((c) => c.errno)).toEqual([ENOTTY, EBADF, MARKER, 0, ERRNO.EPERM]);
    expect(r.calls[3]!.ret).toBeGreaterThanOrEqual(0);
    expect(r.notified).toEqual([nrOf('sendto')]);
  });

  it('kills the process on the i386 entry (int $0x80) with SIGSYS', () => {
    const r = runProbe(['int80:20', `${nrOf('getpid')}`]);
    expect(r.signal).toBe(SIGSYS);
    expect(r.calls).toEqual([]);
  });

  it('answers every denied entry with the errno the table names', () => {
    const denied = table.filter((e) => e.class === 'denied');
    const r = runProbe(denied.map((e) => `${e.nr}`));
    expect(r.exit).toBe(0);
    expect(r.notified).toEqual([]);
    const got = r.calls.map((c) => `${c.label} errno=${c.errno}`);
    const want = denied.map((e) => {
      const a = classify(table, e.nr, []); // personality(0) is PER_LINUX: a rule lets it pass
      return `${e.nr} errno=${a.kind === 'errno' ? a.errno : 0}`;
    });
    expect(got).toEqual(want);
  });

  it('notifies every trapped entry that no rule lets through', () => {
    const trapped = table.filter((e) => e.class === 'trapped' && classify(table, e.nr, []).kind === 'notify');
    const r = runProbe(trapped.map((e) => `${e.nr}`));
    expect(r.exit).toBe(0);
    expect(r.notified).toEqual(trapped.map((e) => e.nr));
    expect(r.calls.every((c) => c.errno === MARKER)).toBe(true);
  });
});
