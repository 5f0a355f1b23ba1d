#include "kstall/tasks.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "base/search.h"

/* Far above any real system; a longer list is a loop the visited set missed. */
#define MAX_TASKS (1u << 22)
#define MAX_STATE_LETTERS 32

/*
 * Values the kernel defines with #define, so DWARF cannot give them. They hold
 * for every kernel whose task_state_array ends in 'I' (4.14 and later).
 */
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_NOLOAD 0x400
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_FROZEN 0x8000

static int fls64(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

char ks_state_char(const char *letters, size_t n, uint64_t state, uint64_t exit_state)
{
	uint64_t report, s;
	size_t idx;

	if (!n)
		return '?';
	if (letters[n - 1] == 'I') {
		/* One letter per report bit, then 'I' for TASK_IDLE. */
		report = (1ull << (n - 2)) - 1;
		s = (state | exit_state) & report;
		if ((state & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) ==
		    (TASK_UNINTERRUPTIBLE | TASK_NOLOAD))
			return 'I';
		if (state & (TASK_RTLOCK_WAIT | TASK_FROZEN))
			s = TASK_UNINTERRUPTIBLE;
	} else {
		report = n >= 64 ? ~0ull : (1ull << (n - 1)) - 1;
		s = (state | exit_state) & report;
	}
	idx = (size_t)fls64(s);
	return idx < n ? letters[idx] : '?';
}

/* What the visited set records: how a task was first met. */
#define SEEN_IDLE ((void *)1)
#define SEEN_THREAD ((void *)2)
#define SEEN_LEADER ((void *)3)

struct walk {
	struct ks_kernel *k;
	struct ks_tasks *out;
	size_t cap;
	struct ks_u64map seen;
	char letters[MAX_STATE_LETTERS];
	size_t nletters;
};

static void load_state_letters(struct walk *w)
{
	uint64_t addr, n;

	if (!ks_kernel_array(w->k, KS_A_TASK_STATE_ARRAY, &addr, &n) || n > MAX_STATE_LETTERS) {
		ks_problems_add(&w->out->problems, KS_ERR_LOOKUP, 0, 0, "no task_state_array: state letters unknown");
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t str = 0;
		char c;
		enum ks_error_code code = ks_read_code(w->k, addr + 8 * i, &str, sizeof(str));

		if (!code)
			code = ks_read_code(w->k, str, &c, 1);
		if (code) {
			ks_problems_add(&w->out->problems, code, 0, code == KS_ERR_NODATA ? 0 : addr + 8 * i,
					"cannot read task_state_array[%llu]", (unsigned long long)i);
			w->nletters = 0;
			return;
		}
		w->letters[i] = c;
	}
	w->nletters = n;
}

/* Keep the first failed read's code in *partial; true when code says the read went through. */
static bool read_part(enum ks_error_code *partial, enum ks_error_code code)
{
	if (code && !*partial)
		*partial = code;
	return !code;
}

static struct ks_error *add_task(struct walk *w, uint64_t addr, bool idle)
{
	struct ks_kernel *k = w->k;
	struct ks_task *t;
	uint64_t v, parent;
	/* the first read that failed, for the problem line */
	enum ks_error_code partial = 0;

	if (ks_u64map_get(&w->seen, addr))
		return NULL;
	if (!ks_u64map_put(&w->seen, addr, idle ? SEEN_IDLE : SEEN_THREAD))
		return &ks_error_nomem;
	if (w->out->count == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct ks_task *n = realloc(w->out->tasks, cap * sizeof(*n));

		if (!n)
			return &ks_error_nomem;
		w->out->tasks = n;
		w->cap = cap;
	}
	t = &w->out->tasks[w->out->count];
	memset(t, 0, sizeof(*t));
	t->address = addr;
	t->idle = idle;
	t->cpu = -1;
#define FIELD(f, dst)                                            \
	do {                                                     \
		enum ks_error_code c_ = ks_read_field_code(k, addr, f, &v); \
		if (c_) {                                        \
			partial = partial ? partial : c_;        \
		} else {                                         \
			dst;                                     \
		}                                                \
	} while (0)
	FIELD(KS_F_TASK_PID, t->pid = (int32_t)v);
	FIELD(KS_F_TASK_TGID, t->tgid = (int32_t)v);
	FIELD(KS_F_TASK_STATE, t->state = v);
	FIELD(KS_F_TASK_EXIT_STATE, t->exit_state = v);
	FIELD(KS_F_TASK_FLAGS, t->flags = v);
	if (ks_kernel_has(k, KS_F_TASK_ON_CPU))
		FIELD(KS_F_TASK_ON_CPU, t->on_cpu = v != 0);
	if (ks_kernel_has(k, KS_F_TASK_CPU))
		FIELD(KS_F_TASK_CPU, t->cpu = (int)(int32_t)v);
	FIELD(KS_F_TASK_STACK, t->stack = v);
	FIELD(KS_F_TASK_THREAD_SP, t->thread_sp = v);
	FIELD(KS_F_TASK_SIGNAL, t->signal = v);
#undef FIELD
	{
		/* Optional to the walk: each pass says what it lacks. */
		static const struct {
			enum ks_field f;
			size_t off;
		} optional[] = {
			{ KS_F_TASK_MM, offsetof(struct ks_task, mm) },
			{ KS_F_TASK_LAST_ARRIVAL, offsetof(struct ks_task, last_arrival) },
			{ KS_F_TASK_LAST_SWITCH_TIME, offsetof(struct ks_task, last_switch_time) },
			{ KS_F_TASK_START_TIME, offsetof(struct ks_task, start_time) },
			{ KS_F_TASK_DELAYS, offsetof(struct ks_task, delays) },
			{ KS_F_TASK_MEMALLOC_VALID, offsetof(struct ks_task, memalloc_valid) },
			{ KS_F_TASK_MEMALLOC_START, offsetof(struct ks_task, memalloc_start) },
			{ KS_F_TASK_BLOCKER, offsetof(struct ks_task, blocker) },
			{ KS_F_TASK_BLOCKER_MUTEX, offsetof(struct ks_task, blocker) },
			{ KS_F_TASK_PI_BLOCKED_ON, offsetof(struct ks_task, pi_blocked_on) },
			{ KS_F_TASK_CGROUPS, offsetof(struct ks_task, css_set) },
		};

		/* a field the kernel lacks is no problem; one it has that cannot be read makes the task partial */
		for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
			if (ks_kernel_has(k, optional[i].f) &&
			    read_part(&partial, ks_read_field_code(k, addr, optional[i].f, &v)))
				memcpy((char *)t + optional[i].off, &v, sizeof(v));
	}
	{
		uint64_t nv, niv;

		t->switch_known = ks_kernel_has_all(k, (enum ks_field[]){ KS_F_TASK_LAST_SWITCH_COUNT,
									 KS_F_TASK_NVCSW, KS_F_TASK_NIVCSW }, 3) &&
				  read_part(&partial, ks_read_field_code(k, addr, KS_F_TASK_LAST_SWITCH_COUNT,
									  &t->last_switch_count)) &&
				  read_part(&partial, ks_read_field_code(k, addr, KS_F_TASK_NVCSW, &nv)) &&
				  read_part(&partial, ks_read_field_code(k, addr, KS_F_TASK_NIVCSW, &niv));
		t->switch_count = t->switch_known ? nv + niv : 0;
	}
	if (ks_kernel_has(k, KS_F_TASK_RSS_STAT_COUNT) &&
	    ks_kernel_fsize(k, KS_F_TASK_RSS_STAT_COUNT) == sizeof(t->rss_delta))
		t->rss_delta_known = read_part(&partial, ks_read_code(k, addr + ks_kernel_off(k, KS_F_TASK_RSS_STAT_COUNT),
								     t->rss_delta, sizeof(t->rss_delta)));
	/* The OOM marks live in the signal_struct, which the thread walk reads anyway. */
	if (t->signal) {
		if (ks_kernel_has(k, KS_F_SIGNAL_OOM_MM) &&
		    read_part(&partial, ks_read_field_code(k, t->signal, KS_F_SIGNAL_OOM_MM, &v)))
			t->oom_mm = v;
		if (ks_kernel_has(k, KS_F_SIGNAL_OOM_SCORE_ADJ) &&
		    read_part(&partial, ks_read_field_code(k, t->signal, KS_F_SIGNAL_OOM_SCORE_ADJ, &v))) {
			t->oom_score_adj = (int16_t)v;
			t->oom_score_adj_known = true;
		}
	}
	{
		enum ks_error_code c = ks_read_code(k, addr + ks_kernel_off(k, KS_F_TASK_COMM), t->comm, KS_COMM_LEN);

		partial = partial ? partial : c;
	}
	t->comm[KS_COMM_LEN] = '\0';
	if (read_part(&partial, ks_read_field_code(k, addr, KS_F_TASK_REAL_PARENT, &parent)) && parent) {
		enum ks_error_code c = ks_read_field_code(k, parent, KS_F_TASK_PID, &v);

		if (c)
			partial = partial ? partial : c;
		else
			t->ppid = (int32_t)v;
	}
	t->state_char = ks_state_char(w->letters, w->nletters, t->state, t->exit_state);
	t->partial = partial != 0;
	if (partial)
		ks_problems_add(&w->out->problems, partial, addr, 0, "task 0x%llx: some fields could not be read",
				(unsigned long long)addr);
	w->out->count++;
	return NULL;
}

/*
 * Walk a circular list_head from head; calls fn for each entry's container.
 * A list that circles without coming back to head is caught by Brent's cycle
 * check (a saved position, moved at each power of two) within twice the
 * loop's length, without a second read per step.
 */
static struct ks_error *walk_list(struct walk *w, uint64_t head, uint64_t member_off,
				  const char *what,
				  struct ks_error *(*fn)(struct walk *, uint64_t))
{
	uint64_t pos, prev = head, saved = head;
	size_t n = 0, power = 1, lam = 0;
	struct ks_error *err;

	if ((err = ks_read_u64(w->k, head, &pos))) {
		ks_problems_add_error(&w->out->problems, err, 0, what);
		ks_error_destroy(err);
		return NULL;
	}
	while (pos != head) {
		if (++n > MAX_TASKS) {
			ks_problems_add(&w->out->problems, KS_ERR_BAD_DATA, 0, 0,
					"%s: more than %u entries, stopped (a loop?)", what, MAX_TASKS);
			return NULL;
		}
		if (!pos) {
			ks_problems_add(&w->out->problems, KS_ERR_BAD_DATA, 0, prev, "%s: NULL link after 0x%llx",
					what, (unsigned long long)prev);
			return NULL;
		}
		if (pos == saved || pos == prev) {
			ks_problems_add(&w->out->problems, KS_ERR_BAD_DATA, 0, pos,
					"%s: loops back to 0x%llx after %zu entries, stopped", what,
					(unsigned long long)pos, n - 1);
			return NULL;
		}
		if (++lam == power) {
			saved = pos;
			power *= 2;
			lam = 0;
		}
		err = fn(w, pos - member_off);
		if (err == &ks_error_nomem)
			return err;
		if (err) {
			ks_problems_add_error(&w->out->problems, err, 0, what);
			ks_error_destroy(err);
			return NULL;
		}
		prev = pos;
		if ((err = ks_read_u64(w->k, pos, &pos))) {
			ks_problems_add_error(&w->out->problems, err, 0, what);
			ks_error_destroy(err);
			return NULL;
		}
	}
	return NULL;
}

static struct ks_error *add_thread(struct walk *w, uint64_t task)
{
	return add_task(w, task, false);
}

static struct ks_error *add_leader(struct walk *w, uint64_t leader)
{
	struct ks_kernel *k = w->k;
	struct ks_error *err;
	uint64_t signal;
	size_t before = w->out->count;

	void *seen = ks_u64map_get(&w->seen, leader);

	/* A leader already seen as a leader means the task list came back on itself. */
	if (seen == SEEN_LEADER || seen == SEEN_IDLE)
		return ks_error_create(KS_ERR_BAD_DATA, "task 0x%llx listed twice",
				       (unsigned long long)leader);
	if (seen) {
		/* Met before on another process's (damaged) thread list: keep it, walk its threads. */
		ks_problems_add(&w->out->problems, KS_ERR_BAD_DATA, leader, 0,
				"task 0x%llx is on the task list and on another process's thread list",
				(unsigned long long)leader);
	} else {
		err = add_task(w, leader, false);
		if (err || w->out->count == before)
			return err;
	}
	if (!ks_u64map_put(&w->seen, leader, SEEN_LEADER))
		return &ks_error_nomem;
	if (ks_kernel_has(k, KS_F_TASK_THREAD_NODE) && ks_kernel_has(k, KS_F_SIGNAL_THREAD_HEAD)) {
		err = ks_read_field(k, leader, KS_F_TASK_SIGNAL, &signal);
		if (err)
			return ks_error_wrap(err, "signal of task 0x%llx", (unsigned long long)leader);
		return walk_list(w, signal + ks_kernel_off(k, KS_F_SIGNAL_THREAD_HEAD),
				 ks_kernel_off(k, KS_F_TASK_THREAD_NODE), "thread list", add_thread);
	}
	if (ks_kernel_has(k, KS_F_TASK_THREAD_GROUP))
		return walk_list(w, leader + ks_kernel_off(k, KS_F_TASK_THREAD_GROUP),
				 ks_kernel_off(k, KS_F_TASK_THREAD_GROUP), "thread list", add_thread);
	return NULL;
}

static int task_cmp(const void *a, const void *b)
{
	const struct ks_task *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

static void mark_active(struct walk *w)
{
	struct ks_kernel *k = w->k;
	int panic_cpu = ks_kernel_panic_cpu(k);

	for (unsigned int c = 0; c < ks_kernel_nr_cpus(k); c++) {
		uint64_t rq, curr;

		enum ks_error_code code;

		if (!ks_kernel_runqueue(k, c, &rq))
			continue;
		if ((code = ks_read_field_code(k, rq, KS_F_RQ_CURR, &curr))) {
			if (code != KS_ERR_LOOKUP)
				ks_problems_add(&w->out->problems, code, 0, rq + ks_kernel_off(k, KS_F_RQ_CURR),
						"cannot read CPU %u's running task (rq.curr, %s): the task on it is "
						"taken as sleeping",
						c, ks_error_code_name(code));
			continue;
		}
		for (size_t i = 0; i < w->out->count; i++) {
			struct ks_task *t = &w->out->tasks[i];

			if (t->address == curr) {
				t->active = true;
				t->panic = (int)c == panic_cpu;
			}
		}
	}
}

struct ks_error *ks_tasks_load(struct ks_kernel *k, struct ks_tasks *ret)
{
	struct walk w = { .k = k, .out = ret };
	struct ks_error *err = NULL;
	uint64_t init_task;

	memset(ret, 0, sizeof(*ret));
	if (!ks_kernel_symbol(k, "init_task", &init_task))
		return ks_error_create(KS_ERR_LOOKUP, "no init_task symbol");
	/* What the file itself lacks, first: a list read before the damage is then not taken as whole. */
	if (ks_target_damage(ks_kernel_target(k)))
		ks_problems_add(&w.out->problems, KS_ERR_BAD_DATA, 0, 0, "the dump file: %s",
				ks_target_damage(ks_kernel_target(k)));
	if (ks_kernel_vmcoreinfo_damage(k))
		ks_problems_add(&w.out->problems, KS_ERR_BAD_DATA, 0, 0, "the dump file: %s",
				ks_kernel_vmcoreinfo_damage(k));
	load_state_letters(&w);
	/* The idle tasks first: they are on no list. CPU 0's is init_task itself. */
	for (unsigned int c = 0; c < ks_kernel_nr_cpus(k); c++) {
		uint64_t rq, idle;

		if (!ks_kernel_cpu_online(k, c))
			continue;
		err = ks_kernel_per_cpu(k, "runqueues", c, &rq);
		if (!err)
			err = ks_read_field(k, rq, KS_F_RQ_IDLE, &idle);
		if (err) {
			ks_problems_add(&w.out->problems, err->code, 0, err->address,
					"cannot read the idle task of CPU %u: %s", c, err->message);
			ks_error_destroy(err);
			err = NULL;
			continue;
		}
		err = add_task(&w, idle, true);
		if (err)
			goto out;
	}
	err = walk_list(&w, init_task + ks_kernel_off(k, KS_F_TASK_TASKS),
			ks_kernel_off(k, KS_F_TASK_TASKS), "task list", add_leader);
	if (err)
		goto out;
	mark_active(&w);
	ks_sort(ret->tasks, ret->count, sizeof(*ret->tasks), task_cmp);
	/* up to half the table is room never used: the analysis's tables take its place */
	if (ret->count && ret->count < w.cap) {
		struct ks_task *fit = realloc(ret->tasks, ret->count * sizeof(*fit));

		if (fit)
			ret->tasks = fit;
	}
out:
	ks_u64map_free(&w.seen);
	if (err)
		ks_tasks_deinit(ret);
	return err;
}

void ks_tasks_deinit(struct ks_tasks *tasks)
{
	free(tasks->tasks);
	ks_problems_deinit(&tasks->problems);
	memset(tasks, 0, sizeof(*tasks));
}

const struct ks_task *ks_tasks_find_pid(const struct ks_tasks *tasks, int32_t pid)
{
	for (size_t i = 0; i < tasks->count; i++)
		if (tasks->tasks[i].pid == pid && !tasks->tasks[i].idle)
			return &tasks->tasks[i];
	return NULL;
}
