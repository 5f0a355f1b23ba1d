/* The verdict pass: ranked root-cause hypotheses with their evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes/files.h"
#include "base/hashmap.h"
#include "base/search.h"

#define MAX_CHAIN 64

struct builder {
	struct ks_analysis *a;
	size_t cap;
	/* the verdict whose evidence is the log alone, not scaled by the tasks read; -1 none */
	long unscaled;
};

static struct ks_verdict *add(struct builder *b, enum ks_verdict_kind kind, double score)
{
	struct ks_verdict *v;

	if (b->a->nverdicts == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct ks_verdict *n = realloc(b->a->verdicts, cap * sizeof(*n));

		if (!n)
			return NULL;
		b->a->verdicts = n;
		b->cap = cap;
	}
	v = &b->a->verdicts[b->a->nverdicts++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->score = score;
	return v;
}

static void add_pid(struct ks_verdict *v, int32_t pid)
{
	for (size_t i = 0; i < v->npids; i++)
		if (v->pids[i] == pid)
			return;
	if (v->npids < KS_VERDICT_MAX_PIDS)
		v->pids[v->npids++] = pid;
}

static void add_lock(struct ks_verdict *v, long lock)
{
	for (size_t i = 0; i < v->nlocks; i++)
		if (v->locks[i] == lock)
			return;
	if (v->nlocks < KS_VERDICT_MAX_LOCKS)
		v->locks[v->nlocks++] = lock;
}

static const char *lock_label(const struct ks_lock *l)
{
	return l->name[0] ? l->name : "an unnamed lock";
}

/* "for 61 s" with the source, or "" when unknown */
static void age(const struct ks_stall *st, char *buf, size_t size)
{
	if (st->source == KS_STALL_NONE)
		snprintf(buf, size, "for an unknown time");
	else if (st->exact)
		snprintf(buf, size, "for %.0f s", st->seconds);
	else if (st->source == KS_STALL_PSI)
		snprintf(buf, size, "for about %.0f s (the system's memory stall, PSI)", st->seconds);
	else if (st->source == KS_STALL_LOG)
		snprintf(buf, size, "for about %.0f s (since its first OOM killer invocation in the log)",
			 st->seconds);
	else if (st->min_seconds > 0.5)
		snprintf(buf, size, "for at least %.0f s", st->min_seconds);
	else
		snprintf(buf, size, "for up to %.0f s", st->max_seconds);
}

static void alloc_words(struct ks_analysis *a, size_t i, char *buf, size_t size)
{
	const struct ks_alloc_state *al = &a->ta[i].alloc;
	char when[96], loops[48] = "";

	age(&a->ta[i].stall, when, sizeof(when));
	if (al->no_progress_known)
		snprintf(loops, sizeof(loops), ", no_progress_loops %d", al->no_progress_loops);
	char order[16] = "?";

	if (al->order_known)
		snprintf(order, sizeof(order), "%u", al->order);
	snprintf(buf, size, "has looped in the page allocator (%s) %s (%s, order %s, %s%s)",
		 ks_alloc_phase_name(al->phase), when, al->gfp_known ? al->gfp_names : "gfp unknown", order,
		 ks_alloc_oom_words(al), loops);
}

/* Signature: the kind and the names of what is involved; no pids, no addresses. */
/*
 * "kind:name:name[:extra]", the names sorted so that the order they were
 * found in does not matter (names is sorted in place).
 */
static void sign_names(struct ks_verdict *v, const char **names, size_t n, const char *extra)
{
	size_t len = (size_t)snprintf(v->signature, sizeof(v->signature), "%s", ks_verdict_name(v->kind));

	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < n && len < sizeof(v->signature); i++)
		len += (size_t)snprintf(v->signature + len, sizeof(v->signature) - len, ":%s", names[i]);
	if (extra && len < sizeof(v->signature))
		snprintf(v->signature + len, sizeof(v->signature) - len, ":%s", extra);
}

static void sign(struct ks_analysis *a, struct ks_verdict *v, const char *extra)
{
	const char *names[KS_VERDICT_MAX_LOCKS];
	size_t n = 0;

	for (size_t i = 0; i < v->nlocks; i++)
		names[n++] = a->locks[v->locks[i]].what[0] ? a->locks[v->locks[i]].what : "unnamed";
	sign_names(v, names, n, extra);
}

/* End the summary's last sentence with a period, where there is room. */
static void end_sentence(char *s, size_t size)
{
	size_t len = strlen(s);

	if (len && s[len - 1] != '.' && len + 1 < size) {
		s[len] = '.';
		s[len + 1] = '\0';
	}
}

static void cycles(struct builder *b)
{
	struct ks_analysis *a = b->a;
	bool *done = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(bool));

	if (!done)
		return;
	for (size_t i = 0; i < a->tasks.count; i++) {
		struct ks_verdict *v;
		size_t len = 0;
		long j = (long)i;

		if (!a->ta[i].in_cycle || done[i] || !(v = add(b, KS_VERDICT_LOCK_CYCLE, 0.95)))
			continue;
		len = (size_t)snprintf(v->summary, sizeof(v->summary), "Lock cycle (deadlock): ");
		for (size_t steps = 0; steps < MAX_CHAIN; steps++) {
			const struct ks_task *t = &a->tasks.tasks[j];
			const struct ks_lock *l = &a->locks[a->ta[j].waits_on];

			done[j] = true;
			add_pid(v, t->pid);
			add_lock(v, a->ta[j].waits_on);
			if (len < sizeof(v->summary))
				len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
							"%s (pid %d) waits for %s %s, held by ", t->comm,
							t->pid, ks_wait_type_name(a->ta[j].wait_type), lock_label(l));
			j = l->owner;
			if (j < 0 || done[j])
				break;
		}
		if (j >= 0 && len < sizeof(v->summary))
			snprintf(v->summary + len, sizeof(v->summary) - len, "%s (pid %d).",
				 a->tasks.tasks[j].comm, a->tasks.tasks[j].pid);
		sign(a, v, NULL);
	}
	free(done);
}

/* Follow waits from task i to the end of its chain; returns the root, or -1 on a cycle. */
static long chain_root(struct ks_analysis *a, long i, struct ks_verdict *v)
{
	for (size_t steps = 0; steps < MAX_CHAIN && i >= 0; steps++) {
		long next = ks_waits_for(a, (size_t)i);

		if (v)
			add_pid(v, a->tasks.tasks[i].pid);
		if (next < 0)
			return i;
		if (v)
			add_lock(v, a->ta[i].waits_on);
		if (a->ta[i].in_cycle)
			return -1;
		i = next;
	}
	return -1;
}

/*
 * What a victim that cannot exit still holds, from the log: the reaper unmaps anonymous memory
 * but not shared memory, which goes only with the victim's exit. Said when 1 MiB or more remains.
 */
