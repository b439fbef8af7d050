// A config's linux.seccomp (runtime-spec LinuxSeccomp; Docker sends its default profile in
// every container) compiled to the classic-BPF program the launcher installs as a filter
// of its own, stacked with tsvisor's. The kernel answers with the most restrictive action
// of all filters, so this one can only take away: its ERRNO or KILL beats our USER_NOTIF,
// and its ALLOW leaves the call to our policy.
//
// The meaning is runc's (libcontainer/seccomp over libseccomp), so that a profile behaves
// here as it does there:
// - names the syscall table does not know are skipped (Docker names i386 and arm calls);
// - a rule whose action equals the default action is dropped, as runc does before libseccomp;
// - an unconditional rule decides its syscall outright, the first one winning, and the
//   syscall's conditional rules are then ignored (libseccomp's rule merging);
// - a rule's arg conditions are ANDed, except that when two of them test the same argument
//   runc adds each condition as a rule of its own, so they are ORed;
// - several conditional rules for one syscall are ORed; where rules with different actions
//   both match, the most restrictive action wins (libseccomp leaves that order undefined);
// - arguments are compared as unsigned 64-bit values;
// - runc's -ENOSYS stub: numbers above the largest one the profile names answer ENOSYS,
//   unless the default action lets calls through or already is ENOSYS, so that a program
//   probing a syscall newer than the profile falls back instead of failing with EPERM.
// Foreign architectures and x32 numbers get the default action: tsvisor's own filter
// kills the first and answers ENOSYS to the second anyway.

import {
  AUDIT_ARCH_X86_64, BPF_MAXINSNS, OPCODES, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW, SECCOMP_RET_DATA, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRAP, __X32_SYSCALL_BIT, argHigh, argLow, checkProgram, encode,
  jump, stmt, type SockFilter,
} from '../seccomp/bpf.js';
import { emitSearch } from '../seccomp/compile.js';
import { ERRNO, loadTable } from '../seccomp/table.js';

export type OciSeccompAction =
  | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG' | 'SCMP_ACT_NOTIFY';

export type OciSeccompOperator =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  /** uint64; a bigint when the config was parsed without losing the bits above 2^53. */
  value: number | bigint;
  /** MASKED_EQ: the expected (arg & value); 0 when absent. */
  valueTwo?: number | bigint;
  op: OciSeccompOperator;
}

export interface OciSeccompSyscall {
  names: string[];
  action: OciSeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

/** runtime-spec LinuxSeccomp, as validated by the config schema. */
export interface OciSeccomp {
  defaultAction: OciSeccompAction;
  defaultErrnoRet?: number;
  /** Not compiled: only x86_64 is filtered; other arches get the default action. */
  architectures?: string[];
  /** Install-time flags: the launcher's business, not the program's. */
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSeccompSyscall[];
}

const WHERE = 'linux.seccomp';
const U64_MAX = 0xffffffffffffffffn;

/** The SECCOMP_RET_* value of an action; the errno (ERRNO, TRACE) defaults to EPERM as in runc. */
function actionRet(action: OciSeccompAction, errnoRet: number | undefined, where: string): number {
  const data = (): number => {
    const errno = errnoRet ?? ERRNO.EPERM;
    if (errno > SECCOMP_RET_DATA) throw new Error(`${where}: errno ${errno} does not fit the 16 bits of SECCOMP_RET_DATA`);
    return errno;
  };
  switch (action) {
    case 'SCMP_ACT_ALLOW': return SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_ERRNO': return (SECCOMP_RET_ERRNO | data()) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return SECCOMP_RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return SECCOMP_RET_TRAP;
    case 'SCMP_ACT_TRACE': return (SECCOMP_RET_TRACE | data()) >>> 0;
    case 'SCMP_ACT_LOG': return SECCOMP_RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      // The one listener a filter stack may have belongs to tsvisor's sentry.
      throw new Error(`${where}: SCMP_ACT_NOTIFY is not supported`);
  }
}

/** The kernel's order between actions (ACTION_ONLY as s32): lower is more restrictive. */
const precedence = (ret: number): number => (ret & SECCOMP_RET_ACTION_FULL) | 0;

function u64(v: number | bigint, where: string): bigint {
  // JSON.parse rounds integers above 2^53: such a value is not the one the config meant.
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`${where}: ${v} is not an exact integer (above 2^53?)`);
  const big = BigInt(v);
  if (big < 0n || big > U64_MAX) throw new Error(`${where}: ${v} is not an unsigned 64-bit value`);
  return big;
}

