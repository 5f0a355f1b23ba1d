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
 * When a stall that is going on began, from PSI's averages of one resource:
 * seconds before the last averaging (est), the range the averages allow (lo,
 * hi) and the share it stalls at (share, percent); at_least when the averages
 * cannot tell an older onset from hi. up bounds the answer (the uptime at that
 * averaging). False when the line shows no stall going on. Pure, for tests.
 */
bool ks_psi_onset(const struct ks_psi_line *l, double up, double *est, double *lo, double *hi, double *share,
		  bool *at_least);
/*
 * One struct psi_group (psi_system, a cgroup's) as of its last averaging,
 * dated against the crash; its onset unset (-1). The read's error code
 * (LOOKUP when the layout is unknown), 0 when read.
 */
enum ks_error_code ks_psi_read_group(struct ks_analysis *a, uint64_t group, struct ks_psi_group *g);
/* The onset of the memory stall going on in a group read (ks_psi_onset, moved to the crash). */
void ks_psi_fit_onset(const struct ks_analysis *a, struct ks_psi_group *g);
/*
 * Recognise a log line that names an OOM or hung-task event; fills kind, pid
 * and comm. False for any other line.
 */
bool ks_event_parse(const char *text, enum ks_event_kind *kind, int32_t *pid, char comm[16]);

/*
 * An integer global of the size its ELF symbol has (int, long, atomic_long_t):
 * 0 when read, LOOKUP when the kernel has no such symbol (or no size for it),
 * else why the read failed.
 */
enum ks_error_code ks_read_global(struct ks_kernel *k, const char *name, uint64_t *ret);
/*
 * A read whose failure the coverage must see: false and a problem "cannot
 * read WHAT at 0xADDR (code)" with the read's code (coverage.c).
 */
bool ks_pass_read_u64(struct ks_analysis *a, uint64_t addr, uint64_t *ret, const char *what);
bool ks_pass_read_u32(struct ks_analysis *a, uint64_t addr, uint32_t *ret, const char *what);
/* The same for a field of the object at base; a field the kernel lacks is no problem (false). */
bool ks_pass_read_field(struct ks_analysis *a, uint64_t base, enum ks_field f, uint64_t *ret, const char *what);
/*
 * The same for a read that concerns task i (a field of its task_struct, or
 * what it points to): the problem names the task, "cannot read WHAT of pid N
 * (comm) at 0xADDR (code)".
 */
bool ks_pass_read_task_u64(struct ks_analysis *a, size_t i, uint64_t addr, uint64_t *ret, const char *what);
bool ks_pass_read_task_field(struct ks_analysis *a, size_t i, enum ks_field f, uint64_t *ret, const char *what);

/*
 * A pass: what it adds to the model, through up to four hooks, each optional.
 * begin runs before the task loop and may make a per-run context; task runs on
 * each task right after its unwind (its task_struct and stack pages are still
 * in the read cache); finish runs after the loop, once every task is in; end
 * frees the context. Hooks run in the order of the table (table.c), begin and
 * task and finish each in turn; an error from any hook ends the analysis.
 * A pass reads the model and the kernel, never another pass.
 */
struct ks_pass {
	const char *name;
	struct ks_error *(*begin)(struct ks_analysis *a, void **ctx);
	struct ks_error *(*task)(struct ks_analysis *a, void *ctx, size_t i);
	struct ks_error *(*finish)(struct ks_analysis *a, void *ctx);
	void (*end)(void *ctx);
};

/* The passes in the order they run (table.c). */
extern const struct ks_pass *const ks_pass_table[];
extern const size_t ks_pass_count;

#endif
