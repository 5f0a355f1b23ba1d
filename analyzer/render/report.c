/* Rendering the analysis: the text report an engineer reads first, and its JSON. */
#include "render/report.h"
#include "base/term.h"
#include "base/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kstall/debuginfo.h"

#ifndef KSTALL_VERSION
#define KSTALL_VERSION "0"
#endif

#define REPORT_SCHEMA_VERSION 2
#define STACK_KEY_FRAMES 6

static const char *lock_name(const struct ks_lock *l)
{
	return l->name[0] ? l->name : "(unnamed)";
}

void ks_report_stall_words(const struct ks_stall *st, char *buf, size_t size)
{
	if (st->source == KS_STALL_NONE)
		snprintf(buf, size, "since ?");
	else if (st->exact)
		snprintf(buf, size, "%.0f s [%s]", st->seconds, ks_stall_source_name(st->source));
	else if (st->source == KS_STALL_PSI || st->source == KS_STALL_LOG)
		/* an estimate: the number first, then what bounds it */
		snprintf(buf, size, "~%.0f s (%.0f-%.0f) [%s]", st->seconds, st->min_seconds, st->max_seconds,
			 ks_stall_source_name(st->source));
	else
		snprintf(buf, size, "%.0f-%.0f s [%s]", st->min_seconds, st->max_seconds,
			 ks_stall_source_name(st->source));
}

/* A short stack key: the first frames below the scheduler, for grouping. */
static void stack_key(const struct ks_analysis *a, size_t i, char *buf, size_t size)
{
	const struct ks_stack *s = &a->stacks[i];
	size_t len = 0, shown = 0;

	buf[0] = '\0';
	for (size_t f = a->ta[i].first_frame; f < s->count && shown < STACK_KEY_FRAMES; f++) {
		const char *fn = s->frames[f].function;

		if (ks_frame_is_scheduler(fn))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					shown ? " < " : "", fn);
		shown++;
	}
}

static void text_psi_line(FILE *out, const char *what, const struct ks_psi_line *l)
{
	if (l->known)
		ks_term_printf(out, "  %-4s %6.2f%% %6.2f%% %6.2f%% %9.1f s", what, l->avg10, l->avg60, l->avg300,
			l->total_seconds);
}

/* "memory stall going on since about N s before the crash (a-b s), P% of the time since", a line of
 * its own after indent; nothing when the group has no memory stall going on */
static void text_onset(FILE *out, const char *indent, const struct ks_psi_group *g)
{
	if (g->onset < 0)
		return;
	ks_term_printf(out, "%s", indent);
	if (g->onset_at_least)
		ks_term_printf(out, "memory stall going on since %.0f s or more before the crash", g->onset_min);
	else
		ks_term_printf(out, "memory stall going on since about %.0f s before the crash (%.0f-%.0f s)", g->onset,
			g->onset_min, g->onset_max);
	ks_term_printf(out, ", %.0f%% of the time since [PSI estimate]\n", g->onset_share);
}

/*
 * The cgroups under memory pressure of their own (memory some avg10 of 1% or
 * more), the root's being the system's above.
 */
static void text_cgroup_pressure(FILE *out, const struct ks_memory *m)
{
	const struct ks_consumers *c = &m->consumers;

	for (size_t i = 0; c->cgroups_known && i < c->ncgroups; i++) {
		const struct ks_cgroup_mem *g = &c->cgroups[i];

		if (!g->psi_known || !strcmp(g->path, "/") || g->psi.some[KS_PSI_MEMORY].avg10 < 1.0)
			continue;
		ks_term_printf(out, "    cgroup %s memory", g->path);
		text_psi_line(out, "some", &g->psi.some[KS_PSI_MEMORY]);
		text_psi_line(out, "full", &g->psi.full[KS_PSI_MEMORY]);
		ks_term_printf(out, "\n");
		text_onset(out, "      ", &g->psi);
	}
}

/* The PRESSURE lines: what /proc/pressure would have said, or why there is nothing to say. */
static void text_pressure(FILE *out, const struct ks_memory *m)
{
	const struct ks_pressure *p = &m->pressure;

	if (p->state != KS_PSI_READ) {
		ks_term_printf(out, "  PRESSURE  %s\n",
			p->state == KS_PSI_DISABLED ? "PSI is disabled in this kernel (psi=0 or CONFIG_PSI_DEFAULT_DISABLED)"
			: p->state == KS_PSI_UNREADABLE ? "psi_system could not be read"
							: "no PSI in this kernel (CONFIG_PSI=n, or a layout kstall does not know)");
		return;
	}
	ks_term_printf(out, "  PRESSURE (PSI: avg10 avg60 avg300, total stall");
	if (p->sys.updated_seconds_before >= 0)
		ks_term_printf(out, "; as of %.1f s before the crash", p->sys.updated_seconds_before);
	ks_term_printf(out, ")\n");
	for (int r = 0; r < KS_PSI__COUNT; r++) {
		ks_term_printf(out, "    %-7s", ks_psi_resource_name((enum ks_psi_resource)r));
		text_psi_line(out, "some", &p->sys.some[r]);
		text_psi_line(out, "full", &p->sys.full[r]);
		ks_term_printf(out, "\n");
	}
	text_onset(out, "    ", &p->sys);
	text_cgroup_pressure(out, m);
}

/* Memory cgroups with a limit or stalled tasks (the others are summed up by the machine's counters). */
static void text_cgroups(FILE *out, const struct ks_memory *m)
{
	const struct ks_consumers *c = &m->consumers;
	size_t shown = 0;

	if (!c->cgroups_known)
		return;
	for (size_t i = 0; i < c->ncgroups; i++) {
		const struct ks_cgroup_mem *g = &c->cgroups[i];

		if (!g->limited && !g->high_limited && !g->stalled)
			continue;
		if (!shown++)
			ks_term_printf(out, "    memory cgroups (of %zu):\n", c->cgroups_seen);
		ks_term_printf(out, "      %-24s %.1f MiB", g->path, ks_memory_mib(m, g->usage_pages));
		if (g->limited)
			ks_term_printf(out, " of memory.max %.1f MiB (%.0f%%)", ks_memory_mib(m, g->max_pages),
				g->max_pages ? 100.0 * (double)g->usage_pages / (double)g->max_pages : 0.0);
		if (g->high_limited)
			ks_term_printf(out, ", memory.high %.1f MiB", ks_memory_mib(m, g->high_pages));
		if (g->events_known && g->high_limited)
			ks_term_printf(out, "; over its high %llu times", (unsigned long long)g->ev_high);
		if (g->events_known)
			ks_term_printf(out, "; hit its max %llu times, %llu OOMs, %llu OOM kills",
				(unsigned long long)g->ev_max, (unsigned long long)g->ev_oom,
				(unsigned long long)g->ev_oom_kill);
		ks_term_printf(out, "; %zu stalled task%s\n", g->stalled, g->stalled == 1 ? "" : "s");
	}
}

/* vmalloc, percpu and the hugetlb pools, as /proc/meminfo's VmallocUsed, Percpu and Hugetlb */
static void text_kernel_mem(FILE *out, const struct ks_memory *m, const struct ks_kernel_mem *km)
{
	ks_term_printf(out, "    kernel: vmalloc ");
	if (km->vmalloc_known)
		ks_term_printf(out, "%.1f MiB", ks_memory_mib(m, km->vmalloc_pages));
	else
		ks_term_printf(out, "?");
	ks_term_printf(out, ", percpu ");
	if (km->percpu_known)
		ks_term_printf(out, "%.1f MiB", ks_memory_mib(m, km->percpu_pages));
	else
		ks_term_printf(out, "?");
	if (km->hugetlb_absent)
		ks_term_printf(out, ", no hugetlb pools (no hugetlbfs)\n");
	else if (!km->hugetlb_known)
		ks_term_printf(out, ", hugetlb pools ?\n");
	else
		ks_term_printf(out, ", hugetlb pools %.1f MiB (%.1f MiB free)\n", ks_memory_mib(m, km->hugetlb_pages),
			ks_memory_mib(m, km->hugetlb_free_pages));
	if (km->threads_known)
		ks_term_printf(out, "    threads: %llu of max_threads %llu; %llu forks since boot\n",
			(unsigned long long)km->nr_threads, (unsigned long long)km->max_threads,
			(unsigned long long)km->total_forks);
}

