/* Building the model and running the passes; the timing and OOM passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "base/hashmap.h"
#include "base/strpool.h"

static bool same_frames(const struct ks_stack *x, const struct ks_stack *y)
{
	if (x->count != y->count)
		return false;
	for (size_t f = 0; f < x->count; f++) {
		const struct ks_frame *a = &x->frames[f], *b = &y->frames[f];

		/* Names come from one symbol table and one DWARF file: equal names are equal pointers. */
		if (a->pc != b->pc || a->function != b->function || a->symbol != b->symbol ||
		    a->offset != b->offset || a->inlined != b->inlined || a->call_site != b->call_site)
			return false;
	}
	return true;
}

/*
 * Once its passes are done, a task's stack keeps only what the report shows
 * (pc, names, offset, flags), and tasks whose stacks are then the same share
 * one copy: ten thousand threads blocked in one place would otherwise hold
 * ten thousand copies of the same frames and their registers.
 */
static void share_stack(struct ks_analysis *a, struct ks_u64map *pool, size_t i)
{
	struct ks_stack *s = &a->stacks[i];
	uint64_t h = 14695981039346656037ull;
	uintptr_t other;

	for (size_t f = 0; f < s->count; f++) {
		struct ks_frame *fr = &s->frames[f];

		fr->sp = fr->cfa = fr->die = fr->sub_die = 0;
		memset(fr->regs, 0, sizeof(fr->regs));
		fr->regs_valid = 0;
		h = (h ^ fr->pc) * 1099511628211ull;
	}
	h = (h ^ s->count) * 1099511628211ull;
	other = (uintptr_t)ks_u64map_get(pool, h);
	if (other && same_frames(&a->stacks[other - 1], s)) {
		free(s->frames);
		s->frames = a->stacks[other - 1].frames;
		s->shared = true;
		return;
	}
	if (!other)
		ks_u64map_put(pool, h, (void *)(uintptr_t)(i + 1));
	if (s->count) {
		struct ks_frame *fit = realloc(s->frames, s->count * sizeof(*fit));

		if (fit)
			s->frames = fit;
	}
}

/* jiffies start at -300 s; the HZ that makes jiffies agree with the ns clock is the kernel's. */
static unsigned int guess_hz(uint64_t jiffies, uint64_t now_ns)
{
	static const unsigned int candidates[] = { 100, 250, 300, 1000 };
	double uptime = (double)now_ns / 1e9, best = 1e18;
	unsigned int hz = 0;

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		unsigned int h = candidates[i];
		uint64_t initial = (uint64_t)(uint32_t)(-300 * (int32_t)h);
		double up = (double)(jiffies - initial) / h, err = up > uptime ? up - uptime : uptime - up;

		if (err < best) {
			best = err;
			hz = h;
		}
	}
	/* Emulated machines lose ticks: allow a wide margin, the candidates are far apart. */
	return best < uptime / 8 + 2 ? hz : 0;
}

void ks_load_clocks(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t addr;

	for (unsigned int c = 0; c < ks_kernel_nr_cpus(k); c++) {
		uint64_t rq, clock;

		if (ks_kernel_runqueue(k, c, &rq) && ks_try_read_field(k, rq, KS_F_RQ_CLOCK, &clock) &&
		    clock > a->now_ns)
			a->now_ns = clock;
	}
	if (ks_kernel_symbol(k, "jiffies_64", &addr) || ks_kernel_symbol(k, "jiffies", &addr))
		ks_try_read_u64(k, addr, &a->jiffies);
	/* tick_nsec is NSEC_PER_SEC / HZ, give or take NTP's adjustment. */
	if (ks_kernel_symbol(k, "tick_nsec", &addr)) {
		uint64_t tick;

		if (ks_try_read_u64(k, addr, &tick) && tick >= 1000000 && tick <= 20000000)
			a->hz = (unsigned int)((1000000000ull + tick / 2) / tick);
	}
	if (!a->hz)
		a->hz = guess_hz(a->jiffies, a->now_ns);
	if (!a->hz)
		ks_lines_append(&a->problems, "cannot tell HZ: stall ages from jiffies are unknown");
}

static double jiffies_ago(const struct ks_analysis *a, uint64_t then)
{
	return a->hz ? (double)(int64_t)(a->jiffies - then) / a->hz : -1;
}

