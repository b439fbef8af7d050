/*
 * Workloads for the limit tests, one verb each:
 *   hog MIB         allocate and touch MIB MiB, 1 MiB at a time; print "allocated MIB"
 *   bomb SECONDS    fork bomb: every process forks as fast as it can; the first one
 *                   prints how many forks were refused and exits after SECONDS
 *   spin SECONDS    burn cpu in this process for SECONDS of cpu time (0: forever)
 *   spinners N      N processes burning cpu forever (cpu limits across processes)
 *   rlimit NAME     print "soft hard" of RLIMIT_NAME (nofile, cpu, core, fsize)
 *   flood BYTES     write BYTES bytes of 'x' to stdout (0: forever)
 *   echo-stdin      copy stdin to stdout, then print the byte count on stderr
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hog(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);

		if (!p) {
			printf("malloc failed at %ld\n", i);
			return 1;
		}
		memset(p, 1, 1 << 20); /* touched: counted as resident */
	}
	printf("allocated %ld\n", mib);
	return 0;
}

static int bomb(int seconds)
{
	time_t end = time(NULL) + seconds;
	long refused = 0, made = 0;
	pid_t first = getpid();

	while (time(NULL) < end) {
		pid_t pid = fork();

		if (pid == 0)
			continue; /* the child forks too */
		if (pid > 0)
			made++;
		else if (getpid() == first && (errno == EAGAIN || errno == ENOMEM))
			refused++;
		if (getpid() != first)
			usleep(1000); /* the others keep trying, without starving the host */
	}
	if (getpid() != first)
		pause();
	printf("made %ld refused %ld\n", made, refused);
	return 0;
}

static int spin(double seconds)
{
	volatile unsigned long n = 0;

	while (seconds == 0 || cpu_seconds() < seconds)
		n++;
	printf("spun %.2f\n", cpu_seconds());
	return 0;
}

static int spinners(int n)
{
	for (int i = 1; i < n; i++)
		if (fork() == 0)
			break;
	return spin(0);
}

static int show_rlimit(const char *name)
{
	static const struct {
		const char *name;
		int res;
	} names[] = { { "nofile", RLIMIT_NOFILE }, { "cpu", RLIMIT_CPU },
		      { "core", RLIMIT_CORE },	   { "fsize", RLIMIT_FSIZE } };
	struct rlimit r;

	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcmp(names[i].name, name) != 0)
			continue;
		getrlimit(names[i].res, &r);
		if (r.rlim_cur == RLIM_INFINITY)
			printf("unlimited ");
		else
			printf("%llu ", (unsigned long long)r.rlim_cur);
		if (r.rlim_max == RLIM_INFINITY)
			printf("unlimited\n");
		else
			printf("%llu\n", (unsigned long long)r.rlim_max);
		return 0;
	}
	return 2;
}

static int flood(long long bytes)
{
	char buf[65536];

	memset(buf, 'x', sizeof buf);
	for (long long done = 0; bytes == 0 || done < bytes;) {
		size_t n = sizeof buf;
		ssize_t w;

		if (bytes && (long long)n > bytes - done)
			n = bytes - done;
		w = write(1, buf, n);
		if (w < 0)
			return 1;
		done += w;
	}
	return 0;
}

static int echo_stdin(void)
{
	char buf[65536];
	long long total = 0;
	ssize_t n;

	while ((n = read(0, buf, sizeof buf)) > 0) {
		if (write(1, buf, n) != n)
			return 1;
		total += n;
	}
	fprintf(stderr, "%lld\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "0";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(verb, "hog") == 0)
		return hog(atol(arg));
	if (strcmp(verb, "bomb") == 0)
		return bomb(atoi(arg));
	if (strcmp(verb, "spin") == 0)
		return spin(atof(arg));
	if (strcmp(verb, "spinners") == 0)
		return spinners(atoi(arg));
	if (strcmp(verb, "rlimit") == 0)
		return show_rlimit(arg);
	if (strcmp(verb, "flood") == 0)
		return flood(atoll(arg));
	if (strcmp(verb, "echo-stdin") == 0)
		return echo_stdin();
	fprintf(stderr, "usage: limits hog|bomb|spin|spinners|rlimit|flood|echo-stdin ARG\n");
	return 2;
}
