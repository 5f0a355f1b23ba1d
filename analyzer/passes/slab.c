/*
 * The slab pass: what each slab cache holds, as `kmem -s` and slabtop show it,
 * counted from the memory map. Every head page that is a slab names its cache
 * (slab_cache) and carries SLUB's counters: the objects it has room for and
 * those in use (inuse). Summed per cache, that gives the cache's slabs,
 * objects and pages on any SLUB kernel, SLUB_TINY and kernels without
 * CONFIG_SLUB_DEBUG (whose per-node counters /proc/slabinfo reads) alike.
 *
 * A slab spans 2^order pages, and SLUB fits (PAGE_SIZE << order) / size
 * objects in it (order_objects() in mm/slub.c; size is the object's stride).
 * Doubling the pages more than doubles that count, so a slab's order is the
 * least order whose count reaches its objects: no need for the cache's
 * packed order word (oo), whose shift the DWARF does not give.
 *
 * SLUB keeps inuse equal to objects while a CPU allocates from a slab (it is
 * frozen), as /proc/slabinfo counts it too: "in use" is an upper bound there.
 * SLOB and SLAB (gone in 6.4 and 6.8) keep no cache in the page: not counted.
 *
 * Bounded: the memory map (kstall/kernel.h: ks_kernel_memmap) is read in
 * chunks of CHUNK_PAGES struct pages, and not at all past MAX_MAP_BYTES (a
 * 16 GiB machine's map: 256 MiB at 64 bytes a page), where the walk would
 * cost the report seconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "base/hashmap.h"
#include "base/search.h"

#define MAX_MAP_BYTES (256ULL << 20)
#define CHUNK_PAGES 512
#define MAX_CACHES 8192
/* SLUB's largest slab order (MAX_PAGE_ORDER, 10 on x86-64) with room to spare */
#define MAX_SLAB_ORDER 12

enum slab_mark { MARK_FLAG, MARK_TYPE_BIT, MARK_TYPE_BYTE };

struct layout {
	uint64_t page_size, stride, cache_off, type_off;
	uint64_t inuse_bit, inuse_bits, objects_bit, objects_bits;
	enum slab_mark mark;
	uint64_t flag_mask, type_base, type_bit, type_byte;
};

static bool slab_layout(struct ks_analysis *a, struct layout *l)
{
	struct ks_kernel *k = a->kernel;
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	const char *holder = "slab";
	uint64_t size;
	int64_t v, base;

	l->page_size = ks_kernel_page_size(k);
	l->stride = ks_kernel_type_size(k, KS_SIZE_PAGE);
	if (!ks_kernel_late_field(k, KS_LF_SLAB_SLAB_CACHE, &l->cache_off, &size)) {
		holder = "page";
		if (!ks_kernel_late_field(k, KS_LF_PAGE_SLAB_CACHE, &l->cache_off, &size))
			return false;
	}
	if (size != 8 || !l->stride || l->stride > 256 || l->cache_off + 8 > l->stride ||
	    !ks_debuginfo_bitfield(di, holder, "inuse", &l->inuse_bit, &l->inuse_bits) ||
	    !ks_debuginfo_bitfield(di, holder, "objects", &l->objects_bit, &l->objects_bits) ||
	    l->inuse_bits > 32 || l->objects_bits > 32 || l->inuse_bit / 8 + 8 > l->stride ||
	    l->objects_bit / 8 + 8 > l->stride)
		return false;
	if (ks_kernel_enumerator(k, KS_E_PGTY_SLAB, &v) &&
	    ks_kernel_late_field(k, KS_LF_PAGE_PAGE_TYPE, &l->type_off, &size) && size == 4) {
		l->mark = MARK_TYPE_BYTE;
		l->type_byte = (uint64_t)v & 0xff; /* a byte: the enum may read as signed (0xf5 as -11) */
	} else if (ks_kernel_enumerator(k, KS_E_PAGETYPE_PG_SLAB, &v) &&
		   ks_kernel_enumerator(k, KS_E_PAGE_TYPE_BASE, &base) &&
		   ks_kernel_late_field(k, KS_LF_PAGE_PAGE_TYPE, &l->type_off, &size) && size == 4) {
		l->mark = MARK_TYPE_BIT;
		l->type_bit = (uint32_t)v;
		l->type_base = (uint32_t)base;
	} else if (ks_kernel_enumerator(k, KS_E_PG_SLAB, &v) && v >= 0 && v < 64) {
		l->mark = MARK_FLAG;
		l->flag_mask = 1ULL << v;
		l->type_off = ks_kernel_off(k, KS_F_PAGE_FLAGS);
	} else {
		return false;
	}
	return l->type_off + (l->mark == MARK_FLAG ? 8 : 4) <= l->stride;
}

