/*
 * The consumers pass: who holds the memory. Each process's RSS from its mm's
 * counters (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS), read as
 * the kernel keeps them: since 6.2 a percpu_counter each, whose value is its
 * count plus every CPU's unfolded delta (percpu_counter_sum); before, an
 * atomic count in mm_struct plus each thread's own unfolded deltas
 * (task_struct.rss_stat, SPLIT_RSS_COUNTING). Page tables from
 * pgtables_bytes. And how many tasks were forked in the last minute.
 */
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes/files.h"
#include "base/hashmap.h"

/* More inodes than any real tmpfs holds; a longer walk is a loop. */
#define MAX_INODES 262144

enum { C_ANON, C_FILE, C_SHMEM, C_SWAP, C__COUNT };

struct layout {
	int64_t index[C__COUNT];
	bool percpu; /* 6.2+: rss_stat is percpu_counter[] */
	uint64_t rss, stride, count, counters;
	bool pgtables;
	uint64_t pgtables_off;
};

static bool mm_layout(struct ks_kernel *k, struct layout *l)
{
	static const enum ks_enumerator names[C__COUNT] = { KS_E_MM_ANONPAGES, KS_E_MM_FILEPAGES,
							    KS_E_MM_SHMEMPAGES, KS_E_MM_SWAPENTS };
	uint64_t size, csize;

	for (int c = 0; c < C__COUNT; c++)
		if (!ks_kernel_enumerator(k, names[c], &l->index[c]) || l->index[c] < 0 ||
		    l->index[c] >= C__COUNT)
			return false;
	l->pgtables = ks_kernel_late_field(k, KS_LF_MM_PGTABLES_BYTES, &l->pgtables_off, &size) && size == 8;
	if (ks_kernel_late_field(k, KS_LF_MM_RSS_STAT_COUNT, &l->rss, &size)) {
		/* before 6.2: atomic_long_t count[NR_MM_COUNTERS] */
		l->percpu = false;
		l->stride = 8;
		return true;
	}
	l->percpu = true;
	l->stride = ks_kernel_type_size(k, KS_SIZE_PERCPU_COUNTER);
	return l->stride && ks_kernel_late_field(k, KS_LF_MM_RSS_STAT, &l->rss, &size) &&
	       ks_kernel_late_field(k, KS_LF_PCPU_COUNTER_COUNT, &l->count, &csize) && csize == 8 &&
	       ks_kernel_late_field(k, KS_LF_PCPU_COUNTER_COUNTERS, &l->counters, &csize) && csize == 8;
}

/* One counter of an mm, in pages; false when it could not be read. */
static bool counter(struct ks_kernel *k, const struct layout *l, uint64_t mm, int64_t index, int64_t *ret)
{
	uint64_t at = mm + l->rss + (uint64_t)index * l->stride, v, ptr;

	if (!ks_try_read_u64(k, at + (l->percpu ? l->count : 0), &v))
		return false;
	*ret = (int64_t)v;
	if (!l->percpu)
		return true;
	if (!ks_try_read_u64(k, at + l->counters, &ptr))
		return false;
	for (unsigned int cpu = 0; ptr && cpu < ks_kernel_nr_cpus(k); cpu++) {
		uint64_t pc;
		uint32_t d;

		if (ks_kernel_per_cpu_ptr(k, ptr, cpu, &pc) && ks_try_read_u32(k, pc, &d))
			*ret += (int32_t)d;
	}
	return true;
}

static uint64_t rss(const struct ks_process_mem *p)
{
	return p->anon + p->file + p->shmem;
}

/* biggest RSS first; ties in task order, so the answer does not depend on qsort */
static int by_rss(const void *x, const void *y)
{
	const struct ks_process_mem *p = x, *q = y;
	uint64_t a = rss(p), b = rss(q);

	if (a != b)
		return a < b ? 1 : -1;
	return p->task < q->task ? -1 : p->task > q->task;
}

/* Keep (inode, pages) if it is among the KS_TOP_FILES biggest so far; the inode is named later. */
static void keep_file(struct ks_consumers *c, uint64_t inode, uint64_t pages)
{
	size_t at = c->nfiles;

	if (c->nfiles == KS_TOP_FILES && pages <= c->files[KS_TOP_FILES - 1].pages)
		return;
	while (at > 0 && c->files[at - 1].pages < pages)
		at--;
	if (c->nfiles < KS_TOP_FILES)
		c->nfiles++;
	memmove(&c->files[at + 1], &c->files[at], (c->nfiles - 1 - at) * sizeof(c->files[0]));
	memset(&c->files[at], 0, sizeof(c->files[at]));
	c->files[at].file.inode = inode;
	c->files[at].pages = pages;
}

/*
 * Every tmpfs superblock's inodes (super_blocks, each sb's s_inodes), by the
 * pages their mappings hold: /dev/shm files, SysV segments and the shared
 * anonymous mappings (on the kernel's internal tmpfs) alike. One bound for
 * the whole walk.
 */
