// Follows another process's /proc/<pid> magic links (fd/N, exe, cwd), as lsof and fuser
// do: allowed for a process of the same ids, refused (EACCES) for another user.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *label, long r) {
  printf("%s: %s\n", label, r < 0 ? strerrorname_np(errno) : "ok");
}

static void look(pid_t pid) {
  char path[64], buf[256];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/fd/3", pid);
  long r = stat(path, &st);
  report("stat fd/3", r);
  if (r == 0) printf("fd/3 is %s of %lld bytes\n", S_ISREG(st.st_mode) ? "a file" : "something else", (long long)st.st_size);
  int fd = open(path, O_RDONLY);
  report("open fd/3", fd);
  if (fd >= 0) {
    long n = read(fd, buf, sizeof buf - 1);
    printf("read: %.*s\n", n > 0 ? (int)n : 0, buf);
    close(fd);
  }
  report("readlink fd/3", readlink(path, buf, sizeof buf));
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  report("stat exe", stat(path, &st));
  snprintf(path, sizeof path, "/proc/%d/cwd/peer-data", pid);
  report("stat cwd/peer-data", stat(path, &st));
  snprintf(path, sizeof path, "/proc/%d/fd/99", pid);
  report("stat fd/99", stat(path, &st));
}

int main(void) {
  int ready[2];
  if (pipe(ready) < 0) return 1;
  int fd = open("peer-data", O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "peer data", 9) != 9) return 1;
  pid_t peer = fork();
  if (peer == 0) {
    close(ready[0]);
    if (dup2(fd, 3) < 0) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  close(fd);
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;
  printf("-- same user\n");
  fflush(stdout);
  look(peer);
  fflush(stdout);
  pid_t other = fork();
  if (other == 0) {
    if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0) _exit(1);
    printf("-- another user\n");
    look(peer);
    fflush(stdout);
    _exit(0);
  }
  waitpid(other, NULL, 0);
  kill(peer, SIGKILL);
  waitpid(peer, NULL, 0);
  unlink("peer-data");
  return 0;
}