static void victim_memory(const struct ks_analysis *a, size_t i, struct ks_verdict *v)
{
	long r = a->ta[i].oom_reap_event, k = a->ta[i].oom_kill_event;
	size_t len;

	if (r >= (long)a->nevents)
		r = -1;
	if (k >= (long)a->nevents)
		k = -1;
	end_sentence(v->summary, sizeof(v->summary));
	len = strlen(v->summary);
	if (r >= 0 && a->events[r].rss_known && a->events[r].shmem_kb >= 1024 && len < sizeof(v->summary))
		snprintf(v->summary + len, sizeof(v->summary) - len,
			 " The OOM reaper left it %.0f MiB of shared memory, which it cannot free: that memory "
			 "goes only when the victim exits.", a->events[r].shmem_kb / 1024.0);
	else if (r < 0 && k >= 0 && a->events[k].rss_known && len < sizeof(v->summary))
		snprintf(v->summary + len, sizeof(v->summary) - len,
			 " It held %.0f MiB when killed (anon %.0f, shmem %.0f); the log has no word of the reaper on it.",
			 (a->events[k].anon_kb + a->events[k].file_kb + a->events[k].shmem_kb) / 1024.0,
			 a->events[k].anon_kb / 1024.0, a->events[k].shmem_kb / 1024.0);
}

static void oom(struct builder *b)
{
	struct ks_analysis *a = b->a;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		struct ks_verdict probe = { 0 }, *v;
		long root;

		/* one verdict per victim process: its thread group leader */
		if (!a->ta[i].oom_victim || t->pid != t->tgid || t->active)
			continue;
		root = chain_root(a, (long)i, &probe);
		if (root >= 0 && (size_t)root != i && a->ta[root].alloc.phase != KS_ALLOC_NONE) {
			const struct ks_lock *l = &a->locks[a->ta[i].waits_on];
			char what[400], when[64] = "";

			if (!(v = add(b, KS_VERDICT_OOM_DEADLOCK, 0.97)))
				return;
			memcpy(v->pids, probe.pids, sizeof(probe.pids));
			v->npids = probe.npids;
			memcpy(v->locks, probe.locks, sizeof(probe.locks));
			v->nlocks = probe.nlocks;
			alloc_words(a, (size_t)root, what, sizeof(what));
			if (a->ta[i].oom_killed_seconds >= 0)
				snprintf(when, sizeof(when), " %.0f s before the crash",
					 a->ta[i].oom_killed_seconds);
			snprintf(v->summary, sizeof(v->summary),
				 "OOM deadlock: %s (pid %d), chosen by the OOM killer%s, cannot exit: it waits "
				 "for %s %.200s, held by %s (pid %d), which %.300s",
				 t->comm, t->pid, when, ks_lock_type_name(l->type), lock_label(l),
				 a->tasks.tasks[root].comm, a->tasks.tasks[root].pid, what);
			victim_memory(a, i, v);
			sign(a, v, !a->ta[root].alloc.may_oom_known ? "oom_unknown" : a->ta[root].alloc.may_oom ? "may_oom" : "no_oom");
		} else if (t->state_char == 'D' || a->ta[i].waits_on >= 0) {
			if (!(v = add(b, KS_VERDICT_OOM_VICTIM_STUCK, 0.75)))
				return;
			add_pid(v, t->pid);
			if (a->ta[i].waits_on >= 0)
				add_lock(v, a->ta[i].waits_on);
			snprintf(v->summary, sizeof(v->summary),
				 "OOM victim %s (pid %d) cannot exit: %s", t->comm, t->pid,
				 a->ta[i].activity);
			victim_memory(a, i, v);
			sign(a, v, NULL);
		}
	}
}

static void alloc_loops(struct builder *b)
{
	struct ks_analysis *a = b->a;
	struct ks_verdict *v = NULL;
	size_t n = 0, first = 0;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_alloc_state *al = &a->ta[i].alloc;

		if (al->phase == KS_ALLOC_NONE || !al->may_oom_known || al->may_oom)
			continue;
		if (!v && !(v = add(b, KS_VERDICT_ALLOC_LOOP_NO_OOM, 0.8)))
			return;
		if (!n++)
			first = i;
		add_pid(v, a->tasks.tasks[i].pid);
	}
	if (v) {
		char what[400];

		v->score = n >= 3 ? 0.9 : 0.8;
		alloc_words(a, first, what, sizeof(what));
		snprintf(v->summary, sizeof(v->summary),
			 "%zu task%s loop%s in the page allocator with allocations that may not invoke "
			 "the OOM killer, so nothing frees memory: %s (pid %d) %s",
			 n, n == 1 ? "" : "s", n == 1 ? "s" : "", a->tasks.tasks[first].comm,
			 a->tasks.tasks[first].pid, what);
		sign(a, v, NULL);
	}
}

/* Where the long lock waits end: a task that holds the last lock, or a lock with no recorded owner. */
struct chain_end {
	long task; /* -1 when the kernel records no owner (folio, semaphore, ...) */
	long lock; /* the last lock of the chain */
	size_t waiters;
};

static size_t chain_end_of(struct ks_analysis *a, size_t i, struct chain_end *ends, size_t *nends,
			   long *root_ret)
{
	struct ks_verdict probe = { 0 };
	long w = a->ta[i].waits_on, root = chain_root(a, (long)i, &probe), task, lock;
	size_t e;

	*root_ret = root;
	if (root < 0)
		return SIZE_MAX;
	if ((size_t)root != i) {
		task = root;
		lock = probe.locks[probe.nlocks - 1];
	} else {
		/* the writer of a percpu_rwsem waiting for its readers ends its own chain */
		task = a->locks[w].owner == (long)i ? (long)i : -1;
		lock = w;
	}
	for (e = 0; e < *nends; e++)
		if (ends[e].lock == lock)
			return e;
	if (*nends == KS_VERDICT_MAX_LOCKS)
		return SIZE_MAX;
	ends[*nends] = (struct chain_end){ .task = task, .lock = lock };
	return (*nends)++;
}

/*
 * Tasks that have waited on locks for long, and where each wait ends: a task
 * that holds the last lock and does something else (sleeps, waits for I/O,
 * for readers), or a lock whose owner the kernel does not record. A verdict
 * when at least one chain ends in a task that is not allocating (the memory
 * verdicts speak for those).
 */
static bool under_pressure(const struct ks_analysis *a);
static bool behind_memory(struct ks_analysis *a, size_t i, bool pressure);

