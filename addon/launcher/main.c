/*
 * tsvisor-launcher: builds the sandbox's host-side wall and execs the workload.
 * The command line, process shape, mounts and channel protocol are in README.md:
 *
 *   launcher (host pid ns)  read `F`, unshare, fork init, exit with init's code
 *     └─ init (pid 1)       mounts, pivot_root, hostname, loopback; fork the workload,
 *        │                  send `R` (and `E`) for it until it execs, then forward
 *        │                  signals to it, reap every child, exit with its code
 *        └─ workload        caps dropped, no_new_privs, seccomp filter, listener's number
 *           (pid 2)         to init, wait for `G`, execvp(PROG)
 *
 * With --no-init (the OCI shape: process.args is pid 1) there is no init: the launcher's
 * child mounts and then becomes the workload itself, and the launcher sends its records.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"

/* What the sandbox sees as pid 1's name and command line (as Docker's `docker-init`). */
#define INIT_NAME "tsvisor-init"

/* Signals init passes on to the workload. */
static const int forwarded_signals[] = { SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
					 SIGUSR1, SIGUSR2, SIGWINCH };

static int watch_detached(pid_t pid);

/* The launcher's child (init), for its SIGTERM handler; 0 until forked. */
static volatile pid_t init_pid;

/* Our command line's memory: init blanks it, so the sandbox's /proc/1/cmdline does not
 * show the host paths on it (staging directory, cgroups). */
static char *args_start;
static size_t args_len;

/* A wait status as a shell would report it: the exit code, or 128 + the signal. */
int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Every signal back to its default action and none blocked: undoes our parents' setup. */
void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL); /* libc refuses its own (32, 33): harmless */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		fail("reset signal mask");
}

/* ---- workload (pid 2) ---- */

/* RELAY: the write end of the pipe to init, which sends the workload's records. */
static _Noreturn void run_workload(const struct options *opts, const struct sock_fprog *prog,
				   int relay)
{
	die_with_parent(1 /* init */);
	reset_signals();
	relay_adopt(relay);
	if (opts->console_socket)
		console_attach(opts);
	confine_and_exec(opts, prog);
}

/* The workload's ids and capabilities: what it runs as, and what it may ever hold. */
static void confine_identity(const struct options *opts)
{
	apply_identity(opts);
	drop_capabilities(opts->caps);
	if (opts->ambient & opts->caps)
		raise_ambient(opts->ambient & opts->caps);
}

/* The workload's last steps, shared with a process joined to a container (join.c). */
_Noreturn void confine_and_exec(const struct options *opts, const struct sock_fprog *prog)
{
	int listener;

	apply_oom_score_adj(opts);
	apply_rlimits(opts);
	if (opts->new_privs) {
		/*
		 * Without no_new_privs a filter needs CAP_SYS_ADMIN, so the filters go in first,
		 * as runc does it, and the sentry gets the listener before anything is trapped.
		 * The identity and capability steps are then served by the sentry (set*id and
		 * capset continue in the kernel), and set-id programs gain privileges again, up
		 * to the bounding set below.
		 */
		listener = install_filter(prog);
		if (opts->user_filter)
			install_user_filter(opts->user_filter);
		relay_send_listener(listener);
		confine_identity(opts);
	} else {
		confine_identity(opts);
		set_no_new_privs();
		/*
		 * From here on every syscall goes through the filter, and a trapped one would
		 * wait for a sentry that has no listener yet: only seccomp (the user's filter),
		 * write (the relay, stderr), read (`G`) and exit_group. The listener stays open
		 * (close-on-exec) for init to take a copy.
		 */
		listener = install_filter(prog);
		if (opts->user_filter)
			install_user_filter(opts->user_filter);
		relay_send_listener(listener);
	}
	channel_wait_go();
	/* execve is trapped and answered by the sentry. The relay and the channel are
	 * close-on-exec: both close on success, and init reports a failure. */
	execvp(opts->argv[0], opts->argv);
	fail_exec(opts->argv[0], errno);
}

