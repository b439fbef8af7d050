// The x86_64 syscall table and policy (syscalls/x86_64.json, format in syscalls/README.md):
// loaded once, checked field by field, and indexed by number and by name. The BPF
// compiler, the sentry's dispatch table and the strace decoders all read it from here.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

export type SyscallClass = 'trapped' | 'passthrough' | 'denied';
export type SyscallStatus = 'supported' | 'partial' | 'missing';
export type RuleOp = 'in' | 'anyBits' | 'noBits' | 'isZero';

/** An argument test BPF can decide; rules are tried in order before the entry's class. */
export interface SyscallRule {
  arg: number;
  op: RuleOp;
  /** anyBits / noBits: the mask (low 32 bits). */
  value?: number;
  /** in: the accepted values (low 32 bits). */
  values?: number[];
  class: SyscallClass;
  errno?: ErrnoName;
  why: string;
}

export interface SyscallEntry {
  nr: number;
  name: string;
  /** Argument kinds in order (strace decoding): fd, fd:dir, path, flags:open, out:stat, … */
  args: string[];
  class: SyscallClass;
  /** trapped only. */
  status?: SyscallStatus;
  /** partial only: what is missing. */
  note?: string;
  /** Required for passthrough and denied: why the class is safe / needed. */
  why?: string;
  /** denied only. */
  errno?: ErrnoName;
  rules?: SyscallRule[];
}

/** The entries in number order, with an index by number and one by name. */
export interface SyscallTable extends ReadonlyArray<SyscallEntry> {
  readonly byNr: ReadonlyMap<number, SyscallEntry>;
  readonly byName: ReadonlyMap<string, SyscallEntry>;
}

/** The errnos a policy may answer with (asm-generic/errno-base.h, errno.h). */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13,
  EFAULT: 14, EBUSY: 16, EEXIST: 17, ENOTDIR: 20, EINVAL: 22, ENOTTY: 25, EROFS: 30,
  ENOSYS: 38, EOPNOTSUPP: 95, EAFNOSUPPORT: 97,
} as const;
export type ErrnoName = keyof typeof ERRNO;

/** syscalls/ at the package root, from vitest (src/), tsc's dist/ and the bundle alike. */
export const TABLE_PATH = join(PACKAGE_ROOT, 'syscalls', 'x86_64.json');

let cached: SyscallTable | undefined;

/** The table, read and checked on first use. */
export function loadTable(): SyscallTable {
  cached ??= parseTable(JSON.parse(readFileSync(TABLE_PATH, 'utf8')) as unknown, TABLE_PATH);
  return cached;
}

export function byNr(nr: number): SyscallEntry | undefined {
  return loadTable().byNr.get(nr);
}

export function byName(name: string): SyscallEntry | undefined {
  return loadTable().byName.get(name);
}

/** Checks the shape of a parsed table and indexes it; throws naming the entry and field. */
export function parseTable(json: unknown, source = 'x86_64.json'): SyscallTable {
  if (!Array.isArray(json)) throw new Error(`${source}: expected an array of syscall entries`);
  const byNrMap = new Map<number, SyscallEntry>();
  const byNameMap = new Map<string, SyscallEntry>();
  json.forEach((raw: unknown, i) => {
    const e = checkEntry(raw, `${source}: entry ${i}`);
    const where = `${source}: \`${e.name}\``;
    if (byNrMap.has(e.nr)) throw new Error(`${where}: number ${e.nr} already used by \`${byNrMap.get(e.nr)!.name}\``);
    if (byNameMap.has(e.name)) throw new Error(`${where}: name used twice`);
    byNrMap.set(e.nr, e);
    byNameMap.set(e.name, e);
  });
  const entries = [...byNrMap.values()].sort((a, b) => a.nr - b.nr);
  return Object.assign(entries, { byNr: byNrMap as ReadonlyMap<number, SyscallEntry>, byName: byNameMap as ReadonlyMap<string, SyscallEntry> });
}

