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

/* An integer variable of the size its ELF symbol has (int, long, atomic_long_t). */
static bool read_sized(struct ks_kernel *k, const char *name, uint64_t *ret)
{
	uint64_t addr, link, size = 0;
	uint32_t v32;

	if (!ks_kernel_symbol(k, name, &addr) ||
	    !ks_debuginfo_symbol(ks_kernel_debuginfo(k), name, &link, &size))
		return false;
	if (size == 8)
		return ks_try_read_u64(k, addr, ret);
	if (size == 4 && ks_try_read_u32(k, addr, &v32)) {
		*ret = v32;
		return true;
	}
	return false;
}

static void hugetlb(struct ks_kernel *k, struct ks_kernel_mem *m)
{
	uint64_t hstates, count, stride = ks_kernel_type_size(k, KS_SIZE_HSTATE), o_off, n_off, f_off, size;

	if (!ks_kernel_symbol(k, "hstates", &hstates)) {
		m->hugetlb_absent = true;
		return;
	}
	if (!stride || !read_sized(k, "hugetlb_max_hstate", &count) ||
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

		if (!ks_try_read_u32(k, at + o_off, &order) || order > 30 || !ks_try_read_u64(k, at + n_off, &nr) ||
		    !ks_try_read_u64(k, at + f_off, &free))
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
	m->vmalloc_known = read_sized(k, "nr_vmalloc_pages", &m->vmalloc_pages) ||
			   (ks_kernel_vmstat(k, KS_VM_VMALLOC, &addr) && ks_try_read_u64(k, addr, &m->vmalloc_pages));
	if (read_sized(k, "pcpu_nr_populated", &populated) && read_sized(k, "pcpu_nr_units", &units)) {
		m->percpu_known = true;
		m->percpu_pages = populated * units;
	}
	hugetlb(k, m);
	m->threads_known = read_sized(k, "nr_threads", &m->nr_threads) &&
			   read_sized(k, "max_threads", &m->max_threads) &&
			   read_sized(k, "total_forks", &m->total_forks);
	return NULL;
}

/* After consumers, which clears memory.consumers. */
const struct ks_pass ks_pass_kmem = {
	.name = "kmem",
	.finish = kmem_finish,
};
