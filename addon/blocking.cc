// An open that may block for ever (a FIFO waiting for its other end) runs on libuv's
// thread pool and can be cancelled when its task gives up the call: the pool thread gets a
// signal whose handler does nothing and which lacks SA_RESTART, so its open returns EINTR.
// Only a thread inside such an open is ever signalled: its tid is published and withdrawn
// under a lock around the open.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>

#include "common.h"

namespace tsv {
namespace {

// glibc keeps the first real-time signals for itself; V8 and libuv use none of these.
int CancelSignal() { return SIGRTMIN + 3; }

void InterruptOnly(int) {}

struct OpenState {
  std::mutex mu;
  bool cancelled = false;
  pid_t tid = 0;  // the pool thread while it is inside open(2), else 0
};

class BlockingOpen : public Napi::AsyncWorker {
 public:
  BlockingOpen(Napi::Function done, std::string path, int flags, std::shared_ptr<OpenState> state)
      : AsyncWorker(done), path_(std::move(path)), flags_(flags), state_(std::move(state)) {}

  void Execute() override {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, CancelSignal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->cancelled) {
        result_ = -EINTR;
        return;
      }
      state_->tid = static_cast<pid_t>(syscall(SYS_gettid));
    }
    int fd = open(path_.c_str(), flags_);
    int err = errno;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->tid = 0;
    }
    result_ = fd < 0 ? -err : fd;
  }

  void OnOK() override { Callback().Call({Napi::Number::New(Env(), result_)}); }

 private:
  std::string path_;
  int flags_;
  std::shared_ptr<OpenState> state_;
  int result_ = -EINTR;
};

Napi::Value CancelOpen(const Napi::CallbackInfo& info) {
  auto* state = static_cast<std::shared_ptr<OpenState>*>(info.Data());
  std::lock_guard<std::mutex> lock((*state)->mu);
  (*state)->cancelled = true;
  // why: interrupt exactly the pool thread blocked in this open
  if ((*state)->tid > 0) syscall(SYS_tgkill, getpid(), (*state)->tid, CancelSignal());
  return info.Env().Undefined();
}

}  // namespace

Napi::Value OpenBlocking(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "Usage: native.openBlocking(path, flags, done)";
  if (!CheckArgs(info, {Arg::Str, Arg::Num, Arg::Fn}, kUsage)) return {};
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa = {};
    sa.sa_handler = InterruptOnly;  // no SA_RESTART: the open returns EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(CancelSignal(), &sa, nullptr);
  });
  std::string path;
  if (!Path(info[0], &path)) return Usage(info, kUsage);  // a NUL in it
  auto state = std::make_shared<OpenState>();
  auto* worker = new BlockingOpen(info[2].As<Napi::Function>(), path, Int(info[1]), state);
  worker->Queue();
  auto* held = new std::shared_ptr<OpenState>(state);
  Napi::Function cancel = Napi::Function::New(info.Env(), CancelOpen, "cancel", held);
  cancel.AddFinalizer([](Napi::Env, std::shared_ptr<OpenState>* s) { delete s; }, held);
  Napi::Object handle = Napi::Object::New(info.Env());
  handle.Set("cancel", cancel);
  return handle;
}

}  // namespace tsv
