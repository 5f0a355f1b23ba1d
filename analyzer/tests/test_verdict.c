/*
 * Unit tests of the verdict pass on hand-built models: each root cause from
 * the smallest model that shows it, the ranking, and signatures that carry
 * names only. The fixtures prove the verdicts on real dumps; these pin the
 * rules themselves, including the ones no fixture reaches (oom_victim_stuck).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kstall/analysis.h"
#include "passes/pass.h"

extern const struct ks_pass ks_pass_verdict;

enum { MAX_TASKS = 8, MAX_LOCKS = 4 };

/* A model of up to MAX_TASKS tasks and MAX_LOCKS locks, on the stack of the test. */
struct model {
	struct ks_task tasks[MAX_TASKS];
	struct ks_task_analysis ta[MAX_TASKS];
	struct ks_stack stacks[MAX_TASKS];
	struct ks_lock locks[MAX_LOCKS];
	struct ks_analysis a;
};

static void model_init(struct model *m, size_t ntasks, size_t nlocks)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < ntasks; i++) {
		m->tasks[i].pid = m->tasks[i].tgid = (int32_t)(100 + i);
		snprintf(m->tasks[i].comm, sizeof(m->tasks[i].comm), "task%u", (unsigned)i % 100);
		m->tasks[i].state_char = 'S';
		m->ta[i].waits_on = -1;
		m->ta[i].oom_killed_seconds = -1;
		m->ta[i].oom_kill_event = m->ta[i].oom_reap_event = -1;
		m->ta[i].activity = "sleeping";
	}
	for (size_t l = 0; l < nlocks; l++) {
		m->locks[l].type = KS_LOCK_MUTEX;
		m->locks[l].owner = -1;
		m->locks[l].readers = -1;
		snprintf(m->locks[l].name, sizeof(m->locks[l].name), "lock_%u", (unsigned)l % 100);
		snprintf(m->locks[l].what, sizeof(m->locks[l].what), "lock_%u", (unsigned)l % 100);
	}
	m->a.tasks = (struct ks_tasks){ .tasks = m->tasks, .count = ntasks };
	m->a.ta = m->ta;
	m->a.stacks = m->stacks;
	m->a.locks = m->locks;
	m->a.nlocks = nlocks;
	m->a.oom.lock_owner = -1;
	m->a.oom.reaper = -1;
	/* every task read, as the kernel counts them: what the rules are about unless a test says */
	m->a.coverage = (struct ks_coverage){ .threads_known = true, .nr_threads = ntasks, .tasks_expected = ntasks,
					      .tasks_read = ntasks, .complete = true };
}

/* Coverage cut: read of expected tasks, failures reads failed, one part named. */
static void cut(struct model *m, size_t read, uint64_t expected, size_t failures)
{
	m->a.coverage.tasks_read = read;
	m->a.coverage.nr_threads = m->a.coverage.tasks_expected = expected;
	m->a.coverage.read_failures = failures;
	m->a.coverage.complete = false;
	ks_coverage_add_part(&m->a.coverage, "tasks");
}

static const struct ks_verdict *find_kind(const struct model *m, enum ks_verdict_kind kind)
{
	for (size_t v = 0; v < m->a.nverdicts; v++)
		if (m->a.verdicts[v].kind == kind)
			return &m->a.verdicts[v];
	return NULL;
}

/* Task i sleeps in D on lock l (held by owner, -1 for none) since `seconds`. */
static void waits(struct model *m, size_t i, long l, long owner, double seconds)
{
	m->tasks[i].state_char = 'D';
	m->ta[i].waits_on = l;
	m->ta[i].wait_type = m->locks[l].type;
	m->ta[i].stall = (struct ks_stall){ KS_STALL_HUNG_TASK, seconds, false, seconds, seconds };
	m->ta[i].activity = "waiting for a lock";
	m->locks[l].owner = owner;
	m->locks[l].nwaiters++;
}

/* Task i loops in the slowpath with a GFP_NOFS-like mask that may not call the OOM killer. */
static void allocates(struct model *m, size_t i, bool may_oom)
{
	struct ks_alloc_state *al = &m->ta[i].alloc;

	m->tasks[i].state_char = 'R';
	al->phase = KS_ALLOC_RECLAIM;
	al->where = "shrink_node";
	al->context = "";
	al->throttle = "";
	al->gfp_known = al->order_known = true;
	al->gfp = 0xc40;
	snprintf(al->gfp_names, sizeof(al->gfp_names), "GFP_NOFS");
	al->may_oom_known = true;
	al->may_oom = may_oom;
	m->ta[i].stall = (struct ks_stall){ KS_STALL_MEMALLOC, 50, true, 50, 50 };
	m->ta[i].activity = "allocating: direct reclaim";
}