/* The biggest slab caches, as kmem -s: what their slabs span, objects allocated of room. */
static void text_slab(FILE *out, const struct ks_memory *m)
{
	const struct ks_slab_census *s = &m->consumers.slab;
	double total = m->known[KS_MEM_TOTAL] ? (double)m->pages[KS_MEM_TOTAL] : 0;

	switch (s->state) {
	case KS_SLAB_UNREAD:
		return;
	case KS_SLAB_NOT_SLUB:
		ks_term_printf(out, "    slab caches: not counted (the allocator is SLOB or SLAB: its pages name no cache)\n");
		return;
	case KS_SLAB_TOO_BIG:
		ks_term_printf(out, "    slab caches: not counted (the memory map is too big to walk in a report)\n");
		return;
	case KS_SLAB_UNREADABLE:
		ks_term_printf(out, "    slab caches: not counted (the dump lacks the memory map's tables)\n");
		return;
	case KS_SLAB_READ:
		break;
	}
	ks_term_printf(out, "    slab caches: %zu holding %.1f MiB in %llu slabs%s\n", s->caches, ks_memory_mib(m, s->pages),
		(unsigned long long)s->slabs,
		s->unreadable_map_pages ? " (part of the memory map is missing from the dump: a lower bound)" : "");
	for (size_t i = 0; i < s->ntop && i < 5; i++) {
		const struct ks_slab_cache *c = &s->top[i];

		ks_term_printf(out, "      %-24s %9.1f MiB", c->name[0] ? c->name : "?", ks_memory_mib(m, c->pages));
		if (total)
			ks_term_printf(out, " %5.1f%%", 100.0 * (double)c->pages / total);
		ks_term_printf(out, "  %llu of %llu objects of %llu bytes in use\n", (unsigned long long)c->inuse,
			(unsigned long long)c->objects, (unsigned long long)c->object_size);
	}
}

/* The processes holding the most memory, their sums, and the task count's growth. */
static void text_consumers(FILE *out, const struct ks_analysis *a)
{
	const struct ks_memory *m = &a->memory;
	const struct ks_consumers *c = &m->consumers;
	double total = m->known[KS_MEM_TOTAL] ? (double)m->pages[KS_MEM_TOTAL] : 0;

	ks_term_printf(out, "  CONSUMERS (processes by resident memory, from their mm counters)\n");
	if (!c->known)
		ks_term_printf(out, "    the mm counters' layout is unknown: no per-process memory\n");
	for (size_t p = 0; p < c->ntop; p++) {
		const struct ks_process_mem *pm = &c->top[p];
		const struct ks_task *t = &a->tasks.tasks[pm->task];
		uint64_t rss = pm->anon + pm->file + pm->shmem;

		if (!rss && !pm->swap)
			break;
		ks_term_printf(out, "    %-16s pid %-7d %9.1f MiB", t->comm, t->tgid, ks_memory_mib(m, rss));
		if (total)
			ks_term_printf(out, " %5.1f%%", 100.0 * (double)rss / total);
		ks_term_printf(out, "  anon %.1f, file %.1f, shmem %.1f MiB; swap %.1f MiB", ks_memory_mib(m, pm->anon),
			ks_memory_mib(m, pm->file), ks_memory_mib(m, pm->shmem), ks_memory_mib(m, pm->swap));
		if (pm->pgtables_known)
			ks_term_printf(out, "; page tables %.1f MiB", (double)pm->pgtables_bytes / 1048576.0);
		ks_term_printf(out, "; %zu thread%s\n", pm->threads, pm->threads == 1 ? "" : "s");
	}
	if (c->known)
		ks_term_printf(out, "    all %zu processes: anon %.1f, file %.1f, shmem %.1f MiB; swap %.1f MiB; page tables "
			     "%.1f MiB%s\n",
			c->processes, ks_memory_mib(m, c->anon), ks_memory_mib(m, c->file), ks_memory_mib(m, c->shmem),
			ks_memory_mib(m, c->swap), (double)c->pgtables_bytes / 1048576.0,
			c->unreadable ? " (some processes' counters could not be read)" : "");
	if (c->young_known)
		ks_term_printf(out, "    tasks forked in the last %d s: %zu of %zu\n", KS_YOUNG_SECONDS, c->young,
			a->tasks.count);
	text_kernel_mem(out, m, &c->kernel);
	text_slab(out, m);
	text_cgroups(out, m);
	if (c->files_known) {
		ks_term_printf(out, "    tmpfs files: %zu holding %.1f MiB%s\n", c->files_seen, ks_memory_mib(m, c->files_pages),
			c->files_cut ? " (the walk stopped at its bound)" : "");
		for (size_t f = 0; f < c->nfiles; f++) {
			char label[sizeof(c->files[f].file.path) + 32];

			ks_file_label(&c->files[f].file, label, sizeof(label));
			ks_term_printf(out, "      %-40s %9.1f MiB", label, ks_memory_mib(m, c->files[f].pages));
			if (total)
				ks_term_printf(out, " %5.1f%%", 100.0 * (double)c->files[f].pages / total);
			/* who holds it open: whom to ask to let go of it */
			for (size_t h = 0; h < c->files[f].nholders && h < KS_FILE_HOLDERS; h++)
				ks_term_printf(out, "%s%s (pid %d)", h ? ", " : "  open in ",
					a->tasks.tasks[c->files[f].holders[h]].comm,
					a->tasks.tasks[c->files[f].holders[h]].tgid);
			if (c->files[f].nholders > KS_FILE_HOLDERS)
				ks_term_printf(out, " and %zu more", c->files[f].nholders - KS_FILE_HOLDERS);
			ks_term_printf(out, "\n");
		}
	}
}

static void text_memory(FILE *out, const struct ks_analysis *a)
{
	const struct ks_memory *m = &a->memory;
	static const enum ks_mem_item shown[] = {
		KS_MEM_TOTAL,	    KS_MEM_FREE,	  KS_MEM_SHMEM,		    KS_MEM_FILE,
		KS_MEM_DIRTY,	    KS_MEM_WRITEBACK,	  KS_MEM_ANON,		    KS_MEM_MLOCKED,
		KS_MEM_UNEVICTABLE, KS_MEM_SLAB_RECLAIMABLE, KS_MEM_SLAB_UNRECLAIMABLE, KS_MEM_KERNEL_STACK,
		KS_MEM_PAGETABLES,  KS_MEM_SWAP_TOTAL,	  KS_MEM_SWAP_FREE,
	};

	ks_term_printf(out, "\nMEMORY (pages of %llu bytes)\n", (unsigned long long)m->page_size);
	text_pressure(out, m);
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		enum ks_mem_item it = shown[i];

		if (!m->known[it])
			continue;
		ks_term_printf(out, "  %-20s %10llu  %9.1f MiB", ks_mem_item_name(it),
			(unsigned long long)m->pages[it], ks_memory_mib(&a->memory, m->pages[it]));
		if (m->known[KS_MEM_TOTAL] && m->pages[KS_MEM_TOTAL] && it != KS_MEM_TOTAL &&
		    it != KS_MEM_SWAP_TOTAL && it != KS_MEM_SWAP_FREE)
			ks_term_printf(out, "  %5.1f%% of total",
				100.0 * (double)m->pages[it] / (double)m->pages[KS_MEM_TOTAL]);
		ks_term_printf(out, "\n");
	}
	for (size_t z = 0; z < m->nzones; z++) {
		const struct ks_zone_info *zi = &m->zones[z];

		if (zi->free_unread)
			ks_term_printf(out, "  node %d zone %-8s free %8s", zi->node, zi->name, "?");
		else
			ks_term_printf(out, "  node %d zone %-8s free %8llu", zi->node, zi->name,
				(unsigned long long)zi->free);
		if (zi->watermarks_known)
			ks_term_printf(out, "  min %6llu low %6llu high %6llu%s",
				(unsigned long long)zi->min, (unsigned long long)zi->low,
				(unsigned long long)zi->high,
				zi->free < zi->min	? "  BELOW MIN"
				: zi->free < zi->low ? "  below low"
						     : "");
		ks_term_printf(out, "\n");
	}
	if (m->kswapd_failed_nodes)
		ks_term_printf(out, "  kswapd gave up on %u node%s\n", m->kswapd_failed_nodes,
			m->kswapd_failed_nodes == 1 ? "" : "s");
	text_consumers(out, a);
}

static void text_task(FILE *out, const struct ks_analysis *a, long i)
{
	ks_term_printf(out, "%s (pid %d, %c)", a->tasks.tasks[i].comm, a->tasks.tasks[i].pid,
		a->tasks.tasks[i].state_char);
}

/* What the victim held when killed, and what the reaper left of it (shmem it cannot free). */
static void text_victim_memory(FILE *out, const struct ks_analysis *a, size_t i)
{
	long k = a->ta[i].oom_kill_event < (long)a->nevents ? a->ta[i].oom_kill_event : -1,
	     r = a->ta[i].oom_reap_event < (long)a->nevents ? a->ta[i].oom_reap_event : -1;

	if (k >= 0 && a->events[k].rss_known)
		ks_term_printf(out, "    at the kill: anon %.1f, file %.1f, shmem %.1f MiB\n", a->events[k].anon_kb / 1024.0,
			a->events[k].file_kb / 1024.0, a->events[k].shmem_kb / 1024.0);
	if (r >= 0 && a->events[r].rss_known) {
		ks_term_printf(out, "    the OOM reaper left: anon %.1f, file %.1f, shmem %.1f MiB", a->events[r].anon_kb / 1024.0,
			a->events[r].file_kb / 1024.0, a->events[r].shmem_kb / 1024.0);
		ks_term_printf(out, "%s\n", a->events[r].shmem_kb ? " (the reaper cannot free shared memory: it goes only "
							   "when every process mapping it has exited, and a tmpfs file keeps "
							   "its pages even then)"
							 : "");
	} else if (k >= 0) {
		ks_term_printf(out, "    the log has no word of the OOM reaper on it\n");
	}
}

