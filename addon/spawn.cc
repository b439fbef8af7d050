// Starting the launcher and collecting its status, without node:child_process.
//
// Why not child_process.spawn: loading it (with net and the stream machinery behind it)
// costs every `tsvisor do` and OCI create ~7 ms before the sandbox can start, and libuv
// forks the whole Node process to exec; posix_spawn uses CLONE_VFORK. The status comes
// from a pidfd the caller watches (waitid P_PIDFD), so libuv's SIGCHLD handling, which
// reaps only the children it spawned, never races us for it.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.h"

namespace tsv {

namespace {

// The strings of a JS array, and a NULL-terminated argv over them.
struct CStrings {
  std::vector<std::string> items;
  std::vector<char*> ptrs;

  explicit CStrings(const Napi::Array& a) {
    items.reserve(a.Length());
    for (uint32_t i = 0; i < a.Length(); i++) items.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    for (std::string& s : items) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }

  bool HasNul() const {
    for (const std::string& s : items)
      if (s.find('\0') != std::string::npos) return true;
    return false;
  }
};

}  // namespace

// spawnProcess(path, argv, env, fds, newSession, cwd): the child's fd i is fds[i] and it
// has no other, its working directory is cwd, every signal has its default action and
// none is blocked, and with newSession it leads a session of its own. The pid or -errno.
Napi::Value SpawnProcess(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.spawnProcess(path, argv, env, fds, newSession, cwd)";
  if (!CheckArgs(info, {Arg::Str, Arg::StrArray, Arg::StrArray, Arg::NumArray, Arg::Bool, Arg::Str}, kUsage))
    return {};
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  CStrings argv(info[1].As<Napi::Array>());
  CStrings envp(info[2].As<Napi::Array>());
  std::string cwd = info[5].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos || cwd.find('\0') != std::string::npos || argv.HasNul() ||
      envp.HasNul())
    return Neg(env, EINVAL);
  Napi::Array fdList = info[3].As<Napi::Array>();
  const int count = static_cast<int>(fdList.Length());

  // Each source is first copied above every target, so that no dup2 of the file actions
  // overwrites a source still to be copied, and none is a dup2 of an fd onto itself
  // (which would leave its O_CLOEXEC set).
  std::vector<int> copies;
  auto closeCopies = [&copies] {
    for (int fd : copies) close(fd);
  };
  for (int i = 0; i < count; i++) {
    int fd = fcntl(Int(fdList.Get(i)), F_DUPFD_CLOEXEC, count);
    if (fd < 0) {
      int err = errno;
      closeCopies();
      return Neg(env, err);
    }
    copies.push_back(fd);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  for (int i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, copies[i], i);
  // Also those of ours that lack O_CLOEXEC (an embedder's, a test runner's channel).
  posix_spawn_file_actions_addclosefrom_np(&actions, count);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (info[4].As<Napi::Boolean>().Value()) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid = -1;
  int err = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.ptrs.data(), envp.ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  closeCopies();
  if (err != 0) return Neg(env, err);
  return Napi::Number::New(env, pid);
}

// waitPidfd(pidfd): reaps the process of pidfd if it has ended: {code, signal} (one of
// them null, as child_process reports an exit), -EAGAIN while it runs, or -errno.
Napi::Value WaitPidfd(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.waitPidfd(pidfd)")) return {};
  Napi::Env env = info.Env();
  siginfo_t si = {};
  if (NoIntr([&] { return waitid(P_PIDFD, static_cast<id_t>(Int(info[0])), &si, WEXITED | WNOHANG); }) < 0)
    return Neg(env, errno);
  if (si.si_pid == 0) return Neg(env, EAGAIN);
  Napi::Object status = Napi::Object::New(env);
  bool exited = si.si_code == CLD_EXITED;
  status.Set("code", exited ? Napi::Number::New(env, si.si_status) : env.Null());
  status.Set("signal", exited ? env.Null() : Napi::Number::New(env, si.si_status));
  return status;
}

}  // namespace tsv
