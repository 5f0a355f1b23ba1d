/* The task model: every thread of every process, kernel threads and per-CPU idle tasks. */
#ifndef KSTALL_TASKS_H
#define KSTALL_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"
#include "kstall/kernel.h"

#define KS_COMM_LEN 16

struct ks_task {
	uint64_t address;
	int32_t pid, tgid, ppid;
	char comm[KS_COMM_LEN + 1];
	uint64_t state, exit_state, flags;
	char state_char;
	int cpu;
	/* task_struct.on_cpu */
	bool on_cpu;
	/* rq->curr of its CPU at the crash */
	bool active;
	/* active on the CPU that crashed */
	bool panic;
	/* a per-CPU idle task (pid 0) */
	bool idle;
	/* fields that could not be read; the task is kept with what was read */
	bool partial;
	/*
	 * What the later passes need from the task_struct, read during the walk:
	 * on a dump of 10k tasks their pages have left the read cache by the time
	 * the passes run. 0 when the kernel has no such field or it could not be
	 * read (partial says which tasks lost a field the walk requires).
	 */
	uint64_t stack, thread_sp, mm, signal;
	/* sched_info.last_arrival (ns), last_switch_time (jiffies), delays (pointer) */
	uint64_t last_arrival, last_switch_time, delays;
	/* nvcsw + nivcsw, and the count khungtaskd saw when it set last_switch_time; switch_known
	 * when all three were read */
	uint64_t switch_count, last_switch_count;
	bool switch_known;
	/* task_struct.start_time: the monotonic clock (ns) at fork; 0 when unknown */
	uint64_t start_time;
	/* task_struct.rss_stat.count[] (before 6.2): this thread's unfolded mm counter deltas */
	int32_t rss_delta[4];
	bool rss_delta_known;
	/* the memalloc watchdog's record, where the kernel has one */
	uint64_t memalloc_valid, memalloc_start;
	/* task_struct.blocker (or, 6.15, blocker_mutex) as stored */
	uint64_t blocker;
	/* task_struct.pi_blocked_on: the rt_mutex_waiter it queued, 0 when not blocked on an rt_mutex */
	uint64_t pi_blocked_on;
	/* task_struct.cgroups: its css_set (the cgroups it is in); 0 when unknown */
	uint64_t css_set;
	/* signal->oom_mm; signal->oom_score_adj when oom_score_adj_known */
	uint64_t oom_mm;
	int16_t oom_score_adj;
	bool oom_score_adj_known;
};

struct ks_tasks {
	struct ks_task *tasks;
	size_t count;
	/* problems met during the walk */
	struct ks_problems problems;
};

/* A walk that never fails on bad task data: it stops, notes the problem, and keeps what it has. */
struct ks_error *ks_tasks_load(struct ks_kernel *k, struct ks_tasks *ret);
void ks_tasks_deinit(struct ks_tasks *tasks);
const struct ks_task *ks_tasks_find_pid(const struct ks_tasks *tasks, int32_t pid);

/*
 * The kernel's own state letter. letters are the first characters of
 * task_state_array[] in the dump (e.g. "RSDTtXZPI").
 */
char ks_state_char(const char *letters, size_t n, uint64_t state, uint64_t exit_state);

#endif
