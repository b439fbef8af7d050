// The only place the C++ addon is loaded. Everything it exports is declared here, so the
// rest of the sentry sees a typed surface. Conventions, kept by every export:
//  - numbers in, numbers out; a negative return is -errno (never an exception), so the
//    hot path pays no try/catch and handlers forward kernel errors unchanged;
//  - "addr" arguments are tracee addresses as JS numbers (x86_64 user space is < 2^47,
//    exact in a double);
//  - notification ids are bigint (the kernel's u64 cookie);
//  - names (paths, xattr names, link targets) are strings of one character per byte
//    (latin1), both ways: Linux names are bytes, and a UTF-8 round trip would change a
//    name that is not valid UTF-8. Text from elsewhere (a user's flag) must be converted
//    before it is used as a name.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

/** A readable-fd watcher on the calling thread's libuv loop. */
export interface Watcher {
  stop(): void;
}

/** Result of a non-blocking recvmsg: bytes received (0 = peer closed) and any fds. */
export interface RecvResult {
  n: number;
  fds: number[];
}

export interface Native {
  // ---- fds and messages (the launcher channel is an AF_UNIX SOCK_SEQPACKET pair)
  /** socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC) → [a, b]; throws only on usage. */
  socketpair(): [number, number];
  /** pipe2(O_CLOEXEC) → [read end, write end]; both -errno on failure. */
  pipe(): [number, number];
  /** Clear or set FD_CLOEXEC. 0 or -errno. */
  setCloexec(fd: number, on: boolean): number;
  close(fd: number): number;
  /** recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC) into buf; -EAGAIN when nothing is queued. */
  recvMsg(fd: number, buf: Buffer): RecvResult | number;
  /** sendmsg of data with fds as SCM_RIGHTS. Bytes sent or -errno. */
  sendMsg(fd: number, data: Buffer, fds: number[]): number;
  /** uv_poll for readability on this thread's loop; cb runs on every readiness (and on
   * errors, so the callback can notice EOF). -errno for an fd that cannot be polled or is
   * already watched. libuv makes the fd non-blocking; stop() before closing the fd. */
  watchReadable(fd: number, cb: () => void): Watcher | number;
  /** open(2) of PATH with FLAGS on libuv's thread pool, for one that may block for ever
   * (a FIFO); DONE gets the fd or -errno. cancel() makes a pending open return -EINTR. */
  openBlocking(path: string, flags: number, done: (fd: number) => void): { cancel(): void };
  /** write(2) of the whole buffer (loops on short writes). Bytes or -errno. */
  write(fd: number, buf: Buffer): number;
  /** memfd_create(name, flags). fd or -errno. */
  memfdCreate(name: string, flags: number): number;
  /** A sealed read-only memfd holding data (F_SEAL_WRITE|SHRINK|GROW|SEAL), reopened
   * O_RDONLY via /proc/self/fd so the fd handed out cannot be written. fd or -errno. */
  memfdSnapshot(name: string, data: Buffer): number;

  // ---- seccomp user notification (struct layouts: linux/seccomp.h)
  /** SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP). 0 or -errno. */
  notifSetSyncWakeup(listener: number): number;
  /** poll(0) then SECCOMP_IOCTL_NOTIF_RECV into out (>= 80 bytes, struct seccomp_notif).
   * 0, -EAGAIN when nothing is pending, -EPIPE once no task uses the filter any more, or
   * -errno (-ENOENT: the target died). */
  notifRecv(listener: number, out: Buffer): number;
  /** SECCOMP_IOCTL_NOTIF_SEND. flags: SECCOMP_USER_NOTIF_FLAG_CONTINUE (1) or 0.
   * error is a positive errno or 0. 0 or -errno (-ENOENT: the call was abandoned). */
  notifRespond(listener: number, id: bigint, val: number, error: number, flags: number): number;
  /** SECCOMP_IOCTL_NOTIF_ADDFD: installs srcfd in the target with newfdFlags (O_CLOEXEC or
   * 0). With send (ADDFD_FLAG_SEND) that also answers the call with the new fd's number;
   * without, the call still waits for its answer. The new fd's number or -errno. */
  notifAddFd(listener: number, id: bigint, srcfd: number, newfdFlags: number, send: boolean): number;
  /** SECCOMP_IOCTL_NOTIF_ID_VALID. */
  notifIdValid(listener: number, id: bigint): boolean;

