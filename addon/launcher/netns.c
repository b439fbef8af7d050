/*
 * `--netns PATH`, `--ipcns PATH`, `--utsns PATH`, `--pidns PATH`: the sandbox joins an
 * existing namespace (an OCI spec's linux.namespaces entry with a path) instead of getting
 * a new one. Docker and CNI create and configure the network namespace before the
 * container starts; Kubernetes has a pod's containers share the network, IPC and UTS
 * namespaces of its sandbox container, and its pid namespace with shareProcessNamespace
 * (Docker: `--pid container:X`). In a joined pid namespace the container's first process
 * is not its pid 1, and its /proc shows the namespace's other processes, as under runc. The launcher joins them before unsharing the others, so init and
 * the workload are born in them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "launcher.h"

/* Joins the namespace of TYPE (CLONE_NEW*) at PATH; NAME says which, for messages. */
static void join_namespace(const char *path, int type, const char *name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("open %s namespace `%s`", name, path);
	/* setns checks the type: a path to another kind of namespace fails EINVAL. */
	if (setns(fd, type) < 0)
		fail("setns %s namespace `%s`", name, path);
	close(fd);
}

void join_namespaces(const struct options *opts)
{
	if (opts->netns)
		join_namespace(opts->netns, CLONE_NEWNET, "network");
	if (opts->ipcns)
		join_namespace(opts->ipcns, CLONE_NEWIPC, "IPC");
	if (opts->utsns)
		join_namespace(opts->utsns, CLONE_NEWUTS, "UTS");
	/* Our own pid stays; the children we fork, pid 1 first, are born in it. */
	if (opts->pidns)
		join_namespace(opts->pidns, CLONE_NEWPID, "pid");
}
