/* The lock pass: the lock each blocked task waits on, its owner, and the wait-for graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes/files.h"
#include "base/hashmap.h"

static struct ks_error *wait_for_graph(struct ks_analysis *a);

/* Far above any real wait list; a longer one is a loop. */
#define MAX_WAITERS 65536

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
	/* percpu_rw_semaphore (5.x+): read or write is told by the callers (see percpu_how) */
	{ "percpu_rwsem_wait", "sem", KS_LOCK_PERCPU_WRITE },
	{ "__percpu_down_read", "sem", KS_LOCK_PERCPU_READ },
	{ "percpu_down_write", "sem", KS_LOCK_PERCPU_WRITE },
	/* page and folio locks: the waiter is found on the hashed wait table, not by the parameter */
	{ "folio_wait_bit_common", "folio", KS_LOCK_FOLIO },
	{ "__folio_lock", "folio", KS_LOCK_FOLIO },
	{ "__folio_lock_killable", "folio", KS_LOCK_FOLIO },
	{ "__folio_lock_or_retry", "folio", KS_LOCK_FOLIO },
	{ "folio_put_wait_locked", "folio", KS_LOCK_FOLIO },
	{ "wait_on_page_bit_common", "page", KS_LOCK_FOLIO },
	{ "__lock_page", "__page", KS_LOCK_FOLIO },
	{ "__lock_page_killable", "__page", KS_LOCK_FOLIO },
	{ "__lock_page_or_retry", "page", KS_LOCK_FOLIO },
};

static bool is_rwsem(enum ks_lock_type t)
{
	return t == KS_LOCK_RWSEM_READ || t == KS_LOCK_RWSEM_WRITE;
}

static bool is_percpu(enum ks_lock_type t)
{
	return t == KS_LOCK_PERCPU_READ || t == KS_LOCK_PERCPU_WRITE || t == KS_LOCK_PERCPU_DRAIN;
}

bool ks_blocker_decode(uint64_t word, uint64_t *lock, enum ks_lock_type *type)
{
	/*
	 * include/linux/hung_task.h, BLOCKER_TYPE_*: #defines, so not in DWARF.
	 * 6.17+: 0 mutex, 1 semaphore, 2 rwsem reader, 3 rwsem writer. 6.16 named
	 * 2 and 3 RTMUTEX and RWSEM but set neither: only mutexes and semaphores
	 * recorded a blocker there, so this table reads both.
	 */
	static const enum ks_lock_type kinds[4] = { KS_LOCK_MUTEX, KS_LOCK_SEMAPHORE, KS_LOCK_RWSEM_READ,
						    KS_LOCK_RWSEM_WRITE };
	const uint64_t mask = 3;

	if (!(word & ~mask))
		return false;
	*lock = word & ~mask;
	*type = kinds[word & mask];
	return true;
}

/*
 * Where a lock keeps its waiters: a list head in the lock (list), or, in 7.x,
 * a pointer to the first of a ring of waiters (first); wtask and wlist are the
 * waiter record's task and list node.
 */
struct waiter_fields {
	enum ks_field list, wtask, wlist, first;
};

static struct waiter_fields fields_of(enum ks_lock_type type)
{
	switch (type) {
	case KS_LOCK_MUTEX:
		return (struct waiter_fields){ KS_F_MUTEX_WAIT_LIST, KS_F_MUTEX_WAITER_TASK,
					       KS_F_MUTEX_WAITER_LIST, KS_F_MUTEX_FIRST_WAITER };
	case KS_LOCK_SEMAPHORE:
		return (struct waiter_fields){ KS_F_SEM_WAIT_LIST, KS_F_SEM_WAITER_TASK,
					       KS_F_SEM_WAITER_LIST, KS_F_SEM_FIRST_WAITER };
	case KS_LOCK_PERCPU_READ:
	case KS_LOCK_PERCPU_WRITE:
	case KS_LOCK_PERCPU_DRAIN:
		/* its waiters are wait_queue_entries on sem->waiters, private = the task */
		return (struct waiter_fields){ KS_F_PCPU_RWSEM_WAITERS, KS_F_WQ_ENTRY_PRIVATE,
					       KS_F_WQ_ENTRY_ENTRY, KS_F__COUNT };
	default:
		return (struct waiter_fields){ KS_F_RWSEM_WAIT_LIST, KS_F_RWSEM_WAITER_TASK,
					       KS_F_RWSEM_WAITER_LIST, KS_F_RWSEM_FIRST_WAITER };
	}
}

/*
 * Wait lists, read as far as needed so far. Each list is walked at most once,
 * and only up to the waiter asked about: a lock with 2000 waiters would
 * otherwise be walked 2000 times, and walked whole for its first waiter it
 * reads every other waiter's stack page long before that waiter's turn (on
 * a dump of 10k tasks, 7 700 pages read twice). The analysis takes a
 * process's threads one after another, so the waiters a walk goes through
 * are most often the next tasks taken, their pages still cached. A task
 * waits on one lock at a time, so task -> lock is all that is kept.
 */
struct list_walk {
	uint64_t lock, head, pos;
	size_t n;
	enum ks_lock_type type;
	bool done;
	/* a 7.x ring: head is the first waiter's node, itself a waiter still to read */
	bool head_pending;
	/* why the walk stopped short (0: it did not), and where */
	enum ks_error_code code;
	uint64_t at;
	/*
	 * asked about by the kernel's own word for the task (a lock parameter, the
	 * blocker, its mmap_lock), and the first task that asked so: only then is
	 * a failed read a problem. A stack scan tries words that may be no lock,
	 * whose reads are expected to fail.
	 */
	bool vouched;
	uint64_t task;
};

