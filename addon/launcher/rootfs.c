/*
 * The sandbox's root, assembled by init in its private mount namespace (README "Mounts
 * built by init"), then entered with pivot_root:
 *
 *   STAGING (tmpfs, 0700)
 *   ├── root/      the new root: an overlay per host mount (or one for --rootfs)
 *   ├── upper/N    overlay upper directory of layer N
 *   └── work/N     overlay work directory of layer N
 *
 * A host mount that overlayfs refuses is bound read-only instead; one that cannot even be
 * bound is skipped with a warning (the root itself is never skipped). Writes to the
 * overlays land in the staging tmpfs and vanish with the mount namespace.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"

/* `--userns` or the id maps: the mounts are made in a user namespace (see overlay_split,
 * make_devices). */
static bool userns_mode;

/* One host mount to carry into the sandbox. */
struct host_mount {
	char *path;          /* mount point, unescaped */
	unsigned long flags; /* MS_NOEXEC if the host mount has it, else 0 */
};

struct host_mounts {
	struct host_mount *items;
	size_t len;
};

/* Filesystems that are not content: the sandbox gets its own /proc, /sys and /dev. */
static const char *const pseudo_fs_types[] = {
	"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs",
	"tracefs", "bpf", "mqueue", "fusectl", "configfs", "binfmt_misc", "autofs", "hugetlbfs",
	"pstore", "nsfs", "efivarfs", "selinuxfs",
};

/* Devices bound from the host's /dev (README "/dev"). */
static const char *const host_devices[] = {
	"/null", "/zero", "/full", "/random", "/urandom", "/tty",
};

/* Symlinks in the sandbox's /dev: name, target. */
static const char *const dev_symlinks[][2] = {
	{ "/ptmx", "pts/ptmx" },
	{ "/fd", "/proc/self/fd" },
	{ "/stdin", "/proc/self/fd/0" },
	{ "/stdout", "/proc/self/fd/1" },
	{ "/stderr", "/proc/self/fd/2" },
};

/* ---- small helpers (return -1 with errno set; the caller names the step) ---- */

/* PATH equals DIR or lies beneath it. */
static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool is_pseudo_fs(const char *type)
{
	for (size_t i = 0; i < sizeof pseudo_fs_types / sizeof *pseudo_fs_types; i++)
		if (strcmp(type, pseudo_fs_types[i]) == 0)
			return true;
	return false;
}

