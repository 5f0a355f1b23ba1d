/* Unit tests: gfp decoding, lock owner words, hung-task blocker words, wait-for cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/analysis.h"
#include "passes/pass.h"

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

static void test_blocker_decode(void **state)
{
	uint64_t lock = 1;
	enum ks_lock_type type = KS_LOCK_FOLIO;

	(void)state;
	/* 0: the task records no blocker; outputs untouched */
	assert_false(ks_blocker_decode(0, &lock, &type));
	assert_int_equal(lock, 1);
	assert_int_equal(type, KS_LOCK_FOLIO);
	/* type bits alone carry no lock */
	assert_false(ks_blocker_decode(3, &lock, &type));
	assert_true(ks_blocker_decode(0xffff888003a1c040ull, &lock, &type));
	assert_int_equal(lock, 0xffff888003a1c040ull);
	assert_int_equal(type, KS_LOCK_MUTEX);
	assert_true(ks_blocker_decode(0xffffffff82a0e1c8ull | 1, &lock, &type));
	assert_int_equal(lock, 0xffffffff82a0e1c8ull);
	assert_int_equal(type, KS_LOCK_SEMAPHORE);
	assert_true(ks_blocker_decode(0xffff888003a1c040ull | 2, &lock, &type));
	assert_int_equal(lock, 0xffff888003a1c040ull);
	assert_int_equal(type, KS_LOCK_RWSEM_READ);
	assert_true(ks_blocker_decode(0xffff888003a1c040ull | 3, &lock, &type));
	assert_int_equal(lock, 0xffff888003a1c040ull);
	assert_int_equal(type, KS_LOCK_RWSEM_WRITE);
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

static void test_event_parse(void **state)
{
	enum ks_event_kind kind;
	int32_t pid;
	char comm[16];

	(void)state;
	/* the lines as 6.1 prints them */
	assert_true(ks_event_parse("Out of memory: Killed process 43 (oomvictim) total-vm:451544kB, "
				   "anon-rss:450588kB, file-rss:4kB, shmem-rss:648kB, UID:0 "
				   "pgtables:920kB oom_score_adj:1000",
				   &kind, &pid, comm));
	assert_int_equal(kind, KS_EVENT_OOM_KILL);
	assert_int_equal(pid, 43);
	assert_string_equal(comm, "oomvictim");
	/* a comm holding ") " and the cgroup variant */
	assert_true(ks_event_parse("Memory cgroup out of memory: Killed process 7 (a) b) total-vm:1kB",
				   &kind, &pid, comm));
	assert_int_equal(pid, 7);
	assert_string_equal(comm, "a) b");
	assert_true(ks_event_parse("oom_reaper: reaped process 43 (oomvictim), now anon-rss:0kB",
				   &kind, &pid, comm));
	assert_int_equal(kind, KS_EVENT_OOM_REAPED);
	assert_true(ks_event_parse("oom_reaper: unable to reap pid:12 (x)", &kind, &pid, comm));
	assert_int_equal(kind, KS_EVENT_OOM_REAP_FAILED);
	assert_int_equal(pid, 12);
	/* the comm may hold ':'; the pid follows the last one */
	assert_true(ks_event_parse("INFO: task kworker/u4:1:61 blocked for more than 30 seconds.",
				   &kind, &pid, comm));
	assert_int_equal(kind, KS_EVENT_HUNG_TASK);
	assert_int_equal(pid, 61);
	assert_string_equal(comm, "kworker/u4:1");
	assert_true(ks_event_parse("init invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0",
				   &kind, &pid, comm));
	assert_int_equal(kind, KS_EVENT_OOM_INVOKED);
	assert_int_equal(pid, 0);
	assert_string_equal(comm, "init");
	assert_true(ks_event_parse("cp: page allocation failure: order:0, mode:0x100cca", &kind, &pid,
				   comm));
	assert_int_equal(kind, KS_EVENT_ALLOC_FAILURE);
	assert_false(ks_event_parse("Killed process x (y)", &kind, &pid, comm));
	assert_false(ks_event_parse("INFO: task noppid blocked for more than 1 seconds.", &kind, &pid,
				    comm));
	assert_false(ks_event_parse("random line", &kind, &pid, comm));
}

