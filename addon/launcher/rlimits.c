/*
 * `--rlimit NAME=SOFT[:HARD]` (repeatable): resource limits set in the workload just
 * before it drops its capabilities (raising a hard limit needs CAP_SYS_RESOURCE), so they
 * hold for the workload and everything it starts, and never for init. Names are those of
 * prlimit(1) (`nofile`, `cpu`, `core`...); a value is a number or `unlimited`, and HARD
 * defaults to SOFT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "launcher.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "as", RLIMIT_AS },		 { "core", RLIMIT_CORE },
	{ "cpu", RLIMIT_CPU },		 { "data", RLIMIT_DATA },
	{ "fsize", RLIMIT_FSIZE },	 { "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK },	 { "msgqueue", RLIMIT_MSGQUEUE },
	{ "nice", RLIMIT_NICE },	 { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC },	 { "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO },	 { "rttime", RLIMIT_RTTIME },
	{ "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

/* A limit value: decimal, or `unlimited`; the whole of [S, END) must be used. */
static bool parse_value(const char *s, const char *end, rlim_t *out)
{
	uintmax_t v;
	char *stop;

	if (end - s == 9 && strncmp(s, "unlimited", 9) == 0) {
		*out = RLIM_INFINITY;
		return true;
	}
	if (s == end || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoumax(s, &stop, 10);
	if (errno || stop != end || v >= RLIM_INFINITY)
		return false;
	*out = (rlim_t)v;
	return true;
}

/* Records one `--rlimit NAME=SOFT[:HARD]`; false when malformed. */
bool add_rlimit(struct options *opts, const char *arg)
{
	const char *eq = strchr(arg, '='), *colon, *end;
	struct rlimit_opt r = { .resource = -1 };
	struct rlimit_opt *grown;

	if (!eq)
		return false;
	for (size_t i = 0; i < sizeof rlimit_names / sizeof *rlimit_names; i++)
		if (strlen(rlimit_names[i].name) == (size_t)(eq - arg) &&
		    strncmp(arg, rlimit_names[i].name, eq - arg) == 0) {
			r.resource = rlimit_names[i].resource;
			r.name = rlimit_names[i].name;
		}
	if (r.resource < 0)
		return false;
	end = eq + strlen(eq);
	colon = strchr(eq + 1, ':');
	if (!parse_value(eq + 1, colon ? colon : end, &r.limit.rlim_cur))
		return false;
	r.limit.rlim_max = r.limit.rlim_cur;
	if (colon && !parse_value(colon + 1, end, &r.limit.rlim_max))
		return false;
	if (r.limit.rlim_cur > r.limit.rlim_max)
		return false;
	grown = realloc(opts->rlimits, (opts->n_rlimits + 1) * sizeof *grown);
	if (!grown)
		return false;
	opts->rlimits = grown;
	opts->rlimits[opts->n_rlimits++] = r;
	return true;
}

/* setrlimit for each `--rlimit`, in the order given. */
void apply_rlimits(const struct options *opts)
{
	for (size_t i = 0; i < opts->n_rlimits; i++)
		if (setrlimit(opts->rlimits[i].resource, &opts->rlimits[i].limit) < 0)
			fail("setrlimit `%s`", opts->rlimits[i].name);
}
