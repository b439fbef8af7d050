// Helper for test/unit/native.test.ts (readMem, readString, writeMem, pidfd*).
// Prints, on one line, the addresses of strings placed where the tests need them:
//   greeting      a plain static string
//   scratch       a static buffer the test overwrites with writeMem
//   cross         a string that crosses from one mapped page into the next
//   edge          a string whose NUL is the last byte before an unmapped page
//   unterminated  bytes without a NUL that run into an unmapped page
// then prints "scratch=<contents>" for every line read from stdin, and exits at EOF.
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char greeting[] = "hello from child";
static char scratch[64] = "untouched";

int main(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  // Map everything first, then unmap the tails, so no later mapping fills the holes.
  char *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *b = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || b == MAP_FAILED) return 1;
  if (munmap(a + 2 * page, page) != 0 || munmap(b + page, page) != 0) return 1;

  char *cross = a + page - 4;
  strcpy(cross, "across a page boundary");
  char *edge = a + 2 * page - 5;
  memcpy(edge, "edge", 5);
  char *unterminated = b + page - 8;
  memset(unterminated, 'x', 8);

  printf("greeting=%p scratch=%p cross=%p edge=%p unterminated=%p\n", (void *)greeting,
         (void *)scratch, (void *)cross, (void *)edge, (void *)unterminated);
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    printf("scratch=%s\n", scratch);
    fflush(stdout);
  }
  return 0;
}
