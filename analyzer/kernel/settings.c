/*
 * The settings from the environment, for the programs that embed the core:
 * the only place the core library reads environment variables (apart from
 * DEBUGINFOD_URLS, which is libdebuginfod's own).
 */
#include "kstall/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *ks_cache_dir_from_env(void)
{
	const char *own = getenv("KSTALL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	char *dir = NULL;

	if (own && *own) {
		if (asprintf(&dir, "%s", own) < 0)
			return NULL;
	} else if (xdg && xdg[0] == '/') {
		if (asprintf(&dir, "%s/kstall", xdg) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&dir, "%s/.cache", home) < 0)
			return NULL;
		mkdir(dir, 0700);
		free(dir);
		if (asprintf(&dir, "%s/.cache/kstall", home) < 0)
			return NULL;
	} else {
		return NULL;
	}
	mkdir(dir, 0700);
	return dir;
}

static bool is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

void ks_settings_from_env(struct ks_settings *ret, char **cache_dir_owned)
{
	memset(ret, 0, sizeof(*ret));
	ret->one_thread = is("KSTALL_THREADS", "1");
	ret->pages_by_libkdumpfile = is("KSTALL_PAGES", "libkdumpfile");
	ret->dwarf_by_libdw = is("KSTALL_DWARF_SCAN", "libdw");
	ret->locks_from_stack = getenv("KSTALL_TEST_LOCKS_FROM_STACK") != NULL;
	ret->hide_members = getenv("KSTALL_TEST_HIDE_MEMBERS");
	ret->tmp_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : NULL;
	/* where Debian's -dbg packages put module debuginfo; "" looks nowhere */
	ret->debug_root = getenv("KSTALL_DEBUG_ROOT") ? getenv("KSTALL_DEBUG_ROOT") : "/usr/lib/debug";
	if (!*ret->debug_root)
		ret->debug_root = NULL;
	*cache_dir_owned = is("KSTALL_CACHE", "off") ? NULL : ks_cache_dir_from_env();
	ret->cache_dir = *cache_dir_owned;
}
