/*
 * `--userns`: the launcher first enters a new user namespace in which it is root (uid 0
 * and gid 0 mapped to its own ids outside, nothing else mapped), so that a caller without
 * privileges can still unshare the other namespaces, mount and pivot_root: every one of
 * those is then checked against the new namespace, which the caller owns. Files the
 * sandbox creates on the host belong to the caller; unmapped owners show as the overflow
 * id (65534). Entered after `--netns` is joined, before the other namespaces are made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
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