void ks_timing_task(struct ks_analysis *a, size_t i)
{
	struct ks_kernel *k = a->kernel;
	double uptime = (double)a->now_ns / 1e9;
	const struct ks_task *t = &a->tasks.tasks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	struct ks_stall *st = &ta->stall;
	bool blocked = !t->active && (t->state_char == 'D' || ta->waits_on >= 0);
	uint64_t v;

	if (t->idle || (!blocked && ta->alloc.phase == KS_ALLOC_NONE))
		return;
	st->min_seconds = 0;
	st->max_seconds = uptime;
	/* The memalloc watchdog's record: exact, for allocations. */
	if (ta->alloc.phase != KS_ALLOC_NONE && ks_kernel_has(k, KS_F_TASK_MEMALLOC_START) &&
	    t->memalloc_valid && t->memalloc_start && a->hz) {
		st->source = KS_STALL_MEMALLOC;
		st->seconds = st->min_seconds = st->max_seconds = jiffies_ago(a, t->memalloc_start);
		st->exact = true;
		return;
	}
	if (blocked && (v = t->last_arrival) && v <= a->now_ns) {
		/* A sleeper has not run since it last arrived on a CPU: it began after that. */
		st->source = KS_STALL_SCHED_INFO;
		st->max_seconds = (double)(a->now_ns - v) / 1e9;
		st->seconds = st->max_seconds;
	}
	if (blocked && t->state_char == 'D' && (v = t->last_switch_time) && a->hz) {
		/* khungtaskd saw it switch last at v: it has been stuck at least since then. */
		double min = jiffies_ago(a, v);

		if (min >= 0 && min <= st->max_seconds) {
			st->min_seconds = min;
			if (st->source == KS_STALL_NONE) {
				st->source = KS_STALL_HUNG_TASK;
				st->seconds = min;
			}
		}
	}
	if (ta->alloc.phase != KS_ALLOC_NONE && st->source == KS_STALL_NONE &&
	    ks_kernel_has(k, KS_F_DELAYS_FREEPAGES_START) && t->delays &&
	    ks_try_read_u64(k, t->delays + ks_kernel_off(k, KS_F_DELAYS_FREEPAGES_START), &v) && v &&
	    v <= a->now_ns) {
		/* Set at each reclaim attempt: the stall began no later than that. */
		st->source = KS_STALL_DELAYACCT;
		st->min_seconds = (double)(a->now_ns - v) / 1e9;
		st->seconds = st->min_seconds;
	}
}

static void describe(struct ks_analysis *a, size_t i)
{
	const struct ks_task *t = &a->tasks.tasks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	const struct ks_stack *s = &a->stacks[i];
	char activity[256];

	for (size_t f = ta->first_frame; f < s->count && !t->active; f++)
		if (!strcmp(s->frames[f].function, "balance_dirty_pages"))
			ta->dirty_throttled = true;

	if (ta->alloc.phase != KS_ALLOC_NONE)
		snprintf(activity, sizeof(activity), "allocating%s%s: %s",
			 ta->alloc.context[0] ? " in " : "", ta->alloc.context,
			 ks_alloc_phase_name(ta->alloc.phase));
	else if (ta->dirty_throttled)
		snprintf(activity, sizeof(activity),
			 "throttled writing dirty pages (balance_dirty_pages)");
	else if (ta->waits_on >= 0 && ta->wait_type == KS_LOCK_PERCPU_DRAIN) {
		const struct ks_lock *l = &a->locks[ta->waits_on];
		char n[32] = "its";

		if (l->readers >= 0)
			snprintf(n, sizeof(n), "%ld", l->readers);
		snprintf(activity, sizeof(activity),
			 "holding the write side of percpu_rwsem %.120s, waiting for %.20s reader%s to leave",
			 l->name[0] ? l->name : "(unnamed)", n, l->readers == 1 ? "" : "s");
	} else if (ta->waits_on >= 0)
		snprintf(activity, sizeof(activity), "waiting for %s %.200s",
			 ks_wait_type_name(ta->wait_type),
			 a->locks[ta->waits_on].name[0] ? a->locks[ta->waits_on].name : "(unnamed)");
	else if (t->active)
		snprintf(activity, sizeof(activity), "running");
	else if (t->state_char == 'D')
		snprintf(activity, sizeof(activity), "uninterruptible sleep");
	else
		snprintf(activity, sizeof(activity), "sleeping");
	ta->activity = ks_strpool_intern(a->strings, activity);
	if (!ta->activity)
		ta->activity = "?";
}

/*
 * The stack pages the passes will read for t: *npages of them from *from (its
 * saved stack pointer's page) to the top of its stack; false: none to hint. One
 * count for the table's size and its filling, whatever a damaged task_struct
 * says (a stack not page-aligned, or at the top of the address space).
 */