static void run(struct model *m)
{
	assert_null(ks_pass_verdict.finish(&m->a, NULL));
	assert_true(m->a.nverdicts >= 1);
}

static bool names_pid(const struct ks_verdict *v, int32_t pid)
{
	for (size_t p = 0; p < v->npids; p++)
		if (v->pids[p] == pid)
			return true;
	return false;
}

static void done(struct model *m)
{
	free(m->a.verdicts);
	m->a.verdicts = NULL;
	m->a.nverdicts = 0;
}

/* No lock, no allocation, no victim: "none", said once, with a stable signature. */
static void test_none(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 3, 0);
	run(&m);
	assert_int_equal(m.a.nverdicts, 1);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	assert_string_equal(m.a.verdicts[0].signature, "none");
	done(&m);
}

/* Two tasks, each holding the lock the other waits for. */
static void test_lock_cycle(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 3, 2);
	waits(&m, 0, 0, 1, 60);
	waits(&m, 1, 1, 0, 60);
	m.ta[0].in_cycle = m.ta[1].in_cycle = true;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_LOCK_CYCLE);
	assert_true(names_pid(&m.a.verdicts[0], 100) && names_pid(&m.a.verdicts[0], 101));
	assert_false(names_pid(&m.a.verdicts[0], 102));
	/* names only, sorted: the same deadlock gives the same signature on every dump */
	assert_string_equal(m.a.verdicts[0].signature, "lock_cycle:lock_0:lock_1");
	assert_non_null(strstr(m.a.verdicts[0].summary, "task0 (pid 100) waits for mutex lock_0, held by task1"));
	done(&m);
}

/* The victim waits on a lock whose holder loops in the allocator: the OOM deadlock, ranked first. */
static void test_oom_deadlock(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 2, 1);
	m.ta[0].oom_victim = true;
	m.ta[0].oom_killed_seconds = 42;
	waits(&m, 0, 0, 1, 45);
	allocates(&m, 1, false);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_OOM_DEADLOCK);
	assert_true(names_pid(&m.a.verdicts[0], 100) && names_pid(&m.a.verdicts[0], 101));
	assert_string_equal(m.a.verdicts[0].signature, "oom_deadlock:lock_0:no_oom");
	assert_non_null(strstr(m.a.verdicts[0].summary, "chosen by the OOM killer 42 s before the crash"));
	/* the holder's loop is a verdict of its own, ranked below */
	assert_true(m.a.nverdicts >= 2);
	assert_int_equal(m.a.verdicts[1].kind, KS_VERDICT_ALLOC_LOOP_NO_OOM);
	assert_true(m.a.verdicts[0].score > m.a.verdicts[1].score);
	done(&m);
}

/* The holder's mask unknown: the deadlock is still told, but nothing is claimed about the OOM killer. */
static void test_oom_deadlock_gfp_unknown(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 2, 1);
	m.ta[0].oom_victim = true;
	waits(&m, 0, 0, 1, 45);
	allocates(&m, 1, false);
	m.ta[1].alloc.gfp_known = m.ta[1].alloc.may_oom_known = m.ta[1].alloc.order_known = false;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_OOM_DEADLOCK);
	assert_null(strstr(m.a.verdicts[0].summary, "may not invoke"));
	assert_null(strstr(m.a.verdicts[0].summary, "?0"));
	assert_non_null(strstr(m.a.verdicts[0].summary, "gfp unknown, order ?, gfp mask unknown"));
	assert_string_equal(m.a.verdicts[0].signature, "oom_deadlock:lock_0:oom_unknown");
	/* and no loop verdict that needs the mask */
	for (size_t v = 0; v < m.a.nverdicts; v++)
		assert_int_not_equal(m.a.verdicts[v].kind, KS_VERDICT_ALLOC_LOOP_NO_OOM);
	done(&m);
}

