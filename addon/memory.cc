// Tracee memory: process_vm_readv / process_vm_writev (no ptrace stop needed; the kernel
// checks PTRACE_MODE_ATTACH_REALCREDS against the target).
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common.h"

namespace tsv {
namespace {

constexpr size_t kPage = 4096;  // x86_64

// Checks (pid, addr, buffer, len) and fills the iovecs. False with a usage error thrown,
// or true with *bad set when addr is not a possible address (answered -EFAULT).
bool MemArgs(const Napi::CallbackInfo& info, const char* usage, iovec* local, iovec* remote,
             bool* bad) {
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Buf, Arg::Num}, usage)) return false;
  Napi::Buffer<uint8_t> buf = Buf(info[2]);
  double len = Dbl(info[3]);
  if (!(len >= 0 && len <= static_cast<double>(buf.Length()))) {
    Usage(info, usage);
    return false;
  }
  uintptr_t addr = 0;
  *bad = !Addr(info[1], &addr);
  *local = {buf.Data(), static_cast<size_t>(len)};
  *remote = {reinterpret_cast<void*>(addr), static_cast<size_t>(len)};
  return true;
}

}  // namespace

Napi::Value ReadMem(const Napi::CallbackInfo& info) {
  iovec local, remote;
  bool bad;
  if (!MemArgs(info, "Usage: native.readMem(pid, addr, dst, len)", &local, &remote, &bad)) return {};
  if (bad) return Neg(info.Env(), EFAULT);
  if (local.iov_len == 0) return Napi::Number::New(info.Env(), 0);
  // why: copy out of the tracee without stopping it
  return Ret(info.Env(), process_vm_readv(Int(info[0]), &local, 1, &remote, 1, 0));
}

Napi::Value WriteMem(const Napi::CallbackInfo& info) {
  iovec local, remote;
  bool bad;
  if (!MemArgs(info, "Usage: native.writeMem(pid, addr, src, len)", &local, &remote, &bad)) return {};
  if (bad) return Neg(info.Env(), EFAULT);
  if (local.iov_len == 0) return Napi::Number::New(info.Env(), 0);
  // why: copy into the tracee (a struct or buffer its trapped call owns)
  ssize_t n = process_vm_writev(Int(info[0]), &local, 1, &remote, 1, 0);
  if (n < 0) return Neg(info.Env(), errno);
  if (static_cast<size_t>(n) != local.iov_len) return Neg(info.Env(), EFAULT);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value ReadString(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.readString(pid, addr, max)";
  if (!CheckArgs(info, {Arg::Num, Arg::Num, Arg::Num}, kUsage)) return {};
  Napi::Env env = info.Env();
  double max = Dbl(info[2]);
  if (!(max >= 0 && max < 1e9)) return Usage(info, kUsage);
  uintptr_t addr;
  if (!Addr(info[1], &addr)) return Neg(env, EFAULT);
  pid_t pid = Int(info[0]);
  size_t limit = static_cast<size_t>(max) + 1;  // room for the NUL
  std::string out;
  char chunk[kPage];
  // One page per read: a string that ends just before an unmapped page must still read,
  // and a read that crosses into the unmapped page could fail as a whole.
  while (out.size() < limit) {
    size_t want = std::min(kPage - addr % kPage, limit - out.size());
    iovec local{chunk, want};
    iovec remote{reinterpret_cast<void*>(addr), want};
    // why: copy out of the tracee without stopping it
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return Neg(env, errno);
    if (n == 0) return Neg(env, EFAULT);
    const char* nul = static_cast<const char*>(memchr(chunk, 0, static_cast<size_t>(n)));
    if (nul != nullptr) {
      out.append(chunk, static_cast<size_t>(nul - chunk));
      return Name(env, out.data(), out.size());
    }
    out.append(chunk, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < want) return Neg(env, EFAULT);
    addr += static_cast<size_t>(n);
  }
  return Neg(env, ENAMETOOLONG);
}

}  // namespace tsv
