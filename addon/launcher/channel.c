/*
 * The channel to the sentry (AF_UNIX SOCK_SEQPACKET: one message is one record, its first
 * byte the record type), the relay from the workload to init, and error reporting, which
 * writes to stderr and sends an `E` record.
 *
 * Only unconfined processes (the launcher, init) send records on the channel. Once the
 * workload has installed the seccomp filter, every syscall it makes goes through it, and a
 * trapped one would wait forever for a sentry that has not got the listener yet (sendmsg
 * is trapped: its destination is in memory BPF cannot read). So the workload uses only
 * write (to stderr and to the relay), read (of `G`), exit_group and then execve; init
 * sends its records for it (see main.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "launcher.h"

/* The channel fd, or -1 once this process has closed it (or never had a valid one). */
static int channel = -1;

/* In the workload: the write end of the relay pipe to init, which sends our records. */
static int relay = -1;

/* Sends one record; errors are the caller's to report. Retries on EINTR. */
static ssize_t send_record(const void *record, size_t len, void *control, size_t control_len,
			   int flags)
{
	struct iovec iov = { .iov_base = (void *)record, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = control_len,
	};
	ssize_t n;

	do
		n = sendmsg(channel, &msg, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * Receives one record into BUF. Any fds attached are discarded by the kernel (no control
 * buffer). Sets *truncated when the record was longer than LEN. Retries on EINTR.
 */
static ssize_t recv_record(void *buf, size_t len, int flags, bool *truncated)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(channel, &msg, flags);
	while (n < 0 && errno == EINTR);
	*truncated = n > 0 && (msg.msg_flags & MSG_TRUNC);
	return n;
}

/*
 * Reads and drops whatever the sentry queued that we did not read (the `F` record, when
 * the command line was wrong): closing a socket with unread data makes the peer's next
 * read fail with ECONNRESET instead of returning our `E` record.
 */
static void discard_unread_records(void)
{
	char buf[1];
	bool truncated;

	while (recv_record(buf, sizeof buf, MSG_DONTWAIT, &truncated) > 0)
		;
}

/* `E` + MSG in RECORD (of RECORD_MAX bytes); returns its length. */
#define RECORD_MAX 1024
static size_t error_record(char *record, const char *msg)
{
	size_t len = strnlen(msg, RECORD_MAX - 1);

	record[0] = 'E';
	memcpy(record + 1, msg, len);
	return 1 + len;
}

/* Sends `E` + MSG on the channel, best effort and never blocking; whether it went. */
bool channel_send_error(const char *msg)
{
	char record[RECORD_MAX];

	if (channel < 0)
		return false;
	discard_unread_records();
	return send_record(record, error_record(record, msg), NULL, 0, MSG_DONTWAIT) >= 0;
}

/*
 * Sends `E` + MSG (through init, from the workload). The sentry shows it to whoever
 * started the sandbox (`do` prints it, the embedding API returns it), so the line goes on
 * stderr, which is the workload's, only when the record could not go.
 */
static void report(const char *msg)
{
	char record[RECORD_MAX];
	char line[1100];
	int n;

	if (relay >= 0 ? write(relay, record, error_record(record, msg)) >= 0 : channel_send_error(msg))
		return;
	n = snprintf(line, sizeof line, "tsvisor-launcher: %s\n", msg);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report to. */
	}
}

static _Noreturn void vfail(int code, const char *cause, const char *step_fmt, va_list ap)
{
	char step[768];
	char msg[1024];

	vsnprintf(step, sizeof step, step_fmt, ap);
	snprintf(msg, sizeof msg, "%s: %s", step, cause);
	report(msg);
	_exit(code);
}

/* Reports "<step>: <strerror(errno)>" and exits 125. */
void fail(const char *step_fmt, ...)
{
	const char *cause = strerror(errno);
	va_list ap;

	va_start(ap, step_fmt);
	vfail(EXIT_LAUNCHER_FAILED, cause, step_fmt, ap);
}