/* A victim in D whose wait does not end in an allocating task: stuck, but no deadlock is claimed. */
static void test_oom_victim_stuck(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 2, 1);
	m.ta[0].oom_victim = true;
	waits(&m, 0, 0, 1, 45);
	m.ta[1].activity = "sleeping";
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_OOM_VICTIM_STUCK);
	assert_true(names_pid(&m.a.verdicts[0], 100));
	assert_string_equal(m.a.verdicts[0].signature, "oom_victim_stuck:lock_0");
	assert_non_null(strstr(m.a.verdicts[0].summary, "OOM victim task0 (pid 100) cannot exit: waiting for a lock"));
	done(&m);
	/* in D with no lock known: still stuck, and said so */
	model_init(&m, 1, 0);
	m.ta[0].oom_victim = true;
	m.tasks[0].state_char = 'D';
	m.ta[0].activity = "uninterruptible sleep";
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_OOM_VICTIM_STUCK);
	assert_string_equal(m.a.verdicts[0].signature, "oom_victim_stuck");
	done(&m);
	/* a victim that is only a thread of its process, or running, is left to its leader */
	model_init(&m, 1, 0);
	m.ta[0].oom_victim = true;
	m.tasks[0].state_char = 'D';
	m.tasks[0].tgid = 7;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	done(&m);
}

/* Loopers that may not call the OOM killer: three or more weigh more than one. */
static void test_alloc_loop_no_oom(void **state)
{
	struct model m;
	double one;

	(void)state;
	model_init(&m, 4, 0);
	allocates(&m, 0, false);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_ALLOC_LOOP_NO_OOM);
	one = m.a.verdicts[0].score;
	done(&m);
	model_init(&m, 4, 0);
	for (size_t i = 0; i < 3; i++)
		allocates(&m, i, false);
	allocates(&m, 3, true);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_ALLOC_LOOP_NO_OOM);
	assert_true(m.a.verdicts[0].score > one);
	assert_non_null(strstr(m.a.verdicts[0].summary, "3 tasks loop in the page allocator"));
	/* the one that may call the OOM killer is not named */
	assert_false(names_pid(&m.a.verdicts[0], 103));
	done(&m);
	/* an unknown mask proves nothing: no verdict from it */
	model_init(&m, 1, 0);
	allocates(&m, 0, false);
	m.ta[0].alloc.gfp_known = m.ta[0].alloc.may_oom_known = false;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	done(&m);
}

/* Long waits behind a holder that sleeps: a lock chain hang that names the holder first. */
static void test_lock_chain_hang(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 3, 1);
	waits(&m, 0, 0, 2, 90);
	waits(&m, 1, 0, 2, 80);
	m.ta[2].activity = "sleeping";
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_LOCK_CHAIN_HANG);
	assert_int_equal(m.a.verdicts[0].pids[0], 102);
	assert_non_null(strstr(m.a.verdicts[0].summary, "2 tasks have waited 30 s or more on locks"));
	assert_non_null(strstr(m.a.verdicts[0].summary, "held by task2 (pid 102)"));
	done(&m);
	/* waits shorter than 30 s are not a hang */
	model_init(&m, 2, 1);
	waits(&m, 0, 0, 1, 10);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	done(&m);
}

/* Task i sleeps in D, off any lock kstall knows, in the frames given (innermost first). */
static void sleeps(struct model *m, struct ks_frame *frames, size_t nframes, size_t i, double min_seconds)
{
	m->tasks[i].state_char = 'D';
	m->stacks[i] = (struct ks_stack){ .frames = frames, .count = nframes };
	m->ta[i].stall = (struct ks_stall){ KS_STALL_SCHED_INFO, min_seconds, false, min_seconds, min_seconds + 5 };
	m->ta[i].activity = "uninterruptible sleep";
}