static void chains(struct builder *b)
{
	struct ks_analysis *a = b->a;
	bool pressure = under_pressure(a);
	struct chain_end ends[KS_VERDICT_MAX_LOCKS];
	size_t nends = 0, total = 0, chained = 0, len;
	long *end_of = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(long));
	struct ks_verdict *v;

	if (!end_of)
		return;
	for (size_t i = 0; i < a->tasks.count; i++) {
		long root;
		size_t e;

		end_of[i] = -1;
		/* waits stuck on memory are the memory verdicts' evidence, not a lock problem */
		if (a->ta[i].waits_on < 0 || a->ta[i].in_cycle || a->ta[i].oom_victim ||
		    a->ta[i].stall.max_seconds < 30 || behind_memory(a, i, pressure))
			continue;
		e = chain_end_of(a, i, ends, &nends, &root);
		if (e == SIZE_MAX || a->ta[root].alloc.phase != KS_ALLOC_NONE)
			continue;
		ends[e].waiters++;
		end_of[i] = (long)e;
		total++;
	}
	for (size_t e = 0; e < nends; e++)
		chained += ends[e].task >= 0 && ends[e].waiters;
	if (!chained || !(v = add(b, KS_VERDICT_LOCK_CHAIN_HANG, 0.5))) {
		free(end_of);
		return;
	}
	/* the ends first, then who waits behind them */
	for (size_t e = 0; e < nends; e++) {
		if (ends[e].waiters)
			add_lock(v, ends[e].lock);
		if (ends[e].waiters && ends[e].task >= 0)
			add_pid(v, a->tasks.tasks[ends[e].task].pid);
	}
	for (size_t i = 0; i < a->tasks.count; i++)
		if (end_of[i] >= 0)
			add_pid(v, a->tasks.tasks[i].pid);
	len = (size_t)snprintf(v->summary, sizeof(v->summary),
			       "%zu task%s ha%s waited 30 s or more on locks: ", total, total == 1 ? "" : "s",
			       total == 1 ? "s" : "ve");
	for (size_t e = 0, shown = 0; e < nends && len < sizeof(v->summary); e++) {
		const struct ks_lock *l = &a->locks[ends[e].lock];
		long t = ends[e].task;

		if (!ends[e].waiters)
			continue;
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%zu behind %s %.120s",
					shown++ ? "; " : "", ends[e].waiters, ks_lock_type_name(l->type),
					lock_label(l));
		if (len >= sizeof(v->summary))
			break;
		if (t >= 0 && a->ta[t].waits_on == ends[e].lock)
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						", whose writer %s (pid %d) has the write side and waits for "
						"%ld reader%s to leave",
						a->tasks.tasks[t].comm, a->tasks.tasks[t].pid, l->readers,
						l->readers == 1 ? "" : "s");
		else if (t >= 0)
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						", held by %s (pid %d), %.100s", a->tasks.tasks[t].comm,
						a->tasks.tasks[t].pid, a->ta[t].activity);
		else
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						", %s", l->owner_is_hint ? "whose owner is only a hint"
									 : "whose owner the kernel does not record");
	}
	if (len < sizeof(v->summary))
		snprintf(v->summary + len, sizeof(v->summary) - len, ".");
	sign(a, v, NULL);
	free(end_of);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/*
 * Causes that hold memory (tmpfs with no swap, the stacks of a fork storm) rank by how much of
 * RAM each holds, so that two together come bigger first: 0.75 plus a fifth of the share.
 */
static double memory_cause_score(double share)
{
	return 0.75 + 0.2 * (share > 1 ? 1 : share < 0 ? 0 : share);
}

/* Free pages and the min watermark summed over zones, for the evidence. */
static void free_vs_min(const struct ks_analysis *a, char *buf, size_t size)
{
	uint64_t free = 0, min = 0;
	bool known = a->memory.nzones > 0;

	for (size_t z = 0; z < a->memory.nzones; z++) {
		free += a->memory.zones[z].free;
		min += a->memory.zones[z].min;
		known &= a->memory.zones[z].watermarks_known;
	}
	if (known)
		snprintf(buf, size, "free %.1f MiB against a min watermark of %.1f MiB", ks_memory_mib(&a->memory, free),
			 ks_memory_mib(&a->memory, min));
	else
		snprintf(buf, size, "zone watermarks unknown");
}

struct census {
	size_t user, allocating, forking, throttled, reclaim, compaction, oom_lock, oom_kill,
		dirty_throttled, blocked;
	/* waiting on a lock chain that is stuck on memory (behind_memory) */
	size_t behind_alloc;
	/* the lock most of those wait on, by kind ("mm_struct.mmap_lock") */
	const char *behind_what;
};

static long chain_root(struct ks_analysis *a, long i, struct ks_verdict *v);

/* Some zone below its low watermark: kswapd is awake and allocations go slow. */
static bool under_pressure(const struct ks_analysis *a)
{
	for (size_t z = 0; z < a->memory.nzones; z++)
		if (a->memory.zones[z].watermarks_known && a->memory.zones[z].free < a->memory.zones[z].low)
			return true;
	return false;
}

/*
 * Is the lock chain from task i stuck on memory? Its root allocates; or,
 * with memory short, the root waits for a CPU or the lock is reader-owned
 * (readers of an mmap_lock are page faults), so its next step is an allocation.
 */
static bool behind_memory(struct ks_analysis *a, size_t i, bool pressure)
{
	long w = a->ta[i].waits_on, root;

	if (pressure && a->locks[w].owner_is_hint)
		return true;
	root = chain_root(a, (long)i, NULL);
	if (root < 0 || (size_t)root == i)
		return false;
	return a->ta[root].alloc.phase != KS_ALLOC_NONE ||
	       (pressure && a->tasks.tasks[root].state_char == 'R');
}

static void count(struct ks_analysis *a, struct census *c)
{
	bool pressure = under_pressure(a);

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_alloc_state *al = &a->ta[i].alloc;

		if (t->idle || t->panic)
			continue;
		c->user++;
		if (a->ta[i].waits_on >= 0 && !a->ta[i].in_cycle && al->phase == KS_ALLOC_NONE) {
			if (behind_memory(a, i, pressure)) {
				c->behind_alloc++;
				if (!c->behind_what && a->locks[a->ta[i].waits_on].what[0])
					c->behind_what = a->locks[a->ta[i].waits_on].what;
			}
		}
		c->dirty_throttled += a->ta[i].dirty_throttled;
		c->blocked += t->state_char == 'D' && !t->active;
		if (al->phase == KS_ALLOC_NONE)
			continue;
		c->allocating++;
		c->forking += !strcmp(al->context, "fork");
		c->throttled += al->phase == KS_ALLOC_THROTTLED;
		c->reclaim += al->phase == KS_ALLOC_RECLAIM;
		c->compaction += al->phase == KS_ALLOC_COMPACTION;
		c->oom_lock += al->phase == KS_ALLOC_OOM_LOCK_WAIT;
		c->oom_kill += al->phase == KS_ALLOC_OOM_KILL;
	}
}

/* Up to KS_VERDICT_MAX_PIDS of the tasks the memory verdicts are about: allocating ones first. */
static void name_stalled(const struct ks_analysis *a, struct ks_verdict *v)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->tasks.count && v->npids < KS_VERDICT_MAX_PIDS; i++) {
			const struct ks_task *t = &a->tasks.tasks[i];

			if (t->idle || t->panic)
				continue;
			if (pass == 0 ? a->ta[i].alloc.phase != KS_ALLOC_NONE
				      : (a->ta[i].dirty_throttled || (t->state_char == 'D' && !t->active)))
				add_pid(v, t->pid);
		}
}

