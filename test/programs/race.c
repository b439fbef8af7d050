// race LINK INSIDE OUTSIDE N: one thread flips LINK between pointing at INSIDE and at
// OUTSIDE (a path meant to be outside the sandbox) while the main thread opens and reads
// LINK N times. Prints how many reads saw each content, so a test can assert that the
// outside content never appears.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *link_path, *inside, *outside;
static atomic_int stop;

static void *flipper(void *arg) {
  (void)arg;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", link_path);
  for (int i = 0; !atomic_load(&stop); i++) {
    unlink(tmp);
    if (symlink(i % 2 ? outside : inside, tmp) == 0) rename(tmp, link_path);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  link_path = argv[1], inside = argv[2], outside = argv[3];
  int n = atoi(argv[4]), saw_inside = 0, saw_other = 0, failed = 0;
  pthread_t t;
  pthread_create(&t, NULL, flipper, NULL);
  for (int i = 0; i < n; i++) {
    char buf[256] = {0};
    int fd = open(link_path, O_RDONLY);
    if (fd < 0) {
      failed++;
      continue;
    }
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r > 0 && !strncmp(buf, "inside", 6)) saw_inside++;
    else {
      saw_other++;
      fprintf(stderr, "read: %s\n", buf);
    }
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("inside=%d other=%d failed=%d\n", saw_inside > 0, saw_other, failed > 0);
  return 0;
}