/* D for longer than the hung-task timeout, with nothing else to say: never "none". */
static void test_hung_tasks(void **state)
{
	struct ks_frame frames[] = { { .function = "__schedule" }, { .function = "schedule" },
				     { .function = "schedule_preempt_disabled" }, { .function = "__mutex_lock" },
				     { .function = "do_thing" } };
	struct ks_frame other[] = { { .function = "schedule" }, { .function = "io_schedule" },
				    { .function = "folio_wait_bit_common" } };
	struct ks_event ev = { .kind = KS_EVENT_HUNG_TASK, .task = 2, .seconds_before = 10 };
	struct model m;

	(void)state;
	/* 150 s and 130 s against the kernel's default 120 s (the dump does not say) */
	model_init(&m, 3, 0);
	sleeps(&m, frames, 5, 0, 150);
	sleeps(&m, frames, 5, 1, 130);
	sleeps(&m, other, 3, 2, 20);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_HUNG_TASKS);
	assert_int_equal(m.a.verdicts[0].npids, 2);
	assert_true(names_pid(&m.a.verdicts[0], 100) && names_pid(&m.a.verdicts[0], 101));
	assert_non_null(strstr(m.a.verdicts[0].summary, "2 tasks have slept uninterruptibly for 120 s or more"));
	assert_non_null(strstr(m.a.verdicts[0].summary, "2 in __mutex_lock"));
	assert_string_equal(m.a.verdicts[0].signature, "hung_tasks:__mutex_lock");
	done(&m);
	/* the kernel's own timeout when the dump has it; its own report counts whatever the clocks say */
	model_init(&m, 3, 0);
	m.a.hung_task_timeout = 30;
	sleeps(&m, frames, 5, 0, 40);
	sleeps(&m, other, 3, 2, 0);
	m.ta[2].stall.source = KS_STALL_NONE;
	m.a.events = &ev;
	m.a.nevents = 1;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_HUNG_TASKS);
	assert_non_null(strstr(m.a.verdicts[0].summary, "for 30 s or more (the kernel's hung-task timeout)"));
	assert_non_null(strstr(m.a.verdicts[0].summary, "1 in folio_wait_bit_common"));
	assert_string_equal(m.a.verdicts[0].signature, "hung_tasks:__mutex_lock:folio_wait_bit_common");
	done(&m);
	/* shorter than the timeout, no report: not a hang */
	model_init(&m, 1, 0);
	sleeps(&m, frames, 5, 0, 100);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	done(&m);
	/* a waiter behind a lock cycle is the cycle's, not a hang of its own */
	model_init(&m, 3, 2);
	waits(&m, 0, 0, 1, 200);
	waits(&m, 1, 1, 0, 200);
	waits(&m, 2, 0, 1, 200);
	m.ta[0].in_cycle = m.ta[1].in_cycle = true;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_LOCK_CYCLE);
	for (size_t v = 0; v < m.a.nverdicts; v++)
		assert_int_not_equal(m.a.verdicts[v].kind, KS_VERDICT_HUNG_TASKS);
	done(&m);
}

/* RAM of 16000 pages; kernel stacks and page tables of `kmem` pages; threads against max_threads. */
static void fork_model(struct model *m, uint64_t kmem, uint64_t threads, uint64_t max_threads)
{
	struct ks_kernel_mem *km = &m->a.memory.consumers.kernel;

	model_init(m, 6, 0);
	m->a.memory.page_size = 4096;
	m->a.memory.known[KS_MEM_TOTAL] = m->a.memory.known[KS_MEM_KERNEL_STACK] =
		m->a.memory.known[KS_MEM_PAGETABLES] = true;
	m->a.memory.pages[KS_MEM_TOTAL] = 16000;
	m->a.memory.pages[KS_MEM_KERNEL_STACK] = kmem * 3 / 4;
	m->a.memory.pages[KS_MEM_PAGETABLES] = kmem - kmem * 3 / 4;
	km->threads_known = true;
	km->nr_threads = threads;
	km->max_threads = max_threads;
	km->total_forks = threads + 10;
	m->a.now_ns = 100000000000ull;
	/* task0 (pid 100) forked three processes, task1 (pid 101) one */
	for (size_t i = 0; i < 6; i++)
		m->ta[i].user = true;
	m->tasks[2].ppid = m->tasks[3].ppid = m->tasks[4].ppid = 100;
	m->tasks[5].ppid = 101;
}

static const struct ks_verdict *find(const struct model *m, enum ks_verdict_kind kind)
{
	for (size_t v = 0; v < m->a.nverdicts; v++)
		if (m->a.verdicts[v].kind == kind)
			return &m->a.verdicts[v];
	return NULL;
}

/*
 * A fork storm by the kernel's own budget (max_threads sizes thread stacks to 1/8 of RAM): half
 * the ceiling in use, or stacks and page tables at RAM/16 when the ceiling was raised. The
 * forking parent is named first. Below both halves, nothing.
 */