/* ---- init (pid 1 of the sandbox) ---- */

/* Where the sandbox's root is, as seen from the process that serves the workload. */
struct root_ref {
	int dirfd;
	const char *path;
};

/* `R` for the workload: a copy of its listener fd WORKLOAD_FD, the root and /proc. */
static void send_ready(pid_t workload, int workload_pidfd, int workload_fd,
		       const struct root_ref *root)
{
	int listener = fetch_listener(workload_pidfd, workload_fd);
	int rootfd = open_sandbox_root(root->dirfd, root->path);
	int procfd = open_sandbox_proc(rootfd);

	channel_send_ready(workload, listener, rootfd, procfd);
	close(listener);
	close(rootfd);
	close(procfd);
}

/*
 * Sends the workload's records on the channel for it (it cannot once filtered): `R` when
 * it has installed the filter, `E` for its failures. Returns when its end of the relay
 * closes: it has exec'd, or exited. Signals meanwhile stay queued for supervise().
 * ROOT names the sandbox's root as seen from here.
 */
static void serve_workload(pid_t workload, int relay, const struct root_ref *root)
{
	char msg[1024];
	int pidfd = pidfd_open(workload, 0 /* flags */);
	int fd;

	if (pidfd < 0)
		fail("pidfd_open workload");
	for (;;) {
		switch (relay_read(relay, &fd, msg, sizeof msg)) {
		case 'L':
			send_ready(workload, pidfd, fd, root);
			break;
		case 'E':
			channel_send_error(msg);
			break;
		default: /* EOF */
			close(pidfd);
			return;
		}
	}
}

/*
 * Blocks the forwarded signals and SIGCHLD, so init takes them with sigwaitinfo. Blocked,
 * they are also queued: a pid namespace's init would drop default-action signals sent
 * from inside its namespace.
 */
static void block_init_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++)
		sigaddset(set, forwarded_signals[i]);
	sigaddset(set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		fail("block signals");
}

/*
 * Forwards signals to WORKLOAD and reaps every child (orphans are reparented to init)
 * until WORKLOAD exits; returns its exit code. Init exiting then kills whatever is left
 * in the pid namespace.
 */
