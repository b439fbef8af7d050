/*
 * `--join PID`: run PROG inside the running sandbox whose init is host pid PID (OCI exec).
 *
 *   launcher (host pid ns)  open PID's namespaces and root, join them (its user namespace
 *      │                    first, and become its root), fork the workload,
 *      │                    send `R` for it until it execs, then forward SIGTERM as
 *      │                    SIGKILL, wait for it and exit with its code
 *      └─ workload          in PID's pid namespace: chroot to PID's root, with
 *                           --console-socket a pty of the container's devpts as its
 *                           terminal (console.c), chdir(--cwd), rlimits, identity, caps
 *                           dropped, no_new_privs, seccomp filter, listener's number to
 *                           the launcher, wait for `G`, execvp(PROG)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

/*
 * The namespaces joined, in order: the user namespace first (when the container has one of
 * its own), so that the others are joined with the container's privileges and the workload
 * is in it, as runc's exec does; mnt last, as it changes what paths mean.
 */
static const struct {
	const char *name;
	int type;
} joined[] = {
	{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};
#define N_JOINED (sizeof joined / sizeof *joined)
#define USER 0 /* joined[USER] */

static volatile pid_t workload_pid;

static void on_sigterm(int sig)
{
	(void)sig;
	if (workload_pid > 0)
		kill(workload_pid, SIGKILL);
	_exit(EXIT_SIGTERM);
}

static _Noreturn void run_joined_workload(const struct options *opts,
					  const struct sock_fprog *prog, int rootfd, int relay)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("prctl `PR_SET_PDEATHSIG`");
	reset_signals();
	relay_adopt(relay);
	if (fchdir(rootfd) < 0)
		fail("fchdir to the container's root");
	if (chroot(".") < 0)
		fail("chroot to the container's root");
	close(rootfd);
	/* Now beneath the container's root, /dev/pts is its devpts instance: the pty is
	 * made there, as runc does for exec, while we are still unfiltered. */
	if (opts->console_socket) {
		console_setup(opts);
		console_attach(opts);
	}
	if (chdir(opts->cwd) < 0)
		fail("chdir `%s`", opts->cwd);
	confine_and_exec(opts, prog);
}

/* `R` for the workload: its listener, the container's root and its /proc. */
static void send_joined_ready(pid_t workload, int pidfd, int workload_fd, int rootfd)
{
	int listener = fetch_listener(pidfd, workload_fd);
	int procfd = openat(rootfd, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (procfd < 0)
		fail("open the container's `/proc`");
	channel_send_ready(workload, listener, rootfd, procfd);
	close(listener);
	close(procfd);
}

/* Whether the namespace files FD and OTHER are the same namespace. */
static bool same_namespace(int fd, int other)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || fstat(other, &b) < 0)
		fail("stat namespace files");
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Joins joined[I] through NSFDS[I], then closes it (-1: done). */
static void join_one(int nsfds[], size_t i)
{
	if (setns(nsfds[i], joined[i].type) < 0)
		fail("join the container's %s namespace", joined[i].name);
	close(nsfds[i]);
	nsfds[i] = -1;
}

/*
 * The container's user namespace, when it differs from ours (setns refuses our own), and
 * before it those of its other namespaces that it does not own: one joined by path while
 * the container was made (`--netns`: Docker's or a CNI's network namespace, the host's),
 * which only the host's privileges may join, as the launcher did then. We then become the
 * namespace's root, so that the workload's ids (--uid...) are the container's.
 */
static void join_user_namespace(struct options *opts, int nsfds[])
{
	int own = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);

	if (own < 0)
		fail("open `/proc/self/ns/user`");
	if (same_namespace(nsfds[USER], own)) {
		close(own);
		close(nsfds[USER]);
		nsfds[USER] = -1;
		return;
	}
	close(own);
	for (size_t i = USER + 1; i < N_JOINED; i++) {
		int owner = ioctl(nsfds[i], NS_GET_USERNS);
		bool container_owns;

		if (owner < 0)
			fail("owner of the container's %s namespace", joined[i].name);
		container_owns = same_namespace(owner, nsfds[USER]);
		close(owner);
		if (!container_owns)
			join_one(nsfds, i);
	}
	join_one(nsfds, USER);
	become_userns_root();
	opts->in_userns = true;
}

_Noreturn void run_join(struct options *opts, const struct sock_fprog *prog)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct sigaction term = { .sa_handler = on_sigterm };
	int nsfds[N_JOINED], rootfd, relay[2], pidfd, fd, status;
	char path[64], msg[1024];
	pid_t pid;

	/* Everything opened before any is joined: /proc/PID means ours until the end. */
	for (size_t i = 0; i < N_JOINED; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)opts->join_pid, joined[i].name);
		nsfds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfds[i] < 0)
			fail("open `%s`", path);
	}
	snprintf(path, sizeof path, "/proc/%d/root", (int)opts->join_pid);
	rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail("open `%s`", path);
	join_user_namespace(opts, nsfds);
	for (size_t i = 0; i < N_JOINED; i++)
		if (nsfds[i] >= 0)
			join_one(nsfds, i);
	if (sigaction(SIGINT, &ignore, NULL) < 0 || sigaction(SIGQUIT, &ignore, NULL) < 0 ||
	    sigaction(SIGTERM, &term, NULL) < 0)
		fail("install signal handlers");
	if (pipe2(relay, O_CLOEXEC | O_DIRECT) < 0)
		fail("relay pipe");
	pid = fork();
	if (pid < 0)
		fail("fork the workload");
	if (pid == 0) {
		close(relay[0]);
		run_joined_workload(opts, prog, rootfd, relay[1]);
	}
	workload_pid = pid;
	close(relay[1]);
	/* The workload's copy is the one that sends the master. */
	if (opts->console_fd >= 0)
		close(opts->console_fd);
	pidfd = pidfd_open(pid, 0 /* flags */);
	if (pidfd < 0)
		fail("pidfd_open workload");
	for (bool done = false; !done;) {
		switch (relay_read(relay[0], &fd, msg, sizeof msg)) {
		case 'L':
			send_joined_ready(pid, pidfd, fd, rootfd);
			break;
		case 'E':
			channel_send_error(msg);
			break;
		default: /* EOF: exec'd or exited */
			done = true;
		}
	}
	close(pidfd);
	close(relay[0]);
	close(rootfd);
	channel_close();
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("wait for the workload");
	exit(exit_code(status));
}
