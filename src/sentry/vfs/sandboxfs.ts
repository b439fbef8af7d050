// The sandbox's filesystem as the sentry reaches it, like Linux's struct nameidata plus the
// mount namespace it walks. The launcher assembled the sandbox's mount namespace (overlay
// root, /proc of the sandbox's pid namespace, /dev, binds) and sent the sentry an O_PATH fd
// of its root; every name a task gives is resolved by openat2(rootfd, path,
// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so `..` and absolute symlinks stay inside the
// sandbox even when a symlink is swapped in a race, and /proc/<pid>/* magic links are never
// followed on the sentry's behalf.
//
// What the kernel cannot know is handled here before the walk: /proc/self and
// /proc/thread-self (the sentry is not in the sandbox's pid namespace, so the kernel would
// resolve them for the wrong process), /dev/fd and /dev/std*, and the task's own magic
// links. After the walk, a file that turns out to be on procfs (reached through a symlink,
// say) is checked against the allow-list in procfs.ts.
import { readFileSync } from 'node:fs';
import { native } from '../../native.js';
import {
  EACCES, EBADF, ELOOP, ENAMETOOLONG, ENOENT, EPERM, ENOTDIR, ENXIO, EROFS, errnoOf, fromNodeError, hostError, isErrno, type Errno,
} from '../abi/errno.js';
import {
  O_ACCMODE, O_CREAT, O_DIRECTORY, O_PATH, O_RDONLY, O_TRUNC, O_WRONLY, PROC_SUPER_MAGIC, RESOLVE_IN_ROOT, TMPFS_MAGIC,
  RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_NOFOLLOW, PATH_MAX, S_IFDIR, S_IFMT,
} from '../abi/fcntl.js';
import { SIZEOF_STAT, SIZEOF_STATFS, SIZEOF_STATX, STATFS_OFFSETS, STATX_MNT_ID, STATX_OFFSETS, statDev, statMode, statNlink } from '../abi/stat.js';
import { fdFlagsAt, viaTaskFd, type Task } from '../task/tasks.js';
import { joinPath, normalize, splitLast } from './path.js';
import { openControllingTerminal, isDevTty } from './ctty.js';
import { isFifo, mayBlock, openFifo } from './fifo.js';
import { interruptingSignalPending } from '../task/signals.js';
import { namespacedProcFile, procAllowed, procLookAllowed } from './procfs.js';
import { procRewriter, type ProcView } from './procfiles.js';

const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/** Entries of a task's /proc directory that the kernel opens, or whose link it reads,
 * only for a caller that may ptrace the task (PTRACE_MODE_READ): its memory map, memory,
 * environment, stacks, and the links to its files. The sentry's thread keeps
 * CAP_SYS_PTRACE, so it checks another task's itself (peerDenied). */
const PTRACE_GUARDED = /^\/proc\/(\d+)(\/task\/\d+)?\/(environ|auxv|maps|smaps|smaps_rollup|numa_maps|pagemap|mem|stack|syscall|personality|io|cwd|root|exe|fd\/\d+|ns\/[a-z_]+|map_files\/[^/]+)$/;

/** Where a name leads before the kernel's walk. `via` names the strongest kind of link
 * the sentry followed itself (/proc/self and the like are symlinks, /proc/self/fd/N, exe,
 * cwd and root magic links), which the kernel's walk then never sees. */
export type Target = (
  /** A path to walk beneath the sandbox root. */
  | { kind: 'root'; path: string }
  /** One of the task's own magic links (/proc/self/exe, /proc/self/fd/N: then fd is N;
   * /proc/self/ns/X: then namespace), reached through the host's /proc, which follows it
   * to the very file the task holds. */
  | { kind: 'magic'; hostPath: string; fd?: number; namespace?: true }
  /** A sysctl or sysvipc file of the task's network or IPC namespace (procfs.ts,
   * namespacedProcFile). */
  | { kind: 'sysctl'; hostPath: string }
  /** A magic link of another task of the sandbox (LINK, e.g. fd/3 or exe, in its /proc
   * directory PROCDIR), which the task may follow: lsof and fuser stat them. */
  | { kind: 'peer'; procDir: string; link: string; namespace?: true }
  /** One of the task's own /proc files that a process may write (OWN_WRITABLE), reached
   * through the host's writable /proc: the sandbox's is mounted read-only. */
  | { kind: 'own'; hostPath: string }
) & {
  via?: 'symlink' | 'magic';
  /** Named with a trailing slash: the link must lead to a directory (ENOTDIR). */
  dirOnly?: true;
};

