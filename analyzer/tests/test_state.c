/* Unit tests: the kernel's state-letter rule over task_state_array shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kstall/tasks.h"

static const char modern[] = "RSDTtXZPI"; /* 4.14 and later */
static const char old[] = "RSDTtZXxKWP";  /* 3.10 */

static void test_modern_basic(void **state)
{
	(void)state;
	assert_int_equal(ks_state_char(modern, 9, 0x0, 0), 'R');
	assert_int_equal(ks_state_char(modern, 9, 0x1, 0), 'S');
	assert_int_equal(ks_state_char(modern, 9, 0x2, 0), 'D');
	assert_int_equal(ks_state_char(modern, 9, 0x4, 0), 'T');
	assert_int_equal(ks_state_char(modern, 9, 0x8, 0), 't');
	assert_int_equal(ks_state_char(modern, 9, 0x40, 0), 'P');
}

static void test_modern_exit(void **state)
{
	(void)state;
	/* EXIT_ZOMBIE 0x20 and EXIT_DEAD 0x10 live in exit_state. */
	assert_int_equal(ks_state_char(modern, 9, 0x0, 0x20), 'Z');
	assert_int_equal(ks_state_char(modern, 9, 0x0, 0x10), 'X');
	/* TASK_DEAD (0x80) is outside TASK_REPORT and must not read as 'I'. */
	assert_int_equal(ks_state_char(modern, 9, 0x80, 0x20), 'Z');
}

static void test_modern_idle_and_friends(void **state)
{
	(void)state;
	/* TASK_IDLE = UNINTERRUPTIBLE | NOLOAD */
	assert_int_equal(ks_state_char(modern, 9, 0x402, 0), 'I');
	/* NOLOAD alone is not idle */
	assert_int_equal(ks_state_char(modern, 9, 0x401, 0), 'S');
	/* KILLABLE = WAKEKILL | UNINTERRUPTIBLE reads as D */
	assert_int_equal(ks_state_char(modern, 9, 0x102, 0), 'D');
	/* RTLOCK_WAIT and FROZEN report as D (6.1) */
	assert_int_equal(ks_state_char(modern, 9, 0x1000, 0), 'D');
	assert_int_equal(ks_state_char(modern, 9, 0x8000, 0), 'D');
}

static void test_old_shape(void **state)
{
	(void)state;
	assert_int_equal(ks_state_char(old, 11, 0x2, 0), 'D');
	assert_int_equal(ks_state_char(old, 11, 0x0, 16), 'Z');
	assert_int_equal(ks_state_char(old, 11, 0x0, 32), 'X');
}

static void test_no_array(void **state)
{
	(void)state;
	assert_int_equal(ks_state_char("", 0, 0x2, 0), '?');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_basic),
		cmocka_unit_test(test_modern_exit),
		cmocka_unit_test(test_modern_idle_and_friends),
		cmocka_unit_test(test_old_shape),
		cmocka_unit_test(test_no_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
