// mount(2) and umount2(2). The mount table is the sandbox's own mount namespace. A task
// may add to it what Linux lets a holder of CAP_SYS_ADMIN add, within bounds: a tmpfs, a
// bind of a name inside the sandbox (the kernel refuses any mount of another namespace),
// new per-mount flags (MS_REMOUNT|MS_BIND) for those, though never writable again for a
// bind of a read-only mount (a read-only --mount or root stays so), and their unmounting. The sentry
// makes them itself (addon/mounts.cc), for a task with fsuid 0 in a sandbox granted
// CAP_SYS_ADMIN (no task holds it for real). Everything else is EPERM, the launcher's own
// mounts included (vfs/mounts.ts). Every mount made is nodev, as all of the sandbox's but
// /dev's device nodes: a device node the app makes (CAP_MKNOD) or finds opens nothing.
import { native } from '../../native.js';
import { EINVAL, EPERM, errnoOf, isErrno, type Errno } from '../abi/errno.js';
import { AT_EMPTY_PATH, AT_FDCWD, NSFS_MAGIC } from '../abi/fcntl.js';
import {
  MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MOUNT_ATTR__ATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MS_BIND,
  MS_MOVE, MS_PRIVATE, MS_REC, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_UNBINDABLE,
  UMOUNT_NOFOLLOW, mountAttrsOf,
} from '../abi/mount.js';
import { SIZEOF_STATFS, SIZEOF_STATX, STATFS_OFFSETS, STATX_ATTR_MOUNT_ROOT, STATX_MNT_ID_UNIQUE, STATX_OFFSETS, ST_RDONLY } from '../abi/stat.js';
import type { Call } from '../call.js';
import type { SyscallResult } from '../result.js';
import { openPathAt, pathArg, withFd } from './at.js';

const PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;
/** What MS_REMOUNT|MS_BIND sets or clears: every per-mount flag but nodev, which stays. */
const PER_MOUNT = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC |
  MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR__ATIME;
/** Mount options (tmpfs's data) are at most a page. */
const PAGE_SIZE = 4096;

const statxBuf = Buffer.alloc(SIZEOF_STATX);
const statfsBuf = Buffer.alloc(SIZEOF_STATFS);

function mayMount(c: Call): boolean {
  if (!c.kernel.mounts) return false;
  const creds = c.kernel.tasks.credsOf(c.task, () => c.stillValid());
  return !isErrno(creds) && creds.fsuid === 0;
}

/** The mount FD is on: its unique id, and whether FD is that mount's root. */
function mountOf(fd: number): { id: bigint; root: boolean } | Errno {
  const r = native().statx(fd, '', AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, statxBuf);
  if (r < 0) return errnoOf(-r);
  const attrs = statxBuf.readBigUInt64LE(STATX_OFFSETS.stx_attributes);
  return { id: statxBuf.readBigUInt64LE(STATX_OFFSETS.stx_mnt_id), root: (attrs & BigInt(STATX_ATTR_MOUNT_ROOT)) !== 0n };
}

/** Records the mount now on top at PATH as the task's own; a bind that came out
 * read-only (of a read-only mount) is to stay so. */
function record(c: Call, path: string, bind: boolean): SyscallResult {
  const m = withFd(openPathAt(c, AT_FDCWD, path, false, false), (fd) => {
    const mount = mountOf(fd);
    if (isErrno(mount)) return mount;
    const r = native().fstatfs(fd, statfsBuf);
    const readOnly = r === 0 && (Number(statfsBuf.readBigUInt64LE(STATFS_OFFSETS.f_flags)) & ST_RDONLY) !== 0;
    return { ...mount, readOnly };
  });
  if (isErrno(m)) return m;
  c.kernel.mounts!.add(m.id, bind && m.readOnly);
  return 0;
}

/** The data argument: tmpfs options, comma-separated. */
function options(c: Call): string[] | Errno {
  const addr = c.args.ptr(4);
  if (addr === 0) return [];
  const s = native().readString(c.task.hostTid, addr, PAGE_SIZE - 1);
  if (typeof s === 'number') return errnoOf(-s);
  return s.split(',').filter((o) => o !== '');
}

