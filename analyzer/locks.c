/* The lock pass: the lock each blocked task waits on, its owner, and the wait-for graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "hashmap.h"

static struct ks_error *wait_for_graph(struct ks_analysis *a);

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

struct waiter_fields {
	enum ks_field list, wtask, wlist;
};

static struct waiter_fields fields_of(enum ks_lock_type type)
{
	switch (type) {
	case KS_LOCK_MUTEX:
		return (struct waiter_fields){ KS_F_MUTEX_WAIT_LIST, KS_F_MUTEX_WAITER_TASK,
					       KS_F_MUTEX_WAITER_LIST };
	case KS_LOCK_SEMAPHORE:
		return (struct waiter_fields){ KS_F_SEM_WAIT_LIST, KS_F_SEM_WAITER_TASK,
					       KS_F_SEM_WAITER_LIST };
	default:
		return (struct waiter_fields){ KS_F_RWSEM_WAIT_LIST, KS_F_RWSEM_WAITER_TASK,
					       KS_F_RWSEM_WAITER_LIST };
	}
}

/*
 * Wait lists read so far. Each list is walked once: a lock with 2000 waiters
 * would otherwise be walked 2000 times. A task waits on one lock at a time, so
 * task -> lock is all that is kept.
 */
struct wait_cache {
	struct ks_u64map lists; /* lock address -> (void *)1 once read */
	struct ks_u64map waiter_of; /* task address -> lock address + 1 */
	/* kernel stacks by base address -> (void *)1, for the stack scan */
	struct ks_u64map stacks;
	bool stacks_loaded;
};

struct ks_locks_ctx {
	struct wait_cache cache;
	size_t cap; /* of a->locks */
	bool params;
};

static bool read_wait_list(struct ks_kernel *k, struct wait_cache *c, uint64_t lock,
			   enum ks_lock_type type)
{
	struct waiter_fields wf = fields_of(type);
	uint64_t head, pos, who;

	if (ks_u64map_get(&c->lists, lock))
		return true;
	if (!ks_kernel_has(k, wf.list) || !ks_kernel_has(k, wf.wtask) || !ks_kernel_has(k, wf.wlist) ||
	    !ks_u64map_put(&c->lists, lock, (void *)1))
		return false;
	head = lock + ks_kernel_off(k, wf.list);
	if (!ks_try_read_u64(k, head, &pos))
		return false;
	for (size_t n = 0; pos != head && n < MAX_WAITERS; n++) {
		uint64_t waiter = pos - ks_kernel_off(k, wf.wlist);

		if (!ks_try_read_u64(k, waiter + ks_kernel_off(k, wf.wtask), &who))
			return false;
		/* the first list wins: a task on two lists is corrupt data, not two waits */
		if (!ks_u64map_get(&c->waiter_of, who) &&
		    !ks_u64map_put(&c->waiter_of, who, (void *)(uintptr_t)(lock + 1)))
			return false;
		if (!ks_try_read_u64(k, pos, &pos))
			return false;
	}
	return true;
}

/* Does the lock's wait list hold a waiter for this task? */
static bool on_wait_list(struct ks_kernel *k, struct wait_cache *c, uint64_t lock,
			 enum ks_lock_type type, uint64_t task)
{
	return read_wait_list(k, c, lock, type) &&
	       (uintptr_t)ks_u64map_get(&c->waiter_of, task) == lock + 1;
}

static void load_stacks(struct ks_analysis *a, struct wait_cache *c)
{
	uint64_t base;

	c->stacks_loaded = true;
	for (size_t i = 0; i < a->tasks.count; i++)
		if ((base = a->tasks.tasks[i].stack) && !ks_u64map_put(&c->stacks, base, (void *)1))
			return;
}

/* The address of the mmap_lock of a task's process; false for kernel threads. */
static bool mmap_lock_of(struct ks_kernel *k, const struct ks_task *t, uint64_t *ret)
{
	if (!ks_kernel_has(k, KS_F_MM_MMAP_LOCK) || !t->mm)
		return false;
	*ret = t->mm + ks_kernel_off(k, KS_F_MM_MMAP_LOCK);
	return true;
}

