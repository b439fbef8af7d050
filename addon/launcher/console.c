/*
 * `--console-socket PATH` and `--console-size ROWS,COLS` (an OCI spec's process.terminal
 * and consoleSize, as runc does them):
 *
 *   launcher  connects to PATH (SOCK_STREAM, in the host's mount namespace, before it
 *             unshares anything);
 *   init      after the new root is built, opens ptmx of the sandbox's own devpts
 *             instance, unlocks it, sets the window size, and sends the master over the
 *             socket with SCM_RIGHTS (the data: the slave's name, as runc's SendFd does);
 *             then closes the socket and its copy of the master;
 *   workload  before its credentials change: setsid, opens the slave, makes it the
 *             controlling terminal (TIOCSCTTY) and its stdin, stdout and stderr.
 *
 * With --join (exec in a running sandbox, join.c) there is no init of ours: the joined
 * workload, once beneath the container's root, takes both parts itself, so the pty comes
 * from the container's devpts instance as the main process's did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "launcher.h"

/* The slave's path inside the sandbox, set by console_setup (before console_attach). */
static char slave_path[64];

bool set_console_size_option(struct options *opts, const char *arg)
{
	unsigned rows, cols;
	char end;

	if (sscanf(arg, "%u,%u%c", &rows, &cols, &end) != 2 || rows > 0xffff || cols > 0xffff)
		return false;
	opts->console_rows = (unsigned short)rows;
	opts->console_cols = (unsigned short)cols;
	return true;
}

int console_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof addr.sun_path)
		fail_because("path too long", "console socket `%s`", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("console socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		fail("connect to console socket `%s`", path);
	return fd;
}

/* Sends FD with NAME as the data over SOCK. */
static void send_fd(int sock, const char *name, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof control,
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			fail("send the console's master");
}

void console_setup(const struct options *opts)
{
	int master, n;

	/* The sandbox's own devpts instance (rootfs.c): /dev/ptmx links to it. */
	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail("open `/dev/pts/ptmx`");
	if (unlockpt(master) < 0)
		fail("unlockpt");
	if (ioctl(master, TIOCGPTN, &n) < 0)
		fail("TIOCGPTN");
	snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", n);
	if (opts->console_rows || opts->console_cols) {
		struct winsize ws = { .ws_row = opts->console_rows, .ws_col = opts->console_cols };

		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			fail("TIOCSWINSZ");
	}
	send_fd(opts->console_fd, slave_path, master);
	close(master);
	close(opts->console_fd);
}

void console_attach(const struct options *opts)
{
	int slave;

	if (setsid() < 0)
		fail("setsid");
	slave = open(slave_path, O_RDWR);
	if (slave < 0)
		fail("open `%s`", slave_path);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail("TIOCSCTTY");
	/* Its user owns the terminal, as with runc and a login. */
	if (opts->has_uid && fchown(slave, opts->uid, (gid_t)-1) < 0)
		fail("chown `%s`", slave_path);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			fail("dup2 the console to fd %d", fd);
	if (slave > 2)
		close(slave);
}
