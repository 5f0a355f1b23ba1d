/* Unit tests: ORC entry decoding and lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/unwind.h"

/* 6.1 (type:2 signal:1 end:1), 5.10 (type:2 end:1) and 6.4+ (type:3 signal:1), as DWARF gives them */
static struct ks_orc_format v61 = { 32, 36, 40, 2, 43, { 0 } };
static struct ks_orc_format v510 = { 32, 36, 40, 2, 42, { 0 } };
static struct ks_orc_format v64 = { 32, 36, 40, 3, -1, { 0 } };

/* The register numbering before 7.x, as ks_orc_guess_numbering finds it on those kernels. */
static int setup(void **state)
{
	(void)state;
	ks_orc_set_numbering(&v61, KS_ORC_NUMBERING_V1);
	ks_orc_set_numbering(&v510, KS_ORC_NUMBERING_V1);
	ks_orc_set_numbering(&v64, KS_ORC_NUMBERING_V1);
	return 0;
}

static void encode(unsigned char *raw, int16_t sp_off, int16_t bp_off, unsigned sp_reg,
		   unsigned bp_reg, unsigned last_byte)
{
	raw[0] = (unsigned char)(sp_off & 0xff);
	raw[1] = (unsigned char)((uint16_t)sp_off >> 8);
	raw[2] = (unsigned char)(bp_off & 0xff);
	raw[3] = (unsigned char)((uint16_t)bp_off >> 8);
	raw[4] = (unsigned char)(sp_reg | bp_reg << 4);
	raw[5] = (unsigned char)last_byte;
}

static void test_decode(void **state)
{
	unsigned char raw[6];
	struct ks_orc_entry e;

	(void)state;
	encode(raw, 16, -16, 4 /* BP */, 1 /* PREV_SP */, 0);
	ks_orc_decode(&v61, raw, &e);
	assert_int_equal(e.sp_offset, 16);
	assert_int_equal(e.bp_offset, -16);
	assert_int_equal(e.sp_reg, KS_ORC_REG_BP);
	assert_int_equal(e.bp_reg, KS_ORC_REG_PREV_SP);
	assert_int_equal(e.raw_sp_reg, 4);
	assert_int_equal(e.type, KS_ORC_CALL);
	encode(raw, -32768, 32767, 5, 0, 2);
	ks_orc_decode(&v61, raw, &e);
	assert_int_equal(e.sp_offset, -32768);
	assert_int_equal(e.bp_offset, 32767);
	assert_int_equal(e.type, KS_ORC_REGS_PARTIAL);
}

/* The same byte means different things before and after 6.4. */
static void test_formats(void **state)
{
	unsigned char raw[6];
	struct ks_orc_entry e;

	(void)state;
	/* a kernel thread's first frame: undefined sp and 'end' (bit 43 on 6.1, 42 on 5.10) */
	encode(raw, 0, 0, 0, 0, 1u << 3);
	ks_orc_decode(&v61, raw, &e);
	assert_int_equal(e.type, KS_ORC_END_OF_STACK);
	ks_orc_decode(&v510, raw, &e);
	assert_int_equal(e.type, KS_ORC_UNDEFINED);
	encode(raw, 0, 0, 0, 0, 1u << 2);
	ks_orc_decode(&v510, raw, &e);
	assert_int_equal(e.type, KS_ORC_END_OF_STACK);
	/* 6.4+: the type says it, 1 END_OF_STACK, 2 CALL, 3 REGS, 4 REGS_PARTIAL */
	encode(raw, 0, 0, 0, 0, 1);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_END_OF_STACK);
	encode(raw, 8, 0, 5, 0, 1);
	ks_orc_decode(&v61, raw, &e);
	assert_int_equal(e.type, KS_ORC_REGS);
	encode(raw, 8, 0, 5, 0, 3);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_REGS);
	assert_int_equal(e.raw_type, 3);
	encode(raw, 8, 0, 5, 0, 2);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_CALL);
	encode(raw, 8, 0, 5, 0, 4 | 8 /* signal */);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_REGS_PARTIAL);
	encode(raw, 8, 0, 5, 0, 6);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_UNKNOWN);
	assert_int_equal(e.raw_type, 6);
	encode(raw, 8, 0, 5, 0, 3);
	ks_orc_decode(&v61, raw, &e);
	assert_int_equal(e.type, KS_ORC_UNKNOWN);
	encode(raw, 0, 0, 0, 0, 0);
	ks_orc_decode(&v64, raw, &e);
	assert_int_equal(e.type, KS_ORC_UNDEFINED);
}