static void test_fork_storm(void **state)
{
	struct model m;
	const struct ks_verdict *v;

	(void)state;
	/* the ceiling raised: 1050 of 16000 pages (over 1/16) in kernel stacks, 350 in page tables */
	fork_model(&m, 1400, 5000, 100000);
	run(&m);
	assert_non_null(v = find(&m, KS_VERDICT_FORK_STORM));
	assert_int_equal(v->pids[0], 100);
	assert_true(names_pid(v, 101));
	assert_non_null(strstr(v->summary, "task0 (pid 100) has 3 child processes"));
	assert_non_null(strstr(v->summary, "5000 threads, 5% of the kernel's ceiling max_threads 100000"));
	assert_string_equal(v->signature, "fork_storm");
	done(&m);
	/* half the ceiling in use, little memory in stacks */
	fork_model(&m, 100, 3000, 6000);
	run(&m);
	assert_non_null(v = find(&m, KS_VERDICT_FORK_STORM));
	assert_true(v->score > 0.81 && v->score < 0.82); /* 0.70 + 0.23 * 0.5 */
	done(&m);
	/* 40% of the ceiling and stacks under RAM/16: a busy machine, not a storm */
	fork_model(&m, 900, 2400, 6000);
	run(&m);
	assert_null(find(&m, KS_VERDICT_FORK_STORM));
	done(&m);
	/* page tables of a few big processes are not a fork storm: 3000 pages of them, stacks 100 */
	fork_model(&m, 400, 300, 6000);
	m.a.memory.pages[KS_MEM_KERNEL_STACK] = 100;
	m.a.memory.pages[KS_MEM_PAGETABLES] = 3000;
	run(&m);
	assert_null(find(&m, KS_VERDICT_FORK_STORM));
	done(&m);
	/* the counters unread and nothing in stacks known: no claim */
	fork_model(&m, 0, 0, 0);
	m.a.memory.consumers.kernel.threads_known = false;
	m.a.memory.known[KS_MEM_KERNEL_STACK] = false;
	run(&m);
	assert_null(find(&m, KS_VERDICT_FORK_STORM));
	done(&m);
}

/* The rank of a verdict kind in the model's list, or -1. */
static long rank_of(const struct model *m, enum ks_verdict_kind kind)
{
	for (size_t v = 0; v < m->a.nverdicts; v++)
		if (m->a.verdicts[v].kind == kind)
			return (long)v;
	return -1;
}

/* tmpfs with no swap holding `shmem` of 16000 pages, on top of a fork storm's kmem pages. */
static void storm_and_tmpfs(struct model *m, uint64_t kmem, uint64_t shmem)
{
	fork_model(m, kmem, 5000, 100000);
	m->a.memory.known[KS_MEM_SHMEM] = m->a.memory.known[KS_MEM_SWAP_TOTAL] = true;
	m->a.memory.pages[KS_MEM_SHMEM] = shmem;
	allocates(m, 1, true);
}

/* Two causes that hold memory stand together, the one holding more of RAM first. */
static void test_memory_causes_ranked(void **state)
{
	struct model m;

	(void)state;
	/* tmpfs 60% of RAM, the storm's stacks 15%: tmpfs first */
	storm_and_tmpfs(&m, 3200, 9600);
	run(&m);
	assert_true(rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP) >= 0 && rank_of(&m, KS_VERDICT_FORK_STORM) >= 0);
	assert_true(rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP) < rank_of(&m, KS_VERDICT_FORK_STORM));
	done(&m);
	/* tmpfs 42%, kernel stacks 45%: the storm first */
	storm_and_tmpfs(&m, 9600, 6720);
	run(&m);
	assert_true(rank_of(&m, KS_VERDICT_FORK_STORM) >= 0 && rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP) >= 0);
	assert_true(rank_of(&m, KS_VERDICT_FORK_STORM) < rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP));
	done(&m);
}

/*
 * A memory cgroup at its limit: two tasks charge it, the log's last report names the cgroup
 * (an earlier one, as a crash may cut the last short) and its killer found no victim. With
 * the machine's zones above their watermarks, the cgroup ranks first; below, lower.
 */
