/* Unit tests: terminal-safe text (base/term.h), the escaped form and the printf around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/term.h"
#include "kstall/error.h"

/* What ks_term_printf printed, as a new string. */
static char *printed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printed(const char *fmt, ...)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	va_list ap;

	assert_non_null(f);
	va_start(ap, fmt);
	ks_term_vprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void assert_printed(const char *want, char *got)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_escape(void **state)
{
	/* the hostile comms of the terminal test: an OSC title, an SGR, a C1 CSI, bad UTF-8, DEL */
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07" },
		{ "\x1b[31mred", "\\x1b[31mred" },
		{ "a\xc2\x9b" "31m", "a\\xc2\\x9b31m" },
		{ "bad\xff", "bad\\xff" },
		{ "del\x7f", "del\\x7f" },
		{ "back\\slash", "back\\slash" },
		{ "tab\tnl\ncr\r", "tab\\x09nl\\x0acr\\x0d" },
		/* valid UTF-8 is kept: U+00A0 is the first character past the C1 controls */
		{ "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* overlongs, surrogates and cut sequences are bytes */
		{ "\xc0\xaf", "\\xc0\\xaf" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },
		{ "\xe2\x82", "\\xe2\\x82" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = ks_term_escape(cases[i].in, SIZE_MAX / 2, buf, sizeof(buf));

		assert_string_equal(buf, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
	/* cut before an escape that does not fit whole; the length is still the whole */
	assert_int_equal(ks_term_escape("ab\x1b", SIZE_MAX / 2, buf, 5), 6);
	assert_string_equal(buf, "ab");
	assert_int_equal(ks_term_escape("ab\x1b", SIZE_MAX / 2, buf, 7), 6);
	assert_string_equal(buf, "ab\\x1b");
	/* max counts source bytes: a character it cuts is bytes */
	assert_int_equal(ks_term_escape("\xc3\xa9xyz", 1, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "\\xc3");
	assert_int_equal(ks_term_escape("abc", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(ks_term_width("abc"), 3);
	assert_int_equal(ks_term_width("\x1b[31m"), 8);
	assert_int_equal(ks_term_width("caf\xc3\xa9"), 4);
	assert_int_equal(ks_term_width("\xc2\x9b"), 8);
}

static void test_printf(void **state)
{
	(void)state;
	/* the format is printed as it is, the arguments escaped */
	assert_printed("\t[x]\\x1bq\n", printed("\t[%s]%s\n", "x", "\x1bq"));
	/* widths count the columns of the escaped form: a table stays aligned */
	assert_printed("|\\x1bq   |", printed("|%-8s|", "\x1bq"));
	assert_printed("|   \\x1bq|", printed("|%8s|", "\x1bq"));
	assert_printed("|caf\xc3\xa9    |", printed("|%-8s|", "caf\xc3\xa9"));
	assert_printed("|ab   |", printed("|%-*s|", 5, "ab"));
	assert_printed("|ab   |", printed("|%*s|", -5, "ab"));
	/* precision counts source bytes, as printf's */
	assert_printed("[\\x07b]", printed("[%.2s]", "\x07" "bc"));
	assert_printed("[ab]", printed("[%.*s]", 2, "abc"));
	/* %c is a string of one byte */
	assert_printed("R \\x1b \\x00", printed("%c %c %c", 'R', 0x1b, 0));
	/* every other conversion as printf prints it */
	assert_printed("  42|-7|0x00ff|3.14|18446744073709551615|%|12|ab  |-5",
		       printed("%4d|%ld|0x%04x|%.2f|%llu|%%|%zu|%-4s|%hhd", 42, -7L, 255u, 3.14159,
			       (unsigned long long)UINT64_MAX, (size_t)12, "ab", (signed char)-5));
	assert_printed("00:01:02 +5 1e+06", printed("%02d:%02u:%02llu %+d %g", 0, 1u, 2ull, 5, 1e6));
}

/* Problem lines go to a terminal too: their dump strings escaped. */
static void test_problems(void **state)
{
	struct ks_problems p = { 0 };
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	assert_non_null(f);
	ks_problems_add(&p, KS_ERR_BAD_DATA, 0, 0, "stack of pid %d (%s) incomplete", 42, "\x1b]0;x\x07");
	ks_problems_print(f, &p);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(out, "stack of pid 42 (\\x1b]0;x\\x07) incomplete\n");
	free(out);
	ks_problems_deinit(&p);
}

/* JSON: DEL and the C1 controls as \u escapes, as jansson writes the C0 ones; other characters raw. */
static void test_json(void **state)
{
	json_t *j = json_pack("{s:s}", "c", "\x1b[1m \xc2\x9b" "31m del\x7f caf\xc3\xa9 \xc2\xa0 \xc2\x80\xc2\x9f");
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	assert_non_null(j);
	assert_non_null(f);
	assert_int_equal(ks_term_json_dumpf(j, f, JSON_COMPACT), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(out, "{\"c\":\"\\u001B[1m \\u009B31m del\\u007F caf\xc3\xa9 \xc2\xa0 \\u0080\\u009F\"}");
	free(out);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
