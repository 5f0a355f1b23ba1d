/*
 * The layouts of kstall/layout.h, resolved at first use and kept: one table
 * of names, one resolver per kind, so that no pass and no per-task loop asks
 * DWARF itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/layout.h"

/* Each answer: not asked yet, known, or known to be missing. */
enum state { UNASKED, KNOWN, MISSING };

struct ks_layout {
	unsigned char late_state[KS_LF__COUNT];
	uint64_t late_off[KS_LF__COUNT], late_size[KS_LF__COUNT];
	unsigned char size_state[KS_SIZE__COUNT], enum_state[KS_E__COUNT], array_state[KS_A__COUNT],
		vmstat_state[KS_VM__COUNT];
	uint64_t size[KS_SIZE__COUNT];
	int64_t enumerator[KS_E__COUNT];
	uint64_t array_addr[KS_A__COUNT], array_len[KS_A__COUNT];
	uint64_t vmstat[KS_VM__COUNT];
};

static const struct {
	const char *type, *members;
} late_names[KS_LF__COUNT] = {
#define X(id, type, members) [KS_LF_##id] = { type, members },
	KS_LATE_FIELDS(X)
#undef X
};

static const char *const size_names[KS_SIZE__COUNT] = {
#define X(id, name) [KS_SIZE_##id] = name,
	KS_TYPE_SIZES(X)
#undef X
};

static const struct {
	const char *type, *names;
} enum_names[KS_E__COUNT] = {
#define X(id, type, names) [KS_E_##id] = { type, names },
	KS_ENUMERATORS(X)
#undef X
};

static const char *const array_names[KS_A__COUNT] = {
#define X(id, names) [KS_A_##id] = names,
	KS_ARRAYS(X)
#undef X
};

static const char *const vmstat_names[KS_VM__COUNT] = {
#define X(id, names) [KS_VM_##id] = names,
	KS_VMSTATS(X)
#undef X
};

struct ks_layout *ks_layout_create(void)
{
	return calloc(1, sizeof(struct ks_layout));
}

void ks_layout_destroy(struct ks_layout *l)
{
	free(l);
}

/* Calls fn with each '|'-separated alternative of names until it answers true. */
static bool each_name(const char *names, bool (*fn)(struct ks_kernel *, const char *, void *),
		      struct ks_kernel *k, void *arg)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (char *n = strtok_r(buf, "|", &save); n; n = strtok_r(NULL, "|", &save))
		if (fn(k, n, arg))
			return true;
	return false;
}

uint64_t ks_kernel_type_size(struct ks_kernel *k, enum ks_type_size s)
{
	struct ks_layout *l = ks_kernel_layout(k);

	if (!l)
		return 0;
	if (l->size_state[s] == UNASKED) {
		l->size[s] = ks_debuginfo_type_size(ks_kernel_debuginfo(k), size_names[s]);
		l->size_state[s] = l->size[s] ? KNOWN : MISSING;
	}
	return l->size[s];
}

struct member_ask {
	const char *type;
	uint64_t *off, *size;
};

static bool member_one(struct ks_kernel *k, const char *member, void *arg)
{
	struct member_ask *q = arg;

	return ks_debuginfo_member(ks_kernel_debuginfo(k), q->type, member, q->off, q->size);
}

bool ks_layout_member(struct ks_kernel *k, const char *type, const char *members, uint64_t *off,
		      uint64_t *size)
{
	struct member_ask q = { type, off, size };

	return each_name(members, member_one, k, &q);
}

bool ks_kernel_late_field(struct ks_kernel *k, enum ks_late_field f, uint64_t *off, uint64_t *size)
{
	struct ks_layout *l = ks_kernel_layout(k);

	if (!l)
		return false;
	if (l->late_state[f] == UNASKED)
		l->late_state[f] = ks_layout_member(k, late_names[f].type, late_names[f].members,
						    &l->late_off[f], &l->late_size[f])
					   ? KNOWN
					   : MISSING;
	*off = l->late_off[f];
	*size = l->late_size[f];
	return l->late_state[f] == KNOWN;
}

