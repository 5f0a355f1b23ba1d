/*
 * The groups pass: tasks that do the same thing, one group each, the one
 * grouping the text report, the HTML page and the JSON share. Same state,
 * same activity and the same own frames (from the task's first frame; the
 * scheduler's frames left out, since a sleeper and a task preempted in the
 * same place wait for the same thing). Names and activities are interned, so
 * equal means equal pointers: no key strings, which on 10k tasks would cost
 * megabytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "base/search.h"

struct member {
	const struct ks_analysis *a;
	size_t task;
	uint64_t hash;
};

static uint64_t hash_of(const struct ks_analysis *a, size_t i)
{
	const struct ks_stack *s = &a->stacks[i];
	uint64_t h = 14695981039346656037ull;

	h = (h ^ (uint64_t)(unsigned char)a->tasks.tasks[i].state_char) * 1099511628211ull;
	h = (h ^ (uint64_t)(uintptr_t)a->ta[i].activity) * 1099511628211ull;
	for (size_t f = a->ta[i].first_frame; f < s->count; f++)
		if (!ks_frame_is_scheduler(s->frames[f].function))
			h = (h ^ (uint64_t)(uintptr_t)s->frames[f].function) * 1099511628211ull;
	return h;
}

/* The next own frame at or after f: the scheduler's are left out. */
static size_t own(const struct ks_stack *s, size_t f)
{
	while (f < s->count && ks_frame_is_scheduler(s->frames[f].function))
		f++;
	return f;
}

static int order_ptr(const void *x, const void *y)
{
	return (uintptr_t)x < (uintptr_t)y ? -1 : (uintptr_t)x > (uintptr_t)y;
}

/* 0 when two tasks are in one group (same state, activity and own frames); else a total order. */
static int key_cmp(const struct member *p, const struct member *q)
{
	const struct ks_analysis *a = p->a;
	const struct ks_stack *s = &a->stacks[p->task], *t = &a->stacks[q->task];
	char sp = a->tasks.tasks[p->task].state_char, sq = a->tasks.tasks[q->task].state_char;
	size_t f, g;
	int c;

	if (p->hash != q->hash)
		return p->hash < q->hash ? -1 : 1;
	if (sp != sq)
		return sp < sq ? -1 : 1;
	if ((c = order_ptr(a->ta[p->task].activity, a->ta[q->task].activity)))
		return c;
	for (f = own(s, a->ta[p->task].first_frame), g = own(t, a->ta[q->task].first_frame);
	     f < s->count && g < t->count; f = own(s, f + 1), g = own(t, g + 1))
		if ((c = order_ptr(s->frames[f].function, t->frames[g].function)))
			return c;
	return (f < s->count) - (g < t->count);
}

/* Groups together, each in task order. */
static int by_key(const void *x, const void *y)
{
	const struct member *p = x, *q = y;
	int c = key_cmp(p, q);

	return c ? c : p->task < q->task ? -1 : p->task > q->task;
}

static int by_rank(const void *x, const void *y)
{
	const struct ks_task_group *p = x, *q = y;

	if (p->stalled != q->stalled)
		return p->stalled ? -1 : 1;
	if (p->count != q->count)
		return p->count > q->count ? -1 : 1;
	return p->first_task < q->first_task ? -1 : p->first_task > q->first_task;
}

static struct ks_error *groups_finish(struct ks_analysis *a, void *ctx)
{
	size_t n = 0, ng = 0, at = 0;
	struct member *m = malloc((a->tasks.count ? a->tasks.count : 1) * sizeof(*m));
	struct ks_task_group *g;

	(void)ctx;
	if (!m)
		return &ks_error_nomem;
	for (size_t i = 0; i < a->tasks.count; i++)
		if (!a->tasks.tasks[i].idle)
			m[n++] = (struct member){ a, i, hash_of(a, i) };
	ks_sort(m, n, sizeof(*m), by_key);
	g = calloc(n ? n : 1, sizeof(*g));
	a->group_tasks = malloc((n ? n : 1) * sizeof(*a->group_tasks));
	if (!g || !a->group_tasks) {
		free(m);
		free(g);
		return &ks_error_nomem;
	}
	/* first: where the group's run starts in m, until the groups are ranked */
	for (size_t k = 0; k < n; k++) {
		if (!k || key_cmp(&m[k - 1], &m[k]))
			g[ng++] = (struct ks_task_group){ .first = k, .first_task = m[k].task,
							  .stalled = ks_task_stalled(a, m[k].task) };
		g[ng - 1].count++;
	}
	ks_sort(g, ng, sizeof(*g), by_rank);
	/* members in task order, each group's after those of the groups ranked before it */
	for (size_t k = 0; k < ng; k++) {
		for (size_t j = 0; j < g[k].count; j++)
			a->group_tasks[at + j] = m[g[k].first + j].task;
		g[k].first = at;
		at += g[k].count;
	}
	a->groups = g;
	a->ngroups = ng;
	free(m);
	return NULL;
}

const struct ks_pass ks_pass_groups = {
	.name = "groups",
	.finish = groups_finish,
};
