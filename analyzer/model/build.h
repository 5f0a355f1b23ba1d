/* Building the model: what the driver (passes/analyze.c) calls before and after the passes. */
#ifndef KSTALL_MODEL_BUILD_H
#define KSTALL_MODEL_BUILD_H

#include "kstall/model.h"

/* now_ns (the newest rq->clock), jiffies and HZ; a problem line when HZ cannot be told. */
void ks_model_load_clocks(struct ks_analysis *a);

struct ks_u64map;
/*
 * Once its passes are done, task i's stack keeps only what the reports show,
 * and shares one copy with the tasks before it whose frames are the same
 * (pool: the first task of each stack hash).
 */
void ks_model_share_stack(struct ks_analysis *a, struct ks_u64map *pool, size_t i);

#endif
