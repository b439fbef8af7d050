// Compiles the syscall table into the seccomp program the launcher installs, and keeps the
// two references the tests hold it to: classify() (what the table says) and interpret()
// (what the program does). Shape, as in gVisor's builder: arch first, then x32, then a
// balanced jump tree over runs of numbers that share a decision, each leaf a RET or the
// entry's argument rules followed by its default.

import {
  AUDIT_ARCH_X86_64, OPCODES, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_USER_NOTIF, SIZEOF_SECCOMP_DATA, __X32_SYSCALL_BIT, argHigh, argLow, checkProgram,
  decode, encode, jump, stmt, type SockFilter,
} from './bpf.js';
import { ERRNO, type ErrnoName, type SyscallClass, type SyscallRule, type SyscallTable } from './table.js';

/** What the kernel does with a call: the decoded form of a SECCOMP_RET_* value. */
export type Action =
  | { kind: 'notify' }
  | { kind: 'allow' }
  | { kind: 'errno'; errno: number }
  | { kind: 'kill' }
  | { kind: 'other'; ret: number };

export const NOTIFY: Action = { kind: 'notify' };
export const ALLOW: Action = { kind: 'allow' };
export const KILL: Action = { kind: 'kill' };
export const errnoAction = (errno: number): Action => ({ kind: 'errno', errno });
const ENOSYS = errnoAction(ERRNO.ENOSYS);

/** The input of a seccomp program, as struct seccomp_data carries it. */
export interface SeccompData {
  nr: number;
  arch: number;
  args?: readonly (bigint | number)[];
}

export function actionFor(cls: SyscallClass, errno?: ErrnoName): Action {
  if (cls === 'trapped') return NOTIFY;
  if (cls === 'passthrough') return ALLOW;
  return errnoAction(ERRNO[errno ?? 'EPERM']);
}

export function encodeAction(a: Action): number {
  switch (a.kind) {
    case 'notify': return SECCOMP_RET_USER_NOTIF;
    case 'allow': return SECCOMP_RET_ALLOW;
    case 'errno': return (SECCOMP_RET_ERRNO | (a.errno & SECCOMP_RET_DATA)) >>> 0;
    case 'kill': return SECCOMP_RET_KILL_PROCESS;
    case 'other': return a.ret >>> 0;
  }
}

export function decodeAction(ret: number): Action {
  switch ((ret & SECCOMP_RET_ACTION_FULL) >>> 0) {
    case SECCOMP_RET_USER_NOTIF: return NOTIFY;
    case SECCOMP_RET_ALLOW: return ALLOW;
    case SECCOMP_RET_ERRNO: return errnoAction(ret & SECCOMP_RET_DATA);
    case SECCOMP_RET_KILL_PROCESS: return KILL;
    default: return { kind: 'other', ret: ret >>> 0 };
  }
}

export function formatAction(a: Action): string {
  if (a.kind === 'errno') {
    const name = Object.entries(ERRNO).find(([, n]) => n === a.errno)?.[0];
    return `errno(${name ?? a.errno})`;
  }
  return a.kind === 'other' ? `ret(0x${a.ret.toString(16)})` : a.kind;
}

// ---- the reference: what the table says ------------------------------------------

const u64 = (v: bigint | number | undefined): bigint => BigInt.asUintN(64, BigInt(v ?? 0));

/** Rules compare the low 32 bits (dword) except isZero, which needs both halves zero. */
export function ruleMatches(rule: SyscallRule, arg: bigint | number | undefined): boolean {
  const full = u64(arg);
  const low = Number(full & 0xffffffffn);
  switch (rule.op) {
    case 'in': return rule.values!.includes(low);
    case 'anyBits': return (low & rule.value!) !== 0;
    case 'noBits': return (low & rule.value!) === 0;
    case 'isZero': return full === 0n;
  }
}

/** The decision the table states for an x86_64 call (the arch check is the program's). */
export function classify(table: SyscallTable, nr: number, args: readonly (bigint | number)[] = []): Action {
  if (nr < 0 || nr >= __X32_SYSCALL_BIT) return ENOSYS;
  const e = table.byNr.get(nr);
  if (!e) return ENOSYS;
  const rule = e.rules?.find((r) => ruleMatches(r, args[r.arg]));
  return rule ? actionFor(rule.class, rule.errno) : actionFor(e.class, e.errno);
}

