/*
 * Reading pages ahead on a second thread.
 *
 * The caller knows which pages it will want next (the analysis: each task's
 * stack, task by task) and hands the list over; a worker reads them in that
 * order, with a page reader of its own, into a ring of RA_SLOTS pages, never
 * more than that ahead of the position the caller declares. The caller's own
 * reads look in the ring first. A page the worker has not reached, or could
 * not read, is simply not there: the caller reads it itself, and says why if
 * it fails. Nothing the worker does changes an answer, only when it is ready.
 */
#ifndef KSTALL_READAHEAD_H
#define KSTALL_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read the page at addr (page-aligned) into page; false when it cannot. Runs on the worker. */
typedef bool (*ks_readahead_fn)(void *reader, uint64_t addr, void *page);

struct ks_readahead;

/* How far ahead of the caller's position the worker may read, in pages. */
#define KS_READAHEAD_PAGES 256u

/*
 * Start a worker over addrs[0..n) (copied) with reader, which only the worker
 * uses until ks_readahead_stop returns. NULL when there is nothing to do, no
 * memory, or no thread; the caller then reads everything itself.
 */
struct ks_readahead *ks_readahead_start(ks_readahead_fn fn, void *reader, size_t page_size,
					const uint64_t *addrs, size_t n);
/* The caller now wants addrs[pos] and later ones: the worker may drop earlier pages. */
void ks_readahead_at(struct ks_readahead *r, size_t pos);
/* Copy the page at addr into page if the worker has it ready in the window. */
bool ks_readahead_take(struct ks_readahead *r, uint64_t addr, void *page);
/* Join the worker and free everything; NULL is fine. */
void ks_readahead_stop(struct ks_readahead *r);

/* Pages the caller took from the worker, for KSTALL_STATS. */
uint64_t ks_readahead_taken(const struct ks_readahead *r);

#endif
