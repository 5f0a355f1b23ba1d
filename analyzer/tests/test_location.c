/* Unit tests: DWARF location expressions over a frame's registers and memory. */
#include <dwarf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dwarf/location.h"

static uint64_t memory_at = 0x1000, memory_value = 0xfeedface;

static bool read_u64(void *arg, uint64_t addr, uint64_t *ret)
{
	(void)arg;
	if (addr != memory_at)
		return false;
	*ret = memory_value;
	return true;
}

static uint64_t regs[17];

static struct ks_frame_ctx ctx(uint32_t valid)
{
	return (struct ks_frame_ctx){ .regs = regs, .regs_valid = valid, .cfa = 0x2000,
				      .have_cfa = true, .read_u64 = read_u64 };
}

static void test_register_value(void **state)
{
	Dwarf_Op ops[] = { { .atom = DW_OP_reg3 } }; /* rbx */
	struct ks_frame_ctx c = ctx(1u << 3);
	uint64_t v;
	bool is_value;
	const char *why;

	(void)state;
	regs[3] = 0xabc;
	assert_true(ks_location_eval(ops, 1, &c, 0, false, &v, &is_value, &why));
	assert_true(is_value);
	assert_int_equal(v, 0xabc);
	c.regs_valid = 0;
	assert_false(ks_location_eval(ops, 1, &c, 0, false, &v, &is_value, &why));
	assert_string_equal(why, "register not recovered");
}

static void test_fbreg_address(void **state)
{
	Dwarf_Op ops[] = { { .atom = DW_OP_fbreg, .number = (Dwarf_Word)-16 } };
	struct ks_frame_ctx c = ctx(0);
	uint64_t v;
	bool is_value;
	const char *why;

	(void)state;
	assert_true(ks_location_eval(ops, 1, &c, 0x3010, true, &v, &is_value, &why));
	assert_false(is_value);
	assert_int_equal(v, 0x3000);
	assert_false(ks_location_eval(ops, 1, &c, 0, false, &v, &is_value, &why));
}

static void test_breg_deref_stack_value(void **state)
{
	/* *(rsp + 8) + 4, as a value */
	Dwarf_Op ops[] = { { .atom = DW_OP_breg7, .number = 8 },
			   { .atom = DW_OP_deref },
			   { .atom = DW_OP_plus_uconst, .number = 4 },
			   { .atom = DW_OP_stack_value } };
	struct ks_frame_ctx c = ctx(1u << 7);
	uint64_t v;
	bool is_value;
	const char *why;

	(void)state;
	regs[7] = memory_at - 8;
	assert_true(ks_location_eval(ops, 4, &c, 0, false, &v, &is_value, &why));
	assert_true(is_value);
	assert_int_equal(v, memory_value + 4);
	regs[7] = 0; /* unreadable memory */
	assert_false(ks_location_eval(ops, 4, &c, 0, false, &v, &is_value, &why));
	assert_string_equal(why, "unreadable");
}

static void test_call_frame_cfa_and_entry_value(void **state)
{
	Dwarf_Op cfa[] = { { .atom = DW_OP_call_frame_cfa } };
	Dwarf_Op entry[] = { { .atom = DW_OP_entry_value }, { .atom = DW_OP_stack_value } };
	struct ks_frame_ctx c = ctx(0);
	uint64_t v;
	bool is_value;
	const char *why;

	(void)state;
	assert_true(ks_location_eval(cfa, 1, &c, 0, false, &v, &is_value, &why));
	assert_int_equal(v, 0x2000);
	assert_false(ks_location_eval(entry, 2, &c, 0, false, &v, &is_value, &why));
	assert_string_equal(why, "optimized out (entry value)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_value),
		cmocka_unit_test(test_fbreg_address),
		cmocka_unit_test(test_breg_deref_stack_value),
		cmocka_unit_test(test_call_frame_cfa_and_entry_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