static bool stack_span(const struct ks_task *t, uint64_t size, uint64_t *from, size_t *npages)
{
	if (t->active || !t->stack || t->stack > UINT64_MAX - size || t->thread_sp < t->stack ||
	    t->thread_sp - t->stack >= size)
		return false;
	*from = t->thread_sp & ~(uint64_t)(KS_TARGET_PAGE - 1);
	*npages = (size_t)((t->stack + size - *from + KS_TARGET_PAGE - 1) / KS_TARGET_PAGE);
	return true;
}

/*
 * The stack pages the per-task passes will read, task by task: from the saved
 * stack pointer to the top of the stack, in the order the tasks are taken.
 * first[o] is the first page of the o-th task taken. NULL when there is no
 * memory (the passes then read as they go).
 */
static uint64_t *stack_pages(struct ks_kernel *k, const struct ks_tasks *tasks, const size_t *order,
			     size_t *first, size_t *n)
{
	uint64_t size = ks_kernel_thread_size(k), from, *pages;
	size_t cap = 0, count = 0, npages;

	*n = 0;
	if (!size || size > (1 << 20) || size % KS_TARGET_PAGE)
		return NULL;
	for (size_t i = 0; i < tasks->count; i++)
		if (stack_span(&tasks->tasks[i], size, &from, &npages))
			cap += npages;
	if (!cap || !(pages = malloc(cap * sizeof(*pages))))
		return NULL;
	for (size_t o = 0; o < tasks->count; o++) {
		const struct ks_task *t = &tasks->tasks[order[o]];

		first[o] = count;
		if (stack_span(t, size, &from, &npages))
			for (size_t j = 0; j < npages; j++)
				pages[count++] = from + j * KS_TARGET_PAGE;
	}
	*n = count;
	return pages;
}

struct by_process {
	int32_t tgid;
	size_t i;
};

