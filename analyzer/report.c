/* Rendering the analysis: the text report an engineer reads first, and its JSON. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_SCHEMA_VERSION 1
#define STACK_KEY_FRAMES 6

static const char *lock_name(const struct ks_lock *l)
{
	return l->name[0] ? l->name : "(unnamed)";
}

static bool stalled(const struct ks_analysis *a, size_t i)
{
	const struct ks_task *t = &a->tasks.tasks[i];

	return !t->idle && (a->ta[i].alloc.phase != KS_ALLOC_NONE || a->ta[i].waits_on >= 0 ||
			    t->state_char == 'D');
}

static void stall_words(const struct ks_stall *st, char *buf, size_t size)
{
	if (st->source == KS_STALL_NONE)
		snprintf(buf, size, "since ?");
	else if (st->exact)
		snprintf(buf, size, "%.0f s [%s]", st->seconds, ks_stall_source_name(st->source));
	else
		snprintf(buf, size, "%.0f-%.0f s [%s]", st->min_seconds, st->max_seconds,
			 ks_stall_source_name(st->source));
}

/* A short stack key: the first frames below the scheduler, for grouping. */
static void stack_key(const struct ks_analysis *a, size_t i, char *buf, size_t size)
{
	const struct ks_stack *s = &a->stacks[i];
	size_t len = 0, shown = 0;

	buf[0] = '\0';
	for (size_t f = a->ta[i].first_frame; f < s->count && shown < STACK_KEY_FRAMES; f++) {
		const char *fn = s->frames[f].function;

		if (!strcmp(fn, "context_switch") || !strcmp(fn, "__schedule") || !strcmp(fn, "schedule"))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					shown ? " < " : "", fn);
		shown++;
	}
}

static void report_verdicts(FILE *out, const struct ks_analysis *a)
{
	fprintf(out, "kstall report: kernel %s, up %.0f s at the crash, %zu tasks\n\n",
		ks_kernel_release(a->kernel), (double)a->now_ns / 1e9, a->tasks.count);
	for (size_t v = 0; v < a->nverdicts; v++) {
		const struct ks_verdict *vd = &a->verdicts[v];

		if (v == 0)
			fprintf(out, "VERDICT  %s (score %.2f)\n  %s\n  signature: %s\n", ks_verdict_name(vd->kind),
				vd->score, vd->summary, vd->signature);
		else {
			if (v == 1)
				fprintf(out, "\nOther hypotheses:\n");
			fprintf(out, "  %.2f %s: %s\n", vd->score, ks_verdict_name(vd->kind), vd->summary);
		}
	}
}

static void report_chains(FILE *out, const struct ks_analysis *a)
{
	fprintf(out, "\nLOCK CHAINS\n");
	for (size_t i = 0; i < a->tasks.count; i++) {
		long j = (long)i, seen[16];
		int nseen = 0;

		if (a->ta[i].waits_on < 0)
			continue;
		fprintf(out, "  ");
		for (int steps = 0; steps < 16 && j >= 0; steps++) {
			bool again = false;

			for (int s = 0; s < nseen; s++)
				again |= seen[s] == j;
			if (again) {
				fprintf(out, "%s (pid %d): a cycle", a->tasks.tasks[j].comm,
					a->tasks.tasks[j].pid);
				break;
			}
			seen[nseen++] = j;
			const struct ks_task *t = &a->tasks.tasks[j];
			long w = a->ta[j].waits_on;

			fprintf(out, "%s (pid %d, %c%s%s)", t->comm, t->pid, t->state_char,
				a->ta[j].oom_victim ? ", OOM victim" : "", a->ta[j].in_cycle ? ", in cycle" : "");
			if (w < 0) {
				fprintf(out, ": %s", a->ta[j].activity);
				break;
			}
			fprintf(out, " -> %s %s -> ", ks_wait_type_name(a->ta[j].wait_type),
				lock_name(&a->locks[w]));
			if (a->locks[w].owner < 0) {
				fprintf(out, "(no owner recorded)");
				break;
			}
			if (a->locks[w].owner_is_hint)
				fprintf(out, "(last reader, a hint) ");
			j = a->locks[w].owner;
		}
		fprintf(out, "\n");
	}
}

