/* The lock pass: the lock each blocked task waits on, its owner, and the wait-for graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

/* Far above any real wait list; a longer one is a loop. */
#define MAX_WAITERS 65536

uint64_t ks_lock_owner_task(uint64_t owner_word)
{
	/* mutex: WAITERS|HANDOFF|PICKUP; rwsem: READER_OWNED|NONSPINNABLE (4.10+) */
	return owner_word & ~(uint64_t)7;
}

size_t ks_find_cycles(const long *next, size_t n, bool *in_cycle)
{
	/* 0 unvisited, 1 on the current path, 2 done */
	unsigned char *mark = calloc(n ? n : 1, 1);
	size_t found = 0;

	if (!mark)
		return 0;
	memset(in_cycle, 0, n * sizeof(bool));
	for (size_t start = 0; start < n; start++) {
		long i = (long)start;

		while (i >= 0 && (size_t)i < n && !mark[i]) {
			mark[i] = 1;
			i = next[i];
		}
		if (i >= 0 && (size_t)i < n && mark[i] == 1) {
			/* i is on a cycle that this walk closed */
			long j = i;

			do {
				in_cycle[j] = true;
				found++;
				j = next[j];
			} while (j != i);
		}
		for (long j = (long)start; j >= 0 && (size_t)j < n && mark[j] == 1; j = next[j])
			mark[j] = 2;
	}
	free(mark);
	return found;
}

static const struct {
	const char *function;
	const char *param;
	enum ks_lock_type type;
} lock_frames[] = {
	{ "__mutex_lock_common", "lock", KS_LOCK_MUTEX },
	{ "__mutex_lock", "lock", KS_LOCK_MUTEX },
	{ "rwsem_down_write_slowpath", "sem", KS_LOCK_RWSEM_WRITE },
	{ "rwsem_down_read_slowpath", "sem", KS_LOCK_RWSEM_READ },
	{ "__down_read_common", "sem", KS_LOCK_RWSEM_READ },
	{ "__down_read", "sem", KS_LOCK_RWSEM_READ },
	{ "down_read", "sem", KS_LOCK_RWSEM_READ },
	{ "__down_write_common", "sem", KS_LOCK_RWSEM_WRITE },
	{ "__down_write", "sem", KS_LOCK_RWSEM_WRITE },
	{ "down_write", "sem", KS_LOCK_RWSEM_WRITE },
	{ "___down_common", "sem", KS_LOCK_SEMAPHORE },
	{ "__down_common", "sem", KS_LOCK_SEMAPHORE },
	{ "__down", "sem", KS_LOCK_SEMAPHORE },
	{ "down", "sem", KS_LOCK_SEMAPHORE },
	{ "__down_killable", "sem", KS_LOCK_SEMAPHORE },
	{ "__down_interruptible", "sem", KS_LOCK_SEMAPHORE },
	{ "__down_timeout", "sem", KS_LOCK_SEMAPHORE },
};

/* Does the lock's wait list hold a waiter for this task? */
static bool on_wait_list(struct ks_kernel *k, uint64_t lock, enum ks_lock_type type,
			 uint64_t task)
{
	enum ks_field list, wtask, wlist;
	uint64_t head, pos, who;

	switch (type) {
	case KS_LOCK_MUTEX:
		list = KS_F_MUTEX_WAIT_LIST, wtask = KS_F_MUTEX_WAITER_TASK,
		wlist = KS_F_MUTEX_WAITER_LIST;
		break;
	case KS_LOCK_SEMAPHORE:
		list = KS_F_SEM_WAIT_LIST, wtask = KS_F_SEM_WAITER_TASK, wlist = KS_F_SEM_WAITER_LIST;
		break;
	default:
		list = KS_F_RWSEM_WAIT_LIST, wtask = KS_F_RWSEM_WAITER_TASK,
		wlist = KS_F_RWSEM_WAITER_LIST;
		break;
	}
	if (!ks_kernel_has(k, list) || !ks_kernel_has(k, wtask) || !ks_kernel_has(k, wlist))
		return false;
	head = lock + ks_kernel_off(k, list);
	if (!ks_try_read_u64(k, head, &pos))
		return false;
	for (size_t n = 0; pos != head && n < MAX_WAITERS; n++) {
		uint64_t waiter = pos - ks_kernel_off(k, wlist);

		if (!ks_try_read_u64(k, waiter + ks_kernel_off(k, wtask), &who))
			return false;
		if (who == task)
			return true;
		if (!ks_try_read_u64(k, pos, &pos))
			return false;
	}
	return false;
}

