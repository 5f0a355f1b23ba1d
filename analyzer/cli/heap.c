#include "cli/heap.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE (2u << 20)
/*
 * The heap's first growth, in one piece (the heap grows on in separate
 * mappings, which the advice below would not reach): twice what a 10 000-task
 * analysis needs at its peak. Only touched pages are resident.
 */
#define RESERVE (48u << 20)
/*
 * The part of it on huge pages. A huge page is resident whole from its first
 * touch, so only what an analysis fills densely: about what a 10 000-task
 * dump needs at its peak (fork-storm: 20 MiB of heap). Past it, small pages,
 * and the peak grows by what is used. Measured on fork-storm, cold: 16 MiB
 * 0.327 s, 20 MiB 0.320 s, 48 MiB 0.312 s but a peak RSS 2 to 4 MiB higher.
 */
#define HUGE_REGION (20u << 20)
/* Blocks up to this size come from the heap (the task and stack tables of big dumps are MiBs). */
#define MMAP_THRESHOLD (32u << 20)

void ks_heap_setup(void)
{
	const char *want = getenv("KSTALL_HUGEPAGES");
	uintptr_t before, after, start, end;
	void *probe;

	if (want && !strcmp(want, "0"))
		return;
	if (!mallopt(M_MMAP_THRESHOLD, (int)MMAP_THRESHOLD) || !mallopt(M_TOP_PAD, (int)RESERVE) ||
	    !mallopt(M_TRIM_THRESHOLD, (int)RESERVE))
		return;
	/* A block larger than what is left at the top makes malloc grow the heap: by RESERVE more. */
	before = (uintptr_t)sbrk(0);
	probe = malloc(HUGE_PAGE);
	if (!probe)
		return;
	after = (uintptr_t)sbrk(0);
	start = (before + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	end = after & ~(uintptr_t)(HUGE_PAGE - 1);
	/*
	 * Only where the heap did grow by the reserve (not under a sanitizer's
	 * malloc, say). Advice only: where it is refused (THP off, an old kernel)
	 * nothing changes.
	 */
	if (end > start + HUGE_REGION)
		end = start + HUGE_REGION;
	if (before != (uintptr_t)-1 && after > before && after - before >= RESERVE && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	free(probe);
}

/* Address space the process may still take before its limit: the ENOMEM a library hit. */
#define OOM_PROBE (16u << 20)

static void oom_abort(int sig)
{
	static const char msg[] = "kstall: out of memory: a library (libdw) aborted when an allocation "
				  "failed; this dump needs more memory than the process may have (ulimit -v)\n";
	void *m = mmap(NULL, OOM_PROBE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (m == MAP_FAILED) {
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)w;
		_exit(2);
	}
	munmap(m, OOM_PROBE);
	signal(sig, SIG_DFL);
	raise(sig);
}

void ks_heap_catch_oom_abort(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = oom_abort;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGABRT, &sa, NULL);
}
