/*
 * The cgroups pass: the cgroup v2 tree from cgrp_dfl_root, walked through each
 * css's children list, with what the memory controller charges each cgroup
 * (memory.current: the page_counter's usage; memory.max; memory.events' max,
 * oom and oom_kill) and how many stalled tasks are in it (task->cgroups->
 * dfl_cgrp). Bounded: MAX_CGROUPS cgroups, MAX_DEPTH deep; a longer list is a
 * loop. A container at its own limit shows here apart from the machine, and
 * so does its own memory pressure (its PSI group).
 */
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "base/hashmap.h"
#include "base/strpool.h"
#include "base/search.h"

#define MAX_CGROUPS 4096
#define MAX_DEPTH 32

struct walk {
	struct ks_analysis *a;
	struct ks_kernel *k;
	/* the cgroups' pressure: cgroup.psi (a pointer or the group itself), psi_system for the root */
	bool psi;
	uint64_t psi_off, psi_size, psi_system, root;
	uint64_t self, kn, subsys, children, sibling, name, memcg_css, usage, max, high, events;
	int64_t memory_id, ev_high, ev_max, ev_oom, ev_oom_kill;
	bool have_high;
	bool events_known;
	struct ks_cgroup_mem *all;
	size_t n;
	struct ks_u64map index;
};

static bool layout(struct ks_kernel *k, struct walk *w)
{
	uint64_t size;

	w->events_known = ks_kernel_late_field(k, KS_LF_MEMCG_EVENTS, &w->events, &size) &&
		    ks_kernel_enumerator(k, KS_E_MEMCG_EV_MAX, &w->ev_max) &&
		    ks_kernel_enumerator(k, KS_E_MEMCG_EV_OOM, &w->ev_oom) &&
		    ks_kernel_enumerator(k, KS_E_MEMCG_EV_OOM_KILL, &w->ev_oom_kill) &&
		    ks_kernel_enumerator(k, KS_E_MEMCG_EV_HIGH, &w->ev_high);
	w->have_high = ks_kernel_late_field(k, KS_LF_MEMCG_HIGH, &w->high, &size) && size == 8;
	return ks_kernel_late_field(k, KS_LF_CGROUP_SELF, &w->self, &size) &&
	       ks_kernel_late_field(k, KS_LF_CGROUP_KN, &w->kn, &size) &&
	       ks_kernel_late_field(k, KS_LF_CGROUP_SUBSYS, &w->subsys, &size) &&
	       ks_kernel_late_field(k, KS_LF_CSS_CHILDREN, &w->children, &size) &&
	       ks_kernel_late_field(k, KS_LF_CSS_SIBLING, &w->sibling, &size) &&
	       ks_kernel_late_field(k, KS_LF_KERNFS_NAME, &w->name, &size) &&
	       ks_kernel_late_field(k, KS_LF_MEMCG_CSS, &w->memcg_css, &size) &&
	       ks_kernel_late_field(k, KS_LF_MEMCG_USAGE, &w->usage, &size) && size == 8 &&
	       ks_kernel_late_field(k, KS_LF_MEMCG_MAX, &w->max, &size) && size == 8 &&
	       ks_kernel_enumerator(k, KS_E_MEMORY_CGRP_ID, &w->memory_id) && w->memory_id >= 0;
}

/*
 * A cgroup's PSI group: the root's is psi_system (cgroup_psi()); below, the
 * cgroup's own, allocated (6.1+: a pointer, NULL when cgroup PSI is off) or
 * embedded (5.x). One whose cgroup.pressure is 0 (6.3+: enabled false) holds
 * frozen numbers and is not read.
 */
static void psi_group(struct walk *w, uint64_t cgrp, struct ks_cgroup_mem *c)
{
	uint64_t group = 0, off, size;
	uint8_t enabled;

	if (!w->psi)
		return;
	if (cgrp == w->root)
		group = w->psi_system;
	else if (w->psi_size != 8)
		group = cgrp + w->psi_off;
	else if (!ks_pass_read_u64(w->a, cgrp + w->psi_off, &group, "a cgroup's PSI pointer (cgroup.psi)"))
		group = 0;
	/* NULL: cgroup PSI is off for it, by the kernel's own word */
	if (!group)
		return;
	if (ks_kernel_late_field(w->k, KS_LF_PSI_GROUP_ENABLED, &off, &size) && size == 1) {
		enum ks_error_code code = ks_read_code(w->k, group + off, &enabled, 1);

		if (code)
			ks_problems_add(&w->a->problems, code, 0, group + off,
					"cannot read whether a cgroup's PSI is on (psi_group.enabled at 0x%llx, %s): "
					"its pressure unknown",
					(unsigned long long)(group + off), ks_error_code_name(code));
		if (code || !enabled)
			return;
	}
	c->psi_known = !ks_psi_read_group(w->a, group, &c->psi);
}

