/* Unit tests: the problem list (codes, tasks, addresses kept; lines printed in order) and quiet errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/error.h"

static void test_problems(void **state)
{
	struct ks_problems p = { 0 }, q = { 0 };
	struct ks_error *err = ks_error_fault(KS_ERR_NODATA, 0x1000, "page at 0x1000 is not in the dump");
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 20; i++)
		ks_problems_add(&p, KS_ERR_BAD_DATA, 0xffff8880, 0, "line %d", i);
	ks_problems_add_error(&p, err, 0, "saved switch frame");
	assert_int_equal(p.count, 21);
	assert_int_equal(p.items[0].code, KS_ERR_BAD_DATA);
	assert_int_equal(p.items[0].task, 0xffff8880);
	assert_string_equal(p.items[19].text, "line 19");
	/* an error keeps its code and address, its message after the prefix */
	assert_int_equal(p.items[20].code, KS_ERR_NODATA);
	assert_int_equal(p.items[20].address, 0x1000);
	assert_string_equal(p.items[20].text, "saved switch frame: page at 0x1000 is not in the dump");
	ks_problems_append(&q, &p);
	assert_int_equal(q.count, 21);
	assert_ptr_not_equal(q.items[3].text, p.items[3].text);
	ks_problems_print(f, &q);
	assert_int_equal(fclose(f), 0);
	assert_true(!strncmp(out, "line 0\nline 1\n", 14));
	assert_non_null(strstr(out, "line 19\nsaved switch frame: page at 0x1000 is not in the dump\n"));
	free(out);
	ks_problems_deinit(&p);
	ks_problems_deinit(&q);
	assert_int_equal(p.count, 0);
	assert_null(p.items);
	ks_error_destroy(err);
}

/* A quiet error is one static object per code: its code right, destroying it a no-op (ASan would see a bad free). */
static void test_quiet(void **state)
{
	struct ks_error *a = ks_error_quiet(KS_ERR_NODATA), *b = ks_error_quiet(KS_ERR_NODATA);

	(void)state;
	assert_ptr_equal(a, b);
	assert_int_equal(a->code, KS_ERR_NODATA);
	assert_string_equal(a->message, "nodata");
	assert_int_equal(ks_error_quiet(KS_ERR_FAULT)->code, KS_ERR_FAULT);
	/* out of range falls back to FAULT rather than reading past the table */
	assert_int_equal(ks_error_quiet((enum ks_error_code)999)->code, KS_ERR_FAULT);
	ks_error_destroy(a);
	ks_error_destroy(b);
	assert_int_equal(ks_error_quiet(KS_ERR_NODATA)->code, KS_ERR_NODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
