// Helper for test/unit/native.test.ts (the notif* functions).
// Installs a seccomp filter that traps getppid with SECCOMP_RET_USER_NOTIF on a new
// listener, sends the listener over the unix socket inherited as fd 3, waits for one byte
// ("go") on that socket, then calls getppid three times and prints each outcome:
//   first=<ret>
//   second=<ret> errno=<errno>
//   third=<ret> cloexec=<0|1>     (and, when ret is an fd, writes a line into it)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int install_listener(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

static int send_fd(int sock, int fd) {
  char byte = 'L';
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int main(void) {
  int listener = install_listener();
  if (listener < 0) {
    perror("seccomp");
    return 1;
  }
  if (send_fd(3, listener) != 0) {
    perror("sendmsg");
    return 1;
  }
  close(listener);
  char go;
  if (read(3, &go, 1) != 1) return 1;

  long r = syscall(SYS_getppid);
  printf("first=%ld\n", r);
  fflush(stdout);

  r = syscall(SYS_getppid);
  printf("second=%ld errno=%d\n", r, r < 0 ? errno : 0);
  fflush(stdout);

  r = syscall(SYS_getppid);
  int cloexec = r >= 0 ? (fcntl((int)r, F_GETFD) & FD_CLOEXEC) != 0 : -1;
  printf("third=%ld cloexec=%d\n", r, cloexec);
  fflush(stdout);
  if (r >= 0) {
    static const char msg[] = "written through the injected fd\n";
    if (write((int)r, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return 1;
  }
  return 0;
}
