/*
 * The model's shared rules: the name of every enum value, the task index, who
 * waits for whom, which tasks count as stalled. Passes and renderers alike ask
 * here, so that the text, JSON and HTML reports can never disagree on them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kstall/model.h"
#include "base/hashmap.h"
#include "base/strpool.h"

long ks_model_task_index(const struct ks_analysis *a, uint64_t address)
{
	/* Built in ks_analyze; the cast keeps the public struct free of internals. */
	return ks_u64map_get_index((const struct ks_u64map *)a->task_index, address);
}

const char *ks_alloc_phase_name(enum ks_alloc_phase p)
{
	static const char *const names[] = {
		[KS_ALLOC_NONE] = "none",
		[KS_ALLOC_RETRY] = "retry loop",
		[KS_ALLOC_RECLAIM] = "direct reclaim",
		[KS_ALLOC_COMPACTION] = "direct compaction",
		[KS_ALLOC_THROTTLED] = "throttled in reclaim",
		[KS_ALLOC_OOM_LOCK_WAIT] = "waiting for oom_lock",
		[KS_ALLOC_OOM_KILL] = "OOM kill",
	};
	return names[p];
}

const char *ks_alloc_oom_words(const struct ks_alloc_state *alloc)
{
	if (!alloc->may_oom_known)
		return "gfp mask unknown: whether it may invoke the OOM killer is not known";
	return alloc->may_oom ? "may invoke the OOM killer" : "may not invoke the OOM killer";
}

const char *ks_lock_type_name(enum ks_lock_type t)
{
	static const char *const names[] = {
		[KS_LOCK_MUTEX] = "mutex",
		[KS_LOCK_RWSEM_READ] = "rwsem",
		[KS_LOCK_RWSEM_WRITE] = "rwsem",
		[KS_LOCK_SEMAPHORE] = "semaphore",
		[KS_LOCK_PERCPU_READ] = "percpu_rwsem",
		[KS_LOCK_PERCPU_WRITE] = "percpu_rwsem",
		[KS_LOCK_PERCPU_DRAIN] = "percpu_rwsem",
		[KS_LOCK_FOLIO] = "folio",
	};
	return names[t];
}

const char *ks_wait_type_name(enum ks_lock_type t)
{
	static const char *const names[] = {
		[KS_LOCK_MUTEX] = "mutex",
		[KS_LOCK_RWSEM_READ] = "rwsem (read)",
		[KS_LOCK_RWSEM_WRITE] = "rwsem (write)",
		[KS_LOCK_SEMAPHORE] = "semaphore",
		[KS_LOCK_PERCPU_READ] = "percpu_rwsem (read)",
		[KS_LOCK_PERCPU_WRITE] = "percpu_rwsem (write)",
		[KS_LOCK_PERCPU_DRAIN] = "percpu_rwsem (write, readers to leave)",
		[KS_LOCK_FOLIO] = "folio lock",
	};
	return names[t];
}

const char *ks_stall_source_name(enum ks_stall_source s)
{
	static const char *const names[] = {
		[KS_STALL_NONE] = "none",
		[KS_STALL_MEMALLOC] = "memalloc",
		[KS_STALL_DELAYACCT] = "delayacct",
		[KS_STALL_PSI] = "psi",
		[KS_STALL_LOG] = "log",
		[KS_STALL_HUNG_TASK] = "hung_task",
		[KS_STALL_SCHED_INFO] = "sched_info",
	};
	return names[s];
}

bool ks_frame_is_scheduler(const char *fn)
{
	/* __schedule_loop: schedule()'s loop around __schedule since 6.6 */
	return !strcmp(fn, "context_switch") || !strcmp(fn, "__schedule") ||
	       !strcmp(fn, "__schedule_loop") || !strcmp(fn, "schedule");
}

/* For the panic task, only what the interrupt interrupted is the task's own work. */
size_t ks_model_first_frame(const struct ks_task *t, const struct ks_stack *s)
{
	size_t first = s->count;

	if (!t->panic)
		return 0;
	for (size_t f = 0; f < s->count; f++)
		if (!strncmp(s->frames[f].function, "asm_", 4))
			first = f + 1;
	return first;
}

const struct ks_support_gap *ks_model_support(const struct ks_analysis *a, size_t *count)
{
	*count = 0;
	return a->kernel ? ks_kernel_support_gaps(a->kernel, count) : NULL;
}

