// fds and messages: the launcher channel (AF_UNIX SOCK_SEQPACKET with SCM_RIGHTS),
// readiness watchers on the thread's libuv loop, plain writes and memfds.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstring>

#include "common.h"

namespace tsv {
namespace {

constexpr size_t kMaxRecvFds = 8;
constexpr size_t kMaxSendFds = 253;  // SCM_MAX_FD: the kernel refuses more in one message

// write(2) until all of len is written. Bytes written (short only if an error came after
// some progress), or -errno.
long WriteAll(int fd, const uint8_t* p, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return done > 0 ? static_cast<long>(done) : -errno;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<long>(done);
}

}  // namespace

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {}, "Usage: native.socketpair()")) return {};
  Napi::Env env = info.Env();
  int sv[2];
  // why: SEQPACKET keeps message boundaries and carries SCM_RIGHTS; CLOEXEC so only
  // the child we hand an end to (explicitly, as its fd 3) inherits it.
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) sv[0] = sv[1] = -errno;
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, sv[0]);
  pair.Set(1u, sv[1]);
  return pair;  // on failure both slots hold -errno, so [a, b] destructuring still works
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {}, "Usage: native.pipe()")) return {};
  Napi::Env env = info.Env();
  int fds[2];
  // why: the sandbox's piped stdio (the embedding API); CLOEXEC as socketpair's ends.
  if (pipe2(fds, O_CLOEXEC) < 0) fds[0] = fds[1] = -errno;
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, fds[0]);
  pair.Set(1u, fds[1]);
  return pair;  // [read end, write end], or -errno in both
}

Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Bool}, "Usage: native.setCloexec(fd, on)")) return {};
  Napi::Env env = info.Env();
  int fd = Int(info[0]);
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return Neg(env, errno);
  flags = info[1].As<Napi::Boolean>().Value() ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  return Ret(env, fcntl(fd, F_SETFD, flags));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.close(fd)")) return {};
  // Not retried on EINTR: on Linux the fd is released even then.
  return Ret(info.Env(), close(Int(info[0])));
}

Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Buf}, "Usage: native.recvMsg(fd, buf)")) return {};
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buf = Buf(info[1]);
  iovec iov{buf.Data(), buf.Length()};
  union {
    cmsghdr align;
    char space[CMSG_SPACE(sizeof(int) * kMaxRecvFds)];
  } control = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof control.space;
  // why: DONTWAIT never blocks the loop; CMSG_CLOEXEC keeps received fds out of children.
  // More than kMaxRecvFds fds in one message: the kernel closes the excess (MSG_CTRUNC).
  ssize_t n = NoIntr([&] { return recvmsg(Int(info[0]), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); });
  if (n < 0) return Neg(env, errno);
  Napi::Array fds = Napi::Array::New(env);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.Set(fds.Length(), fd);
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("n", static_cast<double>(n));
  result.Set("fds", fds);
  return result;
}

Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Buf, Arg::NumArray}, "Usage: native.sendMsg(fd, data, fds)")) {
    return {};
  }
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> data = Buf(info[1]);
  Napi::Array fds = info[2].As<Napi::Array>();
  if (fds.Length() > kMaxSendFds) return Neg(env, EINVAL);
  iovec iov{data.Data(), data.Length()};
  union {
    cmsghdr align;
    char space[CMSG_SPACE(sizeof(int) * kMaxSendFds)];
  } control = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fds.Length() > 0) {
    msg.msg_control = control.space;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.Length());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.Length());
    for (uint32_t i = 0; i < fds.Length(); i++) {
      int fd = Int(fds.Get(i));
      memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
    }
  }
  // why: NOSIGNAL turns a gone peer into -EPIPE instead of SIGPIPE; DONTWAIT because the
  // loop must never block (a full peer queue is -EAGAIN).
  return Ret(env, NoIntr([&] { return sendmsg(Int(info[0]), &msg, MSG_NOSIGNAL | MSG_DONTWAIT); }));
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Buf}, "Usage: native.write(fd, buf)")) return {};
  Napi::Buffer<uint8_t> buf = Buf(info[1]);
  long n = WriteAll(Int(info[0]), buf.Data(), buf.Length());
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Num}, "Usage: native.memfdCreate(name, flags)")) return {};
  std::string name;
  if (!Path(info[0], &name)) return Neg(info.Env(), EINVAL);
  return Ret(info.Env(), memfd_create(name.c_str(), U32(info[1])));
}