static void test_memcg_limit(void **state)
{
	struct model m;
	struct ks_event ev[3] = { { .kind = KS_EVENT_MEMCG_OOM, .task = -1, .usage_kb = 65536, .limit_kb = 65536,
				    .failcnt = 90, .seconds_before = 2, .text = "memory: usage" },
				  { .kind = KS_EVENT_OOM_NO_VICTIM, .task = -1, .seconds_before = 1, .text = "Out of" },
				  { .kind = KS_EVENT_MEMCG_OOM, .task = -1, .usage_kb = 65536, .limit_kb = 65536,
				    .failcnt = 95, .seconds_before = 0.5, .text = "memory: usage" } };
	struct ks_zone_info zone = { .watermarks_known = true, .free = 5000, .min = 100, .low = 200, .high = 300 };
	const struct ks_verdict *v;

	(void)state;
	snprintf(ev[0].memcg, sizeof(ev[0].memcg), "/app");
	model_init(&m, 4, 0);
	allocates(&m, 1, true);
	allocates(&m, 2, true);
	m.ta[1].alloc.memcg = m.ta[2].alloc.memcg = true;
	m.a.events = ev;
	m.a.nevents = 3;
	m.a.memory.zones = &zone;
	m.a.memory.nzones = 1;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_MEMCG_LIMIT);
	v = &m.a.verdicts[0];
	assert_true(names_pid(v, 101) && names_pid(v, 102) && !names_pid(v, 100));
	assert_non_null(strstr(v->summary, "/app (usage 64 MiB of memory.max 64 MiB, 95 charges failed"));
	assert_non_null(strstr(v->summary, "1 time in the log its OOM killer found no process"));
	assert_string_equal(v->signature, "memcg_limit:no_victim");
	assert_true(v->score > 0.92);
	done(&m);
	/* the machine short too: the cgroup is not the whole story */
	zone.free = 150;
	model_init(&m, 4, 0);
	allocates(&m, 1, true);
	m.ta[1].alloc.memcg = true;
	m.a.memory.zones = &zone;
	m.a.memory.nzones = 1;
	run(&m);
	assert_non_null(v = find(&m, KS_VERDICT_MEMCG_LIMIT));
	assert_true(v->score < 0.87);
	assert_non_null(strstr(v->summary, "no memcg OOM report"));
	done(&m);
}

/*
 * Unreclaimable slab over every LRU page (the OOM killer's own test) while a task allocates:
 * the verdict names the biggest caches the slab pass counted, and ranks by its share of RAM
 * against tmpfs holding memory too.
 */
static void slab_model(struct model *m, uint64_t slab, uint64_t lru, uint64_t shmem)
{
	static const enum ks_mem_item lru_items[] = { KS_MEM_ACTIVE_ANON, KS_MEM_INACTIVE_ANON, KS_MEM_ACTIVE_FILE,
						      KS_MEM_INACTIVE_FILE, KS_MEM_ISOLATED_ANON, KS_MEM_ISOLATED_FILE,
						      KS_MEM_UNEVICTABLE };
	struct ks_slab_census *sc = &m->a.memory.consumers.slab;

	model_init(m, 3, 0);
	allocates(m, 1, true);
	m->a.memory.page_size = 4096;
	m->a.memory.known[KS_MEM_TOTAL] = m->a.memory.known[KS_MEM_SLAB_UNRECLAIMABLE] = true;
	m->a.memory.pages[KS_MEM_TOTAL] = 16000;
	m->a.memory.pages[KS_MEM_SLAB_UNRECLAIMABLE] = slab;
	for (size_t i = 0; i < sizeof(lru_items) / sizeof(lru_items[0]); i++)
		m->a.memory.known[lru_items[i]] = true;
	m->a.memory.pages[KS_MEM_INACTIVE_FILE] = lru;
	m->a.memory.known[KS_MEM_SHMEM] = m->a.memory.known[KS_MEM_SWAP_TOTAL] = true;
	m->a.memory.pages[KS_MEM_SHMEM] = shmem;
	sc->state = KS_SLAB_READ;
	sc->ntop = 2;
	snprintf(sc->top[0].name, sizeof(sc->top[0].name), "kmalloc-64");
	sc->top[0].pages = slab * 3 / 4;
	snprintf(sc->top[1].name, sizeof(sc->top[1].name), "dentry");
	sc->top[1].pages = slab / 8;
}

