/*
 * The memory pass: global counters and every zone's free pages against its
 * watermarks, as `kmem -i` and /proc/zoneinfo show them. Counter indexes come
 * from the kernel's own enums in DWARF, because they move between versions
 * (NR_KERNEL_STACK_KB was a zone item in 4.x and is a node item since 5.x).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

/* Bounds for a corrupt dump: no x86_64 kernel has more nodes or zones than this. */
#define MAX_NODES 1024
#define MAX_ZONES_PER_NODE 8

/* The memory items the global vmstat counters give (kstall/layout.h names them). */
static const struct {
	enum ks_mem_item item;
	enum ks_vmstat vm;
	/* the counter is in KiB, not pages */
	bool kib;
} counters[] = {
	{ KS_MEM_FREE, KS_VM_FREE_PAGES },
	{ KS_MEM_FILE, KS_VM_FILE_PAGES },
	{ KS_MEM_SHMEM, KS_VM_SHMEM },
	{ KS_MEM_DIRTY, KS_VM_FILE_DIRTY },
	{ KS_MEM_WRITEBACK, KS_VM_WRITEBACK },
	{ KS_MEM_ANON, KS_VM_ANON },
	{ KS_MEM_ACTIVE_ANON, KS_VM_ACTIVE_ANON },
	{ KS_MEM_INACTIVE_ANON, KS_VM_INACTIVE_ANON },
	{ KS_MEM_ACTIVE_FILE, KS_VM_ACTIVE_FILE },
	{ KS_MEM_INACTIVE_FILE, KS_VM_INACTIVE_FILE },
	{ KS_MEM_UNEVICTABLE, KS_VM_UNEVICTABLE },
	{ KS_MEM_MLOCKED, KS_VM_MLOCK },
	/* stored in pages at global level despite the _B */
	{ KS_MEM_SLAB_RECLAIMABLE, KS_VM_SLAB_RECLAIMABLE },
	{ KS_MEM_SLAB_UNRECLAIMABLE, KS_VM_SLAB_UNRECLAIMABLE },
	{ KS_MEM_KERNEL_STACK, KS_VM_KERNEL_STACK_KB, true },
	{ KS_MEM_PAGETABLES, KS_VM_PAGETABLE },
	{ KS_MEM_ISOLATED_ANON, KS_VM_ISOLATED_ANON },
	{ KS_MEM_ISOLATED_FILE, KS_VM_ISOLATED_FILE },
};

/* Per-CPU deltas make a global counter lag and even dip below zero: the kernel clamps. */
static uint64_t clamp(uint64_t v)
{
	return (int64_t)v < 0 ? 0 : v;
}

static void load_counters(struct ks_analysis *a)
{
	struct ks_memory *m = &a->memory;
	struct ks_kernel *k = a->kernel;
	uint64_t addr, v;
	char what[64];

	/* a counter the kernel lacks stays unknown; one it has but the dump cannot give is a problem */
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (!ks_kernel_vmstat(k, counters[i].vm, &addr))
			continue;
		snprintf(what, sizeof(what), "the memory counter %s", ks_mem_item_name(counters[i].item));
		if (ks_pass_read_u64(a, addr, &v, what)) {
			v = clamp(v);
			m->pages[counters[i].item] = counters[i].kib ? v * 1024 / m->page_size : v;
			m->known[counters[i].item] = true;
		}
	}
	/* _totalram_pages (atomic_long, 5.0+) or totalram_pages */
	if ((ks_kernel_symbol(k, "_totalram_pages", &addr) || ks_kernel_symbol(k, "totalram_pages", &addr)) &&
	    ks_pass_read_u64(a, addr, &v, "the memory counter total")) {
		m->pages[KS_MEM_TOTAL] = v;
		m->known[KS_MEM_TOTAL] = true;
	}
	/* Without CONFIG_SWAP neither symbol exists, and there is no swap. */
	if (ks_kernel_symbol(k, "total_swap_pages", &addr)) {
		if (ks_pass_read_u64(a, addr, &v, "the memory counter swap_total")) {
			m->pages[KS_MEM_SWAP_TOTAL] = clamp(v);
			m->known[KS_MEM_SWAP_TOTAL] = true;
		}
		if (ks_kernel_symbol(k, "nr_swap_pages", &addr) &&
		    ks_pass_read_u64(a, addr, &v, "the memory counter swap_free")) {
			m->pages[KS_MEM_SWAP_FREE] = clamp(v);
			m->known[KS_MEM_SWAP_FREE] = true;
		}
	} else if (!ks_kernel_symbol(k, "nr_swap_pages", &addr)) {
		m->known[KS_MEM_SWAP_TOTAL] = m->known[KS_MEM_SWAP_FREE] = true;
	}
}

