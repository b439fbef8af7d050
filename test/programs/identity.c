/*
 * identity DIR: a root process gives up its identity the ways daemons do, and prints what
 * it may do at each step, for comparison with a native run. DIR must be writable by root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char secret[4096], private_dir[4096], shared_dir[4096];

static const char *outcome(int rc)
{
	static char buf[64];

	if (rc >= 0)
		return "ok";
	snprintf(buf, sizeof buf, "%s", strerrorname_np(errno));
	return buf;
}

static unsigned long long effective_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return ~0ULL;
	return ((unsigned long long)d[1].effective << 32) | d[0].effective;
}

/* What this thread may do now. */
static void report(const char *when)
{
	int fd = open(secret, O_RDONLY);
	char path[4200];
	struct stat st;
	int made;

	printf("%s: uid %d euid %d gid %d caps %s\n", when, (int)getuid(), (int)geteuid(),
	       (int)getgid(), effective_caps() ? "some" : "none");
	printf("%s: read secret: %s\n", when, outcome(fd));
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s/sub-%s", private_dir, when);
	printf("%s: mkdir in private dir: %s\n", when, outcome(mkdir(path, 0755)));
	snprintf(path, sizeof path, "%s/file-%s", shared_dir, when);
	made = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
	printf("%s: create in shared dir: %s\n", when, outcome(made));
	if (made >= 0) {
		fstat(made, &st);
		printf("%s: new file owner %d:%d\n", when, (int)st.st_uid, (int)st.st_gid);
		close(made);
	}
	fflush(stdout);
}

static void *thread_report(void *arg)
{
	report(arg);
	return NULL;
}

/* The same from another thread: glibc applies set*id to every thread of the process. */
static void report_from_thread(const char *when)
{
	pthread_t t;

	pthread_create(&t, NULL, thread_report, (void *)when);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: identity DIR\n");
		return 2;
	}
	snprintf(secret, sizeof secret, "%s/secret", argv[1]);
	snprintf(private_dir, sizeof private_dir, "%s/private", argv[1]);
	snprintf(shared_dir, sizeof shared_dir, "%s/shared", argv[1]);
	if (mkdir(private_dir, 0700) < 0 || mkdir(shared_dir, 01777) < 0 ||
	    chmod(shared_dir, 01777) < 0) {
		perror("setup");
		return 1;
	}
	fd = open(secret, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		perror("setup secret");
		return 1;
	}
	close(fd);

	report("root");
	/* A daemon stepping aside for a while: effective ids only, saved ids stay root. */
	printf("setresgid(-1,1000,-1): %s\n", outcome(setresgid(-1, 1000, -1)));
	printf("setresuid(-1,1000,-1): %s\n", outcome(setresuid(-1, 1000, -1)));
	report("euid1000");
	report_from_thread("euid1000-thread");
	printf("seteuid(0): %s\n", outcome(seteuid(0)));
	printf("setegid(0): %s\n", outcome(setegid(0)));
	report("back");
	/* For good. */
	printf("setgroups(0): %s\n", outcome(setgroups(0, NULL)));
	printf("setgid(1000): %s\n", outcome(setgid(1000)));
	printf("setuid(1000): %s\n", outcome(setuid(1000)));
	report("user");
	report_from_thread("user-thread");
	printf("setuid(0): %s\n", outcome(setuid(0)));
	printf("setgroups(0): %s\n", outcome(setgroups(0, NULL)));
	report("still-user");
	return 0;
}
