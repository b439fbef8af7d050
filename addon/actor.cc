// Actors: the sentry's hands inside a sandbox's user namespace.
//
// The kernel checks a file call against the caller's user namespace: a capability counts
// only over inodes whose owner the namespace maps, and ids go in and come out as the
// namespace sees them. A sentry thread in the host's namespace, even wearing a task's ids
// and capabilities, would override permissions on every inode. A thread cannot enter
// another user namespace (setns needs a single-threaded caller with an fs_struct of its
// own), so an actor is a process that shares this one's memory and fd table (clone with
// CLONE_VM | CLONE_FILES, not CLONE_THREAD or CLONE_FS) and has joined the sandbox's user
// namespace. While a thread routes its file work to an actor (ActorUse), Act runs each
// call there, with the credentials SetThreadCreds gave the actor, and fds it opens land
// in the sentry's table.
//
// The actor runs on the TLS of the thread that made it (no CLONE_SETTLS: glibc's TLS
// cannot be built by hand), so only that thread hands it work, and it is blocked, signals
// included, for as long as the actor runs: the two never use errno, malloc's cache or a
// signal handler at the same time. The handoff itself uses raw futex syscalls, which
// touch no errno.
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>

#include "common.h"

namespace tsv {
namespace {

constexpr size_t kStackSize = 1 << 20;
// Spins of about 25 ns each (x86 pause). The actor's cover the gap between two trapped
// calls of a busy task (~25 us; measured: a stat in a container went 40 us without the
// spin, 25.5 with it, 21.6 without a user namespace). The thread's cover most jobs.
constexpr int kActorSpins = 1000;
constexpr int kOwnerSpins = 2000;
// The handoff word: idle (the actor spins, then sleeps), request (run job), done (result
// ready).
constexpr uint32_t kIdle = 0, kRequest = 1, kDone = 2;

struct Actor {
  std::atomic<uint32_t> state{kRequest};  // kRequest until the actor has joined
  const std::function<long()>* job = nullptr;
  long result = 0;
  // The kernel zeroes this when the actor exits (CLONE_CHILD_CLEARTID).
  std::atomic<pid_t> alive{0};
  pid_t pid = 0;
  int nsfd = -1;
  void* stack = nullptr;
};

// A syscall without glibc: no errno written.
long RawSyscall(long nr, long a1, long a2, long a3, long a4) {
  long ret;
  register long r10 asm("r10") = a4;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

void Wake(std::atomic<uint32_t>* word) {
  RawSyscall(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAKE_PRIVATE, 1, 0);
}

// Sleeps while *word is FROM, at most TIMEOUT_MS (0: no limit).
void WaitWhile(std::atomic<uint32_t>* word, uint32_t from, long timeoutMs) {
  timespec ts = {timeoutMs / 1000, (timeoutMs % 1000) * 1000000};
  RawSyscall(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAIT_PRIVATE, from,
             timeoutMs ? reinterpret_cast<long>(&ts) : 0);
}

// Spins a while until *word is WANT; false if it never came.
bool SpinWhile(std::atomic<uint32_t>* word, uint32_t want, int spins) {
  for (int i = 0; i < spins; i++) {
    if (word->load(std::memory_order_acquire) == want) return true;
    __builtin_ia32_pause();
  }
  return false;
}

// Returns when a job is requested. Waking a sleeping actor costs more than most jobs (5-9
// us on a virtual machine, where the idle CPU must be woken), so after each job the actor
// spins for about as long as a task takes between two trapped calls, and sleeps only then.
void AwaitRequest(Actor* a) {
  if (SpinWhile(&a->state, kRequest, kActorSpins)) return;
  while (a->state.load(std::memory_order_acquire) != kRequest) WaitWhile(&a->state, kIdle, 0);
}

int ActorMain(void* arg) {
  Actor* a = static_cast<Actor*>(arg);
  // why: the actor must not outlive the thread whose TLS and memory it uses
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // why: all its later calls are checked against the sandbox's user namespace
  a->result = setns(a->nsfd, CLONE_NEWUSER) < 0 ? -errno : 0;
  bool joined = a->result == 0;
  a->state.store(kDone, std::memory_order_release);
  Wake(&a->state);
  if (!joined) return 0;
  for (;;) {
    AwaitRequest(a);
    a->result = (*a->job)();
    a->state.store(kDone, std::memory_order_release);
    Wake(&a->state);
  }
}

// Runs until the actor has answered: false if it died meanwhile.
bool AwaitActor(Actor* a) {
  SpinWhile(&a->state, kDone, kOwnerSpins);
  while (a->state.load(std::memory_order_acquire) != kDone) {
    if (a->alive.load(std::memory_order_acquire) == 0) return false;
    // why: a bounded sleep, so an actor killed from outside is noticed
    WaitWhile(&a->state, kRequest, 100);
  }
  return true;
}

void Reap(Actor* a) {
  if (a->pid > 0) {
    kill(a->pid, SIGKILL);
    // why: the actor has no exit signal, so only __WCLONE waits for it
    while (waitpid(a->pid, nullptr, __WCLONE) < 0 && errno == EINTR) {
    }
  }
  if (a->stack) munmap(a->stack, kStackSize);
  if (a->nsfd >= 0) close(a->nsfd);
  delete a;
}

// A thread's actors by handle, and the one it routes to (none: null).
thread_local std::map<int, Actor*> actors;
thread_local int nextHandle = 1;
thread_local Actor* routed = nullptr;

// Blocks every signal on this thread for its lifetime, then puts the mask back.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

// A new actor in the user namespace of process PID, or -errno.
long Spawn(pid_t pid, Actor** out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", static_cast<int>(pid));
  auto* a = new Actor();
  // Undoes what was made so far; ERR is returned.
  auto fail = [a](long err) {
    Reap(a);
    return err;
  };
  a->nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (a->nsfd < 0) return fail(-errno);
  void* stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return fail(-errno);
  a->stack = stack;
  // why: a guard page below the stack turns an overflow into a fault, not corruption
  mprotect(stack, 4096, PROT_NONE);
  SignalsBlocked blocked;  // the actor starts with every signal blocked too
  pid_t child = clone(ActorMain, static_cast<char*>(stack) + kStackSize,
                      CLONE_VM | CLONE_FILES | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, a, nullptr, nullptr,
                      reinterpret_cast<pid_t*>(&a->alive));
  if (child < 0) return fail(-errno);
  a->pid = child;
  a->alive.store(child, std::memory_order_release);
  if (!AwaitActor(a)) return fail(-ESRCH);
  if (a->result < 0) return fail(a->result);
  a->state.store(kIdle, std::memory_order_release);
  *out = a;
  return 0;
}

}  // namespace

long Act(const std::function<long()>& fn) {
  Actor* a = routed;
  if (!a) return fn();
  SignalsBlocked blocked;
  a->job = &fn;
  a->state.store(kRequest, std::memory_order_release);
  Wake(&a->state);
  bool answered = AwaitActor(a);
  a->job = nullptr;
  if (!answered) return -EIO;
  a->state.store(kIdle, std::memory_order_release);
  return a->result;
}

Napi::Value ActorOpen(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.actorOpen(pid)")) return {};
  Actor* a = nullptr;
  long r = Spawn(Int(info[0]), &a);
  if (r < 0) return Num(info.Env(), r);
  int handle = nextHandle++;
  actors[handle] = a;
  return Napi::Number::New(info.Env(), handle);
}

Napi::Value ActorUse(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.actorUse(handle)")) return {};
  int handle = Int(info[0]);
  if (handle == 0) {
    routed = nullptr;
    return Napi::Number::New(info.Env(), 0);
  }
  auto it = actors.find(handle);
  if (it == actors.end()) return Neg(info.Env(), EINVAL);
  routed = it->second;
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value ActorClose(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, {Arg::Num}, "Usage: native.actorClose(handle)")) return {};
  auto it = actors.find(Int(info[0]));
  if (it == actors.end()) return Neg(info.Env(), EINVAL);
  if (routed == it->second) routed = nullptr;
  Reap(it->second);
  actors.erase(it);
  return Napi::Number::New(info.Env(), 0);
}

}  // namespace tsv
