/*
 * Unit tests: the one escaping function every dump string of the HTML report goes
 * through, the pages it writes, and the placement of labels that must not overlap.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/hashmap.h"
#include "render/html.h"

/* The escaped form of s, in a buffer the test frees. */
static char *escaped(const char *s, size_t max_chars)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	ks_html_escape(f, s, max_chars);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void check(const char *s, size_t max_chars, const char *want)
{
	char *got = escaped(s, max_chars);

	assert_string_equal(got, want);
	free(got);
}

static void test_markup_is_inert(void **state)
{
	(void)state;
	/* the comm of the escaping fixture */
	check("<b>x</b><img>", SIZE_MAX, "&lt;b&gt;x&lt;/b&gt;&lt;img&gt;");
	/* attribute context: neither quote can end a quoted value */
	check("\" onmouseover='alert(1)'", SIZE_MAX, "&quot; onmouseover=&#39;alert(1)&#39;");
	check("a&amp;b", SIZE_MAX, "a&amp;amp;b");
	check("</script><script>", SIZE_MAX, "&lt;/script&gt;&lt;script&gt;");
	check("", SIZE_MAX, "");
	check("stall_mutex_a", SIZE_MAX, "stall_mutex_a");
}

static void test_bytes_that_are_not_text(void **state)
{
	(void)state;
	/* control characters and bytes that are not UTF-8 become U+FFFD, one each */
	check("a\x01" "b\x7f", SIZE_MAX, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	check("\xff\xfe", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd");
	/* an overlong '<' must not sneak through as markup */
	check("\xc0\xbc", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd");
	/* a UTF-16 surrogate encoded in UTF-8 is not valid UTF-8 */
	check("\xed\xa0\x80", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* a sequence cut by the end of the string */
	check("x\xe2\x80", SIZE_MAX, "x\xef\xbf\xbd\xef\xbf\xbd");
	/* valid UTF-8, tabs and newlines pass */
	check("k\xc3\xa4se\t\xe2\x82\xac\n\xf0\x9f\x90\xa7", SIZE_MAX,
	      "k\xc3\xa4se\t\xe2\x82\xac\n\xf0\x9f\x90\xa7");
}

static void test_truncation(void **state)
{
	(void)state;
	/* counted in characters, never cutting a UTF-8 sequence or an entity */
	check("abcdef", 3, "abc\xe2\x80\xa6");
	check("abc", 3, "abc");
	check("\xc3\xa4\xc3\xb6\xc3\xbc", 2, "\xc3\xa4\xc3\xb6\xe2\x80\xa6");
	check("<<<<", 2, "&lt;&lt;\xe2\x80\xa6");
	check("abc", 0, "\xe2\x80\xa6");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* 2000 tasks on one mutex: the pictures summarize, the table lists all. */
static void test_2000_waiters(void **state)
{
	enum { N = 2000 };
	struct ks_task *tasks = calloc(N, sizeof(*tasks));
	struct ks_stack *stacks = calloc(N, sizeof(*stacks));
	struct ks_task_analysis *ta = calloc(N, sizeof(*ta));
	struct ks_lock lock = { .address = 0xffffffff81000000ull, .type = KS_LOCK_MUTEX, .name = "big_mutex",
				.owner = 0, .nwaiters = N - 1 };
	struct ks_verdict v = { .kind = KS_VERDICT_LOCK_CHAIN_HANG, .score = 0.5, .pids = { 1 }, .npids = 1,
				.locks = { 0 }, .nlocks = 1, .summary = "1999 tasks wait", .signature = "x" };
	struct ks_analysis a = { .stacks = stacks, .ta = ta, .locks = &lock, .nlocks = 1, .verdicts = &v,
				 .nverdicts = 1, .hz = 250 };
	char *html = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&html, &size);
	long height = 0;

	(void)state;
	assert_non_null(tasks);
	assert_non_null(stacks);
	assert_non_null(ta);
	assert_non_null(f);
	for (int i = 0; i < N; i++) {
		tasks[i].pid = tasks[i].tgid = i + 1;
		snprintf(tasks[i].comm, sizeof(tasks[i].comm), "w<%d>", i);
		tasks[i].state_char = i ? 'D' : 'R';
		ta[i].waits_on = i ? 0 : -1;
		ta[i].stall = (struct ks_stall){ KS_STALL_SCHED_INFO, 10 + i % 50, false, 5, 10 + i % 50 };
		ta[i].activity = i ? "waiting for mutex big_mutex" : "running";
	}
	a.tasks = (struct ks_tasks){ .tasks = tasks, .count = N };
	assert_int_equal(ks_report_html(f, &a), 0);
	assert_int_equal(fclose(f), 0);

	/* the owner and the 5 waiters drawn, the rest one node */
	assert_int_equal(count(html, "<g class=\"node task"), 6);
	assert_non_null(strstr(html, "+1994 more waiters"));
	assert_int_equal(sscanf(strstr(html, "<svg id=\"waitfor-graph\""),
				"<svg id=\"waitfor-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%*d\" "
				"height=\"%ld\"",
				&height),
			 1);
	assert_true(height > 0 && height < 600);
	/* the longest stalls drawn, and said so */
	assert_int_equal(count(html, "<g class=\"bar "), 150);
	assert_non_null(strstr(html, "The 150 longest stalls are drawn; 1849 more"));
	/* every task in the table, each comm escaped */
	assert_int_equal(count(html, "<tr id=\"task-"), N);
	assert_null(strstr(html, "w<1>"));
	assert_non_null(strstr(html, "w&lt;1999&gt;"));
	free(html);
	free(tasks);
	free(stacks);
	free(ta);
}

/* Dump strings in events stay text; a live task is linked, a gone one is not; each dated kill is a tick. */
static void test_events(void **state)
{
	struct ks_task tasks[2] = { { .pid = 7, .tgid = 7, .comm = "<i>v</i>", .state_char = 'D' },
				    { .pid = 8, .tgid = 8, .comm = "holder", .state_char = 'R' } };
	struct ks_stack stacks[2] = { 0 };
	struct ks_task_analysis ta[2] = {
		{ .waits_on = -1, .stall = { KS_STALL_SCHED_INFO, 60, false, 30, 60 }, .activity = "asleep" },
		{ .waits_on = -1, .activity = "running" },
	};
	char kill_text[] = "Out of memory: Killed process 7 (<i>v</i>) <script>alert(1)</script>";
	char gone_text[] = "Out of memory: Killed process 99 (a\"b) total-vm:1kB";
	char old_text[] = "INFO: task holder:8 blocked for more than 30 seconds.";
	struct ks_event events[3] = {
		{ KS_EVENT_OOM_KILL, 99, "a\"b", -1, 500, 10, gone_text },
		{ KS_EVENT_OOM_KILL, 7, "<i>v</i>", 0, 45.5, 11, kill_text },
		{ KS_EVENT_HUNG_TASK, 8, "holder", 1, -1, 12, old_text },
	};
	struct ks_verdict v = { .kind = KS_VERDICT_NONE, .signature = "none" };
	struct ks_analysis a = { .tasks = { .tasks = tasks, .count = 2 }, .stacks = stacks, .ta = ta, .verdicts = &v,
				 .nverdicts = 1, .events = events, .nevents = 3 };
	char *html = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&html, &size);

	(void)state;
	assert_non_null(f);
	a.log_known = true; /* read, and empty */
	assert_int_equal(ks_report_html(f, &a), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(count(html, "<tr id=\"event-"), 3);
	assert_null(strstr(html, "<script>alert"));
	assert_null(strstr(html, "<i>v</i>"));
	assert_non_null(strstr(html, "(&lt;i&gt;v&lt;/i&gt;) &lt;script&gt;alert(1)&lt;/script&gt;</td>"));
	/* the live victim links to its row; pid 99 is gone, its comm text only */
	assert_non_null(strstr(html, "data-pid=\"7\"><td class=\"num\">45.5 s</td>"));
	assert_non_null(strstr(html, "<a href=\"#task-7\">&lt;i&gt;v&lt;/i&gt; (7)</a>"));
	assert_non_null(strstr(html, "a&quot;b (99) <span class=\"muted\">no task with this pid and name"));
	assert_non_null(strstr(html, "data-pid=\"8\"><td class=\"num\">?</td>"));
	/* the kill 45.5 s before the crash falls on the 60 s axis; the one 500 s before does not */
	assert_int_equal(count(html, "<g class=\"kill\""), 1);
	assert_non_null(strstr(html, "<g class=\"kill\" data-pid=\"7\"><title>OOM kill of &lt;i&gt;v&lt;/i&gt;"));
	assert_non_null(strstr(html, "<a href=\"#event-11\">"));
	assert_non_null(strstr(html, "1 OOM kill of the log lies outside this axis"));
	free(html);
}

/* More events than the table shows: the newest are rows, and a tick links only to a row that exists. */
static void test_many_events(void **state)
{
	enum { N = 600 };
	struct ks_task task = { .pid = 7, .tgid = 7, .comm = "victim", .state_char = 'D' };
	struct ks_stack stack = { 0 };
	struct ks_task_analysis ta = { .waits_on = -1, .stall = { KS_STALL_SCHED_INFO, 60, false, 30, 60 },
				       .activity = "asleep" };
	struct ks_event *events = calloc(N, sizeof(*events));
	char kill[] = "Out of memory: Killed process 7 (victim)", hung[] = "INFO: task victim:7 blocked";
	struct ks_verdict v = { .kind = KS_VERDICT_NONE, .signature = "none" };
	struct ks_analysis a = { .tasks = { .tasks = &task, .count = 1 }, .stacks = &stack, .ta = &ta, .verdicts = &v,
				 .nverdicts = 1, .events = events, .nevents = N };
	char *html = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&html, &size);

	(void)state;
	assert_non_null(events);
	assert_non_null(f);
	for (int e = 0; e < N; e++)
		events[e] = (struct ks_event){ e == 0 || e == N - 1 ? KS_EVENT_OOM_KILL : KS_EVENT_HUNG_TASK,
					       7, "victim", 0, 50.0 - e * 0.05, (uint64_t)e, e % (N - 1) ? hung : kill };
	a.log_known = true; /* read, and empty */
	assert_int_equal(ks_report_html(f, &a), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(count(html, "<tr id=\"event-"), 500);
	assert_null(strstr(html, "<tr id=\"event-99\""));
	assert_non_null(strstr(html, "<tr id=\"event-100\""));
	assert_non_null(strstr(html, "100 older events are left out"));
	/* both kills are ticks; only the newest has a row to link to */
	assert_int_equal(count(html, "<g class=\"kill\""), 2);
	assert_null(strstr(html, "href=\"#event-0\""));
	assert_non_null(strstr(html, "<a href=\"#event-599\"><path"));
	free(html);
	free(events);
}

/* No two labels of a lane overlap (with the gap between them), and each keeps the promises of html.h. */
static void check_placed(const struct ks_html_label *l, size_t n, unsigned lanes, double lo, double hi, double gap,
			 double max_shift)
{
	for (size_t i = 0; i < n; i++) {
		double want = isnan(l[i].x) ? lo : fmax(lo, fmin(l[i].x - l[i].width / 2, hi - l[i].width));

		assert_true(l[i].lane < lanes);
		assert_true(l[i].left >= lo && l[i].left + l[i].width <= hi);
		assert_true(l[i].left >= want - 1e-9);
		/* pushed right of where it wants to be by at most max_shift */
		assert_true(l[i].left - want <= max_shift + 1e-9);
		for (size_t j = 0; j < n; j++)
			if (j != i && l[j].lane == l[i].lane)
				assert_true(l[j].left >= l[i].left + l[i].width + gap - 1e-9 ||
					    l[i].left >= l[j].left + l[j].width + gap - 1e-9);
	}
}

/* The zone watermarks of the lean fixtures: min, low and high within a pixel of each other. */
static void test_labels_side_by_side(void **state)
{
	struct ks_html_label l[3] = { { .x = 152.2, .width = 22.5 }, { .x = 152.8, .width = 22.5 },
				      { .x = 153.3, .width = 30 } };

	(void)state;
	assert_int_equal(ks_html_place_labels(l, 3, 2, 878, 4, 64), 1);
	check_placed(l, 3, 1, 2, 878, 4, 64);
	/* in the order of their values, the first centred on its point */
	assert_true(fabs(l[0].left - (152.2 - 11.25)) < 1e-9);
	assert_true(fabs(l[1].left - (l[0].left + 22.5 + 4)) < 1e-9);
	assert_true(fabs(l[2].left - (l[1].left + 22.5 + 4)) < 1e-9);
	/* far apart, nobody moves */
	l[0].x = 200, l[1].x = 400, l[2].x = 600;
	assert_int_equal(ks_html_place_labels(l, 3, 2, 878, 4, 64), 1);
	assert_true(fabs(l[1].left - (400 - 11.25)) < 1e-9 && fabs(l[2].left - 585) < 1e-9);
	/* given in another order, the same places */
	struct ks_html_label r[3] = { l[2], l[0], l[1] };

	assert_int_equal(ks_html_place_labels(r, 3, 2, 878, 4, 64), 1);
	assert_true(r[0].left == l[2].left && r[1].left == l[0].left && r[2].left == l[1].left);
}

/* At the right edge there is no room to push: the crowd goes down a lane each, inside the picture. */
static void test_labels_at_the_edge(void **state)
{
	struct ks_html_label l[3] = { { .x = 877, .width = 22.5 }, { .x = 878, .width = 22.5 },
				      { .x = 2000, .width = 30 } };

	(void)state;
	assert_int_equal(ks_html_place_labels(l, 3, 2, 878, 4, 64), 3);
	check_placed(l, 3, 3, 2, 878, 4, 64);
	/* and a point that is not a number goes to the left edge */
	l[0].x = NAN;
	assert_int_equal(ks_html_place_labels(l, 3, 2, 878, 4, 64), 2);
	check_placed(l, 3, 2, 2, 878, 4, 64);
	assert_true(l[0].left == 2);
	assert_int_equal(ks_html_place_labels(l, 0, 2, 878, 4, 64), 0);
}

/* Any points, any widths: never an overlap, always the same answer. */
static void test_labels_any_values(void **state)
{
	uint64_t seed = 42;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct ks_html_label l[16], again[16];
		size_t n = 1 + round % 16;
		unsigned lanes;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* clusters as well as spread points: a few distinct x, some off the picture */
			l[i].x = (double)((seed >> 33) % (round % 3 ? 40 : 1000)) - 50 + (round % 3 == 1 ? 800 : 0);
			l[i].width = 10 + (double)((seed >> 20) % 40);
		}
		memcpy(again, l, sizeof(l));
		lanes = ks_html_place_labels(l, n, 2, 878, 4, 64);
		assert_true(lanes >= 1 && lanes <= n);
		check_placed(l, n, lanes, 2, 878, 4, 64);
		assert_int_equal(ks_html_place_labels(again, n, 2, 878, 4, 64), lanes);
		for (size_t i = 0; i < n; i++)
			assert_true(again[i].left == l[i].left && again[i].lane == l[i].lane);
	}
}

/* The x of the watermark label named name in the page's zone picture. */
static double label_x(const char *html, const char *name)
{
	char needle[64];
	const char *p;
	double x = -1;

	snprintf(needle, sizeof(needle), "\">%s</text>", name);
	p = strstr(html, needle);
	assert_non_null(p);
	while (p > html && strncmp(p, "<text class=\"sub wm\" x=\"", 24))
		p--;
	assert_int_equal(sscanf(p, "<text class=\"sub wm\" x=\"%lf\"", &x), 1);
	return x;
}

/* A zone far above its watermarks draws them a pixel apart; their labels still read min, low, high. */
static void test_zone_labels(void **state)
{
	struct ks_task task = { .pid = 1, .tgid = 1, .comm = "init", .state_char = 'S' };
	struct ks_stack stack = { 0 };
	struct ks_task_analysis ta = { .waits_on = -1, .activity = "asleep" };
	struct ks_zone_info zone = { .node = 0, .name = "DMA32", .free = 199999, .managed = 204844, .min = 898,
				     .low = 1122, .high = 1346, .watermarks_known = true };
	struct ks_verdict v = { .kind = KS_VERDICT_NONE, .signature = "none" };
	struct ks_analysis a = { .tasks = { .tasks = &task, .count = 1 }, .stacks = &stack, .ta = &ta, .verdicts = &v,
				 .nverdicts = 1 };
	char *html = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&html, &size);
	double min, low, high;

	(void)state;
	assert_non_null(f);
	a.memory = (struct ks_memory){ .page_size = 4096, .zones = &zone, .nzones = 1 };
	assert_int_equal(ks_report_html(f, &a), 0);
	assert_int_equal(fclose(f), 0);
	min = label_x(html, "min"), low = label_x(html, "low"), high = label_x(html, "high");
	/* centres at least half of each neighbour's estimated width apart, plus the gap */
	assert_true(low - min >= 3 * 7.5 + 4 - 1e-6);
	assert_true(high - low >= (3 * 7.5 + 4 * 7.5) / 2 + 4 - 1e-6);
	/* the moved labels are tied to their marks */
	assert_int_equal(count(html, "<line class=\"leader\""), 2);
	free(html);
}

/* Problems fold under a summary that counts them per code; each stays in the page, escaped, linked to its task. */
static void test_problems_folded(void **state)
{
	struct ks_task tasks[2] = { { .address = 0xffff888000001000ull, .pid = 7, .tgid = 7, .comm = "victim",
				      .state_char = 'D' },
				    { .address = 0xffff888000002000ull, .partial = true } };
	struct ks_stack stacks[2] = { 0 };
	struct ks_task_analysis ta[2] = { { .waits_on = -1, .activity = "asleep" }, { .waits_on = -1, .activity = "" } };
	struct ks_verdict v = { .kind = KS_VERDICT_NONE, .signature = "none" };
	struct ks_analysis a = { .tasks = { .tasks = tasks, .count = 2 }, .stacks = stacks, .ta = ta, .verdicts = &v,
				 .nverdicts = 1 };
	char *html = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&html, &size);
	const char *fold;
	struct ks_u64map index = { 0 };

	(void)state;
	assert_non_null(f);
	/* ks_analyze's index from task_struct address to task */
	assert_true(ks_u64map_put_index(&index, tasks[0].address, 0) && ks_u64map_put_index(&index, tasks[1].address, 1));
	a.task_index = &index;
	ks_problems_add(&a.problems, KS_ERR_FAULT, 0xffff888000001000ull, 0x10, "stack of pid 7 (<b>v</b>) incomplete");
	ks_problems_add(&a.problems, KS_ERR_BAD_DATA, 0, 0, "task list: loops");
	for (int i = 0; i < 3; i++)
		ks_problems_add(&a.problems, KS_ERR_NODATA, 0xffff888000002000ull, 0x20, "page %d filtered", i);
	assert_int_equal(ks_report_html(f, &a), 0);
	assert_int_equal(fclose(f), 0);
	fold = strstr(html, "<details id=\"problems\"");
	assert_non_null(fold);
	/* closed, after the verdict, before the graph; the commonest code first */
	assert_true(fold > strstr(html, "<section id=\"verdict\"") && fold < strstr(html, "<section id=\"graph\""));
	assert_non_null(strstr(fold, "<details id=\"problems\" class=\"fold\" data-count=\"5\"><summary>Could not read: 5 "
				     "problems (3 nodata, 1 fault, 1 bad_data)</summary>"));
	assert_int_equal(count(html, "<li data-code=\""), 5);
	assert_null(strstr(html, "<b>v</b>"));
	assert_non_null(strstr(html, "(&lt;b&gt;v&lt;/b&gt;) incomplete</span> &rarr; <a href=\"#task-7\">victim (7)</a>"));
	/* the task without a pid is reached by its address */
	assert_non_null(strstr(html, "<tr id=\"task-at-ffff888000002000\""));
	assert_non_null(strstr(html, "<a href=\"#task-at-ffff888000002000\">task 0xffff888000002000</a>"));
	ks_problems_deinit(&a.problems);
	ks_u64map_free(&index);
	free(html);
}

