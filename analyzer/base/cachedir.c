#include "base/cachedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

char *ks_cache_path(const char *name)
{
	const char *own = getenv("KSTALL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	char *dir = NULL, *path;

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
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	free(dir);
	return path;
}