static void test_slab_unreclaimable(void **state)
{
	struct model m;
	const struct ks_verdict *v;

	(void)state;
	/* slab 60% of RAM over 5% on the LRU: the verdict, naming the caches */
	slab_model(&m, 9600, 800, 0);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_SLAB_UNRECLAIMABLE);
	v = &m.a.verdicts[0];
	assert_true(names_pid(v, 101));
	assert_non_null(strstr(v->summary, "Unreclaimable slab holds 38 MiB, 60% of RAM, more than every page on "
					   "the LRU lists (3 MiB)"));
	assert_non_null(strstr(v->summary, "The biggest caches: kmalloc-64 28 MiB (45%), dentry 5 MiB (8%)"));
	assert_string_equal(v->signature, "slab_unreclaimable:kmalloc-64");
	done(&m);
	/* as much on the LRU lists as in slab: not the kernel's test, no verdict */
	slab_model(&m, 4000, 4000, 0);
	run(&m);
	assert_null(find(&m, KS_VERDICT_SLAB_UNRECLAIMABLE));
	done(&m);
	/* slab 45%, tmpfs with no swap 50%: tmpfs first, both stand */
	slab_model(&m, 7200, 800, 8000);
	run(&m);
	assert_true(rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP) >= 0 && rank_of(&m, KS_VERDICT_SLAB_UNRECLAIMABLE) >= 0);
	assert_true(rank_of(&m, KS_VERDICT_SHMEM_NO_SWAP) < rank_of(&m, KS_VERDICT_SLAB_UNRECLAIMABLE));
	done(&m);
	/* an LRU counter unknown: the kernel's test cannot be made */
	slab_model(&m, 9600, 800, 0);
	m.a.memory.known[KS_MEM_UNEVICTABLE] = false;
	run(&m);
	assert_null(find(&m, KS_VERDICT_SLAB_UNRECLAIMABLE));
	done(&m);
}


/* The scale: 1 on complete coverage, the share of tasks read, 0.5 when the kernel's count is unknown. */
static void test_coverage_scale(void **state)
{
	struct ks_coverage c = { .threads_known = true, .tasks_expected = 64, .tasks_read = 64, .complete = true };
	char words[200];

	(void)state;
	assert_true(ks_coverage_scale(&c) == 1.0);
	ks_coverage_words(&c, words, sizeof(words));
	assert_string_equal(words, "complete: 64 of 64 tasks read, 0 reads failed");
	c.complete = false;
	c.tasks_read = 28;
	c.read_failures = 3;
	ks_coverage_add_part(&c, "tasks");
	ks_coverage_add_part(&c, "memory");
	ks_coverage_add_part(&c, "tasks");
	assert_int_equal(c.nparts, 2);
	assert_true(ks_coverage_scale(&c) == 28.0 / 64.0);
	ks_coverage_words(&c, words, sizeof(words));
	assert_string_equal(words, "incomplete: 28 of 64 tasks read, 3 reads failed; not read in full: tasks, memory");
	/* every task read but a counter failed: the tasks' share is whole */
	c.tasks_read = 64;
	assert_true(ks_coverage_scale(&c) == 1.0);
	c.tasks_read = 70;
	assert_true(ks_coverage_scale(&c) == 1.0);
	c.threads_known = false;
	assert_true(ks_coverage_scale(&c) == 0.5);
	ks_coverage_words(&c, words, sizeof(words));
	assert_non_null(strstr(words, "70 of ? tasks read (nr_threads unreadable)"));
}

/* Nothing found in a dump not read in full: inconclusive, saying what is missing, never "none". */
static void test_inconclusive(void **state)
{
	struct model m;

	(void)state;
	model_init(&m, 3, 0);
	cut(&m, 3, 64, 2);
	run(&m);
	assert_int_equal(m.a.nverdicts, 1);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_INCONCLUSIVE);
	assert_string_equal(ks_verdict_name(m.a.verdicts[0].kind), "inconclusive");
	assert_true(m.a.verdicts[0].score == 0.40);
	assert_string_equal(m.a.verdicts[0].signature, "inconclusive");
	assert_non_null(strstr(m.a.verdicts[0].summary, "3 of 64 tasks read, 2 reads failed; not read in full: tasks"));
	assert_non_null(strstr(m.a.verdicts[0].summary, "a stall may lie in what was not"));
	done(&m);
	/* complete: the same model is "none" at 1.00 */
	model_init(&m, 3, 0);
	run(&m);
	assert_int_equal(m.a.nverdicts, 1);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	assert_true(m.a.verdicts[0].score == 1.0);
	done(&m);
}

