/* The allocator pass: where each task is in the page allocator, and with which gfp mask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

void ks_gfp_decode(const struct ks_gfp_name *names, size_t n, uint64_t gfp, char *buf,
		   size_t size)
{
	size_t len = 0;
	uint64_t left = gfp;

	buf[0] = '\0';
	/* As the kernel's %pGg: composite names first, each consuming its bits. */
	for (size_t i = 0; i < n && left; i++) {
		if (!names[i].mask || (left & names[i].mask) != names[i].mask)
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					len ? "|" : "", names[i].name);
		left &= ~names[i].mask;
	}
	if (left || !gfp)
		snprintf(buf + len, len < size ? size - len : 0, "%s%#llx", len ? "|" : "",
			 (unsigned long long)left);
}

#define MAX_GFP_NAMES 96

/* gfpflag_names read from the dump. */
struct gfp_table {
	struct ks_gfp_name *names;
	char *strings;
	size_t count;
};

/* The pass's context: the table, and the bits its rules test, looked up once. */
struct alloc_ctx {
	struct gfp_table gfp;
	uint64_t fs, noretry, nofail, mayfail, thisnode;
};

static void gfp_table_load(struct ks_analysis *a, struct gfp_table *t)
{
	struct ks_kernel *k = a->kernel;
	uint64_t addr;
	enum ks_error_code code;

	memset(t, 0, sizeof(*t));
	if (!ks_kernel_symbol(k, "gfpflag_names", &addr))
		return;
	t->names = calloc(MAX_GFP_NAMES, sizeof(*t->names));
	t->strings = calloc(MAX_GFP_NAMES, 48);
	if (!t->names || !t->strings)
		return;
	for (size_t i = 0; i < MAX_GFP_NAMES; i++) {
		uint64_t mask, name;
		char *s = t->strings + 48 * i;

		/* the table ends at a NULL name ({0, NULL}); a read that fails ends it early */
		if (!ks_pass_read_u64(a, addr + 16 * i, &mask, "gfpflag_names[].mask") ||
		    !ks_pass_read_u64(a, addr + 16 * i + 8, &name, "gfpflag_names[].name") || !name)
			break;
		if ((code = ks_read_string_code(k, name, s, 48))) {
			ks_problems_add(&a->problems, code, 0, name,
					"cannot read the name of gfp flag 0x%llx at 0x%llx (%s): gfp masks shown in part as "
					"numbers",
					(unsigned long long)mask, (unsigned long long)name, ks_error_code_name(code));
			break;
		}
		t->names[t->count++] = (struct ks_gfp_name){ mask, s };
	}
}

static void gfp_table_deinit(struct gfp_table *t)
{
	free(t->names);
	free(t->strings);
	memset(t, 0, sizeof(*t));
}

/* The mask of a single flag by its kernel name ("__GFP_FS"); 0 when the table lacks it. */
static uint64_t gfp_bit(const struct gfp_table *t, const char *name)
{
	for (size_t i = 0; i < t->count; i++)
		if (!strcmp(t->names[i].name, name))
			return t->names[i].mask;
	return 0;
}

static const struct {
	const char *name;
	enum ks_alloc_phase phase;
} phase_frames[] = {
	{ "reclaim_throttle", KS_ALLOC_THROTTLED },
	{ "too_many_isolated", KS_ALLOC_THROTTLED },
	{ "throttle_direct_reclaim", KS_ALLOC_THROTTLED },
	{ "congestion_wait", KS_ALLOC_THROTTLED },
	{ "wait_iff_congested", KS_ALLOC_THROTTLED },
	{ "out_of_memory", KS_ALLOC_OOM_KILL },
	{ "__alloc_pages_may_oom", KS_ALLOC_OOM_LOCK_WAIT },
	{ "try_to_compact_pages", KS_ALLOC_COMPACTION },
	{ "__alloc_pages_direct_compact", KS_ALLOC_COMPACTION },
	{ "compact_zone", KS_ALLOC_COMPACTION },
	{ "try_to_free_pages", KS_ALLOC_RECLAIM },
	{ "do_try_to_free_pages", KS_ALLOC_RECLAIM },
	{ "__alloc_pages_direct_reclaim", KS_ALLOC_RECLAIM },
	{ "__perform_reclaim", KS_ALLOC_RECLAIM },
};

