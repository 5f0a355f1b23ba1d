/* Shared by the analysis passes and their driver; not part of the public API. */
#ifndef KSTALL_PASSES_PASS_H
#define KSTALL_PASSES_PASS_H

#include "kstall/analysis.h"

/* Pure helpers of the passes, unit-tested (tests/test_analysis.c). */
/* gfpflag_names in the dump: decode like the kernel's %pGg. */
struct ks_gfp_name {
	uint64_t mask;
	const char *name;
};
void ks_gfp_decode(const struct ks_gfp_name *names, size_t n, uint64_t gfp, char *buf,
		   size_t size);
/*
 * The hung-task detector's record of what a task blocks on
 * (task_struct.blocker, CONFIG_DETECT_HUNG_TASK_BLOCKER, 6.16+): the lock
 * address with the lock kind in its two low bits. False for 0 and for kinds
 * kstall does not follow.
 */
bool ks_blocker_decode(uint64_t word, uint64_t *lock, enum ks_lock_type *type);
/*
 * Walk the wait-for graph: next[i] is the task i waits for (-1 for none).
 * Marks in_cycle[i] for tasks on a cycle; returns the number of such tasks.
 */
size_t ks_find_cycles(const long *next, size_t n, bool *in_cycle);
/*
 * Recognise a log line that names an OOM or hung-task event; fills kind, pid
 * and comm. False for any other line.
 */
bool ks_event_parse(const char *text, enum ks_event_kind *kind, int32_t *pid, char comm[16]);


/* gfpflag_names read from the dump. */
struct ks_gfp_table {
	struct ks_gfp_name *names;
	char *strings;
	size_t count;
};

void ks_gfp_table_load(struct ks_kernel *k, struct ks_gfp_table *t);
void ks_gfp_table_deinit(struct ks_gfp_table *t);
uint64_t ks_gfp_bit(const struct ks_gfp_table *t, const char *name);

/* The gfp bits the allocator pass tests, looked up once. */
struct ks_gfp_bits {
	const struct ks_gfp_table *table;
	uint64_t fs, noretry, nofail, mayfail, thisnode;
};
void ks_gfp_bits_init(struct ks_gfp_bits *b, const struct ks_gfp_table *gfp);

/*
 * Per-task passes, run on each task right after its unwind (its task_struct
 * and stack pages are still in the read cache), then the passes over all.
 */
void ks_alloc_task(struct ks_analysis *a, size_t i, const struct ks_gfp_bits *b);
struct ks_locks_ctx;
struct ks_locks_ctx *ks_locks_begin(void);
struct ks_error *ks_locks_task(struct ks_analysis *a, struct ks_locks_ctx *c, size_t i);
struct ks_error *ks_locks_finish(struct ks_analysis *a);
void ks_locks_free(struct ks_locks_ctx *c);
void ks_timing_task(struct ks_analysis *a, size_t i);
void ks_oom_task(struct ks_analysis *a, size_t i);
void ks_load_clocks(struct ks_analysis *a);

void ks_pass_memory(struct ks_analysis *a);
void ks_memory_deinit(struct ks_memory *m);
void ks_pass_events(struct ks_analysis *a, const struct ks_log *log);
void ks_events_free(struct ks_analysis *a);
void ks_pass_oom(struct ks_analysis *a);
struct ks_error *ks_pass_verdict(struct ks_analysis *a);

/* Naming the file behind a lock (files.c). */
/* The inode whose i_rwsem is at this address, checked against garbage. */
bool ks_inode_of_rwsem(struct ks_kernel *k, uint64_t rwsem, uint64_t *inode);
bool ks_file_of_inode(struct ks_kernel *k, uint64_t inode, struct ks_file_ref *ret);
/* The file of a page-cache folio, with the page index; false for anonymous pages. */
bool ks_file_of_folio(struct ks_kernel *k, uint64_t folio, struct ks_file_ref *ret);
/* The path, else "inode N on FSTYPE". */
void ks_file_label(const struct ks_file_ref *f, char *buf, size_t size);


#endif
