/*
 * Analyzing dumps in parallel, one child process per dump. A process, not a
 * thread: a dump damaged in a way no check foresaw may crash or hang its
 * analysis, and then only that child dies (or is killed at the timeout) and its
 * row says so. The child sends its entry as one JSON object through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "triage/triage.h"

static void fail(struct ks_triage_entry *e, struct ks_error *err)
{
	e->status = KS_TRIAGE_FAILED;
	e->reason = strdup(err->message);
	ks_error_destroy(err);
}

static char *vmcoreinfo_dup(struct ks_target *t, const char *key)
{
	char buf[160];

	return ks_target_vmcoreinfo(t, key, buf, sizeof(buf)) ? strdup(buf) : NULL;
}

/* Read before any analysis, so even a dump that fails later has its date. */
static int64_t crash_time(struct ks_target *t)
{
	char buf[32], *end;
	long long v;

	if (!ks_target_vmcoreinfo(t, "CRASHTIME", buf, sizeof(buf)))
		return 0;
	v = strtoll(buf, &end, 10);
	return *end || end == buf || v <= 0 ? 0 : (int64_t)v;
}

/* The first problem, and how many more there are. */
static char *first_problem(const struct ks_problems *p)
{
	char *s;

	if (p->count > 1 ? asprintf(&s, "%s (and %zu more)", p->items[0].text, p->count - 1) < 0
			 : asprintf(&s, "%s", p->items[0].text) < 0)
		return NULL;
	return s;
}

static void take_verdict(struct ks_triage_entry *e, const struct ks_analysis *a)
{
	const struct ks_verdict *v = &a->verdicts[0];

	e->status = !a->coverage.complete ? KS_TRIAGE_INCONCLUSIVE
		    : a->problems.count	 ? KS_TRIAGE_PARTIAL
					 : KS_TRIAGE_OK;
	e->verdict = strdup(ks_verdict_name(v->kind));
	e->signature = strdup(v->signature);
	e->summary = strdup(v->summary);
	e->score = v->score;
	for (e->npids = 0; e->npids < v->npids && e->npids < KS_VERDICT_MAX_PIDS; e->npids++)
		e->pids[e->npids] = v->pids[e->npids];
	if (e->status == KS_TRIAGE_INCONCLUSIVE) {
		char cover[400], *first = a->problems.count ? first_problem(&a->problems) : NULL;

		ks_coverage_words(&a->coverage, cover, sizeof(cover));
		if (asprintf(&e->reason, "coverage %s%s%s", cover, first ? ": " : "", first ? first : "") < 0)
			e->reason = NULL;
		free(first);
	} else if (a->problems.count) {
		e->reason = first_problem(&a->problems);
	}
}

void ks_triage_analyze(struct ks_triage_entry *e, const struct ks_vmlinux_search *search)
{
	struct ks_target *t;
	struct ks_kernel *k;
	struct ks_analysis a;
	struct ks_settings settings;
	enum ks_vmlinux_origin origin;
	char *cache_dir;
	struct ks_error *err;

	ks_settings_from_env(&settings, &cache_dir);
	err = ks_target_open_kdump(e->path, &settings, &t);

	e->analyzed_at = (int64_t)time(NULL);
	if (err) {
		free(cache_dir);
		fail(e, err);
		return;
	}
	e->release = vmcoreinfo_dup(t, "OSRELEASE");
	e->build_id = vmcoreinfo_dup(t, "BUILD-ID");
	e->crash_time = crash_time(t);
	{
		/* compressed candidates are decompressed once into the cache, not once per dump */
		struct ks_vmlinux_search with = *search;

		with.settings = &settings;
		err = ks_find_vmlinux(t, &with, &e->vmlinux, &origin);
	}
	if (err) {
		free(cache_dir);
		ks_target_destroy(t);
		fail(e, err);
		return;
	}
	err = ks_open_target(t, e->vmlinux, origin, false, &settings, &k);
	free(cache_dir);
	if (err) {
		fail(e, err);
		return;
	}
	err = ks_analyze(k, &a);
	if (err) {
		ks_kernel_destroy(k);
		fail(e, ks_error_wrap(err, "cannot analyze the dump"));
		return;
	}
	if (a.facts.host[0])
		e->host = strdup(a.facts.host);
	if (a.nverdicts)
		take_verdict(e, &a);
	else
		fail(e, ks_error_create(KS_ERR_BAD_DATA, "the analysis gave no verdict"));
	ks_analysis_deinit(&a);
	ks_kernel_destroy(k);
}

/* The child: never returns, never touches the parent's stdio or index. */
static void child(struct ks_triage_entry *e, const struct ks_vmlinux_search *search, int fd)
{
	json_t *j;
	char *s;

	ks_triage_analyze(e, search);
	j = ks_triage_entry_json(e);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	_exit(s && ks_write_all(fd, s, strlen(s)) ? 0 : 3);
}

struct worker {
	pid_t pid;
	int fd;
	size_t index;
	char *buf;
	size_t len, cap;
	struct timespec deadline;
	bool timed_out;
};

static double seconds_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(t->tv_sec - now.tv_sec) + (double)(t->tv_nsec - now.tv_nsec) / 1e9;
}

static bool start(struct worker *w, struct ks_triage_entry *entries, size_t index,
		  const struct ks_triage_run_options *o)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC)) {
		fail(&entries[index], ks_error_create(KS_ERR_OS, "cannot make a pipe: %s",
						      strerror(errno)));
		return false;
	}
	/* What is buffered would be written twice, once by each process. */
	fflush(NULL);
	w->pid = fork();
	if (w->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		fail(&entries[index], ks_error_create(KS_ERR_OS, "cannot start a process: %s",
						      strerror(errno)));
		return false;
	}
	if (w->pid == 0) {
		close(fds[0]);
		child(&entries[index], o->search, fds[1]);
	}
	close(fds[1]);
	w->fd = fds[0];
	w->index = index;
	w->len = 0;
	w->timed_out = false;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += o->timeout;
	return true;
}

