/*
 * The command line (README.md, first block):
 *
 *   tsvisor-launcher --staging DIR [--rootfs DIR [--no-overlay]] [--mount SRC:DST[:ro]]...
 *                    [--net none|host]
 *                    [--hostname NAME] [--cwd DIR] [--channel FD] [--cgroup DIR]...
 *                    [--cgroup-view NAME:DIR]...
 *                    [--rlimit NAME=SOFT[:HARD]]... [--tmpfs DST[:OPTIONS]]... [--caps MASK [--ambient MASK]]
 *                    [--readonly-path PATH]... [--mask PATH]... [--oom-score-adj N]
 *                    [--device PATH:TYPE:MAJOR:MINOR:MODE:UID:GID]...
 *                    [--userns | --uid-map CONTAINER:HOST:SIZE... --gid-map CONTAINER:HOST:SIZE...]
 *                    [--no-init] [--new-privs] -- PROG [ARGS...]
 *   tsvisor-launcher --join PID [--cwd DIR] [--channel FD] [--cgroup DIR]... [--rlimit ...]
 *                    [--uid N] [--gid N] [--groups N,...] [--umask M] [--oom-score-adj N]
 *                    [--new-privs] -- PROG [ARGS...]
 *
 * Only the syntax is checked here; paths are checked by the steps that use them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher.h"

#define DEFAULT_CHANNEL_FD 3
#define DEFAULT_HOSTNAME "tsvisor"
/* Long-only options, outside the range of characters. */
#define OPT_CGROUP 0x200
#define OPT_RLIMIT 0x201
#define OPT_UID 0x210
#define OPT_GID 0x211
#define OPT_GROUPS 0x212
#define OPT_UMASK 0x213
#define OPT_NETNS 0x214
#define OPT_READONLY_ROOT 0x215
#define OPT_CONSOLE_SOCKET 0x216
#define OPT_CONSOLE_SIZE 0x217
#define OPT_USERNS 0x218
#define OPT_JOIN 0x219
#define OPT_NO_INIT 0x21a
#define OPT_CAPS 0x21b
#define OPT_TMPFS 0x21c
#define OPT_NO_OVERLAY 0x21d
#define OPT_DETACH 0x221
#define OPT_IPCNS 0x222
#define OPT_UTSNS 0x223
#define OPT_PIDNS 0x22b
#define OPT_SYSCTL 0x224
#define OPT_AMBIENT 0x225
#define OPT_NEW_PRIVS 0x226
#define OPT_CGROUP_VIEW 0x227
#define OPT_DEVICE 0x228
#define OPT_UID_MAP 0x229
#define OPT_GID_MAP 0x22a
#define OPT_READONLY_PATH 0x21e
#define OPT_MASK 0x21f
#define OPT_OOM_SCORE_ADJ 0x220

static char error[512];

__attribute__((format(printf, 1, 2))) static const char *set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, sizeof error, fmt, ap);
	va_end(ap);
	return error;
}

/* Parses SRC:DST[:ro|:rw] (both absolute) into *M; the string is copied. */
static bool parse_mount(const char *arg, struct bind_mount *m)
{
	char *copy = strdup(arg);
	char *src, *dst, *mode, *rest;

	if (!copy)
		return false;
	src = strtok_r(copy, ":", &rest);
	dst = strtok_r(NULL, ":", &rest);
	mode = strtok_r(NULL, ":", &rest);
	if (!src || !dst || src[0] != '/' || dst[0] != '/' || strtok_r(NULL, ":", &rest))
		return false;
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return false;
	m->src = src;
	m->dst = dst;
	m->ro = mode && strcmp(mode, "ro") == 0;
	return true;
}

/* Parses DST[:OPTIONS] (DST absolute) into *M as a tmpfs; the options are checked by
 * the kernel when it is mounted. */
static bool parse_tmpfs(const char *arg, struct bind_mount *m)
{
	const char *colon = strchr(arg, ':');
	char *dst = colon ? strndup(arg, (size_t)(colon - arg)) : strdup(arg);

	if (!dst || dst[0] != '/')
		return false;
	m->src = NULL;
	m->dst = dst;
	m->ro = false;
	m->tmpfs = colon ? colon + 1 : "";
	return true;
}

static bool parse_fd(const char *arg, int *fd)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < 0 || v > INT_MAX)
		return false;
	*fd = (int)v;
	return true;
}

