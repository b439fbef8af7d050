// Errno corner cases of the file calls, one line per call: "label: ok[ value]" or
// "label: ERRNO". Run in a scratch directory; test/integration/errnos.test.ts compares the
// output natively and under tsvisor.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static void report(const char *label, long r) {
  if (r < 0) printf("%s: %s\n", label, strerrorname_np(errno));
  else printf("%s: ok\n", label);
}

#define R(label, expr) do { errno = 0; report(label, (long)(expr)); } while (0)

/* An fd is a number that varies: opens print ok and are closed. */
static void opened(const char *label, int fd) {
  report(label, fd);
  if (fd >= 0) close(fd);
}

static long openat2_(int dirfd, const char *path, uint64_t resolve) {
  struct open_how how = {.flags = O_RDONLY, .resolve = resolve};
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* The outcome of one call as text, to compare the outcomes of several. */
static const char *outcome(long r) {
  return r < 0 ? strerrorname_np(errno) : "ok";
}

/* 1: a /proc entry is the same to every path call: all see it, or none does. */
static void proc_consistent(const char *path, int dir) {
  struct stat st;
  char buf[256];
  const char *res[5];
  int fd;
  errno = 0; res[0] = outcome(stat(path, &st));
  errno = 0; res[1] = outcome(lstat(path, &st));
  errno = 0; res[2] = outcome(access(path, F_OK));
  errno = 0; fd = open(path, O_RDONLY | (dir ? O_DIRECTORY : 0)); res[3] = outcome(fd);
  if (fd >= 0) close(fd);
  if (dir) {
    int here = open(".", O_PATH | O_DIRECTORY);
    errno = 0; res[4] = outcome(chdir(path));
    if (fchdir(here) < 0) perror("fchdir");
    close(here);
  } else {
    errno = 0; res[4] = outcome(readlink(path, buf, sizeof buf) < 0 && errno == EINVAL ? 0 : -1);
  }
  int same = 1;
  for (int i = 1; i < 5; i++) same &= strcmp(res[0], res[i]) == 0;
  printf("%s: %s\n", path, same ? "consistent" : "inconsistent");
}

static volatile pid_t xfsz_tid;
static void on_xfsz(int sig) { (void)sig; xfsz_tid = gettid(); }

/* 5: truncate past RLIMIT_FSIZE from a thread: EFBIG, and SIGXFSZ to that thread. */
static void *truncate_thread(void *arg) {
  (void)arg;
  R("truncate(grow past RLIMIT_FSIZE)", truncate("big", 8192));
  for (int i = 0; i < 200 && !xfsz_tid; i++) usleep(5000);
  printf("SIGXFSZ to the calling thread: %s\n", xfsz_tid == gettid() ? "yes" : "no");
  return NULL;
}

int main(void) {
  struct stat st;
  struct statx stx;
  char buf[256];
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return 1;

  // 1. /proc entries the sandbox serves, refuses, or holds as links.
  proc_consistent("/proc/kallsyms", 0);
  proc_consistent("/proc/self/mem", 0);
  proc_consistent("/proc/self/attr", 1);
  proc_consistent("/proc/self/fd", 1);
  proc_consistent("/proc/self/status", 0);
  R("lstat(/proc/self)", lstat("/proc/self", &st));
  R("lstat(/proc/self/exe)", lstat("/proc/self/exe", &st));
  R("lstat(/proc/self/ns/net)", lstat("/proc/self/ns/net", &st));
  R("readlink(/proc/self/cwd)", readlink("/proc/self/cwd", buf, sizeof buf));
  R("readlink(/proc/self/fd/1)", readlink("/proc/self/fd/1", buf, sizeof buf));
  // A trailing slash follows the final link and wants a directory.
  R("lstat(/proc/self/)", lstat("/proc/self/", &st));
  R("lstat(/proc/thread-self/.)", lstat("/proc/thread-self/.", &st));
  R("lstat(/proc/self/exe/)", lstat("/proc/self/exe/", &st));
  R("stat(/proc/self/fd/1/)", stat("/proc/self/fd/1/", &st));

  // 2. Per-task files LTP reads.
  {
    static const char *names[] = {"/proc/self/smaps", "/proc/self/smaps_rollup"};
    for (int i = 0; i < 2; i++) {
      int fd = open(names[i], O_RDONLY);
      long n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
      printf("%s: %s\n", names[i], fd < 0 ? strerrorname_np(errno) : n > 0 ? "readable" : "empty");
      if (fd >= 0) close(fd);
    }
    static volatile char page[4096] __attribute__((aligned(4096)));
    page[0] = 1;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t entry = 0;
    long n = fd < 0 ? -1 : pread(fd, &entry, sizeof entry, (uintptr_t)page / 4096 * sizeof entry);
    if (n < 0) printf("/proc/self/pagemap: %s\n", strerrorname_np(errno));
    else printf("/proc/self/pagemap: present %d, pfn %s\n", (int)(entry >> 63), entry & ((1ULL << 55) - 1) ? "shown" : "hidden");
    if (fd >= 0) close(fd);
  }

  // 3. An O_PATH fd gives no access to its file, but names it for *at calls.
  close(open("f", O_CREAT | O_RDWR, 0644));
  if (symlink("f", "l") < 0 || symlink("/bin/true", "exe-link") < 0) perror("symlink");
  int pfd = open("f", O_PATH);
  int pdup = dup(pfd);
  int pdir = open(".", O_PATH | O_DIRECTORY);
  int lfd = open("l", O_PATH | O_NOFOLLOW);
  int here = open(".", O_RDONLY | O_DIRECTORY);
  R("fchmod(O_PATH)", fchmod(pfd, 0600));
  R("fchmod(dup of O_PATH)", fchmod(pdup, 0600));
  R("fchown(O_PATH)", fchown(pfd, 0, 0));
  R("fchown(dup of O_PATH)", fchown(pdup, 0, 0));
  R("ftruncate(O_PATH)", ftruncate(pfd, 0));
  R("futimens(O_PATH)", futimens(pfd, NULL));
  R("fstat(O_PATH)", fstat(pfd, &st));
  R("fchownat(O_PATH, \"\", AT_EMPTY_PATH)", fchownat(pfd, "", 0, 0, AT_EMPTY_PATH));
  R("utimensat(O_PATH, \"\", AT_EMPTY_PATH)", utimensat(pfd, "", NULL, AT_EMPTY_PATH));
  R("fchdir(O_PATH dir)", fchdir(pdir));
  R("fchmod(fd)", fchmod(here, 0755));

  // 4. openat2's RESOLVE_NO_SYMLINKS / RESOLVE_NO_MAGICLINKS on the links the sentry follows.
  {
    static const char *paths[] = {
      "/proc/self/exe", "/proc/self/status", "/proc/thread-self/status", "/proc/self/cwd/f",
      "/proc/self/root/bin/true", "/proc/mounts", "/dev/stdout", "/proc/self",
    };
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", here);
    for (size_t i = 0; i <= sizeof paths / sizeof *paths; i++) {
      const char *p = i < sizeof paths / sizeof *paths ? paths[i] : fdpath;
      const char *label = i < sizeof paths / sizeof *paths ? p : "/proc/self/fd/N";
      snprintf(buf, sizeof buf, "openat2(%s, NO_MAGICLINKS)", label);
      opened(buf, openat2_(AT_FDCWD, p, RESOLVE_NO_MAGICLINKS));
      snprintf(buf, sizeof buf, "openat2(%s, NO_SYMLINKS)", label);
      opened(buf, openat2_(AT_FDCWD, p, RESOLVE_NO_SYMLINKS));
    }
  }

  // 4b. openat2's RESOLVE_NO_XDEV bars crossing mounts on the app's walk, from its dirfd
  // (or root): not those above where that walk starts.
  {
    int shm = open("/dev/shm", O_PATH | O_DIRECTORY);
    int made = openat(shm, "xdev-probe", O_CREAT | O_WRONLY, 0600);
    if (made >= 0) close(made);
    close(open("xdev-here", O_CREAT | O_WRONLY, 0600));
    opened("openat2(/dev/shm dirfd, file, NO_XDEV)", openat2_(shm, "xdev-probe", RESOLVE_NO_XDEV));
    opened("openat2(cwd, file, NO_XDEV)", openat2_(AT_FDCWD, "xdev-here", RESOLVE_NO_XDEV));
    opened("openat2(/dev/shm/file, NO_XDEV)", openat2_(AT_FDCWD, "/dev/shm/xdev-probe", RESOLVE_NO_XDEV));
    unlinkat(shm, "xdev-probe", 0);
    unlink("xdev-here");
    close(shm);
  }

  // 5. truncate under the task's RLIMIT_FSIZE.
  {
    int fd = open("big", O_CREAT | O_RDWR, 0644);
    if (ftruncate(fd, 10000) < 0) perror("ftruncate");
    close(fd);
    struct sigaction sa = {.sa_handler = on_xfsz, .sa_flags = SA_RESTART};
    sigaction(SIGXFSZ, &sa, NULL);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    R("truncate(shrink, still past RLIMIT_FSIZE)", truncate("big", 6000));
    R("truncate(shrink below RLIMIT_FSIZE)", truncate("big", 100));
    R("truncate(grow within RLIMIT_FSIZE)", truncate("big", 4096));
    pthread_t t;
    pthread_create(&t, NULL, truncate_thread, NULL);
    pthread_join(t, NULL);
    stat("big", &st);
    printf("size after: %lld\n", (long long)st.st_size);
    rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &rl);
  }

  // 6. readlinkat with an empty path reads the symlink the fd is.
  {
    memset(buf, 0, sizeof buf);
    long n = readlinkat(lfd, "", buf, sizeof buf);
    printf("readlinkat(O_PATH symlink, \"\"): %s\n", n < 0 ? strerrorname_np(errno) : buf);
    R("readlinkat(O_PATH file, \"\")", readlinkat(pfd, "", buf, sizeof buf));
    R("readlinkat(AT_FDCWD, \"\")", readlinkat(AT_FDCWD, "", buf, sizeof buf));
    R("readlinkat(-1, \"\")", readlinkat(-1, "", buf, sizeof buf));
    R("readlink(\"f\")", readlink("f", buf, sizeof buf));
    R("readlink(\"nonexistent\")", readlink("nonexistent", buf, sizeof buf));
  }

  // 7. A negative dirfd with AT_EMPTY_PATH; execveat of a kept final symlink.
  {
    char *argv[] = {"true", NULL}, *envp[] = {NULL};
    R("fstatat(-1, \"\", AT_EMPTY_PATH)", fstatat(-1, "", &st, AT_EMPTY_PATH));
    R("statx(-1, \"\", AT_EMPTY_PATH)", statx(-1, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx));
    R("fchownat(-1, \"\", AT_EMPTY_PATH)", fchownat(-1, "", 0, 0, AT_EMPTY_PATH));
    R("faccessat2(-1, \"\", AT_EMPTY_PATH)", syscall(SYS_faccessat2, -1, "", R_OK, AT_EMPTY_PATH));
    R("fstatat(AT_FDCWD, \"\", AT_EMPTY_PATH)", fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH));
    R("execveat(-1, \"\", AT_EMPTY_PATH)", syscall(SYS_execveat, -1, "", argv, envp, AT_EMPTY_PATH));
    R("execveat(symlink, AT_SYMLINK_NOFOLLOW)", syscall(SYS_execveat, AT_FDCWD, "exe-link", argv, envp, AT_SYMLINK_NOFOLLOW));
  }

  // 8. utimensat with a NULL path.
  {
    struct timespec times[2] = {{1, 0}, {2, 0}};
    R("utimensat(AT_FDCWD, NULL, times, 0)", syscall(SYS_utimensat, AT_FDCWD, NULL, times, 0));
    R("utimensat(fd, NULL, times, 0)", syscall(SYS_utimensat, here, NULL, times, 0));
    R("utimensat(fd, NULL, times, AT_SYMLINK_NOFOLLOW)", syscall(SYS_utimensat, here, NULL, times, AT_SYMLINK_NOFOLLOW));
    R("utimensat(-1, NULL, times, 0)", syscall(SYS_utimensat, -1, NULL, times, 0));
  }

  // 9. A cwd whose name ends in " (deleted)", and one really removed.
  {
    mkdir("x (deleted)", 0755);
    R("chdir(\"x (deleted)\")", chdir("x (deleted)"));
    opened("open(\"g\", O_CREAT) there", open("g", O_CREAT | O_RDWR, 0644));
    R("stat(\"g\") there", stat("g", &st));
    printf("getcwd there: %s\n", getcwd(buf, sizeof buf) ? strrchr(buf, '/') + 1 : strerrorname_np(errno));
    R("chdir(\"..\")", chdir(".."));
    mkdir("gone", 0755);
    R("chdir(\"gone\")", chdir("gone"));
    R("rmdir(\"../gone\")", rmdir("../gone"));
    printf("getcwd in removed cwd: %s\n", getcwd(buf, sizeof buf) ? "ok" : strerrorname_np(errno));
    opened("open(\"g\", O_CREAT) in removed cwd", open("g", O_CREAT | O_RDWR, 0644));
    R("stat(\"g\") in removed cwd", stat("g", &st));
    R("chdir(cwd)", chdir(cwd));
  }

  // 10. A dirfd that is no directory and whose name ends in " (deleted)": a memfd, an
  // unlinked file.
  {
    int mfd = memfd_create("m", 0);
    int ufd = open("unlinked", O_CREAT | O_RDWR, 0644);
    unlink("unlinked");
    R("fstatat(memfd, \"x\")", fstatat(mfd, "x", &st, 0));
    opened("openat(memfd, \"x\", O_CREAT)", openat(mfd, "x", O_CREAT | O_RDWR, 0644));
    R("mkdirat(unlinked fd, \"x\")", mkdirat(ufd, "x", 0755));
    R("faccessat(unlinked fd, \"x\")", faccessat(ufd, "x", F_OK, 0));
  }

  // 11. The IPC objects of the sandbox's own namespace, as /proc/sysvipc lists them.
  {
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    FILE *f = fopen("/proc/sysvipc/msg", "r");
    int rows = 0, ours = 0;
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
      int key, msqid;
      if (sscanf(line, "%d %d", &key, &msqid) == 2) {
        rows++;
        ours += msqid == id;
      }
    }
    printf("/proc/sysvipc/msg: %s, our queue listed %d\n", f ? "readable" : strerrorname_np(errno), ours);
    if (f) fclose(f);
    msgctl(id, IPC_RMID, NULL);
    (void)rows;
  }
  return 0;
}
