#include "kstall/target.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"

/*
 * A direct-mapped cache of whole pages above the backend. kstall reads a few
 * bytes at a time (a field, a stack word), and each backend read costs an
 * address translation and a cache lookup inside libkdumpfile: served from here,
 * a field read is a memcpy. Failures are not cached: the backend says why.
 */
#define PAGE KS_TARGET_PAGE
/*
 * 2 MiB: with a process's threads analysed together, 3 MiB saved 501 of
 * 20 529 page reads on fork-storm, 4 MiB 164 more; each cost a (huge) page of
 * peak RSS.
 */
#define CACHE_SLOTS 512u

struct cache_slot {
	uint64_t tag; /* page address | 1 for physical; 0 when empty (page 0 is never cached) */
	unsigned char data[PAGE];
};

struct ks_target {
	const struct ks_target_ops *ops;
	void *priv;
	struct cache_slot *cache; /* NULL: caching off (no memory for it) */
	struct ks_target_stats stats;
};

struct ks_error *ks_target_create(const struct ks_target_ops *ops, void *priv,
				  struct ks_target **ret)
{
	struct ks_target *t;

	if (ops->version != KS_TARGET_OPS_VERSION) {
		ops->destroy(priv);
		return ks_error_create(KS_ERR_UNSUPPORTED, "target backend %s has version %u, want %u",
				       ops->name, ops->version, KS_TARGET_OPS_VERSION);
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ops->destroy(priv);
		return &ks_error_nomem;
	}
	t->ops = ops;
	t->priv = priv;
	t->cache = calloc(CACHE_SLOTS, sizeof(*t->cache));
	*ret = t;
	return NULL;
}

void ks_target_destroy(struct ks_target *t)
{
	if (!t)
		return;
	t->ops->destroy(t->priv);
	free(t->cache);
	free(t);
}

/* The backend's answer for exactly these bytes; quiet: a static error of its code, no message. */
static struct ks_error *backend_read(struct ks_target *t, uint64_t addr, void *buf, size_t len,
				     bool physical, bool quiet)
{
	enum ks_error_code code;

	if (!quiet || !t->ops->try_read)
		return t->ops->read(t->priv, addr, buf, len, physical);
	code = t->ops->try_read(t->priv, addr, buf, len, physical);
	return code ? ks_error_quiet(code) : NULL;
}

static struct ks_error *cached_read(struct ks_target *t, uint64_t addr, void *buf, size_t len,
				    bool physical, bool quiet)
{
	unsigned char *out = buf;

	if (!t->cache)
		return backend_read(t, addr, buf, len, physical, quiet);
	while (len) {
		uint64_t page = addr & ~(uint64_t)(PAGE - 1), off = addr - page;
		size_t n = len < PAGE - off ? len : PAGE - off;
		uint64_t tag = page | (physical ? 1 : 0);
		struct cache_slot *slot = &t->cache[(page / PAGE * 0x9e3779b97f4a7c15ull >> 40) % CACHE_SLOTS];

		t->stats.reads++;
		if (slot->tag != tag) {
			t->stats.misses++;
			struct ks_error *err =
				page ? backend_read(t, page, slot->data, PAGE, physical, true) : NULL;

			/* Page 0 is uncacheable (tag 0 means empty), and so is a page that fails
			 * whole: either way the backend answers for exactly these bytes. */
			if (!page || err) {
				ks_error_destroy(err);
				slot->tag = 0;
				return backend_read(t, addr, out, len, physical, quiet);
			}
			slot->tag = tag;
		}
		memcpy(out, slot->data + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return NULL;
}

struct ks_error *ks_target_read(struct ks_target *t, uint64_t addr, void *buf, size_t len)
{
	return cached_read(t, addr, buf, len, false, false);
}

enum ks_error_code ks_target_try_read(struct ks_target *t, uint64_t addr, void *buf, size_t len)
{
	struct ks_error *err = cached_read(t, addr, buf, len, false, true);
	enum ks_error_code code = err ? err->code : 0;

	ks_error_destroy(err);
	return code;
}

struct ks_error *ks_target_read_phys(struct ks_target *t, uint64_t addr, void *buf, size_t len)
{
	return cached_read(t, addr, buf, len, true, false);
}

void ks_target_readahead(struct ks_target *t, const uint64_t *pages, size_t n)
{
	ks_target_readahead_end(t);
	if (!t->ops->readahead || !n || !ks_threads_second())
		return;
	t->ops->readahead(t->priv, pages, n);
}

void ks_target_readahead_at(struct ks_target *t, size_t pos)
{
	if (t->ops->readahead_at)
		t->ops->readahead_at(t->priv, pos);
}

void ks_target_readahead_end(struct ks_target *t)
{
	if (t->ops->readahead)
		t->stats.ahead += t->ops->readahead(t->priv, NULL, 0);
}

struct ks_target_stats ks_target_stats(const struct ks_target *t)
{
	return t->stats;
}

const char *ks_target_name(const struct ks_target *t)
{
	return t->ops->name;
}

const char *ks_target_damage(const struct ks_target *t)
{
	return t->ops->damage ? t->ops->damage(t->priv) : NULL;
}

const char *ks_target_vmcoreinfo_raw(struct ks_target *t)
{
	return t->ops->vmcoreinfo(t->priv);
}

bool ks_target_vmcoreinfo(struct ks_target *t, const char *key, char *buf, size_t size)
{
	const char *info = t->ops->vmcoreinfo(t->priv);
	size_t klen = strlen(key);

	for (const char *line = info; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > klen && line[klen] == '=' && !strncmp(line, key, klen)) {
			size_t vlen = len - klen - 1;

			if (vlen >= size)
				return false;
			memcpy(buf, line + klen + 1, vlen);
			buf[vlen] = '\0';
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}