/** mount(2). */
export function mount(c: Call): SyscallResult {
  if (!mayMount(c)) return EPERM;
  let flags = c.args.u32(3);
  // The old magic in the top 16 bits means nothing.
  if (flags >>> 16 === 0xc0ed) flags &= 0xffff;
  const target = pathArg(c, 1);
  if (isErrno(target)) return target;
  const pid = c.task.group.hostTgid;
  const n = native();
  if (flags & PROPAGATION) {
    if (flags & ~(PROPAGATION | MS_REC | MS_SILENT)) return EINVAL;
    // The sandbox's mounts are private already: nothing propagates, in or out.
    return flags & (MS_PRIVATE | MS_SLAVE) ? withFd(openPathAt(c, AT_FDCWD, target, false, false), () => 0) : EPERM;
  }
  if (flags & MS_MOVE) return EPERM;
  if (flags & MS_REMOUNT) {
    if (!(flags & MS_BIND)) return EPERM;
    return withFd(openPathAt(c, AT_FDCWD, target, false, false), (t) => {
      const m = mountOf(t);
      if (isErrno(m)) return m;
      if (!m.root) return EINVAL;
      if (!c.kernel.mounts!.has(m.id)) return EPERM;
      const attrs = mountAttrsOf(flags);
      if (!(attrs & MOUNT_ATTR_RDONLY) && c.kernel.mounts!.readOnlyBind(m.id)) return EPERM;
      const r = n.mountSetattr(pid, t, attrs | MOUNT_ATTR_NODEV, PER_MOUNT);
      return r < 0 ? errnoOf(-r) : 0;
    });
  }
  if (flags & MS_BIND) {
    const source = pathArg(c, 0);
    if (isErrno(source)) return source;
    const r = withFd(openPathAt(c, AT_FDCWD, source, false, false), (s) => {
      // A namespace file would pin a namespace (the host's user namespace, say) inside.
      if (n.fstatfs(s, statfsBuf) === 0 && statfsBuf.readUInt32LE(STATFS_OFFSETS.f_type) === NSFS_MAGIC) return EPERM;
      return withFd(openPathAt(c, AT_FDCWD, target, false, false), (t) => n.mountBind(pid, s, t, (flags & MS_REC) !== 0));
    });
    if (isErrno(r)) return r;
    return r < 0 ? errnoOf(-r) : record(c, target, true);
  }
  const fstype = c.args.ptr(2) === 0 ? '' : n.readString(c.task.hostTid, c.args.ptr(2), 255);
  if (typeof fstype === 'number') return errnoOf(-fstype);
  if (fstype !== 'tmpfs') return EPERM;
  const opts = options(c);
  if (isErrno(opts)) return opts;
  const r = withFd(openPathAt(c, AT_FDCWD, target, false, false), (t) => n.mountTmpfs(pid, t, opts, mountAttrsOf(flags) | MOUNT_ATTR_NODEV));
  if (isErrno(r)) return r;
  return r < 0 ? errnoOf(-r) : record(c, target, false);
}

/** umount2(2): only a mount the task's sandbox made itself. */
export function umount2(c: Call): SyscallResult {
  const flags = c.args.i32(1);
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) return EINVAL;
  if (flags & MNT_EXPIRE && flags & (MNT_FORCE | MNT_DETACH)) return EINVAL;
  if (!mayMount(c)) return EPERM;
  const path = pathArg(c, 0);
  if (isErrno(path)) return path;
  const m = withFd(openPathAt(c, AT_FDCWD, path, (flags & UMOUNT_NOFOLLOW) !== 0, false), mountOf);
  if (isErrno(m)) return m;
  if (!m.root) return EINVAL;
  if (!c.kernel.mounts!.has(m.id)) return EPERM;
  const parent = c.kernel.fs.openParent(c.task, AT_FDCWD, path);
  if (isErrno(parent)) return parent;
  const r = withFd(parent.dirFd, (d) => native().unmount(c.task.group.hostTgid, d, parent.name, flags & ~UMOUNT_NOFOLLOW));
  if (isErrno(r)) return r;
  if (r < 0) return errnoOf(-r);
  c.kernel.mounts!.delete(m.id);
  return 0;
}