static void text_oom(FILE *out, const struct ks_analysis *a)
{
	const struct ks_oom *o = &a->oom;

	ks_term_printf(out, "\nOOM\n");
	for (size_t i = 0; i < a->tasks.count; i++) {
		if (!a->ta[i].oom_victim || a->tasks.tasks[i].pid != a->tasks.tasks[i].tgid)
			continue;
		ks_term_printf(out, "  victim ");
		text_task(out, a, (long)i);
		if (a->ta[i].oom_killed_seconds >= 0)
			ks_term_printf(out, ", killed %.0f s before the crash", a->ta[i].oom_killed_seconds);
		ks_term_printf(out, ": %s\n", a->ta[i].activity);
		text_victim_memory(out, a, i);
	}
	if (!o->victims)
		ks_term_printf(out, "  no OOM victim\n");
	ks_term_printf(out, "  oom_lock: ");
	if (o->lock_owner >= 0) {
		ks_term_printf(out, "held by ");
		text_task(out, a, o->lock_owner);
		ks_term_printf(out, ", %s", a->ta[o->lock_owner].activity);
	} else {
		ks_term_printf(out, "%s", o->lock_owner == -2 ? "unreadable" : "free");
	}
	ks_term_printf(out, "; %zu task%s sleeping for it\n", o->lock_waiters, o->lock_waiters == 1 ? "" : "s");
	ks_term_printf(out, "  oom_reaper: ");
	if (o->reaper >= 0) {
		text_task(out, a, o->reaper);
		ks_term_printf(out, ", %s", a->ta[o->reaper].activity);
	} else {
		ks_term_printf(out, "no reaper thread");
	}
	ks_term_printf(out, "; %zu queued", o->nreaper_queue);
	for (size_t q = 0; q < o->nreaper_queue; q++) {
		ks_term_printf(out, q ? ", " : ": ");
		text_task(out, a, o->reaper_queue[q]);
	}
	if (a->log_known)
		ks_term_printf(out, "\n  %zu OOM kill%s in the log", o->kills, o->kills == 1 ? "" : "s");
	else
		ks_term_printf(out, "\n  OOM kills in the log: unknown (the log could not be read)");
	if (o->kills > 1 && o->first_kill_seconds > o->last_kill_seconds)
		ks_term_printf(out, " over %.0f s (%.1f a second), the last %.0f s before the crash",
			o->first_kill_seconds - o->last_kill_seconds,
			(double)(o->kills - 1) / (o->first_kill_seconds - o->last_kill_seconds), o->last_kill_seconds);
	if (o->oom_kill_counter_known)
		ks_term_printf(out, "; the kernel counted %llu since boot (oom_kill)", (unsigned long long)o->oom_kill_counter);
	if (o->unkillable_stuck)
		ks_term_printf(out, "; %zu stuck task%s with oom_score_adj -1000 (the killer may not pick them)",
			o->unkillable_stuck, o->unkillable_stuck == 1 ? "" : "s");
	ks_term_printf(out, "\n");
}

#define TEXT_EVENTS_MAX 20

static void text_events(FILE *out, const struct ks_analysis *a)
{
	size_t first = a->nevents > TEXT_EVENTS_MAX ? a->nevents - TEXT_EVENTS_MAX : 0;

	ks_term_printf(out, "\nLOG (OOM, reaper, hung-task and allocation-failure lines)\n");
	if (first)
		ks_term_printf(out, "  ... %zu earlier lines (see --json)\n", first);
	for (size_t e = first; e < a->nevents; e++) {
		const struct ks_event *ev = &a->events[e];

		if (ev->seconds_before >= 0)
			ks_term_printf(out, "  %8.1f s before: %s\n", ev->seconds_before, ev->text);
		else
			ks_term_printf(out, "  %s\n", ev->text);
	}
	if (!a->nevents)
		ks_term_printf(out, "  none\n");
}

#define GROUP_PIDS_SHOWN 8

/* The model's stalled groups, biggest first; returns how many tasks they hold. */
static size_t text_groups(FILE *out, const struct ks_analysis *a)
{
	size_t n = 0;

	for (size_t k = 0; k < a->ngroups && a->groups[k].stalled; k++) {
		const struct ks_task_group *gr = &a->groups[k];
		size_t i = gr->first_task;
		char key[512], when[64];

		n += gr->count;
		stack_key(a, i, key, sizeof(key));
		ks_report_stall_words(&a->ta[i].stall, when, sizeof(when));
		ks_term_printf(out, "  %3zu x %c  %-16s %s, %s\n         %s\n", gr->count, a->tasks.tasks[i].state_char,
			a->tasks.tasks[i].comm, a->ta[i].activity, when, key);
		/* who they are: the first few pids and how many more */
		ks_term_printf(out, "         pid%s", gr->count == 1 ? "" : "s");
		for (size_t m = gr->first; m < gr->first + gr->count && m < gr->first + GROUP_PIDS_SHOWN; m++)
			ks_term_printf(out, "%s %d", m == gr->first ? "" : ",", a->tasks.tasks[a->group_tasks[m]].pid);
		if (gr->count > GROUP_PIDS_SHOWN)
			ks_term_printf(out, " and %zu more", gr->count - GROUP_PIDS_SHOWN);
		{
			/* their cgroup, where it is one below the root for the whole group */
			const char *cg = a->ta[i].cgroup;

			for (size_t m = gr->first; cg && m < gr->first + gr->count; m++)
				if (!a->ta[a->group_tasks[m]].cgroup || strcmp(a->ta[a->group_tasks[m]].cgroup, cg))
					cg = NULL;
			if (cg && strcmp(cg, "/"))
				ks_term_printf(out, "; cgroup %s", cg);
		}
		ks_term_printf(out, "\n");
		if (a->ta[i].alloc.phase != KS_ALLOC_NONE && a->ta[i].alloc.gfp_known) {
			char loops[64] = "";
			int lo = 0, hi = 0;
			bool any = false;

			/* the slowpath's own count of reclaim rounds without progress, over the group */
			for (size_t m = gr->first; m < gr->first + gr->count; m++) {
				const struct ks_alloc_state *al = &a->ta[a->group_tasks[m]].alloc;

				if (!al->no_progress_known)
					continue;
				lo = !any || al->no_progress_loops < lo ? al->no_progress_loops : lo;
				hi = !any || al->no_progress_loops > hi ? al->no_progress_loops : hi;
				any = true;
			}
			if (any && lo == hi)
				snprintf(loops, sizeof(loops), ", no_progress_loops %d", lo);
			else if (any)
				snprintf(loops, sizeof(loops), ", no_progress_loops %d-%d", lo, hi);
			ks_term_printf(out, "         gfp %s, order %u, %s%s\n", a->ta[i].alloc.gfp_names,
				a->ta[i].alloc.order,
				ks_alloc_oom_words(&a->ta[i].alloc),
				loops);
		}
	}
	return n;
}

#define CHAIN_MAX 16
#define WAITERS_SHOWN 8

/* Why a lock has no owner to show. */
static const char *no_owner_words(const struct ks_lock *l)
{
	switch (l->type) {
	case KS_LOCK_SEMAPHORE:
		return "no one kstall can name (semaphores record no owner)";
	case KS_LOCK_FOLIO:
		return "no one kstall can name (the kernel records no owner of a page lock)";
	case KS_LOCK_PERCPU_READ:
	case KS_LOCK_PERCPU_WRITE:
	case KS_LOCK_PERCPU_DRAIN:
		return l->write_held ? "a writer the kernel does not record"
				     : "readers the kernel does not record";
	default:
		return "no owner recorded";
	}
}

/* Wait-for cycles among lock owners, each once: tasks[i] waits for locks[i], held by tasks[i + 1]. */
struct chain_cycle {
	long tasks[CHAIN_MAX], locks[CHAIN_MAX];
	int n;
};

#define CYCLES_MAX 16

/* The cycle reached from lock l's owner, rotated to start at its lowest task index; false if none. */
static bool cycle_from(const struct ks_analysis *a, long l, struct chain_cycle *ret)
{
	long tasks[CHAIN_MAX], locks[CHAIN_MAX];
	int n = 0;

	while (l >= 0 && a->locks[l].owner >= 0 && n < CHAIN_MAX) {
		long j = a->locks[l].owner;

		for (int s = 0; s < n; s++) {
			int first = s;

			if (tasks[s] != j)
				continue;
			ret->n = n - s;
			for (int t = s; t < n; t++)
				if (tasks[t] < tasks[first])
					first = t;
			for (int t = 0; t < ret->n; t++) {
				ret->tasks[t] = tasks[s + (first - s + t) % ret->n];
				ret->locks[t] = locks[s + (first - s + t) % ret->n];
			}
			return true;
		}
		tasks[n] = j;
		locks[n++] = a->ta[j].waits_on;
		l = a->ta[j].waits_on;
		if (l >= 0 && a->locks[l].owner == j)
			return false;
	}
	return false;
}

