/*
 * The host-side wall, one step per function: parent-death signals, namespaces, hostname,
 * loopback, capabilities, no_new_privs and the seccomp filter. Each step either succeeds
 * or fails the launcher (see fail() in channel.c).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"

/* Debian 12's headers predate it. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/*
 * PR_SET_PDEATHSIG(SIGKILL): this process dies with its parent. The parent may have died
 * before the call, so check that it is still the one we were started by.
 */
void die_with_parent(pid_t expected_parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("prctl `PR_SET_PDEATHSIG`");
	if (getppid() != expected_parent)
		fail_because("parent already exited", "prctl `PR_SET_PDEATHSIG`");
}

/*
 * The same for init, whose parent (the launcher) lives outside init's pid namespace, so
 * getppid() is 0 whoever the parent is: the launcher's pidfd tells whether it still runs.
 */
void die_with_launcher(int launcher_pidfd)
{
	struct pollfd pfd = { .fd = launcher_pidfd, .events = POLLIN };
	int ready;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail("prctl `PR_SET_PDEATHSIG`");
	/* A pidfd polls readable once its process has exited. */
	ready = poll(&pfd, 1, 0 /* timeout: none */);
	if (ready < 0)
		fail("poll launcher pidfd");
	if (ready > 0)
		fail_because("launcher already exited", "prctl `PR_SET_PDEATHSIG`");
	close(launcher_pidfd);
}

/* Closes every fd above stderr except KEEP (the channel): nothing else may leak inside. */
void close_inherited_fds(int keep)
{
	const unsigned int first = STDERR_FILENO + 1;

	if (keep < (int)first) {
		if (close_range(first, ~0U, 0 /* flags */) < 0)
			fail("close inherited fds");
		return;
	}
	if (keep > (int)first && close_range(first, keep - 1, 0 /* flags */) < 0)
		fail("close inherited fds");
	if (keep < INT_MAX && close_range(keep + 1, ~0U, 0 /* flags */) < 0)
		fail("close inherited fds");
}

/*
 * New mount, pid, ipc, uts and cgroup namespaces, and a network namespace for `--net
 * none`. The cgroup namespace is rooted at the sandbox's cgroup (joined just before), so
 * /proc/self/cgroup shows `/` instead of the host's cgroup paths.
 */
/* New namespaces of every kind but those joined (netns.c) and, with `--net host`, the
 * network. */
void unshare_namespaces(const struct options *opts)
{
	int flags = CLONE_NEWNS | CLONE_NEWCGROUP;

	if (!opts->pidns)
		flags |= CLONE_NEWPID;
	if (opts->net_none && !opts->netns)
		flags |= CLONE_NEWNET;
	if (!opts->ipcns)
		flags |= CLONE_NEWIPC;
	if (!opts->utsns)
		flags |= CLONE_NEWUTS;
	if (unshare(flags) < 0)
		fail("unshare");
}

void set_hostname(const char *name)
{
	if (sethostname(name, strlen(name)) < 0)
		fail("sethostname `%s`", name);
}

/* Writes a sysctl of the launcher's own network namespace (host /proc is still mounted:
 * net sysctls resolve to the writer's namespace). Returns false with errno set, or fails
 * the step unless BEST_EFFORT. */
static bool write_net_sysctl(const char *path, const char *value, bool best_effort)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, value, strlen(value)) >= 0;

	if (!ok && !best_effort)
		fail("write `%s`", path);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* In the sandbox's own network namespace, its root may bind ports below 1024 and ping, as
 * a container's root does with CAP_NET_BIND_SERVICE and CAP_NET_RAW, though the launcher
 * drops both: the namespace holds nothing but the sandbox. Called before the root is
 * pivoted, while /proc is the host's and writable. */
void open_sandbox_network(bool userns)
{
	/* In a user namespace (--userns) the namespace's sysctls may be read-only and only the
	 * mapped gid 0 can be named: best effort, the narrower range as the fallback. */
	write_net_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0", userns);
	if (!write_net_sysctl("/proc/sys/net/ipv4/ping_group_range", "0 2147483647", userns))
		write_net_sysctl("/proc/sys/net/ipv4/ping_group_range", "0 0", true);
}

/*
 * The sysctls that belong to the namespaces a sandbox has of its own (as runc's list):
 * network, IPC (System V and POSIX queues) and UTS. Any other is the host's.
 */
static bool is_namespaced_sysctl(const char *key, size_t len)
{
	static const char *const prefixes[] = { "net.", "kernel.shm", "kernel.msg", "fs.mqueue." };
	static const char *const keys[] = { "kernel.sem", "kernel.hostname", "kernel.domainname" };

	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
		if (len > strlen(prefixes[i]) && strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (len == strlen(keys[i]) && strncmp(key, keys[i], len) == 0)
			return true;
	return false;
}

/* `--sysctl KEY=VALUE`: KEY dotted, namespaced, of letters, digits, `_`, `-` and dots
 * that separate non-empty parts (nothing that could climb out of /proc/sys). */
bool add_sysctl(struct options *opts, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char **grown;

	if (!eq || eq == arg || arg[0] == '.' || eq[-1] == '.' || strstr(arg, ".."))
		return false;
	for (const char *p = arg; p < eq; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.'))
			return false;
	if (!is_namespaced_sysctl(arg, (size_t)(eq - arg)))
		return false;
	grown = realloc(opts->sysctls, (opts->n_sysctls + 1) * sizeof *grown);
	if (!grown)
		return false;
	grown[opts->n_sysctls++] = arg;
	opts->sysctls = grown;
	return true;
}

/* Writes each `--sysctl`, from pid 1 in the sandbox's namespaces while /proc is still the
 * host's procfs: these sysctls resolve to the writer's own namespaces. */
void write_sysctls(const struct options *opts)
{
	for (size_t i = 0; i < opts->n_sysctls; i++) {
		const char *arg = opts->sysctls[i], *eq = strchr(arg, '=');
		char path[PATH_MAX];
		int n = snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - arg), arg);
		int fd;

		if (n < 0 || (size_t)n >= sizeof path)
			fail_because("too long", "sysctl `%s`", arg);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0)
			fail("sysctl `%.*s`", (int)(eq - arg), arg);
		close(fd);
	}
}

