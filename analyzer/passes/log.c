/*
 * The log pass: the kernel log, kept in the model for the events pass and the
 * renderers, with the lines a support engineer looks for first marked.
 */
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

/*
 * What a support engineer looks for first in the log of a stalled machine:
 * the OOM killer's report and its memory dump, hung-task and lockup warnings,
 * allocation failures, BUG/WARNING splats, and the crash trigger.
 */
static bool relevant(const char *text)
{
	static const char *const words[] = {
		"invoked oom-killer", "Out of memory", "Killed process", "oom_reaper", "oom-kill:",
		"Memory cgroup out of memory", "blocked for more than", "hung_task", "page allocation failure",
		"INFO: task", "BUG:", "WARNING:", "Kernel panic", "sysrq: Trigger a crash", "Mem-Info",
		"lowmem_reserve", "Free swap", "soft lockup", "hard LOCKUP", "rcu_sched", "rcu_preempt",
		"self-detected stall", "stalls on CPUs", "workqueue lockup", "Tasks state", "Unreclaimable slab",
		"min:",
	};

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (strstr(text, words[w]))
			return true;
	return false;
}

static struct ks_error *log_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_error *err = ks_log_read(a->kernel, &a->log);

	(void)ctx;
	if (err) {
		ks_problems_add(&a->problems, err->code, 0, err->address,
				"cannot read the kernel log: no OOM kills or hung-task reports linked to tasks");
		ks_error_destroy(err);
		memset(&a->log, 0, sizeof(a->log));
		return NULL;
	}
	a->log_known = true;
	a->log_relevant = calloc(a->log.count ? a->log.count : 1, sizeof(*a->log_relevant));
	if (!a->log_relevant)
		return &ks_error_nomem;
	for (size_t r = 0; r < a->log.count; r++)
		if (a->log.records[r].text && relevant(a->log.records[r].text)) {
			a->log_relevant[r] = true;
			a->log_nrelevant++;
		}
	return NULL;
}

const struct ks_pass ks_pass_log = {
	.name = "log",
	.finish = log_finish,
};
