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

struct ks_u64map {
	uint64_t *keys;
	void **values;
	unsigned char *used;
	size_t cap, count;
};

bool ks_u64map_put(struct ks_u64map *m, uint64_t key, void *value);
void *ks_u64map_get(const struct ks_u64map *m, uint64_t key);
void ks_u64map_free(struct ks_u64map *m);

#endif