struct enum_ask {
	const char *type;
	int64_t *ret;
};

static bool enum_one(struct ks_kernel *k, const char *name, void *arg)
{
	struct enum_ask *q = arg;

	/* an enumerator of an unnamed enum (MM_ANONPAGES): found by its own name */
	if (!q->type[0])
		return ks_debuginfo_enumerator(ks_kernel_debuginfo(k), name, q->ret);
	return ks_debuginfo_enumerator_of(ks_kernel_debuginfo(k), q->type, name, q->ret);
}

bool ks_kernel_enumerator(struct ks_kernel *k, enum ks_enumerator e, int64_t *ret)
{
	struct ks_layout *l = ks_kernel_layout(k);

	if (!l)
		return false;
	if (l->enum_state[e] == UNASKED) {
		struct enum_ask q = { enum_names[e].type, &l->enumerator[e] };

		l->enum_state[e] = each_name(enum_names[e].names, enum_one, k, &q) ? KNOWN : MISSING;
	}
	*ret = l->enumerator[e];
	return l->enum_state[e] == KNOWN;
}

struct array_ask {
	uint64_t *addr, *len;
};

static bool array_one(struct ks_kernel *k, const char *name, void *arg)
{
	struct array_ask *q = arg;

	return ks_kernel_symbol(k, name, q->addr) &&
	       ks_debuginfo_array_length(ks_kernel_debuginfo(k), name, q->len);
}

bool ks_kernel_array(struct ks_kernel *k, enum ks_array a, uint64_t *addr, uint64_t *len)
{
	struct ks_layout *l = ks_kernel_layout(k);

	if (!l)
		return false;
	if (l->array_state[a] == UNASKED) {
		struct array_ask q = { &l->array_addr[a], &l->array_len[a] };

		l->array_state[a] = each_name(array_names[a], array_one, k, &q) ? KNOWN : MISSING;
	}
	*addr = l->array_addr[a];
	*len = l->array_len[a];
	return l->array_state[a] == KNOWN;
}

/* The arrays the kernel keeps its global counters in, newest first. */
static const struct {
	const char *array, *enum_type, *count;
} stat_arrays[] = {
	{ "vm_node_stat", "node_stat_item", "NR_VM_NODE_STAT_ITEMS" },
	{ "vm_zone_stat", "zone_stat_item", "NR_VM_ZONE_STAT_ITEMS" },
	{ "vm_stat", "zone_stat_item", "NR_VM_ZONE_STAT_ITEMS" },
};

/* The first array whose enum has the item, and whose symbol the kernel has. */
static bool vmstat_one(struct ks_kernel *k, const char *name, void *arg)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	uint64_t *ret = arg;

	for (size_t i = 0; i < sizeof(stat_arrays) / sizeof(stat_arrays[0]); i++) {
		int64_t idx, count;
		uint64_t addr;

		if (!ks_debuginfo_enumerator_of(di, stat_arrays[i].enum_type, name, &idx) ||
		    !ks_debuginfo_enumerator_of(di, stat_arrays[i].enum_type, stat_arrays[i].count, &count) ||
		    idx < 0 || idx >= count || !ks_kernel_symbol(k, stat_arrays[i].array, &addr))
			continue;
		*ret = addr + 8 * (uint64_t)idx;
		return true;
	}
	return false;
}

bool ks_kernel_vmstat(struct ks_kernel *k, enum ks_vmstat v, uint64_t *addr)
{
	struct ks_layout *l = ks_kernel_layout(k);

	if (!l)
		return false;
	if (l->vmstat_state[v] == UNASKED)
		l->vmstat_state[v] = each_name(vmstat_names[v], vmstat_one, k, &l->vmstat[v]) ? KNOWN : MISSING;
	*addr = l->vmstat[v];
	return l->vmstat_state[v] == KNOWN;
}
