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

#define KS_TARGET_OPS_VERSION 1

struct ks_target_ops {
	unsigned int version;
	const char *name;
	/* Read len bytes at a kernel virtual (or physical) address; all or an error. */
	struct ks_error *(*read)(void *priv, uint64_t addr, void *buf, size_t len, bool physical);
	/* The raw VMCOREINFO text, or NULL when the dump has none. Owned by the backend. */
	const char *(*vmcoreinfo)(void *priv);
	void (*destroy)(void *priv);
};

struct ks_target;

/* Takes ownership of priv: ops->destroy(priv) runs in ks_target_destroy, also on failure. */
struct ks_error *ks_target_create(const struct ks_target_ops *ops, void *priv,
				  struct ks_target **ret);
void ks_target_destroy(struct ks_target *t);

/* Open a vmcore with libkdumpfile (kdump-compressed, ELF, and what else it reads). */
struct ks_error *ks_target_open_kdump(const char *path, struct ks_target **ret);

struct ks_error *ks_target_read(struct ks_target *t, uint64_t addr, void *buf, size_t len);
struct ks_error *ks_target_read_phys(struct ks_target *t, uint64_t addr, void *buf, size_t len);
const char *ks_target_name(const struct ks_target *t);

/* How the read cache fared, for the benchmark (KSTALL_STATS=1 prints it). */
struct ks_target_stats {
	/* page-sized pieces asked for, and those the backend had to supply */
	uint64_t reads, misses;
};
struct ks_target_stats ks_target_stats(const struct ks_target *t);

/*
 * The value of a VMCOREINFO line ("OSRELEASE" -> "6.1.0"), copied into buf.
 * Returns false when the key is absent or the value does not fit.
 */
bool ks_target_vmcoreinfo(struct ks_target *t, const char *key, char *buf, size_t size);
/* The whole VMCOREINFO text, or NULL (for wrapper backends). Owned by the target. */
const char *ks_target_vmcoreinfo_raw(struct ks_target *t);

#endif
