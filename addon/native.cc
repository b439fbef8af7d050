// Module registration: every export of the addon, by the name src/native.ts declares.
// NODE_API_MODULE is context-aware, so the addon loads in worker_threads too; the
// functions keep no global mutable state (actor.cc's is per thread).
#include "common.h"

namespace tsv {
namespace {

struct Entry {
  const char* name;
  Export fn;
};

const Entry kExports[] = {
    // io.cc: fds, messages, readiness, memfds
    {"socketpair", Socketpair},
    {"pipe", Pipe},
    {"setCloexec", SetCloexec},
    {"close", Close},
    {"recvMsg", RecvMsg},
    {"sendMsg", SendMsg},
    {"watchReadable", WatchReadable},
    {"openBlocking", OpenBlocking},
    {"write", Write},
    {"memfdCreate", MemfdCreate},
    {"memfdSnapshot", MemfdSnapshot},
    // notify.cc: seccomp user notification
    {"notifSetSyncWakeup", NotifSetSyncWakeup},
    {"notifRecv", NotifRecv},
    {"notifRespond", NotifRespond},
    {"notifAddFd", NotifAddFd},
    {"notifIdValid", NotifIdValid},
    // memory.cc: tracee memory
    {"readMem", ReadMem},
    {"readString", ReadString},
    {"writeMem", WriteMem},
    // fileops.cc: host file operations, pidfds, thread credentials
    {"openat2", Openat2},
    {"fstatat", Fstatat},
    {"statx", Statx},
    {"fstatTaskFd", FstatTaskFd},
    {"readlinkat", Readlinkat},
    {"mkdirat", Mkdirat},
    {"mknodat", Mknodat},
    {"unlinkat", Unlinkat},
    {"renameat2", Renameat2},
    {"linkat", Linkat},
    {"symlinkat", Symlinkat},
    {"fchmodat", Fchmodat},
    {"fchownat", Fchownat},
    {"utimensat", Utimensat},
    {"faccessat", Faccessat},
    {"ftruncate", Ftruncate},
    {"fstatfs", Fstatfs},
    {"pidfdOpen", PidfdOpen},
    {"pidfdGetfd", PidfdGetfd},
    {"pidfdSendSignal", PidfdSendSignal},
    {"getxattr", Getxattr},
    {"listxattr", Listxattr},
    {"setxattr", Setxattr},
    {"removexattr", Removexattr},
    {"fileAttr", FileAttr},
    {"inotifyAddWatch", InotifyAddWatch},
    {"openInNamespacesOf", OpenInNamespacesOf},
    {"setThreadCreds", SetThreadCreds},
    // actor.cc: file work inside a sandbox's user namespace
    {"actorOpen", ActorOpen},
    {"actorUse", ActorUse},
    {"actorClose", ActorClose},
    // mounts.cc: the mounts a task may make in its sandbox
    {"mountTmpfs", MountTmpfs},
    {"mountBind", MountBind},
    {"mountSetattr", MountSetattr},
    {"unmount", Unmount},
    // spawn.cc: the launcher's process
    {"spawnProcess", SpawnProcess},
    {"waitPidfd", WaitPidfd},
};

}  // namespace
}  // namespace tsv

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const tsv::Entry& e : tsv::kExports) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

NODE_API_MODULE(tsvisor_native, Init)