static void report_stalled(FILE *out, const struct ks_analysis *a)
{
	size_t nstalled = 0;
	bool *done;

	fprintf(out, "\nSTALLED TASKS (grouped by state, activity and stack)\n");
	done = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(bool));
	for (size_t i = 0; done && i < a->tasks.count; i++) {
		char key[512], other[512], when[64];
		size_t count = 0;

		if (done[i] || !stalled(a, i))
			continue;
		stack_key(a, i, key, sizeof(key));
		for (size_t j = i; j < a->tasks.count; j++) {
			if (done[j] || !stalled(a, j) || a->tasks.tasks[j].state_char != a->tasks.tasks[i].state_char ||
			    strcmp(a->ta[j].activity, a->ta[i].activity))
				continue;
			stack_key(a, j, other, sizeof(other));
			if (strcmp(key, other))
				continue;
			done[j] = true;
			count++;
		}
		nstalled += count;
		stall_words(&a->ta[i].stall, when, sizeof(when));
		fprintf(out, "  %3zu x %c  %-16s %s, %s\n         %s\n", count, a->tasks.tasks[i].state_char,
			a->tasks.tasks[i].comm, a->ta[i].activity, when, key);
		if (a->ta[i].alloc.phase != KS_ALLOC_NONE && a->ta[i].alloc.gfp_known) {
			fprintf(out, "         gfp %s, order %u, %s\n", a->ta[i].alloc.gfp_names,
				a->ta[i].alloc.order,
				a->ta[i].alloc.may_oom ? "may invoke the OOM killer"
						       : "may not invoke the OOM killer");
		}
	}
	free(done);
	if (!nstalled)
		fprintf(out, "  none\n");
}

static void report_locks(FILE *out, const struct ks_analysis *a)
{
	fprintf(out, "\nLOCKS\n");
	for (size_t l = 0; l < a->nlocks; l++) {
		const struct ks_lock *lk = &a->locks[l];

		char owner[64] = "none recorded";

		if (lk->owner >= 0)
			snprintf(owner, sizeof(owner), "%s (pid %d%s)", a->tasks.tasks[lk->owner].comm,
				 a->tasks.tasks[lk->owner].pid, lk->owner_is_hint ? ", a hint" : "");
		fprintf(out, "  %-10s %-24s 0x%llx  owner %s, %zu waiter%s\n", ks_lock_type_name(lk->type),
			lock_name(lk), (unsigned long long)lk->address, owner, lk->nwaiters,
			lk->nwaiters == 1 ? "" : "s");
	}
	if (!a->nlocks)
		fprintf(out, "  no task waits on a lock\n");
}

static void report_oom(FILE *out, const struct ks_analysis *a)
{
	bool any = false;

	fprintf(out, "\nOOM\n");
	for (size_t i = 0; i < a->tasks.count; i++) {
		if (!a->ta[i].oom_victim || a->tasks.tasks[i].pid != a->tasks.tasks[i].tgid)
			continue;
		any = true;
		fprintf(out, "  victim %s (pid %d, %c): %s\n", a->tasks.tasks[i].comm,
			a->tasks.tasks[i].pid, a->tasks.tasks[i].state_char, a->ta[i].activity);
	}
	if (!any)
		fprintf(out, "  no OOM victim\n");
}

