/* Unit tests: the read-ahead ring, with a page reader whose pages are known. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dump/readahead.h"

#define PAGE 4096u
#define N 1000u

struct fake {
	atomic_uint calls;
};

/* Page j is address (j + 1) * PAGE * 3, filled with its own address; every 7th cannot be read. */
static uint64_t addr_of(size_t j)
{
	return (uint64_t)(j + 1) * PAGE * 3;
}

static bool fails(uint64_t addr)
{
	return addr / (PAGE * 3) % 7 == 0;
}

static bool fake_read(void *reader, uint64_t addr, void *page)
{
	struct fake *f = reader;

	atomic_fetch_add(&f->calls, 1);
	if (fails(addr))
		return false;
	for (size_t o = 0; o < PAGE; o += 8)
		memcpy((unsigned char *)page + o, &addr, 8);
	return true;
}

static void check_page(const unsigned char *page, uint64_t addr)
{
	for (size_t o = 0; o < PAGE; o += 8) {
		uint64_t v;

		memcpy(&v, page + o, 8);
		assert_int_equal(v, addr);
	}
}

/* Take addr, giving the worker up to 2 s to get there. */
static bool take_waiting(struct ks_readahead *r, uint64_t addr, unsigned char *page)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (ks_readahead_take(r, addr, page))
			return true;
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 2000000000L);
	return false;
}

static void make_addrs(uint64_t *addrs)
{
	for (size_t j = 0; j < N; j++)
		addrs[j] = addr_of(j);
}

static void test_serves_every_readable_page(void **state)
{
	static uint64_t addrs[N];
	static unsigned char page[PAGE];
	struct fake f = { 0 };
	struct ks_readahead *r;
	uint64_t served = 0;

	(void)state;
	make_addrs(addrs);
	r = ks_readahead_start(fake_read, &f, PAGE, addrs, N);
	assert_non_null(r);
	for (size_t j = 0; j < N; j++) {
		ks_readahead_at(r, j);
		if (fails(addrs[j]))
			continue;
		assert_true(take_waiting(r, addrs[j], page));
		check_page(page, addrs[j]);
		served++;
		/* the worker reads in order: a failed page before this one is gone for good */
		if (j && fails(addrs[j - 1]))
			assert_false(ks_readahead_take(r, addrs[j - 1], page));
	}
	assert_int_equal(ks_readahead_taken(r), served);
	assert_true(served > N / 2);
	ks_readahead_stop(r);
}

static void test_window(void **state)
{
	static uint64_t addrs[N];
	static unsigned char page[PAGE];
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	struct fake f = { 0 };
	struct ks_readahead *r;
	size_t last = KS_READAHEAD_PAGES - 1;

	(void)state;
	make_addrs(addrs);
	while (fails(addrs[last]))
		last--;
	r = ks_readahead_start(fake_read, &f, PAGE, addrs, N);
	assert_non_null(r);
	/* Without a move of the caller, the worker stops at the window's end. */
	assert_true(take_waiting(r, addrs[last], page));
	nanosleep(&pause, NULL);
	assert_int_equal(atomic_load(&f.calls), KS_READAHEAD_PAGES);
	assert_false(ks_readahead_take(r, addrs[KS_READAHEAD_PAGES + 1], page));
	/* Pages behind the caller's position are not served, even when read. */
	ks_readahead_at(r, 10);
	assert_false(ks_readahead_take(r, addrs[1], page));
	/* Unknown addresses never are. */
	assert_false(ks_readahead_take(r, 12345, page));
	ks_readahead_stop(r);
}

static void test_jump_and_stop(void **state)
{
	static uint64_t addrs[N];
	static unsigned char page[PAGE];
	struct fake f = { 0 };
	struct ks_readahead *r;

	(void)state;
	make_addrs(addrs);
	r = ks_readahead_start(fake_read, &f, PAGE, addrs, N);
	assert_non_null(r);
	ks_readahead_at(r, N - 2);
	assert_false(fails(addrs[N - 2]));
	assert_true(take_waiting(r, addrs[N - 2], page));
	check_page(page, addrs[N - 2]);
	/* A worker blocked on a full window, and one that finished, both stop. */
	ks_readahead_stop(r);
	r = ks_readahead_start(fake_read, &f, PAGE, addrs, N);
	assert_non_null(r);
	ks_readahead_stop(r);
	ks_readahead_stop(NULL);
	assert_null(ks_readahead_start(fake_read, &f, PAGE, addrs, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serves_every_readable_page),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_jump_and_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