/* Many direct reclaimers asleep in the throttles at once: reclaim cannot keep up. */
static void reclaim_throttle(struct builder *b, const struct census *c)
{
	struct ks_analysis *a = b->a;
	size_t throttled = c->throttled;
	const char *reasons[8];
	size_t counts[8] = { 0 }, nr = 0, len;
	struct ks_verdict *v;
	char fm[128];

	if (throttled < 4 || !(v = add(b, KS_VERDICT_RECLAIM_THROTTLE, throttled >= 16 ? 0.9 : 0.7)))
		return;
	for (size_t i = 0; i < a->tasks.count; i++) {
		const char *why = a->ta[i].alloc.throttle;
		size_t r;

		if (a->ta[i].alloc.phase != KS_ALLOC_THROTTLED)
			continue;
		add_pid(v, a->tasks.tasks[i].pid);
		if (!why || !why[0])
			why = "unknown";
		for (r = 0; r < nr && strcmp(reasons[r], why); r++)
			;
		if (r == nr && nr < 8)
			reasons[nr++] = why;
		if (r < nr)
			counts[r]++;
	}
	free_vs_min(a, fm, sizeof(fm));
	len = (size_t)snprintf(v->summary, sizeof(v->summary),
			       "%zu direct reclaimers are throttled in reclaim (", throttled);
	for (size_t r = 0; r < nr && len < sizeof(v->summary); r++)
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%zu %s",
					r ? ", " : "", counts[r], reasons[r]);
	if (len < sizeof(v->summary))
		snprintf(v->summary + len, sizeof(v->summary) - len,
			 "): reclaim cannot keep up with allocations; %s; dirty %.1f MiB, writeback %.1f MiB.",
			 fm, ks_memory_mib(&a->memory, a->memory.pages[KS_MEM_DIRTY]), ks_memory_mib(&a->memory, a->memory.pages[KS_MEM_WRITEBACK]));
	sign(a, v, nr ? reasons[0] : NULL);
}

/*
 * Shared memory that cannot go anywhere: tmpfs pages are neither reclaimable nor
 * (without swap) swappable, yet count as cached, so the box looks fine until it is not.
 */
/*
 * Who maps the shared memory: processes whose shmem RSS is at least a tenth
 * of it, biggest first, named in the verdict with their share. What no
 * process maps (a tmpfs file only written, not mapped) is said as such.
 */
static void shmem_holders(struct ks_analysis *a, struct ks_verdict *v, uint64_t shmem)
{
	const struct ks_consumers *c = &a->memory.consumers;
	size_t len = strlen(v->summary), named = 0;

	if (!c->known || !shmem)
		return;
	for (size_t p = 0; p < c->ntop && len < sizeof(v->summary); p++) {
		const struct ks_process_mem *pm = &c->top[p];

		if (pm->shmem * 10 < shmem)
			continue;
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s (pid %d) maps %.0f MiB of it",
					named++ ? "; " : " ", a->tasks.tasks[pm->task].comm,
					a->tasks.tasks[pm->task].tgid, ks_memory_mib(&a->memory, pm->shmem));
		add_pid(v, a->tasks.tasks[pm->task].tgid);
	}
	if (named) {
		end_sentence(v->summary, sizeof(v->summary));
		len = strlen(v->summary);
	}
	/* the files that hold it, a tenth or more each */
	for (size_t f = 0, shown = 0; c->files_known && f < c->nfiles && len < sizeof(v->summary); f++) {
		char label[sizeof(c->files[f].file.path) + 32];

		if (c->files[f].pages * 10 < shmem || !c->files[f].file.known)
			continue;
		ks_file_label(&c->files[f].file, label, sizeof(label));
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%.120s holds %.0f MiB (%.0f%%)",
					shown++ ? "; " : " ", label, ks_memory_mib(&a->memory, c->files[f].pages),
					pct(c->files[f].pages, a->memory.pages[KS_MEM_TOTAL]));
		/* and who holds it open: deleting it frees nothing while they do */
		for (size_t h = 0; h < c->files[f].nholders && h < KS_FILE_HOLDERS && len < sizeof(v->summary); h++) {
			const struct ks_task *t = &a->tasks.tasks[c->files[f].holders[h]];

			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s (pid %d)",
						h ? ", " : ", open in ", t->comm, t->tgid);
			add_pid(v, t->tgid);
		}
	}
	end_sentence(v->summary, sizeof(v->summary));
}

static void shmem_no_swap(struct builder *b, const struct census *c)
{
	struct ks_analysis *a = b->a;
	const struct ks_memory *m = &a->memory;
	uint64_t shmem = m->pages[KS_MEM_SHMEM], total = m->pages[KS_MEM_TOTAL];
	bool no_swap = m->known[KS_MEM_SWAP_TOTAL] &&
		       (!m->pages[KS_MEM_SWAP_TOTAL] ||
			m->pages[KS_MEM_SWAP_FREE] * 20 < m->pages[KS_MEM_SWAP_TOTAL]);
	struct ks_verdict *v;
	char fm[128];

	if (!m->known[KS_MEM_SHMEM] || !m->known[KS_MEM_TOTAL] || !no_swap || pct(shmem, total) < 40 ||
	    !(c->allocating || c->dirty_throttled || c->blocked))
		return;
	if (!(v = add(b, KS_VERDICT_SHMEM_NO_SWAP, memory_cause_score(pct(shmem, total) / 100.0))))
		return;
	name_stalled(a, v);
	free_vs_min(a, fm, sizeof(fm));
	snprintf(v->summary, sizeof(v->summary),
		 "Shared memory (tmpfs, /dev/shm) holds %.0f MiB, %.0f%% of RAM, and %s: it can be neither "
		 "reclaimed nor swapped out, so page cache and every allocation fight over what is left (%s). "
		 "%zu task%s in the page allocator, %zu throttled writing dirty pages (dirty %.1f MiB, "
		 "writeback %.1f MiB), %zu in uninterruptible sleep.",
		 ks_memory_mib(&a->memory, shmem), pct(shmem, total),
		 m->pages[KS_MEM_SWAP_TOTAL] ? "swap is full" : "there is no swap", fm, c->allocating,
		 c->allocating == 1 ? " is" : "s are", c->dirty_throttled, ks_memory_mib(&a->memory, m->pages[KS_MEM_DIRTY]),
		 ks_memory_mib(&a->memory, m->pages[KS_MEM_WRITEBACK]), c->blocked);
	shmem_holders(a, v, shmem);
	sign(a, v, m->pages[KS_MEM_SWAP_TOTAL] ? "swap_full" : "no_swap");
}

/*
 * Kernel memory reclaim cannot free: unreclaimable slab bigger than every page on the LRU lists,
 * the OOM killer's own test for listing the slab caches in its report (should_dump_unreclaim_slab
 * in mm/oom_kill.c), while tasks stall on memory. A leak or a runaway cache: the biggest caches
 * are named where the slab pass counted them. Ranked as the other causes that hold memory.
 */