static void tmpfs_files(struct ks_analysis *a, struct ks_consumers *c)
{
	static const enum ks_field need[] = { KS_F_SB_LIST, KS_F_SB_INODES, KS_F_INODE_SB_LIST, KS_F_INODE_MAPPING,
					      KS_F_MAPPING_NRPAGES, KS_F_SB_TYPE, KS_F_FSTYPE_NAME };
	struct ks_kernel *k = a->kernel;
	uint64_t head, pos;
	size_t budget = MAX_INODES;

	if (!ks_kernel_has_all(k, need, sizeof(need) / sizeof(need[0])) ||
	    !ks_kernel_symbol(k, "super_blocks", &head) || !ks_try_read_u64(k, head, &pos))
		return;
	c->files_known = true;
	for (size_t nsb = 0; pos != head && nsb < 4096; nsb++) {
		uint64_t sb = pos - ks_kernel_off(k, KS_F_SB_LIST), ihead, ipos;
		char fstype[16] = "";

		if (ks_fstype_of_sb(k, sb, fstype, sizeof(fstype)) && !strcmp(fstype, "tmpfs")) {
			ihead = sb + ks_kernel_off(k, KS_F_SB_INODES);
			if (!ks_try_read_u64(k, ihead, &ipos))
				ipos = ihead;
			while (ipos != ihead) {
				uint64_t inode = ipos - ks_kernel_off(k, KS_F_INODE_SB_LIST), mapping, pages;

				if (!budget--) {
					c->files_cut = true;
					break;
				}
				if (ks_try_read_field(k, inode, KS_F_INODE_MAPPING, &mapping) && mapping &&
				    ks_try_read_field(k, mapping, KS_F_MAPPING_NRPAGES, &pages) && pages) {
					c->files_seen++;
					c->files_pages += pages;
					keep_file(c, inode, pages);
				}
				if (!ks_try_read_u64(k, ipos, &ipos)) {
					c->files_cut = true;
					break;
				}
			}
		}
		if (!ks_try_read_u64(k, pos, &pos))
			break;
	}
	for (size_t f = 0; f < c->nfiles; f++) {
		uint64_t inode = c->files[f].file.inode;

		if (!ks_file_of_inode(k, inode, &c->files[f].file))
			c->files[f].file.inode = inode;
	}
}

static struct ks_error *consumers_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_consumers *c = &a->memory.consumers;
	struct ks_process_mem *procs;
	int64_t(*raw)[C__COUNT];
	struct ks_u64map of_mm = { 0 };
	struct layout l;
	size_t n = 0;
	bool deltas;

	(void)ctx;
	memset(c, 0, sizeof(*c));
	/* the tasks' ages from their fork times, on the clock the model keeps (ns since boot) */
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];

		if (!t->start_time || t->idle)
			continue;
		c->young_known = true;
		if (t->start_time <= a->now_ns && a->now_ns - t->start_time <= KS_YOUNG_SECONDS * 1000000000ull)
			c->young++;
	}
	tmpfs_files(a, c);
	if (!mm_layout(k, &l))
		return NULL;
	deltas = !l.percpu;
	procs = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(*procs));
	raw = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(*raw));
	if (!procs || !raw) {
		free(procs);
		free(raw);
		return &ks_error_nomem;
	}
	c->known = true;
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		long p = t->mm ? ks_u64map_get_index(&of_mm, t->mm) : -1;
		struct ks_process_mem *pm;

		if (!t->mm || t->idle)
			continue;
		if (p < 0) {
			int64_t v[C__COUNT];
			bool ok = true;

			for (int cn = 0; cn < C__COUNT && ok; cn++)
				ok = counter(k, &l, t->mm, l.index[cn], &v[cn]);
			if (!ok) {
				c->unreadable++;
				continue;
			}
			if (!ks_u64map_put_index(&of_mm, t->mm, n))
				break;
			memcpy(raw[n], v, sizeof(v));
			pm = &procs[n++];
			pm->task = i;
			pm->mm = t->mm;
			pm->pgtables_known = l.pgtables && ks_try_read_u64(k, t->mm + l.pgtables_off,
									    &pm->pgtables_bytes);
		} else {
			pm = &procs[p];
		}
		p = pm - procs;
		pm->threads++;
		if (t->pid == t->tgid)
			pm->task = i;
		if (deltas) {
			/* this thread's counts not yet folded into the mm (at most a few dozen pages) */
			if (t->rss_delta_known)
				for (int cn = 0; cn < C__COUNT; cn++)
					raw[p][cn] += t->rss_delta[l.index[cn]];
		}
	}
	ks_u64map_free(&of_mm);
	for (size_t p = 0; p < n; p++) {
		/* negative drift (deltas not yet folded) reads as nothing, as the kernel's readers do */
		procs[p].anon = raw[p][C_ANON] > 0 ? (uint64_t)raw[p][C_ANON] : 0;
		procs[p].file = raw[p][C_FILE] > 0 ? (uint64_t)raw[p][C_FILE] : 0;
		procs[p].shmem = raw[p][C_SHMEM] > 0 ? (uint64_t)raw[p][C_SHMEM] : 0;
		procs[p].swap = raw[p][C_SWAP] > 0 ? (uint64_t)raw[p][C_SWAP] : 0;
		c->anon += procs[p].anon;
		c->file += procs[p].file;
		c->shmem += procs[p].shmem;
		c->swap += procs[p].swap;
		c->pgtables_bytes += procs[p].pgtables_bytes;
	}
	c->processes = n;
	qsort(procs, n, sizeof(*procs), by_rss);
	c->ntop = n < KS_TOP_PROCESSES ? n : KS_TOP_PROCESSES;
	memcpy(c->top, procs, c->ntop * sizeof(*procs));
	free(procs);
	free(raw);
	return NULL;
}

const struct ks_pass ks_pass_consumers = {
	.name = "consumers",
	.finish = consumers_finish,
};
