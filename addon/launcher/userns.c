/*
 * The sandbox's own user namespace, entered by the launcher after the namespaces it joins
 * by path (`--netns`...: those stay the host's, and joining them needs the host's
 * privileges) and before it makes the others, which the new one then owns.
 *
 * `--userns`: a namespace in which the launcher is root (uid 0 and gid 0 mapped to its own
 * ids outside, nothing else mapped), so that a caller without privileges can still unshare
 * the other namespaces, mount and pivot_root: every one of those is then checked against
 * the new namespace, which the caller owns. Files the sandbox creates on the host belong
 * to the caller; unmapped owners show as the overflow id (65534).
 *
 * `--uid-map`/`--gid-map` (an OCI spec's linux.uidMappings and gidMappings, the runtime
 * being host root): a namespace whose maps are exactly those ranges. Only a writer with
 * CAP_SETUID/CAP_SETGID in the parent namespace may map more than its own ids, so a child
 * forked before the unshare, still the host's root, writes them (as runc's stage-0 parent
 * does); the launcher then becomes the namespace's root (as runc's init does), so that
 * what it creates in the sandbox's filesystems belongs to the container's root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

/* Writes VALUE to PATH in one write(2), as the id map files require. */
static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		fail("write `%s`", path);
	close(fd);
}

void enter_user_namespace(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWUSER) < 0)
		fail("unshare user namespace");
	/* An unprivileged writer of gid_map must deny setgroups first. */
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
	write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
}

/* A decimal id at *S, ended by STOP; *S moves past STOP. */
static bool parse_u32(const char **s, char stop, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	v = strtoull(*s, &end, 10);
	if (errno || *end != stop || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	*s = end + (stop != '\0');
	return true;
}

/*
 * `--uid-map`/`--gid-map CONTAINER:HOST:SIZE` appended to RANGES (*N of MAX_ID_RANGES so
 * far). SIZE at least 1, and neither side may reach 4294967295 ((uid_t)-1, no id): the
 * kernel refuses such a range. Overlaps are the kernel's to refuse, when the map is written.
 */
bool add_id_range(struct id_range *ranges, size_t *n, const char *arg)
{
	struct id_range r;

	if (*n >= MAX_ID_RANGES || !parse_u32(&arg, ':', &r.inside) ||
	    !parse_u32(&arg, ':', &r.outside) || !parse_u32(&arg, '\0', &r.count) || r.count == 0 ||
	    (uint64_t)r.inside + r.count > UINT32_MAX || (uint64_t)r.outside + r.count > UINT32_MAX)
		return false;
	ranges[(*n)++] = r;
	return true;
}

/* RANGES as an id map file takes them, "INSIDE OUTSIDE COUNT\n" per range, into OUT. */
static void format_map(char *out, size_t size, const struct id_range *ranges, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%u %u %u\n", ranges[i].inside,
					 ranges[i].outside, ranges[i].count);
}

/* What the writer sends back: the map it failed to write (0: none) and why. */
struct map_report {
	int map; /* 0, 1 (uid_map), 2 (gid_map) */
	int err;
};

static const char *const map_names[] = { NULL, "uid_map", "gid_map" };

/*
 * The writer, forked by the launcher (LAUNCHER) before it unshares: waits on SOCK until
 * the launcher is in its new user namespace (EOF: it failed, and is gone), writes
 * /proc/LAUNCHER/uid_map and gid_map, reports, exits. setgroups stays "allow" (a writer
 * with CAP_SETGID need not deny it), so that the workload's --groups can be set. Never
 * reports on the channel (the launcher does, once): it closes every fd but SOCK, and dies
 * with the launcher.
 */