interface Condition {
  index: number;
  op: OciSeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

/** Conditions as their code's steps, all of which must hold for the rule to answer RET. */
interface Rule {
  conditions: Step[][];
  ret: number;
}

/** What one syscall compiles to: an unconditional action, or rules then the default. */
interface SyscallPlan {
  unconditional?: number;
  rules: Rule[];
}

/** The condition sets one profile entry adds, split as runc splits repeated arguments. */
function conditionSets(args: readonly OciSeccompArg[], where: string): Condition[][] {
  const conditions = args.map((a, j) => ({
    index: a.index,
    op: a.op,
    value: u64(a.value, `${where}.args[${j}].value`),
    valueTwo: u64(a.valueTwo ?? 0, `${where}.args[${j}].valueTwo`),
  }));
  const repeated = new Set(conditions.map((c) => c.index)).size < conditions.length;
  return repeated ? conditions.map((c) => [c]) : [conditions];
}

// ---- code generation -------------------------------------------------------------------

/** Where a test goes: the next instruction, past the condition (it holds), or to its failure. */
type Branch = 'next' | 'pass' | 'fail';
type Step = { load: number } | { code: number; k: number; ifTrue: Branch; ifFalse: Branch };

const ld = (offset: number): SockFilter => stmt(OPCODES.LD_ABS, offset);
const ret = (k: number): SockFilter => stmt(OPCODES.RET, k);
const test = (code: number, k: number, ifTrue: Branch, ifFalse: Branch): Step => ({ code, k, ifTrue, ifFalse });
const high = (v: bigint): number => Number(v >> 32n);
const low = (v: bigint): number => Number(v & 0xffffffffn);

/** The bits of a 32-bit mask, one value each. */
const bitsOf = (mask: number): number[] => [...Array(32).keys()].map((b) => 2 ** b).filter((bit) => (mask & bit) >>> 0 !== 0);

/**
 * MASKED_EQ without ALU instructions (the checker and interpreter know only loads, jumps
 * and returns): per half, one JSET that no bit expected clear is set, one per bit expected
 * set. Null when it never holds (expected bits outside the mask); empty when it always does.
 */
function maskedEqSteps(index: number, mask: bigint, expected: bigint): Step[] | null {
  if ((expected & ~mask) !== 0n) return null;
  const halves: [number, number, number][] = [
    [argHigh(index), high(mask), high(expected)],
    [argLow(index), low(mask), low(expected)],
  ];
  const steps: Step[] = [];
  for (const [offset, m, e] of halves) {
    if (m === 0) continue;
    steps.push({ load: offset });
    const clear = (m & ~e) >>> 0;
    if (clear !== 0) steps.push(test(OPCODES.JSET, clear, 'fail', 'next'));
    for (const bit of bitsOf(e)) steps.push(test(OPCODES.JSET, bit, 'next', 'fail'));
  }
  return steps;
}

/**
 * One condition as loads and tests, unsigned 64-bit: the high words decide unless they are
 * equal, then the low words do. Null when the condition can never hold.
 */
function conditionSteps(c: Condition): Step[] | null {
  const [hi, lo] = [high(c.value), low(c.value)];
  const loadHigh = { load: argHigh(c.index) };
  const loadLow = { load: argLow(c.index) };
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [loadHigh, test(OPCODES.JEQ, hi, 'next', 'fail'), loadLow, test(OPCODES.JEQ, lo, 'pass', 'fail')];
    case 'SCMP_CMP_NE':
      return [loadHigh, test(OPCODES.JEQ, hi, 'next', 'pass'), loadLow, test(OPCODES.JEQ, lo, 'fail', 'pass')];
    case 'SCMP_CMP_GT':
      return [loadHigh, test(OPCODES.JGT, hi, 'pass', 'next'), test(OPCODES.JEQ, hi, 'next', 'fail'), loadLow, test(OPCODES.JGT, lo, 'pass', 'fail')];
    case 'SCMP_CMP_GE':
      return [loadHigh, test(OPCODES.JGT, hi, 'pass', 'next'), test(OPCODES.JEQ, hi, 'next', 'fail'), loadLow, test(OPCODES.JGE, lo, 'pass', 'fail')];
    case 'SCMP_CMP_LT':
      return [loadHigh, test(OPCODES.JGT, hi, 'fail', 'next'), test(OPCODES.JEQ, hi, 'next', 'pass'), loadLow, test(OPCODES.JGE, lo, 'fail', 'pass')];
    case 'SCMP_CMP_LE':
      return [loadHigh, test(OPCODES.JGT, hi, 'fail', 'next'), test(OPCODES.JEQ, hi, 'next', 'pass'), loadLow, test(OPCODES.JGT, lo, 'fail', 'pass')];
    case 'SCMP_CMP_MASKED_EQ':
      return maskedEqSteps(c.index, c.value, c.valueTwo);
  }
}