const MAGIC = /^\/proc\/(\d+)(?:\/task\/(\d+))?\/(fd\/(\d+)|ns\/([a-z_]+)|exe|cwd|root)(\/.*)?$/;
/** The files of its own /proc directory a process writes: its OOM score (Chrome, systemd
 * units, databases raise theirs), its name, its timer slack and what its core dumps hold.
 * The kernel judges the write itself (lowering the OOM score needs CAP_SYS_RESOURCE). */
const OWN_WRITABLE = /^\/proc\/(\d+)(?:\/task\/(\d+))?\/(oom_score_adj|oom_adj|comm|timerslack_ns|coredump_filter)$/;

export class SandboxFs {
  private readonly statfsBuf = Buffer.alloc(SIZEOF_STATFS);
  private readonly statBuf = Buffer.alloc(SIZEOF_STAT);
  /** st_dev of the sandbox's /proc (the one procfs the launcher mounts); -1 if none. */
  private procDev: bigint | undefined;
  private readonly statxBuf = Buffer.alloc(SIZEOF_STATX);
  /** The ids of the sandbox's mounts (mountinfo's first field), for mayChange. */
  private mountIds = new Set<number>();
  /** The mount id of the launcher's /sys, once known (-1: none). */
  private sysfsViewId: number | undefined;
  /** How many chroots tasks have made: while 0, every task's root is the sandbox's. */
  private chroots = 0;
  /** A task whose chroot the kernel is making: its group's root is read afresh until the
   * task calls again. */
  private chrooting: Task | undefined;

  constructor(
    /** O_PATH fd of the sandbox root (owned by the sentry for the sandbox's lifetime). */
    readonly rootfd: number,
    /** What /proc files the sentry rewrites need to know (procfiles.ts). */
    private readonly procView: ProcView = { memory: () => null },
  ) {}

  /** The absolute sandbox path a relative name starts from: the task's cwd for AT_FDCWD,
   * else the directory open as dirfd. Read from the host's /proc, where the kernel prints
   * paths as they are seen inside the sandbox's mount namespace. */
  base(task: Task, dirfd: number): string | Errno {
    const readlink = (link: string): string | number => native().readlinkat(AT_FDCWD, link);
    const target = dirfd === AT_FDCWD ? readlink(`/proc/${task.hostTid}/cwd`) : viaTaskFd(task, dirfd, readlink);
    if (typeof target === 'number') return dirfd === AT_FDCWD ? errnoOf(-target) : EBADF;
    if (!target.startsWith('/')) return ENOTDIR; // pipe:[…], socket:[…], anon_inode:…
    // A removed file's link ends in " (deleted)", but so does the name of a live one
    // called that: the file itself tells (a removed one has no links left).
    if (target.endsWith(' (deleted)')) {
      const why = this.unusableBase(task, dirfd);
      if (why) return why;
    }
    return target;
  }

  /** Why the task's cwd (AT_FDCWD) or its fd DIRFD, whose name ends in " (deleted)", is
   * no directory to start a walk from: ENOTDIR for a file that is none (a memfd, an
   * unlinked file), ENOENT for a removed directory; null for a live one. */
  private unusableBase(task: Task, dirfd: number): Errno | null {
    const stat = (link: string): number => native().fstatat(AT_FDCWD, link, 0, this.statBuf);
    const r = dirfd === AT_FDCWD ? stat(`/proc/${task.hostTid}/cwd`) : viaTaskFd(task, dirfd, stat);
    if (r < 0) return ENOENT;
    if ((statMode(this.statBuf) & S_IFMT) !== S_IFDIR) return ENOTDIR;
    return statNlink(this.statBuf) === 0 ? ENOENT : null;
  }

