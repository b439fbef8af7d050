// Prints the real and effective uid: installed set-uid root, it shows whether exec gave
// privileges (no_new_privs unset) or not. Run by test/integration/oci.test.ts.
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("uid %d euid %d\n", (int)getuid(), (int)geteuid());
	return 0;
}
