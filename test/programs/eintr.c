/*
 * eintr: calls that block are interrupted by a signal as Linux does: without SA_RESTART
 * they fail with EINTR, with it they go on (those Linux restarts) once the signal is
 * handled. Prints one line per call and mode, for comparison with a native run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

/* SIGALRM in 100 ms, with or without SA_RESTART. */
static void arm(int restart)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
	struct itimerval t = { .it_value = { .tv_usec = 100000 } };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	handled = 0;
	setitimer(ITIMER_REAL, &t, NULL);
}

static void report(const char *call, int restart, long r)
{
	printf("%s %s: %s (handled %d)\n", call, restart ? "restart" : "plain",
	       r < 0 ? strerrorname_np(errno) : "returned", (int)handled);
	fflush(stdout);
}

/* A child that writes to FD after 300 ms, then exits: what the restarted calls wait for. */
static pid_t later(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		usleep(300000);
		if (fd >= 0 && write(fd, "x", 1) < 0)
			_exit(1);
		_exit(0);
	}
	return pid;
}

int main(void)
{
	for (int restart = 0; restart <= 1; restart++) {
		int p[2];
		char c;
		pid_t child;
		int status;

		/* read on an empty pipe */
		if (pipe(p) < 0)
			return 1;
		child = later(p[1]);
		arm(restart);
		report("read", restart, read(p[0], &c, 1));
		waitpid(child, NULL, 0);
		close(p[0]);
		close(p[1]);

		/* wait4 for a child still running */
		child = later(-1);
		arm(restart);
		report("wait4", restart, waitpid(child, &status, 0));
		if (!restart)
			waitpid(child, NULL, 0);

		/* accept on a listening socket a child connects to later */
		{
			int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			socklen_t len = sizeof a;

			setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			bind(s, (struct sockaddr *)&a, sizeof a);
			listen(s, 1);
			getsockname(s, (struct sockaddr *)&a, &len);
			child = fork();
			if (child == 0) {
				int c2 = socket(AF_INET, SOCK_STREAM, 0);

				usleep(300000);
				connect(c2, (struct sockaddr *)&a, sizeof a);
				usleep(100000);
				_exit(0);
			}
			arm(restart);
			{
				int r = accept(s, NULL, NULL);

				report("accept", restart, r);
				if (r >= 0)
					close(r);
			}
			waitpid(child, NULL, 0);
			close(s);
		}

		/* open of a FIFO with no writer yet (blocks in the sentry under tsvisor) */
		{
			char path[64];

			snprintf(path, sizeof path, "/tmp/eintr-fifo-%d", (int)getpid());
			unlink(path);
			if (mkfifo(path, 0600) < 0)
				return 1;
			child = fork();
			if (child == 0) {
				int w;

				usleep(300000);
				w = open(path, O_WRONLY);
				_exit(w < 0);
			}
			arm(restart);
			{
				int r = open(path, O_RDONLY);

				report("fifo open", restart, r);
				if (r >= 0)
					close(r);
			}
			/* Interrupted, the open left the writer waiting: be its reader now. Only a
			 * real writer may satisfy this open (not a way of ending the first one). */
			if (!restart) {
				int r = open(path, O_RDONLY);

				report("fifo reopen", restart, r);
				if (r >= 0)
					close(r);
			}
			waitpid(child, &status, 0);
			printf("fifo writer: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "opened" : "failed");
			unlink(path);
		}

		/* nanosleep is never restarted by SA_RESTART: EINTR both times */
		{
			struct timespec ts = { .tv_sec = 1 };

			arm(restart);
			report("nanosleep", restart, nanosleep(&ts, &ts));
		}
	}
	return 0;
}