static void slab_unreclaimable(struct builder *b, const struct census *c)
{
	struct ks_analysis *a = b->a;
	const struct ks_memory *m = &a->memory;
	const struct ks_slab_census *sc = &m->consumers.slab;
	static const enum ks_mem_item lru[] = { KS_MEM_ACTIVE_ANON, KS_MEM_INACTIVE_ANON, KS_MEM_ACTIVE_FILE,
						KS_MEM_INACTIVE_FILE, KS_MEM_ISOLATED_ANON, KS_MEM_ISOLATED_FILE,
						KS_MEM_UNEVICTABLE };
	uint64_t slab = m->pages[KS_MEM_SLAB_UNRECLAIMABLE], total = m->pages[KS_MEM_TOTAL], on_lru = 0;
	struct ks_verdict *v;
	size_t len;
	char fm[128];

	if (!m->known[KS_MEM_SLAB_UNRECLAIMABLE] || !m->known[KS_MEM_TOTAL] || !total ||
	    !(c->allocating || c->blocked || a->oom.kills))
		return;
	for (size_t i = 0; i < sizeof(lru) / sizeof(lru[0]); i++) {
		/* the test is the kernel's: with an LRU counter unknown it cannot be made */
		if (!m->known[lru[i]])
			return;
		on_lru += m->pages[lru[i]];
	}
	if (slab <= on_lru || !(v = add(b, KS_VERDICT_SLAB_UNRECLAIMABLE, memory_cause_score(pct(slab, total) / 100.0))))
		return;
	name_stalled(a, v);
	free_vs_min(a, fm, sizeof(fm));
	len = (size_t)snprintf(v->summary, sizeof(v->summary),
			       "Unreclaimable slab holds %.0f MiB, %.0f%% of RAM, more than every page on the LRU lists "
			       "(%.0f MiB): kernel memory that neither reclaim nor the OOM killer can free, a leak or a "
			       "runaway cache (%s). %zu task%s in the page allocator, %zu in uninterruptible sleep.",
			       ks_memory_mib(m, slab), pct(slab, total), ks_memory_mib(m, on_lru), fm, c->allocating,
			       c->allocating == 1 ? " is" : "s are", c->blocked);
	if (sc->state == KS_SLAB_READ && sc->ntop) {
		for (size_t i = 0; i < sc->ntop && i < 3 && len < sizeof(v->summary); i++)
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s %.0f MiB (%.0f%%)",
						i ? ", " : " The biggest caches: ", sc->top[i].name,
						ks_memory_mib(m, sc->top[i].pages), pct(sc->top[i].pages, total));
		end_sentence(v->summary, sizeof(v->summary));
	} else if (len < sizeof(v->summary)) {
		snprintf(v->summary + len, sizeof(v->summary) - len,
			 " Which caches hold it this kernel does not say (%s).",
			 sc->state == KS_SLAB_NOT_SLUB	 ? "SLOB or SLAB keep no cache in the page"
			 : sc->state == KS_SLAB_TOO_BIG ? "the memory map is too big to walk"
							: "the slab caches could not be counted");
	}
	sign(a, v, sc->state == KS_SLAB_READ && sc->ntop ? sc->top[0].name : NULL);
}

/* Hundreds or thousands of tasks in the allocator at once: no single culprit, too many mouths. */
static void alloc_storm(struct builder *b, const struct census *c)
{
	struct ks_analysis *a = b->a;
	struct ks_verdict *v;
	char fm[128];
	double score;

	size_t stuck = c->allocating + c->behind_alloc;

	/* Those waiting on a lock held by an allocating task are stuck on memory too. */
	if (stuck < 100 && !(stuck >= 32 && stuck * 5 >= c->user))
		return;
	score = 0.8 + 0.15 * (stuck >= 1000 ? 1.0 : (double)stuck / 1000.0);
	if (!(v = add(b, KS_VERDICT_ALLOC_STORM, score)))
		return;
	name_stalled(a, v);
	free_vs_min(a, fm, sizeof(fm));
	snprintf(v->summary, sizeof(v->summary),
		 "Allocation storm: %zu of %zu tasks are stuck on memory: %zu in the page allocator (%zu of "
		 "them in fork; %zu in direct reclaim, %zu in compaction, %zu throttled, %zu sleeping for "
		 "oom_lock, %zu in the OOM killer) and %zu waiting on locks%s%s%s whose holders allocate "
		 "or, with memory short, wait for a CPU; %s; %zu OOM kill%s in the log.",
		 stuck, c->user, c->allocating, c->forking, c->reclaim, c->compaction, c->throttled,
		 c->oom_lock, c->oom_kill, c->behind_alloc, c->behind_what ? " (mostly " : "",
		 c->behind_what ? c->behind_what : "", c->behind_what ? ")" : "", fm, a->oom.kills,
		 a->oom.kills == 1 ? "" : "s");
	{
		/* how fast the task count grew, and what the tasks' kernel stacks and page tables hold */
		const struct ks_memory *m = &a->memory;
		const struct ks_consumers *cs = &m->consumers;
		size_t len = strlen(v->summary);

		if (cs->young_known && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						" %zu tasks were forked in the last %d s.", cs->young, KS_YOUNG_SECONDS);
		if (m->known[KS_MEM_KERNEL_STACK] && m->known[KS_MEM_PAGETABLES] && m->known[KS_MEM_TOTAL] &&
		    len < sizeof(v->summary))
			snprintf(v->summary + len, sizeof(v->summary) - len,
				 " Their kernel stacks and page tables hold %.0f MiB, %.0f%% of RAM.",
				 ks_memory_mib(m, m->pages[KS_MEM_KERNEL_STACK] + m->pages[KS_MEM_PAGETABLES]),
				 pct(m->pages[KS_MEM_KERNEL_STACK] + m->pages[KS_MEM_PAGETABLES],
				     m->pages[KS_MEM_TOTAL]));
	}
	sign(a, v, c->forking * 4 >= c->allocating ? "fork" : NULL);
}

/*
 * A fork storm: the sheer number of tasks is what eats the memory. The kernel's own budget says
 * when: set_max_threads() sizes max_threads so that thread stacks take at most 1/8 of RAM, and
 * fork fails (EAGAIN) at max_threads. So a storm is either half that ceiling in use
 * (nr_threads >= max_threads / 2), or, where an admin raised the ceiling, the tasks' kernel
 * stacks holding half the kernel's budget (RAM / 16) or more. Named: the
 * parents with the most children (the forkers), the fork rate since boot, the tasks forked
 * in the last minute, the OOM kills.
 */
#define FORK_STORM_PARENTS 5

