// struct seccomp_notif and struct seccomp_data (linux/seccomp.h).

/** struct seccomp_notif: u64 id; u32 pid; u32 flags; struct seccomp_data data. */
export const SIZEOF_SECCOMP_NOTIF = 80;
export const NOTIF_OFFSETS = { id: 0, pid: 8, flags: 12, nr: 16, arch: 20, ip: 24, args: 32 } as const;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;

/** One decoded notification. Arguments are kept as the raw 64-bit register halves. */
export class Notification {
  readonly id: bigint;
  readonly pid: number;
  readonly nr: number;
  readonly arch: number;
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;

  constructor(buf: Buffer) {
    this.id = buf.readBigUInt64LE(NOTIF_OFFSETS.id);
    this.pid = buf.readUInt32LE(NOTIF_OFFSETS.pid);
    this.nr = buf.readInt32LE(NOTIF_OFFSETS.nr);
    this.arch = buf.readUInt32LE(NOTIF_OFFSETS.arch);
    this.lo = new Uint32Array(6);
    this.hi = new Uint32Array(6);
    for (let i = 0; i < 6; i++) {
      this.lo[i] = buf.readUInt32LE(NOTIF_OFFSETS.args + 8 * i);
      this.hi[i] = buf.readUInt32LE(NOTIF_OFFSETS.args + 8 * i + 4);
    }
  }

  /** Argument i as a C int (low 32 bits, signed): fds, flags, modes. */
  i32(i: number): number {
    return this.lo[i]! | 0;
  }

  /** Argument i as an unsigned 32-bit value. */
  u32(i: number): number {
    return this.lo[i]!;
  }

  /** Argument i as a user address or size (exact below 2^53; user space is below 2^47). */
  u64(i: number): number {
    return this.hi[i]! * 0x1_0000_0000 + this.lo[i]!;
  }

  /** Argument i as a signed 64-bit value (offsets, lengths that may be negative). */
  s64(i: number): number {
    return (this.hi[i]! | 0) * 0x1_0000_0000 + this.lo[i]!;
  }

  /** Argument i as an address; same as u64, named for readability at call sites. */
  ptr(i: number): number {
    return this.u64(i);
  }
}