/* Callers of the allocator, outermost that matters first: fork is what a storm is made of. */
static const struct {
	const char *prefix;
	const char *context;
} context_frames[] = {
	{ "copy_process", "fork" },
	{ "kernel_clone", "fork" },
	{ "dup_task_struct", "fork" },
	{ "handle_mm_fault", "page fault" },
	{ "do_anonymous_page", "page fault" },
	{ "shmem_", "shmem" },
	{ "filemap_", "page cache" },
	{ "__vmalloc", "vmalloc" },
	{ "___slab_alloc", "slab" },
	{ "kmem_cache_alloc", "slab" },
	{ "__kmalloc", "slab" },
};

static const char *alloc_context(const struct ks_stack *s, size_t slow)
{
	for (size_t c = 0; c < sizeof(context_frames) / sizeof(context_frames[0]); c++)
		for (size_t f = slow + 1; f < s->count; f++)
			if (!strncmp(s->frames[f].function, context_frames[c].prefix,
				     strlen(context_frames[c].prefix)))
				return context_frames[c].context;
	return "";
}

/* The reason a throttled reclaimer sleeps, from the frame that throttles it. */
static const char *throttle_reason(struct ks_kernel *k, const struct ks_stack *s, size_t first,
				   size_t slow)
{
	static const struct {
		enum ks_enumerator e;
		const char *name;
	} reasons[] = { { KS_E_THROTTLE_WRITEBACK, "VMSCAN_THROTTLE_WRITEBACK" },
			{ KS_E_THROTTLE_ISOLATED, "VMSCAN_THROTTLE_ISOLATED" },
			{ KS_E_THROTTLE_NOPROGRESS, "VMSCAN_THROTTLE_NOPROGRESS" },
			{ KS_E_THROTTLE_CONGESTED, "VMSCAN_THROTTLE_CONGESTED" } };

	for (size_t f = first; f < slow; f++) {
		const char *fn = s->frames[f].function;
		uint64_t v;

		if (!strcmp(fn, "throttle_direct_reclaim"))
			return "pfmemalloc_reserves";
		if (!strcmp(fn, "too_many_isolated"))
			return "too_many_isolated";
		if (!strcmp(fn, "congestion_wait") || !strcmp(fn, "wait_iff_congested"))
			return "congestion";
		if (strcmp(fn, "reclaim_throttle"))
			continue;
		if (ks_frame_param(k, &s->frames[f], "reason", &v))
			for (size_t r = 0; r < sizeof(reasons) / sizeof(reasons[0]); r++) {
				int64_t e;

				if (ks_kernel_enumerator(k, reasons[r].e, &e) && (uint64_t)e == v)
					return reasons[r].name;
			}
		return "reclaim_throttle";
	}
	return "";
}

static struct ks_error *alloc_begin(struct ks_analysis *a, void **ret)
{
	struct alloc_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return &ks_error_nomem;
	gfp_table_load(a, &c->gfp);
	c->fs = gfp_bit(&c->gfp, "__GFP_FS");
	c->noretry = gfp_bit(&c->gfp, "__GFP_NORETRY");
	c->nofail = gfp_bit(&c->gfp, "__GFP_NOFAIL");
	c->mayfail = gfp_bit(&c->gfp, "__GFP_RETRY_MAYFAIL");
	c->thisnode = gfp_bit(&c->gfp, "__GFP_THISNODE");
	if (!c->gfp.count)
		ks_problems_add(&a->problems, KS_ERR_LOOKUP, 0, 0, "no gfpflag_names in the dump: gfp masks are shown as numbers");
	*ret = c;
	return NULL;
}

static void alloc_end(void *ctx)
{
	struct alloc_ctx *c = ctx;

	if (c)
		gfp_table_deinit(&c->gfp);
	free(c);
}

/*
 * The slowpath's caller by era, and the name of its gfp parameter: 5.13 renamed
 * __alloc_pages_nodemask to __alloc_pages, 6.10 made it __alloc_pages_noprof
 * (memory allocation profiling), 6.15 added __alloc_frozen_pages_noprof.
 */
static const char *caller_gfp_param(const char *fn)
{
	static const struct {
		const char *function, *gfp;
	} callers[] = {
		{ "__alloc_pages", "gfp" },
		{ "__alloc_pages_nodemask", "gfp_mask" },
		{ "__alloc_pages_noprof", "gfp" },
		{ "__alloc_frozen_pages_noprof", "gfp" },
	};

	for (size_t c = 0; c < sizeof(callers) / sizeof(callers[0]); c++)
		if (!strcmp(fn, callers[c].function))
			return callers[c].gfp;
	return NULL;
}

/*
 * A task charging a memory cgroup over its limit (try_charge_memcg; try_charge before 5.16):
 * it reclaims the cgroup's own pages (try_to_free_mem_cgroup_pages), then runs the cgroup's OOM
 * killer (mem_cgroup_out_of_memory, under oom_lock), and retries, as the slowpath does for the
 * machine. The OOM killer's rules differ from the machine's: no __GFP_FS needed, but
 * __GFP_NORETRY and __GFP_RETRY_MAYFAIL give up, and so does an order above
 * PAGE_ALLOC_COSTLY_ORDER (mem_cgroup_oom).
 */