// ---- the compiler -----------------------------------------------------------------

export interface LeafRule {
  arg: number;
  op: SyscallRule['op'];
  value?: number;
  values?: number[];
  ret: number;
}

/** What a run of numbers compiles to: rules tried in order, then a default RET. */
export interface Leaf {
  rules: LeafRule[];
  ret: number;
}

/** A run [lo, hi] of syscall numbers that compile to the same leaf. */
export interface Segment {
  lo: number;
  hi: number;
  leaf: Leaf;
  key: string;
}

/** Numbers the table does not know. */
const UNKNOWN: Leaf = { rules: [], ret: encodeAction(ENOSYS) };

function leafOf(table: SyscallTable, nr: number): Leaf {
  const e = table.byNr.get(nr);
  if (!e) return UNKNOWN;
  const rules = (e.rules ?? []).map((r) => ({
    arg: r.arg, op: r.op, value: r.value, values: r.values, ret: encodeAction(actionFor(r.class, r.errno)),
  }));
  return { rules, ret: encodeAction(actionFor(e.class, e.errno)) };
}

/**
 * Runs of consecutive numbers with the same leaf, covering [0, __X32_SYSCALL_BIT) with
 * no holes: numbers the table does not know join the ENOSYS run around them.
 */
export function segments(table: SyscallTable): Segment[] {
  const out: Segment[] = [];
  const push = (lo: number, hi: number, leaf: Leaf): void => {
    const key = JSON.stringify(leaf);
    const last = out[out.length - 1];
    if (last && last.key === key && last.hi + 1 === lo) last.hi = hi;
    else out.push({ lo, hi, leaf, key });
  };
  let next = 0;
  for (const e of table) {
    if (e.nr > next) push(next, e.nr - 1, UNKNOWN);
    push(e.nr, e.nr, leafOf(table, e.nr));
    next = e.nr + 1;
  }
  if (next < __X32_SYSCALL_BIT) push(next, __X32_SYSCALL_BIT - 1, UNKNOWN);
  return out;
}

const ld = (offset: number): SockFilter => stmt(OPCODES.LD_ABS, offset);
const ret = (k: number): SockFilter => stmt(OPCODES.RET, k);

/** One rule: load the argument, fall through to the next rule unless it matches. */
function emitRule(r: LeafRule): SockFilter[] {
  switch (r.op) {
    case 'in':
      return [ld(argLow(r.arg)), ...emitIn(r.values!), ret(r.ret)];
    case 'anyBits':
      return [ld(argLow(r.arg)), jump(OPCODES.JSET, r.value!, 0, 1), ret(r.ret)];
    case 'noBits':
      return [ld(argLow(r.arg)), jump(OPCODES.JSET, r.value!, 1, 0), ret(r.ret)];
    case 'isZero':
      // A full 64-bit NULL: a pointer with garbage in one half is not NULL to the kernel.
      return [ld(argLow(r.arg)), jump(OPCODES.JEQ, 0, 0, 3), ld(argHigh(r.arg)), jump(OPCODES.JEQ, 0, 0, 1), ret(r.ret)];
  }
}

/**
 * A binary search over the values (ioctl has 28: a linear chain would cost 28 steps per
 * call), ending in a JEQ per value whose true branch reaches the RET that follows the
 * block and whose false branch skips it. The table caps `in` at 64 values, which keeps
 * every such offset under the 8-bit limit of a conditional jump.
 */
function emitIn(values: readonly number[]): SockFilter[] {
  const sorted = [...new Set(values)].sort((x, y) => x - y);
  const block: SockFilter[] = [];
  const leaves: number[] = [];
  emitSearch(sorted, (v) => v, (v, out) => {
    leaves.push(out.length);
    out.push(jump(OPCODES.JEQ, v, 0, 0));
  }, block);
  for (const pc of leaves) {
    const toRet = block.length - pc - 1;
    if (toRet + 1 > 255) throw new Error(`bpf compiler: \`in\` list of ${sorted.length} values is too long for 8-bit jumps`);
    block[pc] = { ...block[pc]!, jt: toRet, jf: toRet + 1 };
  }
  return block;
}