/* Which cycle task j is on (1-based), 0 when none. */
static int cycle_of_task(const struct chain_cycle *cycles, int ncycles, long j)
{
	for (int c = 0; c < ncycles; c++)
		for (int t = 0; t < cycles[c].n; t++)
			if (cycles[c].tasks[t] == j)
				return c + 1;
	return 0;
}

static void chain_task(FILE *out, const struct ks_analysis *a, long j)
{
	ks_term_printf(out, "%s (pid %d, %c%s)", a->tasks.tasks[j].comm, a->tasks.tasks[j].pid,
		a->tasks.tasks[j].state_char, a->ta[j].oom_victim ? ", OOM victim" : "");
}

/*
 * From a lock's owner down what each owner waits for: "-> owner -> lock -> owner: activity",
 * stopping at a task on a cycle (printed once, above) or at the end of the chain.
 */
static void text_owner_chain(FILE *out, const struct ks_analysis *a, long lock,
			     const struct chain_cycle *cycles, int ncycles)
{
	int hops = 0;

	for (long l = lock; l >= 0 && hops++ < CHAIN_MAX;) {
		long j = a->locks[l].owner;
		int cycle;

		if (j < 0) {
			ks_term_printf(out, " -> %s", no_owner_words(&a->locks[l]));
			return;
		}
		ks_term_printf(out, " -> ");
		if (a->locks[l].owner_is_hint)
			ks_term_printf(out, "%s (a hint) ", a->locks[l].hint_words ? a->locks[l].hint_words : "maybe");
		chain_task(out, a, j);
		if ((cycle = cycle_of_task(cycles, ncycles, j))) {
			ks_term_printf(out, ": in cycle %d", cycle);
			return;
		}
		l = a->ta[j].waits_on;
		/* the end, or an owner waiting on its own lock: a percpu_rwsem writer waiting for readers */
		if (l < 0 || a->locks[l].owner == j) {
			ks_term_printf(out, ": %s", a->ta[j].activity);
			return;
		}
		ks_term_printf(out, " -> %s %s", ks_lock_type_name(a->locks[l].type), lock_name(&a->locks[l]));
	}
}

/* How a waiter waits, after its pid in the chains: ", read", ", write", or "". */
static const char *mode_words(enum ks_lock_type t)
{
	switch (t) {
	case KS_LOCK_RWSEM_READ:
	case KS_LOCK_PERCPU_READ:
		return ", read";
	case KS_LOCK_RWSEM_WRITE:
	case KS_LOCK_PERCPU_WRITE:
		return ", write";
	case KS_LOCK_PERCPU_DRAIN:
		return ", write, readers to leave";
	default:
		return "";
	}
}

/* Locks shown in full; a storm of contended mmap_locks is summed up after them. */
#define CHAINS_SHOWN 12

struct chain_order {
	const struct ks_analysis *a;
	const size_t *waiters;
	const int *cycle;
};

/* Locks on cycles first (cycle 1's, then cycle 2's), then the most waited for; then lock order. */
static int by_chain_rank(const void *x, const void *y, void *arg)
{
	const struct chain_order *o = arg;
	size_t l = *(const size_t *)x, m = *(const size_t *)y;

	if (o->cycle[l] != o->cycle[m])
		return !o->cycle[l] ? 1 : !o->cycle[m] ? -1 : o->cycle[l] - o->cycle[m];
	if (o->waiters[l] != o->waiters[m])
		return o->waiters[l] < o->waiters[m] ? 1 : -1;
	return l < m ? -1 : l > m;
}

/*
 * Each wait-for cycle once, then one entry per contended lock, "LOCK <- its waiters" and the
 * owner chain under it; past CHAINS_SHOWN locks, a count by lock type.
 */
static void text_chains(FILE *out, const struct ks_analysis *a)
{
	struct chain_cycle cycles[CYCLES_MAX];
	int ncycles = 0;
	size_t *waiters = calloc(a->nlocks ? a->nlocks : 1, sizeof(*waiters));
	size_t *order = calloc(a->nlocks ? a->nlocks : 1, sizeof(*order));
	int *cycle = calloc(a->nlocks ? a->nlocks : 1, sizeof(*cycle));
	/* the locks past CHAINS_SHOWN, by the name of their type ("rwsem" for either side) */
	const char *type_names[8];
	size_t more_locks = 0, more_waiters = 0, by_type[8] = { 0 };
	int ntypes = 0;

	ks_term_printf(out, "\nLOCK CHAINS (LOCK <- its waiters; -> its owner, the lock that owner waits for, and on)\n");
	if (!waiters || !order || !cycle) {
		ks_term_printf(out, "  (out of memory)\n");
		goto out;
	}
	for (size_t i = 0; i < a->tasks.count; i++)
		if (a->ta[i].waits_on >= 0 && (size_t)a->ta[i].waits_on < a->nlocks)
			waiters[a->ta[i].waits_on]++;
	for (size_t l = 0; l < a->nlocks && ncycles < CYCLES_MAX; l++) {
		struct chain_cycle c;
		bool known = false;

		if (!cycle_from(a, (long)l, &c))
			continue;
		for (int k = 0; k < ncycles && !known; k++)
			known = cycles[k].n == c.n && cycles[k].tasks[0] == c.tasks[0];
		if (!known)
			cycles[ncycles++] = c;
	}
	for (int k = 0; k < ncycles; k++) {
		ks_term_printf(out, "  cycle %d: ", k + 1);
		for (int t = 0; t < cycles[k].n; t++) {
			const struct ks_lock *lk = &a->locks[cycles[k].locks[t]];

			chain_task(out, a, cycles[k].tasks[t]);
			ks_term_printf(out, " -> %s %s -> ", ks_lock_type_name(lk->type), lock_name(lk));
			cycle[cycles[k].locks[t]] = k + 1;
		}
		ks_term_printf(out, "back to %s (pid %d)\n", a->tasks.tasks[cycles[k].tasks[0]].comm,
			a->tasks.tasks[cycles[k].tasks[0]].pid);
	}
	for (size_t l = 0; l < a->nlocks; l++)
		order[l] = l;
	qsort_r(order, a->nlocks, sizeof(*order), by_chain_rank,
		&(struct chain_order){ a, waiters, cycle });
	for (size_t r = 0; r < a->nlocks; r++) {
		size_t l = order[r], shown = 0;

		if (r >= CHAINS_SHOWN) {
			const char *name = ks_lock_type_name(a->locks[l].type);
			int t = 0;

			more_locks++;
			more_waiters += waiters[l];
			while (t < ntypes && strcmp(type_names[t], name))
				t++;
			if (t == ntypes && ntypes < 8)
				type_names[ntypes++] = name;
			if (t < ntypes)
				by_type[t]++;
			continue;
		}
		ks_term_printf(out, "  %s %s <- ", ks_lock_type_name(a->locks[l].type), lock_name(&a->locks[l]));
		for (size_t i = 0, prev = 0; i < a->tasks.count && shown < WAITERS_SHOWN; i++) {
			if (a->ta[i].waits_on != (long)l)
				continue;
			/* a storm's waiters share a comm: it is said once */
			if (shown && !strcmp(a->tasks.tasks[prev].comm, a->tasks.tasks[i].comm))
				ks_term_printf(out, ", (pid %d%s)", a->tasks.tasks[i].pid,
					mode_words(a->ta[i].wait_type));
			else
				ks_term_printf(out, "%s%s (pid %d%s)", shown ? ", " : "", a->tasks.tasks[i].comm,
					a->tasks.tasks[i].pid, mode_words(a->ta[i].wait_type));
			shown++;
			prev = i;
		}
		if (waiters[l] > WAITERS_SHOWN)
			ks_term_printf(out, " and %zu more", waiters[l] - WAITERS_SHOWN);
		ks_term_printf(out, "\n   ");
		text_owner_chain(out, a, (long)l, cycles, ncycles);
		ks_term_printf(out, "\n");
	}
	if (more_locks) {
		const char *sep = "";

		ks_term_printf(out, "  and %zu more lock%s (", more_locks, more_locks == 1 ? "" : "s");
		for (int t = 0; t < ntypes; t++) {
			ks_term_printf(out, "%s%zu %s", sep, by_type[t], type_names[t]);
			sep = ", ";
		}
		ks_term_printf(out, ") with %zu waiter%s: kstall report --json lists every one\n", more_waiters,
			more_waiters == 1 ? "" : "s");
	}
	if (!a->nlocks)
		ks_term_printf(out, "  none\n");
out:
	free(waiters);
	free(order);
	free(cycle);
}