static bool memcg_charge(struct ks_analysis *a, const struct alloc_ctx *b, size_t i)
{
	static const char *const entries[] = { "try_charge_memcg", "try_charge" };
	struct ks_kernel *k = a->kernel;
	const struct ks_stack *s = &a->stacks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	struct ks_alloc_state *st = &ta->alloc;
	size_t charge = s->count;
	uint64_t v;

	for (size_t f = ta->first_frame; f < s->count && charge == s->count; f++)
		for (size_t e = 0; e < sizeof(entries) / sizeof(entries[0]); e++)
			if (!strcmp(s->frames[f].function, entries[e]))
				charge = f;
	if (charge == s->count)
		return false;
	st->memcg = true;
	st->phase = KS_ALLOC_RETRY;
	st->where = s->frames[charge].function;
	st->context = alloc_context(s, charge);
	st->throttle = "";
	for (size_t f = ta->first_frame; f < charge; f++) {
		const char *fn = s->frames[f].function;

		if (!strcmp(fn, "mem_cgroup_out_of_memory") || !strcmp(fn, "mem_cgroup_oom")) {
			/* asleep on oom_lock (a mutex, unlike the slowpath's trylock) or killing */
			bool waits = false;

			for (size_t g = ta->first_frame; g < f; g++)
				waits |= !strncmp(s->frames[g].function, "__mutex_lock", 12);
			st->phase = waits ? KS_ALLOC_OOM_LOCK_WAIT : KS_ALLOC_OOM_KILL;
			st->where = fn;
			break;
		}
		if (!strcmp(fn, "try_to_free_mem_cgroup_pages") || !strncmp(fn, "shrink_", 7)) {
			st->phase = KS_ALLOC_RECLAIM;
			st->where = fn;
			break;
		}
	}
	if (ks_frame_param(k, &s->frames[charge], "gfp_mask", &v)) {
		st->gfp = v;
		st->gfp_known = true;
		ks_gfp_decode(b->gfp.names, b->gfp.count, st->gfp, st->gfp_names, sizeof(st->gfp_names));
	}
	if (ks_frame_param(k, &s->frames[charge], "nr_pages", &v) && v) {
		unsigned int order = 0;

		while ((1ull << order) < v && order < 63)
			order++;
		st->order = order;
		st->order_known = true;
	}
	st->nofail = st->gfp_known && b->nofail && (st->gfp & b->nofail);
	st->may_oom_known = st->gfp_known && b->noretry;
	st->may_oom = st->may_oom_known && !(st->gfp & b->noretry) && !(b->mayfail && (st->gfp & b->mayfail)) &&
		      (!st->order_known || st->order <= 3);
	return true;
}

static struct ks_error *alloc_task(struct ks_analysis *a, void *ctx, size_t i)
{
	const struct alloc_ctx *b = ctx;
	struct ks_kernel *k = a->kernel;
	const struct gfp_table *gfp = &b->gfp;
	uint64_t FS = b->fs, NORETRY = b->noretry, NOFAIL = b->nofail, MAYFAIL = b->mayfail,
		 THISNODE = b->thisnode;
	const struct ks_stack *s = &a->stacks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	struct ks_alloc_state *st = &ta->alloc;
	const char *gfp_param;
	size_t slow = s->count;
	uint64_t v;