static long lock_index(struct ks_analysis *a, uint64_t addr, enum ks_lock_type type, size_t *cap)
{
	struct ks_lock *l;
	struct ks_symbol sym;

	for (size_t i = 0; i < a->nlocks; i++)
		if (a->locks[i].address == addr)
			return (long)i;
	if (a->nlocks == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct ks_lock *n = realloc(a->locks, ncap * sizeof(*n));

		if (!n)
			return -1;
		a->locks = n;
		*cap = ncap;
	}
	l = &a->locks[a->nlocks];
	memset(l, 0, sizeof(*l));
	l->address = addr;
	l->type = type;
	l->owner = -1;
	if (ks_kernel_symbolize(a->kernel, addr, &sym) && (!sym.size || addr < sym.address + sym.size)) {
		if (addr == sym.address)
			snprintf(l->name, sizeof(l->name), "%s", sym.name);
		else
			snprintf(l->name, sizeof(l->name), "%s+0x%llx", sym.name,
				 (unsigned long long)(addr - sym.address));
	}
	return (long)a->nlocks++;
}

static void find_owner(struct ks_analysis *a, struct ks_lock *l)
{
	struct ks_kernel *k = a->kernel;
	uint64_t word;
	enum ks_field f = l->type == KS_LOCK_MUTEX ? KS_F_MUTEX_OWNER : KS_F_RWSEM_OWNER;

	if (l->type == KS_LOCK_SEMAPHORE || !ks_try_read_field(k, l->address, f, &word))
		return;
	if (l->type != KS_LOCK_MUTEX && (word & 1))
		l->owner_is_hint = true; /* reader-owned: the last reader, maybe gone */
	l->owner = ks_analysis_task_index(a, ks_lock_owner_task(word));
}

struct ks_error *ks_pass_locks(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	size_t cap = 0;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_stack *s = &a->stacks[i];
		struct ks_task_analysis *ta = &a->ta[i];

		ta->waits_on = -1;
		if (t->active)
			continue;
		for (size_t f = ta->first_frame; f < s->count && ta->waits_on < 0; f++) {
			for (size_t m = 0; m < sizeof(lock_frames) / sizeof(lock_frames[0]); m++) {
				uint64_t lock;

				if (strcmp(s->frames[f].function, lock_frames[m].function))
					continue;
				/* Accept the frame's value only when the lock agrees. */
				if (ks_frame_param(k, &s->frames[f], lock_frames[m].param, &lock) &&
				    on_wait_list(k, lock, lock_frames[m].type, t->address)) {
					ta->waits_on = lock_index(a, lock, lock_frames[m].type, &cap);
					if (ta->waits_on < 0)
						return &ks_error_nomem;
					a->locks[ta->waits_on].nwaiters++;
					ta->wait_type = lock_frames[m].type;
				}
				break;
			}
		}
	}
	for (size_t l = 0; l < a->nlocks; l++)
		find_owner(a, &a->locks[l]);
	/* The wait-for graph: a task points at the owner of the lock it waits on. */
	long *next = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(long));
	bool *cyc = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(bool));

	if (!next || !cyc) {
		free(next);
		free(cyc);
		return &ks_error_nomem;
	}
	for (size_t i = 0; i < a->tasks.count; i++) {
		long w = a->ta[i].waits_on;

		next[i] = w >= 0 && !a->locks[w].owner_is_hint ? a->locks[w].owner : -1;
	}
	ks_find_cycles(next, a->tasks.count, cyc);
	for (size_t i = 0; i < a->tasks.count; i++)
		a->ta[i].in_cycle = cyc[i];
	free(next);
	free(cyc);
	return NULL;
}
