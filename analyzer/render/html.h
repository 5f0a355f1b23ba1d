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

/* A text label naming a point on a horizontal line of a picture (a watermark under a zone's bar). */
struct ks_html_label {
	double x;     /* the point it names */
	double width; /* its width, estimated from its characters */
	double left;  /* out: where its left edge goes */
	unsigned lane; /* out: 0 is the first line of labels, 1 the line under it, ... */
};

/*
 * Place n labels so that none overlaps another, for any points: each is centred
 * on its point when it can be, kept within [lo, hi], and pushed right past its
 * left neighbour by at most max_shift; a label that would go further goes to
 * the first lane below where it fits. gap is the room kept between two labels
 * of a lane. Labels are taken in order of x (ties in the array's order), so
 * labels of ordered values read in that order. Returns the number of lanes.
 */
unsigned ks_html_place_labels(struct ks_html_label *labels, size_t n, double lo, double hi, double gap,
			      double max_shift);

/* The page of one analysis; the model's log gives its relevant lines. Returns 0 or -1 (write error). */
int ks_report_html(FILE *out, const struct ks_analysis *a);

#endif
