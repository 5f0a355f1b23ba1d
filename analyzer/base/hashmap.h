/* Small open-addressing hash maps: string -> uint64 and uint64 -> pointer. */
#ifndef KSTALL_HASHMAP_H
#define KSTALL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FNV-1a, the string maps' hash. */
uint64_t ks_str_hash(const char *s);

/* Keys are not copied: they must outlive the map. */
struct ks_strmap {
	const char **keys;
	uint64_t *values;
	size_t cap, count;
};

bool ks_strmap_put(struct ks_strmap *m, const char *key, uint64_t value, bool replace);
bool ks_strmap_get(const struct ks_strmap *m, const char *key, uint64_t *value);
/* Room for n more keys without growing (a rehash per doubling otherwise). */
bool ks_strmap_reserve(struct ks_strmap *m, size_t n);
void ks_strmap_free(struct ks_strmap *m);

/* uint64 -> uint64, where a value may be anything (0 and indexes included). */
struct ks_u64map {
	uint64_t *keys;
	uint64_t *values;
	unsigned char *used;
	size_t cap, count;
};

bool ks_u64map_put_u64(struct ks_u64map *m, uint64_t key, uint64_t value);
/* False when key is absent (*value untouched). */
bool ks_u64map_get_u64(const struct ks_u64map *m, uint64_t key, uint64_t *value);
void ks_u64map_free(struct ks_u64map *m);
/* For a map of pointers it owns: free every value but except (a shared marker, or NULL), then the map. */
void ks_u64map_free_pointers(struct ks_u64map *m, const void *except);

/* The same map holding pointers; NULL is absent. */
static inline bool ks_u64map_put(struct ks_u64map *m, uint64_t key, void *value)
{
	return ks_u64map_put_u64(m, key, (uint64_t)(uintptr_t)value);
}

static inline void *ks_u64map_get(const struct ks_u64map *m, uint64_t key)
{
	uint64_t v;

	return ks_u64map_get_u64(m, key, &v) ? (void *)(uintptr_t)v : NULL;
}

/* The same map holding indexes into an array: -1 is absent. */
static inline bool ks_u64map_put_index(struct ks_u64map *m, uint64_t key, size_t index)
{
	return ks_u64map_put_u64(m, key, index);
}

static inline long ks_u64map_get_index(const struct ks_u64map *m, uint64_t key)
{
	uint64_t v;

	return ks_u64map_get_u64(m, key, &v) ? (long)v : -1;
}

#endif
