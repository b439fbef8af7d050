// The *xattrat calls (Linux 6.13) and file_getattr/file_setattr (6.17), called raw and
// printed call by call in DIR: run natively and under tsvisor by test/integration/do.test.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { NR_setxattrat = 463, NR_getxattrat, NR_listxattrat, NR_removexattrat, NR_file_getattr = 468, NR_file_setattr };

struct xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

struct file_attr {
	uint64_t xflags;
	uint32_t extsize, nextents, projid, cowextsize;
};

static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (chdir(argv[1]) < 0)
		return 2;
	close(open("f", O_CREAT | O_WRONLY, 0644));
	unlink("l");
	if (symlink("f", "l") < 0)
		return 2;
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	int file = open("f", O_RDONLY);

	char value[] = "hello", out[64] = "";
	struct xattr_args set = { (uintptr_t)value, 5, 0 }, get = { (uintptr_t)out, sizeof out, 0 };
	show("setxattrat", syscall(NR_setxattrat, dir, "f", 0, "user.k", &set, sizeof set));
	show("getxattrat", syscall(NR_getxattrat, dir, "f", 0, "user.k", &get, sizeof get));
	printf("value: %s\n", out);
	show("getxattrat via link", syscall(NR_getxattrat, dir, "l", 0, "user.k", &get, sizeof get));
	show("getxattrat nofollow", syscall(NR_getxattrat, dir, "l", AT_SYMLINK_NOFOLLOW, "user.k", &get, sizeof get));
	show("getxattrat empty path", syscall(NR_getxattrat, file, "", AT_EMPTY_PATH, "user.k", &get, sizeof get));
	show("getxattrat NULL path", syscall(NR_getxattrat, file, NULL, AT_EMPTY_PATH, "user.k", &get, sizeof get));
	show("getxattrat empty, no flag", syscall(NR_getxattrat, file, "", 0, "user.k", &get, sizeof get));
	show("getxattrat bad at flags", syscall(NR_getxattrat, dir, "f", AT_REMOVEDIR, "user.k", &get, sizeof get));
	show("getxattrat small args", syscall(NR_getxattrat, dir, "f", 0, "user.k", &get, 8));
	struct { struct xattr_args a; uint64_t more; } big = { get, 1 };
	show("getxattrat bigger args, nonzero", syscall(NR_getxattrat, dir, "f", 0, "user.k", &big, sizeof big));
	big.more = 0;
	show("getxattrat bigger args, zero", syscall(NR_getxattrat, dir, "f", 0, "user.k", &big, sizeof big));
	struct xattr_args flagged = { (uintptr_t)out, sizeof out, 1 };
	show("getxattrat flags", syscall(NR_getxattrat, dir, "f", 0, "user.k", &flagged, sizeof flagged));
	struct xattr_args create = { (uintptr_t)value, 5, 1 /* XATTR_CREATE */ };
	show("setxattrat create again", syscall(NR_setxattrat, dir, "f", 0, "user.k", &create, sizeof create));
	show("getxattrat missing", syscall(NR_getxattrat, dir, "f", 0, "user.none", &get, sizeof get));
	show("getxattrat size query", syscall(NR_getxattrat, dir, "f", 0, "user.k", &(struct xattr_args){ 0, 0, 0 }, sizeof get));
	char list[256];
	long n = syscall(NR_listxattrat, dir, "f", 0, list, sizeof list);
	show("listxattrat", n);
	for (long i = 0; i < n; i += (long)strlen(list + i) + 1)
		printf("  %s\n", list + i);
	show("listxattrat ENOENT", syscall(NR_listxattrat, dir, "nothing", 0, list, sizeof list));
	show("removexattrat", syscall(NR_removexattrat, dir, "f", 0, "user.k"));
	show("removexattrat again", syscall(NR_removexattrat, dir, "f", 0, "user.k"));

	struct file_attr fa;
	memset(&fa, 0xff, sizeof fa);
	long r = syscall(NR_file_getattr, dir, "f", &fa, sizeof fa, 0);
	show("file_getattr", r);
	if (r == 0)
		printf("  xflags %#llx projid %u\n", (unsigned long long)fa.xflags, fa.projid);
	show("file_getattr small", syscall(NR_file_getattr, dir, "f", &fa, 8, 0));
	show("file_getattr bad flags", syscall(NR_file_getattr, dir, "f", &fa, sizeof fa, AT_REMOVEDIR));
	show("file_getattr ENOENT", syscall(NR_file_getattr, dir, "nothing", &fa, sizeof fa, 0));
	if (r == 0) {
		show("file_setattr same", syscall(NR_file_setattr, dir, "f", &fa, sizeof fa, 0));
		fa.xflags |= 1ull << 63; /* no such flag */
		show("file_setattr unknown flag", syscall(NR_file_setattr, dir, "f", &fa, sizeof fa, 0));
	}
	return 0;
}