/* One cgroup: its memcg's charge and events; false when it has no memory controller state. */
static bool visit(struct walk *w, uint64_t cgrp, const char *path)
{
	struct ks_kernel *k = w->k;
	struct ks_cgroup_mem *c;
	uint64_t css, memcg, page_size = ks_kernel_page_size(k);

	if (w->n >= MAX_CGROUPS ||
	    !ks_pass_read_u64(w->a, cgrp + w->subsys + (uint64_t)w->memory_id * 8, &css, "a cgroup's memory css") ||
	    !css)
		return false;
	memcg = css - w->memcg_css;
	c = &w->all[w->n];
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (!ks_pass_read_u64(w->a, memcg + w->usage, &c->usage_pages, "a memory cgroup's usage") ||
	    !ks_pass_read_u64(w->a, memcg + w->max, &c->max_pages, "a memory cgroup's memory.max"))
		return false;
	/* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE: "max" in memory.max */
	c->limited = c->max_pages < (uint64_t)INT64_MAX / page_size;
	c->high_limited = w->have_high && ks_pass_read_u64(w->a, memcg + w->high, &c->high_pages, "a memory cgroup's memory.high") &&
			  c->high_pages < (uint64_t)INT64_MAX / page_size;
	c->events_known = w->events_known &&
			  ks_pass_read_u64(w->a, memcg + w->events + (uint64_t)w->ev_high * 8, &c->ev_high, "memory.events high") &&
			  ks_pass_read_u64(w->a, memcg + w->events + (uint64_t)w->ev_max * 8, &c->ev_max, "memory.events max") &&
			  ks_pass_read_u64(w->a, memcg + w->events + (uint64_t)w->ev_oom * 8, &c->ev_oom, "memory.events oom") &&
			  ks_pass_read_u64(w->a, memcg + w->events + (uint64_t)w->ev_oom_kill * 8, &c->ev_oom_kill,
					   "memory.events oom_kill");
	psi_group(w, cgrp, c);
	if (!ks_u64map_put_index(&w->index, cgrp, w->n))
		return false;
	w->n++;
	return true;
}

struct frame {
	uint64_t cgrp;
	int depth;
	char path[128];
};

/* parent "/" + name, cut at size (a deep path keeps its start) */
static void join_path(char *out, size_t size, const char *parent, const char *name)
{
	size_t len = strlen(parent), n;

	if (len >= size)
		len = size - 1;
	memcpy(out, parent, len);
	if (len && out[len - 1] != '/' && len + 1 < size)
		out[len++] = '/';
	n = strlen(name);
	if (n > size - 1 - len)
		n = size - 1 - len;
	memcpy(out + len, name, n);
	out[len + n] = '\0';
}

static void walk_tree(struct walk *w, uint64_t root, struct ks_problems *problems)
{
	struct frame *stack = calloc(MAX_CGROUPS, sizeof(*stack));
	size_t top = 0, seen = 0, unnamed = 0;
	enum ks_error_code code, name_code = 0;
	uint64_t name_at = 0;

	if (!stack)
		return;
	stack[top++] = (struct frame){ root, 0, "/" };
	while (top) {
		struct frame f = stack[--top];
		uint64_t head = f.cgrp + w->self + w->children, pos;

		visit(w, f.cgrp, f.path);
		if (!ks_pass_read_u64(w->a, head, &pos, "a cgroup's children list"))
			continue;
		/* children: css entries linked by sibling, each its cgroup's self */
		for (size_t n = 0; pos != head && n < MAX_CGROUPS; n++) {
			uint64_t child = pos - w->sibling - w->self, kn, name;
			char part[64] = "";

			if (++seen > MAX_CGROUPS || f.depth + 1 > MAX_DEPTH || top >= MAX_CGROUPS) {
				ks_problems_add(problems, KS_ERR_BAD_DATA, 0, f.cgrp,
						"cgroup tree cut at %d cgroups or %d levels: a loop?", MAX_CGROUPS,
						MAX_DEPTH);
				top = 0; /* the walk ends here */
				break;
			}
			/* a name unread is "?" in the path, counted (one problem for the tree) */
			if ((code = ks_read_code(w->k, child + w->kn, &kn, sizeof(kn))) == 0 && kn &&
			    (code = ks_read_code(w->k, kn + w->name, &name, sizeof(name))) == 0 && name)
				code = ks_read_string_code(w->k, name, part, sizeof(part));
			if (code && !unnamed++) {
				name_code = code;
				name_at = child;
			}
			if (code)
				part[0] = '\0';
			stack[top] = (struct frame){ child, f.depth + 1, "" };
			join_path(stack[top].path, sizeof(stack[top].path), f.path, part[0] ? part : "?");
			top++;
			if (!ks_pass_read_u64(w->a, pos, &pos, "a cgroup's children list entry"))
				break;
		}
	}
	free(stack);
	if (unnamed)
		ks_problems_add(problems, name_code, 0, name_at,
				"%zu cgroup name%s could not be read (%s, the first of the cgroup at 0x%llx): '?' in their "
				"paths",
				unnamed, unnamed == 1 ? "" : "s", ks_error_code_name(name_code), (unsigned long long)name_at);
}