/* Reports "<step>: <cause>" and exits 125, for failures that have no errno. */
void fail_because(const char *cause, const char *step_fmt, ...)
{
	va_list ap;

	va_start(ap, step_fmt);
	vfail(EXIT_LAUNCHER_FAILED, cause, step_fmt, ap);
}

static _Noreturn void fail_with_code(int code, const char *cause, const char *step_fmt, ...)
{
	va_list ap;

	va_start(ap, step_fmt);
	vfail(code, cause, step_fmt, ap);
}

/* Reports "exec `PROG`: <strerror(err)>" and exits 127 (ENOENT) or 126. */
void fail_exec(const char *prog, int err)
{
	fail_with_code(err == ENOENT ? EXIT_EXEC_NOT_FOUND : EXIT_EXEC_FAILED, strerror(err),
		       "exec `%s`", prog);
}

/* A warning on stderr only: the sandbox goes on. */
void warn(const char *fmt, ...)
{
	char msg[1024];
	char line[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof line, "tsvisor-launcher: warning: %s\n", msg);
	if (n > (int)sizeof line - 1)
		n = sizeof line - 1;
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report to. */
	}
}

/*
 * Takes FD as the channel: close-on-exec (so it never reaches the workload's image, and
 * a successful exec is the sentry's EOF), and checked to be a SOCK_SEQPACKET socket.
 * Returns false with errno set, leaving no channel to report on.
 */
bool channel_adopt(int fd)
{
	int type;
	socklen_t len = sizeof type;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return false;
	if (type != SOCK_SEQPACKET) {
		errno = EPROTOTYPE;
		return false;
	}
	channel = fd;
	return true;
}

/* Closes this process's copy of the channel; later failures go to stderr only. */
void channel_close(void)
{
	if (channel >= 0)
		close(channel);
	channel = -1;
}

/*
 * Reads a program record of TYPE into FILTER: struct sock_filter[] (8 bytes each). The
 * sentry queues it before spawning the launcher, so it is read without waiting. Returns
 * false if no record is queued (a missing `F` is then a sentry bug, reported at once
 * instead of hanging).
 */
static bool read_program(char type, struct sock_filter *filter, struct sock_fprog *prog)
{
	static unsigned char record[1 + BPF_MAXINSNS * sizeof(struct sock_filter)];
	bool truncated;
	ssize_t n = recv_record(record, sizeof record, MSG_DONTWAIT, &truncated);
	size_t len;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	if (n < 0)
		fail("read `%c` record", type);
	if (n == 0)
		fail_because("channel closed", "read `%c` record", type);
	if (truncated)
		fail_because("longer than BPF_MAXINSNS instructions", "read `%c` record", type);
	if (record[0] != type)
		fail_because("unexpected record type", "read `%c` record", type);
	len = (size_t)n - 1;
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		fail_because("not a whole number of instructions", "read `%c` record", type);
	memcpy(filter, record + 1, len);
	prog->len = len / sizeof(struct sock_filter);
	prog->filter = filter;
	return true;
}

/* The `F` record: tsvisor's own seccomp program, always queued. */
void channel_read_filter(struct sock_fprog *prog)
{
	static struct sock_filter filter[BPF_MAXINSNS];

	if (!read_program('F', filter, prog))
		fail_because("not queued before spawn", "read `F` record");
}

/* The `U` record, queued right after `F` when the user asked for a seccomp filter of
 * their own (an OCI config's linux.seccomp): a program, or NULL when none was queued. */
const struct sock_fprog *channel_read_user_filter(void)
{
	static struct sock_filter filter[BPF_MAXINSNS];
	static struct sock_fprog prog;

	return read_program('U', filter, &prog) ? &prog : NULL;
}

/*
 * Sends `R` + PID (4 bytes, little-endian, as seen in the sandbox's pid namespace) with
 * [LISTENER, ROOTFD, PROCFD] attached as SCM_RIGHTS.
 */