/* The dump facts under the title: what every ticket starts with. */
static void text_facts(FILE *out, const struct ks_analysis *a)
{
	const struct ks_dump_facts *f = &a->facts;
	char when[40], match[120];

	ks_facts_crash_time(f, when, sizeof(when));
	ks_facts_vmlinux_match(f, match, sizeof(match));
	ks_term_printf(out, "  host %s, crashed %s", f->host[0] ? f->host : "(unknown)", when[0] ? when : "(time unknown)");
	if (f->panic_cpu >= 0)
		ks_term_printf(out, " on CPU %d", f->panic_cpu);
	ks_term_printf(out, ": %s\n", f->panic[0] ? f->panic : "(the log names no panic)");
	if (!f->taint_known)
		ks_term_printf(out, "  taints unknown");
	else if (!f->taint_mask)
		ks_term_printf(out, "  not tainted");
	else
		ks_term_printf(out, "  tainted %s%s%s%s", f->taint, f->ntainting_modules ? " by modules " : "",
			f->tainting_modules, "");
	ks_term_printf(out, "; kernel %s\n", f->version[0] ? f->version : "(build unknown)");
	if (a->kernel)
		ks_term_printf(out, "  vmlinux %s (%s); kstall %s\n",
			ks_debuginfo_path(ks_kernel_debuginfo(a->kernel)), match, KSTALL_VERSION);
}

static void report_verdicts(FILE *out, const struct ks_analysis *a)
{
	char cover[400];

	/* the clock unread is no uptime of 0 */
	if (a->now_ns)
		ks_term_printf(out, "kstall report: kernel %s, up %.0f s at the crash, %zu tasks\n",
			ks_kernel_release(a->kernel), (double)a->now_ns / 1e9, a->tasks.count);
	else
		ks_term_printf(out, "kstall report: kernel %s, uptime unknown, %zu tasks\n", ks_kernel_release(a->kernel),
			a->tasks.count);
	text_facts(out, a);
	ks_coverage_words(&a->coverage, cover, sizeof(cover));
	ks_term_printf(out, "  coverage %s\n\n", cover);
	for (size_t v = 0; v < a->nverdicts; v++) {
		const struct ks_verdict *vd = &a->verdicts[v];

		if (v == 0)
			ks_term_printf(out, "VERDICT  %s (score %.2f)\n  %s\n  signature: %s\n", ks_verdict_name(vd->kind),
				vd->score, vd->summary, vd->signature);
		else {
			if (v == 1)
				ks_term_printf(out, "\nOther hypotheses:\n");
			ks_term_printf(out, "  %.2f %s: %s\n", vd->score, ks_verdict_name(vd->kind), vd->summary);
		}
	}
}

static void report_stalled(FILE *out, const struct ks_analysis *a)
{
	ks_term_printf(out, "\nSTALLED TASKS (grouped by state, activity and stack, biggest groups first)\n");
	if (!text_groups(out, a))
		ks_term_printf(out, "  none\n");
}

static void report_locks(FILE *out, const struct ks_analysis *a)
{
	ks_term_printf(out, "\nLOCKS\n");
	for (size_t l = 0; l < a->nlocks; l++) {
		const struct ks_lock *lk = &a->locks[l];
		char owner[64] = "none recorded";

		if (lk->owner >= 0)
			snprintf(owner, sizeof(owner), "%s (pid %d%s)", a->tasks.tasks[lk->owner].comm,
				 a->tasks.tasks[lk->owner].pid, lk->owner_is_hint ? ", a hint" : "");
		char readers[48] = "";

		if (lk->readers >= 0)
			snprintf(readers, sizeof(readers), ", %ld reader%s inside", lk->readers,
				 lk->readers == 1 ? "" : "s");
		ks_term_printf(out, "  %-10s %-24s 0x%llx  owner %s%s, %zu waiter%s\n", ks_lock_type_name(lk->type),
			lock_name(lk), (unsigned long long)lk->address, owner, readers, lk->nwaiters,
			lk->nwaiters == 1 ? "" : "s");
	}
	if (!a->nlocks)
		ks_term_printf(out, "  no task waits on a lock\n");
}

/* Every task in the page allocator, one by one (crash's `kstall -a`). */
static void report_alloc(FILE *out, const struct ks_analysis *a)
{
	size_t n = 0;

	ks_term_printf(out, "\nALLOCATOR STATES\n");
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_alloc_state *al = &a->ta[i].alloc;
		char when[64], order[16] = "?";

		if (al->phase == KS_ALLOC_NONE)
			continue;
		n++;
		ks_report_stall_words(&a->ta[i].stall, when, sizeof(when));
		if (al->order_known)
			snprintf(order, sizeof(order), "%u", al->order);
		ks_term_printf(out, "  %-16s pid %-6d %c  %-14s in %s%s%s, %s", t->comm, t->pid, t->state_char,
			ks_alloc_phase_name(al->phase), al->where ? al->where : "?",
			al->context && al->context[0] ? ", for " : "", al->context ? al->context : "", when);
		/* a container's tasks apart from the machine's */
		if (a->ta[i].cgroup && strcmp(a->ta[i].cgroup, "/"))
			ks_term_printf(out, "; cgroup %s", a->ta[i].cgroup);
		ks_term_printf(out, "\n");
		ks_term_printf(out, "         gfp %s, order %s, %s%s\n",
			al->gfp_known ? al->gfp_names : "unknown", order,
			ks_alloc_oom_words(al),
			al->nofail ? ", __GFP_NOFAIL" : "");
		if (al->no_progress_known || al->compaction_retries_known) {
			char np[16] = "?", cr[16] = "?";

			if (al->no_progress_known)
				snprintf(np, sizeof(np), "%d", al->no_progress_loops);
			if (al->compaction_retries_known)
				snprintf(cr, sizeof(cr), "%d", al->compaction_retries);
			ks_term_printf(out, "         no_progress_loops %s, compaction_retries %s\n", np, cr);
		}
	}
	if (!n)
		ks_term_printf(out, "  no task is in the page allocator\n");
}

static void report_support(FILE *out, const struct ks_analysis *a)
{
	size_t n;
	const struct ks_support_gap *gaps = ks_model_support(a, &n);

	if (!n)
		return;
	ks_term_printf(out, "\nKERNEL SUPPORT (what kstall cannot read on this kernel, and what it costs)\n");
	for (size_t i = 0; i < n; i++)
		ks_term_printf(out, "  %s: %s\n", gaps[i].capability, gaps[i].cost);
}

static void report_problems(FILE *out, const struct ks_analysis *a)
{
	if (a->problems.count) {
		ks_term_printf(out, "\nCOULD NOT READ\n");
		ks_problems_print(out, &a->problems);
	}
}

void ks_report_sections(FILE *out, const struct ks_analysis *a, unsigned int sections)
{
	static const struct {
		unsigned int bit;
		void (*fn)(FILE *, const struct ks_analysis *);
	} order[] = {
		{ KS_REPORT_VERDICTS, report_verdicts }, { KS_REPORT_CHAINS, text_chains },
		{ KS_REPORT_STALLED, report_stalled },	 { KS_REPORT_ALLOC, report_alloc },
		{ KS_REPORT_LOCKS, report_locks },	 { KS_REPORT_MEMORY, text_memory },
		{ KS_REPORT_OOM, text_oom },		 { KS_REPORT_EVENTS, text_events },
		{ KS_REPORT_SUPPORT, report_support }, { KS_REPORT_PROBLEMS, report_problems },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (sections & order[i].bit)
			order[i].fn(out, a);
}

void ks_report_text(FILE *out, const struct ks_analysis *a)
{
	ks_report_sections(out, a, KS_REPORT_DEFAULT);
}

json_t *ks_json_text(const char *s)
{
	json_t *j = json_string(s);
	char *buf;
	size_t len = 0;

	if (j)
		return j;
	/* not UTF-8 (a comm cut inside a character, a corrupt page): each bad byte becomes U+FFFD */
	buf = malloc(strlen(s) * 3 + 1);
	if (!buf)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = ks_utf8_len(p);

		if (n) {
			memcpy(buf + len, p, n);
			p += n;
		} else {
			memcpy(buf + len, KS_UTF8_REPLACEMENT, 3);
			n = 3;
			p++;
		}
		len += n;
	}
	buf[len] = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *hexstr(uint64_t v)
{
	char buf[19];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *pid_or_null(const struct ks_analysis *a, long i)
{
	return i >= 0 ? json_integer(a->tasks.tasks[i].pid) : json_null();
}

/* The model's groups, as the text report and the HTML page show them: members by pid. */
static json_t *json_groups(const struct ks_analysis *a)
{
	json_t *arr = json_array();

	for (size_t g = 0; g < a->ngroups; g++) {
		json_t *pids = json_array();

		for (size_t m = a->groups[g].first; m < a->groups[g].first + a->groups[g].count; m++)
			json_array_append_new(pids, json_integer(a->tasks.tasks[a->group_tasks[m]].pid));
		json_array_append_new(arr, json_pack("{s:b,s:o}", "stalled", a->groups[g].stalled, "pids", pids));
	}
	return arr;
}

/* Each problem with its code (nodata: filtered out of the dump, apart from damage), task and address. */
static json_t *json_problems(const struct ks_analysis *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->problems.count; i++) {
		const struct ks_problem *p = &a->problems.items[i];
		long t = p->task ? ks_model_task_index(a, p->task) : -1;

		json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:o,s:o}", "code", ks_error_code_name(p->code),
						     "message", ks_json_text(p->text), "pid", pid_or_null(a, t),
						     "task", p->task ? hexstr(p->task) : json_null(), "address",
						     p->address ? hexstr(p->address) : json_null()));
	}
	return arr;
}

