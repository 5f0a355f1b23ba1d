/* `kstall sys`: the machine and the crash at a glance, in the keys of crash's `sys`. */
#ifndef KSTALL_SYS_H
#define KSTALL_SYS_H

#include <jansson.h>
#include <stdio.h>

#include "kstall/model.h"

/* dumpfile: the name the user gave the dump */
void ks_sys_text(FILE *out, const struct ks_analysis *a, const char *dumpfile);
/* A new reference; the caller decrefs. */
json_t *ks_sys_json(const struct ks_analysis *a, const char *dumpfile);

#endif