/* Whether the comma-separated OPTIONS contain NAME. */
static bool has_option(const char *options, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = options; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Undoes mountinfo's octal escapes (`\040` for a space, `\134` for a backslash). */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * Copies PATH to OUT (of size 2 * PATH_MAX) with a backslash before `\`, `,` and `:`, as
 * overlayfs wants in the paths of its options.
 */
static void escape_overlay_path(char *out, const char *path)
{
	for (; *path; path++) {
		if (strchr("\\,:", *path))
			*out++ = '\\';
		*out++ = *path;
	}
	*out = '\0';
}

/* snprintf into a PATH_MAX buffer, failing the step on truncation. */
static void join_path(char *out, const char *a, const char *b)
{
	if (snprintf(out, PATH_MAX, "%s%s", a, b) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		fail("path `%s%s`", a, b);
	}
}

static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* NAME in DIRFD as an empty regular file, to bind a file onto. */
static int make_empty_file_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Binds SRC (with its submounts if RECURSIVE), resolved against SRC_DIRFD (or SRC_DIRFD
 * itself when SRC is ""), onto TARGET, resolved against TARGET_FD (or TARGET_FD itself
 * when TARGET is ""). The attributes ATTRS (MOUNT_ATTR_*) are set on the detached copy
 * before it is attached, so it is never visible without them.
 */
static int bind_tree_at(int src_dirfd, const char *src, int target_fd, const char *target,
			unsigned int attrs, bool recursive)
{
	unsigned int rec = recursive ? AT_RECURSIVE : 0;
	struct mount_attr attr = { .attr_set = attrs };
	int tree = open_tree(src_dirfd, src,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec | (*src ? 0 : AT_EMPTY_PATH));
	int err;

	if (tree < 0)
		return -1;
	if (attrs && mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
		goto fail;
	if (move_mount(tree, "", target_fd, target,
		       MOVE_MOUNT_F_EMPTY_PATH | (*target ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
		goto fail;
	close(tree);
	return 0;
fail:
	err = errno;
	close(tree);
	errno = err;
	return -1;
}

/* bind_tree_at for a host path SRC. */
static int bind_tree(const char *src, int target_fd, const char *target, unsigned int attrs,
		     bool recursive)
{
	return bind_tree_at(AT_FDCWD, src, target_fd, target, attrs, recursive);
}

/*
 * Mounts an overlay of LOWER at TARGET with upper/N and work/N from STAGING. nosuid and
 * nodev always (device nodes are only those bound in /dev), plus FLAGS.
 */
static int mount_overlay(const char *staging, const char *lower, const char *target, size_t n,
			 unsigned long flags)
{
	char upper[PATH_MAX], work[PATH_MAX];
	char lower_esc[2 * PATH_MAX], upper_esc[2 * PATH_MAX], work_esc[2 * PATH_MAX];
	char data[6 * PATH_MAX + 64];

	if (strlen(lower) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(upper, sizeof upper, "%s/upper/%zu", staging, n);
	snprintf(work, sizeof work, "%s/work/%zu", staging, n);
	if (make_dir(upper, 0755) < 0 || make_dir(work, 0700) < 0)
		return -1;
	escape_overlay_path(lower_esc, lower);
	escape_overlay_path(upper_esc, upper);
	escape_overlay_path(work_esc, work);
	snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower_esc, upper_esc,
		 work_esc);
	if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV | flags, data) == 0)
		return 0;
	if (!userns_mode || errno != EINVAL)
		return -1;
	/* In a user namespace overlayfs may want its xattrs in user.* (Linux >= 5.11). */
	strcat(data, ",userxattr");
	return mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV | flags, data);
}

/*
 * A read-only bind of SRC at TARGET, the fallback when overlayfs refuses SRC. In a user
 * namespace a mount with locked mounts beneath it can only be bound with them (AT_RECURSIVE);
 * mount_setattr only adds flags, so theirs (nosuid, noexec...) stay as they are.
 */
static int bind_read_only(const char *src, const char *target)
{
	const unsigned int attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	if (bind_tree(src, AT_FDCWD, target, attrs, false) == 0)
		return 0;
	if (!userns_mode || errno != EINVAL)
		return -1;
	return bind_tree(src, AT_FDCWD, target, attrs, true);
}

/* ---- steps ---- */

/* Nothing mounted from here on may propagate back to the host. */
static void make_mounts_private(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("make `/` private");
}

/* The staging dir, canonical (so that host mounts beneath it are recognised). */
static char *resolve_staging(const char *dir)
{
	struct stat st;
	char *path = realpath(dir, NULL);

	if (!path)
		fail("staging `%s`", dir);
	if (stat(path, &st) < 0)
		fail("staging `%s`", dir);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		fail("staging `%s`", dir);
	}
	if (strcmp(path, "/") == 0)
		fail_because("must not be `/`", "staging `%s`", dir);
	return path;
}

static int compare_mounts(const void *a, const void *b)
{
	return strcmp(((const struct host_mount *)a)->path, ((const struct host_mount *)b)->path);
}

/*
 * Parses one mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTIONS". Returns false for a line it cannot read.
 */
static bool parse_mountinfo_line(char *line, char **point, char **options, char **fstype)
{
	char *save, *field = strtok_r(line, " \n", &save);

	for (int i = 1; field && i < 5; i++)
		field = strtok_r(NULL, " \n", &save);
	*point = field;
	*options = strtok_r(NULL, " \n", &save);
	do
		field = strtok_r(NULL, " \n", &save);
	while (field && strcmp(field, "-") != 0);
	*fstype = strtok_r(NULL, " \n", &save);
	return *point && *options && *fstype;
}

/*
 * The host mounts to carry into the sandbox, sorted by mount point so that parents come
 * before children, without /proc, /sys, /dev, the staging dir or pseudo filesystems.
 * Read before the staging tmpfs is mounted (the staging dir may sit on `/`).
 */
static struct host_mounts read_host_mounts(const char *staging)
{
	struct host_mounts list = { 0 };
	size_t cap = 0, cap_len = 0;
	char *line = NULL, *point, *options, *fstype;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		fail("read `/proc/self/mountinfo`");
	while (getline(&line, &cap_len, f) > 0) {
		if (!parse_mountinfo_line(line, &point, &options, &fstype))
			continue;
		unescape_octal(point);
		if (is_under(point, "/proc") || is_under(point, "/sys") || is_under(point, "/dev") ||
		    is_under(point, staging) || is_pseudo_fs(fstype))
			continue;
		if (list.len == cap) {
			cap = cap ? 2 * cap : 32;
			list.items = realloc(list.items, cap * sizeof *list.items);
			if (!list.items)
				fail("read `/proc/self/mountinfo`");
		}
		list.items[list.len].path = strdup(point);
		list.items[list.len].flags = has_option(options, "noexec") ? MS_NOEXEC : 0;
		if (!list.items[list.len].path)
			fail("read `/proc/self/mountinfo`");
		list.len++;
	}
	if (ferror(f))
		fail("read `/proc/self/mountinfo`");
	free(line);
	fclose(f);
	qsort(list.items, list.len, sizeof *list.items, compare_mounts);
	if (list.len == 0 || strcmp(list.items[0].path, "/") != 0)
		fail_because("no mount at `/`", "read `/proc/self/mountinfo`");
	return list;
}

/* The staging tmpfs (mode 0700) with root/, upper/ and work/. */
static void mount_staging(const char *staging)
{
	static const char *const dirs[] = { "/root", "/upper", "/work" };
	char path[PATH_MAX];

	if (mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		fail("mount staging tmpfs on `%s`", staging);
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		join_path(path, staging, dirs[i]);
		if (make_dir(path, 0755) < 0)
			fail("mkdir `%s`", path);
	}
}

/*
 * `--userns`: overlayfs refuses a lower layer with locked mounts beneath it (the host's,
 * which a user namespace may not uncover), as `/` has. TARGET (a directory in the staging
 * tmpfs) is then built entry by entry: each directory of SRC an overlay of its own,
 * descending into those that still have locked mounts beneath; symlinks copied; files bound
 * read-only. New entries at this level land in the staging tmpfs. The staging dir and the
 * pseudo filesystems' mount points are left empty. *SEQ numbers the overlays' upper dirs.
 */
static int overlay_split(const char *staging, const char *src, const char *target, size_t *seq,
			 unsigned long flags, int depth)
{
	struct dirent *e;
	struct stat st;
	dev_t dev;
	DIR *dir;

	if (depth > 16) {
		errno = ELOOP;
		return -1;
	}
	if (stat(src, &st) < 0 || !(dir = opendir(src)))
		return -1;
	dev = st.st_dev;
	chmod(target, st.st_mode & 07777);
	while ((e = readdir(dir))) {
		char s[PATH_MAX], t[PATH_MAX], link[PATH_MAX];
		ssize_t n;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(s, sizeof s, "%s/%s", strcmp(src, "/") ? src : "", e->d_name) >= PATH_MAX ||
		    snprintf(t, sizeof t, "%s/%s", target, e->d_name) >= PATH_MAX ||
		    lstat(s, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			n = readlink(s, link, sizeof link - 1);
			if (n >= 0) {
				link[n] = '\0';
				if (symlink(link, t) < 0 && errno != EEXIST)
					warn("symlink `%s` left out of the sandbox: %s", s, strerror(errno));
			}
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			if ((make_empty_file_at(AT_FDCWD, t) < 0 && errno != EEXIST) ||
			    bind_read_only(s, t) < 0)
				warn("file `%s` left out of the sandbox: %s", s, strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (make_dir(t, st.st_mode & 07777) < 0) {
			warn("directory `%s` left out of the sandbox: %s", s, strerror(errno));
			continue;
		}
		/* Another host mount (mount_host_mounts comes to it), or not for the sandbox. */
		if (st.st_dev != dev || is_under(s, staging) || is_under(s, "/proc") ||
		    is_under(s, "/sys") || is_under(s, "/dev"))
			continue;
		if (mount_overlay(staging, s, t, (*seq)++, flags) == 0)
			continue;
		if (errno == EINVAL && overlay_split(staging, s, t, seq, flags, depth + 1) == 0)
			continue;
		if (bind_read_only(s, t) == 0)
			continue;
		warn("directory `%s` left out of the sandbox: %s", s, strerror(errno));
	}
	closedir(dir);
	return 0;
}

/*
 * Each host mount as an overlay at the same place in the new root; a read-only bind if
 * overlayfs refuses it; skipped with a warning if even that fails (except `/`). Stacked
 * mounts on one mount point appear once: the topmost is the one a path reaches.
 */
static void mount_host_mounts(const char *staging, const char *root,
			      const struct host_mounts *mounts)
{
	char target[PATH_MAX];
	size_t seq = mounts->len; /* upper dirs of overlay_split's overlays */

	for (size_t i = 0; i < mounts->len; i++) {
		const struct host_mount *m = &mounts->items[i];

		if (i > 0 && strcmp(m->path, mounts->items[i - 1].path) == 0)
			continue;
		join_path(target, root, m->path);
		if (mount_overlay(staging, m->path, target, i, m->flags) == 0)
			continue;
		/* The new root must be a mount point for pivot_root: a bind of itself. */
		if (userns_mode && errno == EINVAL &&
		    (strcmp(m->path, "/") != 0 || mount(target, target, NULL, MS_BIND, NULL) == 0) &&
		    overlay_split(staging, m->path, target, &seq, m->flags, 0) == 0)
			continue;
		if (bind_read_only(m->path, target) == 0)
			continue;
		if (strcmp(m->path, "/") == 0)
			fail("mount `/`");
		/* Where the caller may not look on the host, the sandbox need not either. */
		if (userns_mode && errno == EACCES)
			continue;
		warn("host mount `%s` left out of the sandbox: %s", m->path, strerror(errno));
	}
}

/*
 * `--rootfs DIR`: one overlay of DIR (a read-only bind if overlayfs refuses it); with
 * `--no-overlay`, DIR itself (and its submounts), so that writes land in it as runc's do:
 * an OCI bundle's rootfs is the container's, kept across restarts and read by `docker cp`.
 */
static void mount_rootfs(const char *staging, const char *root, const char *dir, bool overlay)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		fail("rootfs `%s`", dir);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		fail("rootfs `%s`", dir);
	}
	if (!overlay) {
		/* nodev: a device node in an image opens nothing (runc has the devices cgroup). */
		if (bind_tree(dir, AT_FDCWD, root, MOUNT_ATTR_NODEV, true) < 0)
			fail("bind rootfs `%s`", dir);
		return;
	}
	if (mount_overlay(staging, dir, root, 0, 0) == 0)
		return;
	if (bind_read_only(dir, root) < 0)
		fail("rootfs `%s`", dir);
}

/*
 * ROOT/NAME as a directory to mount on: created if missing, refused if it is anything
 * else (a symlink there would send the mount elsewhere).
 */
static void make_mount_point(const char *root, const char *name, char *path)
{
	struct stat st;

	join_path(path, root, name);
	if (lstat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			fail("mount point `%s`", name);
		}
		return;
	}
	if (errno != ENOENT || mkdir(path, 0755) < 0)
		fail("mkdir `%s`", name);
}

