// A thread that works inside another process's namespaces. setns changes the calling
// thread's namespaces for good, so each use gets a short-lived thread of its own; it
// starts with the credentials of the thread that made it (those of the task the sentry
// acts for), and raises CAP_SYS_ADMIN (and CAP_SYS_CHROOT, which a mount namespace also
// asks for) only where the kernel needs them.
#include <linux/capability.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace tsv {
namespace {

constexpr __u32 kJoinCaps = (1u << CAP_SYS_ADMIN) | (1u << CAP_SYS_CHROOT);

// Makes kJoinCaps effective (as far as permitted) or puts the effective set back to SAVED.
bool SetJoinCaps(bool on, __u32* saved) {
  __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};  // pid 0: this thread
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &hdr, caps) < 0) return false;
  if (on) {
    *saved = caps[0].effective;
    caps[0].effective |= caps[0].permitted & kJoinCaps;
  } else {
    caps[0].effective = *saved;
  }
  return syscall(SYS_capset, &hdr, caps) == 0;
}

}  // namespace

long InNamespacesOf(pid_t pid, int nstypes, bool keepAdmin, const std::function<long()>& fn) {
  long result = -EINVAL;
  std::thread helper([&] {
    // why: a mount namespace can only be joined by a thread with an fs_struct of its own
    if ((nstypes & CLONE_NEWNS) && unshare(CLONE_FS) < 0) {
      result = -errno;
      return;
    }
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      result = -errno;
      return;
    }
    __u32 saved = 0;
    bool raised = SetJoinCaps(true, &saved);
    // why: join the target's namespaces (CAP_SYS_ADMIN over them; CAP_SYS_CHROOT too for a
    // mount namespace, whose root becomes this thread's)
    int joined = setns(pidfd, nstypes);
    int err = errno;
    close(pidfd);
    if (joined < 0) {
      result = -err;
      return;
    }
    if (raised && !keepAdmin && !SetJoinCaps(false, &saved)) {
      result = -errno;
      return;
    }
    result = fn();
  });
  helper.join();
  return result;
}

}  // namespace tsv