/* How much of the dump was read (struct ks_coverage); the count null when nr_threads was unreadable. */
static json_t *json_coverage(const struct ks_analysis *a)
{
	const struct ks_coverage *c = &a->coverage;
	json_t *parts = json_array(), *o;

	for (size_t i = 0; i < c->nparts; i++)
		json_array_append_new(parts, json_string(c->parts[i]));
	o = json_pack("{s:b,s:I,s:o,s:o,s:i,s:I,s:I,s:I,s:I,s:o,s:f}", "complete", c->complete, "tasks_read",
		      (json_int_t)c->tasks_read, "tasks_expected",
		      c->threads_known ? json_integer((json_int_t)c->tasks_expected) : json_null(), "nr_threads",
		      c->threads_known ? json_integer((json_int_t)c->nr_threads) : json_null(), "idle_expected",
		      (int)c->idle_expected, "idle_read", (json_int_t)c->idle_read, "tasks_partial",
		      (json_int_t)c->tasks_partial, "stacks_incomplete", (json_int_t)c->stacks_incomplete,
		      "read_failures", (json_int_t)c->read_failures, "incomplete_parts", parts, "score_scale",
		      ks_coverage_scale(c));
	return o;
}

static json_t *json_support(const struct ks_analysis *a)
{
	json_t *arr = json_array();
	size_t n;
	const struct ks_support_gap *gaps = ks_model_support(a, &n);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:o}", "capability",
						     ks_json_text(gaps[i].capability), "cost",
						     ks_json_text(gaps[i].cost)));
	return arr;
}

/* Pages as bytes for JSON: a garbage count from a damaged dump saturates rather than overflows. */
static json_int_t pages_bytes(uint64_t pages, uint64_t page_size)
{
	if (page_size && pages > (uint64_t)INT64_MAX / page_size)
		return INT64_MAX;
	return (json_int_t)(pages * page_size);
}

static json_t *json_psi_line(const struct ks_psi_line *l)
{
	if (!l->known)
		return json_null();
	return json_pack("{s:f,s:f,s:f,s:f}", "avg10", l->avg10, "avg60", l->avg60, "avg300", l->avg300,
			 "total_seconds", l->total_seconds);
}

/* A PSI group's memory lines at the top with the onset of its memory stall, io and cpu below. */
static json_t *json_psi_group(const struct ks_psi_group *g, bool read)
{
	bool on = read && g->onset >= 0;
	json_t *o = json_pack("{s:o,s:o,s:o}", "updated_seconds_before",
			      read && g->updated_seconds_before >= 0 ? json_real(g->updated_seconds_before) : json_null(),
			      "some", read ? json_psi_line(&g->some[KS_PSI_MEMORY]) : json_null(), "full",
			      read ? json_psi_line(&g->full[KS_PSI_MEMORY]) : json_null());

	json_object_set_new(o, "onset_seconds", on ? json_real(g->onset) : json_null());
	json_object_set_new(o, "onset_min_seconds", on ? json_real(g->onset_min) : json_null());
	json_object_set_new(o, "onset_max_seconds", on && !g->onset_at_least ? json_real(g->onset_max) : json_null());
	json_object_set_new(o, "onset_share", on ? json_real(g->onset_share) : json_null());
	for (int r = KS_PSI_IO; r < KS_PSI__COUNT; r++)
		json_object_set_new(o, ks_psi_resource_name((enum ks_psi_resource)r),
				    read ? json_pack("{s:o,s:o}", "some", json_psi_line(&g->some[r]), "full",
						     json_psi_line(&g->full[r]))
					 : json_null());
	return o;
}

/*
 * null without PSI; else its state and psi_system's lines, and the cgroups'
 * (those of memory.consumers.cgroups whose PSI group was read; null when no
 * cgroup tree was read).
 */
static json_t *json_pressure(const struct ks_memory *m)
{
	const struct ks_pressure *p = &m->pressure;
	const struct ks_consumers *c = &m->consumers;
	json_t *o, *cgroups;

	if (p->state == KS_PSI_ABSENT)
		return json_null();
	o = json_psi_group(&p->sys, p->state == KS_PSI_READ);
	json_object_set_new(o, "source", json_string("psi"));
	json_object_set_new(o, "state", json_string(ks_psi_state_name(p->state)));
	cgroups = c->cgroups_known && p->state == KS_PSI_READ ? json_array() : json_null();
	for (size_t i = 0; c->cgroups_known && p->state == KS_PSI_READ && i < c->ncgroups; i++) {
		json_t *g;

		if (!c->cgroups[i].psi_known)
			continue;
		g = json_psi_group(&c->cgroups[i].psi, true);
		json_object_set_new(g, "path", ks_json_text(c->cgroups[i].path));
		json_array_append_new(cgroups, g);
	}
	json_object_set_new(o, "cgroups", cgroups);
	return o;
}

/* The dump facts: every field null when the dump does not say. */
static json_t *json_facts(const struct ks_analysis *a)
{
	const struct ks_dump_facts *f = &a->facts;
	json_t *mods = json_array();
	char when[40], copy[sizeof(f->tainting_modules)], *save = NULL;

	ks_facts_crash_time(f, when, sizeof(when));
	snprintf(copy, sizeof(copy), "%s", f->tainting_modules);
	for (char *m = strtok_r(copy, " ", &save); m; m = strtok_r(NULL, " ", &save))
		json_array_append_new(mods, ks_json_text(m));
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s}", "host",
			 f->host[0] ? ks_json_text(f->host) : json_null(), "version",
			 f->version[0] ? ks_json_text(f->version) : json_null(), "crash_time",
			 when[0] ? json_string(when) : json_null(), "crash_time_epoch",
			 f->crash_time >= 0 ? json_integer(f->crash_time) : json_null(), "panic",
			 f->panic[0] ? ks_json_text(f->panic) : json_null(), "panic_cpu",
			 f->panic_cpu >= 0 ? json_integer(f->panic_cpu) : json_null(), "taint",
			 f->taint_known ? ks_json_text(f->taint) : json_null(), "tainting_modules", mods, "vmlinux",
			 a->kernel ? ks_json_text(ks_debuginfo_path(ks_kernel_debuginfo(a->kernel))) : json_null(),
			 "kstall_version", json_string(KSTALL_VERSION), "vmlinux_found",
			 ks_vmlinux_origin_name(f->vmlinux_origin), "vmlinux_check",
			 ks_vmlinux_check_name(f->vmlinux_check));
}

static json_t *json_file(const struct ks_file_ref *f)
{
	json_t *o;

	if (!f->known)
		return json_null();
	o = json_pack("{s:s,s:b,s:s,s:I}", "path", f->path, "path_absolute", f->path_absolute, "fstype",
		      f->fstype, "ino", (json_int_t)f->ino);
	json_object_set_new(o, "inode", hexstr(f->inode));
	json_object_set_new(o, "index", f->index_known ? json_integer((json_int_t)f->index) : json_null());
	return o;
}

/* memory.consumers.cgroups: null when no cgroup v2 tree with the memory controller was read */
static json_t *json_cgroups(const struct ks_memory *m)
{
	const struct ks_consumers *c = &m->consumers;
	json_t *arr;

	if (!c->cgroups_known)
		return json_null();
	arr = json_array();
	for (size_t i = 0; i < c->ncgroups; i++) {
		const struct ks_cgroup_mem *g = &c->cgroups[i];

		json_array_append_new(
			arr, json_pack("{s:o,s:I,s:o,s:o,s:o,s:I}", "path", ks_json_text(g->path), "usage_bytes",
				       pages_bytes(g->usage_pages, m->page_size), "max_bytes",
				       g->limited ? json_integer(pages_bytes(g->max_pages, m->page_size)) : json_null(),
				       "high_bytes",
				       g->high_limited ? json_integer(pages_bytes(g->high_pages, m->page_size))
						       : json_null(),
				       "events",
				       g->events_known
					       ? json_pack("{s:I,s:I,s:I,s:I}", "high", (json_int_t)g->ev_high, "max",
							   (json_int_t)g->ev_max, "oom", (json_int_t)g->ev_oom, "oom_kill",
							   (json_int_t)g->ev_oom_kill)
					       : json_null(),
				       "stalled_tasks", (json_int_t)g->stalled));
	}
	return arr;
}