Napi::Value MemfdSnapshot(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Str, Arg::Buf}, "Usage: native.memfdSnapshot(name, data)")) return {};
  Napi::Env env = info.Env();
  std::string name;
  if (!Path(info[0], &name)) return Neg(env, EINVAL);
  Napi::Buffer<uint8_t> data = Buf(info[1]);
  // why: an anonymous file the sentry fills once and hands out as a real fd
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Neg(env, errno);
  int err = 0;
  long n = WriteAll(fd, data.Data(), data.Length());
  if (n < 0) {
    err = static_cast<int>(-n);
  } else if (static_cast<size_t>(n) != data.Length()) {
    err = EIO;
  } else if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    // why: seals make the content immutable for every holder, including via mmap
    err = errno;
  }
  int ro = -1;
  if (err == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    // why: a new O_RDONLY open file description, so the fd handed out is not writable
    ro = open(path, O_RDONLY | O_CLOEXEC);
    if (ro < 0) err = errno;
  }
  close(fd);
  return err != 0 ? Neg(env, err) : Napi::Number::New(env, ro);
}

// ---- watchReadable: a uv_poll_t on the calling thread's loop.

namespace {

// One watcher. Two owners share it: the uv handle (until its close callback) and the JS
// stop function (until GC finalizes it); it is freed when both have let go.
struct Watch {
  uv_poll_t poll;
  napi_env env = nullptr;
  Napi::FunctionReference cb;
  napi_async_context ctx = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool running = false;  // polling, and stop() not yet called
  int owners = 2;
};

void Release(Watch* w) {
  if (--w->owners == 0) delete w;
}

void OnClosed(uv_handle_t* handle) {
  Watch* w = static_cast<Watch*>(handle->data);
  {
    Napi::HandleScope scope(w->env);
    w->cb.Reset();
    napi_async_destroy(w->env, w->ctx);
  }
  // The env waits for this before it tears down (see napi_add_async_cleanup_hook).
  napi_remove_async_cleanup_hook(w->hook);
  Release(w);
}

// Idempotent: a second stop(), or teardown after stop(), does nothing.
void Stop(Watch* w) {
  if (!w->running) return;
  w->running = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
}

void OnTeardown(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
  Stop(static_cast<Watch*>(arg));
}

// Readiness and errors alike call cb with no arguments: JS reads the fd and sees the
// data, EOF or error itself.
void OnPoll(uv_poll_t* handle, int /*status*/, int /*events*/) {
  Watch* w = static_cast<Watch*>(handle->data);
  if (!w->running) return;
  Napi::HandleScope scope(w->env);
  napi_value global, result;
  napi_get_global(w->env, &global);
  // Raw napi_make_callback, not FunctionReference::MakeCallback: during env teardown the
  // loop still runs (before our cleanup hook) while JS may not, and the wrapper would
  // turn that refusal into a fatal error. Here it is simply a call that did not happen.
  napi_status status = napi_make_callback(w->env, w->ctx, global, w->cb.Value(), 0, nullptr, &result);
  bool pending = false;
  if (status != napi_ok && napi_is_exception_pending(w->env, &pending) == napi_ok && pending) {
    // cb threw and nothing up the stack can catch it: report it as uncaught.
    napi_value error;
    napi_get_and_clear_last_exception(w->env, &error);
    napi_fatal_exception(w->env, error);
  }
}

Napi::Value StopWatch(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {}, "Usage: watcher.stop()")) return {};
  Stop(static_cast<Watch*>(info.Data()));
  return info.Env().Undefined();
}

}  // namespace

Napi::Value WatchReadable(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num, Arg::Fn}, "Usage: native.watchReadable(fd, cb)")) return {};
  Napi::Env env = info.Env();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Neg(env, EINVAL);
  Watch* w = new Watch();
  w->env = env;
  w->poll.data = w;
  // Note: uv_poll_init sets O_NONBLOCK on the fd, and the fd must stay open until stop().
  int err = uv_poll_init(loop, &w->poll, Int(info[0]));
  if (err != 0) {  // no handle was registered: w is ours alone
    delete w;
    return Neg(env, -err);
  }
  err = uv_poll_start(&w->poll, UV_READABLE, OnPoll);
  if (err != 0) {  // the handle is registered now: w may go only once it is closed
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    return Neg(env, -err);
  }
  w->running = true;
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  napi_async_init(env, nullptr, Napi::String::New(env, "tsvisor:watchReadable"), &w->ctx);
  napi_add_async_cleanup_hook(env, OnTeardown, w, &w->hook);
  Napi::Function stop = Napi::Function::New(env, StopWatch, "stop", w);
  stop.AddFinalizer([](Napi::Env, Watch* watch) { Release(watch); }, w);
  Napi::Object watcher = Napi::Object::New(env);
  watcher.Set("stop", stop);
  return watcher;
}

}  // namespace tsv
