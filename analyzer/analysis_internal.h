/* Shared by the analysis passes; not part of the public API. */
#ifndef KSTALL_ANALYSIS_INTERNAL_H
#define KSTALL_ANALYSIS_INTERNAL_H

#include "kstall/analysis.h"

/* gfpflag_names read from the dump. */
struct ks_gfp_table {
	struct ks_gfp_name *names;
	char *strings;
	size_t count;
};

void ks_gfp_table_load(struct ks_kernel *k, struct ks_gfp_table *t);
void ks_gfp_table_deinit(struct ks_gfp_table *t);
uint64_t ks_gfp_bit(const struct ks_gfp_table *t, const char *name);

/* The passes, in the order ks_analyze() runs them. */
void ks_pass_alloc(struct ks_analysis *a, const struct ks_gfp_table *gfp);
struct ks_error *ks_pass_locks(struct ks_analysis *a);
void ks_pass_memory(struct ks_analysis *a);
void ks_memory_deinit(struct ks_memory *m);
void ks_pass_events(struct ks_analysis *a, const struct ks_log *log);
void ks_events_free(struct ks_analysis *a);
void ks_pass_timing(struct ks_analysis *a);
void ks_pass_oom(struct ks_analysis *a);
struct ks_error *ks_pass_verdict(struct ks_analysis *a);

/* Index of the task at a task_struct address, or -1. */
long ks_analysis_task_index(const struct ks_analysis *a, uint64_t address);

#endif
