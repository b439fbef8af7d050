/*
 * The workload's identity, from an OCI spec's process.user: `--uid UID`, `--gid GID`,
 * `--groups G1,G2...` and `--umask OCTAL`. Set in the workload before it drops its
 * capabilities (changing ids needs CAP_SETUID/CAP_SETGID), in the order that keeps the
 * capabilities drop_capabilities() itself needs: groups, then gid, then uid with
 * PR_SET_KEEPCAPS so the permitted set survives, then the effective set raised back from
 * it. The kernel clears the parent-death signal when credentials change, so it is set
 * again afterwards. Also `--oom-score-adj N` (process.oomScoreAdj), written before all of
 * that while the workload still holds every capability.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

/* A decimal id in [0, UINT32_MAX - 1] (-1 means "unchanged" to the set*id calls). */
static bool parse_id(const char *s, unsigned int *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v >= UINT_MAX)
		return false;
	*out = (unsigned int)v;
	return true;
}

bool set_uid_option(struct options *opts, const char *arg)
{
	unsigned int v;

	if (!parse_id(arg, &v))
		return false;
	opts->uid = v;
	opts->has_uid = true;
	return true;
}

bool set_gid_option(struct options *opts, const char *arg)
{
	unsigned int v;

	if (!parse_id(arg, &v))
		return false;
	opts->gid = v;
	opts->has_gid = true;
	return true;
}

/* `--groups G1,G2...` (an empty list clears the supplementary groups). */
bool set_groups_option(struct options *opts, const char *arg)
{
	size_t n = 1;
	char *copy, *tok, *rest;

	for (const char *p = arg; *p; p++)
		n += *p == ',';
	opts->groups = calloc(n, sizeof *opts->groups);
	copy = strdup(arg);
	if (!opts->groups || !copy)
		return false;
	opts->n_groups = 0;
	for (tok = strtok_r(copy, ",", &rest); tok; tok = strtok_r(NULL, ",", &rest)) {
		unsigned int v;

		if (!parse_id(tok, &v))
			return false;
		opts->groups[opts->n_groups++] = v;
	}
	opts->has_groups = true;
	free(copy);
	return true;
}

bool set_umask_option(struct options *opts, const char *arg)
{
	char *end;
	long v = strtol(arg, &end, 8);

	if (*arg == '\0' || *end != '\0' || v < 0 || v > 0777)
		return false;
	opts->umask = (int)v;
	return true;
}

void apply_identity(const struct options *opts)
{
	/* The parent as seen from here before the switch: init (pid 1), or 0 for a process
	 * joined to a container from outside its pid namespace (--join). */
	pid_t parent = getppid();

	if (opts->umask >= 0)
		umask((mode_t)opts->umask);
	if (!opts->has_uid && !opts->has_gid && !opts->has_groups)
		return;
	/* As runc: the supplementary groups are exactly those given (none if not given). */
	if (setgroups(opts->n_groups, opts->groups) < 0)
		fail("setgroups");
	if (opts->has_gid && setresgid(opts->gid, opts->gid, opts->gid) < 0)
		fail("setresgid `%u`", opts->gid);
	if (opts->has_uid) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			fail("prctl `PR_SET_KEEPCAPS`");
		if (setresuid(opts->uid, opts->uid, opts->uid) < 0)
			fail("setresuid `%u`", opts->uid);
		/* The effective set was lost at setresuid: back to the permitted one. */
		limit_capability_sets(UINT64_MAX, 0);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			fail("prctl `PR_SET_KEEPCAPS`");
	}
	/* Changing ids cleared the parent-death signal: set it again. */
	die_with_parent(parent);
	/* And made us non-dumpable: in a user namespace, init (or the --join launcher) could
	 * then not take our listener (see become_userns_root in userns.c). */
	if (opts->in_userns && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail("prctl `PR_SET_DUMPABLE`");
}

/* `--oom-score-adj N` (an OCI spec's process.oomScoreAdj), N in [-1000, 1000]. */
bool set_oom_score_adj_option(struct options *opts, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno || v < -1000 || v > 1000)
		return false;
	opts->oom_score_adj = (int)v;
	opts->has_oom_score_adj = true;
	return true;
}

/* The workload's current oom_score_adj, for the message when it may not go lower. */
static int current_oom_score_adj(void)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "re");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * Writes `--oom-score-adj` to the workload's own oom_score_adj; everything it starts
 * inherits it. The sandbox's /proc is read-only (EROFS on any write), so the write goes
 * through a private copy of that mount made writable and never attached anywhere: making
 * it needs CAP_SYS_ADMIN, hence before the capabilities are dropped. Going below the
 * value the task may return to (its current one, at most) needs CAP_SYS_RESOURCE, which
 * the kernel checks in the host's user namespace: refused, the workload fails, as runc's
 * does.
 */
void apply_oom_score_adj(const struct options *opts)
{
	struct mount_attr attr = { .attr_clr = MOUNT_ATTR_RDONLY };
	char value[16], cause[128];
	int proc, fd, len;

	if (!opts->has_oom_score_adj)
		return;
	proc = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (proc < 0)
		fail("oom_score_adj: copy `/proc`");
	if (mount_setattr(proc, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		fail("oom_score_adj: make the copy of `/proc` writable");
	fd = openat(proc, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open `/proc/self/oom_score_adj`");
	len = snprintf(value, sizeof value, "%d", opts->oom_score_adj);
	if (write(fd, value, (size_t)len) < 0) {
		if (errno != EACCES)
			fail("write `%d` to `/proc/self/oom_score_adj`", opts->oom_score_adj);
		snprintf(cause, sizeof cause,
			 "below the current value %d, and going lower needs CAP_SYS_RESOURCE",
			 current_oom_score_adj());
		fail_because(cause, "oom_score_adj `%d`", opts->oom_score_adj);
	}
	close(fd);
	close(proc);
}