static int supervise(pid_t workload, const sigset_t *set)
{
	for (;;) {
		int status, sig = sigwaitinfo(set, NULL);
		pid_t pid;

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			fail("sigwaitinfo");
		}
		if (sig != SIGCHLD) {
			kill(workload, sig);
			continue;
		}
		/* One SIGCHLD may stand for several exits. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == workload)
				return exit_code(status);
	}
}

/* Pid 1's first steps, whether it is init or the workload: the sandbox's world. */
static void assemble_sandbox(const struct options *opts, int launcher_pidfd)
{
	static char resolv_conf[4096];

	reset_signals();
	die_with_launcher(launcher_pidfd);
	if (opts->net_none)
		open_sandbox_network(opts->in_userns);
	write_sysctls(opts);
	read_host_resolv_conf(resolv_conf, sizeof resolv_conf, opts->net_none);
	build_rootfs(opts);
	/* A joined UTS namespace keeps the name its owner gave it. */
	if (!opts->utsns)
		set_hostname(opts->hostname);
	/* Not in a root that is the user's own (OCI): runc leaves the image's files alone, and
	 * Docker binds its own. */
	if (!opts->no_overlay)
		write_identity_files(opts->hostname, resolv_conf);
	if (opts->net_none)
		bring_up_loopback();
	if (opts->console_socket)
		console_setup(opts);
}

/* Packet mode: each write is one message. */
static void open_relay(int relay[2])
{
	if (pipe2(relay, O_CLOEXEC | O_DIRECT) < 0)
		fail("relay pipe");
}

static _Noreturn void run_init(const struct options *opts, const struct sock_fprog *prog,
			       int launcher_pidfd)
{
	sigset_t set;
	pid_t workload;
	int relay[2];

	assemble_sandbox(opts, launcher_pidfd);
	open_relay(relay);
	block_init_signals(&set);
	workload = fork();
	if (workload < 0)
		fail("fork workload");
	if (workload == 0) {
		close(relay[0]);
		run_workload(opts, prog, relay[1]);
	}
	close(relay[1]);
	/* The workload has its own copy of the options by now. */
	if (args_len > 0) {
		memset(args_start, 0, args_len);
		snprintf(args_start, args_len, "%s", INIT_NAME);
	}
	if (prctl(PR_SET_NAME, INIT_NAME, 0, 0, 0) < 0)
		fail("prctl `PR_SET_NAME`");
	serve_workload(workload, relay[0], &(struct root_ref){ AT_FDCWD, "/" });
	close(relay[0]);
	/* The workload has exec'd (or died): our copy closed, the sentry sees EOF. */
	channel_close();
	_exit(supervise(workload, &set));
}

static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

/*
 * A pid namespace's init gets no signal it has no handler for (but SIGKILL and SIGSTOP),
 * so until it execs, pid 1 ends on the signals init forwards, as runc's init does in a
 * created container. execve resets the handlers: the program then decides for itself.
 */
static void end_on_forwarded_signals(void)
{
	struct sigaction end = { .sa_handler = exit_on_signal };

	for (size_t i = 0; i < sizeof forwarded_signals / sizeof *forwarded_signals; i++)
		if (forwarded_signals[i] != SIGWINCH && sigaction(forwarded_signals[i], &end, NULL) < 0)
			fail("install signal handlers");
}

/* --no-init: pid 1 assembles the sandbox, then is the workload; RELAY goes to the launcher. */
static _Noreturn void run_pid1_workload(const struct options *opts, const struct sock_fprog *prog,
					int launcher_pidfd, int relay)
{
	assemble_sandbox(opts, launcher_pidfd);
	end_on_forwarded_signals();
	relay_adopt(relay);
	if (opts->console_socket)
		console_attach(opts);
	confine_and_exec(opts, prog);
}

/* ---- launcher (in the sentry's pid namespace) ---- */

/* SIGTERM: take the sandbox down at once (init's death kills its pid namespace). Init is
 * reaped before we go, so that the sandbox is over (its cgroup empty) when our exit says
 * so; an orphaned zombie would wait on whoever adopts it. At most a second: init could be
 * stuck in the kernel, and the sentry then empties the cgroup itself. */
static void on_sigterm(int sig)
{
	(void)sig;
	if (init_pid > 0) {
		const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

		kill(init_pid, SIGKILL);
		for (int i = 0; i < 100 && waitpid(init_pid, NULL, WNOHANG) == 0; i++)
			nanosleep(&tick, NULL);
	}
	channel_send_exit(EXIT_SIGTERM); /* for --detach; async-signal-safe: one send(2) */
	_exit(EXIT_SIGTERM);
}

/* SIGINT and SIGQUIT are the sentry's to decide on; SIGTERM kills the sandbox. */
static void handle_launcher_signals(void)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct sigaction term = { .sa_handler = on_sigterm };

	if (sigaction(SIGINT, &ignore, NULL) < 0 || sigaction(SIGQUIT, &ignore, NULL) < 0 ||
	    sigaction(SIGTERM, &term, NULL) < 0)
		fail("install signal handlers");
}

static int wait_for(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("wait for init");
	return status;
}

