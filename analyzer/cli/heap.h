/*
 * The CLI's heap on transparent huge pages. A run of kstall is short and
 * touches its heap once: in the VMs support engineers and CI run on, each
 * first touch of a 4 KiB page is a fault of ~10 us (page-table updates trap to
 * the hypervisor), some 5 000 of them for a 10 000-task dump, a sixth of the
 * run. On 2 MiB pages they are a few dozen.
 *
 * Not for the crash plugin: the heap is crash's there.
 */
#ifndef KSTALL_HEAP_H
#define KSTALL_HEAP_H

/*
 * Reserve the heap in one piece of huge pages, and keep large blocks in it
 * (glibc maps those apart otherwise, in 4 KiB pages). Call first thing in
 * main. KSTALL_HUGEPAGES=0 leaves malloc as it is (to compare).
 */
void ks_heap_setup(void);

/*
 * libdw asserts (abort) where an allocation of its hash tables fails. An abort
 * that comes when memory has run out is reported as running out of memory
 * (exit 2), as kstall's own failed allocations are; any other abort is left
 * as it is. Call once in main.
 */
void ks_heap_catch_oom_abort(void);

#endif
