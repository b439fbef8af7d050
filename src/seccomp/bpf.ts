// Classic BPF as seccomp uses it: constants from <linux/filter.h>, <linux/bpf_common.h>,
// <linux/seccomp.h> and <linux/audit.h>, an encoder for struct sock_filter, and the
// structural checks the kernel applies when a filter is installed (so a bad program fails
// here, with a message, rather than as EINVAL from seccomp(2) in the launcher).

/** One instruction: struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const SIZEOF_SOCK_FILTER = 8;
/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// Instruction classes and fields (<linux/bpf_common.h>).
export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;

// Return values (<linux/seccomp.h>). The action is the high 16 bits, the data the low 16.
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

// <linux/audit.h>: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE, and EM_386 | LE.
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
/** Bit 30 of nr marks the x32 ABI, which shares AUDIT_ARCH_X86_64 (<asm/unistd.h>). */
export const __X32_SYSCALL_BIT = 0x40000000;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SIZEOF_SECCOMP_DATA = 64;
/** Offset of the low 32 bits of args[i] (x86_64 is little-endian). */
export const argLow = (i: number): number => 16 + 8 * i;
/** Offset of the high 32 bits of args[i]. */
export const argHigh = (i: number): number => 20 + 8 * i;

export function stmt(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

export function jump(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k: k >>> 0 };
}

export function encode(prog: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(prog.length * SIZEOF_SOCK_FILTER);
  prog.forEach((ins, i) => {
    const o = i * SIZEOF_SOCK_FILTER;
    buf.writeUInt16LE(ins.code, o);
    buf.writeUInt8(ins.jt, o + 2);
    buf.writeUInt8(ins.jf, o + 3);
    buf.writeUInt32LE(ins.k >>> 0, o + 4);
  });
  return buf;
}

export function decode(buf: Buffer): SockFilter[] {
  if (buf.length % SIZEOF_SOCK_FILTER !== 0) {
    throw new Error(`bpf program: length ${buf.length} is not a multiple of ${SIZEOF_SOCK_FILTER}`);
  }
  const prog: SockFilter[] = [];
  for (let o = 0; o < buf.length; o += SIZEOF_SOCK_FILTER) {
    prog.push({ code: buf.readUInt16LE(o), jt: buf[o + 2]!, jf: buf[o + 3]!, k: buf.readUInt32LE(o + 4) });
  }
  return prog;
}

/** The opcodes our compiler emits; the interpreter and the checks accept only these. */
export const OPCODES = {
  LD_ABS: BPF_LD | BPF_W | BPF_ABS,
  JA: BPF_JMP | BPF_JA,
  JEQ: BPF_JMP | BPF_JEQ | BPF_K,
  JGT: BPF_JMP | BPF_JGT | BPF_K,
  JGE: BPF_JMP | BPF_JGE | BPF_K,
  JSET: BPF_JMP | BPF_JSET | BPF_K,
  RET: BPF_RET | BPF_K,
} as const;

const KNOWN = new Set<number>(Object.values(OPCODES));

/**
 * The checks of the kernel's bpf_check_classic() and seccomp_check_filter() for the
 * opcodes we emit: length, known opcodes, aligned loads inside seccomp_data, every jump
 * landing inside the program, and a final RET (so no path falls off the end).
 */
export function checkProgram(prog: readonly SockFilter[]): void {
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) {
    throw new Error(`bpf program: ${prog.length} instructions (must be 1..${BPF_MAXINSNS})`);
  }
  prog.forEach((ins, pc) => {
    const where = `bpf program: instruction ${pc}`;
    if (!KNOWN.has(ins.code)) throw new Error(`${where}: opcode 0x${ins.code.toString(16)} not emitted by tsvisor`);
    if (ins.code === OPCODES.LD_ABS && (ins.k % 4 !== 0 || ins.k >= SIZEOF_SECCOMP_DATA)) {
      throw new Error(`${where}: load offset ${ins.k} outside struct seccomp_data`);
    }
    if (ins.code === OPCODES.JA && pc + 1 + ins.k >= prog.length) throw new Error(`${where}: ja out of range`);
    if ((ins.code & 0x07) === BPF_JMP && ins.code !== OPCODES.JA && pc + 1 + Math.max(ins.jt, ins.jf) >= prog.length) {
      throw new Error(`${where}: conditional jump out of range`);
    }
  });
  if (prog[prog.length - 1]!.code !== OPCODES.RET) throw new Error('bpf program: last instruction is not ret');
}
