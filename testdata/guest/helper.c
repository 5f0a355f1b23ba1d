/*
 * Guest-side helper for the fixture scenarios, linked statically into the
 * initramfs. Its behaviour is chosen by the name it is run as, so that each
 * role shows up in the dump under its own comm:
 *   abba_user PATH        write to PATH (blocks on the module's mutex)
 *   oomvictim MB PATH [shared]
 *                         mlock MB of anonymous memory, make itself the OOM
 *                         killer's first choice, then block on PATH. With
 *                         "shared" the memory is a shared anonymous mapping
 *                         (shmem), which the OOM reaper leaves alone (since
 *                         5.19 or so it reaps mlocked private memory)
 *   oomhog                touch anonymous memory until killed
 *   oomfodder             hold 2 MB and wait: the OOM killer's first choice,
 *                         so that kernel allocations under exhaustion do not
 *                         find "no killable process" and panic the box
 *   storm NPROC NTHR KB RESERVE_MB
 *                         a master forks NPROC processes of NTHR threads each;
 *                         every thread keeps allocating and freeing KB. Once
 *                         all have started the master mlocks all available
 *                         memory but RESERVE_MB, and the command returns; the
 *                         master re-forks the children the OOM killer takes.
 *                         Init must not fork during the storm, so it waits
 *                         for the command instead of polling.
 *   memhog RESERVE_MB     mlock all available memory but RESERVE_MB, then wait
 *   reclaimer N HOLD_KB KB  a master keeps N children alive (re-forking those
 *                         the OOM killer takes); each holds HOLD_KB and
 *                         allocates, touches and frees KB, forever
 *   forker MB             fork children that touch MB and exit, forever
 *   io_reader PATH OFFSET  say "reader" to /proc/kstall/io_role, then read()
 *                         PATH at OFFSET (blocks on the page the module locked)
 *   io_writer PATH        say "writer" to /proc/kstall/io_role, then write()
 *                         to PATH (blocks on the inode lock the module holds)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

static int oomvictim(size_t mb, const char *path, int shared)
{
	size_t len = mb << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

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

/* Anonymous memory touched and given back: every call may enter the allocator. */
static void churn(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	memset(p, 0x77, len);
	munmap(p, len);
}

static size_t storm_kb;
static pthread_mutex_t storm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t storm_cond = PTHREAD_COND_INITIALIZER;
static int storm_go;

static void *storm_thread(void *arg)
{
	unsigned int seed = (unsigned int)(size_t)arg;

	/* Quiet until every thread exists: churning while thousands are created takes forever under TCG. */
	pthread_mutex_lock(&storm_lock);
	while (!storm_go)
		pthread_cond_wait(&storm_cond, &storm_lock);
	pthread_mutex_unlock(&storm_lock);
	for (;;) {
		churn(storm_kb << 10);
		/* Sparse wake-ups: thousands of threads must not drown TCG in the scheduler. */
		usleep(500000 + rand_r(&seed) % 1000000);
	}
	return NULL;
}

static _Noreturn void storm_child(int nthr, int ready_fd, int go_fd, int id)
{
	pthread_attr_t attr;
	pthread_t t;
	char c;
	int i;

	write_file("/proc/self/oom_score_adj", "0");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 1; i < nthr; i++)
		while (pthread_create(&t, &attr, storm_thread, (void *)(size_t)(id * nthr + i)))
			usleep(100000);
	if (ready_fd >= 0 && write(ready_fd, "r", 1) < 0)
		perror("storm");
	if (go_fd >= 0 && read(go_fd, &c, 1) != 1)
		perror("storm");
	pthread_mutex_lock(&storm_lock);
	storm_go = 1;
	pthread_cond_broadcast(&storm_cond);
	pthread_mutex_unlock(&storm_lock);
	storm_thread((void *)(size_t)(id * nthr));
	_exit(0);
}

static long meminfo_kb(const char *key);
static void hog(long reserve_mb);
static void kmsg(const char *text);

/*
 * The master keeps its inherited oom_score_adj of -1000 and re-forks: the
 * box must always have killable children, or the OOM killer panics it.
 */
