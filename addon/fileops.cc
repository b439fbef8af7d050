// Host file operations relative to dirfds (the sentry's path walk is built on them),
// pidfds, and the calling thread's filesystem credentials.
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

// Debian 12's headers predate some of these.
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#endif
#ifndef SYS_file_setattr
#define SYS_file_setattr 469
#endif

namespace tsv {
namespace {

// Copies a struct the kernel filled into a caller's Buffer of at least its size.
// R is 0 or -errno, as Sys returns it.
template <class T>
Napi::Value CopyOut(Napi::Env env, long r, const T& value, Napi::Buffer<uint8_t> out) {
  if (r < 0) return Num(env, r);
  memcpy(out.Data(), &value, sizeof value);
  return Napi::Number::New(env, 0);
}

}  // namespace

Napi::Value Openat2(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num, Arg::Num},
                 "Usage: native.openat2(dirfd, path, flags, mode, resolve)")) {
    return {};
  }
  std::string path;
  if (!Path(info[1], &path)) return Neg(info.Env(), EINVAL);
  open_how how = {};
  how.flags = U32(info[2]);
  how.mode = U32(info[3]);
  how.resolve = U32(info[4]);
  // why: RESOLVE_IN_ROOT / RESOLVE_NO_MAGICLINKS keep a path swapped in a race beneath
  // the backing root; openat(2) has no such guard (no glibc wrapper in 2.36)
  int dirfd = Int(info[0]);
  return Num(info.Env(), Sys([&] { return NoIntr([&] { return syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how); }); }));
}

Napi::Value Fstatat(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.fstatat(dirfd, path, flags, out)";
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Buf}, kUsage)) return {};
  Napi::Buffer<uint8_t> out = Buf(info[3]);
  if (out.Length() < sizeof(struct stat)) return Usage(info, kUsage);
  std::string path;
  if (!Path(info[1], &path)) return Neg(info.Env(), EINVAL);
  struct stat st;
  int dirfd = Int(info[0]), flags = Int(info[2]);
  return CopyOut(info.Env(), Sys([&] { return fstatat(dirfd, path.c_str(), &st, flags); }), st, out);
}

// fstat of the fd FD of the thread PIDFD names, through a duplicate taken with
// pidfd_getfd: a third of the cost of stat'ing its /proc/TID/fd/FD link, and what glibc's
// every fstat (a newfstatat with AT_EMPTY_PATH) comes to. -EBADF when FD is not open there.
Napi::Value FstatTaskFd(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.fstatTaskFd(pidfd, fd, out)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Buf}, kUsage)) return {};
  Napi::Buffer<uint8_t> out = Buf(info[2]);
  if (out.Length() < sizeof(struct stat)) return Usage(info, kUsage);
  // why: a duplicate of the task's fd (the sentry keeps CAP_SYS_PTRACE for this)
  long dup = syscall(SYS_pidfd_getfd, Int(info[0]), Int(info[1]), 0u);
  if (dup < 0) return Neg(info.Env(), errno);
  struct stat st;
  // why: the owner as the task's user namespace sees it
  long r = Sys([&] { return fstat(static_cast<int>(dup), &st); });
  // Not the file's last reference: the task still holds it, so no close-time effects.
  close(static_cast<int>(dup));
  return CopyOut(info.Env(), r, st, out);
}

Napi::Value Statx(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.statx(dirfd, path, flags, mask, out)";
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num, Arg::Buf}, kUsage)) return {};
  Napi::Buffer<uint8_t> out = Buf(info[4]);
  if (out.Length() < sizeof(struct statx)) return Usage(info, kUsage);
  std::string path;
  if (!Path(info[1], &path)) return Neg(info.Env(), EINVAL);
  struct statx stx;
  int dirfd = Int(info[0]), flags = Int(info[2]);
  unsigned mask = U32(info[3]);
  return CopyOut(info.Env(), Sys([&] { return statx(dirfd, path.c_str(), flags, mask, &stx); }), stx, out);
}