const char *ks_verdict_name(enum ks_verdict_kind kind)
{
	static const char *const names[] = {
		[KS_VERDICT_NONE] = "none",
		[KS_VERDICT_LOCK_CYCLE] = "lock_cycle",
		[KS_VERDICT_OOM_DEADLOCK] = "oom_deadlock",
		[KS_VERDICT_ALLOC_LOOP_NO_OOM] = "alloc_loop_no_oom",
		[KS_VERDICT_RECLAIM_THROTTLE] = "reclaim_throttle",
		[KS_VERDICT_SHMEM_NO_SWAP] = "shmem_no_swap",
		[KS_VERDICT_ALLOC_STORM] = "alloc_storm",
		[KS_VERDICT_OOM_VICTIM_STUCK] = "oom_victim_stuck",
		[KS_VERDICT_LOCK_CHAIN_HANG] = "lock_chain_hang",
		[KS_VERDICT_HUNG_TASKS] = "hung_tasks",
		[KS_VERDICT_FORK_STORM] = "fork_storm",
		[KS_VERDICT_MEMCG_LIMIT] = "memcg_limit",
		[KS_VERDICT_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
		[KS_VERDICT_INCONCLUSIVE] = "inconclusive",
	};
	return (unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind] ? names[kind] : "?";
}

bool ks_problem_is_read_failure(enum ks_error_code code)
{
	return code == KS_ERR_FAULT || code == KS_ERR_NODATA || code == KS_ERR_BAD_DATA || code == KS_ERR_OS;
}

void ks_coverage_add_part(struct ks_coverage *c, const char *part)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (!strcmp(c->parts[i], part))
			return;
	if (c->nparts < KS_COVERAGE_MAX_PARTS)
		c->parts[c->nparts++] = part;
}

double ks_coverage_scale(const struct ks_coverage *c)
{
	if (c->complete)
		return 1.0;
	if (!c->threads_known || !c->tasks_expected)
		return 0.5;
	return c->tasks_read >= c->tasks_expected ? 1.0 : (double)c->tasks_read / (double)c->tasks_expected;
}

void ks_coverage_words(const struct ks_coverage *c, char *buf, size_t size)
{
	char expected[32] = "?";
	size_t len;

	if (c->threads_known)
		snprintf(expected, sizeof(expected), "%llu", (unsigned long long)c->tasks_expected);
	len = (size_t)snprintf(buf, size, "%s: %zu of %s tasks read%s, %zu read%s failed",
			       c->complete ? "complete" : "incomplete", c->tasks_read, expected,
			       c->threads_known ? "" : " (nr_threads unreadable)", c->read_failures,
			       c->read_failures == 1 ? "" : "s");
	for (size_t i = 0; i < c->nparts && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "; not read in full: ", c->parts[i]);
}

const char *ks_mem_item_name(enum ks_mem_item item)
{
	static const char *const names[] = {
		[KS_MEM_TOTAL] = "total",
		[KS_MEM_FREE] = "free",
		[KS_MEM_FILE] = "file",
		[KS_MEM_SHMEM] = "shmem",
		[KS_MEM_DIRTY] = "dirty",
		[KS_MEM_WRITEBACK] = "writeback",
		[KS_MEM_ANON] = "anon",
		[KS_MEM_ACTIVE_ANON] = "active_anon",
		[KS_MEM_INACTIVE_ANON] = "inactive_anon",
		[KS_MEM_ACTIVE_FILE] = "active_file",
		[KS_MEM_INACTIVE_FILE] = "inactive_file",
		[KS_MEM_UNEVICTABLE] = "unevictable",
		[KS_MEM_MLOCKED] = "mlocked",
		[KS_MEM_SLAB_RECLAIMABLE] = "slab_reclaimable",
		[KS_MEM_SLAB_UNRECLAIMABLE] = "slab_unreclaimable",
		[KS_MEM_KERNEL_STACK] = "kernel_stack",
		[KS_MEM_PAGETABLES] = "pagetables",
		[KS_MEM_ISOLATED_ANON] = "isolated_anon",
		[KS_MEM_ISOLATED_FILE] = "isolated_file",
		[KS_MEM_SWAP_TOTAL] = "swap_total",
		[KS_MEM_SWAP_FREE] = "swap_free",
	};
	return item < KS_MEM__COUNT ? names[item] : "?";
}

const char *ks_psi_state_name(enum ks_psi_state state)
{
	static const char *const names[] = {
		[KS_PSI_ABSENT] = "absent",
		[KS_PSI_DISABLED] = "disabled",
		[KS_PSI_READ] = "read",
		[KS_PSI_UNREADABLE] = "unreadable",
	};
	return names[state];
}

const char *ks_slab_state_name(enum ks_slab_state state)
{
	static const char *const names[] = {
		[KS_SLAB_UNREAD] = "unread",
		[KS_SLAB_READ] = "read",
		[KS_SLAB_NOT_SLUB] = "not_slub",
		[KS_SLAB_TOO_BIG] = "too_big",
		[KS_SLAB_UNREADABLE] = "unreadable",
	};
	return names[state];
}

