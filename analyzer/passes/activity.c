/*
 * The activity pass: what each task does, in a few words ("allocating in
 * fork: direct reclaim", "waiting for mutex stall_mutex_a"), once every other
 * per-task fact is in; one copy of each text, shared by the tasks.
 */
#include <stdio.h>
#include <string.h>

#include "passes/pass.h"
#include "base/strpool.h"

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
		snprintf(activity, sizeof(activity), "%s%s%s: %s",
			 ta->alloc.memcg ? "charging its memory cgroup" : "allocating",
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

static struct ks_error *activity_finish(struct ks_analysis *a, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < a->tasks.count; i++)
		describe(a, i);
	return NULL;
}

const struct ks_pass ks_pass_activity = {
	.name = "activity",
	.finish = activity_finish,
};