Napi::Value Readlinkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str}, "Usage: native.readlinkat(dirfd, path)")) return {};
  Napi::Env env = info.Env();
  std::string path;
  if (!Path(info[1], &path)) return Neg(env, EINVAL);
  // A full buffer may mean truncation: grow until the target fits (/proc magic links can
  // exceed PATH_MAX with a " (deleted)" suffix).
  int dirfd = Int(info[0]);
  for (size_t size = 4096; size <= (1u << 20); size *= 2) {
    std::vector<char> buf(size);
    long n = Sys([&] { return readlinkat(dirfd, path.c_str(), buf.data(), size); });
    if (n < 0) return Num(env, n);
    if (static_cast<size_t>(n) < size) return Name(env, buf.data(), static_cast<size_t>(n));
  }
  return Neg(env, ENAMETOOLONG);
}

Napi::Value Mkdirat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num}, "Usage: native.mkdirat(dirfd, name, mode)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[0]);
  mode_t mode = U32(info[2]);
  return Num(info.Env(), Sys([&] { return mkdirat(dirfd, name.c_str(), mode); }));
}

Napi::Value Mknodat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num},
                 "Usage: native.mknodat(dirfd, name, mode, dev)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[0]);
  mode_t mode = U32(info[2]);
  dev_t dev = static_cast<dev_t>(I64(info[3]));
  return Num(info.Env(), Sys([&] { return mknodat(dirfd, name.c_str(), mode, dev); }));
}

Napi::Value Unlinkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num}, "Usage: native.unlinkat(dirfd, name, flags)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[0]), flags = Int(info[2]);
  return Num(info.Env(), Sys([&] { return unlinkat(dirfd, name.c_str(), flags); }));
}

Napi::Value Renameat2(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Str, Arg::Num},
                 "Usage: native.renameat2(olddirfd, oldname, newdirfd, newname, flags)")) {
    return {};
  }
  std::string oldname, newname;
  if (!Path(info[1], &oldname) || !Path(info[3], &newname)) return Neg(info.Env(), EINVAL);
  int olddirfd = Int(info[0]), newdirfd = Int(info[2]);
  unsigned flags = U32(info[4]);
  return Num(info.Env(), Sys([&] { return renameat2(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), flags); }));
}

Napi::Value Linkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Str, Arg::Num},
                 "Usage: native.linkat(olddirfd, oldname, newdirfd, newname, flags)")) {
    return {};
  }
  std::string oldname, newname;
  if (!Path(info[1], &oldname) || !Path(info[3], &newname)) return Neg(info.Env(), EINVAL);
  int olddirfd = Int(info[0]), newdirfd = Int(info[2]), flags = Int(info[4]);
  return Num(info.Env(), Sys([&] { return linkat(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), flags); }));
}

Napi::Value Symlinkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Num, Arg::Str}, "Usage: native.symlinkat(target, dirfd, name)")) {
    return {};
  }
  std::string target, name;
  if (!Path(info[0], &target) || !Path(info[2], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[1]);
  return Num(info.Env(), Sys([&] { return symlinkat(target.c_str(), dirfd, name.c_str()); }));
}

Napi::Value Fchmodat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num},
                 "Usage: native.fchmodat(dirfd, name, mode, flags)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[0]);
  unsigned mode = U32(info[2]);
  int flags = Int(info[3]);
  // why: fchmodat(2) has no flags argument; fchmodat2 (6.6) honours AT_SYMLINK_NOFOLLOW and
  // AT_EMPTY_PATH without glibc's /proc emulation
  return Num(info.Env(), Sys([&] {
               return flags == 0 ? syscall(SYS_fchmodat, dirfd, name.c_str(), mode)
                                 : syscall(SYS_fchmodat2, dirfd, name.c_str(), mode, flags);
             }));
}

Napi::Value Fchownat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num, Arg::Num},
                 "Usage: native.fchownat(dirfd, name, uid, gid, flags)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  // -1 (or 0xffffffff) leaves the id unchanged, as in chown(2).
  uid_t uid = static_cast<uid_t>(I64(info[2]));
  gid_t gid = static_cast<gid_t>(I64(info[3]));
  int dirfd = Int(info[0]), flags = Int(info[4]);
  return Num(info.Env(), Sys([&] { return fchownat(dirfd, name.c_str(), uid, gid, flags); }));
}

Napi::Value Utimensat(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.utimensat(dirfd, name, times | null, flags)";
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::NumArrayOrNull, Arg::Num}, kUsage)) return {};
  timespec ts[2];
  timespec* times = nullptr;  // null: both "now"
  if (info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    if (a.Length() != 4) return Usage(info, kUsage);
    ts[0] = {static_cast<time_t>(I64(a.Get(0u))), static_cast<long>(I64(a.Get(1u)))};
    ts[1] = {static_cast<time_t>(I64(a.Get(2u))), static_cast<long>(I64(a.Get(3u)))};
    times = ts;
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  int dirfd = Int(info[0]), flags = Int(info[3]);
  return Num(info.Env(), Sys([&] { return utimensat(dirfd, name.c_str(), times, flags); }));
}