static uint64_t load(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static uint64_t bits(const unsigned char *page, uint64_t bit, uint64_t width)
{
	return (load(page + bit / 8, 8) >> (bit % 8)) & ((1ULL << width) - 1);
}

static bool is_slab(const struct layout *l, const unsigned char *page)
{
	/* poison (page_init_poison fills unused struct pages with ones): no page at all */
	if (load(page, 8) == UINT64_MAX)
		return false;
	switch (l->mark) {
	case MARK_FLAG:
		return load(page + l->type_off, 8) & l->flag_mask;
	case MARK_TYPE_BIT:
		return (load(page + l->type_off, 4) & (l->type_base | l->type_bit)) == l->type_base;
	case MARK_TYPE_BYTE:
		return load(page + l->type_off, 4) >> 24 == l->type_byte;
	}
	return false;
}

/* The caches on slab_caches, each indexed by its address; false when the list cannot be read. */
static bool read_caches(struct ks_kernel *k, struct ks_slab_cache **ret, size_t *count, struct ks_u64map *index,
			struct ks_problems *problems)
{
	uint64_t head, pos, list_off, name_off, size_off, osize_off, size, osize;
	struct ks_slab_cache *all;
	size_t n = 0, unnamed = 0;
	enum ks_error_code code, name_code = 0;
	uint64_t name_at = 0;

	if (!ks_kernel_symbol(k, "slab_caches", &head) ||
	    !ks_kernel_late_field(k, KS_LF_KMEM_CACHE_LIST, &list_off, &size) ||
	    !ks_kernel_late_field(k, KS_LF_KMEM_CACHE_NAME, &name_off, &size) ||
	    !ks_kernel_late_field(k, KS_LF_KMEM_CACHE_SIZE, &size_off, &size) || size != 4 ||
	    !ks_kernel_late_field(k, KS_LF_KMEM_CACHE_OBJECT_SIZE, &osize_off, &osize) || osize != 4)
		return false;
	{
		enum ks_error_code code = ks_read_code(k, head, &pos, sizeof(pos));

		if (code) {
			ks_problems_add(problems, code, 0, head, "cannot read slab_caches (%s): no cache named",
					ks_error_code_name(code));
			return false;
		}
	}
	all = calloc(MAX_CACHES, sizeof(*all));
	if (!all)
		return false;
	while (pos != head) {
		struct ks_slab_cache *c = &all[n];
		uint64_t cache = pos - list_off, name;
		uint32_t v;

		if (n == MAX_CACHES) {
			ks_problems_add(problems, KS_ERR_BAD_DATA, 0, head,
					"slab_caches cut at %d caches: a loop?", MAX_CACHES);
			break;
		}
		c->cache = cache;
		/* a name unread is none (the cache shown by address), counted: one problem for the list */
		if ((code = ks_read_code(k, cache + name_off, &name, sizeof(name))) == 0 && name)
			code = ks_read_string_code(k, name, c->name, sizeof(c->name));
		if (code) {
			c->name[0] = '\0';
			if (!unnamed++) {
				name_code = code;
				name_at = cache;
			}
		}
		if (ks_try_read_u32(k, cache + size_off, &v))
			c->stride = v;
		else
			ks_problems_add(problems, ks_read_code(k, cache + size_off, &v, sizeof(v)), 0, cache + size_off,
					"cannot read the size of slab cache 0x%llx: its objects not counted",
					(unsigned long long)cache);
		if (ks_try_read_u32(k, cache + osize_off, &v))
			c->object_size = v;
		else
			ks_problems_add(problems, ks_read_code(k, cache + osize_off, &v, sizeof(v)), 0, cache + osize_off,
					"cannot read the object size of slab cache 0x%llx", (unsigned long long)cache);
		if (!ks_u64map_put_index(index, cache, n))
			break;
		n++;
		if (!ks_try_read_u64(k, pos, &pos)) {
			ks_problems_add(problems, ks_read_code(k, pos, &pos, sizeof(pos)), 0, pos,
					"slab_caches list cut: an entry is unreadable");
			break;
		}
	}
	if (unnamed)
		ks_problems_add(problems, name_code, 0, name_at,
				"%zu slab cache name%s could not be read (%s, the first of cache 0x%llx): shown by address",
				unnamed, unnamed == 1 ? "" : "s", ks_error_code_name(name_code), (unsigned long long)name_at);
	*ret = all;
	*count = n;
	return true;
}

/* The least order whose pages hold objects at this stride (see the top). */
static unsigned int slab_order(uint64_t page_size, uint64_t stride, uint64_t objects)
{
	unsigned int order = 0;

	if (!stride)
		return 0;
	while (order < MAX_SLAB_ORDER && (page_size << order) / stride < objects)
		order++;
	return order;
}

static void count_page(const struct layout *l, const unsigned char *page, struct ks_slab_census *s,
		       struct ks_slab_cache *all, const struct ks_u64map *index)
{
	uint64_t cache = load(page + l->cache_off, 8), objects = bits(page, l->objects_bit, l->objects_bits),
		 inuse = bits(page, l->inuse_bit, l->inuse_bits), pages;
	long at = ks_u64map_get_index(index, cache);

	if (at < 0) {
		/* a cache kstall did not meet on the list: its slab counted in the totals only */
		pages = 1;
		s->foreign_pages += pages;
	} else {
		struct ks_slab_cache *c = &all[at];

		pages = 1ULL << slab_order(l->page_size, c->stride, objects);
		c->slabs++;
		c->pages += pages;
		c->objects += objects;
		c->inuse += inuse < objects ? inuse : objects;
	}
	s->slabs++;
	s->pages += pages;
	s->objects += objects;
	s->inuse += inuse < objects ? inuse : objects;
}

/* struct pages whose read failed other than by being filtered out: the dump is damaged there */
struct map_damage {
	uint64_t count, first;
};

static void walk_section(struct ks_kernel *k, const struct layout *l, const struct ks_memmap_section *sec,
			 unsigned char *buf, struct ks_slab_census *s, struct ks_slab_cache *all,
			 const struct ks_u64map *index, struct map_damage *damage)
{
	if (!sec->map) {
		s->map_pages += sec->pages;
		s->unreadable_map_pages += sec->pages;
		return;
	}
	for (uint64_t at = 0; at < sec->pages; at += CHUNK_PAGES) {
		uint64_t n = sec->pages - at < CHUNK_PAGES ? sec->pages - at : CHUNK_PAGES,
			 map = sec->map + at * l->stride;

		s->map_pages += n;
		if (ks_read_code(k, map, buf, n * l->stride)) {
			/* a part of the chunk missing from the dump: the rest a struct page at a time */
			for (uint64_t i = 0; i < n; i++) {
				enum ks_error_code code = ks_read_code(k, map + i * l->stride, buf, l->stride);

				if (code) {
					s->unreadable_map_pages++;
					if (code != KS_ERR_NODATA && !damage->count++)
						damage->first = map + i * l->stride;
					continue;
				}
				if (is_slab(l, buf))
					count_page(l, buf, s, all, index);
			}
			continue;
		}
		for (uint64_t i = 0; i < n; i++)
			if (is_slab(l, buf + i * l->stride))
				count_page(l, buf + i * l->stride, s, all, index);
	}
}

static int by_pages(const void *x, const void *y)
{
	const struct ks_slab_cache *a = x, *b = y;

	if (a->pages != b->pages)
		return a->pages < b->pages ? 1 : -1;
	return strcmp(a->name, b->name);
}

static struct ks_error *slab_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_slab_census *s = &a->memory.consumers.slab;
	struct ks_slab_cache *all = NULL;
	struct ks_u64map index = { 0 };
	struct ks_memmap_section *sections = NULL;
	struct layout l;
	struct ks_error *err;
	uint64_t size, off, map_pages = 0;
	unsigned char *buf;
	size_t n = 0, nsections = 0;

	(void)ctx;
	memset(s, 0, sizeof(*s));
	if (!ks_kernel_late_field(k, KS_LF_KMEM_CACHE_OO, &off, &size)) {
		/* SLOB's and SLAB's kmem_cache have no order word: their pages name no cache */
		if (ks_kernel_late_field(k, KS_LF_KMEM_CACHE_SIZE, &off, &size))
			s->state = KS_SLAB_NOT_SLUB;
		return NULL;
	}
	memset(&l, 0, sizeof(l));
	if (!slab_layout(a, &l)) {
		ks_kernel_support_add(k, "slab caches from the memory map (struct slab or page, its slab mark)",
				      "no per-cache slab figures");
		return NULL;
	}
	/* the map spans at most max_pfn struct pages: too big is known before any is read */
	if (ks_kernel_symbol(k, "max_pfn", &off) && ks_pass_read_u64(a, off, &map_pages, "max_pfn") &&
	    map_pages > MAX_MAP_BYTES / l.stride) {
		s->state = KS_SLAB_TOO_BIG;
		return NULL;
	}
	map_pages = 0;
	if ((err = ks_kernel_memmap(k, &sections, &nsections))) {
		if (err->code == KS_ERR_UNSUPPORTED) {
			ks_kernel_support_add(k, "the memory map (SPARSEMEM sections)", "no per-cache slab figures");
		} else {
			s->state = KS_SLAB_UNREADABLE;
			ks_problems_add(&a->problems, err->code, 0, 0, "slab caches not counted: %s",
					err->message ? err->message : ks_error_code_name(err->code));
		}
		ks_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < nsections; i++)
		map_pages += sections[i].pages;
	if (map_pages * l.stride > MAX_MAP_BYTES) {
		s->state = KS_SLAB_TOO_BIG;
		free(sections);
		return NULL;
	}
	buf = malloc(CHUNK_PAGES * l.stride);
	if (!buf || !read_caches(k, &all, &n, &index, &a->problems)) {
		if (buf)
			ks_kernel_support_add(k, "the slab_caches list", "no per-cache slab figures");
		free(buf);
		free(sections);
		return buf ? NULL : &ks_error_nomem;
	}
	struct map_damage damage = { 0, 0 };

	for (size_t i = 0; i < nsections; i++)
		walk_section(k, &l, &sections[i], buf, s, all, &index, &damage);
	free(buf);
	free(sections);
	if (s->unreadable_map_pages > damage.count)
		ks_problems_add(&a->problems, KS_ERR_NODATA, 0, 0,
				"%llu of %llu struct pages of the memory map are not in the dump: slab figures are lower bounds",
				(unsigned long long)(s->unreadable_map_pages - damage.count),
				(unsigned long long)s->map_pages);
	if (damage.count) {
		/* the first one's reason, read again: the walk kept codes only */
		struct ks_error *why = ks_read(k, damage.first, &(uint64_t){ 0 }, 8);

		ks_problems_add(&a->problems, why ? why->code : KS_ERR_FAULT, 0, damage.first,
				"%llu struct pages of the memory map could not be read (the first: %s): slab figures "
				"are lower bounds", (unsigned long long)damage.count,
				why ? why->message : "a read that failed once");
		ks_error_destroy(why);
	}
	ks_u64map_free(&index);
	/* nothing of the map read: no figure at all, rather than zeros */
	s->state = s->map_pages && s->unreadable_map_pages == s->map_pages ? KS_SLAB_UNREADABLE : KS_SLAB_READ;
	s->caches = n;
	ks_sort(all, n, sizeof(*all), by_pages);
	s->ntop = n < KS_TOP_SLABS ? n : KS_TOP_SLABS;
	while (s->ntop && !all[s->ntop - 1].pages)
		s->ntop--;
	memcpy(s->top, all, s->ntop * sizeof(*all));
	free(all);
	return NULL;
}

/* After consumers, which clears memory.consumers. */
const struct ks_pass ks_pass_slab = {
	.name = "slab",
	.finish = slab_finish,
};
