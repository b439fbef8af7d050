// Shared helpers of the tsvisor addon: argument checking and the "-errno as a number"
// return convention described in src/native.ts. No state lives here.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>

namespace tsv {

// What each argument of an export must be. Checked once, at the top of the export.
enum class Arg {
  Num,          // a JS number
  Str,          // a JS string
  Buf,          // a Buffer
  Big,          // a bigint
  Fn,           // a function
  Bool,         // a boolean
  NumArray,     // an array of numbers
  NumArrayOrNull,  // an array of numbers, null or undefined
  StrArray      // an array of strings
};

inline bool IsArrayOf(const Napi::Value& v, bool (Napi::Value::*is)() const) {
  if (!v.IsArray()) return false;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    if (!(a.Get(i).*is)()) return false;
  }
  return true;
}

inline bool IsNumArray(const Napi::Value& v) { return IsArrayOf(v, &Napi::Value::IsNumber); }

inline bool IsKind(const Napi::Value& v, Arg kind) {
  switch (kind) {
    case Arg::Num: return v.IsNumber();
    case Arg::Str: return v.IsString();
    case Arg::Buf: return v.IsBuffer();
    case Arg::Big: return v.IsBigInt();
    case Arg::Fn: return v.IsFunction();
    case Arg::Bool: return v.IsBoolean();
    case Arg::NumArray: return IsNumArray(v);
    case Arg::NumArrayOrNull: return v.IsNull() || v.IsUndefined() || IsNumArray(v);
    case Arg::StrArray: return IsArrayOf(v, &Napi::Value::IsString);
  }
  return false;
}

// Throws TypeError(usage) and returns false unless info holds exactly `kinds`.
inline bool CheckArgs(const Napi::CallbackInfo& info, std::initializer_list<Arg> kinds,
                      const char* usage) {
  bool ok = info.Length() == kinds.size();
  size_t i = 0;
  for (Arg kind : kinds) {
    if (!ok) break;
    ok = IsKind(info[i++], kind);
  }
  if (!ok) Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
  return ok;
}

// Throws TypeError(usage) for an argument that has the right type but a wrong value.
inline Napi::Value Usage(const Napi::CallbackInfo& info, const char* usage) {
  Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

inline int Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
inline uint32_t U32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }
inline int64_t I64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
inline double Dbl(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
inline Napi::Buffer<uint8_t> Buf(const Napi::Value& v) { return v.As<Napi::Buffer<uint8_t>>(); }

// A tracee address: a JS number that must be an integer in [0, 2^64). False otherwise
// (the caller answers -EFAULT: a bad pointer is EFAULT, not an exception).
inline bool Addr(const Napi::Value& v, uintptr_t* out) {
  double d = Dbl(v);
  if (!(d >= 0 && d < 18446744073709551616.0)) return false;
  *out = static_cast<uintptr_t>(d);
  return true;
}

// A notification id: a bigint that fits a u64 exactly.
inline bool Id(const Napi::Value& v, uint64_t* out) {
  bool lossless = false;
  *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  return lossless;
}

// Names (paths, xattr names, link targets) cross between JS and C as strings of one
// character per byte (latin1). Linux names are bytes, not text: decoding them as UTF-8
// would turn an invalid sequence (a name with byte 0xff, say) into U+FFFD, and the sentry
// would then open or create another name than the task gave.

// A name's bytes. False if it holds a NUL, which C would silently cut the name at (the
// caller answers -EINVAL).
inline bool Path(const Napi::Value& v, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_latin1(v.Env(), v, nullptr, 0, &len) != napi_ok) return false;
  out->resize(len);
  napi_get_value_string_latin1(v.Env(), v, out->data(), len + 1, &len);
  return out->find('\0') == std::string::npos;
}

// BYTES as a JS name string.
inline Napi::String Name(Napi::Env env, const char* bytes, size_t len) {
  napi_value v;
  napi_create_string_latin1(env, bytes, len, &v);
  return Napi::String(env, v);
}

