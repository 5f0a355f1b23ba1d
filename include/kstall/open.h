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

struct ks_open_options {
	const char *vmcore;
	/* NULL: search by the dump's build-id and release, then debuginfod */
	const char *vmlinux;
	bool force;
};

struct ks_error *ks_open(const struct ks_open_options *opts, struct ks_kernel **ret);

/*
 * The same from a target a caller already made (the crash plugin's readmem()
 * backend). Takes ownership of target, also on failure. vmlinux NULL: search
 * as ks_open does.
 */
struct ks_error *ks_open_target(struct ks_target *target, const char *vmlinux, bool force,
				struct ks_kernel **ret);

#endif
