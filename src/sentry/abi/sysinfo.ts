// struct sysinfo (<linux/sysinfo.h>, x86_64): what sysinfo(2) copies out.

export const SIZEOF_SYSINFO = 112;

/** Load averages are fixed-point with this many fraction bits (SI_LOAD_SHIFT). */
const SI_LOAD_SHIFT = 16;

export interface Sysinfo {
  uptimeSeconds: number;
  /** 1, 5 and 15 minute load averages. */
  loads: [number, number, number];
  totalram: bigint;
  freeram: bigint;
  sharedram: bigint;
  bufferram: bigint;
  totalswap: bigint;
  freeswap: bigint;
  procs: number;
}

/** Encodes INFO with mem_unit 1 (every size in bytes). */
export function encodeSysinfo(info: Sysinfo): Buffer {
  const b = Buffer.alloc(SIZEOF_SYSINFO);
  b.writeBigInt64LE(BigInt(Math.floor(info.uptimeSeconds)), 0);
  info.loads.forEach((load, i) => b.writeBigUInt64LE(BigInt(Math.round(load * (1 << SI_LOAD_SHIFT))), 8 + 8 * i));
  b.writeBigUInt64LE(info.totalram, 32);
  b.writeBigUInt64LE(info.freeram, 40);
  b.writeBigUInt64LE(info.sharedram, 48);
  b.writeBigUInt64LE(info.bufferram, 56);
  b.writeBigUInt64LE(info.totalswap, 64);
  b.writeBigUInt64LE(info.freeswap, 72);
  b.writeUInt16LE(Math.min(info.procs, 0xffff), 80);
  // totalhigh and freehigh (88, 96) stay 0: no high memory on x86_64.
  b.writeUInt32LE(1, 104); // mem_unit
  return b;
}