const char *ks_psi_resource_name(enum ks_psi_resource resource)
{
	static const char *const names[] = {
		[KS_PSI_MEMORY] = "memory",
		[KS_PSI_IO] = "io",
		[KS_PSI_CPU] = "cpu",
	};
	return names[resource];
}

double ks_memory_mib(const struct ks_memory *m, uint64_t pages)
{
	return (double)pages * (double)m->page_size / 1048576.0;
}

const char *ks_event_kind_name(enum ks_event_kind kind)
{
	static const char *const names[] = {
		[KS_EVENT_OOM_INVOKED] = "oom_invoked",
		[KS_EVENT_OOM_KILL] = "oom_kill",
		[KS_EVENT_OOM_REAPED] = "oom_reaped",
		[KS_EVENT_OOM_REAP_FAILED] = "oom_reap_failed",
		[KS_EVENT_HUNG_TASK] = "hung_task",
		[KS_EVENT_ALLOC_FAILURE] = "alloc_failure",
		[KS_EVENT_MEMCG_OOM] = "memcg_oom",
		[KS_EVENT_OOM_NO_VICTIM] = "oom_no_victim",
	};
	return names[kind];
}

long ks_waits_for(const struct ks_analysis *a, size_t i)
{
	long w = a->ta[i].waits_on;

	if (w < 0 || a->locks[w].owner_is_hint || a->locks[w].owner == (long)i)
		return -1;
	return a->locks[w].owner;
}

bool ks_task_stalled(const struct ks_analysis *a, size_t i)
{
	const struct ks_task *t = &a->tasks.tasks[i];

	return !t->idle && (a->ta[i].alloc.phase != KS_ALLOC_NONE || a->ta[i].waits_on >= 0 ||
			    t->state_char == 'D');
}

void ks_analysis_deinit(struct ks_analysis *a)
{
	if (a->stacks)
		for (size_t i = 0; i < a->tasks.count; i++)
			ks_stack_deinit(&a->stacks[i]);
	free(a->stacks);
	free(a->ta);
	free(a->locks);
	free(a->verdicts);
	free(a->groups);
	free(a->group_tasks);
	ks_problems_deinit(&a->problems);
	free(a->memory.zones);
	free(a->oom.reaper_queue);
	free(a->events);
	ks_log_deinit(&a->log);
	free(a->log_relevant);
	if (a->task_index) {
		ks_u64map_free(a->task_index);
		free(a->task_index);
	}
	ks_tasks_deinit(&a->tasks);
	ks_strpool_destroy(a->strings);
	memset(a, 0, sizeof(*a));
}

void ks_file_label(const struct ks_file_ref *f, char *buf, size_t size)
{
	if (!f->known)
		snprintf(buf, size, "inode 0x%llx", (unsigned long long)f->inode);
	else if (f->path[0])
		snprintf(buf, size, "%s", f->path);
	else
		snprintf(buf, size, "inode %llu on %s", (unsigned long long)f->ino,
			 f->fstype[0] ? f->fstype : "?");
}

/*
 * FSHIFT, the kernel's fixed-point shift for avenrun (include/linux/sched/loadavg.h): a macro, so
 * not in DWARF; it has been 11 since Linux 1.x and is part of what /proc/loadavg means.
 */
#define LOAD_FSHIFT 11
#define LOAD_FIXED_1 (1ull << LOAD_FSHIFT)

void ks_facts_loadavg(const struct ks_dump_facts *f, int which, char *buf, size_t size)
{
	/* as fs/proc/loadavg.c: get_avenrun(.., FIXED_1/200, ..), then LOAD_INT and LOAD_FRAC */
	uint64_t v;

	if (!f->loadavg_known || which < 0 || which > 2) {
		snprintf(buf, size, "?");
		return;
	}
	v = f->loadavg[which] + LOAD_FIXED_1 / 200;
	snprintf(buf, size, "%llu.%02llu", (unsigned long long)(v >> LOAD_FSHIFT),
		 (unsigned long long)((((v & (LOAD_FIXED_1 - 1)) * 100) >> LOAD_FSHIFT)));
}

