/*
 * Where the memory map is. x86-64 builds SPARSEMEM: physical memory is cut
 * into sections of 2^SECTION_SIZE_BITS bytes, and each present section has a
 * mem_map of its own, found through mem_section[] (a table of roots under
 * CONFIG_SPARSEMEM_EXTREME, a flat array without). section_mem_map holds that
 * mem_map minus the section's first pfn, in struct pages
 * (sparse_encode_mem_map), with the section's flag bits in its low bits.
 * This reads every kernel's map the same way, SPARSEMEM_VMEMMAP or not (the
 * lean 6.12 fixture has no vmemmap), as makedumpfile and crash do.
 */
#include <stdlib.h>

#include "kstall/debuginfo.h"
#include "kstall/kernel.h"

/* 2^52 bytes of physical memory is x86-64's most: a bigger max_pfn is not one */
#define MAX_PFN_LIMIT (1ULL << 40)
/* 2^19 is x86-64's NR_MEM_SECTIONS with 4-level paging (46 physical bits, 128 MiB sections) */
#define MAX_SECTIONS (1ULL << 20)

static bool vmcoreinfo_number(struct ks_kernel *k, const char *key, uint64_t *ret)
{
	char buf[32], *end;

	if (!ks_kernel_vmcoreinfo(k, key, buf, sizeof(buf)))
		return false;
	*ret = strtoull(buf, &end, 10);
	return end != buf;
}

struct ks_error *ks_kernel_memmap(struct ks_kernel *k, struct ks_memmap_section **ret, size_t *count)
{
	uint64_t page_size = ks_kernel_page_size(k), section_bits, sec_size, end_pfn, addr, roots, len;
	uint64_t page_shift = 0, per_root, pfns_per_section, nsections;
	struct ks_memmap_section *all;
	bool extreme;
	size_t n = 0;

	*ret = NULL;
	*count = 0;
	while ((1ULL << page_shift) < page_size)
		page_shift++;
	sec_size = ks_kernel_type_size(k, KS_SIZE_MEM_SECTION);
	if (!vmcoreinfo_number(k, "NUMBER(SECTION_SIZE_BITS)", &section_bits) || section_bits <= page_shift ||
	    section_bits > 40 || !sec_size || sec_size > page_size || !ks_kernel_symbol(k, "mem_section", &addr))
		return ks_error_create(KS_ERR_UNSUPPORTED, "no SPARSEMEM memory map (mem_section, SECTION_SIZE_BITS)");
	if (!ks_kernel_symbol(k, "max_pfn", &end_pfn) || !ks_try_read_u64(k, end_pfn, &end_pfn) || !end_pfn ||
	    end_pfn > MAX_PFN_LIMIT)
		return ks_error_create(KS_ERR_NODATA, "cannot read max_pfn");
	/* SPARSEMEM_EXTREME: a pointer to the roots, each a page of sections; else one flat array */
	extreme = !ks_debuginfo_array_length(ks_kernel_debuginfo(k), "mem_section", &len);
	if (extreme && (!ks_try_read_u64(k, addr, &roots) || !roots))
		return ks_error_create(KS_ERR_NODATA, "cannot read mem_section");
	per_root = extreme ? page_size / sec_size : 1;
	pfns_per_section = 1ULL << (section_bits - page_shift);
	nsections = (end_pfn + pfns_per_section - 1) / pfns_per_section;
	/* no more than the kernel's own table holds, whatever max_pfn says */
	if (!extreme && nsections > len)
		nsections = len;
	if (extreme && vmcoreinfo_number(k, "LENGTH(mem_section)", &len) && nsections > len * per_root)
		nsections = len * per_root;
	if (nsections > MAX_SECTIONS)
		return ks_error_create(KS_ERR_BAD_DATA, "max_pfn %llu asks for %llu memory sections",
				       (unsigned long long)end_pfn, (unsigned long long)nsections);
	all = calloc(nsections, sizeof(*all));
	if (!all)
		return &ks_error_nomem;
	for (uint64_t nr = 0, root = UINT64_MAX, base = 0; nr < nsections; nr++) {
		uint64_t section, coded, map;

		if (extreme && nr / per_root != root) {
			root = nr / per_root;
			if (!ks_try_read_u64(k, roots + root * 8, &base))
				base = UINT64_MAX;
		}
		section = extreme ? base + (nr % per_root) * sec_size : addr + nr * sec_size;
		all[n].pfn = nr * pfns_per_section;
		all[n].pages = end_pfn - all[n].pfn < pfns_per_section ? end_pfn - all[n].pfn : pfns_per_section;
		all[n].map = 0;
		/* a root or section the dump lacks: its pages are unknown, not absent */
		if (extreme && base == UINT64_MAX) {
			n++;
			continue;
		}
		if (extreme && !base)
			continue;
		/* section_mem_map is the first member of struct mem_section */
		if (!ks_try_read_u64(k, section, &coded)) {
			n++;
			continue;
		}
		/*
		 * The flags (SECTION_MARKED_PRESENT, _HAS_MEM_MAP, ... 5 or 6 of them) sit
		 * below SECTION_MAP_LAST_BIT; the encoded pointer is page-aligned (the
		 * section's map is, and so is its first pfn times the stride), so the
		 * page offset bits are all flags.
		 */
		map = coded & ~(page_size - 1);
		/*
		 * SECTION_HAS_MEM_MAP and SECTION_IS_ONLINE (bits 1 and 2 since 4.13): an
		 * offline section's struct pages are poison (all ones under DEBUG_VM), not
		 * pages, and the kernel's own pfn walkers skip it too
		 */
		if (!map || (coded & 6) != 6)
			continue;
		all[n].map = map + all[n].pfn * ks_kernel_type_size(k, KS_SIZE_PAGE);
		n++;
	}
	*ret = all;
	*count = n;
	return NULL;
}
