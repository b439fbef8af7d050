// The mounts a task may make in its sandbox (src/sentry/syscalls/mount.ts decides which):
// made in the sandbox's mount namespace by a thread that has joined it, with the new
// mount API on fds the sentry resolved beneath the sandbox root. The kernel refuses to
// clone or attach mounts of any other namespace (check_mnt), so nothing of the host's
// can be brought in, whatever an fd names.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.h"

namespace tsv {
namespace {

// Attaches the detached mount MNT (closed here) at the directory TARGET (an O_PATH fd).
long Attach(int mnt, int target) {
  int r = move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int err = errno;
  close(mnt);
  return r < 0 ? -err : 0;
}

}  // namespace

Napi::Value MountTmpfs(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.mountTmpfs(pid, targetFd, options, attrs)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::StrArray, Arg::Num}, kUsage)) return {};
  Napi::Array list = info[2].As<Napi::Array>();
  std::vector<std::string> options(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    if (!Path(list.Get(i), &options[i])) return Neg(info.Env(), EINVAL);
  }
  int target = Int(info[1]);
  unsigned attrs = U32(info[3]);
  long r = InNamespacesOf(Int(info[0]), CLONE_NEWNS, true, [&]() -> long {
    // why: a new tmpfs superblock, configured option by option (key=value, or a flag)
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return -errno;
    for (const std::string& o : options) {
      size_t eq = o.find('=');
      int c = eq == std::string::npos
                  ? fsconfig(fs, FSCONFIG_SET_FLAG, o.c_str(), nullptr, 0)
                  : fsconfig(fs, FSCONFIG_SET_STRING, o.substr(0, eq).c_str(), o.c_str() + eq + 1, 0);
      if (c < 0) {
        int err = errno;
        close(fs);
        return -err;
      }
    }
    // why: create it, and a mount of it with the per-mount flags asked for
    int mnt = fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0 ? -1 : fsmount(fs, FSMOUNT_CLOEXEC, attrs);
    int err = errno;
    close(fs);
    return mnt < 0 ? -err : Attach(mnt, target);
  });
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value MountBind(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.mountBind(pid, sourceFd, targetFd, recursive)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Num, Arg::Bool}, kUsage)) return {};
  int source = Int(info[1]), target = Int(info[2]);
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                   (info[3].As<Napi::Boolean>().Value() ? AT_RECURSIVE : 0);
  long r = InNamespacesOf(Int(info[0]), CLONE_NEWNS, true, [&]() -> long {
    // why: a copy of the mount (tree) at source, to attach at target
    int tree = open_tree(source, "", flags);
    return tree < 0 ? -errno : Attach(tree, target);
  });
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value MountSetattr(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.mountSetattr(pid, targetFd, set, clear)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Num, Arg::Num}, kUsage)) return {};
  int target = Int(info[1]);
  mount_attr attr = {};
  attr.attr_set = U32(info[2]);
  attr.attr_clr = U32(info[3]);
  long r = InNamespacesOf(Int(info[0]), CLONE_NEWNS, true, [&]() -> long {
    // why: the per-mount flags of the mount at target (read-only, nosuid, ...)
    return mount_setattr(target, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ? -errno : 0;
  });
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

Napi::Value Unmount(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.unmount(pid, parentFd, name, flags)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Str, Arg::Num}, kUsage)) return {};
  std::string name;
  if (!Path(info[2], &name) || name.find('/') != std::string::npos) return Neg(info.Env(), EINVAL);
  int parent = Int(info[1]), flags = Int(info[3]);
  long r = InNamespacesOf(Int(info[0]), CLONE_NEWNS, true, [&]() -> long {
    // why: umount2 takes a name only: one component, looked up from the mount point's
    // directory, never following a symlink put there meanwhile
    if (fchdir(parent) < 0) return -errno;
    return umount2(name.c_str(), flags | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
  });
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

}  // namespace tsv
