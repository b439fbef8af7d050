// loop OP N: runs one syscall pattern N times and prints the median-free mean cost per
// iteration in nanoseconds, measured inside the process so start-up is excluded.
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

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: loop getppid|umask|stat|openclose|forkexec N\n");
    return 2;
  }
  const char *op = argv[1];
  long n = atol(argv[2]);
  struct stat st;
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
