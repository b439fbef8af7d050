/*
 * POSIX message queues: create one, send two messages, receive them in priority order,
 * read its attributes, unlink it. Prints the same lines natively and in a sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check(int ok, const char *what)
{
	if (!ok)
		perror(what);
	return ok;
}

int main(void)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	char name[64], buf[64];
	unsigned int prio;
	ssize_t n;
	mqd_t q;

	/* A name of its own: the native run shares the host's ipc namespace. */
	snprintf(name, sizeof name, "/tsvisor-mq-%d", (int)getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (!check(q != (mqd_t)-1, "mq_open"))
		return 1;
	if (!check(mq_send(q, "low", 3, 1) == 0, "mq_send") ||
	    !check(mq_send(q, "high", 4, 7) == 0, "mq_send"))
		return 1;
	if (!check(mq_getattr(q, &attr) == 0, "mq_getattr"))
		return 1;
	printf("queued %ld of at most %ld, %ld bytes each\n", attr.mq_curmsgs, attr.mq_maxmsg,
	       attr.mq_msgsize);
	for (int i = 0; i < 2; i++) {
		n = mq_receive(q, buf, sizeof buf, &prio);
		if (!check(n >= 0, "mq_receive"))
			return 1;
		printf("received `%.*s` priority %u\n", (int)n, buf, prio);
	}
	if (!check(mq_close(q) == 0, "mq_close") || !check(mq_unlink(name) == 0, "mq_unlink"))
		return 1;
	printf("unlinked: %s\n", mq_open(name, O_RDONLY) == (mqd_t)-1 ? strerror(errno) : "still there");
	return 0;
}
