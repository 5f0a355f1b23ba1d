/*
 * The timing pass: for each stalled task, when its stall began, from the best
 * clock the kernel keeps, and whether that is exact or a bound.
 */
#include "passes/pass.h"

/* Seconds since the task's fork (start_time, the model's clock); -1 when unknown. */
static double task_age(const struct ks_analysis *a, const struct ks_task *t)
{
	return t->start_time && t->start_time <= a->now_ns ? (double)(a->now_ns - t->start_time) / 1e9 : -1;
}

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
	bool allocating = ta->alloc.phase != KS_ALLOC_NONE;
	/*
	 * A task in the allocator loops: its sleeps (reclaim throttling, congestion
	 * waits, the oom_lock retry) are short and each ends in a new arrival on a
	 * CPU, so the time since its last arrival or switch says nothing of when
	 * its stall began. Only lock waits and other sleeps are dated by them.
	 */
	bool blocked = !t->active && !allocating && (t->state_char == 'D' || ta->waits_on >= 0);
	uint64_t v;

	(void)ctx;
	if (t->idle || (!blocked && !allocating))
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
	/*
	 * khungtaskd (check_hung_task) sets last_switch_time to the jiffies at which it first
	 * saw the task's current switch count: a task blocked since then has been stuck at least
	 * that long. It is the task's own only while last_switch_count is still the task's
	 * nvcsw + nivcsw; the tasks khungtaskd skips (TASK_KILLABLE, TASK_IDLE, frozen; every
	 * task when the detector is off) keep an older pair, which this test refuses.
	 */
	if (blocked && t->state_char == 'D' && (v = t->last_switch_time) && a->hz && t->switch_known &&
	    t->last_switch_count == t->switch_count) {
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
	    ks_pass_read_task_u64(a, i, t->delays + ks_kernel_off(k, KS_F_DELAYS_FREEPAGES_START), &v,
				  "task_delay_info.freepages_start") &&
	    v &&
	    v <= a->now_ns) {
		/* Set at each reclaim attempt: the stall began no later than that. */
		st->source = KS_STALL_DELAYACCT;
		st->min_seconds = (double)(a->now_ns - v) / 1e9;
		st->seconds = st->min_seconds;
	}
	return NULL;
}

/*
 * A task that invoked the OOM killer (out_of_memory from its allocation's
 * slow path, which then retries the same allocation) and is allocating still
 * was in trouble at its first invocation the log holds. Whether an allocation
 * succeeded between that and now the log cannot tell, so this is an estimate
 * with no floor of its own (delay accounting's, if any, stands). It replaces
 * the system's onset (PSI) only when it is older: a task reclaims before it
 * invokes the killer, so a recent first invocation says little of when its
 * trouble began, while an old one is the task's own evidence.
 */
static void log_dates(struct ks_analysis *a)
{
	for (size_t e = 0; e < a->nevents; e++) {
		const struct ks_event *ev = &a->events[e];
		const struct ks_task *t;
		struct ks_stall *st;
		double age;

		if (ev->kind != KS_EVENT_OOM_INVOKED || ev->task < 0 || (size_t)ev->task >= a->tasks.count ||
		    ev->seconds_before < 0 || a->ta[ev->task].alloc.phase == KS_ALLOC_NONE)
			continue;
		t = &a->tasks.tasks[ev->task];
		st = &a->ta[ev->task].stall;
		if ((age = task_age(a, t)) < 0)
			age = (double)a->now_ns / 1e9;
		/* memalloc is exact; a line older than the task is another task's of that pid */
		if (st->source == KS_STALL_MEMALLOC || ev->seconds_before > age)
			continue;
		/* events are in log order: the first met is the earliest */
		if (st->source == KS_STALL_LOG || (st->source == KS_STALL_PSI && st->seconds >= ev->seconds_before))
			continue;
		st->source = KS_STALL_LOG;
		st->exact = false;
		st->seconds = ev->seconds_before > st->min_seconds ? ev->seconds_before : st->min_seconds;
		/* PSI's range was the system's: the task's own bound is its fork */
		st->max_seconds = age;
	}
}

/*
 * A task allocating while the whole system stalls on memory has, where no
 * clock of its own dates its stall (or delay accounting only says "no later
 * than its last reclaim attempt", a lower bound), the system's stall as its
 * best estimate: it began with the stall (PSI's onset), or at the task's
 * fork if that came later. An estimate, never exact.
 */
static void psi_dates(struct ks_analysis *a, const struct ks_pressure *p)
{
	if (p->state != KS_PSI_READ || p->sys.onset < 0)
		return;
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		struct ks_stall *st = &a->ta[i].stall;
		double age = task_age(a, t);
		double est = p->sys.onset, hi = p->sys.onset_at_least ? st->max_seconds : p->sys.onset_max;

		if (t->idle || a->ta[i].alloc.phase == KS_ALLOC_NONE ||
		    (st->source != KS_STALL_NONE && st->source != KS_STALL_DELAYACCT))
			continue;
		if (age >= 0) {
			est = est > age ? age : est;
			hi = hi > age ? age : hi;
		}
		/* delay accounting's lower bound stands: the estimate cannot be below it */
		if (est < st->min_seconds || hi < st->min_seconds)
			continue;
		st->source = KS_STALL_PSI;
		st->seconds = est;
		st->max_seconds = hi > st->max_seconds ? st->max_seconds : hi;
		st->exact = false;
	}
}

static struct ks_error *timing_finish(struct ks_analysis *a, void *ctx)
{
	const struct ks_pressure *p = &a->memory.pressure;

	(void)ctx;
	psi_dates(a, p);
	log_dates(a);
	return NULL;
}

const struct ks_pass ks_pass_timing = {
	.name = "timing",
	.task = timing_task,
	.finish = timing_finish,
};
