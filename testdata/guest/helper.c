/*
 * Guest-side helper for the fixture scenarios, linked statically into the
 * initramfs. Its behaviour is chosen by the name it is run as, so that each
 * role shows up in the dump under its own comm:
 *   abba_user PATH        write to PATH (blocks on the module's mutex)
 *   oomvictim MB PATH     mlock MB of anonymous memory, make itself the OOM
 *                         killer's first choice, then block on PATH
 *   oomhog                touch anonymous memory until killed
 *   oomfodder             hold 2 MB and wait: the OOM killer's first choice,
 *                         so that kernel allocations under exhaustion do not
 *                         find "no killable process" and panic the box
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0) {
		perror(path);
		return -1;
	}
	if (write(fd, text, strlen(text)) < 0) {
		perror(path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int oomvictim(size_t mb, const char *path)
{
	size_t len = mb << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	if (mlock(p, len) != 0)
		perror("mlock");
	write_file("/proc/self/oom_score_adj", "1000");
	return write_file(path, "1") ? 1 : 0;
}

static _Noreturn void oomhog(void)
{
	/* The init shell is unkillable (-1000); the hog must be an ordinary victim. */
	write_file("/proc/self/oom_score_adj", "0");
	for (;;) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 0xa5, 1 << 20);
		usleep(20000);
	}
}

static _Noreturn void oomfodder(void)
{
	char *p = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	write_file("/proc/self/oom_score_adj", "1000");
	if (p != MAP_FAILED)
		memset(p, 0x33, 2 << 20);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (!strcmp(name, "abba_user") && argc == 2)
		return write_file(argv[1], "1") ? 1 : 0;
	if (!strcmp(name, "oomvictim") && argc == 3)
		return oomvictim(strtoul(argv[1], NULL, 10), argv[2]);
	if (!strcmp(name, "oomhog"))
		oomhog();
	if (!strcmp(name, "oomfodder"))
		oomfodder();
	fprintf(stderr, "%s: unknown role or arguments\n", name);
	return 2;
}
