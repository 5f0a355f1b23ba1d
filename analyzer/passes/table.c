/*
 * The passes, in the order they run. Each hook kind runs in this order: the
 * begin hooks, then per task (right after its unwind) the task hooks, then the
 * finish hooks. What each reads of the others' work, through the model:
 *
 *   alloc     task: the stack              -> ta.alloc (phase, gfp, order)
 *   memory    finish: counters, zones      -> memory
 *   pressure  finish: psi_system, clocks   -> memory.pressure
 *   locks     task: the stack, the blocker -> ta.waits_on; finish: locks, owners, in_cycle
 *   log       finish: the printk buffer    -> log, log_relevant
 *   events    finish: log                  -> events
 *   timing    task: alloc, waits_on        -> ta.stall; finish: pressure, events -> ta.stall
 *   consumers finish: tasks, mm counters, tmpfs -> memory.consumers
 *   kmem      finish: vmalloc, percpu, hugetlb -> memory.consumers.kernel
 *   slab      finish: slab_caches, the memory map -> memory.consumers.slab
 *   cgroups   finish: the cgroup v2 tree, alloc, locks -> memory.consumers.cgroups
 *   oom       task: the task               -> oom marks; finish: events, alloc -> oom
 *   activity  finish: alloc, locks         -> ta.activity, ta.dirty_throttled
 *   coverage  finish: tasks, problems, nr_threads -> coverage
 *   verdict   finish: all of the above     -> verdicts
 *   groups    finish: stacks, activity     -> groups, group_tasks
 *
 * A new pass is one file with its const struct ks_pass, and one line here.
 */
#include "passes/pass.h"

extern const struct ks_pass ks_pass_alloc, ks_pass_memory, ks_pass_pressure, ks_pass_locks, ks_pass_timing,
	ks_pass_log, ks_pass_events, ks_pass_facts, ks_pass_consumers, ks_pass_kmem, ks_pass_slab, ks_pass_cgroups, ks_pass_oom, ks_pass_activity, ks_pass_coverage, ks_pass_verdict, ks_pass_groups;

const struct ks_pass *const ks_pass_table[] = {
	&ks_pass_alloc,
	&ks_pass_memory,
	&ks_pass_pressure,
	&ks_pass_locks,
	&ks_pass_log,
	&ks_pass_events,
	&ks_pass_timing,
	&ks_pass_facts,
	&ks_pass_consumers,
	&ks_pass_kmem,
	&ks_pass_slab,
	&ks_pass_cgroups,
	&ks_pass_oom,
	&ks_pass_activity,
	&ks_pass_coverage,
	&ks_pass_verdict,
	&ks_pass_groups,
};

const size_t ks_pass_count = sizeof(ks_pass_table) / sizeof(ks_pass_table[0]);
