// Ids across a user namespace. A sandbox in a user namespace of its own (tsvisor do as a
// non-root user, or --rootless) has its root mapped to the caller's ids and nothing else
// (addon/launcher/userns.c). The sentry stats and chowns files from the host's namespace,
// so it translates as the kernel would for the task: the caller's ids are 0 inside, any
// other id is the overflow id (nobody), and an id with no mapping cannot be given away.
import { SIZEOF_STAT, STAT_OFFSETS, STATX_OFFSETS } from './abi/stat.js';

/** The kernel's overflow id (/proc/sys/kernel/overflowuid and overflowgid). */
export const OVERFLOW_ID = 65534;

export interface IdMap {
  /** A host uid or gid as the sandbox sees it. */
  toSandbox(kind: 'uid' | 'gid', host: number): number;
  /** A sandbox uid or gid on the host; null when it has no mapping. */
  toHost(kind: 'uid' | 'gid', id: number): number | null;
}

/** The map of a user namespace where 0 is UID and GID outside, and nothing else. */
export function rootOnlyIdMap(uid: number, gid: number): IdMap {
  const outside = { uid, gid };
  return {
    toSandbox: (kind, host) => (host === outside[kind] ? 0 : OVERFLOW_ID),
    toHost: (kind, id) => (id === 0 ? outside[kind] : null),
  };
}

/** Rewrites the owner of a struct stat (BUF) as the sandbox sees it. */
export function mapStatIds(buf: Buffer, map: IdMap): void {
  if (buf.length < SIZEOF_STAT) return;
  buf.writeUInt32LE(map.toSandbox('uid', buf.readUInt32LE(STAT_OFFSETS.st_uid)), STAT_OFFSETS.st_uid);
  buf.writeUInt32LE(map.toSandbox('gid', buf.readUInt32LE(STAT_OFFSETS.st_gid)), STAT_OFFSETS.st_gid);
}

/** The same for a struct statx. */
export function mapStatxIds(buf: Buffer, map: IdMap): void {
  buf.writeUInt32LE(map.toSandbox('uid', buf.readUInt32LE(STATX_OFFSETS.stx_uid)), STATX_OFFSETS.stx_uid);
  buf.writeUInt32LE(map.toSandbox('gid', buf.readUInt32LE(STATX_OFFSETS.stx_gid)), STATX_OFFSETS.stx_gid);
}

/** One range of a user namespace's id map, as OCI's linux.uidMappings gives it. */
export interface IdRange {
  containerID: number;
  hostID: number;
  size: number;
}

/** The map of a user namespace with these ranges (the kernel's uid_map and gid_map). */
export function rangeIdMap(uids: readonly IdRange[], gids: readonly IdRange[]): IdMap {
  const ranges = { uid: uids, gid: gids };
  return {
    toSandbox: (kind, host) => {
      const r = ranges[kind].find((m) => host >= m.hostID && host < m.hostID + m.size);
      return r ? r.containerID + (host - r.hostID) : OVERFLOW_ID;
    },
    toHost: (kind, id) => {
      const r = ranges[kind].find((m) => id >= m.containerID && id < m.containerID + m.size);
      return r ? r.hostID + (id - r.containerID) : null;
    },
  };
}