static char *exit_words(int status)
{
	char *s = NULL;

	if (WIFSIGNALED(status)) {
		if (asprintf(&s, "the analysis crashed: %s", strsignal(WTERMSIG(status))) < 0)
			s = NULL;
	} else if (asprintf(&s, "the analysis ended without a result (exit status %d)",
			    WEXITSTATUS(status)) < 0) {
		s = NULL;
	}
	return s;
}

/* The child closed its end: take its result, or say how it ended. */
static void finish(struct worker *w, struct ks_triage_entry *entries, unsigned int timeout)
{
	struct ks_triage_entry *e = &entries[w->index];
	json_t *j = w->len ? json_loadb(w->buf, w->len, 0, NULL) : NULL;
	struct ks_error *err = NULL;
	int status = 0;

	close(w->fd);
	w->fd = -1;
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (j)
		err = ks_triage_entry_from_json(j, e);
	if (!j || err) {
		ks_error_destroy(err);
		e->status = KS_TRIAGE_FAILED;
		if (w->timed_out) {
			if (asprintf(&e->reason, "the analysis took more than %u s and was stopped",
				     timeout) < 0)
				e->reason = NULL;
		} else {
			e->reason = exit_words(status);
		}
	}
	json_decref(j);
}

/* Read what a child sent; false at its end. */
static bool drain(struct worker *w)
{
	char chunk[16384];
	ssize_t n = read(w->fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (w->len + (size_t)n > w->cap) {
		size_t cap = (w->len + (size_t)n) * 2;
		char *b = realloc(w->buf, cap);

		if (!b)
			return false; /* the result is lost; the row says it ended without one */
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, chunk, (size_t)n);
	w->len += (size_t)n;
	return true;
}

struct pool {
	struct worker *ws;
	struct pollfd *pfd;
	size_t *map;
	size_t nw, active;
	struct ks_triage_entry *entries;
	const struct ks_triage_run_options *o;
};

/* Kill the children past their time; the seconds until the next deadline, < 0 for none. */
static double enforce_timeouts(struct pool *p)
{
	double soonest = -1;

	for (size_t i = 0; p->o->timeout && i < p->nw; i++) {
		struct worker *w = &p->ws[i];
		double left;

		if (w->fd < 0 || w->timed_out)
			continue;
		left = seconds_until(&w->deadline);
		if (left <= 0) {
			/* SIGKILL: a hung analysis may not be in a state to handle anything else. */
			kill(w->pid, SIGKILL);
			w->timed_out = true;
		} else if (soonest < 0 || left < soonest) {
			soonest = left;
		}
	}
	return soonest;
}

/* Wait until a child sends something, ends, or reaches its deadline. */
static void wait_some(struct pool *p)
{
	double soonest = enforce_timeouts(p);
	size_t np = 0;

	for (size_t i = 0; i < p->nw; i++) {
		if (p->ws[i].fd < 0)
			continue;
		p->pfd[np] = (struct pollfd){ .fd = p->ws[i].fd, .events = POLLIN };
		p->map[np++] = i;
	}
	if (poll(p->pfd, np, soonest < 0 ? -1 : (int)(soonest * 1000) + 1) <= 0)
		return;
	for (size_t i = 0; i < np; i++) {
		struct worker *w = &p->ws[p->map[i]];

		if (!p->pfd[i].revents || drain(w))
			continue;
		finish(w, p->entries, p->o->timeout);
		p->active--;
		p->o->done(p->o->arg, w->index);
	}
}

/* Start children on the idle workers while dumps wait; *next is the first not yet started. */
static void fill(struct pool *p, size_t n, size_t *next)
{
	for (size_t i = 0; i < p->nw && *next < n; i++) {
		if (p->ws[i].fd >= 0)
			continue;
		while (*next < n && p->entries[*next].status != KS_TRIAGE_PENDING)
			(*next)++;
		if (*next == n)
			return;
		if (start(&p->ws[i], p->entries, *next, p->o))
			p->active++;
		else
			p->o->done(p->o->arg, *next);
		(*next)++;
	}
}

void ks_triage_run(struct ks_triage_entry *entries, size_t n,
		   const struct ks_triage_run_options *o)
{
	struct pool p = { .nw = o->jobs ? o->jobs : 1, .entries = entries, .o = o };
	size_t next = 0;

	p.ws = calloc(p.nw, sizeof(*p.ws));
	p.pfd = calloc(p.nw, sizeof(*p.pfd));
	p.map = calloc(p.nw, sizeof(*p.map));
	if (!p.ws || !p.pfd || !p.map) {
		for (size_t i = 0; i < n; i++) {
			if (entries[i].status != KS_TRIAGE_PENDING)
				continue;
			fail(&entries[i], &ks_error_nomem);
			o->done(o->arg, i);
		}
		n = 0;
	}
	for (size_t i = 0; i < p.nw && p.ws; i++)
		p.ws[i].fd = -1;
	for (;;) {
		fill(&p, n, &next);
		if (!p.active)
			break;
		wait_some(&p);
	}
	for (size_t i = 0; i < p.nw && p.ws; i++)
		free(p.ws[i].buf);
	free(p.ws);
	free(p.pfd);
	free(p.map);
}