/*
 * A fresh procfs: init is pid 1 of the new pid namespace, so it shows only the sandbox.
 * Read-only because the sentry opens files in it with its own namespaces: a sysctl written
 * through it would be the host's. The mount is read-only, not the superblock, so that the
 * workload can still write its own oom_score_adj through a private writable copy of the
 * mount before it drops its capabilities (identity.c); sandbox tasks can make no such copy
 * (no CAP_SYS_ADMIN, and the policy denies the mount API).
 */
static void mount_proc(const char *root)
{
	const unsigned int attrs =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	char path[PATH_MAX];
	int fs, mnt;

	make_mount_point(root, "/proc", path);
	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", "proc", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fail("mount `/proc`");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0 || move_mount(mnt, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		fail("mount `/proc`");
	close(mnt);
	close(fs);
}

/*
 * What programs probe in /sys, beneath a read-only tmpfs (nothing else of the host's sysfs
 * is there): the CPU and NUMA topology that runtimes size their thread pools and heaps
 * from (glibc's get_nprocs_conf, lscpu, the JVM), the memory manager's settings that
 * allocators and tests probe (transparent huge pages for Go's and Java's, whether KSM
 * exists), and under fs/cgroup the sandbox's own cgroups, as Docker shows a container's,
 * so that a program finds its memory and CPU limits there. All of them read-only; host
 * subtrees a kernel lacks are left out.
 */
