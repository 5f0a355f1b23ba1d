/*
 * The OOM pass: victims, the oom_lock holder and the tasks sleeping for it,
 * the reaper and its queue, tasks the killer may not pick, and the kills the
 * log recorded (linked by the events pass, which runs first).
 */
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

/* Per task, right after its unwind: victim mark, oom_score_adj, and whether it has an mm. */
static struct ks_error *oom_task(struct ks_analysis *a, void *ctx, size_t i)
{
	const struct ks_task *t = &a->tasks.tasks[i];
	struct ks_task_analysis *ta = &a->ta[i];

	(void)ctx;
	ta->oom_killed_seconds = -1;
	ta->oom_kill_event = ta->oom_reap_event = -1;
	if (t->idle)
		return NULL;
	ta->user = t->mm != 0;
	if (t->oom_mm) {
		ta->oom_victim = true;
		if (t->pid == t->tgid)
			a->oom.victims++;
	}
	if (t->oom_score_adj_known)
		ta->oom_score_adj = t->oom_score_adj;
	return NULL;
}

/* The OOM_KILL vm event, per CPU in vm_event_states.event[], summed as all_vm_events() does. */
static void kill_counter(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	int64_t item;
	uint64_t sum = 0;

	if (!ks_kernel_enumerator(k, KS_E_VM_EVENT_OOM_KILL, &item) || item < 0)
		return;
	for (unsigned int cpu = 0; cpu < ks_kernel_nr_cpus(k); cpu++) {
		struct ks_error *err;
		uint64_t base, v;

		if (!ks_kernel_cpu_online(k, cpu))
			continue;
		err = ks_kernel_per_cpu(k, "vm_event_states", cpu, &base);
		if (err) {
			ks_error_destroy(err);
			return;
		}
		if (!ks_pass_read_u64(a, base + (uint64_t)item * 8, &v, "a CPU's OOM_KILL vm event count"))
			return;
		sum += v;
	}
	a->oom.oom_kill_counter = sum;
	a->oom.oom_kill_counter_known = true;
}

static void victims(struct ks_analysis *a)
{
	/* The log's kill names the thread the killer chose; every thread of that process was killed. */
	for (size_t e = 0; e < a->nevents; e++) {
		const struct ks_event *ev = &a->events[e];

		if (ev->kind == KS_EVENT_OOM_REAPED && ev->task >= 0) {
			/* the reaper works on the process: its last word stands for every thread */
			for (size_t i = 0; i < a->tasks.count; i++)
				if (a->tasks.tasks[i].tgid == a->tasks.tasks[ev->task].tgid)
					a->ta[i].oom_reap_event = (long)e;
			continue;
		}
		if (ev->kind != KS_EVENT_OOM_KILL)
			continue;
		a->oom.kills++;
		if (ev->seconds_before >= 0) {
			/* log order: the first dated kill is the oldest */
			if (a->oom.first_kill_seconds < 0)
				a->oom.first_kill_seconds = ev->seconds_before;
			a->oom.last_kill_seconds = ev->seconds_before;
		}
		if (ev->task < 0)
			continue;
		for (size_t i = 0; i < a->tasks.count; i++)
			if (a->tasks.tasks[i].tgid == a->tasks.tasks[ev->task].tgid) {
				a->ta[i].oom_killed_seconds = ev->seconds_before;
				a->ta[i].oom_kill_event = (long)e;
			}
	}
}

static void oom_lock(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t lock, owner;
	enum ks_error_code code;

	a->oom.lock_owner = -1;
	if (!ks_kernel_symbol(k, "oom_lock", &lock))
		return;
	if ((code = ks_mutex_owner_word(k, lock, &owner))) {
		a->oom.lock_owner = -2;
		ks_problems_add(&a->problems, code, 0, code == KS_ERR_LOOKUP ? 0 : lock,
				"cannot read oom_lock: its holder is unknown");
		return;
	}
	owner = ks_lock_owner_task(owner);
	if (owner) {
		a->oom.lock_owner = ks_model_task_index(a, owner);
		if (a->oom.lock_owner < 0)
			ks_problems_add(&a->problems, KS_ERR_BAD_DATA, owner, 0,
					"oom_lock is held by a task not on the task list");
	}
	for (size_t i = 0; i < a->tasks.count; i++)
		if (a->ta[i].alloc.phase == KS_ALLOC_OOM_LOCK_WAIT)
			a->oom.lock_waiters++;
}

static void reaper(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t head, task;

	a->oom.reaper = -1;
	for (size_t i = 0; i < a->tasks.count; i++)
		if (!a->tasks.tasks[i].idle && !strcmp(a->tasks.tasks[i].comm, "oom_reaper")) {
			a->oom.reaper = (long)i;
			break;
		}
	if (!ks_kernel_has(k, KS_F_TASK_OOM_REAPER_LIST) ||
	    !ks_kernel_symbol(k, "oom_reaper_list", &head) || !ks_pass_read_u64(a, head, &task, "oom_reaper_list"))
		return;
	/* A singly linked list through task_struct.oom_reaper_list; bounded by the task count. */
	for (size_t n = 0; task && n <= a->tasks.count; n++) {
		long idx = ks_model_task_index(a, task);
		long *q;

		if (idx < 0) {
			ks_problems_add(&a->problems, KS_ERR_BAD_DATA, task, 0,
					"oom_reaper_list holds a task not on the task list");
			return;
		}
		for (size_t j = 0; j < a->oom.nreaper_queue; j++)
			if (a->oom.reaper_queue[j] == idx) {
				ks_problems_add(&a->problems, KS_ERR_BAD_DATA, task, 0, "oom_reaper_list loops");
				return;
			}
		q = realloc(a->oom.reaper_queue, (a->oom.nreaper_queue + 1) * sizeof(*q));
		if (!q)
			return;
		a->oom.reaper_queue = q;
		q[a->oom.nreaper_queue++] = idx;
		if (!ks_pass_read_field(a, task, KS_F_TASK_OOM_REAPER_LIST, &task, "task_struct.oom_reaper_list"))
			return;
	}
}

static void unkillable(struct ks_analysis *a)
{
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];

		/* user tasks only: kernel threads are never the killer's to pick */
		if (t->idle || a->ta[i].oom_score_adj != -1000 || !a->ta[i].user)
			continue;
		if (a->ta[i].alloc.phase != KS_ALLOC_NONE || (t->state_char == 'D' && !t->active))
			a->oom.unkillable_stuck++;
	}
}

static struct ks_error *oom_finish(struct ks_analysis *a, void *ctx)
{
	(void)ctx;
	a->oom.first_kill_seconds = a->oom.last_kill_seconds = -1;
	victims(a);
	kill_counter(a);
	oom_lock(a);
	reaper(a);
	unkillable(a);
	return NULL;
}

const struct ks_pass ks_pass_oom = {
	.name = "oom",
	.task = oom_task,
	.finish = oom_finish,
};
