// loop OP N [PATH]: runs one syscall pattern N times and prints the median-free mean cost
// per iteration in nanoseconds, measured inside the process so start-up is excluded.
//   readsmall N DIR  open+read+close of DIR/dXXX/fYYY (the bench's 100x200 tree of
//                    512-byte files), each file read to EOF and its size checked
//   seqio MB FILE    writes MB MiB to FILE in 1 MiB writes and fsyncs, then reads it back;
//                    prints two means, ns per MiB written and ns per MiB read
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1 << 20)

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Write then read back n MiB; each block carries its index so a short or stale read fails.
static int seqio(long n, const char *path) {
  static char buf[MIB];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return perror(path), 1;
  double t0 = now_ns();
  for (long b = 0; b < n; b++) {
    memset(buf, 'a' + b % 26, MIB);
    memcpy(buf, &b, sizeof b);
    for (size_t off = 0; off < MIB;) {
      ssize_t w = write(fd, buf + off, MIB - off);
      if (w <= 0) return perror("write"), 1;
      off += w;
    }
  }
  // fsync counts: the data must reach the host's file, not a buffer inside a sandbox.
  if (fsync(fd) < 0 || close(fd) < 0) return perror("fsync"), 1;
  double t1 = now_ns();
  fd = open(path, O_RDONLY);
  if (fd < 0) return perror(path), 1;
  for (long b = 0; b < n; b++) {
    for (size_t off = 0; off < MIB;) {
      ssize_t r = read(fd, buf + off, MIB - off);
      if (r <= 0) return fprintf(stderr, "seqio: short read in block %ld\n", b), 1;
      off += r;
    }
    long got;
    memcpy(&got, buf, sizeof got);
    if (got != b || buf[MIB - 1] != 'a' + b % 26) return fprintf(stderr, "seqio: block %ld corrupt\n", b), 1;
  }
  if (read(fd, buf, 1) != 0) return fprintf(stderr, "seqio: file longer than written\n"), 1;
  close(fd);
  printf("%.1f %.1f\n", (t1 - t0) / n, (now_ns() - t1) / n);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: loop getppid|umask|stat|openclose|forkexec N | readsmall N DIR | seqio MB FILE\n");
    return 2;
  }
  const char *op = argv[1];
  long n = atol(argv[2]);
  const char *arg = argc == 4 ? argv[3] : NULL;
  if ((!strcmp(op, "readsmall") || !strcmp(op, "seqio")) && (!arg || n <= 0)) {
    fprintf(stderr, "loop: %s needs N > 0 and a path\n", op);
    return 2;
  }
  if (!strcmp(op, "seqio")) return seqio(n, arg);
  struct stat st;
  char path[4096], buf[4096];
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (!strcmp(op, "getppid")) {
      syscall(SYS_getppid);  // raw: glibc would not cache it, but be explicit
    } else if (!strcmp(op, "umask")) {
      umask(022);
    } else if (!strcmp(op, "stat")) {
      if (stat("/etc/passwd", &st) < 0) return 1;
    } else if (!strcmp(op, "openclose")) {
      int fd = open("/etc/passwd", O_RDONLY);
      if (fd < 0) return 1;
      close(fd);
    } else if (!strcmp(op, "readsmall")) {
      snprintf(path, sizeof path, "%s/d%03ld/f%03ld", arg, (i / 200) % 100, i % 200);
      int fd = open(path, O_RDONLY);
      if (fd < 0) return perror(path), 1;
      ssize_t r, total = 0;
      while ((r = read(fd, buf, sizeof buf)) > 0) total += r;
      close(fd);
      if (r < 0 || total != 512) return fprintf(stderr, "loop: %s: read %zd bytes, want 512\n", path, total), 1;
    } else if (!strcmp(op, "forkexec")) {
      pid_t p = fork();
      if (p == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
      }
      int status;
      waitpid(p, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    } else {
      fprintf(stderr, "loop: unknown op %s\n", op);
      return 2;
    }
  }
  printf("%.1f\n", (now_ns() - t0) / n);
  return 0;
}