static int by_process_cmp(const void *x, const void *y)
{
	const struct by_process *a = x, *b = y;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The order the per-task passes take the tasks in: a process's threads
 * together, each process where its leader's pid puts it. The threads of a
 * process wait on the same locks (its mmap_lock above all); the first one
 * taken reads the lock's wait list through all the others' stacks, which
 * are then still in the read cache when their turn comes. In pid order, on
 * a dump of 10k tasks, 6 700 stack pages were read twice.
 */
static size_t *task_order(const struct ks_tasks *tasks)
{
	size_t n = tasks->count ? tasks->count : 1;
	struct by_process *keys = malloc(n * sizeof(*keys));
	size_t *order = malloc(n * sizeof(*order));

	if (!keys || !order) {
		free(keys);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < tasks->count; i++)
		keys[i] = (struct by_process){ tasks->tasks[i].tgid, i };
	qsort(keys, tasks->count, sizeof(*keys), by_process_cmp);
	for (size_t i = 0; i < tasks->count; i++)
		order[i] = keys[i].i;
	free(keys);
	return order;
}

struct ks_error *ks_analyze(struct ks_kernel *k, struct ks_analysis *ret)
{
	struct ks_target *target = ks_kernel_target(k);
	uint64_t *ahead = NULL;
	size_t *ahead_first = NULL, nahead = 0, *order = NULL;
	struct ks_unwinder *u = NULL;
	struct ks_locks_ctx *locks = NULL;
	struct ks_gfp_bits bits;
	struct ks_gfp_table gfp = { 0 };
	struct ks_u64map *map, pool = { 0 };
	struct ks_error *err;

	memset(ret, 0, sizeof(*ret));
	ret->kernel = k;
	err = ks_tasks_load(k, &ret->tasks);
	if (err)
		return err;
	/* The walk's problems come first, whole (they are already lines). */
	if (ret->tasks.problems && !(ret->problems = strdup(ret->tasks.problems))) {
		ks_tasks_deinit(&ret->tasks);
		return &ks_error_nomem;
	}
	map = calloc(1, sizeof(*map));
	ret->task_index = map;
	ret->strings = ks_strpool_create();
	ret->stacks = calloc(ret->tasks.count ? ret->tasks.count : 1, sizeof(*ret->stacks));
	ret->ta = calloc(ret->tasks.count ? ret->tasks.count : 1, sizeof(*ret->ta));
	if (!map || !ret->strings || !ret->stacks || !ret->ta) {
		err = &ks_error_nomem;
		goto fail;
	}
	for (size_t i = 0; i < ret->tasks.count; i++)
		if (!ret->tasks.tasks[i].idle &&
		    !ks_u64map_put(map, ret->tasks.tasks[i].address, (void *)(uintptr_t)(i + 1))) {
			err = &ks_error_nomem;
			goto fail;
		}
	err = ks_unwinder_create(k, &u);
	if (err)
		goto fail;
	ks_load_clocks(ret);
	ks_gfp_table_load(k, &gfp);
	ks_gfp_bits_init(&bits, &gfp);
	if (!gfp.count)
		ks_lines_append(&ret->problems, "no gfpflag_names in the dump: gfp masks are shown as numbers");
	if (!(locks = ks_locks_begin())) {
		err = &ks_error_nomem;
		goto fail_gfp;
	}
	if (!(order = task_order(&ret->tasks))) {
		err = &ks_error_nomem;
		goto fail_gfp;
	}
	/* The second CPU reads the stacks ahead while this one works. */
	if ((ahead_first = malloc((ret->tasks.count ? ret->tasks.count : 1) * sizeof(*ahead_first))) &&
	    (ahead = stack_pages(k, &ret->tasks, order, ahead_first, &nahead)))
		ks_target_readahead(target, ahead, nahead);
	/* Everything a task needs from its own pages, while they are in the read cache. */
	for (size_t o = 0; o < ret->tasks.count; o++) {
		size_t i = order[o];

		if (ahead)
			ks_target_readahead_at(target, ahead_first[o]);
		err = ks_unwind_task(u, &ret->tasks.tasks[i], &ret->stacks[i]);
		if (err)
			goto fail_gfp;
		ret->ta[i].first_frame = ks_model_first_frame(&ret->tasks.tasks[i], &ret->stacks[i]);
		ks_alloc_task(ret, i, &bits);
		err = ks_locks_task(ret, locks, i);
		if (err)
			goto fail_gfp;
		ks_timing_task(ret, i);
		ks_oom_task(ret, i);
		share_stack(ret, &pool, i);
		/*
		 * New functions in stacks read DWARF all along, most of them in the
		 * first tasks: keep those pages from piling up (after 256, 512, 1024
		 * tasks, then every 2048).
		 */
		if (o % 2048 == 2047 || (o >= 255 && !((o + 1) & o)))
			ks_debuginfo_trim(ks_kernel_debuginfo(k));
	}
	ks_target_readahead_end(target);
	for (size_t i = 0; i < ret->tasks.count; i++)
		if (ret->stacks[i].note[0])
			ks_lines_append(&ret->problems, "stack of pid %d (%s) incomplete: %s",
					ret->tasks.tasks[i].pid, ret->tasks.tasks[i].comm, ret->stacks[i].note);
	ks_debuginfo_trim(ks_kernel_debuginfo(k));
	ks_unwinder_destroy(u);
	u = NULL;
	ks_locks_free(locks);
	locks = NULL;
	ks_pass_memory(ret);
	err = ks_locks_finish(ret);
	if (!err) {
		struct ks_log log = { 0 };
		struct ks_error *lerr = ks_log_read(k, &log);

		if (lerr) {
			ks_lines_append(&ret->problems, "cannot read the kernel log: no OOM kills or "
							"hung-task reports linked to tasks");
			ks_error_destroy(lerr);
		} else {
			ks_pass_events(ret, &log);
			ks_log_deinit(&log);
		}
		ks_pass_oom(ret);
		for (size_t i = 0; i < ret->tasks.count; i++)
			describe(ret, i);
		err = ks_pass_verdict(ret);
	}
fail_gfp:
	ks_target_readahead_end(target);
	free(ahead);
	free(ahead_first);
	free(order);
	ks_u64map_free(&pool);
	ks_locks_free(locks);
	ks_gfp_table_deinit(&gfp);
	if (err)
		goto fail;
	return NULL;
fail:
	ks_unwinder_destroy(u);
	ks_analysis_deinit(ret);
	return err;
}

void ks_analysis_deinit(struct ks_analysis *a)
{
	if (a->stacks)
		for (size_t i = 0; i < a->tasks.count; i++)
			ks_stack_deinit(&a->stacks[i]);
	free(a->stacks);
	free(a->ta);
	free(a->locks);
	free(a->verdicts);
	free(a->problems);
	ks_memory_deinit(&a->memory);
	free(a->oom.reaper_queue);
	ks_events_free(a);
	if (a->task_index) {
		ks_u64map_free(a->task_index);
		free(a->task_index);
	}
	ks_tasks_deinit(&a->tasks);
	ks_strpool_destroy(a->strings);
	memset(a, 0, sizeof(*a));
}
