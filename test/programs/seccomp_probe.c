// seccomp_probe: runs raw syscalls under a seccomp program and reports what the kernel did.
//
//   seccomp_probe FILTER CALL...
//
// FILTER is a file of struct sock_filter (what src/seccomp/compile.ts produces). Each CALL
// is `nr[:arg...]` (run with syscall(2)), `x32:nr[:arg...]` (nr | __X32_SYSCALL_BIT) or
// `int80:nr[:arg...]` (the i386 entry, `int $0x80`, up to three args). An arg is an integer
// (strtoull base 0, a leading '-' allowed), `path` (a pointer to the string "/") or `buf`
// (a pointer to a 4096-byte buffer). Output, one line each:
//
//   probe pid=<pid>                         the unfiltered parent (what getppid must return)
//   notif nr=<nr>                           the supervisor received a notification
//   <label> ret=<r> errno=<e>               one per CALL, in order
//   exit=<code> | signal=<sig>              how the filtered child ended
//
// Shape: the parent forks a child and waits. The child starts a supervisor thread, then
// installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER on its main thread only (no
// TSYNC), so the supervisor, created before the filter, is not filtered and can answer.
// Handing the listener to another process would need sendmsg(SCM_RIGHTS) after the filter
// is in place, and sendmsg is trapped by the tsvisor policy: nobody could answer it yet.
// Every notification is answered with errno 200, a marker no real syscall returns.

#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MARKER_ERRNO 200
#define X32_SYSCALL_BIT 0x40000000UL
#define MAX_INSNS 4096

static const char path_arg[] = "/";
static char buf_arg[4096];
static atomic_int listener = -1;

static void die(const char *step) {
  dprintf(2, "seccomp_probe: %s: %s\n", step, strerror(errno));
  _exit(125);
}

// Reads the whole filter; a seccomp program is at most BPF_MAXINSNS instructions.
static struct sock_fprog read_filter(const char *file) {
  static struct sock_filter insns[MAX_INSNS + 1];
  FILE *f = fopen(file, "rb");
  if (!f) die("open filter");
  size_t n = fread(insns, sizeof insns[0], MAX_INSNS + 1, f);
  fclose(f);
  if (n == 0 || n > MAX_INSNS) {
    errno = EINVAL;
    die("filter length");
  }
  return (struct sock_fprog){.len = (unsigned short)n, .filter = insns};
}

static void out(const char *fmt, long a, long b) {
  char line[128];
  int n = snprintf(line, sizeof line, fmt, a, b);
  // write(2) only: stdio may probe the fd (fstat, TCGETS) in the middle of a test.
  if (write(1, line, (size_t)n) < 0) _exit(124);
}

// Unfiltered: answers every notification of the process with MARKER_ERRNO.
static void *supervise(void *unused) {
  (void)unused;
  int fd;
  while ((fd = atomic_load(&listener)) < 0) usleep(1000);
  for (;;) {
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    memset(&req, 0, sizeof req);  // NOTIF_RECV fails with EINVAL on a dirty buffer
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      return NULL;
    }
    out("notif nr=%ld\n", req.data.nr, 0);
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.error = -MARKER_ERRNO;
    // ENOENT: the call was interrupted meanwhile; nothing to answer.
    if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT) return NULL;
  }
}

static unsigned long parse_arg(const char *s) {
  if (strcmp(s, "path") == 0) return (unsigned long)path_arg;
  if (strcmp(s, "buf") == 0) return (unsigned long)buf_arg;
  char *end;
  errno = 0;
  unsigned long v = s[0] == '-' ? (unsigned long)strtoll(s, &end, 0) : strtoull(s, &end, 0);
  if (errno || *end) {
    dprintf(2, "seccomp_probe: bad argument `%s`\n", s);
    _exit(125);
  }
  return v;
}

// i386 entry: eax = nr, ebx, ecx, edx = args. The tsvisor filter kills before it returns.
static long int80(unsigned long nr, const unsigned long *a) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]) : "memory");
  return ret;
}

// One CALL: parses it in a copy (labels keep the original text) and reports the result.
static void run_call(const char *spec) {
  char copy[256], label[256];
  unsigned long a[6] = {0};
  snprintf(copy, sizeof copy, "%s", spec);
  int x32 = strncmp(copy, "x32:", 4) == 0, i386 = strncmp(copy, "int80:", 6) == 0;
  char *p = copy + (x32 ? 4 : i386 ? 6 : 0);
  char *save = NULL, *tok = strtok_r(p, ":", &save);
  unsigned long nr = parse_arg(tok);
  for (int i = 0; i < 6 && (tok = strtok_r(NULL, ":", &save)); i++) a[i] = parse_arg(tok);
  snprintf(label, sizeof label, "%s%lu", x32 ? "x32:" : i386 ? "int80:" : "", nr);

  errno = 0;
  long ret;
  if (i386) {
    ret = int80(nr, a);
    if (ret < 0 && ret > -4096) errno = (int)-ret, ret = -1;
  } else {
    ret = syscall((long)(x32 ? nr | X32_SYSCALL_BIT : nr), a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  int e = ret == -1 ? errno : 0;
  char line[320];
  int n = snprintf(line, sizeof line, "%s ret=%ld errno=%d\n", label, ret, e);
  if (write(1, line, (size_t)n) < 0) _exit(124);
}

static void child(struct sock_fprog prog, int argc, char **argv) {
  pthread_t t;
  // No controlling terminal: a denied call that wrongly ran (vhangup) finds nothing to hurt.
  setsid();
  // SIGSYS from SECCOMP_RET_KILL_PROCESS dumps core by default: not in the test's cwd.
  struct rlimit no_core = {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) < 0) die("setrlimit");
  if ((errno = pthread_create(&t, NULL, supervise, NULL))) die("pthread_create");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("PR_SET_NO_NEW_PRIVS");
  int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) die("seccomp");
  atomic_store(&listener, fd);  // a store, not a syscall: the filter is already active
  for (int i = 2; i < argc; i++) run_call(argv[i]);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    dprintf(2, "usage: seccomp_probe FILTER CALL...\n");
    return 2;
  }
  struct sock_fprog prog = read_filter(argv[1]);
  printf("probe pid=%d\n", (int)getpid());
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) child(prog, argc, argv);
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  if (WIFSIGNALED(status))
    printf("signal=%d\n", WTERMSIG(status));
  else
    printf("exit=%d\n", WEXITSTATUS(status));
  return 0;
}
