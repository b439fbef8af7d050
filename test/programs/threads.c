// threads N M: N threads each make M trapped calls (stat, open+close of their own file,
// readlink) at once; prints one summary line. Checks that the sentry serves many threads
// of one process concurrently and keeps their answers apart.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int iterations;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  long id = (long)arg;
  char path[64], self[64], link[256];
  snprintf(path, sizeof path, "t%ld", id);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, path, strlen(path)) < 0) abort();
  close(fd);
  snprintf(self, sizeof self, "/proc/thread-self/task/%ld", (long)syscall(SYS_gettid));
  int bad = 0;
  for (int i = 0; i < iterations; i++) {
    struct stat st;
    if (stat(path, &st) < 0 || st.st_size != (off_t)strlen(path)) bad++;
    int f = open(path, O_RDONLY);
    char buf[64] = {0};
    if (f < 0 || read(f, buf, sizeof buf) != (ssize_t)strlen(path) || strcmp(buf, path)) bad++;
    if (f >= 0) close(f);
    ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);
    if (n <= 0) bad++;
  }
  unlink(path);
  pthread_mutex_lock(&lock);
  failures += bad;
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int n = atoi(argv[1]);
  iterations = atoi(argv[2]);
  pthread_t *t = calloc(n, sizeof *t);
  for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  printf("threads %d x %d: %d failures\n", n, iterations, failures);
  return failures != 0;
}