function emitLeaf(leaf: Leaf, out: SockFilter[]): void {
  for (const r of leaf.rules) out.push(...emitRule(r));
  out.push(ret(leaf.ret));
}

/**
 * A balanced binary search with the value in A, over items sorted by their lowest value.
 * Conditional jumps only skip one instruction (their 8-bit offsets cannot reach a far
 * subtree); the far branch is a BPF_JA, whose offset is 32 bits:
 * `JGE pivot, 0, 1; JA right; left…; right…`.
 */
export function emitSearch<T>(items: readonly T[], lo: (t: T) => number, leaf: (t: T, out: SockFilter[]) => void, out: SockFilter[]): void {
  if (items.length === 1) {
    leaf(items[0]!, out);
    return;
  }
  const mid = items.length >> 1;
  out.push(jump(OPCODES.JGE, lo(items[mid]!), 0, 1));
  const ja = out.length;
  out.push(stmt(OPCODES.JA, 0));
  emitSearch(items.slice(0, mid), lo, leaf, out);
  out[ja] = stmt(OPCODES.JA, out.length - ja - 1);
  emitSearch(items.slice(mid), lo, leaf, out);
}

/** The program as instructions (see compilePolicy). */
export function compileInstructions(table: SyscallTable): SockFilter[] {
  const out: SockFilter[] = [
    // A foreign arch means other syscall numbers (int $0x80 is i386): never guess.
    ld(SECCOMP_DATA_ARCH),
    jump(OPCODES.JEQ, AUDIT_ARCH_X86_64, 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    // x32 shares AUDIT_ARCH_X86_64 and is told apart only by bit 30 of nr.
    ld(SECCOMP_DATA_NR),
    jump(OPCODES.JGE, __X32_SYSCALL_BIT, 0, 1),
    ret(encodeAction(ENOSYS)),
  ];
  emitSearch(segments(table), (s) => s.lo, (s, o) => emitLeaf(s.leaf, o), out);
  checkProgram(out);
  return out;
}

/** The seccomp program for the table: struct sock_filter[], little-endian. */
export function compilePolicy(table: SyscallTable): Buffer {
  return encode(compileInstructions(table));
}

// ---- the interpreter ----------------------------------------------------------------

/** struct seccomp_data for the interpreter (instruction_pointer is 0). */
export function seccompData(d: SeccompData): Buffer {
  const buf = Buffer.alloc(SIZEOF_SECCOMP_DATA);
  buf.writeUInt32LE(d.nr >>> 0, SECCOMP_DATA_NR);
  buf.writeUInt32LE(d.arch >>> 0, SECCOMP_DATA_ARCH);
  for (let i = 0; i < 6; i++) buf.writeBigUInt64LE(u64(d.args?.[i]), argLow(i));
  return buf;
}

export interface RunResult {
  ret: number;
  /** Instructions executed, the cost of the call in the kernel. */
  steps: number;
}

/** Classic BPF, only the opcodes the compiler emits; anything else throws. */
export function run(prog: Buffer | readonly SockFilter[], data: SeccompData): RunResult {
  const insns = Buffer.isBuffer(prog) ? decode(prog) : prog;
  const mem = seccompData(data);
  let a = 0;
  let pc = 0;
  for (let steps = 1; pc < insns.length; steps++) {
    const { code, jt, jf, k } = insns[pc]!;
    switch (code) {
      case OPCODES.LD_ABS: a = mem.readUInt32LE(k); pc += 1; break;
      case OPCODES.JA: pc += 1 + k; break;
      case OPCODES.JEQ: pc += 1 + (a === k ? jt : jf); break;
      case OPCODES.JGT: pc += 1 + (a > k ? jt : jf); break;
      case OPCODES.JGE: pc += 1 + (a >= k ? jt : jf); break;
      case OPCODES.JSET: pc += 1 + ((a & k) !== 0 ? jt : jf); break;
      case OPCODES.RET: return { ret: k >>> 0, steps };
      default: throw new Error(`bpf interpreter: unsupported opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('bpf interpreter: fell off the end of the program');
}

/** The SECCOMP_RET_* value the program returns for `data`. */
export function interpret(prog: Buffer | readonly SockFilter[], data: SeccompData): number {
  return run(prog, data).ret;
}
