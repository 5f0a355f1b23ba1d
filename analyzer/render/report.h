/* Renderers of the analysis for the CLI and the crash plugin. */
#ifndef KSTALL_REPORT_H
#define KSTALL_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "kstall/model.h"

/* Sections of the text report, printed in this order. */
enum ks_report_section {
	KS_REPORT_VERDICTS = 1u << 0, /* the header and the ranked verdicts */
	KS_REPORT_CHAINS = 1u << 1,
	KS_REPORT_STALLED = 1u << 2,
	KS_REPORT_ALLOC = 1u << 3, /* every task in the page allocator */
	KS_REPORT_LOCKS = 1u << 4,
	KS_REPORT_MEMORY = 1u << 5,
	KS_REPORT_OOM = 1u << 6,
	KS_REPORT_EVENTS = 1u << 7, /* the log lines linked to tasks */
	KS_REPORT_SUPPORT = 1u << 9, /* what kstall cannot read on this kernel */
	KS_REPORT_PROBLEMS = 1u << 8,
	/* what `kstall report` prints */
	KS_REPORT_DEFAULT = KS_REPORT_VERDICTS | KS_REPORT_CHAINS | KS_REPORT_STALLED |
			    KS_REPORT_LOCKS | KS_REPORT_MEMORY | KS_REPORT_OOM | KS_REPORT_EVENTS |
			    KS_REPORT_SUPPORT | KS_REPORT_PROBLEMS,
};

void ks_report_text(FILE *out, const struct ks_analysis *a);
void ks_report_sections(FILE *out, const struct ks_analysis *a, unsigned int sections);
/* Shared by the renderers: a stall in words. */
void ks_report_stall_words(const struct ks_stall *st, char *buf, size_t size);
/*
 * A string from the dump as JSON. jansson refuses bytes that are not UTF-8 (and
 * json_pack then drops the whole object); here each such byte becomes U+FFFD.
 * NULL only when out of memory.
 */
json_t *ks_json_text(const char *s);
/* A new reference; the caller decrefs. */
json_t *ks_report_json(const struct ks_analysis *a);

#endif
