/*
 * The coverage pass: how much of the dump the analysis read, for the verdicts
 * to say so. The tasks read against the kernel's own count (nr_threads, the
 * threads on the task list, and one idle task per online CPU, which the walk
 * takes from the run queues), and the problems that are failed reads. One
 * read (nr_threads) and counts over what the model holds: nothing per task is
 * read again.
 */
#include <string.h>

#include "passes/pass.h"

static bool failed(struct ks_analysis *a, enum ks_error_code code, uint64_t addr, const char *what)
{
	if (code)
		ks_problems_add(&a->problems, code, 0, addr, "cannot read %s at 0x%llx (%s)", what,
				(unsigned long long)addr, ks_error_code_name(code));
	return !code;
}

bool ks_pass_read_u64(struct ks_analysis *a, uint64_t addr, uint64_t *ret, const char *what)
{
	return failed(a, ks_read_code(a->kernel, addr, ret, sizeof(*ret)), addr, what);
}

bool ks_pass_read_u32(struct ks_analysis *a, uint64_t addr, uint32_t *ret, const char *what)
{
	return failed(a, ks_read_code(a->kernel, addr, ret, sizeof(*ret)), addr, what);
}

bool ks_pass_read_field(struct ks_analysis *a, uint64_t base, enum ks_field f, uint64_t *ret, const char *what)
{
	enum ks_error_code code = ks_read_field_code(a->kernel, base, f, ret);

	return code == KS_ERR_LOOKUP ? false : failed(a, code, base + ks_kernel_off(a->kernel, f), what);
}

static bool task_failed(struct ks_analysis *a, size_t i, enum ks_error_code code, uint64_t addr, const char *what)
{
	const struct ks_task *t = &a->tasks.tasks[i];

	if (code)
		ks_problems_add(&a->problems, code, t->address, addr, "cannot read %s of pid %d (%s) at 0x%llx (%s)", what,
				t->pid, t->comm, (unsigned long long)addr, ks_error_code_name(code));
	return !code;
}

bool ks_pass_read_task_u64(struct ks_analysis *a, size_t i, uint64_t addr, uint64_t *ret, const char *what)
{
	return task_failed(a, i, ks_read_code(a->kernel, addr, ret, sizeof(*ret)), addr, what);
}

bool ks_pass_read_task_field(struct ks_analysis *a, size_t i, enum ks_field f, uint64_t *ret, const char *what)
{
	uint64_t base = a->tasks.tasks[i].address;
	enum ks_error_code code = ks_read_field_code(a->kernel, base, f, ret);

	return code == KS_ERR_LOOKUP ? false : task_failed(a, i, code, base + ks_kernel_off(a->kernel, f), what);
}

/* PID_MAX_LIMIT: no kernel has more threads than pids */
#define MAX_THREADS (4u << 20)

static struct ks_error *coverage_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_coverage *c = &a->coverage;
	struct ks_kernel *k = a->kernel;
	enum ks_error_code code;
	bool walk_failed = false;

	(void)ctx;
	for (unsigned int cpu = 0; cpu < ks_kernel_nr_cpus(k); cpu++)
		c->idle_expected += ks_kernel_cpu_online(k, cpu);
	code = ks_read_global(k, "nr_threads", &c->nr_threads);
	if (code)
		ks_problems_add(&a->problems, code, 0, 0,
				"cannot read nr_threads (%s): how many tasks the kernel has is unknown",
				ks_error_code_name(code));
	else if (c->nr_threads > MAX_THREADS)
		ks_problems_add(&a->problems, KS_ERR_BAD_DATA, 0, 0,
				"nr_threads reads %llu, more than any kernel has: how many tasks the kernel has is unknown",
				(unsigned long long)c->nr_threads);
	else
		c->threads_known = true;
	if (c->threads_known)
		c->tasks_expected = c->nr_threads + c->idle_expected;
	c->tasks_read = a->tasks.count;
	for (size_t i = 0; i < a->tasks.count; i++) {
		c->idle_read += a->tasks.tasks[i].idle;
		c->tasks_partial += a->tasks.tasks[i].partial;
		c->stacks_incomplete += a->stacks && a->stacks[i].note[0] && !a->stacks[i].freed;
	}
	for (size_t p = 0; p < c->nparts; p++)
		walk_failed |= !strcmp(c->parts[p], "tasks");
	if (c->threads_known && c->tasks_read < c->tasks_expected) {
		/* a walk that ended early without a failed read says nothing itself: say it here */
		if (!walk_failed)
			ks_problems_add(&a->problems, KS_ERR_BAD_DATA, 0, 0,
					"the task walk found %zu of the %llu tasks the kernel counts (nr_threads %llu, "
					"%u idle)",
					c->tasks_read, (unsigned long long)c->tasks_expected,
					(unsigned long long)c->nr_threads, c->idle_expected);
		ks_coverage_add_part(c, "tasks");
	}
	for (size_t p = 0; p < a->problems.count; p++)
		c->read_failures += ks_problem_is_read_failure(a->problems.items[p].code);
	c->complete = c->threads_known && c->tasks_read >= c->tasks_expected && !c->read_failures;
	return NULL;
}

/* After every pass that reads the dump, before the verdicts, which it scales. */
const struct ks_pass ks_pass_coverage = {
	.name = "coverage",
	.finish = coverage_finish,
};
