/* Unit tests: ORC entry decoding and lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/unwind.h"

static void encode(unsigned char *raw, int16_t sp_off, int16_t bp_off, unsigned sp_reg,
		   unsigned bp_reg, unsigned type, unsigned end)
{
	raw[0] = (unsigned char)(sp_off & 0xff);
	raw[1] = (unsigned char)((uint16_t)sp_off >> 8);
	raw[2] = (unsigned char)(bp_off & 0xff);
	raw[3] = (unsigned char)((uint16_t)bp_off >> 8);
	raw[4] = (unsigned char)(sp_reg | bp_reg << 4);
	raw[5] = (unsigned char)(type | end << 2);
}

static void test_decode(void **state)
{
	unsigned char raw[6];
	struct ks_orc_entry e;

	(void)state;
	encode(raw, 16, -16, 4 /* BP */, 1 /* PREV_SP */, 0, 0);
	ks_orc_decode(raw, &e);
	assert_int_equal(e.sp_offset, 16);
	assert_int_equal(e.bp_offset, -16);
	assert_int_equal(e.sp_reg, 4);
	assert_int_equal(e.bp_reg, 1);
	assert_int_equal(e.type, 0);
	assert_false(e.end);
	encode(raw, -32768, 32767, 5, 0, 2, 1);
	ks_orc_decode(raw, &e);
	assert_int_equal(e.sp_offset, -32768);
	assert_int_equal(e.bp_offset, 32767);
	assert_int_equal(e.type, 2);
	assert_true(e.end);
}

static void test_find(void **state)
{
	uint64_t ips[] = { 0x1000, 0x1010, 0x1040 };
	unsigned char entries[3 * 6];
	struct ks_orc_table t = { .ips = ips, .entries = entries, .count = 3 };
	struct ks_orc_entry e;

	(void)state;
	for (int i = 0; i < 3; i++)
		encode(entries + 6 * i, (int16_t)(8 * (i + 1)), 0, 5, 0, 0, 0);
	assert_false(ks_orc_find(&t, 0xfff, &e));
	assert_true(ks_orc_find(&t, 0x1000, &e));
	assert_int_equal(e.sp_offset, 8);
	assert_true(ks_orc_find(&t, 0x100f, &e));
	assert_int_equal(e.sp_offset, 8);
	assert_true(ks_orc_find(&t, 0x1010, &e));
	assert_int_equal(e.sp_offset, 16);
	assert_true(ks_orc_find(&t, 0x2000, &e));
	assert_int_equal(e.sp_offset, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
