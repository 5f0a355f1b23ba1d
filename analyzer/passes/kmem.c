/*
 * The kmem pass: kernel memory the page counters do not break out, read as
 * /proc/meminfo computes it: VmallocUsed (nr_vmalloc_pages; the NR_VMALLOC
 * vmstat counter on kernels that moved it there), Percpu
 * (pcpu_nr_populated * pcpu_nr_units) and the hugetlb pools (hstates[]:
 * nr_huge_pages and free_huge_pages, pages of 2^order base pages). Each
 * stays unknown where the kernel has no such symbol or it cannot be read.
 * And the thread count against its ceiling: nr_threads, max_threads and
 * total_forks (every fork since boot), what a fork storm exhausts.
 */
#include <string.h>

#include "passes/pass.h"

enum ks_error_code ks_read_global(struct ks_kernel *k, const char *name, uint64_t *ret)
{
	uint64_t addr, link, size = 0;

	if (!ks_kernel_symbol(k, name, &addr) ||
	    !ks_debuginfo_symbol(ks_kernel_debuginfo(k), name, &link, &size) || (size != 4 && size != 8))
		return KS_ERR_LOOKUP;
	if (size == 4) {
		uint32_t v32;
		enum ks_error_code code = ks_read_code(k, addr, &v32, sizeof(v32));

		if (!code)
			*ret = v32;
		return code;
	}
	return ks_read_code(k, addr, ret, sizeof(*ret));
}

/* A global of the kmem figures: absent is no problem (the figure stays unknown), unreadable is one. */
static bool read_sized(struct ks_analysis *a, const char *name, uint64_t *ret)
{
	enum ks_error_code code = ks_read_global(a->kernel, name, ret);

	if (code && code != KS_ERR_LOOKUP)
		ks_problems_add(&a->problems, code, 0, 0, "cannot read %s (%s): kernel memory figures unknown", name,
				ks_error_code_name(code));
	return !code;
}

static void hugetlb(struct ks_analysis *a, struct ks_kernel_mem *m)
{
	struct ks_kernel *k = a->kernel;
	uint64_t hstates, count, stride = ks_kernel_type_size(k, KS_SIZE_HSTATE), o_off, n_off, f_off, size;

	if (!ks_kernel_symbol(k, "hstates", &hstates)) {
		m->hugetlb_absent = true;
		return;
	}
	if (!stride || !read_sized(a, "hugetlb_max_hstate", &count) ||
	    !ks_kernel_late_field(k, KS_LF_HSTATE_ORDER, &o_off, &size) || size != 4 ||
	    !ks_kernel_late_field(k, KS_LF_HSTATE_NR_HUGE_PAGES, &n_off, &size) || size != 8 ||
	    !ks_kernel_late_field(k, KS_LF_HSTATE_FREE_HUGE_PAGES, &f_off, &size) || size != 8)
		return;
	/* HUGE_MAX_HSTATE is 2 on x86-64; a bigger count is not a count */
	if (count > 16)
		return;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t at = hstates + i * stride, nr, free;
		uint32_t order;

		if (!ks_pass_read_u32(a, at + o_off, &order, "hstate.order") || order > 30 ||
		    !ks_pass_read_u64(a, at + n_off, &nr, "hstate.nr_huge_pages") ||
		    !ks_pass_read_u64(a, at + f_off, &free, "hstate.free_huge_pages"))
			return;
		m->hugetlb_pages += nr << order;
		m->hugetlb_free_pages += free << order;
	}
	m->hugetlb_pools = count;
	m->hugetlb_known = true;
}

static struct ks_error *kmem_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_kernel_mem *m = &a->memory.consumers.kernel;
	uint64_t populated, units, addr;

	(void)ctx;
	memset(m, 0, sizeof(*m));
	m->vmalloc_known = read_sized(a, "nr_vmalloc_pages", &m->vmalloc_pages) ||
			   (ks_kernel_vmstat(k, KS_VM_VMALLOC, &addr) &&
			    ks_pass_read_u64(a, addr, &m->vmalloc_pages, "the vmstat counter nr_vmalloc"));
	if (read_sized(a, "pcpu_nr_populated", &populated) && read_sized(a, "pcpu_nr_units", &units)) {
		m->percpu_known = true;
		m->percpu_pages = populated * units;
	}
	hugetlb(a, m);
	m->threads_known = read_sized(a, "nr_threads", &m->nr_threads) &&
			   read_sized(a, "max_threads", &m->max_threads) &&
			   read_sized(a, "total_forks", &m->total_forks);
	return NULL;
}

/* After consumers, which clears memory.consumers. */
const struct ks_pass ks_pass_kmem = {
	.name = "kmem",
	.finish = kmem_finish,
};
