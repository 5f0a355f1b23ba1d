/*
 * The events pass: the kernel log lines that matter for a stall (OOM kills,
 * the reaper's results, hung-task reports, allocation failures), each linked
 * to the task it names and dated relative to the crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"

static void copy_comm(char comm[16], const char *from, size_t len)
{
	if (len > 15)
		len = 15;
	memcpy(comm, from, len);
	comm[len] = '\0';
}

/* "PID (comm)" at p: a comm may hold ')' or spaces, so its end is the ')' that ends the line or a field. */
static bool pid_comm(const char *p, int32_t *pid, char comm[16])
{
	char *end;
	long v = strtol(p, &end, 10);
	const char *open, *close = NULL;

	if (end == p || v <= 0 || v > 0x3fffffff || strncmp(end, " (", 2))
		return false;
	open = end + 2;
	for (const char *q = open; *q && q <= open + 16; q++)
		if (*q == ')' && (q[1] == '\0' || q[1] == ' ' || q[1] == ',' || q[1] == '\n'))
			close = q;
	if (!close)
		return false;
	*pid = (int32_t)v;
	copy_comm(comm, open, (size_t)(close - open));
	return true;
}

bool ks_event_parse(const char *text, enum ks_event_kind *kind, int32_t *pid, char comm[16])
{
	const char *p;

	*pid = 0;
	comm[0] = '\0';
	if ((p = strstr(text, "Killed process ")) &&
	    pid_comm(p + strlen("Killed process "), pid, comm)) {
		*kind = KS_EVENT_OOM_KILL;
		return true;
	}
	if ((p = strstr(text, "oom_reaper: reaped process ")) &&
	    pid_comm(p + strlen("oom_reaper: reaped process "), pid, comm)) {
		*kind = KS_EVENT_OOM_REAPED;
		return true;
	}
	if ((p = strstr(text, "oom_reaper: unable to reap pid:")) &&
	    pid_comm(p + strlen("oom_reaper: unable to reap pid:"), pid, comm)) {
		*kind = KS_EVENT_OOM_REAP_FAILED;
		return true;
	}
	if (!strncmp(text, "INFO: task ", 11) && (p = strstr(text, " blocked for more than "))) {
		/* "INFO: task comm:pid blocked ...": the comm may hold ':', the pid is after the last */
		const char *colon = NULL;
		char *end;
		long v;

		for (const char *q = text + 11; q < p; q++)
			if (*q == ':')
				colon = q;
		if (!colon || (v = strtol(colon + 1, &end, 10)) <= 0 || end != p)
			return false;
		*kind = KS_EVENT_HUNG_TASK;
		*pid = (int32_t)v;
		copy_comm(comm, text + 11, (size_t)(colon - (text + 11)));
		return true;
	}
	if ((p = strstr(text, " invoked oom-killer: "))) {
		*kind = KS_EVENT_OOM_INVOKED;
		copy_comm(comm, text, (size_t)(p - text));
		return true;
	}
	if ((p = strstr(text, ": page allocation failure: "))) {
		*kind = KS_EVENT_ALLOC_FAILURE;
		copy_comm(comm, text, (size_t)(p - text));
		return true;
	}
	/* mem_cgroup_print_oom_meminfo; the pid is the caller's */
	if (!strncmp(text, "memory: usage ", 14) && strstr(text, ", limit ")) {
		*kind = KS_EVENT_MEMCG_OOM;
		return true;
	}
	if (strstr(text, "Out of memory and no killable processes")) {
		*kind = KS_EVENT_OOM_NO_VICTIM;
		return true;
	}
	return false;
}

static long task_of(const struct ks_analysis *a, int32_t pid, const char *comm)
{
	const struct ks_task *t = pid ? ks_tasks_find_pid(&a->tasks, pid) : NULL;

	/* pids are reused: the name must agree too, where the line gives one */
	if (!t || t->idle || (comm[0] && strncmp(t->comm, comm, 15)))
		return -1;
	return (long)(t - a->tasks.tasks);
}

/* "NAME:<digits>kB" somewhere after text. */
static bool kb_after(const char *text, const char *name, uint64_t *ret)
{
	const char *p = strstr(text, name);
	char *end;
	unsigned long long v;

	if (!p)
		return false;
	p += strlen(name);
	if (*p < '0' || *p > '9')
		return false;
	v = strtoull(p, &end, 10);
	if (strncmp(end, "kB", 2))
		return false;
	*ret = v;
	return true;
}

/* The memory a kill's or a reap's line gives (oom_kill_process, __oom_reap_task_mm). */
static void event_rss(struct ks_event *ev)
{
	if (ev->kind != KS_EVENT_OOM_KILL && ev->kind != KS_EVENT_OOM_REAPED)
		return;
	ev->rss_known = kb_after(ev->text, "anon-rss:", &ev->anon_kb) &&
			kb_after(ev->text, "file-rss:", &ev->file_kb) &&
			kb_after(ev->text, "shmem-rss:", &ev->shmem_kb);
}

/* A memcg OOM report's usage, limit and failcnt, and the cgroup the next lines name. */
static void memcg_report(const struct ks_log *log, size_t at, struct ks_event *ev)
{
	const char *text = ev->text, *p;

	if (ev->kind != KS_EVENT_MEMCG_OOM)
		return;
	kb_after(text, "memory: usage ", &ev->usage_kb);
	kb_after(text, "limit ", &ev->limit_kb);
	if ((p = strstr(text, "failcnt ")))
		ev->failcnt = strtoull(p + 8, NULL, 10);
	/* "Memory cgroup stats for /path:" follows within the report (memory+swap, kmem lines first) */
	for (size_t r = at + 1; r < log->count && r <= at + 8; r++) {
		const char *t = log->records[r].text;
		size_t len;

		if (!t || strncmp(t, "Memory cgroup stats for ", 24))
			continue;
		t += 24;
		len = strcspn(t, ":");
		snprintf(ev->memcg, sizeof(ev->memcg), "%.*s", (int)(len < sizeof(ev->memcg) ? len : sizeof(ev->memcg) - 1),
			 t);
		break;
	}
}

static struct ks_error *events_finish(struct ks_analysis *a, void *ctx)
{
	const struct ks_log *log = &a->log;
	size_t cap = 0;

	(void)ctx;
	for (size_t i = 0; i < log->count; i++) {
		const struct ks_log_record *r = &log->records[i];
		struct ks_event ev = { .task = -1, .seconds_before = -1, .seq = r->seq };

		if (!r->text || !ks_event_parse(r->text, &ev.kind, &ev.pid, ev.comm))
			continue;
		/* Lines that name no pid were printed by the task itself: the caller id is its pid. */
		if (!ev.pid && r->caller_id && !(r->caller_id & 0x80000000u))
			ev.pid = (int32_t)r->caller_id;
		ev.task = task_of(a, ev.pid, ev.comm);
		if (a->now_ns && r->ts_nsec <= a->now_ns)
			ev.seconds_before = (double)(a->now_ns - r->ts_nsec) / 1e9;
		ev.text = r->text;
		event_rss(&ev);
		memcg_report(log, i, &ev);
		if (a->nevents == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ks_event *n = realloc(a->events, ncap * sizeof(*n));

			if (!n)
				return NULL;
			a->events = n;
			cap = ncap;
		}
		a->events[a->nevents++] = ev;
	}
	return NULL;
}

/* After the log pass: a dump whose log could not be read has no events (a->log is empty). */
const struct ks_pass ks_pass_events = {
	.name = "events",
	.finish = events_finish,
};
