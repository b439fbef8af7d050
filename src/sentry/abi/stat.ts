// struct stat, struct statx and struct statfs (x86_64). Host-backed files are stat'ed by the
// kernel into these layouts and copied out unchanged; the offsets here are what the sentry
// reads or fills itself.

/** struct stat (asm/stat.h, x86_64): 144 bytes. */
export const SIZEOF_STAT = 144;
export const STAT_OFFSETS = {
  st_dev: 0,
  st_ino: 8,
  st_nlink: 16,
  st_mode: 24,
  st_uid: 28,
  st_gid: 32,
  st_rdev: 40,
  st_size: 48,
  st_blksize: 56,
  st_blocks: 64,
  st_atime: 72,
  st_mtime: 88,
  st_ctime: 104,
} as const;

/** struct statx (linux/stat.h): 256 bytes. */
export const SIZEOF_STATX = 256;
export const STATX_OFFSETS = {
  stx_mask: 0, stx_attributes: 8, stx_uid: 20, stx_gid: 24, stx_mode: 28, stx_size: 40,
  stx_dev_major: 136, stx_dev_minor: 140, stx_mnt_id: 144,
} as const;
/** statx mask bits and attributes. */
export const STATX_MNT_ID = 0x1000;
export const STATX_MNT_ID_UNIQUE = 0x4000;
export const STATX_ATTR_MOUNT_ROOT = 0x2000;
/** statx mask bit reserved for future struct growth: Linux rejects it with EINVAL. */
export const STATX__RESERVED = 0x80000000;

/** struct statfs (asm/statfs.h, x86_64): 120 bytes. */
export const SIZEOF_STATFS = 120;
export const STATFS_OFFSETS = { f_type: 0, f_flags: 80 } as const;
/** f_flags: the mount is read-only. */
export const ST_RDONLY = 0x1;

/** st_mode of a stat buffer. */
export function statMode(buf: Buffer): number {
  return buf.readUInt32LE(STAT_OFFSETS.st_mode);
}

/** st_dev of a stat buffer, as the kernel encodes it there (new_encode_dev). */
export function statDev(buf: Buffer): bigint {
  return buf.readBigUInt64LE(STAT_OFFSETS.st_dev);
}

/** A statx buffer's device in st_dev's encoding, to compare with statDev. */
export function statxDev(buf: Buffer): bigint {
  const major = BigInt(buf.readUInt32LE(STATX_OFFSETS.stx_dev_major));
  const minor = BigInt(buf.readUInt32LE(STATX_OFFSETS.stx_dev_minor));
  return (minor & 0xffn) | (major << 8n) | ((minor & ~0xffn) << 12n);
}

/** st_nlink of a stat buffer. */
export function statNlink(buf: Buffer): number {
  return Number(buf.readBigUInt64LE(STAT_OFFSETS.st_nlink));
}

/** st_size of a stat buffer. */
export function statSize(buf: Buffer): number {
  return Number(buf.readBigInt64LE(STAT_OFFSETS.st_size));
}