static const char *const sys_host_trees[] = {
	"/devices/system/cpu",
	"/devices/system/node",
	"/kernel/mm",
};

/* Binds the host directory SRC read-only onto SYS NAME (NAME starts with a slash), made as
 * a directory first. */
static void bind_into_sys(const char *sys, const char *name, const char *src)
{
	const unsigned int attrs =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	char target[PATH_MAX], partial[PATH_MAX];

	join_path(target, sys, name);
	/* mkdir -p within the fresh tmpfs: nothing there can be a symlink. */
	for (char *slash = strchr(target + strlen(sys) + 1, '/');; slash = strchr(slash + 1, '/')) {
		size_t len = slash ? (size_t)(slash - target) : strlen(target);

		memcpy(partial, target, len);
		partial[len] = '\0';
		if (mkdir(partial, 0555) < 0 && errno != EEXIST)
			fail("mkdir `/sys%s`", name);
		if (!slash)
			break;
	}
	if (bind_tree(src, AT_FDCWD, target, attrs, false) < 0)
		fail("bind `%s` on `/sys%s`", src, name);
}

static void mount_sys(const char *root, const struct options *opts)
{
	char path[PATH_MAX], src[PATH_MAX];

	make_mount_point(root, "/sys", path);
	/* Named "sysfs": the sentry shows it as the sandbox's sysfs (src/sentry/vfs/procfiles.ts). */
	if (mount("sysfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555") < 0)
		fail("mount `/sys`");
	for (size_t i = 0; i < sizeof sys_host_trees / sizeof *sys_host_trees; i++) {
		join_path(src, "/sys", sys_host_trees[i]);
		if (access(src, F_OK) == 0)
			bind_into_sys(path, sys_host_trees[i], src);
	}
	for (size_t i = 0; i < opts->n_cgroup_views; i++) {
		char name[PATH_MAX];

		snprintf(name, sizeof name, "/fs/cgroup%s%s", *opts->cgroup_views[i].name ? "/" : "",
			 opts->cgroup_views[i].name);
		bind_into_sys(path, name, opts->cgroup_views[i].dir);
	}
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555") < 0)
		fail("make `/sys` read-only");
}

/*
 * Each host device node bound onto an empty file of the same name. The binds are the
 * host's own inodes, so they are read-only: a device is read and written through a
 * read-only mount all the same, but chmod, chown, utimes and xattrs of the node (which
 * the sandbox's root may make) would change the host's /dev/null.
 */
static void bind_host_device(const char *host, const char *target)
{
	const unsigned int attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

	if (make_empty_file_at(AT_FDCWD, target) < 0)
		fail("create `%s`", host);
	if (bind_tree(host, AT_FDCWD, target, attrs, false) < 0)
		fail("bind `%s`", host);
}