struct zone_layout {
	uint64_t zone_size, nzones;
	int64_t wmark[3]; /* WMARK_MIN, LOW, HIGH */
	int64_t free_idx;
	bool have_wmarks;
};

static void load_zone(struct ks_analysis *a, const struct zone_layout *zl, uint64_t zone, int node,
		      size_t *cap)
{
	struct ks_kernel *k = a->kernel;
	struct ks_memory *m = &a->memory;
	struct ks_zone_info z = { .node = node };
	uint64_t name, boost = 0;

	if (!ks_pass_read_field(a, zone, KS_F_ZONE_MANAGED, &z.managed, "zone.managed_pages") || !z.managed)
		return;
	if (!ks_pass_read_field(a, zone, KS_F_ZONE_NAME, &name, "zone.name")) {
		snprintf(z.name, sizeof(z.name), "?");
	} else {
		enum ks_error_code code = ks_read_string_code(k, name, z.name, sizeof(z.name));

		if (code) {
			ks_problems_add(&a->problems, code, 0, name, "cannot read the name of zone 0x%llx at 0x%llx (%s)",
					(unsigned long long)zone, (unsigned long long)name, ks_error_code_name(code));
			snprintf(z.name, sizeof(z.name), "?");
		}
	}
	z.free_unread = true;
	if (zl->free_idx >= 0)
		z.free_unread = !ks_pass_read_u64(a, zone + ks_kernel_off(k, KS_F_ZONE_VM_STAT) + 8 * (uint64_t)zl->free_idx,
						  &z.free, "a zone's free pages (NR_FREE_PAGES)");
	z.free = z.free_unread ? 0 : clamp(z.free);
	if (zl->have_wmarks) {
		uint64_t base = zone + ks_kernel_off(k, KS_F_ZONE_WATERMARK);

		if (ks_kernel_has(k, KS_F_ZONE_WATERMARK_BOOST))
			ks_pass_read_field(a, zone, KS_F_ZONE_WATERMARK_BOOST, &boost, "zone.watermark_boost");
		z.watermarks_known = ks_pass_read_u64(a, base + 8 * (uint64_t)zl->wmark[0], &z.min, "zone watermark min") &&
				     ks_pass_read_u64(a, base + 8 * (uint64_t)zl->wmark[1], &z.low, "zone watermark low") &&
				     ks_pass_read_u64(a, base + 8 * (uint64_t)zl->wmark[2], &z.high, "zone watermark high");
		/* the watermarks are there to be compared with free: not without it */
		z.watermarks_known &= !z.free_unread;
		z.min += boost;
		z.low += boost;
		z.high += boost;
	}
	if (m->nzones == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct ks_zone_info *n = realloc(m->zones, ncap * sizeof(*n));

		if (!n)
			return;
		m->zones = n;
		*cap = ncap;
	}
	m->zones[m->nzones++] = z;
}

