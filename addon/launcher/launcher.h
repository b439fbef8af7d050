/*
 * tsvisor-launcher: shared declarations. See README.md beside this file for the command
 * line, the process shape (launcher -> init -> workload) and the channel protocol.
 *
 * Error convention (like Firecracker's jailer): every step is one function that either
 * succeeds or calls fail(), which reports "<step>: <cause>" as an `E` record on the
 * channel (on stderr when that cannot go), then exits EXIT_LAUNCHER_FAILED. Nothing fails
 * open.
 */
#ifndef TSVISOR_LAUNCHER_H
#define TSVISOR_LAUNCHER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Exit codes (README "Channel protocol", point 4). */
#define EXIT_LAUNCHER_FAILED 125 /* any failure before exec */
#define EXIT_EXEC_FAILED 126     /* execvp failed, not ENOENT */
#define EXIT_EXEC_NOT_FOUND 127  /* execvp failed with ENOENT */
#define EXIT_SIGTERM 143         /* the launcher got SIGTERM: 128 + SIGTERM */

/* One `--mount SRC:DST[:ro]`, or one `--tmpfs DST[:OPTIONS]` (src NULL), in order. */
struct bind_mount {
	const char *src;   /* host path; NULL for a tmpfs */
	const char *dst;   /* path inside the sandbox */
	bool ro;
	const char *tmpfs; /* a tmpfs's options, comma-separated (maybe empty) */
};

/* One `--rlimit NAME=SOFT[:HARD]`. */
struct rlimit_opt {
	const char *name; /* prlimit(1)'s name, for messages */
	int resource;     /* RLIMIT_* */
	struct rlimit limit;
};

/* One `--cgroup-view NAME:DIR`: the sandbox's cgroup DIR, seen at /sys/fs/cgroup/NAME. */
struct cgroup_view {
	const char *name; /* "" for /sys/fs/cgroup itself */
	const char *dir;
};

/* One `--device PATH:TYPE:MAJOR:MINOR:MODE:UID:GID` (OCI linux.devices), made in /dev. */
struct device {
	const char *path; /* absolute, beneath /dev */
	char type;        /* c, b, u or p */
	unsigned int major, minor;
	mode_t mode; /* permission bits */
	uid_t uid;
	gid_t gid;
};

/* One `--uid-map` or `--gid-map CONTAINER:HOST:SIZE` (OCI linux.uidMappings/gidMappings). */
struct id_range {
	uint32_t inside;  /* first id in the sandbox's user namespace */
	uint32_t outside; /* the host id it stands for */
	uint32_t count;   /* at least 1 */
};
#define MAX_ID_RANGES 32

/* The parsed command line; strings point into argv (or into one copy per --mount). */
struct options {
	const char *staging;  /* --staging DIR, required */
	const char *rootfs;   /* --rootfs DIR, NULL: the host's mounts */
	bool no_overlay;      /* --no-overlay: DIR itself is the root, writes land in it */
	const char *hostname; /* --hostname NAME */
	const char *cwd;      /* --cwd DIR */
	bool net_none;        /* --net none (default) or host */
	int channel;          /* --channel FD */
	struct bind_mount *mounts;
	size_t n_mounts;
	const char **cgroups; /* --cgroup DIR..., joined first (cgroup.c) */
	size_t n_cgroups;
	struct cgroup_view *cgroup_views; /* --cgroup-view NAME:DIR... (rootfs.c) */
	size_t n_cgroup_views;
	struct rlimit_opt *rlimits; /* --rlimit..., set in the workload (rlimits.c) */
	const char **sysctls;       /* --sysctl KEY=VALUE..., written by pid 1 (confine.c) */
	size_t n_sysctls;
	size_t n_rlimits;
	/* The workload's identity (identity.c); has_*: given on the command line. */
	bool has_uid, has_gid, has_groups;
	uid_t uid;               /* --uid */
	gid_t gid;               /* --gid */
	gid_t *groups;           /* --groups */
	size_t n_groups;
	int umask;               /* --umask, -1: inherited */
	const char *netns;       /* --netns PATH: join instead of a new one (netns.c) */
	const char *ipcns;       /* --ipcns PATH: the same for the IPC namespace */
	const char *utsns;       /* --utsns PATH: the same for the UTS namespace */
	const char *pidns;       /* --pidns PATH: the same for the pid namespace */
	bool readonly_root;      /* --readonly-root: the root mount made read-only last */
	bool userns;             /* --userns: all of it inside a new user namespace (userns.c) */
	struct id_range uid_maps[MAX_ID_RANGES]; /* --uid-map...: a new user namespace with */
	struct id_range gid_maps[MAX_ID_RANGES]; /* --gid-map...: exactly these maps (userns.c) */
	size_t n_uid_maps, n_gid_maps;
	bool in_userns;          /* set at run time: in a user namespace of the sandbox's own
				  * (--userns, the id maps, or one joined by --join) */
	const char *console_socket; /* --console-socket PATH: a pty for the workload */
	int console_fd;             /* connected to it by the launcher (console.c), else -1 */
	unsigned short console_rows, console_cols; /* --console-size ROWS,COLS */
	pid_t join_pid;             /* --join PID: into that sandbox's init's namespaces, or 0 */
	bool no_init;               /* --no-init: the workload is pid 1 itself (OCI) */
	bool new_privs;             /* --new-privs: no no_new_privs (OCI noNewPrivileges false) */
	bool detach;                /* --detach: leave the sentry's process, report `P` and `X` */
	const char **readonly_paths; /* --readonly-path PATH...: bound read-only (rootfs.c) */
	size_t n_readonly_paths;
	const char **masks;          /* --mask PATH...: made inaccessible (rootfs.c) */
	size_t n_masks;
	struct device *devices;      /* --device ...: nodes made in /dev (rootfs.c) */
	size_t n_devices;
	bool has_oom_score_adj;      /* --oom-score-adj N given (identity.c) */
	int oom_score_adj;           /* in [-1000, 1000] */
	uint64_t caps;              /* --caps MASK: capabilities the workload keeps, else none */
	uint64_t ambient;           /* --ambient MASK: of those, the ones raised as ambient */
	const struct sock_fprog *user_filter; /* the `U` record, installed after ours, or NULL */
	char **argv; /* PROG ARGS..., NULL-terminated */
};