/* memory.consumers.slab: null when the walk did not run; else its state and, when read, the caches. */
static json_t *json_slab(const struct ks_memory *m)
{
	const struct ks_slab_census *s = &m->consumers.slab;
	double total = m->known[KS_MEM_TOTAL] ? (double)m->pages[KS_MEM_TOTAL] : 0;
	json_t *o, *caches;

	if (s->state == KS_SLAB_UNREAD)
		return json_null();
	o = json_pack("{s:s}", "state", ks_slab_state_name(s->state));
	if (s->state != KS_SLAB_READ)
		return o;
	caches = json_array();
	for (size_t i = 0; i < s->ntop; i++) {
		const struct ks_slab_cache *c = &s->top[i];

		json_array_append_new(
			caches, json_pack("{s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "name", ks_json_text(c->name), "cache",
					  hexstr(c->cache), "object_size", (json_int_t)c->object_size, "stride",
					  (json_int_t)c->stride, "slabs", (json_int_t)c->slabs, "objects",
					  (json_int_t)c->objects, "inuse", (json_int_t)c->inuse, "bytes",
					  pages_bytes(c->pages, m->page_size), "share",
					  total ? json_real((double)c->pages / total) : json_null()));
	}
	json_object_set_new(o, "caches", caches);
	json_object_set_new(o, "totals",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "caches", (json_int_t)s->caches, "slabs",
				      (json_int_t)s->slabs, "objects", (json_int_t)s->objects, "inuse",
				      (json_int_t)s->inuse, "bytes", pages_bytes(s->pages, m->page_size), "foreign_bytes",
				      pages_bytes(s->foreign_pages, m->page_size), "map_pages", (json_int_t)s->map_pages,
				      "unreadable_map_pages", (json_int_t)s->unreadable_map_pages));
	return o;
}

/* memory.consumers: processes by RSS (bytes and share of RAM); what kstall does not read yet is null. */
static json_t *json_consumers(const struct ks_analysis *a)
{
	const struct ks_memory *m = &a->memory;
	const struct ks_consumers *c = &m->consumers;
	const struct ks_kernel_mem *km = &c->kernel;
	double total = m->known[KS_MEM_TOTAL] ? (double)m->pages[KS_MEM_TOTAL] : 0;
	json_t *procs = json_array(), *o;

	for (size_t p = 0; p < c->ntop; p++) {
		const struct ks_process_mem *pm = &c->top[p];
		const struct ks_task *t = &a->tasks.tasks[pm->task];
		uint64_t rss = pm->anon + pm->file + pm->shmem;

		json_array_append_new(
			procs, json_pack("{s:i,s:o,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:o}", "pid", t->tgid, "comm",
					 ks_json_text(t->comm), "rss_bytes", pages_bytes(rss, m->page_size), "anon_bytes",
					 pages_bytes(pm->anon, m->page_size), "file_bytes", pages_bytes(pm->file, m->page_size),
					 "shmem_bytes", pages_bytes(pm->shmem, m->page_size), "swap_bytes",
					 pages_bytes(pm->swap, m->page_size), "pgtables_bytes",
					 pm->pgtables_known ? json_integer((json_int_t)pm->pgtables_bytes) : json_null(),
					 "threads", (json_int_t)pm->threads, "share",
					 total ? json_real((double)rss / total) : json_null()));
	}
	json_t *files = json_array();

	for (size_t f = 0; f < c->nfiles; f++) {
		const struct ks_file_mem *fm = &c->files[f];

		json_t *holders = json_array();

		for (size_t h = 0; h < fm->nholders && h < KS_FILE_HOLDERS; h++)
			json_array_append_new(holders, json_pack("{s:i,s:o}", "pid", a->tasks.tasks[fm->holders[h]].tgid,
								 "comm",
								 ks_json_text(a->tasks.tasks[fm->holders[h]].comm)));
		json_array_append_new(files,
				      json_pack("{s:o,s:I,s:o,s:o,s:o}", "file", json_file(&fm->file), "bytes",
						pages_bytes(fm->pages, m->page_size), "share",
						total ? json_real((double)fm->pages / total) : json_null(), "open_in",
						fm->holders_known ? holders : json_null(), "open_in_count",
						fm->holders_known ? json_integer((json_int_t)fm->nholders) : json_null()));
		if (!fm->holders_known)
			json_decref(holders);
	}
	o = json_pack("{s:o,s:o,s:o,s:o,s:o}", "processes", c->known ? procs : json_null(), "files",
		      c->files_known ? files : json_null(),
		      "slab", json_slab(m), "cgroups", json_cgroups(m), "kernel",
		      json_pack("{s:o,s:i,s:o,s:o,s:o,s:o}", "young_tasks",
				c->young_known ? json_integer((json_int_t)c->young) : json_null(), "young_seconds",
				KS_YOUNG_SECONDS, "vmalloc_bytes",
				km->vmalloc_known ? json_integer(pages_bytes(km->vmalloc_pages, m->page_size))
						  : json_null(),
				"percpu_bytes",
				km->percpu_known ? json_integer(pages_bytes(km->percpu_pages, m->page_size))
						 : json_null(),
				"hugetlb_bytes",
				km->hugetlb_known ? json_integer(pages_bytes(km->hugetlb_pages, m->page_size))
						  : json_null(),
				"hugetlb_free_bytes",
				km->hugetlb_known
					? json_integer(pages_bytes(km->hugetlb_free_pages, m->page_size))
					: json_null()));
	{
		json_t *kernel = json_object_get(o, "kernel");

		json_object_set_new(kernel, "threads",
				    km->threads_known ? json_integer((json_int_t)km->nr_threads) : json_null());
		json_object_set_new(kernel, "max_threads",
				    km->threads_known ? json_integer((json_int_t)km->max_threads) : json_null());
		json_object_set_new(kernel, "total_forks",
				    km->threads_known ? json_integer((json_int_t)km->total_forks) : json_null());
	}
	if (!c->known)
		json_decref(procs);
	if (!c->files_known)
		json_decref(files);
	json_object_set_new(o, "totals",
			    c->known ? json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "processes",
						 (json_int_t)c->processes, "anon_bytes", pages_bytes(c->anon, m->page_size),
						 "file_bytes", pages_bytes(c->file, m->page_size), "shmem_bytes",
						 pages_bytes(c->shmem, m->page_size), "swap_bytes", pages_bytes(c->swap, m->page_size),
						 "pgtables_bytes", (json_int_t)c->pgtables_bytes, "unreadable",
						 (json_int_t)c->unreadable)
				     : json_null());
	return o;
}

static json_t *json_memory(const struct ks_analysis *a)
{
	const struct ks_memory *m = &a->memory;
	json_t *counters = json_object(), *zones = json_array();

	for (int it = 0; it < KS_MEM__COUNT; it++)
		json_object_set_new(counters, ks_mem_item_name((enum ks_mem_item)it),
				    m->known[it] ? json_integer((json_int_t)m->pages[it]) : json_null());
	for (size_t z = 0; z < m->nzones; z++) {
		const struct ks_zone_info *zi = &m->zones[z];
		json_t *o = json_pack("{s:i,s:o,s:o,s:I}", "node", zi->node, "name", ks_json_text(zi->name), "free",
				      zi->free_unread ? json_null() : json_integer((json_int_t)zi->free), "managed",
				      (json_int_t)zi->managed);

		json_object_set_new(o, "min", zi->watermarks_known ? json_integer((json_int_t)zi->min) : json_null());
		json_object_set_new(o, "low", zi->watermarks_known ? json_integer((json_int_t)zi->low) : json_null());
		json_object_set_new(o, "high", zi->watermarks_known ? json_integer((json_int_t)zi->high) : json_null());
		json_array_append_new(zones, o);
	}
	return json_pack("{s:I,s:o,s:o,s:i,s:o,s:o}", "page_size", (json_int_t)m->page_size, "pages", counters,
			 "zones", zones, "kswapd_failed_nodes", (int)m->kswapd_failed_nodes, "pressure",
			 json_pressure(m), "consumers", json_consumers(a));
}