  // ---- tracee memory (process_vm_readv / process_vm_writev)
  /** Reads len bytes at addr into dst[0..len). Bytes read (may be short) or -errno. */
  readMem(pid: number, addr: number, dst: Buffer, len: number): number;
  /** Reads a NUL-terminated string of at most max bytes (NUL excluded), page by page so a
   * string ending just before an unmapped page still reads. -EFAULT on a bad address,
   * -ENAMETOOLONG when no NUL is found within max bytes. */
  readString(pid: number, addr: number, max: number): string | number;
  /** Writes src[0..len) at addr. Bytes written or -errno (short write → -EFAULT). */
  writeMem(pid: number, addr: number, src: Buffer, len: number): number;

  // ---- host file operations relative to dirfds (the sentry's path walk is built on them)
  /** openat2(dirfd, path, {flags, mode, resolve}). fd or -errno. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** fstatat into out (>= 144 bytes, struct stat). 0 or -errno. */
  fstatat(dirfd: number, path: string, flags: number, out: Buffer): number;
  /** statx into out (>= 256 bytes, struct statx). 0 or -errno. */
  statx(dirfd: number, path: string, flags: number, mask: number, out: Buffer): number;
  /** fstat of fd FD of the thread PIDFD names into out (struct stat), through a
   * pidfd_getfd duplicate. 0 or -errno (-EBADF: not open there). */
  fstatTaskFd(pidfd: number, fd: number, out: Buffer): number;
  /** readlinkat; the target or -errno. */
  readlinkat(dirfd: number, path: string): string | number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  mknodat(dirfd: number, name: string, mode: number, dev: number): number;
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat2(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): number;
  linkat(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  /** fchmodat2 (falls back to fchmodat when flags are 0). 0 or -errno. */
  fchmodat(dirfd: number, name: string, mode: number, flags: number): number;
  fchownat(dirfd: number, name: string, uid: number, gid: number, flags: number): number;
  /** times: null for "now", or [atimeSec, atimeNsec, mtimeSec, mtimeNsec] (UTIME_NOW /
   * UTIME_OMIT allowed in the nsec slots). 0 or -errno. */
  utimensat(dirfd: number, name: string, times: number[] | null, flags: number): number;
  /** faccessat2(dirfd, name, mode, flags) as the calling thread's credentials. */
  faccessat(dirfd: number, name: string, mode: number, flags: number): number;
  ftruncate(fd: number, length: number): number;
  /** fstatfs into out (>= 120 bytes, struct statfs). 0 or -errno. */
  fstatfs(fd: number, out: Buffer): number;

  // ---- extended attributes of the file a path names (the sentry passes /proc/self/fd/N)
  /** Value length (out empty: the size needed) or -errno. */
  getxattr(path: string, name: string, out: Buffer): number;
  /** Length of the NUL-separated names (out empty: the size needed) or -errno. */
  listxattr(path: string, out: Buffer): number;
  setxattr(path: string, name: string, value: Buffer, flags: number): number;
  removexattr(path: string, name: string): number;
  /** file_getattr(2) (set false: into attr) or file_setattr(2) (set: from attr) on path,
   * following symlinks; attr is a struct file_attr of the caller's size. 0 or -errno. */
  fileAttr(path: string, attr: Buffer, set: boolean): number;

  /** inotify_add_watch on the instance behind fd. Watch descriptor or -errno. */
  inotifyAddWatch(fd: number, path: string, mask: number): number;

  // ---- processes
  pidfdOpen(pid: number, flags: number): number;
  /** pidfd_getfd: a dup of the target's fd in this process (O_CLOEXEC). fd or -errno. */
  pidfdGetfd(pidfd: number, targetfd: number): number;
  pidfdSendSignal(pidfd: number, sig: number): number;
  /** open(2) of path (O_CLOEXEC and O_NOFOLLOW added) from a thread that has joined the
   * network and IPC namespaces of process pid: the sysctls and /proc/sysvipc files those
   * namespaces scope are looked up in the opener's. The fd or -errno. */
  openInNamespacesOf(pid: number, path: string, flags: number): number;
  /** Sets this thread's fsuid, fsgid, supplementary groups and effective capabilities
   * (raw syscalls: only the calling thread changes), or, while it routes to an actor,
   * the actor's (ids as the actor's user namespace has them). 0 or -errno. */
  setThreadCreds(fsuid: number, fsgid: number, groups: number[], capEffLow: number, capEffHigh: number): number;

  // ---- actors: file work inside a sandbox's user namespace (addon/actor.cc)
  /** A new actor in the user namespace of process pid: a handle (> 0) of this thread's, or
   * -errno. */
  actorOpen(pid: number): number;
  /** From now on this thread's file calls (the fileops above, setThreadCreds) run in the
   * actor HANDLE; 0: on the thread itself again. 0 or -EINVAL for an unknown handle. */
  actorUse(handle: number): number;
  /** Ends the actor HANDLE (and stops routing to it). 0 or -EINVAL. */
  actorClose(handle: number): number;

  // ---- starting a process (the launcher) without node:child_process
  /** posix_spawn of path (argv[0] included in argv, env as KEY=VALUE) whose fd i is
   * fds[i], in cwd, with default signal actions and nothing blocked, setsid if newSession.
   * The pid or -errno. */
  spawnProcess(path: string, argv: string[], env: string[], fds: number[], newSession: boolean, cwd: string): number;
  /** Reaps the ended process of pidfd: its exit code or killing signal number, the other
   * null. -EAGAIN while it runs. */
  waitPidfd(pidfd: number): { code: number | null; signal: number | null } | number;

  // ---- mounts a task may make in its sandbox (made in the mount namespace of process pid)
  /** A new tmpfs with options ("key=value" or "flag") and per-mount attrs (MOUNT_ATTR_*),
   * attached at the directory targetFd (an O_PATH fd). 0 or -errno. */
  mountTmpfs(pid: number, targetFd: number, options: string[], attrs: number): number;
  /** A bind of the mount at sourceFd (with its submounts if recursive) at targetFd. 0 or -errno. */
  mountBind(pid: number, sourceFd: number, targetFd: number, recursive: boolean): number;
  /** mount_setattr(2) of the mount at targetFd. 0 or -errno. */
  mountSetattr(pid: number, targetFd: number, set: number, clear: number): number;
  /** umount2(name, flags | UMOUNT_NOFOLLOW) from the directory parentFd. 0 or -errno. */
  unmount(pid: number, parentFd: number, name: string, flags: number): number;
}

const root = PACKAGE_ROOT;

/** Directory holding the built addon and launcher (build/Release, else build/Debug). */
export function buildDir(): string {
  const tried = [join(root, 'build', 'Release'), join(root, 'build', 'Debug')];
  for (const dir of tried) if (existsSync(join(dir, 'tsvisor_native.node'))) return dir;
  throw new Error(
    `native addon not built (looked in ${tried.join(', ')}); run \`npm ci\` or \`npx node-gyp rebuild\``,
  );
}

/** Path of the launcher executable built beside the addon. */
export function launcherPath(): string {
  return join(buildDir(), 'tsvisor-launcher');
}

let loaded: Native | undefined;

/** The addon, loaded once per thread's module instance. */
export function native(): Native {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = require(join(buildDir(), 'tsvisor_native.node')) as Native;
  }
  return loaded;
}

/** watchReadable for fds the sentry itself set up: failing to watch one is a bug. */
export function watch(fd: number, cb: () => void): Watcher {
  const w = native().watchReadable(fd, cb);
  if (typeof w === 'number') throw new Error(`watching fd ${fd}: errno ${-w}`);
  return w;
}
