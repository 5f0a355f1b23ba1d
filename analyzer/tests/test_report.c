/* Unit tests: the report's JSON keeps every task and event, whatever bytes the dump holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/report.h"

/* A comm the kernel cut at 15 bytes in the middle of the 8th "ä". */
#define CUT_COMM "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3"

static void test_text(void **state)
{
	json_t *j;

	(void)state;
	j = ks_json_text("stall_mutex_a");
	assert_string_equal(json_string_value(j), "stall_mutex_a");
	json_decref(j);
	/* each byte that is not UTF-8 becomes U+FFFD; valid sequences around it stay */
	j = ks_json_text(CUT_COMM);
	assert_string_equal(json_string_value(j), "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4"
						  "\xef\xbf\xbd");
	json_decref(j);
	j = ks_json_text("a\xff" "b\xc0\xbc");
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
}

/* Before, one such comm made json_pack fail and the task vanished from tasks[]. */
static void test_no_task_lost(void **state)
{
	struct ks_task tasks[2] = { { .pid = 1, .tgid = 1, .comm = "init", .state_char = 'S' },
				    { .pid = 2, .tgid = 2, .comm = CUT_COMM, .state_char = 'D' } };
	struct ks_stack stacks[2] = { 0 };
	struct ks_task_analysis ta[2] = { { .waits_on = -1, .activity = "sleeping" },
					  { .waits_on = -1, .activity = "uninterruptible sleep" } };
	char text[] = "INFO: task " CUT_COMM ":2 blocked for more than 30 seconds.";
	struct ks_event ev = { KS_EVENT_HUNG_TASK, 2, CUT_COMM, 1, 3.0, 5, text };
	struct ks_verdict v = { .kind = KS_VERDICT_NONE, .signature = "none" };
	struct ks_analysis a = { .tasks = { .tasks = tasks, .count = 2 }, .stacks = stacks, .ta = ta, .verdicts = &v,
				 .nverdicts = 1, .events = &ev, .nevents = 1 };
	json_t *root;
	const char *want = "\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\xef\xbf\xbd";

	(void)state;
	root = ks_report_json(&a);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "tasks")), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(root, "tasks"), 1), "comm")),
			    want);
	assert_int_equal(json_array_size(json_object_get(root, "events")), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(root, "events"), 0), "comm")),
			    want);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_no_task_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
