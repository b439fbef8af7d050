/*
 * `--cgroup DIR` (repeatable, one per hierarchy): the launcher joins the sandbox's cgroup
 * as its very first step, before it forks init, so every process of the sandbox is in it
 * from its first instruction and the sentry's limits, accounting and kill cover them all.
 * The sentry creates the directories and applies the limits (src/sandbox/cgroup.ts); the
 * launcher only moves itself in.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "launcher.h"

/* Records one `--cgroup DIR`; false for a path that is not absolute. */
bool add_cgroup(struct options *opts, const char *dir)
{
	const char **grown;

	if (dir[0] != '/')
		return false;
	grown = realloc(opts->cgroups, (opts->n_cgroups + 1) * sizeof *grown);
	if (!grown)
		return false;
	opts->cgroups = grown;
	opts->cgroups[opts->n_cgroups++] = dir;
	return true;
}

/* Writes "0" (the writer itself) to DIR/cgroup.procs in every hierarchy given. */
void join_cgroups(const struct options *opts)
{
	for (size_t i = 0; i < opts->n_cgroups; i++) {
		char path[4096];
		int fd;

		if (snprintf(path, sizeof path, "%s/cgroup.procs", opts->cgroups[i]) >=
		    (int)sizeof path)
			fail_because("path too long", "join cgroup `%s`", opts->cgroups[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fail("join cgroup `%s`", opts->cgroups[i]);
		if (write(fd, "0", 1) != 1)
			fail("join cgroup `%s`", opts->cgroups[i]);
		close(fd);
	}
}
