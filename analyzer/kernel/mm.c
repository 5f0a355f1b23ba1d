/* Reading an mm's counters on every kernel layout: see kstall/mm.h. */
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"

#include "kstall/layout.h"
#include "kstall/mm.h"

struct ks_mm_reader {
	struct ks_kernel *k;
	/* the kernel's own index of each counter (enum mm_counter) */
	int64_t index[KS_MM_NCOUNTERS];
	bool percpu; /* 6.2+: rss_stat is percpu_counter[] */
	uint64_t rss, stride, count, counters;
	bool pgtables;
	uint64_t pgtables_off;
};

static bool layout(struct ks_kernel *k, struct ks_mm_reader *r)
{
	static const enum ks_enumerator names[KS_MM_NCOUNTERS] = {
		KS_E_MM_ANONPAGES, KS_E_MM_FILEPAGES, KS_E_MM_SHMEMPAGES, KS_E_MM_SWAPENTS
	};
	uint64_t size, csize;

	for (int c = 0; c < KS_MM_NCOUNTERS; c++)
		if (!ks_kernel_enumerator(k, names[c], &r->index[c]) || r->index[c] < 0 ||
		    r->index[c] >= KS_MM_NCOUNTERS)
			return false;
	r->pgtables = ks_kernel_late_field(k, KS_LF_MM_PGTABLES_BYTES, &r->pgtables_off, &size) &&
		      size == 8;
	if (ks_kernel_late_field(k, KS_LF_MM_RSS_STAT_COUNT, &r->rss, &size)) {
		/* before 6.2: atomic_long_t count[NR_MM_COUNTERS] */
		r->percpu = false;
		r->stride = 8;
		return true;
	}
	r->percpu = true;
	r->stride = ks_kernel_type_size(k, KS_SIZE_PERCPU_COUNTER);
	return r->stride && ks_kernel_late_field(k, KS_LF_MM_RSS_STAT, &r->rss, &size) &&
	       ks_kernel_late_field(k, KS_LF_PCPU_COUNTER_COUNT, &r->count, &csize) && csize == 8 &&
	       ks_kernel_late_field(k, KS_LF_PCPU_COUNTER_COUNTERS, &r->counters, &csize) && csize == 8;
}

struct ks_error *ks_mm_reader_create(struct ks_kernel *k, struct ks_mm_reader **ret)
{
	struct ks_mm_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return &ks_error_nomem;
	r->k = k;
	if (!layout(k, r)) {
		free(r);
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "this kernel's mm counters (mm_struct.rss_stat, enum mm_counter) "
				       "are not in its debuginfo as kstall knows them");
	}
	*ret = r;
	return NULL;
}

void ks_mm_reader_destroy(struct ks_mm_reader *r)
{
	free(r);
}

static bool counter(struct ks_mm_reader *r, uint64_t mm, int64_t index, int64_t *ret)
{
	uint64_t at = mm + r->rss + (uint64_t)index * r->stride, v, ptr;

	if (!ks_try_read_u64(r->k, at + (r->percpu ? r->count : 0), &v))
		return false;
	*ret = (int64_t)v;
	if (!r->percpu)
		return true;
	if (!ks_try_read_u64(r->k, at + r->counters, &ptr))
		return false;
	for (unsigned int cpu = 0; ptr && cpu < ks_kernel_nr_cpus(r->k); cpu++) {
		uint64_t pc;
		uint32_t d;

		if (ks_kernel_per_cpu_ptr(r->k, ptr, cpu, &pc) && ks_try_read_u32(r->k, pc, &d))
			*ret += (int32_t)d;
	}
	return true;
}

bool ks_mm_read(struct ks_mm_reader *r, uint64_t mm, struct ks_mm_usage *ret)
{
	for (int c = 0; c < KS_MM_NCOUNTERS; c++)
		if (!counter(r, mm, r->index[c], &ret->pages[c]))
			return false;
	ret->pgtables_known = r->pgtables && ks_try_read_u64(r->k, mm + r->pgtables_off,
							     &ret->pgtables_bytes);
	if (!ret->pgtables_known)
		ret->pgtables_bytes = 0;
	return true;
}

void ks_mm_add_thread(const struct ks_mm_reader *r, const struct ks_task *t, struct ks_mm_usage *u)
{
	/* this thread's counts not yet folded into the mm (at most a few dozen pages) */
	if (r->percpu || !t->rss_delta_known)
		return;
	for (int c = 0; c < KS_MM_NCOUNTERS; c++)
		u->pages[c] += t->rss_delta[r->index[c]];
}

void ks_mm_procs_deinit(struct ks_mm_procs *p)
{
	free(p->usage);
	free(p->read);
	free(p->task);
	free(p->threads);
	free(p->of_task);
	memset(p, 0, sizeof(*p));
}

struct ks_error *ks_mm_procs_read(struct ks_kernel *k, const struct ks_tasks *tasks, struct ks_mm_procs *ret)
{
	size_t cap = tasks->count ? tasks->count : 1;
	struct ks_mm_procs p = { 0 };
	struct ks_u64map of_mm = { 0 };
	struct ks_mm_reader *r;
	struct ks_error *err = ks_mm_reader_create(k, &r);

	if (err)
		return err;
	p.usage = calloc(cap, sizeof(*p.usage));
	p.read = calloc(cap, sizeof(*p.read));
	p.task = calloc(cap, sizeof(*p.task));
	p.threads = calloc(cap, sizeof(*p.threads));
	p.of_task = calloc(cap, sizeof(*p.of_task));
	if (!p.usage || !p.read || !p.task || !p.threads || !p.of_task) {
		err = &ks_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < tasks->count; i++) {
		const struct ks_task *t = &tasks->tasks[i];
		long at;

		p.of_task[i] = -1;
		if (!t->mm || t->idle)
			continue;
		at = ks_u64map_get_index(&of_mm, t->mm);
		if (at < 0) {
			if (!ks_u64map_put_index(&of_mm, t->mm, p.count)) {
				err = &ks_error_nomem;
				goto out;
			}
			at = (long)p.count++;
			p.task[at] = i;
			p.read[at] = ks_mm_read(r, t->mm, &p.usage[at]);
		}
		p.of_task[i] = at;
		p.threads[at]++;
		if (t->pid == t->tgid)
			p.task[at] = i;
		if (p.read[at])
			ks_mm_add_thread(r, t, &p.usage[at]);
	}
out:
	ks_u64map_free(&of_mm);
	ks_mm_reader_destroy(r);
	if (err)
		ks_mm_procs_deinit(&p);
	else
		*ret = p;
	return err;
}

uint64_t ks_mm_usage_pages(const struct ks_mm_usage *u, enum ks_mm_counter c)
{
	return u->pages[c] > 0 ? (uint64_t)u->pages[c] : 0;
}

uint64_t ks_mm_usage_rss(const struct ks_mm_usage *u)
{
	return ks_mm_usage_pages(u, KS_MM_ANON) + ks_mm_usage_pages(u, KS_MM_FILE) +
	       ks_mm_usage_pages(u, KS_MM_SHMEM);
}
