// chroot inside the sandbox as natively: names resolve from the new root, `..` and
// absolute symlinks stop at it, the cwd stays where it was until a chdir, children
// inherit the root and execve finds its program beneath it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *label, long r) {
  printf("%s: %s\n", label, r < 0 ? strerrorname_np(errno) : "ok");
}

static void show(const char *path) {
  char buf[64] = "";
  int fd = open(path, O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n < 0) printf("%s: %s\n", path, strerrorname_np(errno));
  else printf("%s: %.*s\n", path, (int)n, buf);
  if (fd >= 0) close(fd);
}

static void put(const char *path, const char *text) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) perror(path);
  close(fd);
}

int main(int argc, char **argv) {
  (void)argv;
  char cwd[256];
  if (argc > 1) {
    printf("exec'd in the root: cwd %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerrorname_np(errno));
    show("/file");
    return 0;
  }
  mkdir("jail", 0755);
  mkdir("jail/sub", 0755);
  put("jail/file", "in the jail");
  put("file", "outside");
  // A copy of this program beneath the new root, for execve.
  int in = open("/proc/self/exe", O_RDONLY), out = open("jail/prog", O_CREAT | O_WRONLY | O_TRUNC, 0755);
  char buf[65536];
  for (long n; (n = read(in, buf, sizeof buf)) > 0;) if (write(out, buf, n) != n) return 1;
  close(in);
  close(out);
  if (symlink("/file", "jail/abs") < 0) perror("symlink");

  report("chroot(missing)", chroot("missing"));
  report("chroot(file)", chroot("file"));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    report("chroot(jail)", chroot("jail"));
    show("file");  // the cwd is still outside the new root
    show("/file");
    show("/abs");
    report("stat(/proc)", access("/proc", F_OK));
    report("chdir(/)", chdir("/"));
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerrorname_np(errno));
    show("../../file");
    report("mkdir(/sub/new)", mkdir("/sub/new", 0755));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      show("/file");
      fflush(stdout);
      _exit(0);
    }
    waitpid(child, NULL, 0);
    fflush(stdout);
    execl("/prog", "prog", "inside", (char *)NULL);
    report("execl", -1);
    _exit(1);
  }
  waitpid(pid, NULL, 0);
  report("jail/sub/new made", access("jail/sub/new", F_OK));
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    if (setresuid(1000, 1000, 1000) < 0) _exit(1);
    report("chroot as a user", chroot("jail"));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  return 0;
}