static void fork_storm(struct builder *b)
{
	struct ks_analysis *a = b->a;
	const struct ks_memory *m = &a->memory;
	const struct ks_kernel_mem *km = &m->consumers.kernel;
	uint64_t kmem = m->pages[KS_MEM_KERNEL_STACK] + m->pages[KS_MEM_PAGETABLES];
	bool kmem_known = m->known[KS_MEM_KERNEL_STACK] && m->known[KS_MEM_PAGETABLES] && m->known[KS_MEM_TOTAL] &&
			  m->pages[KS_MEM_TOTAL];
	double ceiling = km->threads_known && km->max_threads ? (double)km->nr_threads / (double)km->max_threads : 0;
	/* the kernel's budget is for thread stacks: page tables grow with big processes, not many */
	double budget = kmem_known ? (double)m->pages[KS_MEM_KERNEL_STACK] * 8.0 / (double)m->pages[KS_MEM_TOTAL] : 0;
	struct ks_u64map children = { 0 };
	size_t top[FORK_STORM_PARENTS], ntop = 0, len;
	uint64_t counts[FORK_STORM_PARENTS] = { 0 };
	struct ks_verdict *v;
	double score;

	if (ceiling < 0.5 && budget < 0.5)
		return;
	/* child processes per user parent (a thread's ppid is its process's parent: counted once) */
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		uint64_t n = 0;

		if (t->idle || t->ppid <= 1 || t->pid != t->tgid || !a->ta[i].user)
			continue;
		ks_u64map_get_u64(&children, (uint64_t)t->ppid, &n);
		ks_u64map_put_u64(&children, (uint64_t)t->ppid, n + 1);
	}
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		uint64_t n = 0;
		size_t at;

		if (t->idle || t->pid != t->tgid || !a->ta[i].user ||
		    !ks_u64map_get_u64(&children, (uint64_t)t->pid, &n))
			continue;
		for (at = ntop; at > 0 && counts[at - 1] < n; at--)
			;
		if (at >= FORK_STORM_PARENTS)
			continue;
		memmove(&top[at + 1], &top[at], (FORK_STORM_PARENTS - 1 - at) * sizeof(top[0]));
		memmove(&counts[at + 1], &counts[at], (FORK_STORM_PARENTS - 1 - at) * sizeof(counts[0]));
		top[at] = i;
		counts[at] = n;
		if (ntop < FORK_STORM_PARENTS)
			ntop++;
	}
	ks_u64map_free(&children);
	/* by what it holds, as the other memory causes; near the ceiling, by how near: fork fails there */
	score = memory_cause_score(kmem_known ? (double)m->pages[KS_MEM_KERNEL_STACK] / (double)m->pages[KS_MEM_TOTAL]
					      : 0);
	if (0.70 + 0.23 * (ceiling > 1 ? 1 : ceiling) > score)
		score = 0.70 + 0.23 * (ceiling > 1 ? 1 : ceiling);
	if (!(v = add(b, KS_VERDICT_FORK_STORM, score)))
		return;
	len = (size_t)snprintf(v->summary, sizeof(v->summary), "Fork storm: %zu tasks", a->tasks.count);
	if (km->threads_known)
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					" (%llu threads, %.0f%% of the kernel's ceiling max_threads %llu; %llu forks "
					"since boot, %.0f a second on average)",
					(unsigned long long)km->nr_threads, 100.0 * ceiling,
					(unsigned long long)km->max_threads, (unsigned long long)km->total_forks,
					a->now_ns ? (double)km->total_forks / ((double)a->now_ns / 1e9) : 0.0);
	if (kmem_known && len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					"; their kernel stacks and page tables hold %.0f MiB, %.0f%% of RAM (the "
					"kernel budgets 12.5%% for thread stacks)",
					ks_memory_mib(m, kmem), pct(kmem, m->pages[KS_MEM_TOTAL]));
	if (m->consumers.young_known && len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					"; %zu forked in the last %d s", m->consumers.young, KS_YOUNG_SECONDS);
	if (a->oom.kills && len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "; %zu OOM kill%s in the log",
					a->oom.kills, a->oom.kills == 1 ? "" : "s");
	for (size_t p = 0; p < ntop && len < sizeof(v->summary); p++) {
		const struct ks_task *t = &a->tasks.tasks[top[p]];

		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s (pid %d) has %llu",
					p ? ", " : ". The biggest parents: ", t->comm, t->pid,
					(unsigned long long)counts[p]);
		if (!p && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, " child processes");
		add_pid(v, t->pid);
	}
	end_sentence(v->summary, sizeof(v->summary));
	sign(a, v, NULL);
}

/*
 * A memory cgroup at its own limit: tasks charging it (try_charge_memcg) loop in its reclaim
 * and its OOM killer while the machine may have memory to spare. The cgroup, its usage and
 * memory.max come from its own counters where the cgroup tree was read (a limited cgroup with
 * stalled tasks), else from the log's last memcg OOM report (mem_cgroup_print_oom_meminfo); how
 * often the killer found nothing it may kill, from "Out of memory and no killable processes";
 * since when its tasks stall, from the cgroup's own PSI group.
 * Told apart from the machine running out by its free pages against the zones' watermarks.
 */
static void memcg_limit(struct builder *b)
{
	struct ks_analysis *a = b->a;
	const struct ks_memory *m = &a->memory;
	/* the last report, and the last that names its cgroup (the crash may cut a report short) */
	const struct ks_event *report = NULL, *named = NULL;
	size_t charging = 0, no_victim = 0, len;
	bool from_memory = false;
	struct ks_verdict *v;
	bool machine_short = under_pressure(a);

	for (size_t i = 0; i < a->tasks.count; i++)
		charging += a->ta[i].alloc.memcg && a->ta[i].alloc.phase != KS_ALLOC_NONE;
	if (!charging)
		return;
	for (size_t e = 0; e < a->nevents; e++) {
		if (a->events[e].kind == KS_EVENT_MEMCG_OOM) {
			report = &a->events[e];
			if (report->memcg[0])
				named = report;
		}
		no_victim += a->events[e].kind == KS_EVENT_OOM_NO_VICTIM;
	}
	/* the cgroup's own trouble ranks first unless the machine is short too */
	if (!(v = add(b, KS_VERDICT_MEMCG_LIMIT, machine_short ? 0.86 : 0.93)))
		return;
	/* the cgroup's own counters where the tree was read: a limited one with stalled tasks */
	for (size_t g = 0; g < m->consumers.ncgroups && m->consumers.cgroups_known; g++) {
		const struct ks_cgroup_mem *cg = &m->consumers.cgroups[g];

		if (!cg->limited || !cg->stalled)
			continue;
		len = (size_t)snprintf(v->summary, sizeof(v->summary),
				       "A memory cgroup is at its limit: %s (memory.current %.0f MiB of memory.max %.0f MiB",
				       cg->path, ks_memory_mib(m, cg->usage_pages), ks_memory_mib(m, cg->max_pages));
		if (cg->events_known && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						"; memory.events: max %llu, oom %llu, oom_kill %llu",
						(unsigned long long)cg->ev_max, (unsigned long long)cg->ev_oom,
						(unsigned long long)cg->ev_oom_kill);
		if (len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, ")");
		/* how long its own tasks have stalled on memory, from its PSI group */
		if (cg->psi_known && cg->psi.onset >= 0 && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
						"; its tasks have stalled on memory %.0f%% of the time since %s%.0f s "
						"before the crash (its PSI)",
						cg->psi.onset_share, cg->psi.onset_at_least ? "at least " : "about ",
						cg->psi.onset_at_least ? cg->psi.onset_min : cg->psi.onset);
		from_memory = true;
		break;
	}
	if (from_memory)
		;	/* the log's report is older than the counters */
	else if (report)
		len = (size_t)snprintf(v->summary, sizeof(v->summary),
				       "A memory cgroup is at its limit: %s (usage %.0f MiB of memory.max %.0f MiB, "
				       "%llu charges failed; the log's last memcg OOM report, %.0f s before the crash)",
				       named ? named->memcg : "(its path is not in the log)",
				       report->usage_kb / 1024.0, report->limit_kb / 1024.0,
				       (unsigned long long)report->failcnt, report->seconds_before);
	else
		len = (size_t)snprintf(v->summary, sizeof(v->summary),
				       "A memory cgroup is at its limit (the log kept no memcg OOM report to name it)");
	len = strlen(v->summary);
	if (m->known[KS_MEM_FREE] && m->known[KS_MEM_TOTAL] && len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					", while the machine has %.0f MiB free (%.0f%% of RAM)%s",
					ks_memory_mib(m, m->pages[KS_MEM_FREE]), pct(m->pages[KS_MEM_FREE], m->pages[KS_MEM_TOTAL]),
					machine_short ? ", below a zone's low watermark: the machine is short too" : "");
	if (len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					": %zu task%s charge%s pages to it and loop in its reclaim or its OOM killer",
					charging, charging == 1 ? "" : "s", charging == 1 ? "s" : "");
	for (size_t i = 0, shown = 0; i < a->tasks.count && len < sizeof(v->summary); i++) {
		if (!a->ta[i].alloc.memcg || a->ta[i].alloc.phase == KS_ALLOC_NONE)
			continue;
		add_pid(v, a->tasks.tasks[i].pid);
		if (shown++ < 4)
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s (pid %d, %s)",
						shown == 1 ? " (" : ", ", a->tasks.tasks[i].comm, a->tasks.tasks[i].pid,
						ks_alloc_phase_name(a->ta[i].alloc.phase));
	}
	if (len < sizeof(v->summary))
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, ")");
	if (no_victim && len < sizeof(v->summary))
		snprintf(v->summary + len, sizeof(v->summary) - len,
			 "; %zu time%s in the log its OOM killer found no process it may kill (oom_score_adj -1000 "
			 "everywhere): nothing in it can be freed but by raising memory.max",
			 no_victim, no_victim == 1 ? "" : "s");
	end_sentence(v->summary, sizeof(v->summary));
	sign(a, v, no_victim ? "no_victim" : NULL);
}

