/* Unit tests: gfp decoding, lock owner words, wait-for cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/analysis.h"

/* The shape of 6.1's gfpflag_names: composite names first, then single bits. */
static const struct ks_gfp_name names[] = {
	{ 0xcc0, "GFP_KERNEL" }, { 0xc40, "GFP_NOFS" }, { 0x800, "__GFP_KSWAPD_RECLAIM" },
	{ 0x400, "__GFP_DIRECT_RECLAIM" }, { 0x80, "__GFP_FS" }, { 0x40, "__GFP_IO" },
	{ 0x2000, "__GFP_NOWARN" }, { 0x8000, "__GFP_NOFAIL" },
};

static void test_gfp_decode(void **state)
{
	char buf[128];
	size_t n = sizeof(names) / sizeof(names[0]);

	(void)state;
	ks_gfp_decode(names, n, 0xcc0, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_KERNEL");
	ks_gfp_decode(names, n, 0xc40 | 0x2000, buf, sizeof(buf));
	assert_string_equal(buf, "GFP_NOFS|__GFP_NOWARN");
	ks_gfp_decode(names, n, 0x8000 | 0x100000, buf, sizeof(buf));
	assert_string_equal(buf, "__GFP_NOFAIL|0x100000");
	ks_gfp_decode(names, n, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	ks_gfp_decode(names, n, 0xcc0, buf, 4); /* truncated, still terminated */
	assert_int_equal(strlen(buf), 3);
}

static void test_owner_bits(void **state)
{
	(void)state;
	assert_int_equal(ks_lock_owner_task(0xffff888000bc4000ull | 0x1), 0xffff888000bc4000ull);
	assert_int_equal(ks_lock_owner_task(0xffff888000bc4000ull | 0x7), 0xffff888000bc4000ull);
	assert_int_equal(ks_lock_owner_task(0), 0);
}

static void test_cycles(void **state)
{
	/* 0 -> 1 -> 2 -> 1 (cycle of 1, 2); 3 -> 0; 4 alone; 5 -> 5 */
	long next[] = { 1, 2, 1, 0, -1, 5 };
	bool cyc[6];

	(void)state;
	assert_int_equal(ks_find_cycles(next, 6, cyc), 3);
	assert_false(cyc[0]);
	assert_true(cyc[1]);
	assert_true(cyc[2]);
	assert_false(cyc[3]);
	assert_false(cyc[4]);
	assert_true(cyc[5]);
}

static void test_no_cycles(void **state)
{
	long next[] = { 1, 2, -1, 2 };
	bool cyc[4];

	(void)state;
	assert_int_equal(ks_find_cycles(next, 4, cyc), 0);
	assert_int_equal(ks_find_cycles(next, 0, cyc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gfp_decode),
		cmocka_unit_test(test_owner_bits),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_no_cycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
