/*
 * The driver: build the model (tasks, their index, the clocks), then run the
 * pass table over it in one fused loop, each task's unwind followed at once
 * by every pass's per-task hook while its pages are in the read cache, and
 * the finish hooks after. The order is the table's (table.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "kstall/modules.h"
#include "model/build.h"
#include "base/hashmap.h"
#include "base/strpool.h"
#include "base/search.h"

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
	ks_sort(keys, tasks->count, sizeof(*keys), by_process_cmp);
	for (size_t i = 0; i < tasks->count; i++)
		order[i] = keys[i].i;
	free(keys);
	return order;
}

/*
 * A failed read among the problems from `from` on: part could not be read in
 * full (the coverage says so). A count compared per hook, nothing read.
 */
static void note_part(struct ks_analysis *a, size_t from, const char *part)
{
	for (size_t i = from; i < a->problems.count; i++)
		if (ks_problem_is_read_failure(a->problems.items[i].code)) {
			ks_coverage_add_part(&a->coverage, part);
			return;
		}
}

/* The model before any pass: tasks, their index, and the clocks. */
static struct ks_error *build_model(struct ks_kernel *k, struct ks_analysis *a)
{
	struct ks_u64map *map;
	struct ks_error *err = ks_tasks_load(k, &a->tasks);
	size_t before;

	if (err)
		return err;
	/* The walk's problems come first. */
	ks_problems_append(&a->problems, &a->tasks.problems);
	note_part(a, 0, "tasks");
	/* what the kernel open could not read of the modules (frames and locks in them go unnamed) */
	before = a->problems.count;
	ks_problems_append(&a->problems, &ks_kernel_modules(k)->problems);
	note_part(a, before, "modules");
	map = calloc(1, sizeof(*map));
	a->task_index = map;
	a->strings = ks_strpool_create();
	a->stacks = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(*a->stacks));
	a->ta = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(*a->ta));
	if (!map || !a->strings || !a->stacks || !a->ta)
		return &ks_error_nomem;
	for (size_t i = 0; i < a->tasks.count; i++)
		if (!a->tasks.tasks[i].idle &&
		    !ks_u64map_put_index(map, a->tasks.tasks[i].address, i))
			return &ks_error_nomem;
	before = a->problems.count;
	ks_model_load_clocks(a);
	note_part(a, before, "clocks");
	return NULL;
}

/* The per-task loop: unwind, every pass's task hook, then the stack trimmed and shared. */
static struct ks_error *task_loop(struct ks_analysis *a, void **ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_target *target = ks_kernel_target(k);
	uint64_t *ahead = NULL;
	size_t *ahead_first = NULL, nahead = 0, *order;
	struct ks_unwinder *u = NULL;
	struct ks_u64map pool = { 0 };
	struct ks_error *err;

	if (!(order = task_order(&a->tasks)))
		return &ks_error_nomem;
	err = ks_unwinder_create(k, &u);
	/* The second CPU reads the stacks ahead while this one works. */
	if (!err && !ks_kernel_settings(k)->one_thread &&
	    (ahead_first = malloc((a->tasks.count ? a->tasks.count : 1) * sizeof(*ahead_first))) &&
	    (ahead = stack_pages(k, &a->tasks, order, ahead_first, &nahead)))
		ks_target_readahead(target, ahead, nahead);
	for (size_t o = 0; !err && o < a->tasks.count; o++) {
		size_t i = order[o];

		if (ahead)
			ks_target_readahead_at(target, ahead_first[o]);
		err = ks_unwind_task(u, &a->tasks.tasks[i], &a->stacks[i]);
		if (err)
			break;
		a->ta[i].first_frame = ks_model_first_frame(&a->tasks.tasks[i], &a->stacks[i]);
		for (size_t p = 0; !err && p < ks_pass_count; p++)
			if (ks_pass_table[p]->task) {
				size_t before = a->problems.count;

				err = ks_pass_table[p]->task(a, ctx[p], i);
				if (a->problems.count != before)
					note_part(a, before, ks_pass_table[p]->name);
			}
		if (err)
			break;
		ks_model_share_stack(a, &pool, i);
		/*
		 * New functions in stacks read DWARF all along, most of them in the
		 * first tasks: keep those pages from piling up (after 256, 512, 1024
		 * tasks, then every 2048).
		 */
		if (o % 2048 == 2047 || (o >= 255 && !((o + 1) & o)))
			ks_debuginfo_trim(ks_kernel_debuginfo(k));
	}
	ks_target_readahead_end(target);
	free(ahead);
	free(ahead_first);
	free(order);
	ks_u64map_free(&pool);
	ks_unwinder_destroy(u);
	return err;
}

struct ks_error *ks_analyze(struct ks_kernel *k, struct ks_analysis *ret)
{
	void **ctx = calloc(ks_pass_count, sizeof(*ctx));
	struct ks_error *err;

	memset(ret, 0, sizeof(*ret));
	ret->kernel = k;
	err = ctx ? build_model(k, ret) : &ks_error_nomem;
	for (size_t p = 0; !err && p < ks_pass_count; p++)
		if (ks_pass_table[p]->begin) {
			size_t before = ret->problems.count;

			err = ks_pass_table[p]->begin(ret, &ctx[p]);
			note_part(ret, before, ks_pass_table[p]->name);
		}
	if (!err)
		err = task_loop(ret, ctx);
	if (!err) {
		size_t before = ret->problems.count;

		for (size_t i = 0; i < ret->tasks.count; i++)
			if (ret->stacks[i].note[0] && !ret->stacks[i].freed)
				ks_problems_add(&ret->problems, ret->stacks[i].note_code,
						ret->tasks.tasks[i].address, 0,
						"stack of pid %d (%s) incomplete: %s", ret->tasks.tasks[i].pid,
						ret->tasks.tasks[i].comm, ret->stacks[i].note);
		note_part(ret, before, "stacks");
		ks_debuginfo_trim(ks_kernel_debuginfo(k));
	}
	for (size_t p = 0; !err && p < ks_pass_count; p++)
		if (ks_pass_table[p]->finish) {
			size_t before = ret->problems.count;

			err = ks_pass_table[p]->finish(ret, ctx[p]);
			note_part(ret, before, ks_pass_table[p]->name);
		}
	for (size_t p = 0; ctx && p < ks_pass_count; p++)
		if (ks_pass_table[p]->end)
			ks_pass_table[p]->end(ctx[p]);
	free(ctx);
	if (err)
		ks_analysis_deinit(ret);
	return err;
}
