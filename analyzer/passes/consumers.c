/*
 * The consumers pass: who holds the memory. Each process's RSS from its mm's
 * counters (kstall/mm.h), the tmpfs files by the pages they hold and who holds
 * them open, and how many tasks were forked in the last minute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes/files.h"
#include "base/hashmap.h"
#include "kstall/mm.h"
#include "base/search.h"

/* More inodes than any real tmpfs holds; a longer walk is a loop. */
#define MAX_INODES 262144

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
	uint64_t head, pos, unread_at = 0;
	size_t budget = MAX_INODES, unread = 0;
	enum ks_error_code code, unread_code = 0;

	if (!ks_kernel_has_all(k, need, sizeof(need) / sizeof(need[0])) ||
	    !ks_kernel_symbol(k, "super_blocks", &head) || !ks_pass_read_u64(a, head, &pos, "super_blocks"))
		return;
	c->files_known = true;
	for (size_t nsb = 0; pos != head && nsb < 4096; nsb++) {
		uint64_t sb = pos - ks_kernel_off(k, KS_F_SB_LIST), ihead, ipos;
		char fstype[16] = "";

		if (ks_fstype_of_sb(k, sb, fstype, sizeof(fstype)) && !strcmp(fstype, "tmpfs")) {
			ihead = sb + ks_kernel_off(k, KS_F_SB_INODES);
			if (!ks_pass_read_u64(a, ihead, &ipos, "a tmpfs superblock's inode list")) {
				c->files_cut = true;
				ipos = ihead;
			}
			while (ipos != ihead) {
				uint64_t inode = ipos - ks_kernel_off(k, KS_F_INODE_SB_LIST), mapping, pages;

				if (!budget--) {
					c->files_cut = true;
					break;
				}
				/* i_mapping is never NULL (&i_data at least); unread, the sums leave the inode out */
				if ((code = ks_read_field_code(k, inode, KS_F_INODE_MAPPING, &mapping)) == 0 && mapping)
					code = ks_read_field_code(k, mapping, KS_F_MAPPING_NRPAGES, &pages);
				else
					pages = 0;
				if (code && !unread++) {
					unread_code = code;
					unread_at = inode;
				}
				if (code) {
					c->files_cut = true;
				} else if (pages) {
					c->files_seen++;
					c->files_pages += pages;
					keep_file(c, inode, pages);
				}
				if (!ks_pass_read_u64(a, ipos, &ipos, "a tmpfs inode list entry")) {
					c->files_cut = true;
					break;
				}
			}
		}
		if (!ks_pass_read_u64(a, pos, &pos, "the superblock list")) {
			c->files_cut = true;
			break;
		}
	}
	if (unread)
		ks_problems_add(&a->problems, unread_code, 0, unread_at,
				"%zu tmpfs inode%s could not be read (%s, the first at 0x%llx): their pages are left out of "
				"the tmpfs sums",
				unread, unread == 1 ? "" : "s", ks_error_code_name(unread_code), (unsigned long long)unread_at);
	for (size_t f = 0; f < c->nfiles; f++) {
		uint64_t inode = c->files[f].file.inode;

		if (!ks_file_of_inode(k, inode, &c->files[f].file))
			c->files[f].file.inode = inode;
	}
}

/* A read of a file table, its failure counted (the first one's code and address kept). */
static bool files_read(struct ks_kernel *k, uint64_t addr, void *ret, size_t size, enum ks_error_code *code,
		       uint64_t *at, size_t *unread)
{
	enum ks_error_code c = ks_read_code(k, addr, ret, size);

	if (!c)
		return true;
	if (!*code) {
		*code = c;
		*at = addr;
	}
	(*unread)++;
	return false;
}

/* More descriptors than a process may have (fs.nr_open's ceiling is 2^30, its default 2^20). */
#define MAX_FDS (1u << 20)
/* descriptor slots read in all: 10,000 processes of 1,024 with room to spare */
#define MAX_FD_SLOTS (1ull << 24)

/*
 * Who holds each of the biggest tmpfs files open: every process's file table
 * (task->files->fdt: max_fds slots of struct file pointers), read once per
 * files_struct (threads share theirs), each open file's inode against the
 * files'. What a process only maps, having closed it, is not seen here.
 * Bounded: MAX_FD_SLOTS slots in all; past it, the holders are not known.
 */
