// Opens one file read-only over and over and checks that each open gives a new fd whose
// content is the file's. Run while the sentry's process is flooded with signals
// (api.test.ts): an open answered wrongly returns an fd the task already had (0, say).
// Prints the count of wrong opens.
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *want = "reopen canary\n";
	int wrong = 0, rounds = argc > 2 ? atoi(argv[2]) : 5000;
	char got[64];

	for (int i = 0; i < rounds; i++) {
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 3 ? -1 : read(fd, got, sizeof got - 1);
		if (n != (ssize_t)strlen(want) || memcmp(got, want, n) != 0)
			wrong++;
		if (fd >= 3)
			close(fd);
	}
	printf("wrong opens: %d of %d\n", wrong, rounds);
	return 0;
}