/* Is pid named by a verdict made so far? */
static bool in_verdicts(const struct ks_analysis *a, int32_t pid)
{
	for (size_t v = 0; v < a->nverdicts; v++)
		for (size_t p = 0; p < a->verdicts[v].npids; p++)
			if (a->verdicts[v].pids[p] == pid)
				return true;
	return false;
}

/*
 * Where a task sleeps, in words: the lock it waits on, else the first frame
 * that is not the scheduler's. With key, what the signature may carry: the
 * lock's kind of name ('what', no pids), or the function.
 */
static const char *sleeps_in(const struct ks_analysis *a, size_t i, bool key)
{
	const struct ks_stack *s = &a->stacks[i];

	if (a->ta[i].waits_on >= 0) {
		const struct ks_lock *l = &a->locks[a->ta[i].waits_on];

		return key ? (l->what[0] ? l->what : "unnamed") : lock_label(l);
	}
	for (size_t f = a->ta[i].first_frame; f < s->count; f++)
		if (!ks_frame_is_scheduler(s->frames[f].function) && !strstr(s->frames[f].function, "schedule"))
			return s->frames[f].function;
	return "an unknown place";
}

/* Task i is named by a verdict, or waits behind a lock cycle or a task that one names. */
static bool explained(struct ks_analysis *a, size_t i)
{
	long root;

	if (in_verdicts(a, a->tasks.tasks[i].pid))
		return true;
	if (a->ta[i].waits_on < 0)
		return false;
	root = chain_root(a, (long)i, NULL);
	return root < 0 || (root != (long)i && (a->ta[root].in_cycle || in_verdicts(a, a->tasks.tasks[root].pid)));
}

/* The kernel's own hung-task report of task i, if the log has one. */
static bool reported_hung(const struct ks_analysis *a, size_t i)
{
	for (size_t e = 0; e < a->nevents; e++)
		if (a->events[e].kind == KS_EVENT_HUNG_TASK && a->events[e].task == (long)i)
			return true;
	return false;
}

/* Event e is the log's first hung-task report of a task the walk did not read (no task of the model). */
static bool unread_hung(const struct ks_analysis *a, size_t e)
{
	const struct ks_event *ev = &a->events[e];

	if (ev->kind != KS_EVENT_HUNG_TASK || ev->task >= 0 || ev->pid <= 0)
		return false;
	for (size_t p = 0; p < e; p++)
		if (a->events[p].kind == KS_EVENT_HUNG_TASK && a->events[p].task < 0 && a->events[p].pid == ev->pid)
			return false;
	return true;
}

/*
 * The last word on tasks stuck in D that no other verdict names, so that
 * minutes of uninterruptible sleep never read as "no stall": a task counts
 * when the kernel's hung-task detector reported it, or when its stall began,
 * at the latest, the detector's timeout before the crash (the kernel's own
 * sysctl_hung_task_timeout_secs; 120 s, its default, when the dump does not
 * say). The summary groups them by where they sleep, for the engineer to
 * look there.
 */
#define HUNG_DEFAULT_TIMEOUT 120
#define HUNG_PLACES 4
static void hung_tasks(struct builder *b)
{
	struct ks_analysis *a = b->a;
	double timeout = a->hung_task_timeout ? (double)a->hung_task_timeout : HUNG_DEFAULT_TIMEOUT;
	const char *where[HUNG_PLACES], *keys[HUNG_PLACES], *kind[HUNG_PLACES];
	size_t nwhere = 0, count[HUNG_PLACES] = { 0 }, total = 0, other = 0, len;
	struct ks_verdict *v;
	/* decided before the verdict exists: its own pids must not explain them */
	int32_t pids[KS_VERDICT_MAX_PIDS];
	size_t npids = 0, unread = 0, logged[KS_VERDICT_MAX_PIDS], nlogged = 0;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_stall *st = &a->ta[i].stall;
		const char *w;
		size_t k;

		if (a->tasks.tasks[i].state_char != 'D' || a->tasks.tasks[i].idle || explained(a, i) ||
		    !(reported_hung(a, i) || (st->source != KS_STALL_NONE && st->min_seconds >= timeout)))
			continue;
		total++;
		if (npids < KS_VERDICT_MAX_PIDS)
			pids[npids++] = a->tasks.tasks[i].pid;
		w = sleeps_in(a, i, false);
		for (k = 0; k < nwhere && strcmp(where[k], w); k++)
			;
		if (k == nwhere && nwhere < HUNG_PLACES) {
			keys[nwhere] = sleeps_in(a, i, true);
			kind[nwhere] = a->ta[i].waits_on >= 0 ? ks_wait_type_name(a->ta[i].wait_type) : NULL;
			where[nwhere++] = w;
		}
		if (k < nwhere)
			count[k]++;
		else
			other++;
	}
	/*
	 * On a dump not read in full, the kernel's own hung-task reports of tasks kstall could not
	 * read still stand: the log names them (a task read in full and gone exited since).
	 */
	if (!a->coverage.complete)
		for (size_t e = 0; e < a->nevents; e++) {
			if (!unread_hung(a, e))
				continue;
			unread++;
			if (nlogged < KS_VERDICT_MAX_PIDS)
				logged[nlogged++] = e;
			if (npids < KS_VERDICT_MAX_PIDS)
				pids[npids++] = a->events[e].pid;
		}
	if (!(total || unread) || !(v = add(b, KS_VERDICT_HUNG_TASKS, 0.45)))
		return;
	if (unread)
		b->unscaled = (long)(v - a->verdicts);
	for (size_t p = 0; p < npids; p++)
		add_pid(v, pids[p]);
	len = 0;
	if (total) {
		len = (size_t)snprintf(v->summary, sizeof(v->summary),
				       "%zu task%s ha%s slept uninterruptibly for %.0f s or more (%s) with no cause "
				       "kstall can name: ",
				       total, total == 1 ? "" : "s", total == 1 ? "s" : "ve", timeout,
				       a->hung_task_timeout ? "the kernel's hung-task timeout"
							    : "the kernel's default hung-task timeout");
		for (size_t k = 0; k < nwhere && len < sizeof(v->summary); k++)
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%zu %s%s %.100s",
						k ? ", " : "", count[k], kind[k] ? "waiting for " : "in",
						kind[k] ? kind[k] : "", where[k]);
		if (other && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, ", %zu elsewhere", other);
		if (len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, ". %s what %s for.",
						total == 1 ? "Its stack shows" : "Their stacks show",
						total == 1 ? "it waits" : "they wait");
	}
	if (unread && len < sizeof(v->summary)) {
		len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len,
					"%sThe kernel log reports %zu hung task%s kstall could not read: ", total ? " " : "",
					unread, unread == 1 ? "" : "s");
		for (size_t n = 0; n < nlogged && len < sizeof(v->summary); n++) {
			const struct ks_event *ev = &a->events[logged[n]];

			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s (pid %d)", n ? ", " : "",
						ev->comm[0] ? ev->comm : "?", ev->pid);
		}
		if (unread > nlogged && len < sizeof(v->summary))
			len += (size_t)snprintf(v->summary + len, sizeof(v->summary) - len, " and %zu more",
						unread - nlogged);
		if (len < sizeof(v->summary))
			snprintf(v->summary + len, sizeof(v->summary) - len,
				 ". Their stacks are not in what was read; the log's reports show where they slept.");
	}
	/* names only, sorted: the same hang gives the same signature whatever the task order */
	sign_names(v, keys, nwhere, NULL);
}

