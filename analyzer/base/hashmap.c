#include "base/hashmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t ks_str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static uint64_t u64_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* A key known to be absent (a rehash): no comparisons. */
static void strmap_insert_new(struct ks_strmap *m, const char *key, uint64_t value)
{
	size_t i;

	for (i = ks_str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = key;
	m->values[i] = value;
	m->count++;
}

static bool strmap_resize(struct ks_strmap *m, size_t cap)
{
	struct ks_strmap n = { .cap = cap };

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.values = calloc(n.cap, sizeof(*n.values));
	if (!n.keys || !n.values) {
		free(n.keys);
		free(n.values);
		return false;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			strmap_insert_new(&n, m->keys[i], m->values[i]);
	free(m->keys);
	free(m->values);
	*m = n;
	return true;
}

static bool strmap_grow(struct ks_strmap *m)
{
	return strmap_resize(m, m->cap ? m->cap * 2 : 64);
}

bool ks_strmap_reserve(struct ks_strmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	while (cap < 2 * (m->count + n))
		cap *= 2;
	return cap == m->cap || strmap_resize(m, cap);
}

bool ks_strmap_put(struct ks_strmap *m, const char *key, uint64_t value, bool replace)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && !strmap_grow(m))
		return false;
	for (i = ks_str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (!strcmp(m->keys[i], key)) {
			if (replace)
				m->values[i] = value;
			return true;
		}
	}
	m->keys[i] = key;
	m->values[i] = value;
	m->count++;
	return true;
}

bool ks_strmap_get(const struct ks_strmap *m, const char *key, uint64_t *value)
{
	if (!m->cap)
		return false;
	for (size_t i = ks_str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (!strcmp(m->keys[i], key)) {
			*value = m->values[i];
			return true;
		}
	}
	return false;
}

void ks_strmap_free(struct ks_strmap *m)
{
	free(m->keys);
	free(m->values);
	memset(m, 0, sizeof(*m));
}

static bool u64map_grow(struct ks_u64map *m)
{
	struct ks_u64map n = { .cap = m->cap ? m->cap * 2 : 64 };

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.values = calloc(n.cap, sizeof(*n.values));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.values || !n.used) {
		free(n.keys);
		free(n.values);
		free(n.used);
		return false;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			ks_u64map_put_u64(&n, m->keys[i], m->values[i]);
	ks_u64map_free(m);
	*m = n;
	return true;
}

bool ks_u64map_put_u64(struct ks_u64map *m, uint64_t key, uint64_t value)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && !u64map_grow(m))
		return false;
	for (i = u64_hash(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->values[i] = value;
			return true;
		}
	}
	m->used[i] = 1;
	m->keys[i] = key;
	m->values[i] = value;
	m->count++;
	return true;
}

bool ks_u64map_get_u64(const struct ks_u64map *m, uint64_t key, uint64_t *value)
{
	if (!m->cap)
		return false;
	for (size_t i = u64_hash(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			*value = m->values[i];
			return true;
		}
	return false;
}

void ks_u64map_free_pointers(struct ks_u64map *m, const void *except)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i] && (const void *)(uintptr_t)m->values[i] != except)
			free((void *)(uintptr_t)m->values[i]);
	ks_u64map_free(m);
}

void ks_u64map_free(struct ks_u64map *m)
{
	free(m->keys);
	free(m->values);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
