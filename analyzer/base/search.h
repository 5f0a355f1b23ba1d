/* The one binary search (over any sorted sequence whose i-th key a function gives), and sorting. */
#ifndef KSTALL_BASE_SEARCH_H
#define KSTALL_BASE_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * How many of the n keys, sorted ascending, are <= x: the index of the first key
 * above x. So the entry that holds x in a table of start addresses is the one
 * before (none when 0), and an exact match of x, if any, is there too. Inline,
 * so a key function known at the call is inlined with it.
 */
static inline size_t ks_count_le(size_t n, uint64_t x, uint64_t (*key)(const void *ctx, size_t i),
				 const void *ctx)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key(ctx, mid) <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * qsort for tables that may be empty: qsort(NULL, 0, ...) is undefined (its
 * pointer argument is declared nonnull) and a damaged input makes empty tables.
 */
static inline void ks_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
