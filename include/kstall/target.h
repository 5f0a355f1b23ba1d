/*
 * The target: the only way kstall reads a dump. A backend is a const method
 * table (libkdumpfile here, crash's readmem() in the crash plugin, an
 * in-memory one in unit tests); everything above it is backend-agnostic.
 */
#ifndef KSTALL_TARGET_H
#define KSTALL_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"

#define KS_TARGET_OPS_VERSION 3

struct ks_target_ops {
	unsigned int version;
	const char *name;
	/* Read len bytes at a kernel virtual (or physical) address; all or an error. */
	struct ks_error *(*read)(void *priv, uint64_t addr, void *buf, size_t len, bool physical);
	/* The raw VMCOREINFO text, or NULL when the dump has none. Owned by the backend. */
	const char *(*vmcoreinfo)(void *priv);
	void (*destroy)(void *priv);
	/*
	 * Optional (NULL when the backend has none). The caller will read these
	 * page-aligned virtual pages soon, in this order: the backend may read
	 * them ahead on a thread of its own. n == 0 ends it. Returns how many
	 * pages of the read-ahead that ends were served from it.
	 */
	uint64_t (*readahead)(void *priv, const uint64_t *pages, size_t n);
	/* The caller is at pages[pos]: earlier ones may be dropped. */
	void (*readahead_at)(void *priv, size_t pos);
	/*
	 * Optional: read as read does, but say only why it failed (0: it did not),
	 * making no message: most failed reads are try-reads whose caller keeps
	 * the code alone. NULL: read, and its error dropped.
	 */
	enum ks_error_code (*try_read)(void *priv, uint64_t addr, void *buf, size_t len, bool physical);
	/*
	 * Optional: what the file itself lacks, found at open ("the file is cut
	 * short: ..."), or NULL: a dump that is damaged where no read has gone
	 * yet is still said to be damaged. Owned by the backend.
	 */
	const char *(*damage)(void *priv);
};

struct ks_target;

/* Takes ownership of priv: ops->destroy(priv) runs in ks_target_destroy, also on failure. */
struct ks_error *ks_target_create(const struct ks_target_ops *ops, void *priv,
				  struct ks_target **ret);
void ks_target_destroy(struct ks_target *t);

/* Open a vmcore with libkdumpfile (kdump-compressed, ELF, and what else it reads). */
struct ks_settings;
/* settings: pages_by_libkdumpfile is read (NULL: the defaults). */
struct ks_error *ks_target_open_kdump(const char *path, const struct ks_settings *settings,
				      struct ks_target **ret);

struct ks_error *ks_target_read(struct ks_target *t, uint64_t addr, void *buf, size_t len);
/* The same, for a caller that keeps only why it failed: 0, or the code; no message is made. */
enum ks_error_code ks_target_try_read(struct ks_target *t, uint64_t addr, void *buf, size_t len);
struct ks_error *ks_target_read_phys(struct ks_target *t, uint64_t addr, void *buf, size_t len);
const char *ks_target_name(const struct ks_target *t);
/* What the dump file lacks, as the backend found it at open; NULL when nothing. */
const char *ks_target_damage(const struct ks_target *t);

/* How the read cache fared, for the benchmark (KSTALL_STATS=1 prints it). */
struct ks_target_stats {
	/* page-sized pieces asked for, and those the backend had to supply */
	uint64_t reads, misses;
	/* misses the backend served from pages it had read ahead */
	uint64_t ahead;
};
struct ks_target_stats ks_target_stats(const struct ks_target *t);

/* The unit the read cache asks backends for, and that read-ahead hints are in. */
#define KS_TARGET_PAGE 4096u

/*
 * Hints for the backend: pages (KS_TARGET_PAGE-aligned virtual addresses) will be read
 * next, in this order, and the caller is now at pages[pos]. Answers never
 * depend on them. Nothing happens on one CPU, with KSTALL_THREADS=1, or
 * when the backend cannot read ahead. ks_target_readahead_end ends it; the
 * next ks_target_readahead or ks_target_destroy does too.
 */
void ks_target_readahead(struct ks_target *t, const uint64_t *pages, size_t n);
void ks_target_readahead_at(struct ks_target *t, size_t pos);
void ks_target_readahead_end(struct ks_target *t);

/*
 * The value of a VMCOREINFO line ("OSRELEASE" -> "6.1.0"), copied into buf.
 * Returns false when the key is absent or the value does not fit.
 */
bool ks_target_vmcoreinfo(struct ks_target *t, const char *key, char *buf, size_t size);
/* The whole VMCOREINFO text, or NULL (for wrapper backends). Owned by the target. */
const char *ks_target_vmcoreinfo_raw(struct ks_target *t);

#endif