/*
 * The lock from the waiter record on the task's own stack, for frames whose
 * lock parameter DWARF cannot recover (optimized out in many distro builds).
 * The record names the task; its list runs through the other waiters, all on
 * stacks of their own, and through one node that is on no stack: the lock's
 * wait_list head. The answer stands only if that lock's list holds the task.
 */
static bool scan_stack(struct ks_analysis *a, struct wait_cache *c, size_t i, size_t f,
		       enum ks_lock_type type, uint64_t *ret)
{
	struct ks_kernel *k = a->kernel;
	struct waiter_fields wf = fields_of(type);
	uint64_t task = a->tasks.tasks[i].address, size = ks_kernel_thread_size(k), base;
	uint64_t otask = ks_kernel_off(k, wf.wtask), olist = ks_kernel_off(k, wf.wlist);
	uint64_t *words;
	bool found = false;

	uintptr_t known = (uintptr_t)ks_u64map_get(&c->waiter_of, task);
	uint64_t mmap_lock;

	/* Already seen on a wait list read whole for an earlier waiter: no scan. */
	if (known) {
		*ret = known - 1;
		return true;
	}
	/* An rwsem wait is most often on the task's own mmap_lock: try that list first. */
	if ((type == KS_LOCK_RWSEM_READ || type == KS_LOCK_RWSEM_WRITE) &&
	    mmap_lock_of(k, &a->tasks.tasks[i], &mmap_lock) && on_wait_list(k, c, mmap_lock, type, task)) {
		*ret = mmap_lock;
		return true;
	}
	if (!size || size > (1 << 20) || !ks_kernel_has(k, wf.wtask) || !ks_kernel_has(k, wf.wlist) ||
	    !(base = a->tasks.tasks[i].stack) || (otask | olist) % 8 ||
	    !(words = malloc(size)))
		return false;
	if (!c->stacks_loaded)
		load_stacks(a, c);
	/*
	 * The waiter is a local of the lock function: between its frame's stack
	 * pointer and its CFA. Read only that (plus slack for frames that share
	 * one CFA through inlining); the whole stack is the fallback.
	 */
	const struct ks_frame *fr = &a->stacks[i].frames[f];
	uint64_t lo = 0, hi = size;

	if ((fr->regs_valid & (1u << KS_RSP)) && fr->cfa > fr->regs[KS_RSP] && fr->regs[KS_RSP] >= base &&
	    fr->cfa <= base + size) {
		lo = (fr->regs[KS_RSP] - base) & ~7ull;
		hi = fr->cfa + 512 - base < size ? fr->cfa + 512 - base : size;
	}
	if (!ks_try_read(k, base + lo, (unsigned char *)words + lo, hi - lo)) {
		free(words);
		return false;
	}
	for (uint64_t o = lo; !found && o + otask + 8 <= hi && o + olist + 8 <= hi; o += 8) {
		uint64_t node, pos;

		if (words[(o + otask) / 8] != task)
			continue;
		node = base + o + olist;
		pos = words[(o + olist) / 8];
		for (size_t n = 0; pos != node && n < MAX_WAITERS; n++) {
			if (!ks_u64map_get(&c->stacks, pos & ~(size - 1))) {
				uint64_t lock = pos - ks_kernel_off(k, wf.list);

				if (on_wait_list(k, c, lock, type, task)) {
					*ret = lock;
					found = true;
				}
				break;
			}
			if (!ks_try_read_u64(k, pos, &pos))
				break;
		}
	}
	free(words);
	return found;
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
	/* Only inside a sized symbol: a heap address is not __per_cpu_end+0xffff888... */
	if (ks_kernel_symbolize(a->kernel, addr, &sym) &&
	    (addr == sym.address || (sym.size && addr < sym.address + sym.size))) {
		if (addr == sym.address)
			snprintf(l->name, sizeof(l->name), "%s", sym.name);
		else
			snprintf(l->name, sizeof(l->name), "%s+0x%llx", sym.name,
				 (unsigned long long)(addr - sym.address));
		snprintf(l->what, sizeof(l->what), "%s", sym.name);
	}
	return (long)a->nlocks++;
}