	for (size_t f = ta->first_frame; f < s->count; f++) {
		if (!strcmp(s->frames[f].function, "__alloc_pages_slowpath")) {
			slow = f;
			break;
		}
	}
	if (slow == s->count) {
		memcg_charge(a, b, i);
		return NULL;
	}
	st->phase = KS_ALLOC_RETRY;
	st->where = "__alloc_pages_slowpath";
	st->context = alloc_context(s, slow);
	for (size_t f = ta->first_frame; f < slow && st->phase == KS_ALLOC_RETRY; f++) {
		const char *fn = s->frames[f].function;

		for (size_t p = 0; p < sizeof(phase_frames) / sizeof(phase_frames[0]); p++) {
			if (strcmp(fn, phase_frames[p].name) &&
			    !(phase_frames[p].phase == KS_ALLOC_RECLAIM && !strncmp(fn, "shrink_", 7)))
				continue;
			st->phase = !strncmp(fn, "shrink_", 7) ? KS_ALLOC_RECLAIM
								: phase_frames[p].phase;
			st->where = fn;
			break;
		}
	}
	st->throttle = st->phase == KS_ALLOC_THROTTLED
			       ? throttle_reason(k, s, ta->first_frame, slow)
			       : "";
	/* oom_lock busy: 1-jiffy sleeps in __alloc_pages_may_oom, out_of_memory not entered */
	if (st->phase == KS_ALLOC_OOM_LOCK_WAIT) {
		bool sleeping = false;

		for (size_t f = ta->first_frame; f < slow; f++)
			if (!strcmp(s->frames[f].function, "schedule_timeout_uninterruptible") ||
			    !strcmp(s->frames[f].function, "schedule_timeout"))
				sleeping = true;
		if (!sleeping)
			st->phase = KS_ALLOC_RETRY;
	}
	if (ks_frame_param(k, &s->frames[slow], "gfp_mask", &v)) {
		st->gfp = v;
		st->gfp_known = true;
	}
	if (ks_frame_param(k, &s->frames[slow], "order", &v)) {
		st->order = (unsigned int)v;
		st->order_known = true;
	}
	/* The caller's frame keeps them when the slowpath's copies are optimized out. */
	if (slow + 1 < s->count && (gfp_param = caller_gfp_param(s->frames[slow + 1].function))) {
		if (!st->gfp_known && ks_frame_param(k, &s->frames[slow + 1], gfp_param, &v)) {
			st->gfp = v;
			st->gfp_known = true;
		}
		if (!st->order_known && ks_frame_param(k, &s->frames[slow + 1], "order", &v)) {
			st->order = (unsigned int)v;
			st->order_known = true;
		}
	}
	/*
	 * Else the slowpath's own helpers below it (__alloc_pages_direct_reclaim,
	 * _direct_compact, _may_oom), often inlined, which take the mask the
	 * slowpath works with: 5.10's slowpath is a constprop clone whose copy
	 * is gone.
	 */
	for (size_t f = ta->first_frame; f < slow && (!st->gfp_known || !st->order_known); f++) {
		if (strncmp(s->frames[f].function, "__alloc_pages_", 14))
			continue;
		if (!st->gfp_known && ks_frame_param(k, &s->frames[f], "gfp_mask", &v)) {
			st->gfp = v;
			st->gfp_known = true;
		}
		if (!st->order_known && ks_frame_param(k, &s->frames[f], "order", &v)) {
			st->order = (unsigned int)v;
			st->order_known = true;
		}
	}
	/* task_struct fields, read only for a task in the allocator: unread, the mask stays unknown */
	if (!st->gfp_known && ks_kernel_has(k, KS_F_TASK_MEMALLOC_GFP) &&
	    ks_pass_read_task_field(a, i, KS_F_TASK_MEMALLOC_GFP, &v, "task_struct.memalloc gfp")) {
		st->gfp = v;
		st->gfp_known = true;
	}
	if (!st->order_known && ks_kernel_has(k, KS_F_TASK_MEMALLOC_ORDER) &&
	    ks_pass_read_task_field(a, i, KS_F_TASK_MEMALLOC_ORDER, &v, "task_struct.memalloc order")) {
		st->order = (unsigned int)v;
		st->order_known = true;
	}
	/* Both are address-taken (should_reclaim_retry, should_compact_retry): on the stack. */
	if (ks_frame_local(k, &s->frames[slow], "no_progress_loops", &v)) {
		st->no_progress_loops = (int)(int32_t)(uint32_t)v;
		st->no_progress_known = true;
	}
	if (ks_frame_local(k, &s->frames[slow], "compaction_retries", &v)) {
		st->compaction_retries = (int)(int32_t)(uint32_t)v;
		st->compaction_retries_known = true;
	}
	if (st->gfp_known)
		ks_gfp_decode(gfp->names, gfp->count, st->gfp, st->gfp_names,
			      sizeof(st->gfp_names));
	/* The kernel's rules in __alloc_pages_may_oom / out_of_memory (4.x to 6.x). */
	st->nofail = st->gfp_known && NOFAIL && (st->gfp & NOFAIL);
	st->may_oom_known = st->gfp_known && FS;
	st->may_oom = st->gfp_known && FS && (st->gfp & FS) && !(NORETRY && (st->gfp & NORETRY)) &&
		      !(MAYFAIL && (st->gfp & MAYFAIL)) && !(THISNODE && (st->gfp & THISNODE)) &&
		      (!st->order_known || st->order <= 3);
	return NULL;
}

const struct ks_pass ks_pass_alloc = {
	.name = "alloc",
	.begin = alloc_begin,
	.task = alloc_task,
	.end = alloc_end,
};