  /**
   * Whether a task may change the file FD (the sentry's fd of it): its mode, owner, times
   * or attributes. Not when the file lies outside the sandbox's mounts, though the task
   * holds an fd to it (its stdin redirected from a host file, say): the sandbox's root
   * may read and write what it was handed, but has no say over the host's files. Pipes,
   * sockets and memfds belong to no mount anyone walks, and may change.
   */
  mayChange(task: Task, fd: number): boolean {
    const id = this.mountIdOf(fd);
    if (id === null) return false;
    if (this.mountIds.has(id)) return true;
    const name = native().readlinkat(AT_FDCWD, `/proc/self/fd/${fd}`);
    if (typeof name === 'string' && (!name.startsWith('/') || name.startsWith('/memfd:'))) return true;
    // A mount made since (by the app, through the sentry): read the table again.
    this.mountIds = mountIdsOf(`/proc/${task.hostTid}/mountinfo`);
    return this.mountIds.has(id);
  }

  /** The id of the mount FD lies on (statx's stx_mnt_id), or null. */
  mountIdOf(fd: number): number | null {
    if (native().statx(fd, '', AT_EMPTY_PATH, STATX_MNT_ID, this.statxBuf) < 0) return null;
    return Number(this.statxBuf.readBigUInt64LE(STATX_OFFSETS.stx_mnt_id));
  }

  /** Whether FD lies on the launcher's /sys, a tmpfs named "sysfs" that the sandbox sees
   * as its sysfs (vfs/procfiles.ts). Its mount id is learnt once. */
  onSysfsView(task: Task, fd: number): boolean {
    const id = this.mountIdOf(fd);
    if (id === null) return false;
    this.sysfsViewId ??= sysfsViewIdOf(`/proc/${task.hostTid}/mountinfo`);
    return id === this.sysfsViewId;
  }

  /** A task is about to chroot (the kernel makes it, in the task): every group's root is
   * read again, since tasks that share their fs_struct change root together. */
  noteChroot(task: Task): void {
    this.chroots++;
    this.chrooting = task;
  }

  /**
   * The task's root as a path from the sandbox's root (readlink of its /proc root link,
   * which the kernel keeps through chroot, fork and CLONE_FS), or null for the sandbox's
   * root itself. Free until some task has made a chroot.
   */
  rootOf(task: Task): string | null {
    if (this.chroots === 0) return null;
    const g = task.group;
    if (this.chrooting?.group === g) {
      // Made, if this is the task that asked; else perhaps not yet: read, keep nothing.
      g.rootEpoch = 0;
      if (this.chrooting === task) this.chrooting = undefined;
    }
    if (g.rootEpoch === this.chroots) return g.root;
    const link = native().readlinkat(AT_FDCWD, `/proc/${task.hostTid}/root`);
    g.root = typeof link === 'string' && link !== '/' ? link : null;
    g.rootEpoch = this.chroots;
    return g.root;
  }

  /** The absolute sandbox path for (dirfd, path); path must be non-empty. A chrooted
   * task's absolute names start from its root. */
  absolute(task: Task, dirfd: number, path: string): string | Errno {
    if (path.startsWith('/')) {
      const root = this.rootOf(task);
      return root === null ? path : root + path;
    }
    const base = this.base(task, dirfd);
    if (typeof base !== 'string') return base;
    const joined = joinPath(base, path);
    return joined.length < PATH_MAX ? joined : this.shorten(task, base, path);
  }

  /** A relative name the task may use (under PATH_MAX) can exceed PATH_MAX once joined to
   * its directory. The leading directories are then resolved a part at a time, each to
   * its canonical path, which is what the kernel's walk from that directory reaches too. */
  private shorten(task: Task, base: string, rel: string): string | Errno {
    const parts = rel.split('/');
    let dir = base, i = 0;
    while (joinPath(dir, parts.slice(i).join('/')).length >= PATH_MAX) {
      let j = i;
      while (j < parts.length - 1 && joinPath(dir, parts.slice(i, j + 1).join('/')).length < PATH_MAX - 1) j++;
      if (j === i) return ENAMETOOLONG;
      const fd = this.openPath(task, joinPath(dir, parts.slice(i, j).join('/')), false, true);
      if (typeof fd !== 'number') return fd;
      const canonical = native().readlinkat(AT_FDCWD, `/proc/self/fd/${fd}`);
      native().close(fd);
      if (typeof canonical === 'number') return errnoOf(-canonical);
      dir = canonical;
      i = j;
    }
    return joinPath(dir, parts.slice(i).join('/'));
  }