/* Does this kernel keep the waiters of this kind of lock in a ring (7.x)? */
static bool ring_of(struct ks_kernel *k, struct waiter_fields wf)
{
	return !ks_kernel_has(k, wf.list) && wf.first != KS_F__COUNT && ks_kernel_has(k, wf.first);
}

struct wait_cache {
	struct ks_u64map lists; /* lock address -> index + 1 in walks */
	struct list_walk *walks;
	size_t nwalks, cap;
	struct ks_u64map waiter_of; /* task address -> lock address + 1 */
	/* kernel stacks by base address -> (void *)1, for the stack scan */
	struct ks_u64map stacks;
	bool stacks_loaded;
};

/*
 * Failed reads of one kind, counted over the pass: the first named, the rest
 * summed in one problem at the end (a damaged dump fails them by the thousand).
 */
struct fails {
	size_t n;
	enum ks_error_code code;
	uint64_t task, at;
};

/* Count a read's failure (code 0: none); true when it did not fail. */
static bool failed_read(struct fails *f, enum ks_error_code code, uint64_t task, uint64_t at)
{
	if (!code)
		return true;
	if (!f->n++) {
		f->code = code;
		f->task = task;
		f->at = at;
	}
	return false;
}

struct ks_locks_ctx {
	struct wait_cache cache;
	/* the lock words of the locks found (owners, readers), the waiting tasks' stack words, the
	 * folio wait table's entries, the rt_mutex waiter records (pi_blocked_on) */
	struct fails owners, stack_words, folio_table, pi_waiters;
	size_t cap; /* of a->locks */
	bool params;
	/* task -> folio + 1, for tasks waiting for PG_locked on the folio wait table */
	struct ks_u64map folio_waiter;
	bool folio_table_loaded;
};

/* The walk of this lock's list, begun; NULL when the kernel lacks its fields or memory is short. */
static struct list_walk *walk_of(struct ks_kernel *k, struct wait_cache *c, uint64_t lock,
				 enum ks_lock_type type)
{
	struct waiter_fields wf = fields_of(type);
	long idx = ks_u64map_get_index(&c->lists, lock);
	struct list_walk *w;

	if (idx >= 0)
		return &c->walks[idx];
	bool ring = ring_of(k, wf);

	if ((!ring && !ks_kernel_has(k, wf.list)) || !ks_kernel_has(k, wf.wtask) || !ks_kernel_has(k, wf.wlist))
		return NULL;
	if (c->nwalks == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct list_walk *n = realloc(c->walks, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->walks = n;
		c->cap = cap;
	}
	if (!ks_u64map_put_index(&c->lists, lock, c->nwalks))
		return NULL;
	w = &c->walks[c->nwalks++];
	memset(w, 0, sizeof(*w));
	w->lock = lock;
	w->type = type;
	if (ring) {
		uint64_t first;

		w->code = ks_read_field_code(k, lock, wf.first, &first);
		w->at = lock + ks_kernel_off(k, wf.first);
		w->done = w->code || !first;
		w->head = w->pos = first + ks_kernel_off(k, wf.wlist);
		w->head_pending = !w->done;
		return w;
	}
	w->head = w->at = lock + ks_kernel_off(k, wf.list);
	w->code = ks_read_code(k, w->head, &w->pos, sizeof(w->pos));
	w->done = w->code != 0;
	return w;
}

/* Was task met on this lock's wait list? */
static bool waits_in(const struct wait_cache *c, uint64_t task, uint64_t lock)
{
	uint64_t on;

	return ks_u64map_get_u64(&c->waiter_of, task, &on) && on == lock;
}

/*
 * Does the lock's wait list hold a waiter for this task? The walk goes on
 * until it does. vouched: the kernel's own word for the task names the lock
 * (a read of its list that fails is then a problem, at the pass's end).
 */
static bool on_wait_list(struct ks_kernel *k, struct wait_cache *c, uint64_t lock,
			 enum ks_lock_type type, uint64_t task, bool vouched)
{
	struct list_walk *w = walk_of(k, c, lock, type);
	struct waiter_fields wf;
	uint64_t seen;

