/*
 * What the program that embeds the core chooses for it. The core reads no
 * environment: the CLI and the crash plugin fill this (ks_settings_from_env
 * reads the KSTALL_* variables documented in docs/cli.md) and hand it to
 * ks_open / ks_open_target, which give each layer its part.
 */
#ifndef KSTALL_SETTINGS_H
#define KSTALL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

struct ks_settings {
	/* one thread: no stack read-ahead, no DWARF index pass beside the main thread */
	bool one_thread;
	/* where answers are kept between runs (the DWARF index memo); NULL: nothing is kept */
	const char *cache_dir;
	/* every page through libkdumpfile, not kstall's own kdump-compressed reader */
	bool pages_by_libkdumpfile;
	/* the DWARF name index through libdw only, not kstall's own DIE reader */
	bool dwarf_by_libdw;
	/* a test hook: find lock waits by the stack scan alone (no blocker word, no frame parameters) */
	bool locks_from_stack;
	/* a test hook: "type.member,..." that the DWARF is made to lack, as an unknown kernel would */
	const char *hide_members;
	/* where a compressed vmlinux is decompressed when there is no cache_dir (TMPDIR); NULL: /tmp */
	const char *tmp_dir;
	/* modules' .ko files the caller gave, each matched to a loaded module by name and build-id */
	const char *const *module_files;
	size_t nmodule_files;
	/* where module debuginfo is looked for (.build-id/, lib/modules/RELEASE/); NULL: nowhere */
	const char *debug_root;
};

/*
 * The settings the environment asks for: KSTALL_THREADS=1, KSTALL_CACHE=off,
 * KSTALL_CACHE_DIR (else $XDG_CACHE_HOME/kstall, else ~/.cache/kstall, made
 * when missing), KSTALL_PAGES=libkdumpfile, KSTALL_DWARF_SCAN=libdw,
 * KSTALL_TEST_LOCKS_FROM_STACK, KSTALL_TEST_HIDE_MEMBERS, KSTALL_DEBUG_ROOT. *cache_dir_owned holds the cache directory's
 * string (free it after the last use of ret); NULL when there is none.
 */
void ks_settings_from_env(struct ks_settings *ret, char **cache_dir_owned);
/*
 * $KSTALL_CACHE_DIR, else $XDG_CACHE_HOME/kstall, else ~/.cache/kstall, made
 * (0700) when missing; malloc'd, NULL when none can be named (no HOME).
 */
char *ks_cache_dir_from_env(void);

#endif
