/* Renderers of the analysis for the CLI (and, later, the crash plugin). */
#ifndef KSTALL_REPORT_H
#define KSTALL_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "kstall/analysis.h"

void ks_report_text(FILE *out, const struct ks_analysis *a);
/* A new reference; the caller decrefs. */
json_t *ks_report_json(const struct ks_analysis *a);

#endif