static void file_holders(struct ks_analysis *a, struct ks_consumers *c)
{
	struct ks_kernel *k = a->kernel;
	uint64_t files_off, fdt_off, max_off, fd_off, inode_off, size;
	struct ks_u64map seen = { 0 };
	uint64_t *slots = NULL, dummy, budget = MAX_FD_SLOTS;
	size_t last[KS_TOP_FILES], unread = 0;
	bool complete = true;
	enum ks_error_code code = 0;
	uint64_t at = 0;

	for (size_t f = 0; f < KS_TOP_FILES; f++)
		last[f] = SIZE_MAX;

	if (!c->nfiles || !ks_kernel_late_field(k, KS_LF_TASK_FILES, &files_off, &size) ||
	    !ks_kernel_late_field(k, KS_LF_FILES_FDT, &fdt_off, &size) ||
	    !ks_kernel_late_field(k, KS_LF_FDTABLE_MAX_FDS, &max_off, &size) || size != 4 ||
	    !ks_kernel_late_field(k, KS_LF_FDTABLE_FD, &fd_off, &size) ||
	    !ks_kernel_late_field(k, KS_LF_FILE_F_INODE, &inode_off, &size))
		return;
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		uint64_t files, fdt, fd;
		uint32_t max;
		uint64_t *grown;

		/* a user task (a kernel thread's files are init's); threads share one table, read once,
		 * and any of them stands for the process (its leader may have exited) */
		if (t->idle || !t->mm)
			continue;
		if (!files_read(k, t->address + files_off, &files, 8, &code, &at, &unread) || !files) {
			complete = false;
			continue;
		}
		if (ks_u64map_get_u64(&seen, files, &dummy))
			continue;
		ks_u64map_put_u64(&seen, files, 1);
		if (!files_read(k, files + fdt_off, &fdt, 8, &code, &at, &unread) ||
		    !files_read(k, fdt + max_off, &max, 4, &code, &at, &unread) ||
		    !files_read(k, fdt + fd_off, &fd, 8, &code, &at, &unread) || max > MAX_FDS) {
			complete = false;
			continue;
		}
		/* one budget for the whole walk: a damaged dump may point every table at a huge one */
		if (max > budget) {
			complete = false;
			break;
		}
		budget -= max;
		if (!(grown = realloc(slots, (max ? max : 1) * sizeof(*slots)))) {
			complete = false;
			break;
		}
		slots = grown;
		if (max) {
			enum ks_error_code c_ = ks_read_code(k, fd, slots, max * sizeof(*slots));

			if (c_) {
				code = code ? code : c_;
				at = at ? at : fd;
				unread++;
				complete = false;
				continue;
			}
		}
		for (uint32_t d = 0; d < max; d++) {
			uint64_t inode;

			/* an empty slot is NULL; a file whose inode is unread makes the holders unknown */
			if (!slots[d])
				continue;
			if (!files_read(k, slots[d] + inode_off, &inode, 8, &code, &at, &unread)) {
				complete = false;
				continue;
			}
			for (size_t f = 0; f < c->nfiles; f++) {
				struct ks_file_mem *fm = &c->files[f];

				if (fm->file.inode != inode)
					continue;
				/* once per table, however many descriptors it has on the file */
				if (last[f] == i)
					continue;
				last[f] = i;
				if (fm->nholders < KS_FILE_HOLDERS)
					fm->holders[fm->nholders] = i;
				fm->nholders++;
			}
		}
	}
	free(slots);
	ks_u64map_free(&seen);
	if (unread)
		ks_problems_add(&a->problems, code, 0, at,
				"%zu file table read%s failed (%s): who holds the tmpfs files open is unknown", unread,
				unread == 1 ? "" : "s", ks_error_code_name(code));
	for (size_t f = 0; f < c->nfiles; f++)
		c->files[f].holders_known = complete;
}

static struct ks_error *consumers_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_consumers *c = &a->memory.consumers;
	struct ks_process_mem *procs;
	struct ks_mm_procs mp;
	struct ks_error *err;
	size_t n = 0;

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
	file_holders(a, c);
	err = ks_mm_procs_read(k, &a->tasks, &mp);
	if (err) {
		/* an unknown layout leaves consumers unknown (c->known false), not an analysis error */
		if (err == &ks_error_nomem)
			return err;
		ks_error_destroy(err);
		return NULL;
	}
	procs = calloc(mp.count ? mp.count : 1, sizeof(*procs));
	if (!procs) {
		ks_mm_procs_deinit(&mp);
		return &ks_error_nomem;
	}
	c->known = true;
	for (size_t p = 0; p < mp.count; p++) {
		struct ks_process_mem *pm;

		if (!mp.read[p]) {
			const struct ks_task *t = &a->tasks.tasks[mp.task[p]];
			uint64_t probe;
			/* why: the mm_struct's page itself, else what it points to was bad */
			enum ks_error_code code = ks_read_code(k, t->mm, &probe, sizeof(probe));

			ks_problems_add(&a->problems, code ? code : KS_ERR_BAD_DATA, t->address, t->mm,
					"memory counters of %s (pid %d) could not be read: process sums leave it out",
					t->comm, t->tgid);
			c->unreadable++;
			continue;
		}
		pm = &procs[n++];
		pm->task = mp.task[p];
		pm->mm = a->tasks.tasks[mp.task[p]].mm;
		pm->threads = mp.threads[p];
		pm->anon = ks_mm_usage_pages(&mp.usage[p], KS_MM_ANON);
		pm->file = ks_mm_usage_pages(&mp.usage[p], KS_MM_FILE);
		pm->shmem = ks_mm_usage_pages(&mp.usage[p], KS_MM_SHMEM);
		pm->swap = ks_mm_usage_pages(&mp.usage[p], KS_MM_SWAP);
		pm->pgtables_known = mp.usage[p].pgtables_known;
		pm->pgtables_bytes = mp.usage[p].pgtables_bytes;
		c->anon += pm->anon;
		c->file += pm->file;
		c->shmem += pm->shmem;
		c->swap += pm->swap;
		c->pgtables_bytes += pm->pgtables_bytes;
	}
	ks_mm_procs_deinit(&mp);
	c->processes = n;
	ks_sort(procs, n, sizeof(*procs), by_rss);
	c->ntop = n < KS_TOP_PROCESSES ? n : KS_TOP_PROCESSES;
	memcpy(c->top, procs, c->ntop * sizeof(*procs));
	free(procs);
	return NULL;
}

const struct ks_pass ks_pass_consumers = {
	.name = "consumers",
	.finish = consumers_finish,
};