/* Parses PATH:TYPE:MAJOR:MINOR:MODE:UID:GID (MODE octal, PATH beneath /dev, no `..`). */
static bool parse_device(const char *arg, struct device *d)
{
	const char *colon = strchr(arg, ':');
	char type;
	unsigned int mode;
	int n = 0;

	if (!colon || strncmp(arg, "/dev/", 5) != 0 || colon == arg + 5 ||
	    memmem(arg, colon - arg, "/..", 3))
		return false;
	if (sscanf(colon + 1, "%c:%u:%u:%o:%u:%u%n", &type, &d->major, &d->minor, &mode, &d->uid,
		   &d->gid, &n) != 6 ||
	    colon[1 + n] != '\0' || !strchr("cbup", type) || mode > 07777)
		return false;
	d->path = strndup(arg, colon - arg);
	d->type = type;
	d->mode = mode;
	return d->path != NULL;
}

/* A capability mask as /proc/PID/status prints one: hexadecimal, bit N for capability N. */
static bool parse_caps(const char *arg, uint64_t *caps)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 16);
	if (*arg == '\0' || *arg == '-' || *end != '\0' || errno)
		return false;
	*caps = v;
	return true;
}

/* NAME:DIR of `--cgroup-view` (NAME may be empty: the view is /sys/fs/cgroup itself). */
static bool parse_cgroup_view(const char *arg, struct cgroup_view *view)
{
	const char *colon = strchr(arg, ':');
	char *name;

	if (!colon || colon[1] != '/')
		return false;
	name = strndup(arg, colon - arg);
	if (!name)
		return false;
	if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		free(name);
		return false;
	}
	view->name = name;
	view->dir = colon + 1;
	return true;
}

/* Whether RANGES map container id 0. */
static bool maps_zero(const struct id_range *ranges, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ranges[i].inside == 0)
			return true;
	return false;
}

/*
 * Fills *OPTS from ARGV. Returns NULL, or a message naming what is wrong; OPTS->channel
 * is then still the best guess of where to report it.
 */