/* limited (memory.max or memory.high) or stalled first, then the biggest charge; then the path */
static int by_interest(const void *x, const void *y)
{
	const struct ks_cgroup_mem *a = x, *b = y;
	int ia = (a->limited || a->high_limited || a->stalled) ? 1 : 0,
	    ib = (b->limited || b->high_limited || b->stalled) ? 1 : 0;

	if (ia != ib)
		return ib - ia;
	if (a->usage_pages != b->usage_pages)
		return a->usage_pages < b->usage_pages ? 1 : -1;
	return strcmp(a->path, b->path);
}

static struct ks_error *cgroups_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_consumers *c = &a->memory.consumers;
	struct walk w = { .a = a, .k = k };
	struct ks_u64map cgroup_of_set = { 0 };
	size_t unread_sets = 0;
	enum ks_error_code set_code = 0;
	uint64_t set_task = 0, set_at = 0;
	int32_t set_pid = 0;
	uint64_t root, root_off, size, dfl_off;

	(void)ctx;
	c->cgroups_known = false;
	c->ncgroups = c->cgroups_seen = 0;
	if (!ks_kernel_symbol(k, "cgrp_dfl_root", &root) ||
	    !ks_kernel_late_field(k, KS_LF_CGROUP_ROOT_CGRP, &root_off, &size) || !layout(k, &w))
		return NULL;
	w.root = root + root_off;
	w.psi = a->memory.pressure.state == KS_PSI_READ && ks_kernel_symbol(k, "psi_system", &w.psi_system) &&
		ks_kernel_late_field(k, KS_LF_CGROUP_PSI, &w.psi_off, &w.psi_size);
	w.all = calloc(MAX_CGROUPS, sizeof(*w.all));
	if (!w.all)
		return &ks_error_nomem;
	walk_tree(&w, root + root_off, &a->problems);
	/* the stalled tasks' cgroups: css_set (read with the task) -> dfl_cgrp, once per css_set */
	if (ks_kernel_late_field(k, KS_LF_CSS_SET_DFL_CGRP, &dfl_off, &size))
		for (size_t i = 0; i < a->tasks.count; i++) {
			const struct ks_task *t = &a->tasks.tasks[i];
			uint64_t cgrp = 0;
			long at;

			if (t->idle || !t->css_set || !ks_task_stalled(a, i))
				continue;
			if (!ks_u64map_get_u64(&cgroup_of_set, t->css_set, &cgrp)) {
				enum ks_error_code code = ks_read_code(k, t->css_set + dfl_off, &cgrp, sizeof(cgrp));

				/* read once per css_set; its tasks' cgroup is unknown, counted */
				if (code) {
					cgrp = 0;
					if (!unread_sets++) {
						set_code = code;
						set_task = t->address;
						set_pid = t->pid;
						set_at = t->css_set + dfl_off;
					}
				}
				ks_u64map_put_u64(&cgroup_of_set, t->css_set, cgrp);
			}
			if (cgrp && (at = ks_u64map_get_index(&w.index, cgrp)) >= 0) {
				w.all[at].stalled++;
				a->ta[i].cgroup = ks_strpool_intern(a->strings, w.all[at].path);
			}
		}
	if (unread_sets)
		ks_problems_add(&a->problems, set_code, set_task, set_at,
				"%zu css_set%s of stalled tasks could not be read (%s, the first of pid %d at 0x%llx): "
				"their cgroups unknown",
				unread_sets, unread_sets == 1 ? "" : "s", ks_error_code_name(set_code), set_pid,
				(unsigned long long)set_at);
	ks_u64map_free(&cgroup_of_set);
	ks_u64map_free(&w.index);
	c->cgroups_known = w.n > 0;
	c->cgroups_seen = w.n;
	ks_sort(w.all, w.n, sizeof(*w.all), by_interest);
	c->ncgroups = w.n < KS_TOP_CGROUPS ? w.n : KS_TOP_CGROUPS;
	memcpy(c->cgroups, w.all, c->ncgroups * sizeof(*w.all));
	/* the onset fit (thousands of steps) only for the cgroups kept */
	for (size_t i = 0; i < c->ncgroups; i++)
		if (c->cgroups[i].psi_known)
			ks_psi_fit_onset(a, &c->cgroups[i].psi);
	free(w.all);
	return NULL;
}

/* After consumers (which clears memory.consumers) and the stall passes (ks_task_stalled). */
const struct ks_pass ks_pass_cgroups = {
	.name = "cgroups",
	.finish = cgroups_finish,
};
