#include "base/strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"

struct ks_strpool {
	struct ks_strmap map; /* the copy -> the copy */
};

struct ks_strpool *ks_strpool_create(void)
{
	return calloc(1, sizeof(struct ks_strpool));
}

void ks_strpool_destroy(struct ks_strpool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->map.cap; i++)
		free((char *)p->map.keys[i]);
	ks_strmap_free(&p->map);
	free(p);
}

const char *ks_strpool_intern(struct ks_strpool *p, const char *s)
{
	uint64_t found;
	char *copy;

	if (ks_strmap_get(&p->map, s, &found))
		return (const char *)(uintptr_t)found;
	copy = strdup(s);
	if (!copy)
		return NULL;
	if (!ks_strmap_put(&p->map, copy, (uint64_t)(uintptr_t)copy, false)) {
		free(copy);
		return NULL;
	}
	return copy;
}
