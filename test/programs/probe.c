// probe: a multi-verb helper for behaviour tests. Each verb makes one or a few syscalls and
// prints one stable line (values that differ between runs, such as inode numbers and
// times, are left out), so the same verbs run natively and under tsvisor can be compared
// line by line. Errors print the errno's name.
//
//   probe VERB ARGS... [, VERB ARGS...]...
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, long ret) {
  if (ret < 0)
    printf("%s: %s\n", what, strerrorname_np(errno));
  else
    printf("%s: ok\n", what);
}

static int open_flags(const char *s) {
  int f = 0;
  if (strstr(s, "rw")) f |= O_RDWR;
  else if (strchr(s, 'w')) f |= O_WRONLY;
  if (strstr(s, "creat")) f |= O_CREAT;
  if (strstr(s, "excl")) f |= O_EXCL;
  if (strstr(s, "trunc")) f |= O_TRUNC;
  if (strstr(s, "dir")) f |= O_DIRECTORY;
  if (strstr(s, "nofollow")) f |= O_NOFOLLOW;
  if (strstr(s, "path")) f |= O_PATH;
  if (strstr(s, "tmpfile")) f |= O_TMPFILE | O_RDWR;
  if (strstr(s, "append")) f |= O_APPEND;
  return f;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

// Lists a directory's names, sorted, with getdents64 underneath (readdir).
static void list_dir(const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    printf("ls %s: %s\n", path, strerrorname_np(errno));
    return;
  }
  char *names[4096];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_str);
  printf("ls %s:", path);
  for (size_t i = 0; i < n; i++) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
}

static void print_stat(const char *verb, const char *path, int r, const struct stat *st) {
  if (r < 0) {
    printf("%s %s: %s\n", verb, path, strerrorname_np(errno));
    return;
  }
  printf("%s %s: mode=%o nlink=%lu size=%lld uid=%u\n", verb, path, st->st_mode, (unsigned long)st->st_nlink,
         (long long)(S_ISDIR(st->st_mode) ? 0 : st->st_size), st->st_uid);
}

