// fstat, as glibc makes it (newfstatat with an empty path), of every kind of fd a task
// holds, bad ones and a bad buffer included; run natively and under tsvisor by fs.test.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, int fd)
{
	struct stat st;
	int r = fstat(fd, &st);

	if (r < 0) {
		printf("%s: %d %s\n", what, r, strerror(errno));
		return;
	}
	printf("%s: %d mode=%o nlink=%lu size=%ld\n", what, r, st.st_mode & 0170777,
	       (unsigned long)st.st_nlink, (long)st.st_size);
}

int main(void)
{
	int pipefd[2], deleted, tmpfile;
	long r;

	show("bad -1", -1);
	show("bad 999", 999);
	r = syscall(SYS_newfstatat, 0, "", (void *)8, AT_EMPTY_PATH);
	printf("bad buffer: %ld %s\n", r, strerror(errno));
	show("O_PATH", open("/etc/passwd", O_PATH));
	if (pipe(pipefd) < 0)
		return 1;
	show("pipe", pipefd[0]);
	show("socket", socket(AF_UNIX, SOCK_STREAM, 0));
	// An anonymous inode: only its type is stable across kernels' choices of mode.
	{
		struct stat st;
		int e = epoll_create1(0);

		printf("epoll: %d type=%o\n", fstat(e, &st), st.st_mode & S_IFMT);
	}
	tmpfile = open(".", O_TMPFILE | O_RDWR, 0600);
	if (write(tmpfile, "abc", 3) != 3)
		return 1;
	show("O_TMPFILE", tmpfile);
	deleted = open("delme", O_CREAT | O_RDWR, 0640);
	unlink("delme");
	show("deleted", deleted);
	show("directory", open(".", O_RDONLY | O_DIRECTORY));
	return 0;
}