  /** Maps the names the kernel cannot resolve for us; everything else walks from root.
   * With followFinal false (lstat, readlink, O_NOFOLLOW) a final symlink is the answer
   * itself, so /dev/fd or /proc/self/exe as the last component are left to the walk. */
  target(task: Task, abs: string, followFinal = true): Target | Errno {
    const norm = normalize(abs);
    // A name that ends in `/`, `/.` or `/..` has no final component left unfollowed
    // (lstat("/proc/self/") is the directory), and must be a directory.
    const dirOnly = abs !== '/' && /\/\.{0,2}$/.test(abs);
    const t = this.resolveTarget(task, abs, norm, followFinal || dirOnly);
    return dirOnly && !isErrno(t) && t.kind !== 'root' ? { ...t, dirOnly: true } : t;
  }

  private resolveTarget(task: Task, abs: string, norm: string, followFinal: boolean): Target | Errno {
    const rewritten = rewriteSelf(norm, task, followFinal);
    if (rewritten === null) {
      if (norm.startsWith('/proc/sys') && namespacedProcFile(norm.slice('/proc/'.length))) return { kind: 'sysctl', hostPath: norm };
      const m = MAGIC.exec(norm);
      if (!m || !(followFinal || m[6])) return this.ownFile(task, norm) ?? { kind: 'root', path: abs };
      return Number(m[1]) === task.vpid ? this.ownMagic(task, m) : this.peerTarget(task, m);
    }
    const m = MAGIC.exec(rewritten);
    if (m && Number(m[1]) === task.vpid && (followFinal || m[6])) return this.ownMagic(task, m);
    return this.ownFile(task, rewritten) ?? { kind: 'root', path: rewritten, via: 'symlink' };
  }

  /** NORM as one of the task's own writable /proc files, if it is one. */
  private ownFile(task: Task, norm: string): Target | null {
    const m = OWN_WRITABLE.exec(norm);
    if (!m || Number(m[1]) !== task.vpid || (m[2] !== undefined && Number(m[2]) !== task.vtid)) return null;
    const thread = m[2] === undefined ? '' : `/task/${task.hostTid}`;
    return { kind: 'own', hostPath: `/proc/${task.group.hostTgid}${thread}/${m[3]}` };
  }

  /** One of the task's own magic links (M: a MAGIC match of its own pid). */
  private ownMagic(task: Task, m: RegExpExecArray): Target | Errno {
    const [, , , what, fd, ns, rest] = m;
    const own = `/proc/${task.hostTid}`;
    if (what === 'exe') return rest ? ENOTDIR : { kind: 'magic', hostPath: `${own}/exe`, via: 'magic' };
    // The task's own namespaces: stat -L compares them. An nsfs file is no directory.
    if (ns) return rest ? ENOTDIR : { kind: 'magic', hostPath: `${own}/ns/${ns}`, via: 'magic', namespace: true };
    if (what === 'root') return { kind: 'root', path: (this.rootOf(task) ?? '') + (rest ?? '/'), via: 'magic' };
    if (what !== 'cwd' && !rest) return { kind: 'magic', hostPath: `${own}/fd/${fd}`, fd: Number(fd), via: 'magic' };
    const base = this.base(task, what === 'cwd' ? AT_FDCWD : Number(fd));
    if (typeof base !== 'string') return base;
    return { kind: 'root', path: rest ? joinPath(base, rest.slice(1)) : base, via: 'magic' };
  }

  /** EACCES when ABS (normalized) is a guarded entry of another task's (PTRACE_GUARDED)
   * that TASK may not open or read the link of; null otherwise. */
  peerEntryDenied(task: Task, abs: string): Errno | null {
    const m = PTRACE_GUARDED.exec(normalize(abs));
    if (!m || Number(m[1]) === task.vpid) return null;
    return this.peerDenied(task, `proc/${m[1]}${m[2] ?? ''}`);
  }

  /**
   * Another task's magic link (M: a MAGIC match), followed if the task may: the kernel
   * lets a task follow those of a task whose real, effective and saved ids are its own
   * fs ids (PTRACE_MODE_READ_FSCREDS; nobody holds CAP_SYS_PTRACE here). The sentry
   * follows them through the sandbox's /proc, which the walk beneath the root would not
   * (RESOLVE_IN_ROOT refuses magic links), so that check is made here.
   */
  private peerTarget(task: Task, m: RegExpExecArray): Target | Errno {
    const [, pid, tid, what, , ns, rest] = m;
    const procDir = tid ? `proc/${pid}/task/${tid}` : `proc/${pid}`;
    const denied = this.peerDenied(task, procDir);
    if (denied) return denied;
    if (!rest) return { kind: 'peer', procDir, link: what!, via: 'magic', ...(ns ? { namespace: true as const } : {}) };
    if (ns || what === 'exe') return ENOTDIR;
    // A directory the other task holds (its cwd, root, an fd): the walk goes on from its name.
    const name = this.inProcDir(procDir, (dir) => native().readlinkat(dir, what!));
    if (typeof name === 'number') return errnoOf(-name);
    if (!name.startsWith('/')) return ENOTDIR;
    return { kind: 'root', path: joinPath(name, rest.slice(1)), via: 'magic' };
  }