static _Noreturn void storm(int nproc, int nthr, size_t kb, long reserve_mb)
{
	int ready[2], done[2], go[2], i, started = 0;
	pid_t master;
	char c, line[128];

	storm_kb = kb;
	if (pipe(ready) || pipe(done) || pipe(go))
		exit(1);
	master = fork();
	if (master < 0)
		exit(1);
	if (master > 0) {
		/* the command returns once the storm is up and memory is locked */
		close(done[1]);
		exit(read(done[0], &c, 1) == 1 ? 0 : 1);
	}
	close(done[0]);
	snprintf(line, sizeof(line), "TRUTH {\"role\":\"storm\",\"pid\":%d,\"comm\":\"storm\"}",
		 getpid());
	kmsg(line);
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid == 0)
			storm_child(nthr, ready[1], go[0], i);
		if (pid < 0)
			usleep(100000), i--;
	}
	while (started < nproc && read(ready[0], &c, 1) == 1)
		started++;
	hog(reserve_mb);
	for (i = 0; i < nproc; i++)
		if (write(go[1], "g", 1) < 0)
			perror("storm");
	if (write(done[1], "r", 1) < 0)
		perror("storm");
	close(done[1]);
	for (i = nproc;; i++) {
		pid_t pid;

		if (wait(NULL) > 0)
			started--;
		while (started < nproc && (pid = fork()) >= 0) {
			if (pid == 0)
				storm_child(nthr, -1, -1, i);
			started++;
		}
		if (started < nproc)
			usleep(100000);
	}
}

static void kmsg(const char *text)
{
	int fd = open("/dev/kmsg", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("/dev/kmsg");
		close(fd);
	}
}

static long meminfo_kb(const char *key)
{
	char line[128];
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			val = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return val;
}

/* mlock all available memory but reserve_mb */
static void hog(long reserve_mb)
{
	long avail = meminfo_kb("MemAvailable");
	size_t len = avail > (reserve_mb << 10) ? (size_t)(avail - (reserve_mb << 10)) << 10 : 0;
	char *p = len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		      : MAP_FAILED;

	if (p != MAP_FAILED) {
		memset(p, 0x5a, len);
		if (mlock(p, len))
			perror("hog: mlock");
	}
	printf("hog: %zu MB locked, %ld MB were available\n", len >> 20, avail >> 10);
	fflush(stdout);
}

static _Noreturn void memhog(long reserve_mb)
{
	hog(reserve_mb);
	for (;;)
		pause();
}

static _Noreturn void reclaim_child(size_t hold_kb, size_t kb)
{
	char *p = mmap(NULL, hold_kb << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	write_file("/proc/self/oom_score_adj", "0");
	if (p != MAP_FAILED)
		memset(p, 0x44, hold_kb << 10);
	for (;;)
		churn(kb << 10);
}

static _Noreturn void reclaimer(int n, size_t hold_kb, size_t kb)
{
	int live = 0;

	if (fork() != 0)
		exit(0);
	for (;;) {
		pid_t pid;

		while (live < n && (pid = fork()) >= 0) {
			if (pid == 0)
				reclaim_child(hold_kb, kb);
			live++;
		}
		if (wait(NULL) > 0)
			live--;
		else
			usleep(100000);
	}
}

static _Noreturn void forker(size_t mb)
{
	write_file("/proc/self/oom_score_adj", "0");
	for (;;) {
		pid_t pid = fork();

		if (pid == 0) {
			churn(mb << 20);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		usleep(50000);
	}
}

/* Open first, announce, then make the one call that blocks. */
static int io_role(const char *role, const char *path, off_t offset)
{
	int fd = open(path, !strcmp(role, "reader") ? O_RDONLY : O_WRONLY);
	char buf[16];

	if (fd < 0) {
		perror(path);
		return 1;
	}
	if (write_file("/proc/kstall/io_role", role))
		return 1;
	if (!strcmp(role, "reader") ? pread(fd, buf, sizeof(buf), offset) < 0 : write(fd, "x", 1) < 0) {
		perror(path);
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (!strcmp(name, "abba_user") && argc == 2)
		return write_file(argv[1], "1") ? 1 : 0;
	if (!strcmp(name, "oomvictim") && (argc == 3 || argc == 4))
		return oomvictim(strtoul(argv[1], NULL, 10), argv[2],
				 argc == 4 && !strcmp(argv[3], "shared"));
	if (!strcmp(name, "oomhog"))
		oomhog();
	if (!strcmp(name, "oomfodder"))
		oomfodder();
	if (!strcmp(name, "storm") && argc == 5)
		storm(atoi(argv[1]), atoi(argv[2]), strtoul(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
	if (!strcmp(name, "memhog") && argc == 2)
		memhog(strtol(argv[1], NULL, 10));
	if (!strcmp(name, "reclaimer") && argc == 4)
		reclaimer(atoi(argv[1]), strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
	if (!strcmp(name, "forker") && argc == 2)
		forker(strtoul(argv[1], NULL, 10));
	if (!strcmp(name, "io_reader") && argc == 3)
		return io_role("reader", argv[1], strtol(argv[2], NULL, 10));
	if (!strcmp(name, "io_writer") && argc == 2)
		return io_role("writer", argv[1], 0);
	fprintf(stderr, "%s: unknown role or arguments\n", name);
	return 2;
}