/* Memory verdicts say since when the system has been stalled on memory, where PSI tells. */
static void add_memory_onset(struct ks_analysis *a)
{
	const struct ks_pressure *p = &a->memory.pressure;
	char words[160];

	if (p->state != KS_PSI_READ || p->sys.onset < 0)
		return;
	if (p->sys.onset_at_least)
		snprintf(words, sizeof(words), " The system has been stalled on memory for %.0f s or more (PSI).",
			 p->sys.onset_min);
	else
		snprintf(words, sizeof(words),
			 " The system has been stalled on memory for about %.0f s (PSI estimate, %.0f-%.0f s).",
			 p->sys.onset, p->sys.onset_min, p->sys.onset_max);
	for (size_t v = 0; v < a->nverdicts; v++) {
		struct ks_verdict *vd = &a->verdicts[v];
		size_t len = strlen(vd->summary);

		if (vd->kind != KS_VERDICT_OOM_DEADLOCK && vd->kind != KS_VERDICT_ALLOC_LOOP_NO_OOM &&
		    vd->kind != KS_VERDICT_RECLAIM_THROTTLE && vd->kind != KS_VERDICT_SHMEM_NO_SWAP &&
		    vd->kind != KS_VERDICT_SLAB_UNRECLAIMABLE &&
		    vd->kind != KS_VERDICT_ALLOC_STORM && vd->kind != KS_VERDICT_OOM_VICTIM_STUCK)
			continue;
		end_sentence(vd->summary, sizeof(vd->summary));
		len = strlen(vd->summary);
		if (len + strlen(words) < sizeof(vd->summary))
			memcpy(vd->summary + len, words, strlen(words) + 1);
	}
}

/*
 * Not all of the dump was read: never "none" then, but this, saying what is
 * missing, next to whatever the tasks read did show. A fixed score below
 * every cause found in full (its certainty is what is missing, not a guess).
 */
#define INCONCLUSIVE_SCORE 0.40
static bool inconclusive(struct builder *b, double scale)
{
	struct ks_analysis *a = b->a;
	size_t found = a->nverdicts, len;
	struct ks_verdict *v = add(b, KS_VERDICT_INCONCLUSIVE, INCONCLUSIVE_SCORE);
	char what[320];

	if (!v)
		return false;
	ks_coverage_words(&a->coverage, what, sizeof(what));
	len = (size_t)snprintf(v->summary, sizeof(v->summary), "The dump could not be read in full, coverage %s "
			       "(COULD NOT READ says what). ", what);
	if (len < sizeof(v->summary)) {
		if (found)
			snprintf(v->summary + len, sizeof(v->summary) - len,
				 "The other verdicts rest on what was read, their scores scaled by %.2f; a cause may "
				 "lie in what was not.", scale);
		else
			snprintf(v->summary + len, sizeof(v->summary) - len,
				 "No stall was found in what was read, but a stall may lie in what was not: this is "
				 "no \"none\".");
	}
	snprintf(v->signature, sizeof(v->signature), "inconclusive");
	return true;
}

static int by_score(const void *x, const void *y)
{
	const struct ks_verdict *a = x, *b = y;

	return a->score < b->score ? 1 : a->score > b->score ? -1 : 0;
}

static struct ks_error *verdict_finish(struct ks_analysis *a, void *ctx)
{
	struct builder b = { .a = a, .unscaled = -1 };
	double scale = ks_coverage_scale(&a->coverage);
	struct census c;

	(void)ctx;
	count(a, &c);
	cycles(&b);
	oom(&b);
	alloc_loops(&b);
	chains(&b);
	reclaim_throttle(&b, &c);
	shmem_no_swap(&b, &c);
	slab_unreclaimable(&b, &c);
	alloc_storm(&b, &c);
	fork_storm(&b);
	memcg_limit(&b);
	hung_tasks(&b);
	add_memory_onset(a);
	/* a verdict rests on the tasks read: scaled by their share (1 on complete coverage) */
	for (size_t v = 0; v < a->nverdicts; v++)
		if ((long)v != b.unscaled)
			a->verdicts[v].score *= scale;
	if (!a->coverage.complete) {
		if (!inconclusive(&b, scale))
			return &ks_error_nomem;
	} else if (!a->nverdicts) {
		size_t gaps = 0;
		bool partial;

		ks_model_support(a, &gaps);
		/* what kstall cannot look up on this kernel may hold the stall: no confident "nothing wrong" then */
		partial = a->problems.count || gaps;
		struct ks_verdict *v = add(&b, KS_VERDICT_NONE, partial ? 0.5 : 1.0);

		if (!v)
			return &ks_error_nomem;
		if (partial) {
			char unread[96] = "", unknown[96] = "";

			if (a->problems.count)
				snprintf(unread, sizeof(unread), "%zu thing%s kstall could not look up (COULD NOT READ)",
					 a->problems.count, a->problems.count == 1 ? "" : "s");
			if (gaps)
				snprintf(unknown, sizeof(unknown), "%zu capabilit%s of this kernel kstall cannot read "
					 "(KERNEL SUPPORT)", gaps, gaps == 1 ? "y" : "ies");
			snprintf(v->summary, sizeof(v->summary),
				 "No stall found in what kstall could read: no lock cycle, no OOM victim, no task "
				 "looping in the allocator. But %s%s%s, and a stall may lie there.", unread,
				 unread[0] && unknown[0] ? "; and " : "", unknown);
		} else
			snprintf(v->summary, sizeof(v->summary),
				 "No stall found: no lock cycle, no OOM victim, no task looping in the allocator.");
		snprintf(v->signature, sizeof(v->signature), "none");
	}
	ks_sort(a->verdicts, a->nverdicts, sizeof(*a->verdicts), by_score);
	return NULL;
}

const struct ks_pass ks_pass_verdict = {
	.name = "verdict",
	.finish = verdict_finish,
};
