/*
 * A process's memory as its mm_struct counts it: resident anonymous, file and
 * shared-memory pages, swap entries (get_mm_counter) and page-table bytes.
 * Read as the kernel keeps them: since 6.2 a percpu_counter each, whose value
 * is its count plus every CPU's unfolded delta (percpu_counter_sum); before, an
 * atomic count in mm_struct plus each thread's own unfolded deltas
 * (task_struct.rss_stat, SPLIT_RSS_COUNTING), which the caller adds per thread.
 */
#ifndef KSTALL_MM_H
#define KSTALL_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "kstall/error.h"
#include "kstall/kernel.h"
#include "kstall/tasks.h"

enum ks_mm_counter { KS_MM_ANON, KS_MM_FILE, KS_MM_SHMEM, KS_MM_SWAP, KS_MM_NCOUNTERS };

/* pages may be negative while deltas are unfolded: ks_mm_usage_pages clamps them as the kernel's
 * readers do */
struct ks_mm_usage {
	int64_t pages[KS_MM_NCOUNTERS];
	uint64_t pgtables_bytes;
	bool pgtables_known;
};

struct ks_mm_reader;

/* KS_ERR_UNSUPPORTED when this kernel's mm counters cannot be laid out from its DWARF. */
struct ks_error *ks_mm_reader_create(struct ks_kernel *k, struct ks_mm_reader **ret);
void ks_mm_reader_destroy(struct ks_mm_reader *r);
/* mm's counters as the mm holds them; false when they could not be read. */
bool ks_mm_read(struct ks_mm_reader *r, uint64_t mm, struct ks_mm_usage *ret);
/* Adds a thread's unfolded deltas (kernels before 6.2; nothing on later ones). */
void ks_mm_add_thread(const struct ks_mm_reader *r, const struct ks_task *t, struct ks_mm_usage *u);
/*
 * Every process's counters, read once per mm with its threads' deltas added: what ps and the
 * consumers pass both need. of_task[i] is task i's process, -1 for a kernel thread or an idle
 * task; a process whose counters could not be read has read[p] false.
 */
struct ks_mm_procs {
	size_t count;
	struct ks_mm_usage *usage;
	bool *read;
	size_t *task;	 /* the thread group leader, else its first thread met */
	size_t *threads;
	long *of_task;
};

/* KS_ERR_UNSUPPORTED as ks_mm_reader_create when the layout is unknown. */
struct ks_error *ks_mm_procs_read(struct ks_kernel *k, const struct ks_tasks *tasks, struct ks_mm_procs *ret);
void ks_mm_procs_deinit(struct ks_mm_procs *p);

/* One counter in pages, negative drift read as none. */
uint64_t ks_mm_usage_pages(const struct ks_mm_usage *u, enum ks_mm_counter c);
/* anon + file + shmem pages: the RSS that ps and the OOM killer's report show */
uint64_t ks_mm_usage_rss(const struct ks_mm_usage *u);

#endif