static _Noreturn void run_launcher(const struct options *opts, const struct sock_fprog *prog)
{
	/* Pid 1 is outside our pid namespace's view of us: it watches this pidfd instead. */
	int pidfd = pidfd_open(getpid(), 0 /* flags */);
	int relay[2] = { -1, -1 }, host_proc = -1;
	pid_t pid;

	if (pidfd < 0)
		fail("pidfd_open");
	handle_launcher_signals();
	if (opts->no_init) {
		open_relay(relay);
		/* Pid 1's pivot_root moves our root too (one mount namespace): keep the procfs
		 * that shows pid 1 by its host pid. */
		host_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (host_proc < 0)
			fail("open `/proc`");
	}
	pid = fork();
	if (pid < 0)
		fail("fork pid 1");
	if (pid == 0) {
		if (!opts->no_init)
			run_init(opts, prog, pidfd);
		close(relay[0]);
		close(host_proc);
		run_pid1_workload(opts, prog, pidfd, relay[1]);
	}
	init_pid = pid;
	close(pidfd);
	if (opts->no_init) {
		char root[32];

		/* Its root, reached from outside: valid once it reports its listener. */
		snprintf(root, sizeof root, "%d/root", (int)pid);
		close(relay[1]);
		serve_workload(pid, relay[0], &(struct root_ref){ host_proc, root });
		close(relay[0]);
		close(host_proc);
	}
	if (opts->detach)
		exit(watch_detached(pid));
	channel_close();
	exit(exit_code(wait_for(pid)));
}

/*
 * --detach: the launcher leaves its parent (the sentry's process) so that, orphaned, it is
 * adopted by the nearest subreaper above: containerd's shim reaps it as the container's
 * process, which lives in the container's cgroup and namespaces (but pid) and exits with
 * its status. The sentry learns our pid from a `P` record and the status from `X`.
 */
static void detach_from_sentry(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork to detach");
	if (pid > 0)
		_exit(0);
	/* Our parent-death signal went with the fork: the sentry's end of the channel tells
	 * whether it is still there (watch_detached). */
	channel_send_pid(getpid());
}

/*
 * Waits for pid 1 (PID) while watching the channel: if the sentry goes, its sandbox cannot
 * go on (every trapped call would fail), so pid 1 is killed. Sends pid 1's code as `X`
 * and returns it.
 */
static int watch_detached(pid_t pid)
{
	int pidfd = pidfd_open(pid, 0 /* flags */);
	int status;

	if (pidfd < 0)
		fail("pidfd_open pid 1");
	for (bool sentry_gone = false;;) {
		struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN },
					 { .fd = sentry_gone ? -1 : channel_fd(), .events = POLLIN } };

		if (poll(fds, 2, -1 /* no timeout */) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll pid 1 and the channel");
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents && channel_closed_by_peer()) {
			sentry_gone = true;
			kill(pid, SIGKILL);
		}
	}
	close(pidfd);
	status = exit_code(wait_for(pid));
	channel_send_exit(status);
	return status;
}

int main(int argc, char **argv)
{
	pid_t sentry = getppid();
	struct options opts;
	struct sock_fprog prog;
	const char *error;

	die_with_parent(sentry);
	if (argc > 0) {
		args_start = argv[0];
		args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	}
	error = parse_options(argc, argv, &opts);
	if (error) {
		channel_adopt(opts.channel); /* best effort: report where we can */
		fail_because(error, "options");
	}
	if (!channel_adopt(opts.channel))
		fail("channel fd `%d`", opts.channel);
	join_cgroups(&opts); /* before anything forks: the whole sandbox is inside */
	close_inherited_fds(opts.channel);
	if (opts.console_socket) /* a host path: before the mount namespace changes */
		opts.console_fd = console_connect(opts.console_socket);
	channel_read_filter(&prog);
	opts.user_filter = channel_read_user_filter();
	if (opts.join_pid > 0) /* OCI exec: into a running sandbox (join.c) */
		run_join(&opts, &prog);
	if (opts.detach)
		detach_from_sentry();
	/* First: the host's namespaces are not ours to join from a new userns. */
	join_namespaces(&opts);
	/* Then the user namespace, so that it owns every namespace made after it. */
	if (opts.userns)
		enter_user_namespace();
	else if (opts.n_uid_maps > 0)
		enter_mapped_user_namespace(&opts);
	opts.in_userns = opts.userns || opts.n_uid_maps > 0;
	unshare_namespaces(&opts);
	run_launcher(&opts, &prog);
}