static _Noreturn void run_map_writer(pid_t launcher, int sock, const char *maps[3])
{
	struct map_report report = { 0, 0 };
	char go, path[64];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != launcher)
		_exit(1);
	close_inherited_fds(sock);
	if (read(sock, &go, 1) != 1)
		_exit(1);
	for (int map = 1; map <= 2 && !report.map; map++) {
		size_t len = strlen(maps[map]);
		int fd;

		snprintf(path, sizeof path, "/proc/%d/%s", (int)launcher, map_names[map]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, maps[map], len) != (ssize_t)len)
			report = (struct map_report){ map, errno };
		if (fd >= 0)
			close(fd);
	}
	if (send(sock, &report, sizeof report, MSG_NOSIGNAL) != sizeof report)
		_exit(1);
	_exit(report.map ? 1 : 0);
}

/*
 * `--uid-map`/`--gid-map`: unshares a user namespace, has the writer map it, and becomes
 * its root. Any failure of the writer fails the launcher; it is reaped before we go on.
 */
void enter_mapped_user_namespace(const struct options *opts)
{
	static char uid_map[MAX_ID_RANGES * 40], gid_map[MAX_ID_RANGES * 40];
	const char *maps[3] = { NULL, uid_map, gid_map };
	struct map_report report;
	pid_t self = getpid(), writer;
	ssize_t n;
	int sock[2], status;

	format_map(uid_map, sizeof uid_map, opts->uid_maps, opts->n_uid_maps);
	format_map(gid_map, sizeof gid_map, opts->gid_maps, opts->n_gid_maps);
	/* Close-on-exec, and ours is closed below: nothing of it reaches the sandbox. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0)
		fail("id map writer: socketpair");
	writer = fork();
	if (writer < 0)
		fail("fork the id map writer");
	if (writer == 0) {
		close(sock[0]);
		run_map_writer(self, sock[1], maps);
	}
	close(sock[1]);
	if (unshare(CLONE_NEWUSER) < 0)
		fail("unshare user namespace");
	if (send(sock[0], "m", 1, MSG_NOSIGNAL) != 1)
		fail("id map writer: start");
	while ((n = recv(sock[0], &report, sizeof report, 0)) < 0 && errno == EINTR)
		;
	close(sock[0]);
	while (waitpid(writer, &status, 0) < 0)
		if (errno != EINTR)
			fail("wait for the id map writer");
	if (n == sizeof report && report.map) {
		errno = report.err;
		fail("write the `--%.3s-map` ranges to `/proc/%d/%s`", map_names[report.map],
		     (int)self, map_names[report.map]);
	}
	if (n != sizeof report || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_because("exited without writing the maps", "id map writer");
	become_userns_root();
}

/*
 * The launcher becomes root of the user namespace it has entered (mapped, or joined by
 * --join), with no supplementary groups, as runc's init does: what it creates in the
 * sandbox's filesystems (/dev, mount points, the pty) then belongs to the container's root,
 * where the host's root, unmapped, would make file creation fail (EOVERFLOW). Host paths
 * (--rootfs, --mount sources) are reached from here on as that id on the host, as with runc.
 *
 * A credential change clears the parent-death signal (set again, when there was one) and
 * makes the process non-dumpable (fs.suid_dumpable). Our memory belongs to the host's user
 * namespace, the one we were exec'd in, where we no longer hold any capability: so
 * non-dumpable, the sandbox's processes could not be reached by init's pidfd_getfd (the
 * workload's listener) nor through /proc/PID/root (--no-init). They are made dumpable again,
 * as they were before the switch (the workload again after its own, identity.c); its exec
 * decides afresh, with memory of the container's namespace. Ptracing init still needs its
 * capabilities, which the workload has dropped.
 */
void become_userns_root(void)
{
	pid_t parent = getppid();
	int pdeath = 0;

	if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) < 0)
		fail("prctl `PR_GET_PDEATHSIG`");
	/* EPERM: a namespace that denies setgroups (--userns, joined) keeps ours. */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		fail("setgroups in the user namespace");
	if (setresgid(0, 0, 0) < 0)
		fail("setresgid to the user namespace's root");
	if (setresuid(0, 0, 0) < 0)
		fail("setresuid to the user namespace's root");
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail("prctl `PR_SET_DUMPABLE`");
	if (pdeath)
		die_with_parent(parent);
}