Napi::Value Faccessat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num, Arg::Num},
                 "Usage: native.faccessat(dirfd, name, mode, flags)")) {
    return {};
  }
  std::string name;
  if (!Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  // why: the kernel's own check, with flags (glibc 2.36 would emulate AT_EACCESS with
  // fstatat). Note: without AT_EACCESS the kernel checks the thread's *real* uid/gid; with
  // it, the fsuid/fsgid and effective capabilities that setThreadCreds sets.
  int dirfd = Int(info[0]), mode = Int(info[2]), flags = Int(info[3]);
  return Num(info.Env(), Sys([&] { return syscall(SYS_faccessat2, dirfd, name.c_str(), mode, flags); }));
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num}, "Usage: native.ftruncate(fd, length)")) return {};
  int fd = Int(info[0]);
  off_t length = static_cast<off_t>(I64(info[1]));
  return Num(info.Env(), Sys([&] { return NoIntr([&] { return ftruncate(fd, length); }); }));
}

Napi::Value Fstatfs(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.fstatfs(fd, out)";
  if (!CheckArgs(info, {Arg::Num, Arg::Buf}, kUsage)) return {};
  Napi::Buffer<uint8_t> out = Buf(info[1]);
  if (out.Length() < sizeof(struct statfs)) return Usage(info, kUsage);
  struct statfs sfs;
  int fd = Int(info[0]);
  return CopyOut(info.Env(), Sys([&] { return fstatfs(fd, &sfs); }), sfs, out);
}

// ---- processes

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num}, "Usage: native.pidfdOpen(pid, flags)")) return {};
  // why: a handle on the process that cannot be confused with a recycled pid
  return Ret(info.Env(), syscall(SYS_pidfd_open, Int(info[0]), U32(info[1])));
}

Napi::Value PidfdGetfd(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num}, "Usage: native.pidfdGetfd(pidfd, targetfd)")) return {};
  // why: duplicate one of the target's fds into this process (the kernel sets O_CLOEXEC)
  return Ret(info.Env(), syscall(SYS_pidfd_getfd, Int(info[0]), Int(info[1]), 0u));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num}, "Usage: native.pidfdSendSignal(pidfd, sig)")) return {};
  // why: signal exactly the process the pidfd names, never a pid reused since
  return Ret(info.Env(), syscall(SYS_pidfd_send_signal, Int(info[0]), Int(info[1]), nullptr, 0u));
}

// Every change below is a raw syscall on purpose: credentials are per thread in the
// kernel, and glibc's setgroups (like setuid & co.) broadcasts the change to every thread
// of the process (the setxid signal dance). Raw, only the calling thread changes, so one
// thread can act as a sandboxed user while the rest of the sentry keeps its own ids.
// On error the thread may be left partly changed; the caller restores its own creds.
// Extended attributes of the file a path names (the sentry passes /proc/self/fd/N of an
// O_PATH fd it resolved, which f*xattr cannot take). out may be empty to ask for the size.
Napi::Value Getxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Str, Arg::Buf}, "Usage: native.getxattr(path, name, out)")) return {};
  std::string path, name;
  if (!Path(info[0], &path) || !Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  Napi::Buffer<uint8_t> out = Buf(info[2]);
  // why: the value of one attribute, or its size when out is empty
  return Num(info.Env(), Sys([&] { return getxattr(path.c_str(), name.c_str(), out.Data(), out.Length()); }));
}

Napi::Value Listxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Buf}, "Usage: native.listxattr(path, out)")) return {};
  std::string path;
  if (!Path(info[0], &path)) return Neg(info.Env(), EINVAL);
  Napi::Buffer<uint8_t> out = Buf(info[1]);
  // why: NUL-separated names, or their total size when out is empty
  return Num(info.Env(), Sys([&] { return listxattr(path.c_str(), reinterpret_cast<char*>(out.Data()), out.Length()); }));
}