inline Napi::Value Neg(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// The result of a libc/syscall call: r itself, or -errno when r < 0.
// errno is read before anything else can run and clobber it.
inline Napi::Value Ret(Napi::Env env, long r) {
  return Napi::Number::New(env, r < 0 ? -errno : static_cast<double>(r));
}

// Repeats a call interrupted by a signal (our own process's signals, e.g. SIGCHLD).
template <class F>
long NoIntr(F f) {
  long r;
  do r = f();
  while (r < 0 && errno == EINTR);
  return r;
}

// actor.cc: runs fn, a syscall-style call (r, or -errno), on this thread or, while the
// thread routes its file work to an actor inside a sandbox's user namespace, there.
long Act(const std::function<long()>& fn);

// A libc/syscall call F (r, or -1 and errno) made as Act makes it: r, or -errno. errno is
// read where the call ran, before anything else can clobber it.
template <class F>
long Sys(F f) {
  return Act([&]() -> long {
    long r = f();
    return r < 0 ? -errno : r;
  });
}

// A result that is already r or -errno, as a JS number.
inline Napi::Value Num(Napi::Env env, long r) { return Napi::Number::New(env, static_cast<double>(r)); }

// nsthread.cc: runs fn on a short-lived thread that has joined the namespaces NSTYPES
// (CLONE_NEW*) of process pid, with CAP_SYS_ADMIN (and CAP_SYS_CHROOT) effective while
// joining and, with keepAdmin, while fn runs. fn's result, or -errno.
long InNamespacesOf(pid_t pid, int nstypes, bool keepAdmin, const std::function<long()>& fn);

// Exports, one function per JS name (registered in native.cc).
using Export = Napi::Value (*)(const Napi::CallbackInfo&);

// io.cc
Napi::Value Socketpair(const Napi::CallbackInfo& info);
Napi::Value Pipe(const Napi::CallbackInfo& info);
Napi::Value SetCloexec(const Napi::CallbackInfo& info);
Napi::Value Close(const Napi::CallbackInfo& info);
Napi::Value RecvMsg(const Napi::CallbackInfo& info);
Napi::Value SendMsg(const Napi::CallbackInfo& info);
Napi::Value WatchReadable(const Napi::CallbackInfo& info);
// blocking.cc
Napi::Value OpenBlocking(const Napi::CallbackInfo& info);
Napi::Value Write(const Napi::CallbackInfo& info);
Napi::Value MemfdCreate(const Napi::CallbackInfo& info);
Napi::Value MemfdSnapshot(const Napi::CallbackInfo& info);
// notify.cc
Napi::Value NotifSetSyncWakeup(const Napi::CallbackInfo& info);
Napi::Value NotifRecv(const Napi::CallbackInfo& info);
Napi::Value NotifRespond(const Napi::CallbackInfo& info);
Napi::Value NotifAddFd(const Napi::CallbackInfo& info);
Napi::Value NotifIdValid(const Napi::CallbackInfo& info);
// memory.cc
Napi::Value ReadMem(const Napi::CallbackInfo& info);
Napi::Value ReadString(const Napi::CallbackInfo& info);
Napi::Value WriteMem(const Napi::CallbackInfo& info);
// fileops.cc
Napi::Value Openat2(const Napi::CallbackInfo& info);
Napi::Value Fstatat(const Napi::CallbackInfo& info);
Napi::Value Statx(const Napi::CallbackInfo& info);
Napi::Value FstatTaskFd(const Napi::CallbackInfo& info);
Napi::Value Readlinkat(const Napi::CallbackInfo& info);
Napi::Value Mkdirat(const Napi::CallbackInfo& info);
Napi::Value Mknodat(const Napi::CallbackInfo& info);
Napi::Value Unlinkat(const Napi::CallbackInfo& info);
Napi::Value Renameat2(const Napi::CallbackInfo& info);
Napi::Value Linkat(const Napi::CallbackInfo& info);
Napi::Value Symlinkat(const Napi::CallbackInfo& info);
Napi::Value Fchmodat(const Napi::CallbackInfo& info);
Napi::Value Fchownat(const Napi::CallbackInfo& info);
Napi::Value Utimensat(const Napi::CallbackInfo& info);
Napi::Value Faccessat(const Napi::CallbackInfo& info);
Napi::Value Ftruncate(const Napi::CallbackInfo& info);
Napi::Value Fstatfs(const Napi::CallbackInfo& info);
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);
Napi::Value PidfdGetfd(const Napi::CallbackInfo& info);
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info);
Napi::Value Getxattr(const Napi::CallbackInfo& info);
Napi::Value Listxattr(const Napi::CallbackInfo& info);
Napi::Value Setxattr(const Napi::CallbackInfo& info);
Napi::Value Removexattr(const Napi::CallbackInfo& info);
Napi::Value FileAttr(const Napi::CallbackInfo& info);
Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info);
Napi::Value OpenInNamespacesOf(const Napi::CallbackInfo& info);
Napi::Value SetThreadCreds(const Napi::CallbackInfo& info);
// actor.cc
Napi::Value ActorOpen(const Napi::CallbackInfo& info);
Napi::Value ActorUse(const Napi::CallbackInfo& info);
Napi::Value ActorClose(const Napi::CallbackInfo& info);
// mounts.cc
Napi::Value MountTmpfs(const Napi::CallbackInfo& info);
Napi::Value MountBind(const Napi::CallbackInfo& info);
Napi::Value MountSetattr(const Napi::CallbackInfo& info);
Napi::Value Unmount(const Napi::CallbackInfo& info);
// spawn.cc
Napi::Value SpawnProcess(const Napi::CallbackInfo& info);
Napi::Value WaitPidfd(const Napi::CallbackInfo& info);

}  // namespace tsv
