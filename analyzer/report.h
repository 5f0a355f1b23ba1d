/* Renderers of the analysis for the CLI (and, later, the crash plugin). */
#ifndef KSTALL_REPORT_H
#define KSTALL_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "kstall/analysis.h"

void ks_report_text(FILE *out, const struct ks_analysis *a);
/* Shared by the renderers: a task worth showing (allocating, waiting on a lock, or in D), and its stall in words. */
bool ks_report_stalled(const struct ks_analysis *a, size_t i);
void ks_report_stall_words(const struct ks_stall *st, char *buf, size_t size);
/* A new reference; the caller decrefs. */
json_t *ks_report_json(const struct ks_analysis *a);

#endif