Napi::Value Setxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Str, Arg::Buf, Arg::Num}, "Usage: native.setxattr(path, name, value, flags)")) {
    return {};
  }
  std::string path, name;
  if (!Path(info[0], &path) || !Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  Napi::Buffer<uint8_t> value = Buf(info[2]);
  // why: set one attribute (XATTR_CREATE / XATTR_REPLACE in flags)
  int flags = Int(info[3]);
  return Num(info.Env(), Sys([&] { return setxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), flags); }));
}

Napi::Value Removexattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Str}, "Usage: native.removexattr(path, name)")) return {};
  std::string path, name;
  if (!Path(info[0], &path) || !Path(info[1], &name)) return Neg(info.Env(), EINVAL);
  // why: remove one attribute
  return Num(info.Env(), Sys([&] { return removexattr(path.c_str(), name.c_str()); }));
}

Napi::Value FileAttr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Buf, Arg::Bool}, "Usage: native.fileAttr(path, attr, set)")) return {};
  std::string path;
  if (!Path(info[0], &path)) return Neg(info.Env(), EINVAL);
  Napi::Buffer<uint8_t> attr = Buf(info[1]);
  long nr = info[2].As<Napi::Boolean>().Value() ? SYS_file_setattr : SYS_file_getattr;
  // why: the inode flags (FS_IOC_FSGETXATTR's) of one file, read or changed by path
  return Num(info.Env(), Sys([&] { return syscall(nr, AT_FDCWD, path.c_str(), attr.Data(), attr.Length(), 0); }));
}

Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num}, "Usage: native.inotifyAddWatch(fd, path, mask)")) return {};
  std::string path;
  if (!Path(info[1], &path)) return Neg(info.Env(), EINVAL);
  // why: a watch on the instance behind fd (the sentry's dup of the task's fd)
  int fd = Int(info[0]);
  uint32_t mask = U32(info[2]);
  return Num(info.Env(), Sys([&] { return inotify_add_watch(fd, path.c_str(), mask); }));
}

Napi::Value OpenInNamespacesOf(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Str, Arg::Num}, "Usage: native.openInNamespacesOf(pid, path, flags)")) {
    return {};
  }
  std::string path;
  if (!Path(info[1], &path)) return Neg(info.Env(), EINVAL);
  int flags = Int(info[2]);
  // why: in the task's network and IPC namespaces the kernel looks up the sysctls they
  // scope; the open itself is checked with the task's identity
  long r = InNamespacesOf(Int(info[0]), CLONE_NEWNET | CLONE_NEWIPC, false, [&]() -> long {
    int fd = open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
  });
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value SetThreadCreds(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::NumArray, Arg::Num, Arg::Num},
                 "Usage: native.setThreadCreds(fsuid, fsgid, groups, capEffLow, capEffHigh)")) {
    return {};
  }
  uid_t fsuid = U32(info[0]);
  gid_t fsgid = U32(info[1]);
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<gid_t> groups(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) groups[i] = U32(list.Get(i));
  uint32_t effLow = U32(info[3]), effHigh = U32(info[4]);

  // why: this thread's, or those of the actor it routes to (ids as its namespace has them)
  return Num(info.Env(), Act([&]() -> long {
               __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
               __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
               // why: learn the permitted set, which stays as it is
               if (syscall(SYS_capget, &hdr, caps) < 0) return -errno;
               // why: effective = permitted first, so CAP_SETGID/CAP_SETUID allow the id changes
               for (auto& c : caps) c.effective = c.permitted;
               if (syscall(SYS_capset, &hdr, caps) < 0) return -errno;
               // why: supplementary groups of this thread only
               if (syscall(SYS_setgroups, groups.size(), groups.data()) < 0) return -errno;
               // why: setfs[ug]id report no error; asking again with -1 (always refused)
               // returns the id now in force
               syscall(SYS_setfsgid, fsgid);
               if (static_cast<gid_t>(syscall(SYS_setfsgid, -1)) != fsgid) return -EPERM;
               syscall(SYS_setfsuid, fsuid);
               if (static_cast<uid_t>(syscall(SYS_setfsuid, -1)) != fsuid) return -EPERM;
               // why: effective last: moving fsuid to or from 0 rewrote its filesystem capabilities
               caps[0].effective = effLow;
               caps[1].effective = effHigh;
               if (syscall(SYS_capset, &hdr, caps) < 0) return -errno;
               return 0;
             }));
}

}  // namespace tsv