static void bind_host_devices(const char *dev)
{
	char host[PATH_MAX], target[PATH_MAX];

	for (size_t i = 0; i < sizeof host_devices / sizeof *host_devices; i++) {
		join_path(host, "/dev", host_devices[i]);
		join_path(target, dev, host_devices[i]);
		bind_host_device(host, target);
	}
}

/* The host's /dev node of D's type and number, if it is one of those /dev binds, else NULL. */
static const char *host_device_of(const struct device *d, char host[PATH_MAX])
{
	struct stat st;

	if (d->type != 'c' && d->type != 'u')
		return NULL;
	for (size_t i = 0; i < sizeof host_devices / sizeof *host_devices; i++) {
		join_path(host, "/dev", host_devices[i]);
		if (stat(host, &st) == 0 && S_ISCHR(st.st_mode) &&
		    st.st_rdev == makedev(d->major, d->minor))
			return host;
	}
	return NULL;
}

/*
 * In a user namespace the kernel refuses mknod of a device (CAP_MKNOD counts only in the
 * host's): as runc does there, the host's node at the same path is bound instead, when it
 * is the device asked for, and nodev, so that it opens nothing, like the node mknod would
 * have made. It keeps the host's mode and owner: the bind is read-only, since a chmod or
 * chown through it would change the host's node. A device the host has no node for is left
 * out with a warning: all it could do is exist.
 */
static void bind_inert_device(const struct device *d, const char *target)
{
	const unsigned int attrs =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	struct stat st;

	if (stat(d->path, &st) < 0 || (d->type == 'b' ? !S_ISBLK(st.st_mode) : !S_ISCHR(st.st_mode)) ||
	    st.st_rdev != makedev(d->major, d->minor)) {
		warn("device `%s` left out of the sandbox: no such node on the host to bind, and "
		     "mknod is refused in a user namespace", d->path);
		return;
	}
	if (make_empty_file_at(AT_FDCWD, target) < 0 ||
	    bind_tree(d->path, AT_FDCWD, target, attrs, false) < 0)
		fail("bind device `%s`", d->path);
}

/*
 * OCI linux.devices, made in /dev (a path already there stays as it is). One of /dev's
 * own devices is bound from the host like them; a FIFO is a FIFO; any other node is made
 * as asked but opens nothing, since /dev is nodev: the sentry opens files for tasks in the
 * host's namespaces, so a device such as /dev/net/tun would act there. In a user namespace
 * that node is the host's, bound (bind_inert_device).
 */
