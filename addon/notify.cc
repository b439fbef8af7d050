// seccomp user notification: the ioctls on the listener fd (struct layouts: linux/seccomp.h).
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <cstring>

#include "common.h"

// Debian 12 ships 6.1 uapi headers; these arrived in 6.6.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

namespace tsv {

Napi::Value NotifSetSyncWakeup(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.notifSetSyncWakeup(listener)")) return {};
  // why: the target and the sentry then hand the CPU to each other directly instead of
  // waking an idle CPU on every trapped call (60-170 us down to 7-8 us)
  return Ret(info.Env(), NoIntr([&] {
               return ioctl(Int(info[0]), SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                            static_cast<unsigned long>(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP));
             }));
}

Napi::Value NotifRecv(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Buf}, "Usage: native.notifRecv(listener, out)")) return {};
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> out = Buf(info[1]);
  if (out.Length() < sizeof(seccomp_notif)) {
    return Usage(info, "Usage: native.notifRecv(listener, out): out must hold >= 80 bytes");
  }
  int fd = Int(info[0]);
  if (fd < 0) return Neg(env, EBADF);  // poll would just skip it
  pollfd p = {fd, POLLIN, 0};
  // why: NOTIF_RECV blocks until a notification arrives; the loop must never block
  int r = static_cast<int>(NoIntr([&] { return poll(&p, 1, 0); }));
  if (r < 0) return Neg(env, errno);
  if (!(p.revents & POLLIN)) {
    // POLLHUP alone: no task uses the filter any more and none ever will (a recv would
    // block forever). POLLNVAL: not an open fd.
    if (p.revents & POLLNVAL) return Neg(env, EBADF);
    return Neg(env, (p.revents & (POLLHUP | POLLERR)) ? EPIPE : EAGAIN);
  }
  memset(out.Data(), 0, sizeof(seccomp_notif));  // the kernel rejects a non-zeroed struct
  // why: fetch the pending notification; -ENOENT if its task died since the poll
  return Ret(env, NoIntr([&] { return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, out.Data()); }));
}

Napi::Value NotifRespond(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.notifRespond(listener, id, val, error, flags)";
  if (!CheckArgs(info, {Arg::Num, Arg::Big, Arg::Num, Arg::Num, Arg::Num}, kUsage)) return {};
  uint64_t id;
  double val = Dbl(info[2]);
  int error = Int(info[3]);
  if (!Id(info[1], &id) || !(val >= -9223372036854775808.0 && val < 9223372036854775808.0) ||
      error < 0 || error > 4095) {
    return Usage(info, kUsage);
  }
  seccomp_notif_resp resp = {};
  resp.id = id;
  resp.val = static_cast<__s64>(val);
  resp.error = -error;  // the kernel wants the negated errno
  resp.flags = U32(info[4]);
  // why: answer the trapped call; -ENOENT if it was abandoned (signal, task died)
  return Ret(info.Env(), NoIntr([&] { return ioctl(Int(info[0]), SECCOMP_IOCTL_NOTIF_SEND, &resp); }));
}

Napi::Value NotifAddFd(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.notifAddFd(listener, id, srcfd, newfdFlags, send)";
  if (!CheckArgs(info, {Arg::Num, Arg::Big, Arg::Num, Arg::Num, Arg::Bool}, kUsage)) return {};
  uint64_t id;
  if (!Id(info[1], &id)) return Usage(info, kUsage);
  seccomp_notif_addfd addfd = {};
  addfd.id = id;
  addfd.flags = info[4].As<Napi::Boolean>().Value() ? SECCOMP_ADDFD_FLAG_SEND : 0;
  addfd.srcfd = U32(info[2]);
  addfd.newfd_flags = U32(info[3]);
  // A signal must not interrupt the ioctl's wait for the target. With SEND the kernel
  // (6.18 still) marks the call answered before that wait, and an interrupted request is
  // withdrawn without undoing the mark: the target's call then returns 0, as if fd 0 were
  // the new file (ld.so saw "file too short"), and a retry finds EINPROGRESS. So every
  // signal is blocked for the ioctl's span; a process-wide one goes to another thread or
  // waits the few microseconds, and a fatal one ends the process anyway.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  // why: install srcfd in the target and, with SEND, answer the call with its number in
  // the same step; without, the target goes on waiting for the caller's answer
  long r = ioctl(Int(info[0]), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return Ret(info.Env(), r);
}

Napi::Value NotifIdValid(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.notifIdValid(listener, id)";
  if (!CheckArgs(info, {Arg::Num, Arg::Big}, kUsage)) return {};
  uint64_t id;
  if (!Id(info[1], &id)) return Usage(info, kUsage);
  // why: is the call still waiting? (its task may have been signalled or killed since the
  // sentry read its memory)
  long r = NoIntr([&] { return ioctl(Int(info[0]), SECCOMP_IOCTL_NOTIF_ID_VALID, &id); });
  return Napi::Boolean::New(info.Env(), r == 0);
}

}  // namespace tsv