static void load_node(struct ks_analysis *a, const struct zone_layout *zl, uint64_t pgdat,
		      size_t *cap)
{
	struct ks_kernel *k = a->kernel;
	uint64_t node = 0, failures;

	ks_pass_read_field(a, pgdat, KS_F_PGDAT_NODE_ID, &node, "pglist_data.node_id");
	/* MAX_RECLAIM_RETRIES (16): kswapd stops trying on this node */
	if (ks_pass_read_field(a, pgdat, KS_F_PGDAT_KSWAPD_FAILURES, &failures, "pglist_data.kswapd_failures") &&
	    failures >= 16)
		a->memory.kswapd_failed_nodes++;
	for (uint64_t z = 0; z < zl->nzones; z++)
		load_zone(a, zl, pgdat + ks_kernel_off(k, KS_F_PGDAT_NODE_ZONES) + z * zl->zone_size,
			  (int)node, cap);
}

static void load_zones(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	struct zone_layout zl = { .free_idx = -1 };
	uint64_t addr, n;
	size_t cap = 0;
	int64_t nwmark;

	zl.zone_size = ks_kernel_type_size(k, KS_SIZE_ZONE);
	if (!zl.zone_size || !ks_kernel_has(k, KS_F_PGDAT_NODE_ZONES) ||
	    !ks_kernel_has(k, KS_F_ZONE_MANAGED)) {
		ks_problems_add(&a->problems, KS_ERR_LOOKUP, 0, 0, "no struct zone layout in the debuginfo: zones not shown");
		return;
	}
	zl.nzones = ks_kernel_fsize(k, KS_F_PGDAT_NODE_ZONES) / zl.zone_size;
	if (zl.nzones > MAX_ZONES_PER_NODE)
		zl.nzones = MAX_ZONES_PER_NODE;
	if (!ks_kernel_enumerator(k, KS_E_ZONE_NR_FREE_PAGES, &zl.free_idx))
		zl.free_idx = -1;
	zl.have_wmarks = ks_kernel_has(k, KS_F_ZONE_WATERMARK) &&
			 ks_kernel_enumerator(k, KS_E_WMARK_MIN, &zl.wmark[0]) &&
			 ks_kernel_enumerator(k, KS_E_WMARK_LOW, &zl.wmark[1]) &&
			 ks_kernel_enumerator(k, KS_E_WMARK_HIGH, &zl.wmark[2]) &&
			 ks_kernel_enumerator(k, KS_E_NR_WMARK, &nwmark) &&
			 zl.wmark[0] >= 0 && zl.wmark[1] >= 0 && zl.wmark[2] >= 0 &&
			 zl.wmark[0] < nwmark && zl.wmark[1] < nwmark && zl.wmark[2] < nwmark &&
			 ks_kernel_fsize(k, KS_F_ZONE_WATERMARK) >= 8 * (uint64_t)nwmark;
	/* One node without NUMA; node_data[] of pointers with it. */
	if (ks_kernel_symbol(k, "contig_page_data", &addr)) {
		load_node(a, &zl, addr, &cap);
	} else if (ks_kernel_array(k, KS_A_NODE_DATA, &addr, &n)) {
		for (uint64_t i = 0; i < n && i < MAX_NODES; i++) {
			uint64_t pgdat;

			if (ks_pass_read_u64(a, addr + 8 * i, &pgdat, "node_data[]") && pgdat)
				load_node(a, &zl, pgdat, &cap);
		}
	}
	if (!a->memory.nzones)
		/* no zone with managed pages: unreadable, or read as empty; neither is a sane machine */
		ks_problems_add(&a->problems, KS_ERR_BAD_DATA, 0, 0, "no zone could be read: watermarks not shown");
}

static struct ks_error *memory_finish(struct ks_analysis *a, void *ctx)
{
	(void)ctx;
	a->memory.page_size = ks_kernel_page_size(a->kernel);
	load_counters(a);
	load_zones(a);
	return NULL;
}

const struct ks_pass ks_pass_memory = {
	.name = "memory",
	.finish = memory_finish,
};