static void make_devices(const char *dev, const struct options *opts)
{
	for (size_t i = 0; i < opts->n_devices; i++) {
		const struct device *d = &opts->devices[i];
		char target[PATH_MAX], host[PATH_MAX];
		const char *bound;
		struct stat st;

		join_path(target, dev, d->path + strlen("/dev"));
		if (lstat(target, &st) == 0)
			continue;
		for (char *slash = strchr(target + strlen(dev) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (make_dir(target, 0755) < 0)
				fail("mkdir `%s`", d->path);
			*slash = '/';
		}
		bound = host_device_of(d, host);
		if (bound) {
			bind_host_device(bound, target);
			continue;
		}
		if (userns_mode && d->type != 'p') {
			bind_inert_device(d, target);
			continue;
		}
		if (d->type == 'p' ? mkfifo(target, d->mode) < 0
				   : mknod(target, (d->type == 'b' ? S_IFBLK : S_IFCHR) | d->mode,
					   makedev(d->major, d->minor)) < 0)
			fail("make device `%s`", d->path);
		if (chmod(target, d->mode) < 0 || lchown(target, d->uid, d->gid) < 0)
			fail("set the owner and mode of device `%s`", d->path);
	}
}

/* A devpts instance of our own; gid=5 (tty) where the kernel accepts it. */
static void mount_devpts(const char *dev)
{
	char path[PATH_MAX];
	const unsigned long flags = MS_NOSUID | MS_NOEXEC;

	join_path(path, dev, "/pts");
	if (make_dir(path, 0755) < 0)
		fail("mkdir `/dev/pts`");
	if (mount("devpts", path, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620,gid=5") <
		    0 &&
	    mount("devpts", path, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620") < 0)
		fail("mount `/dev/pts`");
}

static void mount_dev_shm(const char *dev)
{
	char path[PATH_MAX];

	join_path(path, dev, "/shm");
	if (make_dir(path, 01777) < 0)
		fail("mkdir `/dev/shm`");
	if (mount("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777") < 0)
		fail("mount `/dev/shm`");
}

/*
 * A POSIX message queue filesystem: the sandbox has its own ipc namespace, and an mqueue
 * mount shows the queues of the mounting process's one, so `ls /dev/mqueue` lists the
 * sandbox's queues (mq_open itself needs no mount).
 */
static void mount_dev_mqueue(const char *dev)
{
	char path[PATH_MAX];

	join_path(path, dev, "/mqueue");
	if (make_dir(path, 0755) < 0)
		fail("mkdir `/dev/mqueue`");
	if (mount("mqueue", path, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("mount `/dev/mqueue`");
}

static void make_dev_symlinks(const char *dev)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof dev_symlinks / sizeof *dev_symlinks; i++) {
		join_path(path, dev, dev_symlinks[i][0]);
		if (symlink(dev_symlinks[i][1], path) < 0)
			fail("symlink `/dev%s`", dev_symlinks[i][0]);
	}
}

/*
 * /dev: a tmpfs holding only the host's null, zero, full, random, urandom and tty (bind
 * mounts, so the tmpfs itself can be nodev), pts, shm, mqueue, the usual symlinks, and
 * the OCI config's devices.
 */
static void mount_dev(const char *root, const struct options *opts)
{
	char dev[PATH_MAX];

	make_mount_point(root, "/dev", dev);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0)
		fail("mount `/dev`");
	bind_host_devices(dev);
	mount_devpts(dev);
	mount_dev_shm(dev);
	mount_dev_mqueue(dev);
	make_dev_symlinks(dev);
	make_devices(dev, opts);
}

static int openat_in_root(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/*
 * Opens DST as the sandbox will see it (symlinks resolved inside ROOTFD, never out of
 * it), creating what is missing: directories, and the last component as a directory or
 * (unless IS_DIR) an empty file.
 */
static int open_bind_target(int rootfd, const char *dst, bool is_dir)
{
	char prefix[PATH_MAX];
	int parent = dup(rootfd);

	if (strlen(dst) >= sizeof prefix) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (parent < 0)
		return -1;
	for (const char *p = dst; *p;) {
		const char *end = p + strcspn(p, "/");
		int fd;

		if (end == p) { /* an empty component: `//` or a leading `/` */
			p++;
			continue;
		}
		snprintf(prefix, sizeof prefix, "%.*s", (int)(end - dst), dst);
		fd = openat_in_root(rootfd, prefix);
		if (fd < 0 && errno == ENOENT) {
			char name[NAME_MAX + 1];
			bool last = *end == '\0' || end[strspn(end, "/")] == '\0';
			int made;

			if (end - p > NAME_MAX) {
				errno = ENAMETOOLONG;
				goto fail;
			}
			snprintf(name, sizeof name, "%.*s", (int)(end - p), p);
			made = last && !is_dir ? make_empty_file_at(parent, name)
					       : mkdirat(parent, name, 0755);
			if (made < 0)
				goto fail;
			fd = openat_in_root(rootfd, prefix);
		}
		if (fd < 0)
			goto fail;
		close(parent);
		parent = fd;
		p = end;
	}
	return parent;
fail:
	{
		int err = errno;
		close(parent);
		errno = err;
	}
	return -1;
}

/* The mount flags tmpfs options may name, as mount(8) spells them. */
static const struct {
	const char *name;
	unsigned int set, clear;
} tmpfs_flags[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0 },	      { "rw", 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },   { "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },     { "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },   { "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, 0 }, { "relatime", MOUNT_ATTR_RELATIME, 0 },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, 0 },
};

/*
 * `--tmpfs DST[:OPTIONS]`: a new tmpfs on TARGET (an fd of DST). OPTIONS are mount flags
 * (tmpfs_flags) and tmpfs's own KEY[=VALUE] parameters (size, nr_inodes, mode, uid, gid),
 * which the kernel checks and enforces (ENOSPC beyond size=). nosuid and nodev always:
 * device nodes are only those in /dev.
 */
static void mount_tmpfs(int target, const char *dst, const char *options)
{
	unsigned int attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	char *copy = strdup(options), *rest = NULL;
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt;

	if (!copy)
		fail("tmpfs on `%s`", dst);
	if (fs < 0)
		fail("fsopen tmpfs for `%s`", dst);
	/* What mount(8) and /proc/mounts show as its source, as for `mount -t tmpfs tmpfs`. */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0)
		fail("tmpfs on `%s`: source", dst);
	for (char *opt = strtok_r(copy, ",", &rest); opt; opt = strtok_r(NULL, ",", &rest)) {
		char *value = strchr(opt, '=');
		bool flag = false;

		for (size_t i = 0; !value && i < sizeof tmpfs_flags / sizeof *tmpfs_flags; i++) {
			if (strcmp(opt, tmpfs_flags[i].name) == 0) {
				attrs = (attrs & ~tmpfs_flags[i].clear) | tmpfs_flags[i].set;
				flag = true;
			}
		}
		if (flag)
			continue;
		if (value)
			*value++ = '\0';
		if (fsconfig(fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opt, value, 0) < 0)
			fail("tmpfs on `%s`: option `%s`", dst, opt);
	}
	/* suid and dev stay refused whatever the options say. */
	attrs |= MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fail("create tmpfs for `%s`", dst);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		fail("mount tmpfs for `%s`", dst);
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		fail("attach tmpfs on `%s`", dst);
	close(mnt);
	close(fs);
	free(copy);
}

/* `--mount SRC:DST[:ro]`: SRC with its submounts, read-only (all of it) with `:ro`; and
 * `--tmpfs`, in the order given (a later mount may go inside an earlier one). Both are
 * nodev, as every mount of the sandbox but the device nodes bound into /dev. */
static void mount_binds(const char *root, const struct options *opts)
{
	int rootfd;

	if (opts->n_mounts == 0)
		return;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail("open new root");
	for (size_t i = 0; i < opts->n_mounts; i++) {
		const struct bind_mount *m = &opts->mounts[i];
		struct stat st;
		int target;

		if (!m->src) {
			target = open_bind_target(rootfd, m->dst, true);
			if (target < 0)
				fail("tmpfs target `%s`", m->dst);
			mount_tmpfs(target, m->dst, m->tmpfs);
			close(target);
			continue;
		}
		if (stat(m->src, &st) < 0)
			fail("bind `%s`", m->src);
		target = open_bind_target(rootfd, m->dst, S_ISDIR(st.st_mode));
		if (target < 0)
			fail("bind target `%s`", m->dst);
		/* nodev: device nodes under SRC open nothing; only /dev's own do. */
		if (bind_tree(m->src, target, "", MOUNT_ATTR_NODEV | (m->ro ? MOUNT_ATTR_RDONLY : 0),
			      true) < 0)
			fail("bind `%s` on `%s`", m->src, m->dst);
		close(target);
	}
	close(rootfd);
}

/*
 * PATH inside the new root (ROOTFD), symlinks resolved inside it and never out of it, for
 * a mask or a read-only bind on top; -1 when it does not exist (skipped, as runc does).
 * Any other failure fails the step: nothing is left unprotected silently.
 */
static int open_protected_path(int rootfd, const char *what, const char *path)
{
	int fd = openat_in_root(rootfd, path);

	if (fd < 0 && errno != ENOENT)
		fail("%s `%s`", what, path);
	return fd;
}

/* `--readonly-path PATH` (linux.readonlyPaths): PATH with its submounts bound onto itself
 * read-only; the mount's other flags (nosuid, noexec...) are kept. */
static void make_path_read_only(int rootfd, const char *path)
{
	int fd = open_protected_path(rootfd, "readonly path", path);

	if (fd < 0)
		return;
	if (bind_tree_at(fd, "", fd, "", MOUNT_ATTR_RDONLY, true) < 0)
		fail("bind `%s` read-only", path);
	close(fd);
}

/*
 * `--mask PATH` (linux.maskedPaths), as runc's maskPath: a directory gets an empty
 * read-only tmpfs on top, anything else the host's /dev/null bound read-only (reads give
 * nothing, writes vanish: /dev/null ignores a read-only mount, as any device does).
 */
static void mask_path(int rootfd, const char *path)
{
	struct stat st;
	int fd = open_protected_path(rootfd, "masked path", path);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0)
		fail("masked path `%s`", path);
	if (S_ISDIR(st.st_mode))
		mount_tmpfs(fd, path, "ro,noexec");
	else if (bind_tree("/dev/null", fd, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
				    MOUNT_ATTR_NOEXEC, false) < 0)
		fail("mask `%s` with `/dev/null`", path);
	close(fd);
}

/*
 * Read-only paths, then masks (runc's order), once everything else is mounted: a path
 * under /proc, /dev or a --mount is protected on top of that mount, not under it.
 */
static void protect_paths(const char *root, const struct options *opts)
{
	int rootfd;

	if (opts->n_readonly_paths == 0 && opts->n_masks == 0)
		return;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail("open new root");
	for (size_t i = 0; i < opts->n_readonly_paths; i++)
		make_path_read_only(rootfd, opts->readonly_paths[i]);
	for (size_t i = 0; i < opts->n_masks; i++)
		mask_path(rootfd, opts->masks[i]);
	close(rootfd);
}

/*
 * `--readonly-root` (an OCI spec's root.readonly): the root mount itself becomes read-only
 * once every mount point in it exists, as runc does it, so that bind targets missing from
 * the image can still be created (in the overlay's upper layer). Mounts on top of it
 * (/proc, /dev, binds) keep their own flags.
 */
static void make_root_read_only(const char *root)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(AT_FDCWD, root, 0 /* flags: this mount only */, &attr, sizeof attr) < 0)
		fail("make the root read-only");
}

