/* Opening a dump: tell the vmcore from the vmlinux, find the vmlinux when it is not given. */
#ifndef KSTALL_OPEN_H
#define KSTALL_OPEN_H

#include <stdbool.h>
#include <stddef.h>

#include "kstall/error.h"
#include "kstall/kernel.h"

enum ks_file_kind { KS_FILE_UNKNOWN, KS_FILE_VMCORE, KS_FILE_VMLINUX, KS_FILE_MODULE };

/* By content: kdump-compressed or ELF core is a vmcore; ELF with .ko name a module. */
enum ks_file_kind ks_file_kind(const char *path);

/* Where to look for a dump's vmlinux before the standard paths. */
struct ks_vmlinux_search {
	/* candidate files: the one whose build-id is the dump's is taken */
	const char *const *files;
	size_t nfiles;
	/*
	 * directories laid out like /usr/lib/debug (.build-id/xx/rest.debug,
	 * boot/vmlinux-R, lib/modules/R/vmlinux), or holding vmlinux-R, R/vmlinux
	 * or vmlinux themselves
	 */
	const char *const *dirs;
	size_t ndirs;
	/* where a compressed candidate is decompressed (cache_dir, tmp_dir); NULL: a temporary file */
	const struct ks_settings *settings;
};

/*
 * The path of the dump's vmlinux (malloc'ed): the first file of search (may
 * be NULL), then of the standard debug paths, whose build-id is the dump's
 * (its release when either side has no build-id); then debuginfod. LOOKUP
 * naming the files refused when there is none.
 */
struct ks_error *ks_find_vmlinux(struct ks_target *t, const struct ks_vmlinux_search *search,
				 char **ret, enum ks_vmlinux_origin *origin);

struct ks_open_options {
	const char *vmcore;
	/* NULL: search by the dump's build-id and release, then debuginfod */
	const char *vmlinux;
	bool force;
	/* NULL: the defaults (nothing kept between runs) */
	const struct ks_settings *settings;
};

struct ks_error *ks_open(const struct ks_open_options *opts, struct ks_kernel **ret);

/*
 * The same from a target a caller already made (the crash plugin's readmem()
 * backend). Takes ownership of target, also on failure. vmlinux NULL: search
 * as ks_open does; else origin says how the caller came by it.
 */
struct ks_error *ks_open_target(struct ks_target *target, const char *vmlinux,
				enum ks_vmlinux_origin origin, bool force,
				const struct ks_settings *settings, struct ks_kernel **ret);

#endif
