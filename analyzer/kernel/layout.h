/* The kernel object's cache of the layouts of kstall/layout.h (kernel.c owns one). */
#ifndef KSTALL_KERNEL_LAYOUT_H
#define KSTALL_KERNEL_LAYOUT_H

#include "kstall/kernel.h"

struct ks_layout;

struct ks_layout *ks_layout_create(void);
void ks_layout_destroy(struct ks_layout *l);
/* The first of members ('|'-separated) that type has: its offset and size. */
bool ks_layout_member(struct ks_kernel *k, const char *type, const char *members, uint64_t *off,
		      uint64_t *size);
/* The kernel's cache; NULL when memory was short (then every answer is "lacks it"). */
struct ks_layout *ks_kernel_layout(struct ks_kernel *k);

#endif