void channel_send_ready(pid_t pid, int listener, int rootfd, int procfd)
{
	const int fds[3] = { listener, rootfd, procfd };
	uint32_t upid = (uint32_t)pid;
	unsigned char record[5] = { 'R', upid & 0xff, (upid >> 8) & 0xff, (upid >> 16) & 0xff,
				    (upid >> 24) & 0xff };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof fds)];
	} control;
	struct msghdr msg = { .msg_control = control.buf, .msg_controllen = sizeof control.buf };
	struct cmsghdr *cmsg;

	memset(&control, 0, sizeof control);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
	if (send_record(record, sizeof record, control.buf, sizeof control.buf, 0) < 0)
		fail("send `R` record");
}

/*
 * Blocks until the sentry sends `G`. EOF (the sentry gave up on us) fails. A plain read:
 * the workload is under the filter by now, and read is the call no policy traps.
 */
void channel_wait_go(void)
{
	unsigned char record[64];
	ssize_t n;

	do
		n = read(channel, record, sizeof record);
	while (n < 0 && errno == EINTR);

	if (n < 0)
		fail("read `G` record");
	if (n == 0)
		fail_because("channel closed by the sentry", "read `G` record");
	if (record[0] != 'G')
		fail_because("unexpected record type", "read `G` record");
}

/* `P` + our pid (4 bytes, little-endian, host pid namespace), for --detach. */
void channel_send_pid(pid_t pid)
{
	uint32_t u = (uint32_t)pid;
	unsigned char record[5] = { 'P', u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24 };

	if (send_record(record, sizeof record, NULL, 0, 0) < 0)
		fail("send `P` record");
}

/* `X` + pid 1's exit code (one byte), for --detach. Safe in a signal handler. */
void channel_send_exit(int code)
{
	unsigned char record[2] = { 'X', (unsigned char)code };

	if (channel >= 0 && send(channel, record, sizeof record, MSG_NOSIGNAL) < 0) {
		/* The sentry is gone: nobody to tell. */
	}
}

int channel_fd(void)
{
	return channel;
}

/*
 * After poll said the channel is readable, once pid 1 has exec'd (nobody else reads it
 * then): whether the sentry closed its end (EOF). A record sent meanwhile is dropped, so
 * that poll does not report it again and again.
 */
bool channel_closed_by_peer(void)
{
	unsigned char record[RECORD_MAX];
	ssize_t n = recv(channel, record, sizeof record, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* ---- the relay: workload -> init, a packet-mode pipe (one write, one message) ---- */

/* Makes FD (the relay's write end) where this process's records go from now on. */
void relay_adopt(int fd)
{
	relay = fd;
}

/* Tells init the listener's fd number, for it to fetch with pidfd_getfd and send `R`. */
void relay_send_listener(int listener)
{
	unsigned char msg[1 + sizeof(int)] = { 'L' };

	memcpy(msg + 1, &listener, sizeof listener);
	if (write(relay, msg, sizeof msg) != (ssize_t)sizeof msg)
		fail("tell init the listener");
}

/*
 * Reads one message from the relay's read end FD: returns 'L' with *LISTENER set, 'E'
 * with MSG (of MSG_SIZE bytes) set, or 0 at EOF (the workload has exec'd or exited).
 */
char relay_read(int fd, int *listener, char *msg, size_t msg_size)
{
	char buf[RECORD_MAX];
	ssize_t n;

	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail("read from the workload");
	if (n == 0)
		return 0;
	if (buf[0] == 'L' && n == 1 + (ssize_t)sizeof(int)) {
		memcpy(listener, buf + 1, sizeof(int));
		return 'L';
	}
	if (buf[0] == 'E') {
		snprintf(msg, msg_size, "%.*s", (int)(n - 1), buf + 1);
		return 'E';
	}
	fail_because("unexpected message", "read from the workload");
}