  /** FN on an O_PATH fd of PROCDIR (proc/<pid>, in the sandbox's /proc); a negative errno
   * if there is no such directory. */
  private inProcDir<T>(procDir: string, fn: (dir: number) => T): T | number {
    const dir = native().openat2(this.rootfd, procDir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, IN_ROOT);
    if (dir < 0) return dir;
    try {
      return fn(dir);
    } finally {
      native().close(dir);
    }
  }

  /** EACCES unless TASK's fs ids are the real, effective and saved ids of the task whose
   * /proc directory is PROCDIR; ENOENT if there is none. */
  private peerDenied(task: Task, procDir: string): Errno | null {
    const n = native();
    const fd = n.openat2(this.rootfd, `${procDir}/status`, O_RDONLY | O_CLOEXEC, 0, IN_ROOT);
    if (fd < 0) return errnoOf(-fd);
    // Its own read the same way: in a user namespace, ids show as the opener's sees them.
    const ownFd = n.openat2(this.rootfd, `proc/${task.vtid}/status`, O_RDONLY | O_CLOEXEC, 0, IN_ROOT);
    let peer: string, own: string;
    try {
      peer = readFileSync(fd, 'latin1');
      own = ownFd < 0 ? '' : readFileSync(ownFd, 'latin1');
    } catch {
      return ENOENT;
    } finally {
      n.close(fd);
      if (ownFd >= 0) n.close(ownFd);
    }
    const ids = (text: string, key: string): string[] => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/) ?? [];
    for (const key of ['Uid', 'Gid']) {
      const fsid = ids(own, key)[3];
      if (fsid === undefined || !ids(peer, key).slice(0, 3).every((id) => id === fsid)) return EACCES;
    }
    return null;
  }

  /**
   * EACCES when FLAGS would reopen, through an fd link, a file outside the sandbox's
   * mounts with more access than the fd it was handed: a read-only stdin redirected from
   * a host file stays read-only, and cannot be truncated (Linux would let root reopen it
   * for writing). Another task's fd links lead to no such file at all.
   */
  private reopenDenied(task: Task, t: Target, flags: number): Errno | null {
    const ownFd = t.kind === 'magic' && t.fd !== undefined;
    if ((!ownFd && !(t.kind === 'peer' && t.link.startsWith('fd/'))) || (flags & O_PATH) !== 0) return null;
    const n = native();
    const probe = this.openTarget(task, t, O_PATH | O_CLOEXEC, 0, 0);
    if (probe < 0) return null; // the open itself will say why
    const inside = this.mayChange(task, probe);
    n.close(probe);
    if (inside) return null;
    if (!ownFd) return EACCES;
    const held = viaTaskFd(task, (t as { fd: number }).fd, fdFlagsAt);
    if (held < 0) return EACCES;
    const wants = flags & O_ACCMODE, has = held & O_ACCMODE;
    const wantsWrite = wants !== O_RDONLY || (flags & O_TRUNC) !== 0, hasWrite = has !== O_RDONLY;
    const wantsRead = wants !== O_WRONLY, hasRead = has !== O_WRONLY;
    return (wantsWrite && !hasWrite) || (wantsRead && !hasRead) ? EACCES : null;
  }

  /** Opens a name for a task. The returned fd is the sentry's; the caller injects it.
   * extraResolve adds the task's own narrowing RESOLVE_* flags (openat2). An open that
   * would block on a FIFO settles later (see fifo.ts); stillValid tells whether the task
   * still waits for it. */
  open(
    task: Task, abs: string, flags: number, mode: number,
    stillValid: () => boolean, extraResolve = 0,
  ): number | Errno | Promise<number | Errno> {
    const denied = this.peerEntryDenied(task, abs);
    if (denied) return denied;
    const t = this.target(task, abs, (flags & O_NOFOLLOW) === 0);
    if (!('kind' in t)) return t;
    // The task's RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS also bar the links the
    // sentry followed for it.
    if (t.via && (extraResolve & RESOLVE_NO_SYMLINKS || (t.via === 'magic' && extraResolve & RESOLVE_NO_MAGICLINKS))) {
      return ELOOP;
    }
    if (t.kind === 'sysctl') return this.openSysctl(task, t, flags);
    if (t.kind === 'own') {
      const fd = this.openTarget(task, t, flags & ~O_CREAT, 0, 0);
      return fd < 0 ? errnoOf(-fd) : fd;
    }
    // A namespace file can be looked at, not held: its fd would serve setns and the NS_GET
    // ioctls, whose namespaces are the sentry's business.
    if ((t.kind === 'magic' || t.kind === 'peer') && t.namespace) return EPERM;
    const reopened = this.reopenDenied(task, t, flags);
    if (reopened) return reopened;
    const n = native();
    const openAs = (how: number, howMode: number): number => this.openTarget(task, t, how, howMode, extraResolve);
    if (mayBlock(flags)) {
      const probe = openAs(O_PATH | O_CLOEXEC | (flags & O_NOFOLLOW), 0);
      if (probe >= 0 && isFifo(probe)) return openFifo(probe, flags, stillValid, () => interruptingSignalPending(task.hostTid));
      if (probe >= 0) n.close(probe);
    }
    const fd = openAs(flags, mode);
    // The sentry has no controlling terminal of its own, so /dev/tty fails for it.
    if (fd === -ENXIO.code && this.isDevTtyPath(openAs(O_PATH | O_CLOEXEC | (flags & O_NOFOLLOW), 0))) {
      return this.controllingTerminal(task, flags);
    }
    if (fd < 0) return errnoOf(-fd);
    // A magic link may lead to a procfs file the task holds only as O_PATH: the allow-list
    // applies to what is opened, however it was reached.
    return this.admit(task, fd, flags);
  }

  /** FD, just opened with FLAGS for TASK, as the task may have it: refused (and closed) if
   * it is a procfs file off the allow-list, or replaced by a copy the sentry rewrote, or by
   * the task's own terminal for /dev/tty (ctty.ts). */
  admit(task: Task, fd: number, flags: number): number | Errno {
    const n = native();
    if (n.fstatfs(fd, this.statfsBuf) < 0) return fd;
    const type = this.statfsBuf.readUInt32LE(STATFS_OFFSETS.f_type);
    if (type === TMPFS_MAGIC && (flags & O_PATH) === 0 && isDevTty(fd)) {
      n.close(fd);
      return this.controllingTerminal(task, flags);
    }
    if (type !== PROC_SUPER_MAGIC) return fd;
    const proc = this.checkProc(fd, flags);
    if (isErrno(proc)) {
      native().close(fd);
      return proc;
    }
    if ((flags & O_PATH) !== 0) return fd;
    return procAllowed(proc) ? this.rewriteProcFile(task, fd, proc) : this.maskedProcFile(fd, proc);
  }

  /** FD, a task's /proc entry that may be looked at but not read (procLookAllowed), as the
   * app gets it: empty, as the masked entries of /proc are, so that every call agrees that
   * it exists. FD is closed. */
  private maskedProcFile(fd: number, rel: string): number | Errno {
    const n = native();
    const isDir = n.fstatat(fd, '', AT_EMPTY_PATH, this.statBuf) === 0 && (statMode(this.statBuf) & S_IFMT) === S_IFDIR;
    n.close(fd);
    if (isDir) return ENOENT;
    const empty = n.memfdSnapshot(`/proc/${rel}`, Buffer.alloc(0));
    return empty < 0 ? errnoOf(-empty) : empty;
  }

  /** FD (a procfs file opened for reading, REL its path in /proc) itself, or a sealed copy
   * of it as the sandbox should see it (procfiles.ts); FD is then closed. */
  private rewriteProcFile(task: Task, fd: number, rel: string): number | Errno {
    const rewrite = procRewriter(rel, this.procView, () => {
      try {
        return readFileSync(`/proc/${task.hostTid}/cgroup`, 'latin1');
      } catch {
        return '';
      }
    });
    if (!rewrite) return fd;
    let text: string;
    try {
      text = readFileSync(fd, 'latin1');
    } catch (err) {
      return fromNodeError(err as NodeJS.ErrnoException);
    } finally {
      native().close(fd);
    }
    const copy = native().memfdSnapshot(`/proc/${rel}`, Buffer.from(rewrite(text), 'latin1'));
    return copy < 0 ? errnoOf(-copy) : copy;
  }

  /** O_PATH fd for a name (stat, access, chdir, utimes...). Magic links are opened
   * through the host's /proc; nofollow keeps a final symlink itself. */
  openPath(task: Task, abs: string, nofollow: boolean, directory = false): number | Errno {
    const opened = this.openPathTarget(task, abs, nofollow, directory);
    if (isErrno(opened)) return opened;
    // Procfs files off the allow-list do not exist for the task, whatever the call; a
    // sysctl opened in the task's own namespaces is on it by the way it was reached.
    return opened.sysctl ? opened.fd : this.admit(task, opened.fd, O_PATH);
  }

  /** openPath for the stat calls, without its procfs check: the caller applies hiddenProc
   * to the device its stat reports, which saves a statfs on every stat. */
  openPathUnchecked(task: Task, abs: string, nofollow: boolean, directory = false): number | Errno {
    const opened = this.openPathTarget(task, abs, nofollow, directory);
    return isErrno(opened) ? opened : opened.fd;
  }

  private openPathTarget(task: Task, abs: string, nofollow: boolean, directory: boolean): { fd: number; sysctl: boolean } | Errno {
    const flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0) | (directory ? O_DIRECTORY : 0);
    const t = this.target(task, abs, !nofollow);
    if (!('kind' in t)) return t;
    const fd = t.kind === 'sysctl' ? this.openSysctl(task, t, flags) : this.openTarget(task, t, flags, 0, 0);
    if (typeof fd === 'number' && fd < 0) return errnoOf(-fd);
    return isErrno(fd) ? fd : { fd, sysctl: t.kind === 'sysctl' };
  }

  /** Whether FD, which stat found on device DEV (st_dev's encoding), is an entry of the
   * sandbox's /proc that the allow-list leaves out: then it does not exist for the task. */
  hiddenProc(fd: number, dev: bigint): boolean {
    if (this.procDev === undefined) {
      const r = native().fstatat(this.rootfd, 'proc', AT_SYMLINK_NOFOLLOW, this.statBuf);
      this.procDev = r < 0 ? -1n : statDev(this.statBuf);
    }
    return dev === this.procDev && isErrno(this.checkProc(fd, O_PATH));
  }

  /** openat2 of a target; a negative errno on failure. */
  private openTarget(task: Task, t: Target, flags: number, mode: number, extraResolve: number): number {
    const n = native();
    if (t.dirOnly) flags = (flags | O_DIRECTORY) & ~O_NOFOLLOW;
    if (t.kind === 'root') {
      // Beneath a chrooted task's root, `..` stops at that root, as in its own walk.
      const root = this.rootOf(task);
      if (root !== null && (t.path === root || t.path.startsWith(`${root}/`))) {
        const rootFd = n.openat2(AT_FDCWD, `/proc/${task.hostTid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
        if (rootFd < 0) return rootFd;
        const fd = n.openat2(rootFd, t.path.slice(root.length) || '/', flags, mode, IN_ROOT | extraResolve);
        n.close(rootFd);
        return fd;
      }
      return n.openat2(this.rootfd, t.path, flags, mode, IN_ROOT | extraResolve);
    }
    if (t.kind === 'sysctl') return n.openInNamespacesOf(task.group.hostTgid, t.hostPath, flags);
    if (t.kind === 'peer') return this.inProcDir(t.procDir, (dir) => n.openat2(dir, t.link, flags, mode, 0));
    if (t.kind === 'own' || t.fd === undefined) return n.openat2(AT_FDCWD, t.hostPath, flags, mode, 0);
    return viaTaskFd(task, t.fd, (p) => n.openat2(AT_FDCWD, p, flags, mode, 0));
  }

  /** O_PATH fd of the directory that holds a name, and the name, for calls that create,
   * remove or rename a name (the kernel never follows the final component of those). */
  openParent(task: Task, dirfd: number, path: string): { dirFd: number; name: string; trailingSlash: boolean } | Errno {
    const { dir, name, trailingSlash } = splitLast(path);
    const dirAbs = dir === '' ? this.base(task, dirfd) : this.absolute(task, dirfd, dir);
    if (typeof dirAbs !== 'string') return dirAbs;
    // No procfs check: /proc is read-only, so nothing is created, removed or renamed in
    // it whatever the allow-list says, and a statfs on every mkdir or unlink is saved.
    const fd = this.openPathUnchecked(task, dirAbs, false, true);
    if (typeof fd !== 'number') return fd;
    return { dirFd: fd, name: name === '' ? '.' : name, trailingSlash };
  }

  private controllingTerminal(task: Task, flags: number): number | Errno {
    return openControllingTerminal(task, flags, (path) => this.openTarget(task, { kind: 'root', path }, flags, 0, 0));
  }

  /** Whether PATHFD (an O_PATH fd, closed here, or a negative errno) is /dev/tty. */
  private isDevTtyPath(pathFd: number): boolean {
    if (pathFd < 0) return false;
    const yes = isDevTty(pathFd);
    native().close(pathFd);
    return yes;
  }

  /** A procfs file (FD is one) is handed out only if procLookAllowed names it (masked
   * unless procAllowed does: maskedProcFile), and only for reading. Returns its path in
   * /proc. */
  private checkProc(fd: number, flags: number): Errno | string {
    const where = native().readlinkat(AT_FDCWD, `/proc/self/fd/${fd}`);
    if (typeof where === 'number') return hostError(where) ?? ENOENT;
    const rel = where.replace(/^\/proc\/?/, '');
    if (!where.startsWith('/proc') || !procLookAllowed(rel)) return ENOENT;
    if ((flags & O_PATH) === 0 && (flags & O_ACCMODE) !== O_RDONLY) return EACCES;
    return rel;
  }

  /** A sysctl of the task's network or IPC namespace, opened in those namespaces (the
   * kernel looks such names up in the opener's), read-only as the sandbox's /proc is. */
  private openSysctl(task: Task, t: Target, flags: number): number | Errno {
    if ((flags & O_PATH) === 0 && (flags & O_ACCMODE) !== O_RDONLY) return EROFS;
    const fd = this.openTarget(task, t, flags, 0, 0);
    // EPERM: a sentry without CAP_SYS_ADMIN (rootless) cannot join the namespaces. Absent
    // is then the honest answer: the sentry's own would be the host's.
    if (fd === -EPERM.code) return ENOENT;
    return fd < 0 ? errnoOf(-fd) : fd;
  }
}

/** The mount ids in a mountinfo file; empty if it cannot be read. */
function mountIdsOf(path: string): Set<number> {
  try {
    return new Set(readFileSync(path, 'latin1').split('\n').filter(Boolean).map((line) => Number(line.slice(0, line.indexOf(' ')))));
  } catch {
    return new Set();
  }
}

/** The id of the launcher's /sys in a mountinfo file, or -1. */
function sysfsViewIdOf(path: string): number {
  try {
    const line = /^(\d+) \S+ \S+ \S+ \/sys \S+ .*- tmpfs sysfs /m.exec(readFileSync(path, 'latin1'));
    return line ? Number(line[1]) : -1;
  } catch {
    return -1;
  }
}

/** /proc/self, /proc/thread-self, /dev/fd and /dev/std* for this task, or null when the
 * path names none of them (or names exactly one of those links and the final component is
 * not followed). */
export function rewriteSelf(norm: string, task: Task, followFinal: boolean): string | null {
  const swap = (prefix: string, to: string): string | null =>
    (followFinal && norm === prefix) || norm.startsWith(`${prefix}/`) ? to + norm.slice(prefix.length) : null;
  return (
    swap('/proc/self', `/proc/${task.vpid}`) ??
    // Links into self/ that the sentry's walk would follow as its own self (absent from
    // the sandbox's pid namespace).
    swap('/proc/mounts', `/proc/${task.vpid}/mounts`) ??
    swap('/proc/net', `/proc/${task.vpid}/net`) ??
    swap('/proc/thread-self', `/proc/${task.vpid}/task/${task.vtid}`) ??
    swap('/dev/fd', `/proc/${task.vpid}/fd`) ??
    swap('/dev/stdin', `/proc/${task.vpid}/fd/0`) ??
    swap('/dev/stdout', `/proc/${task.vpid}/fd/1`) ??
    swap('/dev/stderr', `/proc/${task.vpid}/fd/2`)
  );
}