/* Every task in the page allocator, one line each, with what its frames say about the allocation. */
static void report_alloc(FILE *out, const struct ks_analysis *a)
{
	size_t n = 0;

	fprintf(out, "\nALLOCATOR STATES\n");
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_alloc_state *al = &a->ta[i].alloc;
		char when[64], order[16] = "?";

		if (al->phase == KS_ALLOC_NONE)
			continue;
		n++;
		stall_words(&a->ta[i].stall, when, sizeof(when));
		if (al->order_known)
			snprintf(order, sizeof(order), "%u", al->order);
		fprintf(out, "  %-16s pid %-6d %c  %-14s in %s, %s\n", t->comm, t->pid, t->state_char,
			ks_alloc_phase_name(al->phase), al->where ? al->where : "?", when);
		fprintf(out, "         gfp %s, order %s, %s%s\n",
			al->gfp_known ? al->gfp_names : "unknown", order,
			al->may_oom ? "may invoke the OOM killer" : "may not invoke the OOM killer",
			al->nofail ? ", __GFP_NOFAIL" : "");
	}
	if (!n)
		fprintf(out, "  no task is in the page allocator\n");
}

/*
 * Memory pressure as the analysis sees it today: who allocates, in which
 * phase, and the OOM state. Zone counters are not read by any pass yet.
 */
static void report_memory(FILE *out, const struct ks_analysis *a)
{
	size_t phases[KS_ALLOC_OOM_KILL + 1] = { 0 }, total = 0, nofail = 0, no_oom = 0;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_alloc_state *al = &a->ta[i].alloc;

		if (al->phase == KS_ALLOC_NONE || al->phase > KS_ALLOC_OOM_KILL)
			continue;
		phases[al->phase]++;
		total++;
		nofail += al->nofail;
		no_oom += al->gfp_known && !al->may_oom;
	}
	fprintf(out, "\nMEMORY\n  %zu task%s in the page allocator", total, total == 1 ? "" : "s");
	for (int p = KS_ALLOC_RETRY; p <= KS_ALLOC_OOM_KILL; p++)
		if (phases[p])
			fprintf(out, "%s %zu %s", p == KS_ALLOC_RETRY || !phases[p - 1] ? ":" : ",",
				phases[p], ks_alloc_phase_name((enum ks_alloc_phase)p));
	fprintf(out, "\n  %zu may not invoke the OOM killer, %zu with __GFP_NOFAIL\n", no_oom, nofail);
	fprintf(out, "  zones, watermarks, shmem, dirty and swap: not read by kstall yet\n");
}

static void report_problems(FILE *out, const struct ks_analysis *a)
{
	if (a->problems)
		fprintf(out, "\nCOULD NOT READ\n%s", a->problems);
}