/*
 * A heap lock has no symbol; say whose it is where the waiter tells. The
 * commonest by far: the mmap_lock of the waiter's own process.
 */
static void name_heap_lock(struct ks_analysis *a, struct ks_lock *l, size_t waiter)
{
	struct ks_kernel *k = a->kernel;
	const struct ks_task *t = &a->tasks.tasks[waiter];
	uint64_t mmap_lock;

	if (l->name[0] || (l->type != KS_LOCK_RWSEM_READ && l->type != KS_LOCK_RWSEM_WRITE) ||
	    !mmap_lock_of(k, t, &mmap_lock) || l->address != mmap_lock)
		return;
	snprintf(l->name, sizeof(l->name), "mmap_lock of %s (tgid %d)", t->comm, t->tgid);
	snprintf(l->what, sizeof(l->what), "mm_struct.mmap_lock");
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

struct ks_locks_ctx *ks_locks_begin(void)
{
	struct ks_locks_ctx *c = calloc(1, sizeof(*c));

	if (c) {
		c->cap = 0;
		/* The tests' way to prove the stack scan on real dumps whose DWARF has every parameter. */
		c->params = !getenv("KSTALL_TEST_LOCKS_FROM_STACK");
	}
	return c;
}

void ks_locks_free(struct ks_locks_ctx *c)
{
	if (!c)
		return;
	ks_u64map_free(&c->cache.lists);
	ks_u64map_free(&c->cache.waiter_of);
	ks_u64map_free(&c->cache.stacks);
	free(c);
}

/* The lock task i waits on, right after its unwind, while its stack pages are still cached. */
struct ks_error *ks_locks_task(struct ks_analysis *a, struct ks_locks_ctx *c, size_t i)
{
	struct ks_kernel *k = a->kernel;
	const struct ks_task *t = &a->tasks.tasks[i];
	const struct ks_stack *s = &a->stacks[i];
	struct ks_task_analysis *ta = &a->ta[i];

	ta->waits_on = -1;
	if (t->active)
		return NULL;
	for (size_t f = ta->first_frame; f < s->count && ta->waits_on < 0; f++) {
		for (size_t m = 0; m < sizeof(lock_frames) / sizeof(lock_frames[0]); m++) {
			uint64_t lock;

			if (strcmp(s->frames[f].function, lock_frames[m].function))
				continue;
			/* Accept the frame's value only when the lock agrees. */
			if ((c->params &&
			     ks_frame_param(k, &s->frames[f], lock_frames[m].param, &lock) &&
			     on_wait_list(k, &c->cache, lock, lock_frames[m].type, t->address)) ||
			    scan_stack(a, &c->cache, i, f, lock_frames[m].type, &lock)) {
				ta->waits_on = lock_index(a, lock, lock_frames[m].type, &c->cap);
				if (ta->waits_on < 0)
					return &ks_error_nomem;
				a->locks[ta->waits_on].nwaiters++;
				ta->wait_type = lock_frames[m].type;
				name_heap_lock(a, &a->locks[ta->waits_on], i);
			}
			break;
		}
	}
	return NULL;
}

/* Once every task is in: owners and the wait-for graph. */
struct ks_error *ks_locks_finish(struct ks_analysis *a)
{
	for (size_t l = 0; l < a->nlocks; l++)
		find_owner(a, &a->locks[l]);
	return wait_for_graph(a);
}

/* A task points at the owner of the lock it waits on; cycles are deadlocks. */
static struct ks_error *wait_for_graph(struct ks_analysis *a)
{
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
