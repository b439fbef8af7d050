/*
 * `--netns PATH`: the sandbox joins an existing network namespace (an OCI spec's
 * linux.namespaces entry of type network with a path; Docker and CNI create the namespace
 * and configure it before the container starts) instead of getting a new one. The
 * launcher joins it before unsharing the others, so init and the workload are born in it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "launcher.h"

void join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("open network namespace `%s`", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		fail("setns network namespace `%s`", path);
	close(fd);
}
