/* The model's stacks, trimmed and shared once the per-task passes are done with them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/build.h"
#include "base/hashmap.h"

static bool same_frames(const struct ks_stack *x, const struct ks_stack *y)
{
	if (x->count != y->count)
		return false;
	for (size_t f = 0; f < x->count; f++) {
		const struct ks_frame *a = &x->frames[f], *b = &y->frames[f];

		/* Names come from one symbol table and one DWARF file: equal names are equal pointers. */
		if (a->pc != b->pc || a->function != b->function || a->symbol != b->symbol ||
		    a->offset != b->offset || a->inlined != b->inlined || a->call_site != b->call_site)
			return false;
	}
	return true;
}

/*
 * Once its passes are done, a task's stack keeps only what the report shows
 * (pc, names, offset, flags), and tasks whose stacks are then the same share
 * one copy: ten thousand threads blocked in one place would otherwise hold
 * ten thousand copies of the same frames and their registers.
 */
void ks_model_share_stack(struct ks_analysis *a, struct ks_u64map *pool, size_t i)
{
	struct ks_stack *s = &a->stacks[i];
	uint64_t h = 14695981039346656037ull;
	long other;

	for (size_t f = 0; f < s->count; f++) {
		struct ks_frame *fr = &s->frames[f];

		fr->sp = fr->cfa = fr->die = fr->sub_die = 0;
		memset(fr->regs, 0, sizeof(fr->regs));
		fr->regs_valid = 0;
		h = (h ^ fr->pc) * 1099511628211ull;
	}
	h = (h ^ s->count) * 1099511628211ull;
	other = ks_u64map_get_index(pool, h);
	if (other >= 0 && same_frames(&a->stacks[other], s)) {
		free(s->frames);
		s->frames = a->stacks[other].frames;
		s->shared = true;
		return;
	}
	if (other < 0)
		ks_u64map_put_index(pool, h, i);
	if (s->count) {
		struct ks_frame *fit = realloc(s->frames, s->count * sizeof(*fit));

		if (fit)
			s->frames = fit;
	}
}
