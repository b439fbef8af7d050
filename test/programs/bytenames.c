/* Names are bytes: files, directories, symlinks and their targets named with bytes that
 * are not UTF-8 (0xff, a lone continuation byte, a truncated sequence) or are UTF-8, made,
 * found, renamed and removed through every kind of call. Prints each step with the names
 * hex-escaped; the output must be the same natively and in a sandbox. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[] = {
	"ff-\xff", "cont-\x80", "cut-\xc3", "utf8-\xc3\xa9", "mixed-\xfe\xc3\xa9\xff",
};

static void show(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x20 && *p < 0x7f)
			putchar(*p);
		else
			printf("\\x%02x", *p);
}

static void step(const char *verb, const char *name, long ret)
{
	printf("%s ", verb);
	show(name);
	if (ret < 0)
		printf(": %s\n", strerrorname_np(errno));
	else
		printf(" = %ld\n", ret);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of DIR, sorted, as getdents64 gives them. */
static void list(const char *dir)
{
	char *seen[64];
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		step("opendir", dir, -1);
		return;
	}
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			seen[n++] = strdup(e->d_name);
	closedir(d);
	qsort(seen, n, sizeof *seen, cmp);
	printf("ls %s:", dir);
	for (size_t i = 0; i < n; i++) {
		putchar(' ');
		show(seen[i]);
		free(seen[i]);
	}
	putchar('\n');
}

int main(void)
{
	char path[256], other[256], target[256];
	struct stat st;

	if (mkdir("d", 0755) < 0)
		return 1;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const char *name = names[i];
		int fd;
		ssize_t len;

		snprintf(path, sizeof path, "d/%s", name);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		step("creat", path, fd < 0 ? -1 : 0);
		if (fd >= 0) {
			step("write", path, write(fd, name, strlen(name)));
			close(fd);
		}
		step("stat", path, stat(path, &st) < 0 ? -1 : st.st_size);
		step("access", path, access(path, R_OK));
		snprintf(other, sizeof other, "d/renamed-%s", name);
		step("rename", other, rename(path, other));
		step("stat-old", path, stat(path, &st));
		snprintf(target, sizeof target, "renamed-%s", name);
		snprintf(path, sizeof path, "d/link-%s", name);
		step("symlink", path, symlink(target, path));
		len = readlink(path, target, sizeof target - 1);
		if (len >= 0)
			target[len] = '\0';
		step("readlink", len < 0 ? path : target, len);
		step("stat-link", path, stat(path, &st) < 0 ? -1 : st.st_size);
		snprintf(path, sizeof path, "d/dir-%s", name);
		step("mkdir", path, mkdir(path, 0755));
		step("chdir", path, chdir(path));
		step("getcwd-tail", strrchr(getcwd(target, sizeof target), '/'), 0);
		step("chdir", "../..", chdir("../.."));
	}
	list("d");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "d/renamed-%s", names[i]);
		step("unlink", path, unlink(path));
		snprintf(path, sizeof path, "d/link-%s", names[i]);
		step("unlink", path, unlink(path));
		snprintf(path, sizeof path, "d/dir-%s", names[i]);
		step("rmdir", path, rmdir(path));
	}
	list("d");
	return 0;
}
