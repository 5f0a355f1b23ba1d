/*
 * The stall analysis: build the model (kstall/model.h) from an open kernel and
 * run every pass over it, in the order of the pass table.
 */
#ifndef KSTALL_ANALYSIS_H
#define KSTALL_ANALYSIS_H

#include "kstall/model.h"

/* Build the model and run every pass. Fails only when nothing can be analysed. */
struct ks_error *ks_analyze(struct ks_kernel *k, struct ks_analysis *ret);

#endif