void ks_report_sections(FILE *out, const struct ks_analysis *a, unsigned int sections)
{
	static const struct {
		unsigned int bit;
		void (*print)(FILE *out, const struct ks_analysis *a);
	} order[] = {
		{ KS_REPORT_VERDICTS, report_verdicts }, { KS_REPORT_CHAINS, report_chains },
		{ KS_REPORT_STALLED, report_stalled },	 { KS_REPORT_ALLOC, report_alloc },
		{ KS_REPORT_LOCKS, report_locks },	 { KS_REPORT_MEMORY, report_memory },
		{ KS_REPORT_OOM, report_oom },		 { KS_REPORT_PROBLEMS, report_problems },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (sections & order[i].bit)
			order[i].print(out, a);
}

void ks_report_text(FILE *out, const struct ks_analysis *a)
{
	ks_report_sections(out, a, KS_REPORT_DEFAULT);
}

static json_t *hexstr(uint64_t v)
{
	char buf[19];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

json_t *ks_report_json(const struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	json_t *root = json_object(), *verdicts = json_array(), *tasks = json_array(),
	       *locks = json_array(), *victims = json_array();

	for (size_t v = 0; v < a->nverdicts; v++) {
		const struct ks_verdict *vd = &a->verdicts[v];
		json_t *pids = json_array(), *lks = json_array();

		for (size_t p = 0; p < vd->npids; p++)
			json_array_append_new(pids, json_integer(vd->pids[p]));
		for (size_t l = 0; l < vd->nlocks; l++)
			json_array_append_new(lks, json_pack("{s:s,s:o}", "name",
							     a->locks[vd->locks[l]].name,
							     "address", hexstr(a->locks[vd->locks[l]].address)));
		json_array_append_new(verdicts,
				      json_pack("{s:s,s:f,s:o,s:o,s:s,s:s}", "kind",
						ks_verdict_name(vd->kind), "score", vd->score, "pids", pids,
						"locks", lks, "summary", vd->summary, "signature",
						vd->signature));
	}
	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_task *t = &a->tasks.tasks[i];
		const struct ks_task_analysis *ta = &a->ta[i];
		char st[2] = { t->state_char, 0 };
		json_t *o = json_pack("{s:i,s:i,s:s,s:s,s:b,s:b,s:b,s:b,s:s,s:i}", "pid", t->pid, "tgid",
				      t->tgid, "comm", t->comm, "state", st, "active", t->active, "idle",
				      t->idle, "oom_victim", ta->oom_victim, "in_cycle", ta->in_cycle,
				      "activity", ta->activity, "oom_score_adj", ta->oom_score_adj);

		json_object_set_new(o, "task", hexstr(t->address));
		if (ta->alloc.phase != KS_ALLOC_NONE) {
			json_t *al = json_pack("{s:s,s:s,s:b,s:b}", "phase", ks_alloc_phase_name(ta->alloc.phase),
					       "where", ta->alloc.where, "may_oom", ta->alloc.may_oom,
					       "nofail", ta->alloc.nofail);

			if (ta->alloc.gfp_known) {
				json_object_set_new(al, "gfp", hexstr(ta->alloc.gfp));
				json_object_set_new(al, "gfp_names", json_string(ta->alloc.gfp_names));
			}
			json_object_set_new(al, "order", ta->alloc.order_known ? json_integer(ta->alloc.order)
									  : json_null());
			json_object_set_new(o, "alloc", al);
		} else {
			json_object_set_new(o, "alloc", json_null());
		}
		json_object_set_new(o, "stall",
				    ta->stall.source == KS_STALL_NONE
					    ? json_null()
					    : json_pack("{s:f,s:s,s:b,s:f,s:f}", "seconds", ta->stall.seconds,
							"source", ks_stall_source_name(ta->stall.source),
							"exact", ta->stall.exact, "min_seconds",
							ta->stall.min_seconds, "max_seconds",
							ta->stall.max_seconds));
		if (ta->waits_on >= 0) {
			const struct ks_lock *l = &a->locks[ta->waits_on];

			json_object_set_new(o, "waits_on",
					    json_pack("{s:o,s:s,s:s,s:s}", "address", hexstr(l->address),
						      "name", l->name, "type", ks_lock_type_name(l->type),
						      "mode", ks_wait_type_name(ta->wait_type)));
		} else {
			json_object_set_new(o, "waits_on", json_null());
		}
		json_array_append_new(tasks, o);
		if (ta->oom_victim && t->pid == t->tgid)
			json_array_append_new(victims, json_integer(t->pid));
	}
	for (size_t l = 0; l < a->nlocks; l++) {
		const struct ks_lock *lk = &a->locks[l];

		json_array_append_new(
			locks, json_pack("{s:o,s:s,s:s,s:o,s:b,s:I}", "address", hexstr(lk->address), "name",
					 lk->name, "type", ks_lock_type_name(lk->type), "owner_pid",
					 lk->owner >= 0 ? json_integer(a->tasks.tasks[lk->owner].pid)
							: json_null(),
					 "owner_is_hint", lk->owner_is_hint, "waiters",
					 (json_int_t)lk->nwaiters));
	}
	json_object_set_new(root, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	json_object_set_new(root, "kernel",
			    json_pack("{s:s,s:i,s:f,s:I}", "release", ks_kernel_release(k), "hz",
				      (int)a->hz, "uptime_seconds", (double)a->now_ns / 1e9, "jiffies",
				      (json_int_t)a->jiffies));
	json_object_set_new(root, "verdicts", verdicts);
	json_object_set_new(root, "tasks", tasks);
	json_object_set_new(root, "locks", locks);
	json_object_set_new(root, "oom", json_pack("{s:o}", "victims", victims));
	json_object_set_new(root, "problems", a->problems ? json_string(a->problems) : json_null());
	return root;
}