static void test_find(void **state)
{
	uint64_t ips[] = { 0x1000, 0x1010, 0x1040 };
	unsigned char entries[3 * 6];
	struct ks_orc_table t = { .ips = ips, .entries = entries, .count = 3 };
	struct ks_orc_entry e;

	(void)state;
	for (int i = 0; i < 3; i++)
		encode(entries + 6 * i, (int16_t)(8 * (i + 1)), 0, 5, 0, 0);
	assert_false(ks_orc_find(&t, &v61, 0xfff, &e));
	assert_true(ks_orc_find(&t, &v61, 0x1000, &e));
	assert_int_equal(e.sp_offset, 8);
	assert_true(ks_orc_find(&t, &v61, 0x100f, &e));
	assert_int_equal(e.sp_offset, 8);
	assert_true(ks_orc_find(&t, &v61, 0x1010, &e));
	assert_int_equal(e.sp_offset, 16);
	assert_true(ks_orc_find(&t, &v61, 0x2000, &e));
	assert_int_equal(e.sp_offset, 24);
}

/*
 * The same table in both numberings: most frames are found from SP and save
 * BP at PREV_SP - 16; 7.x numbers SP 3 and PREV_SP 8 where 4.14-7.0 had 5 and 1.
 */
static void fill(unsigned char *entries, size_t n, unsigned sp, unsigned prev_sp, unsigned bp,
		 unsigned di)
{
	for (size_t i = 0; i < n; i++) {
		if (i % 10 == 9)
			encode(entries + 6 * i, 16, -16, bp, prev_sp, 3 << 0); /* a frame-pointer frame */
		else if (i % 50 == 7)
			encode(entries + 6 * i, 0, 0, di, 0, 3 << 0); /* entry code's odd one */
		else
			encode(entries + 6 * i, (int16_t)(8 * (i % 7 + 1)), (int16_t)(i % 3 ? -16 : 0), sp,
			       i % 3 ? prev_sp : 0, 2 /* CALL in 6.4+ */);
	}
}

static void test_numbering(void **state)
{
	enum { N = 1000 };
	static unsigned char entries[N * 6];
	struct ks_orc_table t = { .entries = entries, .count = N };
	struct ks_orc_format f = v64;
	enum ks_orc_numbering n;
	struct ks_orc_entry e;

	(void)state;
	fill(entries, N, 5, 1, 4, 3);
	assert_true(ks_orc_guess_numbering(&t, &f, &n));
	assert_int_equal(n, KS_ORC_NUMBERING_V1);
	fill(entries, N, 3, 8, 4, 5);
	assert_true(ks_orc_guess_numbering(&t, &f, &n));
	assert_int_equal(n, KS_ORC_NUMBERING_V2);
	ks_orc_set_numbering(&f, n);
	ks_orc_decode(&f, entries, &e);
	assert_int_equal(e.sp_reg, KS_ORC_REG_SP);
	assert_int_equal(e.bp_reg, KS_ORC_REG_UNDEFINED);
	ks_orc_decode(&f, entries + 6, &e);
	assert_int_equal(e.bp_reg, KS_ORC_REG_PREV_SP);
	encode(entries, 0, 0, 1, 0, 2);
	ks_orc_decode(&f, entries, &e);
	assert_int_equal(e.sp_reg, KS_ORC_REG_AX);
	encode(entries, 0, 0, 12, 0, 2);
	ks_orc_decode(&f, entries, &e);
	assert_int_equal(e.sp_reg, KS_ORC_REG_UNKNOWN);
	assert_int_equal(e.raw_sp_reg, 12);
	/* SP's number in one numbering, PREV_SP's in the other: neither */
	fill(entries, N, 5, 8, 4, 3);
	assert_false(ks_orc_guess_numbering(&t, &f, &n));
	t.count = 0;
	assert_false(ks_orc_guess_numbering(&t, &f, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_numbering),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
