/*
 * What a first touch of a page costs on this machine: writes one byte per 4 KiB
 * page of 20 MiB of fresh anonymous memory, (a) as it is, (b) after another
 * thread touched it, (c) advised MADV_HUGEPAGE. Not a test: docs/performance.md
 * says why kstall's heap is on huge pages.
 *   cc -O2 -pthread bench/faults.c -o /tmp/faults && /tmp/faults
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#define SIZE (20ul << 20)
#define HUGE (2ul << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *fresh(void)
{
	char *p = mmap(NULL, SIZE + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
}

static double touch(char *p)
{
	double t = now();

	for (size_t off = 0; off < SIZE; off += 4096)
		p[off] = 1;
	return (now() - t) * 1e3;
}

static void *other(void *p)
{
	touch(p);
	return NULL;
}

int main(void)
{
	char *a = fresh(), *b = fresh(), *c = fresh();
	pthread_t t;

	if (!a || !b || !c || pthread_create(&t, NULL, other, b) || pthread_join(t, NULL))
		return 1;
	madvise(c, SIZE, MADV_HUGEPAGE);
	printf("20 MiB, one write per 4 KiB page:\n");
	printf("  fresh:                      %6.1f ms\n", touch(a));
	printf("  touched by another thread:  %6.1f ms\n", touch(b));
	printf("  MADV_HUGEPAGE:              %6.1f ms\n", touch(c));
	return 0;
}