/* A cause found in what was read keeps its rank, its score scaled by the share of tasks read. */
static void test_scaled_by_coverage(void **state)
{
	struct model m;
	const struct ks_verdict *inc;

	(void)state;
	model_init(&m, 3, 2);
	waits(&m, 0, 0, 1, 60);
	waits(&m, 1, 1, 0, 60);
	m.ta[0].in_cycle = m.ta[1].in_cycle = true;
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_LOCK_CYCLE);
	assert_true(m.a.verdicts[0].score == 0.95);
	assert_null(find_kind(&m, KS_VERDICT_INCONCLUSIVE));
	done(&m);
	model_init(&m, 3, 2);
	waits(&m, 0, 0, 1, 60);
	waits(&m, 1, 1, 0, 60);
	m.ta[0].in_cycle = m.ta[1].in_cycle = true;
	cut(&m, 3, 4, 1);
	run(&m);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_LOCK_CYCLE);
	assert_true(m.a.verdicts[0].score > 0.95 * 0.75 - 1e-12 && m.a.verdicts[0].score < 0.95 * 0.75 + 1e-12);
	assert_non_null(inc = find_kind(&m, KS_VERDICT_INCONCLUSIVE));
	assert_true(inc->score == 0.40);
	assert_non_null(strstr(inc->summary, "scores scaled by 0.75"));
	assert_null(find_kind(&m, KS_VERDICT_NONE));
	done(&m);
	/* the kernel's count unknown: half */
	model_init(&m, 3, 2);
	waits(&m, 0, 0, 1, 60);
	waits(&m, 1, 1, 0, 60);
	m.ta[0].in_cycle = m.ta[1].in_cycle = true;
	cut(&m, 3, 0, 1);
	m.a.coverage.threads_known = false;
	run(&m);
	assert_true(m.a.verdicts[0].score == 0.95 * 0.5);
	done(&m);
}

/* The log's hung-task reports of tasks that could not be read give a verdict naming them. */
static void test_hung_from_log(void **state)
{
	struct ks_event ev[] = {
		{ .kind = KS_EVENT_HUNG_TASK, .pid = 77, .comm = "lost_a", .task = -1, .seconds_before = 5 },
		{ .kind = KS_EVENT_HUNG_TASK, .pid = 78, .comm = "lost_b", .task = -1, .seconds_before = 5 },
		/* reported twice: named once */
		{ .kind = KS_EVENT_HUNG_TASK, .pid = 77, .comm = "lost_a", .task = -1, .seconds_before = 1 },
	};
	struct model m;
	const struct ks_verdict *v;

	(void)state;
	model_init(&m, 3, 0);
	m.a.events = ev;
	m.a.nevents = 3;
	cut(&m, 3, 64, 5);
	run(&m);
	assert_non_null(v = find_kind(&m, KS_VERDICT_HUNG_TASKS));
	assert_int_equal(v->npids, 2);
	assert_true(names_pid(v, 77) && names_pid(v, 78));
	/* the log's word, not the tasks read: not scaled, and above the inconclusive */
	assert_true(v->score == 0.45);
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_HUNG_TASKS);
	assert_non_null(strstr(v->summary, "The kernel log reports 2 hung tasks kstall could not read: lost_a (pid 77), "
					  "lost_b (pid 78)."));
	assert_non_null(find_kind(&m, KS_VERDICT_INCONCLUSIVE));
	assert_null(find_kind(&m, KS_VERDICT_NONE));
	done(&m);
	/* read in full: a task the log reported and the walk did not meet has exited since */
	model_init(&m, 3, 0);
	m.a.events = ev;
	m.a.nevents = 3;
	run(&m);
	assert_null(find_kind(&m, KS_VERDICT_HUNG_TASKS));
	assert_int_equal(m.a.verdicts[0].kind, KS_VERDICT_NONE);
	done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_lock_cycle),
		cmocka_unit_test(test_oom_deadlock),
		cmocka_unit_test(test_oom_deadlock_gfp_unknown),
		cmocka_unit_test(test_oom_victim_stuck),
		cmocka_unit_test(test_alloc_loop_no_oom),
		cmocka_unit_test(test_lock_chain_hang),
		cmocka_unit_test(test_hung_tasks),
		cmocka_unit_test(test_fork_storm),
		cmocka_unit_test(test_memory_causes_ranked),
		cmocka_unit_test(test_memcg_limit),
		cmocka_unit_test(test_slab_unreclaimable),
		cmocka_unit_test(test_coverage_scale),
		cmocka_unit_test(test_inconclusive),
		cmocka_unit_test(test_scaled_by_coverage),
		cmocka_unit_test(test_hung_from_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
