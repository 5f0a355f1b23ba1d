/*
 * Where kstall keeps what outlives a run: $KSTALL_CACHE_DIR, else
 * $XDG_CACHE_HOME/kstall, else ~/.cache/kstall.
 */
#ifndef KSTALL_CACHEDIR_H
#define KSTALL_CACHEDIR_H

/*
 * "DIR/name" with DIR made if need be (0700), malloc'd; NULL when no
 * directory can be named (no HOME) or memory is short.
 */
char *ks_cache_path(const char *name);

#endif