const ENTRY_KEYS = new Set(['nr', 'name', 'args', 'class', 'status', 'note', 'why', 'errno', 'rules']);
const RULE_KEYS = new Set(['arg', 'op', 'value', 'values', 'class', 'errno', 'why']);
const CLASSES: readonly string[] = ['trapped', 'passthrough', 'denied'];
const STATUSES: readonly string[] = ['supported', 'partial', 'missing'];
const OPS: readonly string[] = ['in', 'anyBits', 'noBits', 'isZero'];
const ARG_KIND = /^(fd|fd:dir|path|str|mode|int|uint|u64|size|off|pid|uid|gid|sig|ptr|argv|envp|(flags|in|out):[a-z0-9_]+)$/;
/** x32 numbers (bit 30) are rejected before the table is consulted. */
const MAX_NR = 0x40000000;

type Obj = Record<string, unknown>;

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

function asObject(raw: unknown, where: string, keys: Set<string>): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'expected an object');
  for (const k of Object.keys(raw)) if (!keys.has(k)) fail(where, `unknown field \`${k}\``);
  return raw as Obj;
}

const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** The fields every class shares: why for passthrough/denied, errno only and always for denied. */
function checkClass(o: Obj, where: string): void {
  if (!CLASSES.includes(o.class as string)) fail(where, `class must be one of ${CLASSES.join(', ')}`);
  if (o.why !== undefined && !isText(o.why)) fail(where, 'why must be a non-empty string');
  if (o.class !== 'trapped' && o.why === undefined) fail(where, `a ${String(o.class)} entry needs a why`);
  if (o.class === 'denied' && !(typeof o.errno === 'string' && o.errno in ERRNO)) {
    fail(where, `a denied entry needs an errno among ${Object.keys(ERRNO).join(', ')}`);
  }
  if (o.class !== 'denied' && o.errno !== undefined) fail(where, 'errno is for denied only');
}

function checkEntry(raw: unknown, at: string): SyscallEntry {
  const o = asObject(raw, at, ENTRY_KEYS);
  if (!(typeof o.name === 'string' && /^[a-z_][a-z0-9_]*$/.test(o.name))) fail(at, 'name must be a lowercase identifier');
  const where = `${at} (\`${o.name}\`)`;
  if (!(Number.isInteger(o.nr) && (o.nr as number) >= 0 && (o.nr as number) < MAX_NR)) fail(where, 'nr must be an integer in [0, 0x40000000)');
  if (!(Array.isArray(o.args) && o.args.length <= 6 && o.args.every((a) => typeof a === 'string' && ARG_KIND.test(a)))) {
    fail(where, 'args must be at most 6 kinds from syscalls/README.md');
  }
  checkClass(o, where);
  if (o.class === 'trapped' && !STATUSES.includes(o.status as string)) fail(where, `a trapped entry needs a status among ${STATUSES.join(', ')}`);
  if (o.class !== 'trapped' && o.status !== undefined) fail(where, 'status is for trapped only');
  if (o.status === 'partial' && !isText(o.note)) fail(where, 'a partial entry needs a note');
  if (o.note !== undefined && o.status !== 'partial') fail(where, 'note is for partial only');
  if (o.rules !== undefined) {
    if (!Array.isArray(o.rules) || o.rules.length === 0) fail(where, 'rules must be a non-empty array');
    o.rules.forEach((r: unknown, i) => checkRule(r, `${where} rule ${i}`, (o.args as string[]).length));
  }
  return o as unknown as SyscallEntry;
}

function checkRule(raw: unknown, where: string, nargs: number): void {
  const r = asObject(raw, where, RULE_KEYS);
  if (!(Number.isInteger(r.arg) && (r.arg as number) >= 0 && (r.arg as number) < nargs)) fail(where, `arg must name one of the ${nargs} arguments`);
  if (!OPS.includes(r.op as string)) fail(where, `op must be one of ${OPS.join(', ')}`);
  if (r.op === 'in' && !(Array.isArray(r.values) && r.values.length > 0 && r.values.length <= 64 && r.values.every(isU32))) {
    fail(where, 'in needs values: 1 to 64 unsigned 32-bit integers');
  }
  if (r.op !== 'in' && r.values !== undefined) fail(where, 'values is for in only');
  if ((r.op === 'anyBits' || r.op === 'noBits') && !(isU32(r.value) && r.value !== 0)) fail(where, `${String(r.op)} needs a non-zero 32-bit value`);
  if ((r.op === 'in' || r.op === 'isZero') && r.value !== undefined) fail(where, `value is not used by ${String(r.op)}`);
  if (!isText(r.why)) fail(where, 'a rule needs a why');
  checkClass(r, where);
}
