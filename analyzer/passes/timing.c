/*
 * The timing pass: for each stalled task, when its stall began, from the best
 * clock the kernel keeps, and whether that is exact or a bound.
 */
#include "passes/pass.h"

static double jiffies_ago(const struct ks_analysis *a, uint64_t then)
{
	return a->hz ? (double)(int64_t)(a->jiffies - then) / a->hz : -1;
}

static struct ks_error *timing_task(struct ks_analysis *a, void *ctx, size_t i)
{
	struct ks_kernel *k = a->kernel;
	double uptime = (double)a->now_ns / 1e9;
	const struct ks_task *t = &a->tasks.tasks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	struct ks_stall *st = &ta->stall;
	bool blocked = !t->active && (t->state_char == 'D' || ta->waits_on >= 0);
	uint64_t v;

	(void)ctx;
	if (t->idle || (!blocked && ta->alloc.phase == KS_ALLOC_NONE))
		return NULL;
	st->min_seconds = 0;
	st->max_seconds = uptime;
	/* The memalloc watchdog's record: exact, for allocations. */
	if (ta->alloc.phase != KS_ALLOC_NONE && ks_kernel_has(k, KS_F_TASK_MEMALLOC_START) &&
	    t->memalloc_valid && t->memalloc_start && a->hz) {
		st->source = KS_STALL_MEMALLOC;
		st->seconds = st->min_seconds = st->max_seconds = jiffies_ago(a, t->memalloc_start);
		st->exact = true;
		return NULL;
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
	return NULL;
}

const struct ks_pass ks_pass_timing = {
	.name = "timing",
	.task = timing_task,
};