/* Where RAM went: parts that do not overlap, the rest "other kernel", never a negative part. */
static void test_memory_breakdown(void **state)
{
	static const enum ks_mem_item items[] = { KS_MEM_TOTAL, KS_MEM_ANON, KS_MEM_FILE, KS_MEM_SHMEM,
						  KS_MEM_SLAB_RECLAIMABLE, KS_MEM_SLAB_UNRECLAIMABLE,
						  KS_MEM_KERNEL_STACK, KS_MEM_PAGETABLES, KS_MEM_FREE };
	static const uint64_t pages[] = { 1000, 100, 300, 200, 20, 30, 10, 5, 250 };
	struct ks_memory m = { .page_size = 4096 };
	struct ks_ram_part parts[KS_RAM_PARTS];
	uint64_t sum = 0;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		m.known[items[i]] = true;
		m.pages[items[i]] = pages[i];
	}
	n = ks_memory_breakdown(&m, parts);
	assert_int_equal(n, KS_RAM_PARTS);
	assert_string_equal(parts[1].name, "page cache");
	assert_int_equal(parts[1].pages, 100); /* file 300 less shmem 200 */
	assert_int_equal(parts[3].pages, 50);  /* both slab counters */
	for (size_t p = 0; p < n; p++)
		sum += parts[p].pages;
	assert_int_equal(sum, 1000);
	assert_string_equal(parts[n - 1].name, "other kernel");
	assert_int_equal(parts[n - 1].pages, 285);
	/* counters that drift past the total: nothing left over, nothing cut */
	m.pages[KS_MEM_FREE] = 900;
	n = ks_memory_breakdown(&m, parts);
	assert_int_equal(parts[n - 1].pages, 0);
	assert_int_equal(parts[n - 2].pages, 900);
	/* a counter unread: no picture rather than a wrong one */
	m.known[KS_MEM_SHMEM] = false;
	assert_int_equal(ks_memory_breakdown(&m, parts), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup_is_inert),
		cmocka_unit_test(test_bytes_that_are_not_text),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_2000_waiters),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_many_events),
		cmocka_unit_test(test_labels_side_by_side),
		cmocka_unit_test(test_labels_at_the_edge),
		cmocka_unit_test(test_labels_any_values),
		cmocka_unit_test(test_memory_breakdown),
		cmocka_unit_test(test_zone_labels),
		cmocka_unit_test(test_problems_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