/* A new network namespace starts with `lo` down; bring it up (IFF_UP | IFF_RUNNING). */
void bring_up_loopback(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("bring up `lo`: socket");
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail("bring up `lo`");
	close(fd);
}

/* The highest capability number the running kernel knows. */
static int last_cap(void)
{
	char buf[16] = { 0 };
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fail("read `/proc/sys/kernel/cap_last_cap`");
	n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		fail("read `/proc/sys/kernel/cap_last_cap`");
	close(fd);
	return atoi(buf);
}

/* Empties the bounding set but for KEEP, so that no later execve gains anything else. */
static void drop_bounding_set(uint64_t keep)
{
	int last = last_cap();

	for (int cap = 0; cap <= last; cap++)
		if (!(keep & (UINT64_C(1) << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail("prctl `PR_CAPBSET_DROP` %d", cap);
}

static void clear_ambient_set(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail("prctl `PR_CAP_AMBIENT_CLEAR_ALL`");
}

/* Permitted cut to KEEP (of what we hold; all ones: as it is), effective the same, and
 * inheritable INHERITABLE of those. */
void limit_capability_sets(uint64_t keep, uint64_t inheritable)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0, /* this thread */
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &header, data) < 0)
		fail("capget");
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].permitted &= (uint32_t)(keep >> (32 * i));
		data[i].effective = data[i].permitted;
		data[i].inheritable = data[i].permitted & (uint32_t)(inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &header, data) < 0)
		fail("capset");
}

/*
 * Drops every capability but KEEP: bounding, ambient, then effective/permitted/
 * inheritable. What KEEP may hold is the sentry's choice (sandbox.ts): capabilities
 * whose use the sentry still judges, such as CAP_SETUID for identity changes.
 */
void drop_capabilities(uint64_t keep)
{
	drop_bounding_set(keep);
	clear_ambient_set();
	limit_capability_sets(keep, 0);
}

/*
 * Raises AMBIENT (of the capabilities kept) into the ambient set, after making them
 * inheritable as the kernel requires: a workload of another uid keeps them across its
 * exec (an OCI spec's process.capabilities.ambient).
 */
void raise_ambient(uint64_t ambient)
{
	limit_capability_sets(UINT64_MAX, ambient);
	for (int cap = 0; cap < 64; cap++)
		if ((ambient & (UINT64_C(1) << cap)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			fail("prctl `PR_CAP_AMBIENT_RAISE` %d", cap);
}

void set_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("prctl `PR_SET_NO_NEW_PRIVS`");
}

/* The sandbox root for the sentry to resolve paths beneath: `/` after pivot_root, or
 * PID/root of a process inside, beneath a procfs that shows it. */
int open_sandbox_root(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail("open `%s`", path);
	return fd;
}

/* The sandbox's own procfs; checked to be one, as the sentry will trust what it reads. */
int open_sandbox_proc(int rootfd)
{
	struct statfs st;
	int fd = openat(rootfd, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		fail("open `/proc`");
	if (fstatfs(fd, &st) < 0)
		fail("statfs `/proc`");
	if (st.f_type != PROC_SUPER_MAGIC)
		fail_because("not a procfs", "open `/proc`");
	return fd;
}

/*
 * Installs PROG with SECCOMP_FILTER_FLAG_NEW_LISTENER and returns the listener fd
 * (close-on-exec). Needs no_new_privs, or (--new-privs) CAP_SYS_ADMIN still held.
 *
 * WAIT_KILLABLE_RECV (Linux 5.19): once the sentry has received a call, only a fatal
 * signal ends the task's wait. Without it any signal (a timer, SIGCHLD, Go's preemption)
 * abandons a call the sentry may have carried out already: mkdir done, then EINTR, or
 * done twice under SA_RESTART. The sentry itself interrupts the calls it makes wait
 * (src/sentry/signals.ts). Older kernels get the filter without it.
 */
int install_filter(const struct sock_fprog *prog)
{
	unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);

	if (fd < 0 && errno == EINVAL)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	if (fd < 0)
		fail("seccomp `SECCOMP_SET_MODE_FILTER`");
	return fd;
}

/*
 * Installs the user's own filter (the `U` record) above ours: the kernel answers with the
 * most restrictive action of all filters, so it can only take calls away, and as the
 * newest filter its errno is the one a call sees when both refuse it, as under runc.
 * Installed after ours because our policy lets seccomp(2) through, whereas the user's
 * might not.
 */
void install_user_filter(const struct sock_fprog *prog)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0 /* flags */, prog) < 0)
		fail("seccomp `SECCOMP_SET_MODE_FILTER` (linux.seccomp)");
}

/* A copy of the workload's listener FD, taken through its pidfd (init has CAP_SYS_PTRACE). */
int fetch_listener(int workload_pidfd, int fd)
{
	int listener = pidfd_getfd(workload_pidfd, fd, 0 /* flags */);

	if (listener < 0)
		fail("pidfd_getfd listener");
	return listener;
}
