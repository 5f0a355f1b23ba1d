/*
 * The HTML report: one self-contained file (no network: inline style and script,
 * pictures as inline SVG) rendered from the analysis, for a support engineer.
 */
#ifndef KSTALL_HTML_H
#define KSTALL_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "kstall/model.h"

/*
 * Write s escaped for HTML text and for quoted attribute values alike, at most
 * max_chars characters (then "…"); SIZE_MAX for all. Every string that comes
 * from the dump goes through here: it may hold markup, control characters or
 * bytes that are not UTF-8, which become U+FFFD so the file stays valid UTF-8.
 */
void ks_html_escape(FILE *out, const char *s, size_t max_chars);

/* The page of one analysis; the model's log gives its relevant lines. Returns 0 or -1 (write error). */
int ks_report_html(FILE *out, const struct ks_analysis *a);

#endif