/**
 * A condition's steps, then a BPF_JA to the rule's failure (the next rule), so that every
 * conditional jump stays inside the condition, well within its 8-bit reach. Returns the
 * JA's position for the caller to aim once the rule's end is known.
 */
function emitCondition(steps: readonly Step[], out: SockFilter[]): number {
  const start = out.length;
  const trampoline = start + steps.length;
  const offset = (pc: number, to: Branch): number => {
    if (to === 'fail') return trampoline - pc - 1;
    // Falling off the last test means every test held: skip the trampoline.
    return to === 'pass' || pc + 1 === trampoline ? trampoline - pc : 0;
  };
  steps.forEach((s, i) => {
    const pc = start + i;
    out.push('load' in s ? ld(s.load) : jump(s.code, s.k, offset(pc, s.ifTrue), offset(pc, s.ifFalse)));
  });
  out.push(stmt(OPCODES.JA, 0));
  return trampoline;
}

/** A rule: its conditions in turn, then its RET; any failing condition goes past the RET. */
function emitRule(rule: Rule, out: SockFilter[]): void {
  const trampolines = rule.conditions.map((steps) => emitCondition(steps, out));
  out.push(ret(rule.ret));
  for (const pc of trampolines) out[pc] = stmt(OPCODES.JA, out.length - pc - 1);
}

/** A syscall's code: position-independent, so that runs of equal code can share one copy. */
function syscallCode(plan: SyscallPlan, defaultRet: number): SockFilter[] {
  if (plan.unconditional !== undefined) return [ret(plan.unconditional)];
  const out: SockFilter[] = [];
  // Most restrictive first: the first rule that matches answers (a stable sort keeps ties in order).
  for (const rule of [...plan.rules].sort((a, b) => precedence(a.ret) - precedence(b.ret))) emitRule(rule, out);
  out.push(ret(defaultRet));
  return out;
}

/** A run [lo, hi] of syscall numbers that share their code. */
interface Run {
  lo: number;
  hi: number;
  code: SockFilter[];
  key: string;
}

function pushRun(runs: Run[], lo: number, hi: number, code: SockFilter[]): void {
  if (lo > hi) return;
  const key = encode(code).toString('hex');
  const last = runs[runs.length - 1];
  if (last && last.key === key && last.hi + 1 === lo) last.hi = hi;
  else runs.push({ lo, hi, code, key });
}

