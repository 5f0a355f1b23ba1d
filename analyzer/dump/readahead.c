#include "dump/readahead.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"

/*
 * 1 MiB of 4 KiB pages, a hundred tasks' stacks: on fork-storm 256 served
 * 9 800 of the 19 900 dump pages, 128 only 7 500 (4 MiB read cache; the
 * caller runs ahead in bursts, its pages still in its own cache, then stalls
 * on long wait lists).
 */
#define RA_SLOTS KS_READAHEAD_PAGES

struct ra_slot {
	/*
	 * index + 1 of the page the slot holds, 0 before the first. The worker
	 * stores it (release) once the page is whole; it rewrites a slot only for
	 * an index RA_SLOTS later, which it reaches only after the caller has
	 * declared a position past the old one, so a page the caller may still
	 * take is never being written.
	 */
	_Atomic size_t seq;
	unsigned char *data;
};

struct ks_readahead {
	ks_readahead_fn fn;
	void *reader;
	size_t page_size;
	uint64_t *addrs;
	size_t n;
	/* addr -> first index + 1; built before the worker starts, read-only after */
	struct ks_u64map index;
	unsigned char *pages;
	struct ra_slot slots[RA_SLOTS];
	/* the caller's position, its own copy: only the caller's thread touches it */
	size_t mine;
	uint64_t taken;
	/* what the worker sees of the caller: under lock */
	pthread_mutex_t lock;
	pthread_cond_t moved;
	size_t pos;
	bool stop;
	pthread_t thread;
};

static void *worker(void *arg)
{
	struct ks_readahead *r = arg;

	for (size_t j = 0; j < r->n; j++) {
		size_t pos;
		bool stop;

		pthread_mutex_lock(&r->lock);
		while (!r->stop && j >= r->pos + RA_SLOTS)
			pthread_cond_wait(&r->moved, &r->lock);
		pos = r->pos;
		stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		if (j < pos)
			continue; /* the caller is past it */
		struct ra_slot *s = &r->slots[j % RA_SLOTS];

		if (r->fn(r->reader, r->addrs[j], s->data))
			atomic_store_explicit(&s->seq, j + 1, memory_order_release);
	}
	return NULL;
}

struct ks_readahead *ks_readahead_start(ks_readahead_fn fn, void *reader, size_t page_size,
					const uint64_t *addrs, size_t n)
{
	struct ks_readahead *r;

	if (!n || !page_size || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->fn = fn;
	r->reader = reader;
	r->page_size = page_size;
	r->n = n;
	r->addrs = malloc(n * sizeof(*addrs));
	r->pages = malloc(RA_SLOTS * page_size);
	if (!r->addrs || !r->pages)
		goto fail;
	memcpy(r->addrs, addrs, n * sizeof(*addrs));
	for (size_t j = 0; j < n; j++)
		if (ks_u64map_get_index(&r->index, addrs[j]) < 0 &&
		    !ks_u64map_put_index(&r->index, addrs[j], j))
			goto fail;
	for (size_t s = 0; s < RA_SLOTS; s++) {
		atomic_init(&r->slots[s].seq, 0);
		r->slots[s].data = r->pages + s * page_size;
	}
	if (pthread_mutex_init(&r->lock, NULL))
		goto fail;
	if (pthread_cond_init(&r->moved, NULL)) {
		pthread_mutex_destroy(&r->lock);
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, worker, r)) {
		pthread_cond_destroy(&r->moved);
		pthread_mutex_destroy(&r->lock);
		goto fail;
	}
	return r;
fail:
	ks_u64map_free(&r->index);
	free(r->addrs);
	free(r->pages);
	free(r);
	return NULL;
}

void ks_readahead_at(struct ks_readahead *r, size_t pos)
{
	if (!r || pos <= r->mine)
		return;
	r->mine = pos;
	pthread_mutex_lock(&r->lock);
	r->pos = pos;
	pthread_cond_signal(&r->moved);
	pthread_mutex_unlock(&r->lock);
}

bool ks_readahead_take(struct ks_readahead *r, uint64_t addr, void *page)
{
	long v = ks_u64map_get_index(&r->index, addr);
	size_t j = (size_t)v;
	struct ra_slot *s;

	if (v < 0 || j < r->mine || j >= r->mine + RA_SLOTS)
		return false;
	s = &r->slots[j % RA_SLOTS];
	if (atomic_load_explicit(&s->seq, memory_order_acquire) != j + 1)
		return false;
	memcpy(page, s->data, r->page_size);
	r->taken++;
	return true;
}

void ks_readahead_stop(struct ks_readahead *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->moved);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->moved);
	pthread_mutex_destroy(&r->lock);
	ks_u64map_free(&r->index);
	free(r->addrs);
	free(r->pages);
	free(r);
}

uint64_t ks_readahead_taken(const struct ks_readahead *r)
{
	return r ? r->taken : 0;
}