size_t ks_memory_breakdown(const struct ks_memory *m, struct ks_ram_part *ret)
{
	static const struct {
		const char *name, *what;
		enum ks_mem_item a, b, minus;
	} parts[] = {
		{ "anon", "anonymous memory of processes (NR_ANON_MAPPED)", KS_MEM_ANON, KS_MEM__COUNT, KS_MEM__COUNT },
		{ "page cache", "file pages without shmem (NR_FILE_PAGES - NR_SHMEM): reclaimable once clean",
		  KS_MEM_FILE, KS_MEM__COUNT, KS_MEM_SHMEM },
		{ "shmem", "tmpfs, /dev/shm, shared anonymous and SysV memory (NR_SHMEM): only swap frees it",
		  KS_MEM_SHMEM, KS_MEM__COUNT, KS_MEM__COUNT },
		{ "slab", "kernel objects (NR_SLAB_RECLAIMABLE + NR_SLAB_UNRECLAIMABLE)", KS_MEM_SLAB_RECLAIMABLE,
		  KS_MEM_SLAB_UNRECLAIMABLE, KS_MEM__COUNT },
		{ "kernel stacks", "a stack per task (NR_KERNEL_STACK_KB)", KS_MEM_KERNEL_STACK, KS_MEM__COUNT,
		  KS_MEM__COUNT },
		{ "page tables", "page tables of processes (NR_PAGETABLE)", KS_MEM_PAGETABLES, KS_MEM__COUNT,
		  KS_MEM__COUNT },
		{ "free", "free pages (NR_FREE_PAGES)", KS_MEM_FREE, KS_MEM__COUNT, KS_MEM__COUNT },
	};
	uint64_t sum = 0;
	size_t n = 0;

	if (!m->known[KS_MEM_TOTAL] || !m->pages[KS_MEM_TOTAL])
		return 0;
	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
		uint64_t v;

		if (!m->known[parts[p].a] || (parts[p].b != KS_MEM__COUNT && !m->known[parts[p].b]) ||
		    (parts[p].minus != KS_MEM__COUNT && !m->known[parts[p].minus]))
			return 0;
		v = m->pages[parts[p].a] + (parts[p].b != KS_MEM__COUNT ? m->pages[parts[p].b] : 0);
		if (parts[p].minus != KS_MEM__COUNT)
			v = v > m->pages[parts[p].minus] ? v - m->pages[parts[p].minus] : 0;
		ret[n++] = (struct ks_ram_part){ parts[p].name, parts[p].what, v };
		sum += v;
	}
	ret[n++] = (struct ks_ram_part){ "other kernel",
					 "what no counter names: drivers, buffers, vmalloc, percpu, hugetlb pools, "
					 "pages in flight",
					 sum < m->pages[KS_MEM_TOTAL] ? m->pages[KS_MEM_TOTAL] - sum : 0 };
	return n;
}

const char *ks_vmlinux_origin_name(enum ks_vmlinux_origin o)
{
	static const char *const names[] = {
		[KS_VMLINUX_GIVEN] = "given",
		[KS_VMLINUX_CANDIDATE] = "candidate",
		[KS_VMLINUX_DEBUG_PATH] = "debug_path",
		[KS_VMLINUX_DEBUGINFOD] = "debuginfod",
	};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

const char *ks_vmlinux_check_name(enum ks_vmlinux_check c)
{
	static const char *const names[] = {
		[KS_VMLINUX_BUILD_ID] = "build_id",
		[KS_VMLINUX_BANNER] = "banner",
		[KS_VMLINUX_FORCED] = "forced",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

void ks_facts_vmlinux_match(const struct ks_dump_facts *f, char *buf, size_t size)
{
	static const char *const found[] = {
		[KS_VMLINUX_GIVEN] = "given",
		[KS_VMLINUX_CANDIDATE] = "a given candidate",
		[KS_VMLINUX_DEBUG_PATH] = "found in the debug paths",
		[KS_VMLINUX_DEBUGINFOD] = "from debuginfod",
	};
	static const char *const checked[] = {
		[KS_VMLINUX_BUILD_ID] = "its build-id is the dump's",
		[KS_VMLINUX_BANNER] = "no build-id on one side: its banner is the dump's",
		[KS_VMLINUX_FORCED] = "not checked against the dump (--force)",
	};

	snprintf(buf, size, "%s; %s",
		 (unsigned)f->vmlinux_origin < sizeof(found) / sizeof(found[0]) ? found[f->vmlinux_origin] : "?",
		 (unsigned)f->vmlinux_check < sizeof(checked) / sizeof(checked[0]) ? checked[f->vmlinux_check]
										     : "?");
}

/* "2026-12-02 19:04:05 UTC", or "" when the dump does not date the crash */
void ks_facts_crash_time(const struct ks_dump_facts *f, char *buf, size_t size)
{
	time_t t = (time_t)f->crash_time;
	struct tm tm;

	buf[0] = '\0';
	if (f->crash_time >= 0 && gmtime_r(&t, &tm))
		strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}