static json_t *json_oom(const struct ks_analysis *a, json_t *victims)
{
	const struct ks_oom *o = &a->oom;
	json_t *queue = json_array();

	for (size_t q = 0; q < o->nreaper_queue; q++)
		json_array_append_new(queue, json_integer(a->tasks.tasks[o->reaper_queue[q]].pid));
	return json_pack("{s:o,s:o,s:b,s:I,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "victims", victims, "lock_owner_pid",
			 pid_or_null(a, o->lock_owner), "lock_readable", o->lock_owner != -2,
			 "lock_waiters", (json_int_t)o->lock_waiters, "reaper_pid",
			 pid_or_null(a, o->reaper), "reaper_queue", queue, "unkillable_stuck",
			 (json_int_t)o->unkillable_stuck, "kills", (json_int_t)o->kills, "first_kill_seconds",
			 o->first_kill_seconds >= 0 ? json_real(o->first_kill_seconds) : json_null(),
			 "last_kill_seconds", o->last_kill_seconds >= 0 ? json_real(o->last_kill_seconds) : json_null(),
			 "oom_kill_counter",
			 o->oom_kill_counter_known ? json_integer((json_int_t)o->oom_kill_counter) : json_null());
}

static json_t *json_events(const struct ks_analysis *a)
{
	json_t *events = json_array();

	for (size_t e = 0; e < a->nevents; e++) {
		const struct ks_event *ev = &a->events[e];

		json_array_append_new(
			events,
			json_pack("{s:s,s:o,s:o,s:b,s:o,s:I,s:o,s:o}", "kind", ks_event_kind_name(ev->kind),
				  "pid", ev->pid ? json_integer(ev->pid) : json_null(), "comm", ks_json_text(ev->comm),
				  "task_found", ev->task >= 0, "seconds_before",
				  ev->seconds_before >= 0 ? json_real(ev->seconds_before) : json_null(),
				  "seq", (json_int_t)ev->seq, "text", ks_json_text(ev->text), "rss",
				  ev->rss_known ? json_pack("{s:I,s:I,s:I}", "anon_bytes", (json_int_t)(ev->anon_kb * 1024),
							    "file_bytes", (json_int_t)(ev->file_kb * 1024),
							    "shmem_bytes", (json_int_t)(ev->shmem_kb * 1024))
						: json_null()));
		if (ev->kind == KS_EVENT_MEMCG_OOM)
			json_object_set_new(json_array_get(events, json_array_size(events) - 1), "memcg",
					    json_pack("{s:o,s:I,s:I,s:I}", "path",
						      ev->memcg[0] ? ks_json_text(ev->memcg) : json_null(), "usage_bytes",
						      (json_int_t)(ev->usage_kb * 1024), "limit_bytes",
						      (json_int_t)(ev->limit_kb * 1024), "failcnt", (json_int_t)ev->failcnt));
	}
	return events;
}


json_t *ks_report_json(const struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	json_t *root = json_object(), *verdicts = json_array(), *tasks = json_array(),
	       *locks = json_array(), *victims = json_array();

	for (size_t v = 0; v < a->nverdicts; v++) {
		const struct ks_verdict *vd = &a->verdicts[v];
		json_t *pids = json_array(), *lks = json_array();

		for (size_t p = 0; p < vd->npids; p++)
			json_array_append_new(pids, json_integer(vd->pids[p]));
		for (size_t l = 0; l < vd->nlocks; l++)
			json_array_append_new(lks, json_pack("{s:o,s:o}", "name",
							     ks_json_text(a->locks[vd->locks[l]].name),
							     "address", hexstr(a->locks[vd->locks[l]].address)));
		json_array_append_new(verdicts,
				      json_pack("{s:s,s:f,s:o,s:o,s:o,s:o}", "kind",
						ks_verdict_name(vd->kind), "score", vd->score, "pids", pids,
						"locks", lks, "summary", ks_json_text(vd->summary), "signature",
						ks_json_text(vd->signature)));
	}
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_task_analysis *ta = &a->ta[i];
		char st[2] = { t->state_char, 0 };
		json_t *o = json_pack("{s:i,s:i,s:o,s:o,s:b,s:b,s:b,s:b,s:o,s:i}", "pid", t->pid, "tgid",
				      t->tgid, "comm", ks_json_text(t->comm), "state", ks_json_text(st), "active",
				      t->active, "idle", t->idle, "oom_victim", ta->oom_victim, "in_cycle",
				      ta->in_cycle, "activity", ks_json_text(ta->activity), "oom_score_adj",
				      ta->oom_score_adj);

		json_object_set_new(o, "task", hexstr(t->address));
		json_object_set_new(o, "dirty_throttled", json_boolean(ta->dirty_throttled));
		json_object_set_new(o, "cgroup", ta->cgroup ? ks_json_text(ta->cgroup) : json_null());
		json_object_set_new(o, "oom_killed_seconds", ta->oom_killed_seconds >= 0
								    ? json_real(ta->oom_killed_seconds)
								    : json_null());
		if (ta->alloc.phase != KS_ALLOC_NONE) {
			json_t *al = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o}", "phase",
					       ks_alloc_phase_name(ta->alloc.phase), "where",
					       ks_json_text(ta->alloc.where),
					       "context", ta->alloc.context, "throttle", ta->alloc.throttle,
					       "may_oom", ta->alloc.may_oom_known ? json_boolean(ta->alloc.may_oom) : json_null(),
					       "nofail", ta->alloc.gfp_known ? json_boolean(ta->alloc.nofail) : json_null());

			/* null when unknown, like order: a consumer never has to test for presence */
			json_object_set_new(al, "memcg", json_boolean(ta->alloc.memcg));
			json_object_set_new(al, "gfp", ta->alloc.gfp_known ? hexstr(ta->alloc.gfp) : json_null());
			json_object_set_new(al, "gfp_names",
					    ta->alloc.gfp_known ? ks_json_text(ta->alloc.gfp_names) : json_null());
			json_object_set_new(al, "order", ta->alloc.order_known ? json_integer(ta->alloc.order)
									  : json_null());
			json_object_set_new(al, "no_progress_loops",
					    ta->alloc.no_progress_known ? json_integer(ta->alloc.no_progress_loops)
									: json_null());
			json_object_set_new(al, "compaction_retries",
					    ta->alloc.compaction_retries_known
						    ? json_integer(ta->alloc.compaction_retries)
						    : json_null());
			json_object_set_new(o, "alloc", al);
		} else {
			json_object_set_new(o, "alloc", json_null());
		}
		json_object_set_new(o, "stall",
				    ta->stall.source == KS_STALL_NONE
					    ? json_null()
					    : json_pack("{s:f,s:s,s:b,s:f,s:f}", "seconds", ta->stall.seconds,
							"source", ks_stall_source_name(ta->stall.source),
							"exact", ta->stall.exact, "min_seconds",
							ta->stall.min_seconds, "max_seconds",
							ta->stall.max_seconds));
		if (ta->waits_on >= 0) {
			const struct ks_lock *l = &a->locks[ta->waits_on];

			json_object_set_new(o, "waits_on",
					    json_pack("{s:o,s:o,s:s,s:s}", "address", hexstr(l->address),
						      "name", ks_json_text(l->name), "type", ks_lock_type_name(l->type),
						      "mode", ks_wait_type_name(ta->wait_type)));
		} else {
			json_object_set_new(o, "waits_on", json_null());
		}
		json_array_append_new(tasks, o);
		if (ta->oom_victim && t->pid == t->tgid)
			json_array_append_new(victims, json_integer(t->pid));
	}
	for (size_t l = 0; l < a->nlocks; l++) {
		const struct ks_lock *lk = &a->locks[l];

		json_t *o = json_pack("{s:o,s:o,s:o,s:s,s:o,s:b,s:I}", "address", hexstr(lk->address), "name",
				      ks_json_text(lk->name), "what", ks_json_text(lk->what), "type", ks_lock_type_name(lk->type), "owner_pid",
				      lk->owner >= 0 ? json_integer(a->tasks.tasks[lk->owner].pid) : json_null(),
				      "owner_is_hint", lk->owner_is_hint, "waiters", (json_int_t)lk->nwaiters);

		json_object_set_new(o, "readers", lk->readers >= 0 ? json_integer(lk->readers) : json_null());
		json_object_set_new(o, "file", json_file(&lk->file));
		json_array_append_new(locks, o);
	}
	json_object_set_new(root, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	json_object_set_new(root, "kernel",
			    json_pack("{s:o,s:i,s:o,s:I}", "release",
				      ks_json_text(k ? ks_kernel_release(k) : "(unknown)"), "hz",
				      (int)a->hz, "uptime_seconds", a->now_ns ? json_real((double)a->now_ns / 1e9) : json_null(),
				      "jiffies", (json_int_t)a->jiffies));
	json_object_set_new(root, "dump", json_facts(a));
	json_object_set_new(root, "coverage", json_coverage(a));
	json_object_set_new(root, "verdicts", verdicts);
	json_object_set_new(root, "tasks", tasks);
	json_object_set_new(root, "locks", locks);
	json_object_set_new(root, "oom", json_oom(a, victims));
	json_object_set_new(root, "memory", json_memory(a));
	json_object_set_new(root, "events", json_events(a));
	json_object_set_new(root, "groups", json_groups(a));
	json_object_set_new(root, "problems", json_problems(a));
	json_object_set_new(root, "kernel_support", json_support(a));
	return root;
}