	if (!w)
		return false;
	if (vouched && !w->vouched) {
		w->vouched = true;
		w->task = task;
	}
	/* the list is read with the layout of the waiter type it was first asked with */
	wf = fields_of(w->type);
	while (!waits_in(c, task, lock) && !w->done) {
		uint64_t waiter = w->pos - ks_kernel_off(k, wf.wlist), who;

		if ((w->pos == w->head && !w->head_pending) || w->n++ >= MAX_WAITERS) {
			w->done = true;
			break;
		}
		w->at = waiter + ks_kernel_off(k, wf.wtask);
		if ((w->code = ks_read_code(k, w->at, &who, sizeof(who)))) {
			w->done = true;
			break;
		}
		w->head_pending = false;
		/* the first list wins: a task on two lists is corrupt data, not two waits */
		if (!ks_u64map_get_u64(&c->waiter_of, who, &seen) &&
		    !ks_u64map_put_u64(&c->waiter_of, who, lock))
			return false;
		w->at = w->pos;
		if ((w->code = ks_read_code(k, w->pos, &w->pos, sizeof(w->pos))))
			w->done = true;
		if (who == task)
			break;
	}
	return waits_in(c, task, lock);
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
 * A lock function's locals lie between its frame's stack pointer and its CFA:
 * read only that (plus slack for frames that share one CFA through inlining);
 * the whole stack is the fallback. Offsets into the stack, 8-byte aligned.
 */
static void frame_window(const struct ks_frame *fr, uint64_t base, uint64_t size, uint64_t *lo,
			 uint64_t *hi)
{
	*lo = 0;
	*hi = size;
	if ((fr->regs_valid & (1u << KS_RSP)) && fr->cfa > fr->regs[KS_RSP] && fr->regs[KS_RSP] >= base &&
	    fr->cfa <= base + size) {
		*lo = (fr->regs[KS_RSP] - base) & ~7ull;
		*hi = fr->cfa + 512 - base < size ? fr->cfa + 512 - base : size;
	}
}

/* Lower *lo (an offset into the stack at base) to the stack pointer of the innermost frame below f. */
static void innermost_sp(const struct ks_stack *s, size_t f, uint64_t base, uint64_t *lo)
{
	for (size_t g = 0; g < f; g++) {
		const struct ks_frame *fr = &s->frames[g];

		if ((fr->regs_valid & (1u << KS_RSP)) && fr->regs[KS_RSP] >= base &&
		    fr->regs[KS_RSP] - base < *lo) {
			*lo = (fr->regs[KS_RSP] - base) & ~7ull;
			break;
		}
	}
}

/*
 * 7.x keeps no list head in the lock: the waiters' ring is all on stacks, and
 * the lock only points at its first waiter. So a word of the waiting frame
 * that is a lock is one whose first_waiter is on the ring of the task's own
 * record; the answer stands only if that lock's ring holds the task.
 */
#define RING_MAX 4096
static bool scan_ring(struct ks_kernel *k, struct wait_cache *c, const uint64_t *words, uint64_t lo,
		      uint64_t hi, uint64_t waiter, uint64_t task, enum ks_lock_type type, uint64_t *ret)
{
	uint64_t size = ks_kernel_thread_size(k);
	struct waiter_fields wf = fields_of(type);
	uint64_t olist = ks_kernel_off(k, wf.wlist), ofirst = ks_kernel_off(k, wf.first);
	uint64_t node = waiter + olist, pos = node;
	uint64_t *ring = malloc(RING_MAX * sizeof(*ring));
	size_t n = 0;
	bool found = false;

	if (!ring)
		return false;
	/*
	 * every waiter on the ring, the task's own first; the record is a stack
	 * word that names the task, maybe a stale one, so a read that fails here
	 * is expected and no problem (a lock that is found is read again, vouched)
	 */
	do {
		ring[n++] = pos - olist;
	} while (n < RING_MAX && ks_try_read_u64(k, pos, &pos) && pos != node);
	for (uint64_t o = lo; !found && o + 8 <= hi; o += 8) {
		uint64_t cand = words[o / 8], first;

		/* a kernel address, word-aligned, on no task's stack (where the ring itself lies); any
		 * stack word is tried, so its read may fail by design */
		if (cand >> 47 != 0x1ffff || cand % 8 || ks_u64map_get(&c->stacks, cand & ~(size - 1)) ||
		    !ks_try_read_u64(k, cand + ofirst, &first))
			continue;
		for (size_t r = 0; r < n && !found; r++)
			if (ring[r] == first && on_wait_list(k, c, cand, type, task, false))
				found = true;
		if (found)
			*ret = cand;
	}
	free(ring);
	return found;
}

/*
 * The lock from the waiter record on the task's own stack, for frames whose
 * lock parameter DWARF cannot recover (optimized out in many distro builds).
 * The record names the task; its list runs through the other waiters, all on
 * stacks of their own, and through one node that is on no stack: the lock's
 * wait_list head. The answer stands only if that lock's list holds the task.
 */
static bool scan_stack(struct ks_analysis *a, struct wait_cache *c, struct fails *stack_words, size_t i,
		       size_t f, enum ks_lock_type type, uint64_t *ret)
{
	struct ks_kernel *k = a->kernel;
	struct waiter_fields wf = fields_of(type);
	uint64_t task = a->tasks.tasks[i].address, size = ks_kernel_thread_size(k), base;
	uint64_t otask = ks_kernel_off(k, wf.wtask), olist = ks_kernel_off(k, wf.wlist);
	uint64_t *words;
	bool found = false;

	uint64_t mmap_lock, known;

	/* Already seen on a wait list read whole for an earlier waiter: no scan. */
	if (ks_u64map_get_u64(&c->waiter_of, task, &known)) {
		*ret = known;
		return true;
	}
	/* An rwsem wait is most often on the task's own mmap_lock: try that list first. */
	if ((type == KS_LOCK_RWSEM_READ || type == KS_LOCK_RWSEM_WRITE) &&
	    mmap_lock_of(k, &a->tasks.tasks[i], &mmap_lock) && on_wait_list(k, c, mmap_lock, type, task, true)) {
		*ret = mmap_lock;
		return true;
	}
	if (!size || size > (1 << 20) || !ks_kernel_has(k, wf.wtask) || !ks_kernel_has(k, wf.wlist) ||
	    !(base = a->tasks.tasks[i].stack) || (otask | olist) % 8 ||
	    !(words = malloc(size)))
		return false;
	if (!c->stacks_loaded)
		load_stacks(a, c);
	uint64_t lo, hi;

	frame_window(&a->stacks[i].frames[f], base, size, &lo, &hi);
	/*
	 * On a ring the lock is found by a pointer to it, which may live in a
	 * callee-saved register that the functions it called (schedule) pushed:
	 * start from the innermost frame's stack pointer.
	 */
	if (ring_of(k, wf))
		innermost_sp(&a->stacks[i], f, base, &lo);
	if (!failed_read(stack_words, ks_read_code(k, base + lo, (unsigned char *)words + lo, hi - lo), task,
			 base + lo)) {
		free(words);
		return false;
	}
	for (uint64_t o = lo; !found && o + otask + 8 <= hi && o + olist + 8 <= hi; o += 8) {
		uint64_t node, pos;

		if (words[(o + otask) / 8] != task)
			continue;
		if (ring_of(k, wf)) {
			found = scan_ring(k, c, words, lo, hi, base + o, task, type, ret);
			continue;
		}
		node = base + o + olist;
		pos = words[(o + olist) / 8];
		for (size_t n = 0; pos != node && n < MAX_WAITERS; n++) {
			if (!ks_u64map_get(&c->stacks, pos & ~(size - 1))) {
				uint64_t lock = pos - ks_kernel_off(k, wf.list);

				if (on_wait_list(k, c, lock, type, task, false)) {
					*ret = lock;
					found = true;
				}
				break;
			}
			/* a stale record's list may lead anywhere: a failed read ends the try */
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
	l->readers = -1;
	/* Only inside a sized symbol: a heap address is not __per_cpu_end+0xffff888... */
	if (type != KS_LOCK_FOLIO && ks_kernel_symbolize(a->kernel, addr, &sym) &&
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
 * commonest by far: the mmap_lock of the waiter's own process. Then an
 * inode's i_rwsem, and the file and page of a folio lock.
 */
static void name_heap_lock(struct ks_analysis *a, struct ks_lock *l, size_t waiter)
{
	struct ks_kernel *k = a->kernel;
	const struct ks_task *t = &a->tasks.tasks[waiter];
	uint64_t mmap_lock, inode;
	char label[sizeof(l->file.path) + 32];

	if (l->name[0])
		return;
	if (l->type == KS_LOCK_FOLIO) {
		if (ks_file_of_folio(k, l->address, &l->file)) {
			ks_file_label(&l->file, label, sizeof(label));
			if (l->file.index_known)
				snprintf(l->name, sizeof(l->name), "page %llu of %s",
					 (unsigned long long)l->file.index, label);
			else
				snprintf(l->name, sizeof(l->name), "a page of %s", label);
		}
		snprintf(l->what, sizeof(l->what), "folio:PG_locked");
		return;
	}
	if (!is_rwsem(l->type))
		return;
	if (mmap_lock_of(k, t, &mmap_lock) && l->address == mmap_lock) {
		snprintf(l->name, sizeof(l->name), "mmap_lock of %s (tgid %d)", t->comm, t->tgid);
		snprintf(l->what, sizeof(l->what), "mm_struct.mmap_lock");
	} else if (ks_inode_of_rwsem(k, l->address, &inode) && ks_file_of_inode(k, inode, &l->file)) {
		ks_file_label(&l->file, label, sizeof(label));
		snprintf(l->name, sizeof(l->name), "i_rwsem of %s", label);
		snprintf(l->what, sizeof(l->what), "inode.i_rwsem");
	}
}

/*
 * Readers inside a percpu_rw_semaphore: the per-CPU counts summed, modulo 2^32
 * as the kernel does; a count that cannot be read leaves them unknown (-1).
 */
static bool percpu_readers(struct ks_kernel *k, struct fails *owners, uint64_t sem, long *ret)
{
	uint64_t counts, size = ks_kernel_fsize(k, KS_F_PCPU_RWSEM_READ_COUNT);
	uint32_t sum = 0;

	if (size != 8 || !ks_kernel_has(k, KS_F_PCPU_RWSEM_READ_COUNT) ||
	    !failed_read(owners, ks_read_field_code(k, sem, KS_F_PCPU_RWSEM_READ_COUNT, &counts), 0, sem) ||
	    !counts)
		return false;
	for (unsigned int cpu = 0; cpu < ks_kernel_nr_cpus(k); cpu++) {
		uint64_t at;
		uint32_t v;

		if (!ks_kernel_per_cpu_ptr(k, counts, cpu, &at) ||
		    !failed_read(owners, ks_read_code(k, at, &v, sizeof(v)), 0, at))
			return false;
		sum += v;
	}
	*ret = (long)sum;
	return true;
}

/*
 * PREEMPT_RT's rwsem (kernel/locking/rwbase_rt.c): a writer takes the
 * rt_mutex first, then takes READER_BIAS out of 'readers' and waits for the
 * readers inside to leave; once they have, 'readers' is WRITER_BIAS. Readers
 * are counted, never named. So the rt_mutex's owner is the writer, and it
 * holds the rwsem only when 'readers' is WRITER_BIAS; before that it is a
 * writer waiting for readers kstall cannot name, and is shown as a hint.
 * READER_BIAS (1 << 31) and WRITER_BIAS (1 << 30) are #defines, not in DWARF.
 */
static void rt_rwsem_owner(struct ks_analysis *a, struct fails *owners, struct ks_lock *l)
{
	struct ks_kernel *k = a->kernel;
	const uint64_t writer_bias = 1u << 30;
	uint64_t word, readers, mutex = l->address + ks_kernel_off(k, KS_F_RWSEM_RWBASE_RTMUTEX);

	if (failed_read(owners, ks_read_field_code(k, mutex, KS_F_RTMUTEX_OWNER, &word), 0, mutex) &&
	    (l->owner = ks_model_task_index(a, ks_lock_owner_task(word))) >= 0) {
		/* readers unread: the writer may still wait for them, a hint */
		l->owner_is_hint = !failed_read(owners, ks_read_field_code(k, l->address, KS_F_RWSEM_RWBASE_READERS,
									   &readers),
						0, l->address) ||
				   (uint32_t)readers != writer_bias;
		l->hint_words = "a writer that may wait for readers";
	}
}

/*
 * The owner as the lock records it. A lock word that cannot be read leaves the
 * owner at -1 and is counted (the pass's problem says the owners are unknown).
 */
static void find_owner(struct ks_analysis *a, struct fails *owners, struct ks_lock *l)
{
	struct ks_kernel *k = a->kernel;
	uint64_t word;
	enum ks_error_code code;

	switch (l->type) {
	case KS_LOCK_SEMAPHORE:
		/*
		 * 6.16+ with hung-task blocker tracking: the last task to take it, cleared
		 * when that task gives it back. A semaphore may have several holders, so
		 * it is a hint, as a reader-owned rwsem's last reader is.
		 */
		if (ks_kernel_has(k, KS_F_SEM_LAST_HOLDER) &&
		    failed_read(owners, ks_read_field_code(k, l->address, KS_F_SEM_LAST_HOLDER, &word), 0, l->address) &&
		    word &&
		    (l->owner = ks_model_task_index(a, word)) >= 0) {
			l->owner_is_hint = true;
			l->hint_words = "last holder";
		}
		return;
	case KS_LOCK_FOLIO:
		return; /* records no owner */
	case KS_LOCK_PERCPU_READ:
	case KS_LOCK_PERCPU_WRITE:
	case KS_LOCK_PERCPU_DRAIN:
		/*
		 * Only a writer waiting for the readers to leave is recorded (the
		 * rcuwait's task); one that got in is not, nor is any reader.
		 */
		if (failed_read(owners, ks_read_field_code(k, l->address, KS_F_PCPU_RWSEM_WRITER, &word), 0,
				l->address) &&
		    word)
			l->owner = ks_model_task_index(a, word);
		l->write_held = l->owner >= 0 ||
				(failed_read(owners, ks_read_field_code(k, l->address, KS_F_PCPU_RWSEM_BLOCK, &word), 0,
					     l->address) &&
				 word);
		percpu_readers(k, owners, l->address, &l->readers);
		return;
	case KS_LOCK_MUTEX:
		code = ks_mutex_owner_word(k, l->address, &word);
		/* LOOKUP: a layout kstall lacks, a support gap the kernel open names */
		if (!code)
			l->owner = ks_model_task_index(a, ks_lock_owner_task(word));
		else if (code != KS_ERR_LOOKUP)
			failed_read(owners, code, 0, l->address);
		return;
	case KS_LOCK_RWSEM_READ:
	case KS_LOCK_RWSEM_WRITE:
		if (!ks_kernel_has(k, KS_F_RWSEM_OWNER) && ks_kernel_has(k, KS_F_RWSEM_RWBASE_RTMUTEX)) {
			rt_rwsem_owner(a, owners, l);
			return;
		}
		if (!ks_kernel_has(k, KS_F_RWSEM_OWNER) ||
		    !failed_read(owners, ks_read_field_code(k, l->address, KS_F_RWSEM_OWNER, &word), 0, l->address))
			return;
		if (word & 1) {
			l->owner_is_hint = true; /* reader-owned: the last reader, maybe gone */
			l->hint_words = "last reader";
		}
		l->owner = ks_model_task_index(a, ks_lock_owner_task(word));
		return;
	}
}

/*
 * Every waiter for PG_locked on the hashed folio wait table (page_wait_table
 * before 5.16), task -> folio. One pass over its few hundred heads; the table,
 * its length, the entry layout and PG_locked all come from DWARF.
 */
static void load_folio_waiters(struct ks_analysis *a, struct ks_locks_ctx *c)
{
	static const enum ks_field need[] = { KS_F_WQ_HEAD_HEAD, KS_F_WQ_ENTRY_PRIVATE, KS_F_WQ_ENTRY_ENTRY,
					      KS_F_WPQ_FOLIO,	 KS_F_WPQ_BIT_NR,	KS_F_WPQ_WAIT };
	struct ks_kernel *k = a->kernel;
	uint64_t table = 0, n = 0, esize = ks_kernel_type_size(k, KS_SIZE_WAIT_QUEUE_HEAD);
	int64_t pg_locked;

	c->folio_table_loaded = true;
	if (!ks_kernel_has_all(k, need, sizeof(need) / sizeof(need[0])) ||
	    !ks_kernel_array(k, KS_A_FOLIO_WAIT_TABLE, &table, &n) || !table || !n || n > 65536 || !esize ||
	    !ks_kernel_enumerator(k, KS_E_PG_LOCKED, &pg_locked))
		return;
	/* One budget for the whole table: a looping list in every bucket must not cost 256 loops. */
	size_t budget = MAX_WAITERS;

	for (uint64_t b = 0; b < n && budget; b++) {
		uint64_t head = table + b * esize + ks_kernel_off(k, KS_F_WQ_HEAD_HEAD), pos, seen;

		if (!failed_read(&c->folio_table, ks_read_code(k, head, &pos, sizeof(pos)), 0, head))
			continue;
		for (; pos != head && budget; budget--) {
			uint64_t entry = pos - ks_kernel_off(k, KS_F_WQ_ENTRY_ENTRY);
			uint64_t wpq = entry - ks_kernel_off(k, KS_F_WPQ_WAIT), task, folio, bit;

			if (!failed_read(&c->folio_table, ks_read_field_code(k, entry, KS_F_WQ_ENTRY_PRIVATE, &task), 0,
					 entry) ||
			    !failed_read(&c->folio_table, ks_read_field_code(k, wpq, KS_F_WPQ_FOLIO, &folio), 0, wpq) ||
			    !failed_read(&c->folio_table, ks_read_field_code(k, wpq, KS_F_WPQ_BIT_NR, &bit), 0, wpq))
				break;
			if ((int64_t)(int32_t)bit == pg_locked && task && folio &&
			    !ks_u64map_get_u64(&c->folio_waiter, task, &seen) &&
			    !ks_u64map_put_u64(&c->folio_waiter, task, folio))
				return;
			if (!failed_read(&c->folio_table, ks_read_code(k, pos, &pos, sizeof(pos)), 0, pos))
				break;
		}
	}
}

/*
 * The writer of a percpu_rw_semaphore waiting in rcuwait for its readers to
 * leave. Asked of stack words that may be no semaphore: a failed read is no
 * problem (a semaphore that is found has its words read again, counted).
 */
static bool is_draining_writer(struct ks_kernel *k, uint64_t sem, uint64_t task)
{
	uint64_t w;

	return ks_try_read_field(k, sem, KS_F_PCPU_RWSEM_WRITER, &w) && w == task;
}

/*
 * A draining writer has no waiter record: look among the words of its
 * percpu_down_write frame for a semaphore whose rcuwait names the task.
 */
static bool scan_draining(struct ks_analysis *a, struct fails *stack_words, size_t i, size_t f, uint64_t *ret)
{
	struct ks_kernel *k = a->kernel;
	uint64_t task = a->tasks.tasks[i].address, size = ks_kernel_thread_size(k);
	uint64_t base = a->tasks.tasks[i].stack, lo, hi;
	uint64_t words[256];

	if (!ks_kernel_has(k, KS_F_PCPU_RWSEM_WRITER) || !size || size > (1 << 20) || !base)
		return false;
	frame_window(&a->stacks[i].frames[f], base, size, &lo, &hi);
	/*
	 * The pointer may live in a callee-saved register that the functions it
	 * called (schedule) pushed: start from the innermost frame's stack pointer.
	 */
	innermost_sp(&a->stacks[i], f, base, &lo);
	if (hi - lo > sizeof(words))
		hi = lo + sizeof(words);
	if (!failed_read(stack_words, ks_read_code(k, base + lo, words, hi - lo), task, base + lo))
		return false;
	for (uint64_t o = 0; o < (hi - lo) / 8; o++) {
		/* a kernel address, word-aligned */
		if (words[o] >> 47 != 0x1ffff || words[o] % 8)
			continue;
		if (is_draining_writer(k, words[o], task)) {
			*ret = words[o];
			return true;
		}
	}
	return false;
}

/* A percpu_rwsem_wait frame: a reader if __percpu_down_read called it. */
static enum ks_lock_type percpu_how(const struct ks_stack *s, size_t f, enum ks_lock_type type)
{
	for (size_t g = f; g < s->count && g < f + 4; g++)
		if (!strcmp(s->frames[g].function, "__percpu_down_read"))
			return KS_LOCK_PERCPU_READ;
		else if (!strcmp(s->frames[g].function, "percpu_down_write"))
			return KS_LOCK_PERCPU_WRITE;
	return type;
}

/*
 * The lock task i waits on in frame f, if that frame is one of lock_frames[m]:
 * the parameter, accepted only when the lock agrees (its wait list holds the
 * task, or it names the task as its draining writer); else the stack scan.
 */
static bool wait_in_frame(struct ks_analysis *a, struct ks_locks_ctx *c, size_t i, size_t f, size_t m,
			  uint64_t *lock, enum ks_lock_type *how)
{
	struct ks_kernel *k = a->kernel;
	const struct ks_stack *s = &a->stacks[i];
	uint64_t task = a->tasks.tasks[i].address, v;
	enum ks_lock_type type = lock_frames[m].type;
	bool param = c->params && ks_frame_param(k, &s->frames[f], lock_frames[m].param, &v);

	if (type == KS_LOCK_FOLIO) {
		uint64_t folio;

		if (!c->folio_table_loaded)
			load_folio_waiters(a, c);
		/* the table is the wait list; a parameter that disagrees is stale */
		if (!ks_u64map_get_u64(&c->folio_waiter, task, &folio) || (param && v != folio))
			return false;
		*lock = folio;
		*how = KS_LOCK_FOLIO;
		return true;
	}
	if (is_percpu(type))
		type = percpu_how(s, f, type);
	*how = type;
	if (param && on_wait_list(k, &c->cache, v, type, task, true)) {
		*lock = v;
		return true;
	}
	if (!strcmp(lock_frames[m].function, "percpu_down_write")) {
		*how = KS_LOCK_PERCPU_DRAIN;
		if (param && is_draining_writer(k, v, task)) {
			*lock = v;
			return true;
		}
		if (scan_draining(a, &c->stack_words, i, f, lock))
			return true;
		*how = type;
	}
	return scan_stack(a, &c->cache, &c->stack_words, i, f, type, lock);
}

/* The kernel's own record where it keeps one (task_struct.blocker), checked like a parameter. */
static bool wait_from_blocker(struct ks_analysis *a, struct ks_locks_ctx *c, size_t i, uint64_t *lock,
			      enum ks_lock_type *how)
{
	struct ks_kernel *k = a->kernel;
	uint64_t task = a->tasks.tasks[i].address, word = a->tasks.tasks[i].blocker;

	if (ks_kernel_has(k, KS_F_TASK_BLOCKER)) {
		if (!ks_blocker_decode(word, lock, how))
			return false;
	} else if (ks_kernel_has(k, KS_F_TASK_BLOCKER_MUTEX)) {
		/* 6.15: a plain mutex pointer */
		if (!word)
			return false;
		*lock = word;
		*how = KS_LOCK_MUTEX;
	} else {
		return false;
	}
	return on_wait_list(k, &c->cache, *lock, *how, task, true);
}

/*
 * What an rt_mutex wait is for, from the frames above it: on PREEMPT_RT a
 * mutex and an rwsem (its rwbase) are rt_mutexes, and so are the sleeping
 * spinlocks and rwlocks, which kstall does not follow; a futex PI wait is a
 * user-space lock. False when the wait is none kstall models.
 */
static bool rt_wait_kind(struct ks_kernel *k, const struct ks_stack *s, enum ks_lock_type *how)
{
	static const char *const not_ours[] = { "futex_", "rtlock_", "rt_spin_lock", "rt_read_lock",
						"rt_write_lock" };
	bool read = false, write = false;

	for (size_t f = 0; f < s->count && f < 16; f++) {
		const char *fn = s->frames[f].function;

		for (size_t n = 0; n < sizeof(not_ours) / sizeof(not_ours[0]); n++)
			if (!strncmp(fn, not_ours[n], strlen(not_ours[n])))
				return false;
		if (strstr(fn, "rwbase_read_lock") || strstr(fn, "down_read"))
			read = true;
		else if (strstr(fn, "rwbase_write_lock") || strstr(fn, "down_write"))
			write = true;
	}
	if (read || write) {
		*how = read ? KS_LOCK_RWSEM_READ : KS_LOCK_RWSEM_WRITE;
		return ks_kernel_has(k, KS_F_RWSEM_RWBASE_RTMUTEX);
	}
	*how = KS_LOCK_MUTEX;
	return ks_kernel_has(k, KS_F_MUTEX_RTMUTEX);
}

/*
 * A wait on an rt_mutex, from the waiter the task queued (pi_blocked_on),
 * which names the task and the rt_mutex; the mutex or rwsem is the struct
 * around that rt_mutex. The kernel sets and clears the record under the
 * lock's wait_lock, so, like the blocker word, it is the kernel's own answer.
 */
static bool wait_from_pi(struct ks_analysis *a, struct fails *pi_waiters, size_t i, uint64_t *lock,
			 enum ks_lock_type *how)
{
	struct ks_kernel *k = a->kernel;
	uint64_t task = a->tasks.tasks[i].address, waiter = a->tasks.tasks[i].pi_blocked_on, who, base;

	/* NULL: no rt_mutex wait, by the kernel's own word (pi_blocked_on is set under the wait_lock) */
	if (!waiter || !ks_kernel_has(k, KS_F_RT_WAITER_TASK) || !ks_kernel_has(k, KS_F_RT_WAITER_LOCK) ||
	    !failed_read(pi_waiters, ks_read_field_code(k, waiter, KS_F_RT_WAITER_TASK, &who), task, waiter) ||
	    who != task ||
	    !failed_read(pi_waiters, ks_read_field_code(k, waiter, KS_F_RT_WAITER_LOCK, &base), task, waiter) ||
	    !base || !rt_wait_kind(k, &a->stacks[i], how))
		return false;
	*lock = base - ks_kernel_off(k, *how == KS_LOCK_MUTEX ? KS_F_MUTEX_RTMUTEX : KS_F_RWSEM_RWBASE_RTMUTEX);
	return true;
}

static struct ks_error *locks_begin(struct ks_analysis *a, void **ret)
{
	struct ks_locks_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return &ks_error_nomem;
	/* The tests' way to prove the stack scan on real dumps whose DWARF has every parameter. */
	c->params = !ks_kernel_settings(a->kernel)->locks_from_stack;
	*ret = c;
	return NULL;
}

static void locks_end(void *ctx)
{
	struct ks_locks_ctx *c = ctx;

	if (!c)
		return;
	ks_u64map_free(&c->cache.lists);
	free(c->cache.walks);
	ks_u64map_free(&c->cache.waiter_of);
	ks_u64map_free(&c->cache.stacks);
	ks_u64map_free(&c->folio_waiter);
	free(c);
}

/* The lock task i waits on, right after its unwind, while its stack pages are still cached. */
static struct ks_error *locks_task(struct ks_analysis *a, void *ctx, size_t i)
{
	struct ks_locks_ctx *c = ctx;
	const struct ks_task *t = &a->tasks.tasks[i];
	const struct ks_stack *s = &a->stacks[i];
	struct ks_task_analysis *ta = &a->ta[i];
	uint64_t lock = 0;
	enum ks_lock_type how = KS_LOCK_MUTEX;
	bool found;

	ta->waits_on = -1;
	if (t->active)
		return NULL;
	/* pi_blocked_on is no parameter: an rt_mutex wait has no list a stack scan could check it on */
	found = (c->params && wait_from_blocker(a, c, i, &lock, &how)) || wait_from_pi(a, &c->pi_waiters, i, &lock, &how);
	for (size_t f = ta->first_frame; f < s->count && !found; f++) {
		for (size_t m = 0; m < sizeof(lock_frames) / sizeof(lock_frames[0]); m++) {
			if (strcmp(s->frames[f].function, lock_frames[m].function))
				continue;
			found = wait_in_frame(a, c, i, f, m, &lock, &how);
			break;
		}
	}
	if (!found)
		return NULL;
	ta->waits_on = lock_index(a, lock, how, &c->cap);
	if (ta->waits_on < 0)
		return &ks_error_nomem;
	a->locks[ta->waits_on].nwaiters++;
	ta->wait_type = how;
	return NULL;
}

/*
 * The per-task pass may take tasks in any order (the analysis groups a
 * process's threads); what it leaves must not depend on it. Locks are
 * numbered in the order of their first waiter in the task table, and a heap
 * lock is named by its waiters in that order, the first that can.
 */
static struct ks_error *settle_order(struct ks_analysis *a)
{
	long *renum = malloc((a->nlocks ? a->nlocks : 1) * sizeof(*renum));
	struct ks_lock *sorted = malloc((a->nlocks ? a->nlocks : 1) * sizeof(*sorted));
	size_t n = 0;

	if (!renum || !sorted) {
		free(renum);
		free(sorted);
		return &ks_error_nomem;
	}
	for (size_t l = 0; l < a->nlocks; l++)
		renum[l] = -1;
	for (size_t i = 0; i < a->tasks.count; i++) {
		long w = a->ta[i].waits_on;

		if (w >= 0 && renum[w] < 0) {
			renum[w] = (long)n;
			sorted[n++] = a->locks[w];
		}
	}
	/* every lock has a waiter: the pass makes none without one */
	if (n)
		memcpy(a->locks, sorted, n * sizeof(*sorted));
	a->nlocks = n;
	for (size_t i = 0; i < a->tasks.count; i++)
		if (a->ta[i].waits_on >= 0) {
			a->ta[i].waits_on = renum[a->ta[i].waits_on];
			name_heap_lock(a, &a->locks[a->ta[i].waits_on], i);
		}
	free(renum);
	free(sorted);
	return NULL;
}

/* "mutex stall_mutex_a (0xADDR)", or "mutex at 0xADDR" where no symbol holds it. */
static void lock_words(struct ks_kernel *k, uint64_t addr, enum ks_lock_type type, char *buf, size_t size)
{
	struct ks_symbol sym;

	if (ks_kernel_symbolize(k, addr, &sym) && addr == sym.address)
		snprintf(buf, size, "%s %.100s (0x%llx)", ks_lock_type_name(type), sym.name, (unsigned long long)addr);
	else
		snprintf(buf, size, "%s at 0x%llx", ks_lock_type_name(type), (unsigned long long)addr);
}

/* One problem for the failures counted of one kind: how many, the first's code, task and address. */
static void add_fails(struct ks_analysis *a, const struct fails *f, const char *what, const char *cost)
{
	long t = f->task ? ks_model_task_index(a, f->task) : -1;
	char who[64] = "";

	if (!f->n)
		return;
	if (t >= 0)
		snprintf(who, sizeof(who), ", the first of pid %d (%s)", a->tasks.tasks[t].pid, a->tasks.tasks[t].comm);
	ks_problems_add(&a->problems, f->code, f->task, f->at, "%zu %s could not be read (%s, at 0x%llx%s): %s",
			f->n, what, ks_error_code_name(f->code), (unsigned long long)f->at, who, cost);
}

/* Wait lists named one by one up to this many, the rest summed in one problem. */
#define MAX_NAMED_LISTS 8

/*
 * The wait lists that could not be read, of the locks the kernel's word for a
 * task named: whether that task waits there, and who else does, is unknown.
 */
static void add_list_failures(struct ks_analysis *a, const struct wait_cache *c)
{
	struct ks_kernel *k = a->kernel;
	size_t named = 0, more = 0;
	const struct list_walk *first_more = NULL;

	for (size_t n = 0; n < c->nwalks; n++) {
		const struct list_walk *w = &c->walks[n];
		long t;
		char what[160], who[64] = "";

		if (!w->code || !w->vouched)
			continue;
		if (named == MAX_NAMED_LISTS) {
			more++;
			first_more = first_more ? first_more : w;
			continue;
		}
		named++;
		lock_words(k, w->lock, w->type, what, sizeof(what));
		if ((t = ks_model_task_index(a, w->task)) >= 0)
			snprintf(who, sizeof(who), "pid %d (%s)", a->tasks.tasks[t].pid, a->tasks.tasks[t].comm);
		ks_problems_add(&a->problems, w->code, w->task, w->at,
				"cannot read the wait list of %s (%s at 0x%llx%s): whether %s waits on it, and who "
				"else does, is unknown",
				what, ks_error_code_name(w->code), (unsigned long long)w->at,
				w->n ? ", past its first waiters" : "", who[0] ? who : "its waiter");
	}
	if (more)
		ks_problems_add(&a->problems, first_more->code, first_more->task, first_more->at,
				"%zu more wait lists could not be read (%s, the first at 0x%llx): their waiters are unknown",
				more, ks_error_code_name(first_more->code), (unsigned long long)first_more->at);
}

/* Once every task is in: lock order and names, owners, and the wait-for graph. */
static struct ks_error *locks_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_locks_ctx *c = ctx;
	struct ks_error *err = settle_order(a);

	if (err)
		return err;
	for (size_t l = 0; l < a->nlocks; l++)
		find_owner(a, &c->owners, &a->locks[l]);
	add_list_failures(a, &c->cache);
	add_fails(a, &c->owners, "lock words", "those locks' owners or readers are unknown");
	add_fails(a, &c->stack_words, "stack reads of the lock scan",
		  "the locks those tasks wait on are unknown");
	add_fails(a, &c->folio_table, "entries of the folio wait table",
		  "tasks waiting for a page lock may be missing");
	add_fails(a, &c->pi_waiters, "rt_mutex waiter records (pi_blocked_on)",
		  "the rt_mutexes those tasks wait on are unknown");
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
	for (size_t i = 0; i < a->tasks.count; i++)
		next[i] = ks_waits_for(a, i);
	ks_find_cycles(next, a->tasks.count, cyc);
	for (size_t i = 0; i < a->tasks.count; i++)
		a->ta[i].in_cycle = cyc[i];
	free(next);
	free(cyc);
	return NULL;
}

const struct ks_pass ks_pass_locks = {
	.name = "locks",
	.begin = locks_begin,
	.task = locks_task,
	.finish = locks_finish,
	.end = locks_end,
};