// ---- the profile -------------------------------------------------------------------------

/** The profile's per-syscall plans by number, and the largest number it names. */
function plan(profile: OciSeccomp, defaultRet: number): { plans: Map<number, SyscallPlan>; largestNamed?: number } {
  const table = loadTable();
  const plans = new Map<number, SyscallPlan>();
  let largestNamed: number | undefined;
  (profile.syscalls ?? []).forEach((entry, i) => {
    const where = `${WHERE}.syscalls[${i}]`;
    const entryRet = actionRet(entry.action, entry.errnoRet, `${where}.action`);
    // A rule with a condition that never holds never answers; one that always holds needs no code.
    const ruleConditions = conditionSets(entry.args ?? [], where)
      .map((set) => set.map(conditionSteps))
      .filter((set): set is Step[][] => set.every((steps) => steps !== null))
      .map((set) => set.filter((steps) => steps.length > 0));
    for (const name of entry.names) {
      const nr = table.byName.get(name)?.nr;
      if (nr === undefined) continue;
      largestNamed = Math.max(largestNamed ?? nr, nr);
      if (entryRet === defaultRet) continue;
      const p = plans.get(nr) ?? { rules: [] };
      plans.set(nr, p);
      if (entry.args === undefined || entry.args.length === 0) p.unconditional ??= entryRet;
      else for (const conditions of ruleConditions) p.rules.push({ conditions, ret: entryRet });
    }
  });
  return { plans, largestNamed };
}

/**
 * The program for linux.seccomp: struct sock_filter[], little-endian, 8 bytes each (the
 * format of tsvisor's own policy). Throws naming the field for what cannot be compiled.
 */
export function compileOciSeccomp(profile: OciSeccomp): Buffer {
  const defaultRet = actionRet(profile.defaultAction, profile.defaultErrnoRet, `${WHERE}.defaultAction`);
  const { plans, largestNamed } = plan(profile, defaultRet);
  // runc counts TRACE as letting calls through: a tracer handles new syscalls itself.
  const letsCallsThrough = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(profile.defaultAction);
  const enosysStub = largestNamed !== undefined && !letsCallsThrough && profile.defaultErrnoRet !== ERRNO.ENOSYS;

  const runs: Run[] = [];
  const byDefault = [ret(defaultRet)];
  let next = 0;
  for (const nr of [...plans.keys()].sort((a, b) => a - b)) {
    pushRun(runs, next, nr - 1, byDefault);
    pushRun(runs, nr, nr, syscallCode(plans.get(nr)!, defaultRet));
    next = nr + 1;
  }
  const stubFrom = enosysStub ? largestNamed + 1 : __X32_SYSCALL_BIT;
  pushRun(runs, next, stubFrom - 1, byDefault);
  pushRun(runs, stubFrom, __X32_SYSCALL_BIT - 1, [ret((SECCOMP_RET_ERRNO | ERRNO.ENOSYS) >>> 0)]);
  // x32 numbers, and negative ones as the kernel's u32 view of nr.
  pushRun(runs, __X32_SYSCALL_BIT, 0xffffffff, byDefault);

  const out: SockFilter[] = [
    ld(SECCOMP_DATA_ARCH),
    jump(OPCODES.JEQ, AUDIT_ARCH_X86_64, 1, 0),
    ret(defaultRet),
    ld(SECCOMP_DATA_NR),
  ];
  emitSearch(runs, (r) => r.lo, (r, o) => o.push(...r.code), out);
  if (out.length > BPF_MAXINSNS) {
    throw new Error(`${WHERE}: the profile compiles to ${out.length} BPF instructions, over the kernel's limit of ${BPF_MAXINSNS}`);
  }
  checkProgram(out);
  return encode(out);
}