/*
 * pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the new
 * root alone, without needing a directory to put the old one in.
 */
static void pivot_into(const char *root)
{
	if (chdir(root) < 0)
		fail("chdir `%s`", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		fail("detach the old root");
	if (chdir("/") < 0)
		fail("chdir `/`");
}

static void enter_cwd(const char *cwd)
{
	if (chdir(cwd) < 0)
		fail("chdir `%s`", cwd);
}

void build_rootfs(const struct options *opts)
{
	struct host_mounts host = { 0 };
	char root[PATH_MAX];
	char *staging;

	userns_mode = opts->in_userns;
	make_mounts_private();
	staging = resolve_staging(opts->staging);
	if (!opts->rootfs)
		host = read_host_mounts(staging);
	mount_staging(staging);
	join_path(root, staging, "/root");
	if (opts->rootfs)
		mount_rootfs(staging, root, opts->rootfs, !opts->no_overlay);
	else
		mount_host_mounts(staging, root, &host);
	/* In the order of runc's and Docker's default mounts, which runtime-tools checks. */
	mount_proc(root);
	mount_dev(root, opts);
	mount_sys(root, opts);
	mount_binds(root, opts);
	protect_paths(root, opts);
	if (opts->readonly_root)
		make_root_read_only(root);
	pivot_into(root);
	enter_cwd(opts->cwd);
}

/* Whether the hosts file text names HOST as a whole word on a non-comment line. */
static bool hosts_name(const char *text, const char *host)
{
	size_t len = strlen(host);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *end = strchr(line, '\n');
		const char *stop = end ? end : line + strlen(line);

		if (*line == '#')
			continue;
		for (const char *p = line; p + len <= stop; p++) {
			bool starts = p == line || *(p - 1) == ' ' || *(p - 1) == '\t';
			bool ends = p + len == stop || p[len] == ' ' || p[len] == '\t' || p[len] == '#';

			if (starts && ends && !strncmp(p, host, len))
				return true;
		}
	}
	return false;
}

