/*
 * The seam between the crash plugin's two halves. crash_glue.c is the only
 * file that includes crash's defs.h (it redefines TRUE, ulong and friends);
 * session.c is plain kstall. Nothing here names a crash type.
 */
#ifndef KSTALL_CRASH_HOST_H
#define KSTALL_CRASH_HOST_H

#include <stdbool.h>
#include <stdio.h>

#include "kstall/error.h"
#include "kstall/target.h"

enum kscrash_view {
	KSCRASH_REPORT, /* kstall */
	KSCRASH_LOCKS,	/* kstall -l */
	KSCRASH_ALLOC,	/* kstall -a */
	KSCRASH_MEMORY, /* kstall -m */
	KSCRASH_JSON,	/* kstall -j */
};

/* crash_glue.c: what the host crash session gives kstall. */
/* A target on crash's readmem(); never longjmps, whatever crash does inside. */
struct ks_error *kscrash_target_create(struct ks_target **ret);
/* The vmlinux crash loaded (its separate debuginfo file when it was given one). */
const char *kscrash_vmlinux(void);
/* A live system: memory changes under us, so nothing may be cached. */
bool kscrash_live(void);

/* session.c: one command, writing to out; errors are printed there too. */
void kscrash_run(enum kscrash_view view, FILE *out);
/* Free what the session cached (on `extend -u`). */
void kscrash_session_free(void);

#endif