/*
 * PSI's averages as the kernel folds them (kernel/sched/psi.c calc_avgs: every
 * 2 s, avg = avg * e + pct * (1 - e) in fixed point, EXP_10s 1677, EXP_60s 1981,
 * EXP_300s 2034 of 2048), for a stall at share pct that began t seconds ago
 * after `before` seconds at share base.
 */
static struct ks_psi_line psi_after(double base, double before, double pct, double t)
{
	static const double e[3] = { 1677 / 2048.0, 1981 / 2048.0, 2034 / 2048.0 };
	double avg[3] = { 0, 0, 0 }, total = 0;

	for (double s = 0; s < before; s += 2) {
		for (int w = 0; w < 3; w++)
			avg[w] = avg[w] * e[w] + base * (1 - e[w]);
		total += 2 * base / 100;
	}
	for (double s = 0; s < t; s += 2) {
		for (int w = 0; w < 3; w++)
			avg[w] = avg[w] * e[w] + pct * (1 - e[w]);
		total += 2 * pct / 100;
	}
	return (struct ks_psi_line){ true, avg[0], avg[1], avg[2], total };
}

static void test_psi_onset(void **state)
{
	static const double onsets[] = { 20, 60, 94, 200, 500 };
	static const double shares[] = { 30, 60, 99 };
	double est, lo, hi, share;
	bool at_least;
	struct ks_psi_line l;

	(void)state;
	/* a steady stall after a quiet start: the onset within its range, the estimate within 10% */
	for (size_t i = 0; i < sizeof(onsets) / sizeof(onsets[0]); i++)
		for (size_t j = 0; j < sizeof(shares) / sizeof(shares[0]); j++) {
			l = psi_after(0, 100, shares[j], onsets[i]);
			assert_true(ks_psi_onset(&l, onsets[i] + 100, &est, &lo, &hi, &share, &at_least));
			assert_true(lo <= onsets[i] + 2 && hi >= onsets[i] - 2);
			assert_true(est > onsets[i] * 0.9 - 2 && est < onsets[i] * 1.1 + 2);
			assert_true(share > shares[j] - 5 && share < shares[j] + 5);
			assert_false(at_least);
		}
	/* no stall going on: a quiet system, or one that stalled long ago */
	l = psi_after(0, 100, 5, 60);
	assert_false(ks_psi_onset(&l, 160, &est, &lo, &hi, &share, &at_least));
	l = psi_after(80, 60, 0, 120);
	assert_false(ks_psi_onset(&l, 180, &est, &lo, &hi, &share, &at_least));
	/* stalled for an hour: the averages are full and only the total stall time bounds it */
	l = psi_after(0, 0, 90, 3600);
	assert_true(ks_psi_onset(&l, 20000, &est, &lo, &hi, &share, &at_least));
	assert_false(at_least);
	assert_true(lo >= 900 && hi > 3500 && hi < 3700);
	/* ... and without the total, it began this long ago or earlier */
	l.total_seconds = 0;
	assert_true(ks_psi_onset(&l, 20000, &est, &lo, &hi, &share, &at_least));
	assert_true(at_least);
	assert_true(lo >= 900);
	/* never before boot */
	l = psi_after(0, 0, 90, 3600);
	assert_true(ks_psi_onset(&l, 3600, &est, &lo, &hi, &share, &at_least));
	assert_true(hi <= 3600 && est <= 3600);
	l.known = false;
	assert_false(ks_psi_onset(&l, 3600, &est, &lo, &hi, &share, &at_least));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gfp_decode),
		cmocka_unit_test(test_owner_bits),
		cmocka_unit_test(test_blocker_decode),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_no_cycles),
		cmocka_unit_test(test_event_parse),
		cmocka_unit_test(test_psi_onset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