/*
 * Before pivot_root: the host's /etc/resolv.conf, for a root that lacks one. In a network
 * namespace of the sandbox's own, loopback nameservers (a host's systemd-resolved at
 * 127.0.0.53) would name the sandbox's own loopback: those lines are left out. Empty when
 * the host has none.
 */
void read_host_resolv_conf(char *out, size_t size, bool own_network)
{
	char text[8192], *line, *save = NULL;
	size_t used = 0;
	ssize_t n;
	int fd;

	out[0] = '\0';
	fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *server = line + strlen("nameserver");

		if (own_network && !strncmp(line, "nameserver", strlen("nameserver"))) {
			server += strspn(server, " \t");
			if (!strncmp(server, "127.", 4) || !strncmp(server, "::1", 3))
				continue;
		}
		if (used + strlen(line) + 2 > size)
			break;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
}

/*
 * After pivot_root: /etc/hostname says the sandbox's hostname, and /etc/hosts resolves it
 * (programs look their own name up: Python's gethostbyname(gethostname()), Java), as
 * Docker's own files do; a root without /etc/resolv.conf gets RESOLV_CONF (the host's, see
 * read_host_resolv_conf). Writes land in the private upper layer. Best effort: a read-only
 * root, a root without /etc, or a symlink in place of any of the files is left as it is.
 */
/* Opens PATH to be updated (created if absent) and reads it into TEXT, NUL-terminated:
 * the fd, *LEN the bytes read; -1 if it cannot be opened. */
static int open_and_read(const char *path, char *text, size_t size, ssize_t *len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	*len = read(fd, text, size - 1);
	text[*len > 0 ? *len : 0] = '\0';
	return fd;
}

static void write_hostname_file(const char *hostname)
{
	char text[512], line[512];
	ssize_t n;
	int fd = open_and_read("/etc/hostname", text, sizeof text, &n);

	if (fd < 0)
		return;
	snprintf(line, sizeof line, "%s\n", hostname);
	/* Rewritten only when it says something else (it may be a bind of the host's). */
	if (strcmp(text, line) && ftruncate(fd, 0) == 0 && pwrite(fd, line, strlen(line), 0) < 0)
		warn("write `/etc/hostname`: %s", strerror(errno));
	close(fd);
}

static void write_hosts_file(const char *hostname)
{
	static const char defaults[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
	char text[65536], line[512];
	ssize_t n;
	int fd = open_and_read("/etc/hosts", text, sizeof text, &n);

	if (fd < 0)
		return;
	if (!hosts_name(text, hostname)) {
		int len = snprintf(line, sizeof line, "%s%s127.0.1.1\t%s\n", n > 0 ? "" : defaults,
				   n > 0 && text[n - 1] != '\n' ? "\n" : "", hostname);
		if (lseek(fd, 0, SEEK_END) < 0 || write(fd, line, (size_t)len) < 0)
			warn("write `/etc/hosts`: %s", strerror(errno));
	}
	close(fd);
}

/* Only where there is none: an image's own file, or a symlink in its place, stays. */
static void write_resolv_conf(const char *text)
{
	int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		warn("write `/etc/resolv.conf`: %s", strerror(errno));
	close(fd);
}

void write_identity_files(const char *hostname, const char *resolv_conf)
{
	if (hostname && strlen(hostname) <= 253) {
		write_hostname_file(hostname);
		write_hosts_file(hostname);
	}
	if (resolv_conf[0])
		write_resolv_conf(resolv_conf);
}
