/*
 * kstall triage: many dumps at once. Finds them under directories, analyzes
 * each in a process of its own (a damaged dump must not take the batch down),
 * and keeps what it found in an index that later runs and --similar read.
 * The CLI's; the core library knows nothing of it.
 */
#ifndef KSTALL_TRIAGE_H
#define KSTALL_TRIAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/analysis.h"
#include "kstall/error.h"
#include "kstall/open.h"

/* grows when a field changes meaning or goes away, not when one is added (docs/report.md) */
#define KS_TRIAGE_SCHEMA_VERSION 1

enum ks_triage_status {
	KS_TRIAGE_PENDING,
	KS_TRIAGE_OK,
	KS_TRIAGE_PARTIAL, /* analyzed, but parts of the dump could not be read */
	KS_TRIAGE_FAILED,  /* not analyzed; reason says why */
	/* analyzed, but the dump could not be read in full (its coverage is incomplete): apart from
	 * the dumps read in full, whatever its verdict; reason says what is missing */
	KS_TRIAGE_INCONCLUSIVE,
};

/* One dump and what triage found in it. Strings are owned; NULL when unknown. */
struct ks_triage_entry {
	/* absolute, symlinks kept: the name the user knows the dump by */
	char *path;
	uint64_t size;
	int64_t mtime_ns;
	/* taken from the index: this kstall analyzed the same file before */
	bool cached;
	enum ks_triage_status status;
	char *release, *build_id, *vmlinux;
	/* the machine's name (init_uts_ns nodename, known once analyzed) and the crash's wall-clock
	 * time (VMCOREINFO CRASHTIME, seconds since the epoch; 0 when the dump does not say) */
	char *host;
	int64_t crash_time;
	/* the top verdict */
	char *verdict, *signature, *summary;
	double score;
	int32_t pids[KS_VERDICT_MAX_PIDS];
	size_t npids;
	/* why it failed; for a partial analysis, the first thing that could not be read; for an
	 * inconclusive one, the coverage in words and that first thing */
	char *reason;
	/* seconds since the epoch, and by which kstall */
	int64_t analyzed_at;
	char *analyzed_by;
};

struct ks_triage_dumps {
	struct ks_triage_entry *entries;
	size_t count;
	/* directories that could not be read, one line each; NULL when none */
	char *problems;
};

void ks_triage_entry_deinit(struct ks_triage_entry *e);
void ks_triage_dumps_deinit(struct ks_triage_dumps *d);
/* "ok", "partial", "failed", "inconclusive" */
const char *ks_triage_status_name(enum ks_triage_status s);
bool ks_triage_status_parse(const char *name, enum ks_triage_status *ret);
/* A JSON string, or null for NULL; bytes that are not UTF-8 become '?'. */
json_t *ks_triage_json_text(const char *s);
/* The entry as one line of `triage --json` (docs/kstall-triage.schema.json); a new reference. */
json_t *ks_triage_entry_json(const struct ks_triage_entry *e);
/* What analysis found (status to analyzed_at; not path, size, mtime) from such an object. */
struct ks_error *ks_triage_entry_from_json(json_t *obj, struct ks_triage_entry *e);

/* Discovery: triage_find.c. */
#define KS_TRIAGE_MAX_DEPTH 6
/*
 * The dumps among paths: a file given directly is always an entry (one that is
 * not a dump fails with the reason); under a directory, at most
 * KS_TRIAGE_MAX_DEPTH levels down, every file whose header is a dump's
 * (kdump-compressed, or an ELF core with VMCOREINFO). Each file once however
 * it is reached; symlinks followed, loops not. Sorted by path. A path that does
 * not exist is an error.
 */
struct ks_error *ks_triage_find(const char *const *paths, size_t n, struct ks_triage_dumps *ret);

/* Analysis: triage_run.c. */
struct ks_triage_run_options {
	unsigned int jobs;
	/* seconds one dump may take before its process is killed; 0: no limit */
	unsigned int timeout;
	const struct ks_vmlinux_search *search;
	/* in this process, as each dump is done, in the order they finish */
	void (*done)(void *arg, size_t index);
	void *arg;
};
/* Every PENDING entry, jobs at a time, each in a child process. */
void ks_triage_run(struct ks_triage_entry *entries, size_t n,
		   const struct ks_triage_run_options *opts);
/* One dump in this process: what each child does. */
void ks_triage_analyze(struct ks_triage_entry *e, const struct ks_vmlinux_search *search);

/* The index: triage_index.c, SQLite. */
struct ks_triage_index;
/* readonly: for --similar, which must not create a file. version names this kstall build. */
struct ks_error *ks_triage_index_open(const char *path, const char *version, bool readonly,
				      struct ks_triage_index **ret);
void ks_triage_index_close(struct ks_triage_index *idx);
/*
 * Fill e from the index when this kstall version analyzed the same file (path,
 * size and mtime) before without failing; *found says whether it did.
 */
struct ks_error *ks_triage_index_lookup(struct ks_triage_index *idx, struct ks_triage_entry *e,
					bool *found);
/* Keep e, replacing what the index had for its path. */
struct ks_error *ks_triage_index_store(struct ks_triage_index *idx, const struct ks_triage_entry *e);
/* Every dump of the index with this signature, by path. */
struct ks_error *ks_triage_index_similar(struct ks_triage_index *idx, const char *signature,
					 struct ks_triage_dumps *ret);

/* The command: triage.c. Returns the exit code. */
int ks_triage_main(int argc, char **argv);

#endif
