// Calls the sentry carries out, under a storm of caught signals (SIGALRM every 200 us,
// SA_RESTART): each must happen exactly once and report its own result. Prints the
// counts of unexpected results; run natively and under tsvisor by process.test.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;

static void on_alarm(int sig)
{
	(void)sig;
	hits++;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	struct itimerval every = { { 0, 200 }, { 0, 200 } };
	int wrong = 0, opened = 0;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < 3000; i++) {
		wrong += mkdir("sigcalls.d", 0755) < 0;
		wrong += rename("sigcalls.d", "sigcalls.e") < 0;
		wrong += rmdir("sigcalls.e") < 0;
		int fd = open("sigcalls.f", O_CREAT | O_EXCL | O_WRONLY, 0644);
		opened += fd >= 0;
		wrong += fd < 0 || close(fd) < 0 || unlink("sigcalls.f") < 0;
	}
	setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
	printf("wrong results: %d, files created: %d, signals: %s\n", wrong, opened, hits > 100 ? "many" : "few");
	return 0;
}