// Runs one verb at argv[i]; returns the index after its arguments, or -1 on a bad verb.
static int run(char **argv, int argc, int i) {
  const char *v = argv[i];
  char what[512];
#define NEED(n)                                                      \
  do {                                                               \
    if (i + (n) >= argc) {                                           \
      fprintf(stderr, "probe: %s needs %d argument(s)\n", v, (n));   \
      return -1;                                                     \
    }                                                                \
  } while (0)
  struct stat st;
  if (!strcmp(v, "stat") || !strcmp(v, "lstat")) {
    NEED(1);
    int r = !strcmp(v, "stat") ? stat(argv[i + 1], &st) : lstat(argv[i + 1], &st);
    print_stat(v, argv[i + 1], r, &st);
    return i + 2;
  }
  if (!strcmp(v, "statx")) {
    NEED(1);
    struct statx sx;
    int r = statx(AT_FDCWD, argv[i + 1], AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx);
    if (r < 0) printf("statx %s: %s\n", argv[i + 1], strerrorname_np(errno));
    else printf("statx %s: mode=%o size=%llu\n", argv[i + 1], sx.stx_mode, S_ISDIR(sx.stx_mode) ? 0ULL : (unsigned long long)sx.stx_size);
    return i + 2;
  }
  if (!strcmp(v, "open")) {
    NEED(2);
    int fd = open(argv[i + 1], open_flags(argv[i + 2]), 0644);
    snprintf(what, sizeof what, "open %s %s", argv[i + 1], argv[i + 2]);
    report(what, fd);
    if (fd >= 0) close(fd);
    return i + 3;
  }
  if (!strcmp(v, "write")) {  // write PATH TEXT: create/truncate and write
    NEED(2);
    int fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long r = fd < 0 ? -1 : write(fd, argv[i + 2], strlen(argv[i + 2]));
    snprintf(what, sizeof what, "write %s", argv[i + 1]);
    report(what, r);
    if (fd >= 0) close(fd);
    return i + 3;
  }
  if (!strcmp(v, "cat")) {
    NEED(1);
    int fd = open(argv[i + 1], O_RDONLY);
    if (fd < 0) {
      printf("cat %s: %s\n", argv[i + 1], strerrorname_np(errno));
      return i + 2;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    printf("cat %s: %s\n", argv[i + 1], buf);
    return i + 2;
  }
  if (!strcmp(v, "readlink")) {
    NEED(1);
    char buf[4096];
    ssize_t n = readlink(argv[i + 1], buf, sizeof buf - 1);
    if (n < 0) printf("readlink %s: %s\n", argv[i + 1], strerrorname_np(errno));
    else printf("readlink %s: %.*s\n", argv[i + 1], (int)n, buf);
    return i + 2;
  }
  if (!strcmp(v, "mkdir")) {
    NEED(1);
    snprintf(what, sizeof what, "mkdir %s", argv[i + 1]);
    report(what, mkdir(argv[i + 1], 0755));
    return i + 2;
  }
  if (!strcmp(v, "rmdir") || !strcmp(v, "unlink")) {
    NEED(1);
    snprintf(what, sizeof what, "%s %s", v, argv[i + 1]);
    report(what, !strcmp(v, "rmdir") ? rmdir(argv[i + 1]) : unlink(argv[i + 1]));
    return i + 2;
  }
  if (!strcmp(v, "rename") || !strcmp(v, "link") || !strcmp(v, "symlink")) {
    NEED(2);
    snprintf(what, sizeof what, "%s %s %s", v, argv[i + 1], argv[i + 2]);
    int r = !strcmp(v, "rename") ? rename(argv[i + 1], argv[i + 2])
            : !strcmp(v, "link") ? link(argv[i + 1], argv[i + 2])
                                 : symlink(argv[i + 1], argv[i + 2]);
    report(what, r);
    return i + 3;
  }
  if (!strcmp(v, "rename_noreplace")) {
    NEED(2);
    snprintf(what, sizeof what, "%s %s %s", v, argv[i + 1], argv[i + 2]);
    report(what, renameat2(AT_FDCWD, argv[i + 1], AT_FDCWD, argv[i + 2], RENAME_NOREPLACE));
    return i + 3;
  }
  if (!strcmp(v, "chmod")) {
    NEED(2);
    snprintf(what, sizeof what, "chmod %s %s", argv[i + 1], argv[i + 2]);
    report(what, chmod(argv[i + 1], strtol(argv[i + 2], NULL, 8)));
    return i + 3;
  }
  if (!strcmp(v, "fchown") || !strcmp(v, "fchmod")) {  // through an fd opened O_RDONLY
    NEED(2);
    int fd = open(argv[i + 1], O_RDONLY);
    long r = fd < 0 ? -1
             : !strcmp(v, "fchown") ? fchown(fd, atoi(argv[i + 2]), -1)
                                    : fchmod(fd, strtol(argv[i + 2], NULL, 8));
    snprintf(what, sizeof what, "%s %s %s", v, argv[i + 1], argv[i + 2]);
    report(what, r);
    if (fd >= 0) close(fd);
    return i + 3;
  }
  if (!strcmp(v, "mknod_fifo")) {
    NEED(1);
    snprintf(what, sizeof what, "mknod_fifo %s", argv[i + 1]);
    report(what, mknod(argv[i + 1], S_IFIFO | 0600, 0));
    return i + 2;
  }
  if (!strcmp(v, "touchmany")) {  // touchmany DIR N: N empty files, then count the entries
    NEED(2);
    int n = atoi(argv[i + 2]), made = 0;
    char p[4096];
    for (int k = 0; k < n; k++) {
      snprintf(p, sizeof p, "%s/file-%06d", argv[i + 1], k);
      int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd >= 0) made++, close(fd);
    }
    DIR *d = opendir(argv[i + 1]);
    int seen = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
      if (e->d_name[0] != '.') seen++;
    if (d) closedir(d);
    printf("touchmany %s %d: made=%d seen=%d\n", argv[i + 1], n, made, seen);
    return i + 3;
  }
  if (!strcmp(v, "name")) {  // name LEN: create and stat a file whose name has LEN bytes
    NEED(1);
    int len = atoi(argv[i + 1]);
    char p[1024];
    memset(p, 'n', sizeof p);
    p[len < (int)sizeof p ? len : (int)sizeof p - 1] = 0;
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    printf("name %d: %s\n", len, fd < 0 ? strerrorname_np(errno) : "ok");
    if (fd >= 0) close(fd), unlink(p);
    return i + 2;
  }
  if (!strcmp(v, "deeppath")) {  // deeppath LEN: stat a path of LEN bytes made of "./"
    NEED(1);
    int len = atoi(argv[i + 1]);
    char *p = malloc(len + 2);
    for (int k = 0; k < len; k += 2) p[k] = '.', p[k + 1] = '/';
    p[len] = 0;
    printf("deeppath %d: %s\n", len, stat(p, &st) < 0 ? strerrorname_np(errno) : "ok");
    free(p);
    return i + 2;
  }
  if (!strcmp(v, "badptrs")) {  // trapped calls given pointers the task cannot read or write
    // Raw syscalls: the compiler rightly refuses these pointers in libc calls.
    long unmapped = 8;
#define TRY(name, call) printf(" %s=%s", name, (call) < 0 ? strerrorname_np(errno) : "ok")
    printf("badptrs:");
    TRY("open", syscall(SYS_open, unmapped, O_RDONLY));
    TRY("stat", syscall(SYS_stat, "/", unmapped));
    TRY("statpath", syscall(SYS_stat, unmapped, &st));
    TRY("readlink", syscall(SYS_readlink, "/proc/self/exe", unmapped, 10));
    TRY("mkdir", syscall(SYS_mkdir, 0, 0755));
    TRY("uname", syscall(SYS_uname, unmapped));
#undef TRY
    printf("\n");
    return i + 1;
  }
  if (!strcmp(v, "access")) {
    NEED(2);
    snprintf(what, sizeof what, "access %s %s", argv[i + 1], argv[i + 2]);
    report(what, access(argv[i + 1], atoi(argv[i + 2])));
    return i + 3;
  }
  if (!strcmp(v, "truncate")) {
    NEED(2);
    snprintf(what, sizeof what, "truncate %s %s", argv[i + 1], argv[i + 2]);
    report(what, truncate(argv[i + 1], atoll(argv[i + 2])));
    return i + 3;
  }
  if (!strcmp(v, "chdir")) {
    NEED(1);
    char cwd[4096];
    int r = chdir(argv[i + 1]);
    if (r < 0) printf("chdir %s: %s\n", argv[i + 1], strerrorname_np(errno));
    else printf("chdir %s: %s\n", argv[i + 1], getcwd(cwd, sizeof cwd) ? cwd : "?");
    return i + 2;
  }
  if (!strcmp(v, "ls")) {
    NEED(1);
    list_dir(argv[i + 1]);
    return i + 2;
  }
  if (!strcmp(v, "openat2_beneath")) {  // openat2(dirfd of DIR, NAME, RESOLVE_BENEATH)
    NEED(2);
    int dfd = open(argv[i + 1], O_PATH | O_DIRECTORY);
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
    int fd = dfd < 0 ? -1 : (int)syscall(SYS_openat2, dfd, argv[i + 2], &how, sizeof how);
    snprintf(what, sizeof what, "openat2_beneath %s %s", argv[i + 1], argv[i + 2]);
    report(what, fd);
    return i + 3;
  }
  if (!strcmp(v, "connect")) {  // connect to a unix socket path
    NEED(1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strncpy(sa.sun_path, argv[i + 1], sizeof sa.sun_path - 1);
    snprintf(what, sizeof what, "connect %s", argv[i + 1]);
    report(what, connect(s, (struct sockaddr *)&sa, sizeof sa));
    close(s);
    return i + 2;
  }
  if (!strcmp(v, "uname")) {
    struct utsname u;
    uname(&u);
    printf("uname: %s %s %s\n", u.sysname, u.nodename, u.machine);
    return i + 1;
  }
  if (!strcmp(v, "pid")) {
    printf("pid: %d ppid: %d\n", getpid(), getppid());
    return i + 1;
  }
  if (!strcmp(v, "denied")) {  // the errno of a call the policy denies
    NEED(1);
    const char *n = argv[i + 1];
    long r;
    if (!strcmp(n, "io_uring_setup")) r = syscall(SYS_io_uring_setup, 1, NULL);
    else if (!strcmp(n, "bpf")) r = syscall(SYS_bpf, 0, NULL, 0);
    else if (!strcmp(n, "ptrace")) r = syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
    else if (!strcmp(n, "open_by_handle_at")) r = syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
    else if (!strcmp(n, "x32")) r = syscall(39 | 0x40000000);  // getpid through the x32 ABI
    else if (!strcmp(n, "unshare")) r = syscall(SYS_unshare, CLONE_NEWNS);
    else if (!strcmp(n, "kexec_load")) r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
    else {
      fprintf(stderr, "probe: unknown denied call %s\n", n);
      return -1;
    }
    snprintf(what, sizeof what, "denied %s", n);
    report(what, r);
    return i + 2;
  }
  if (!strcmp(v, "forkwait")) {  // fork N children that exit with their index, reap them
    NEED(1);
    int n = atoi(argv[i + 1]), sum = 0;
    for (int k = 0; k < n; k++) {
      pid_t p = fork();
      if (p == 0) _exit(k % 100);
      int status;
      if (p < 0 || waitpid(p, &status, 0) != p) {
        printf("forkwait: %s\n", strerrorname_np(errno));
        return i + 2;
      }
      sum += WEXITSTATUS(status);
    }
    printf("forkwait %d: sum=%d\n", n, sum);
    return i + 2;
  }
  fprintf(stderr, "probe: unknown verb %s\n", v);
  return -1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc;) {
    if (!strcmp(argv[i], ",")) {
      i++;
      continue;
    }
    i = run(argv, argc, i);
    if (i < 0) return 2;
  }
  return 0;
}