const char *parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option longopts[] = {
		{ "staging", required_argument, NULL, 's' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "mount", required_argument, NULL, 'm' },
		{ "net", required_argument, NULL, 'n' },
		{ "hostname", required_argument, NULL, 'h' },
		{ "cwd", required_argument, NULL, 'c' },
		{ "channel", required_argument, NULL, 'C' },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "cgroup-view", required_argument, NULL, OPT_CGROUP_VIEW },
		{ "rlimit", required_argument, NULL, OPT_RLIMIT },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "groups", required_argument, NULL, OPT_GROUPS },
		{ "umask", required_argument, NULL, OPT_UMASK },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "ipcns", required_argument, NULL, OPT_IPCNS },
		{ "utsns", required_argument, NULL, OPT_UTSNS },
		{ "pidns", required_argument, NULL, OPT_PIDNS },
		{ "sysctl", required_argument, NULL, OPT_SYSCTL },
		{ "readonly-root", no_argument, NULL, OPT_READONLY_ROOT },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
		{ "console-size", required_argument, NULL, OPT_CONSOLE_SIZE },
		{ "userns", no_argument, NULL, OPT_USERNS },
		{ "uid-map", required_argument, NULL, OPT_UID_MAP },
		{ "gid-map", required_argument, NULL, OPT_GID_MAP },
		{ "join", required_argument, NULL, OPT_JOIN },
		{ "no-init", no_argument, NULL, OPT_NO_INIT },
		{ "caps", required_argument, NULL, OPT_CAPS },
		{ "ambient", required_argument, NULL, OPT_AMBIENT },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "no-overlay", no_argument, NULL, OPT_NO_OVERLAY },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "readonly-path", required_argument, NULL, OPT_READONLY_PATH },
		{ "mask", required_argument, NULL, OPT_MASK },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "oom-score-adj", required_argument, NULL, OPT_OOM_SCORE_ADJ },
		{ "new-privs", no_argument, NULL, OPT_NEW_PRIVS },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*opts = (struct options){
		.hostname = DEFAULT_HOSTNAME,
		.cwd = "/",
		.net_none = true,
		.channel = DEFAULT_CHANNEL_FD,
		.umask = -1,
		.console_fd = -1,
		.mounts = calloc(argc, sizeof(struct bind_mount)),
		.readonly_paths = calloc(argc, sizeof(const char *)),
		.masks = calloc(argc, sizeof(const char *)),
		.cgroup_views = calloc(argc, sizeof(struct cgroup_view)),
		.devices = calloc(argc, sizeof(struct device)),
	};
	if (!opts->mounts || !opts->readonly_paths || !opts->masks || !opts->cgroup_views ||
	    !opts->devices)
		return "out of memory";
	opterr = 0;
	/* "+": stop at the first non-option, so PROG's own flags are left alone; ":": report a
	 * missing value as ':'. */
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts->staging = optarg;
			break;
		case 'r':
			opts->rootfs = optarg;
			break;
		case 'm':
			if (!parse_mount(optarg, &opts->mounts[opts->n_mounts]))
				return set_error("`--mount %s`: want SRC:DST[:ro], absolute paths",
						 optarg);
			opts->n_mounts++;
			break;
		case 'n':
			if (strcmp(optarg, "none") != 0 && strcmp(optarg, "host") != 0)
				return set_error("`--net %s`: want `none` or `host`", optarg);
			opts->net_none = strcmp(optarg, "none") == 0;
			break;
		case 'h':
			opts->hostname = optarg;
			break;
		case 'c':
			opts->cwd = optarg;
			break;
		case 'C':
			if (!parse_fd(optarg, &opts->channel))
				return set_error("`--channel %s`: not a file descriptor", optarg);
			break;
		case OPT_CGROUP:
			if (!add_cgroup(opts, optarg))
				return set_error("`--cgroup %s`: want an absolute path", optarg);
			break;
		case OPT_CGROUP_VIEW:
			if (!parse_cgroup_view(optarg, &opts->cgroup_views[opts->n_cgroup_views]))
				return set_error("`--cgroup-view %s`: want NAME:DIR, NAME a single "
						 "component or empty, DIR absolute", optarg);
			opts->n_cgroup_views++;
			break;
		case OPT_RLIMIT:
			if (!add_rlimit(opts, optarg))
				return set_error("`--rlimit %s`: want NAME=SOFT[:HARD]", optarg);
			break;
		case OPT_UID:
			if (!set_uid_option(opts, optarg))
				return set_error("`--uid %s`: want a numeric id", optarg);
			break;
		case OPT_GID:
			if (!set_gid_option(opts, optarg))
				return set_error("`--gid %s`: want a numeric id", optarg);
			break;
		case OPT_GROUPS:
			if (!set_groups_option(opts, optarg))
				return set_error("`--groups %s`: want numeric ids, comma-separated", optarg);
			break;
		case OPT_UMASK:
			if (!set_umask_option(opts, optarg))
				return set_error("`--umask %s`: want an octal mode", optarg);
			break;
		case OPT_NETNS:
		case OPT_IPCNS:
		case OPT_UTSNS:
		case OPT_PIDNS: {
			const char *name = c == OPT_NETNS ? "netns" : c == OPT_IPCNS ? "ipcns" : c == OPT_UTSNS ? "utsns" : "pidns";

			if (optarg[0] != '/')
				return set_error("`--%s %s`: want an absolute path", name, optarg);
			*(c == OPT_NETNS ? &opts->netns : c == OPT_IPCNS ? &opts->ipcns : c == OPT_UTSNS ? &opts->utsns : &opts->pidns) = optarg;
			break;
		}
		case OPT_READONLY_ROOT:
			opts->readonly_root = true;
			break;
		case OPT_CONSOLE_SOCKET:
			opts->console_socket = optarg;
			break;
		case OPT_CONSOLE_SIZE:
			if (!set_console_size_option(opts, optarg))
				return set_error("`--console-size %s`: want ROWS,COLS", optarg);
			break;
		case OPT_USERNS:
			opts->userns = true;
			break;
		case OPT_UID_MAP:
		case OPT_GID_MAP: {
			const char *name = c == OPT_UID_MAP ? "--uid-map" : "--gid-map";
			size_t *n = c == OPT_UID_MAP ? &opts->n_uid_maps : &opts->n_gid_maps;

			if (*n == MAX_ID_RANGES)
				return set_error("`%s %s`: at most %d ranges", name, optarg, MAX_ID_RANGES);
			if (!add_id_range(c == OPT_UID_MAP ? opts->uid_maps : opts->gid_maps, n, optarg))
				return set_error("`%s %s`: want CONTAINER:HOST:SIZE, decimal ids, SIZE at "
						 "least 1, neither range reaching 4294967295",
						 name, optarg);
			break;
		}
		case OPT_JOIN: {
			int pid;

			if (!parse_fd(optarg, &pid) || pid <= 0)
				return set_error("`--join %s`: want a pid", optarg);
			opts->join_pid = pid;
			break;
		}
		case OPT_TMPFS:
			if (!parse_tmpfs(optarg, &opts->mounts[opts->n_mounts]))
				return set_error("`--tmpfs %s`: want DST[:OPTIONS], DST absolute", optarg);
			opts->n_mounts++;
			break;
		case OPT_SYSCTL:
			if (!add_sysctl(opts, optarg))
				return set_error("`--sysctl %s`: want KEY=VALUE, KEY a namespaced sysctl", optarg);
			break;
		case OPT_DETACH:
			opts->detach = true;
			break;
		case OPT_NO_OVERLAY:
			opts->no_overlay = true;
			break;
		case OPT_READONLY_PATH:
			if (optarg[0] != '/')
				return set_error("`--readonly-path %s`: want an absolute path", optarg);
			opts->readonly_paths[opts->n_readonly_paths++] = optarg;
			break;
		case OPT_MASK:
			if (optarg[0] != '/')
				return set_error("`--mask %s`: want an absolute path", optarg);
			opts->masks[opts->n_masks++] = optarg;
			break;
		case OPT_DEVICE:
			if (!parse_device(optarg, &opts->devices[opts->n_devices]))
				return set_error("`--device %s`: want PATH:TYPE:MAJOR:MINOR:MODE:UID:GID, "
						 "PATH beneath /dev, TYPE c, b, u or p",
						 optarg);
			opts->n_devices++;
			break;
		case OPT_OOM_SCORE_ADJ:
			if (!set_oom_score_adj_option(opts, optarg))
				return set_error("`--oom-score-adj %s`: want an integer from -1000 to 1000",
						 optarg);
			break;
		case OPT_NO_INIT:
			opts->no_init = true;
			break;
		case OPT_NEW_PRIVS:
			opts->new_privs = true;
			break;
		case OPT_CAPS:
			if (!parse_caps(optarg, &opts->caps))
				return set_error("`--caps %s`: want a hexadecimal mask", optarg);
			break;
		case OPT_AMBIENT:
			if (!parse_caps(optarg, &opts->ambient))
				return set_error("`--ambient %s`: want a hexadecimal mask", optarg);
			break;
		case ':':
			return set_error("`%s` needs a value", argv[optind - 1]);
		default:
			return set_error("unknown option `%s`", argv[optind - 1]);
		}
	}
	if (!opts->staging && !opts->join_pid)
		return "`--staging DIR` is required";
	if (opts->staging && (opts->staging[0] != '/' || strcmp(opts->staging, "/") == 0))
		return set_error("`--staging %s`: want an absolute path other than `/`",
				 opts->staging);
	for (size_t i = 0; i < opts->n_sysctls; i++)
		if (!opts->net_none && strncmp(opts->sysctls[i], "net.", 4) == 0)
			return set_error("`--sysctl %s`: the host's network namespace is not the sandbox's",
					 opts->sysctls[i]);
	if (opts->n_uid_maps || opts->n_gid_maps) {
		if (!opts->n_uid_maps || !opts->n_gid_maps)
			return "`--uid-map` and `--gid-map` go together: give both";
		if (opts->userns)
			return "`--uid-map`/`--gid-map` and `--userns` exclude each other";
		if (opts->join_pid)
			return "`--uid-map`/`--gid-map` do not go with `--join`: the container's user "
			       "namespace has its maps";
		/* The launcher builds the sandbox as the namespace's root (userns.c), as runc's
		 * init does; runc refuses such maps too ("no user mapping found for uid 0"). */
		if (!maps_zero(opts->uid_maps, opts->n_uid_maps) ||
		    !maps_zero(opts->gid_maps, opts->n_gid_maps))
			return "`--uid-map`/`--gid-map`: container id 0 must be mapped (the sandbox is "
			       "built as its root)";
	}
	if (opts->no_overlay && !opts->rootfs)
		return "`--no-overlay` needs `--rootfs DIR`";
	if (optind >= argc)
		return "no program after `--`";
	opts->argv = argv + optind;
	return NULL;
}