/* main.c: shared with join.c. */
int exit_code(int status);
void reset_signals(void);
_Noreturn void confine_and_exec(const struct options *opts, const struct sock_fprog *prog);

/* join.c: `--join PID`, the launcher's whole run when given (OCI exec). */
_Noreturn void run_join(struct options *opts, const struct sock_fprog *prog);

/* options.c */
const char *parse_options(int argc, char **argv, struct options *opts);

/*
 * channel.c: the AF_UNIX SOCK_SEQPACKET channel to the sentry, the relay from the workload
 * to init, and error reporting.
 */
bool channel_adopt(int fd);
void channel_close(void);
void channel_read_filter(struct sock_fprog *prog);
const struct sock_fprog *channel_read_user_filter(void);
void channel_send_pid(pid_t pid);
void channel_send_exit(int code);
int channel_fd(void);
bool channel_closed_by_peer(void);
void channel_send_ready(pid_t pid, int listener, int rootfd, int procfd);
bool channel_send_error(const char *msg);
void channel_wait_go(void);
void relay_adopt(int fd);
void relay_send_listener(int listener);
char relay_read(int fd, int *listener, char *msg, size_t msg_size);
_Noreturn void fail(const char *step_fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fail_because(const char *cause, const char *step_fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void fail_exec(const char *prog, int err);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cgroup.c: `--cgroup DIR`, joined by the launcher before it forks anything. */
bool add_cgroup(struct options *opts, const char *dir);
void join_cgroups(const struct options *opts);

/* rlimits.c: `--rlimit NAME=SOFT[:HARD]`, set by the workload before it drops caps. */
bool add_rlimit(struct options *opts, const char *arg);
void apply_rlimits(const struct options *opts);

/* identity.c: `--uid`, `--gid`, `--groups`, `--umask`, applied by the workload before
 * it drops its capabilities. */
bool set_uid_option(struct options *opts, const char *arg);
bool set_gid_option(struct options *opts, const char *arg);
bool set_groups_option(struct options *opts, const char *arg);
bool set_umask_option(struct options *opts, const char *arg);
void apply_identity(const struct options *opts);

/* identity.c: `--oom-score-adj N`, written by the workload before it drops its caps. */
bool set_oom_score_adj_option(struct options *opts, const char *arg);
void apply_oom_score_adj(const struct options *opts);

/* netns.c: `--netns`, `--ipcns`, `--utsns`, joined by the launcher before it unshares the
 * rest. */
void join_namespaces(const struct options *opts);

/* userns.c: `--userns`, or `--uid-map`/`--gid-map`, entered by the launcher after the
 * joined namespaces and before it makes any other. */
void enter_user_namespace(void);
bool add_id_range(struct id_range *ranges, size_t *n, const char *arg);
void enter_mapped_user_namespace(const struct options *opts);
void become_userns_root(void);

/* console.c: `--console-socket PATH`, `--console-size ROWS,COLS`. */
bool set_console_size_option(struct options *opts, const char *arg);
int console_connect(const char *path);
void console_setup(const struct options *opts);
void console_attach(const struct options *opts);

/* rootfs.c: everything init mounts, up to pivot_root and chdir(--cwd). */
void read_host_resolv_conf(char *out, size_t size, bool own_network);
void write_identity_files(const char *hostname, const char *resolv_conf);
void build_rootfs(const struct options *opts);

/* confine.c: the host-side wall, one step per function. */
void die_with_parent(pid_t expected_parent);
void die_with_launcher(int launcher_pidfd);
void close_inherited_fds(int keep);
void unshare_namespaces(const struct options *opts);
void set_hostname(const char *name);
void open_sandbox_network(bool userns);
bool add_sysctl(struct options *opts, const char *arg);
void write_sysctls(const struct options *opts);
void bring_up_loopback(void);
void drop_capabilities(uint64_t keep);
void limit_capability_sets(uint64_t keep, uint64_t inheritable);
void raise_ambient(uint64_t ambient);
void set_no_new_privs(void);
int open_sandbox_root(int dirfd, const char *path);
int open_sandbox_proc(int rootfd);
int install_filter(const struct sock_fprog *prog);
void install_user_filter(const struct sock_fprog *prog);
int fetch_listener(int workload_pidfd, int fd);

#endif
