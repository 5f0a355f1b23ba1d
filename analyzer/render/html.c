/*
 * The HTML report. One file a support engineer can open offline or attach to a
 * ticket: a Content-Security-Policy forbids every fetch, style and script are
 * inline, and the pictures are inline SVG. Each section is a small function over
 * the model, so a new pass gets its section by adding one.
 *
 * Every string that comes from the dump (comm, lock and symbol names, log text,
 * and the verdict summaries and activities built from them) is written through
 * ks_html_escape(). Format strings given to put() carry only kstall's own text
 * and numbers.
 */
#include "render/html.h"

#ifndef KSTALL_VERSION
#define KSTALL_VERSION "0"
#endif

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/report.h"
#include "base/utf8.h"
#include "base/search.h"

/* U+2026 HORIZONTAL ELLIPSIS, in UTF-8. */
#define ELLIPSIS "\xe2\x80\xa6"

void ks_html_escape(FILE *out, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	while (*p) {
		size_t len = ks_utf8_len(p);

		if (chars++ == max_chars) {
			fputs(ELLIPSIS, out);
			return;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			/* Control characters are parse errors in HTML and invisible in a terminal-less page. */
			if (!len || (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
				fputs(KS_UTF8_REPLACEMENT, out);
			else
				fwrite(p, 1, len, out);
		}
		p += len ? len : 1;
	}
}

/* The unplaced label with the smallest x (ties: the first), n when all are placed. */
static size_t next_label(const struct ks_html_label *l, size_t n)
{
	size_t best = n;

	for (size_t i = 0; i < n; i++)
		if (l[i].lane == UINT_MAX && (best == n || l[i].x < l[best].x))
			best = i;
	return best;
}

/* The right edge of the labels placed in lane so far, -INFINITY when it has none. */
static double lane_right(const struct ks_html_label *l, size_t n, unsigned lane)
{
	double right = -INFINITY;

	for (size_t i = 0; i < n; i++)
		if (l[i].lane == lane)
			right = fmax(right, l[i].left + l[i].width);
	return right;
}

unsigned ks_html_place_labels(struct ks_html_label *labels, size_t n, double lo, double hi, double gap,
			      double max_shift)
{
	unsigned lanes = 0;
	size_t i;

	for (i = 0; i < n; i++)
		labels[i].lane = UINT_MAX;
	while ((i = next_label(labels, n)) < n) {
		struct ks_html_label *l = &labels[i];
		/* centred on its point, within the picture; a NaN point goes to the left edge */
		double want = l->x - l->width / 2;

		want = want > hi - l->width ? hi - l->width : want;
		want = want >= lo ? want : lo;
		for (unsigned lane = 0;; lane++) {
			double right = lane_right(labels, n, lane);
			double left = fmax(want, right + gap);

			/* an empty lane always takes it, so this ends */
			if (right == -INFINITY || (left - want <= max_shift && left + l->width <= hi)) {
				l->left = left;
				l->lane = lane;
				lanes = lane + 1 > lanes ? lane + 1 : lanes;
				break;
			}
		}
	}
	return lanes;
}

struct html {
	FILE *out;
	const struct ks_analysis *a;
	const struct ks_log *log;
	/* per task */
	bool *stalled, *owns, *named;
	size_t nstalled;
};

static void put(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(h->out, fmt, ap);
	va_end(ap);
}

static void esc(struct html *h, const char *s)
{
	ks_html_escape(h->out, s, SIZE_MAX);
}

static void escn(struct html *h, const char *s, size_t max_chars)
{
	ks_html_escape(h->out, s, max_chars);
}

static const struct ks_task *task(const struct html *h, size_t i)
{
	return &h->a->tasks.tasks[i];
}

static const char *lock_name(const struct ks_lock *l)
{
	return l->name[0] ? l->name : "(unnamed)";
}

/* The CSS class of a state letter; the palette lives in the style sheet. */
static const char *state_class(char st)
{
	switch (st) {
	case 'D':
		return "st-D";
	case 'R':
		return "st-R";
	case 'S':
		return "st-S";
	default:
		return "st-o";
	}
}

static const char *source_words(enum ks_stall_source s)
{
	switch (s) {
	case KS_STALL_MEMALLOC:
		return "task_struct.memalloc.start, written when the allocation began (exact)";
	case KS_STALL_DELAYACCT:
		return "delay accounting freepages_start, when direct reclaim began (a bound)";
	case KS_STALL_HUNG_TASK:
		return "last_switch_time, the hung-task detector's last context switch (a bound)";
	case KS_STALL_SCHED_INFO:
		return "sched_info.last_arrival, the last time the task got a CPU (a bound)";
	case KS_STALL_PSI:
		return "the system's memory stall onset from PSI, for a task allocating in it (an estimate)";
	case KS_STALL_LOG:
		return "the log: its first OOM killer invocation, and it is still allocating (an estimate)";
	default:
		return "unknown";
	}
}

/*
 * The id of the task's row. Idle tasks all have pid 0, so theirs names the CPU;
 * a task whose pid could not be read (a damaged dump) is named by its address.
 */
static void row_id(struct html *h, size_t i)
{
	const struct ks_task *t = task(h, i);

	if (t->idle)
		put(h, "idle-cpu-%d", t->cpu);
	else if (!t->pid)
		put(h, "task-at-%llx", (unsigned long long)t->address);
	else
		put(h, "task-%d", t->pid);
}

/* A link to the task's row: "comm (pid)", or its address when neither could be read. */
static void task_link(struct html *h, size_t i)
{
	const struct ks_task *t = task(h, i);

	put(h, "<a href=\"#");
	row_id(h, i);
	put(h, "\">");
	if (!t->pid && !t->idle && !t->comm[0]) {
		put(h, "task 0x%llx</a>", (unsigned long long)t->address);
		return;
	}
	esc(h, t->comm);
	put(h, " (%d)</a>", t->pid);
}

/* A model built in memory (the unit tests) has no kernel behind it. */
static const char *release(const struct html *h)
{
	return h->a->kernel ? ks_kernel_release(h->a->kernel) : "(unknown)";
}

static long task_index(const struct html *h, int32_t pid)
{
	const struct ks_task *t = ks_tasks_find_pid(&h->a->tasks, pid);

	return t ? (long)(t - h->a->tasks.tasks) : -1;
}

/* ---- head and header ---- */

static const char STYLE[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d232a;"
	"background:#f4f6f8}\n"
	"main{max-width:1240px;margin:0 auto;padding:0 20px 40px}\n"
	"header{background:#1d2733;color:#e8edf2;padding:14px 20px}\n"
	"header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#b8c4d0}\n"
	"nav{margin-top:6px}nav a{color:#9cc7ff;margin-right:14px;text-decoration:none}\n"
	"section{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:16px 0;padding:12px 18px}\n"
	"h2{font-size:17px;margin:4px 0 10px}h3{font-size:14px;margin:12px 0 6px}\n"
	"code,pre,.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:12.5px}\n"
	"a{color:#0b5cad}\n"
	"table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;"
	"border-bottom:1px solid #eceff2;vertical-align:top}th{background:#f6f8fa;font-weight:600}\n"
	".verdict{border-left:6px solid #c62828}.verdict.ok{border-left-color:#2e7d32}\n"
	".verdict.inconclusive{border-left-color:#ef8f00}.verdict.inconclusive .kind{background:#fff3e0;color:#e65100}\n"
	".coverage.incomplete{color:#e65100;font-weight:600}\n"
	".verdict .kind{font-family:ui-monospace,monospace;background:#fdecea;color:#b71c1c;padding:1px 6px;"
	"border-radius:4px}.verdict.ok .kind{background:#e8f5e9;color:#1b5e20}\n"
	".summary{font-size:15px;margin:6px 0}.muted{color:#5f6b76}\n"
	".badge{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;margin-left:4px;"
	"background:#eceff2}.badge.cyc{background:#fdecea;color:#b71c1c}.badge.oom{background:#fff3e0;"
	"color:#e65100}\n"
	".st{display:inline-block;width:18px;text-align:center;border-radius:3px;color:#fff;"
	"font-weight:600}\n"
	".st.st-D,.legend .st-D{background:#c62828}.st.st-R,.legend .st-R{background:#ef8f00}"
	".st.st-S,.legend .st-S{background:#1e88e5}.st.st-o,.legend .st-o{background:#78909c}\n"
	".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;"
	"height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}\n"
	".legend i.unc{background:#c62828;opacity:.3}.legend i.cyc{border:2px solid #c62828;"
	"background:#fdecea}.legend i.oom{border:2px solid #e65100;background:#fff3e0}\n"
	"svg{display:block;max-width:100%;height:auto;margin:8px 0}\n"
	"svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#1d232a}\n"
	"svg .mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:11px}\n"
	"svg .sub{fill:#5f6b76;font-size:11px}svg .head{font-weight:600;fill:#5f6b76}\n"
	".node rect{fill:#fff;stroke:#90a4ae;stroke-width:1.2}.node.lock rect{fill:#eef3f8;stroke:#546e7a}\n"
	".node.cycle rect{fill:#fdecea;stroke:#c62828;stroke-width:2.4}\n"
	".node.oom rect{fill:#fff3e0;stroke:#e65100;stroke-width:2.4}\n"
	".node.more rect{fill:#f6f8fa;stroke-dasharray:4 3}\n"
	".edge{fill:none;stroke:#78909c;stroke-width:1.4}.edge.own{stroke:#1e88e5}"
	".edge.back{stroke:#6d4c41;stroke-dasharray:6 3}.edge.cycle{stroke:#c62828;stroke-width:2.4}"
	".edge.hint{stroke-dasharray:2 3}\n"
	".bar.st-D rect{fill:#c62828}.bar.st-R rect{fill:#ef8f00}.bar.st-S rect{fill:#1e88e5}"
	".bar.st-o rect{fill:#78909c}.bar rect.unc{opacity:.3}.bar:hover rect{stroke:#000}\n"
	"line.leader{stroke-width:1;opacity:.7}\n"
	".axis line{stroke:#b0bec5}.axis text{fill:#5f6b76;font-size:11px}\n"
	".kill line{stroke:#e65100;stroke-width:1.5;stroke-dasharray:4 2}.kill path{fill:#e65100}"
	".legend i.kill{background:#e65100;width:4px}\n"
	".onset rect{fill:#6a1b9a;opacity:.12}.onset line{stroke:#6a1b9a;stroke-width:1.5}"
	".legend i.onset{background:#6a1b9a;opacity:.4}\n"
	"#events-table td{font-size:13px}#events-table td.num{white-space:nowrap;text-align:right}"
	"#memory table{margin:6px 0 14px}#memory td.num{white-space:nowrap;text-align:right}"
	"#events-table tr:target{background:#fff8c4}\n"
	".ev{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;white-space:nowrap;"
	"background:#eceff2}.ev.ev-oom_kill,.ev.ev-oom_reap_failed{background:#fff3e0;color:#e65100}"
	".ev.ev-hung_task,.ev.ev-alloc_failure{background:#fdecea;color:#b71c1c}\n"
	"details.grp{border:1px solid #e3e7eb;border-radius:4px;margin:4px 0;padding:2px 8px}\n"
	"details.grp summary{cursor:pointer;padding:2px 0}details.grp ol{margin:4px 0 6px;padding-left:28px}\n"
	".cnt{display:inline-block;min-width:44px;font-weight:600}\n"
	"#tasks td{font-size:13px}#tasks tr[hidden]{display:none}#tasks tr:target{background:#fff8c4}\n"
	".controls{margin:6px 0}.controls input[type=search]{width:320px;padding:4px 6px}\n"
	".log td{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;white-space:pre-wrap;"
	"border:0;padding:1px 6px}.log td.ts{color:#5f6b76;white-space:nowrap}\n"
	"button{font:inherit;padding:2px 10px}\n"
	"details.fold{margin:10px 0 2px;border-top:1px solid #eceff2;padding-top:6px}"
	"details.fold summary{cursor:pointer;font-weight:600}details.fold .cap{font-weight:600}\n"
	"ul.problems{margin:4px 0;padding-left:22px}ul.problems li{overflow-wrap:anywhere}\n";

static const char SCRIPT[] =
	"(function () {\n"
	"  var f = document.getElementById('filter'), o = document.getElementById('only-stalled');\n"
	"  var shown = document.getElementById('shown');\n"
	"  var rows = document.querySelectorAll('#tasks tbody tr');\n"
	"  function apply() {\n"
	"    var q = f.value.toLowerCase(), n = 0;\n"
	"    rows.forEach(function (r) {\n"
	"      var show = (!o.checked || r.getAttribute('data-stalled') === '1') &&\n"
	"                 r.textContent.toLowerCase().indexOf(q) >= 0;\n"
	"      r.hidden = !show;\n"
	"      if (show) n++;\n"
	"    });\n"
	"    shown.textContent = String(n);\n"
	"  }\n"
	"  f.addEventListener('input', apply);\n"
	"  o.addEventListener('change', apply);\n"
	"  apply();\n"
	"  /* a link to a task the filter hides shows it */\n"
	"  window.addEventListener('hashchange', function () {\n"
	"    var t = document.getElementById(location.hash.slice(1));\n"
	"    if (t && t.hidden) { f.value = ''; o.checked = false; apply(); t.scrollIntoView(); }\n"
	"  });\n"
	"  function all(open) {\n"
	"    document.querySelectorAll('details.grp').forEach(function (d) { d.open = open; });\n"
	"  }\n"
	"  document.getElementById('expand').addEventListener('click', function () { all(true); });\n"
	"  document.getElementById('collapse').addEventListener('click', function () { all(false); });\n"
	"})();\n";

static void html_head(struct html *h)
{
	put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       /* Nothing may be fetched: the file is read offline and its strings come from a dump. */
	       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
	       "form-action 'none'\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta name=\"generator\" content=\"kstall\">\n"
	       /* otherwise the browser asks for /favicon.ico */
	       "<link rel=\"icon\" href=\"data:,\">\n<title>kstall report: ");
	esc(h, h->a->verdicts && h->a->nverdicts ? ks_verdict_name(h->a->verdicts[0].kind) : "none");
	put(h, ", kernel ");
	esc(h, release(h));
	put(h, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", STYLE);
}

static void html_header(struct html *h)
{
	const struct ks_analysis *a = h->a;

	put(h, "<header><h1>kstall report</h1><p>kernel <span class=\"mono\">");
	esc(h, release(h));
	put(h, "</span> &middot; ");
	/* the clock unread is no uptime of 0 */
	if (a->now_ns)
		put(h, "up %.0f s at the crash", (double)a->now_ns / 1e9);
	else
		put(h, "uptime unknown");
	put(h, " &middot; %zu tasks &middot; %zu stalled &middot; %zu lock%s waited on</p>\n", a->tasks.count,
	    h->nstalled, a->nlocks, a->nlocks == 1 ? "" : "s");
	{
		/* the dump facts: which machine, when, why it crashed, what tainted it */
		const struct ks_dump_facts *f = &a->facts;
		char when[40];

		ks_facts_crash_time(f, when, sizeof(when));
		put(h, "<p class=\"facts\">host <span class=\"mono\">");
		esc(h, f->host[0] ? f->host : "(unknown)");
		put(h, "</span> &middot; crashed %s", when[0] ? when : "(time unknown)");
		if (f->panic_cpu >= 0)
			put(h, " on CPU %d", f->panic_cpu);
		put(h, ": <span class=\"mono\">");
		esc(h, f->panic[0] ? f->panic : "(the log names no panic)");
		put(h, "</span> &middot; ");
		if (!f->taint_known) {
			put(h, "taints unknown");
		} else if (!f->taint_mask) {
			put(h, "not tainted");
		} else {
			put(h, "tainted <span class=\"mono\">");
			esc(h, f->taint);
			put(h, "</span>");
			if (f->ntainting_modules) {
				put(h, " by <span class=\"mono\">");
				esc(h, f->tainting_modules);
				put(h, "</span>");
			}
		}
		put(h, "</p>\n");
		if (a->kernel) {
			char match[120];

			ks_facts_vmlinux_match(f, match, sizeof(match));
			put(h, "<p class=\"facts\">vmlinux <span class=\"mono\">");
			esc(h, ks_debuginfo_path(ks_kernel_debuginfo(a->kernel)));
			put(h, "</span> (");
			esc(h, match);
			put(h, ") &middot; kstall ");
			esc(h, KSTALL_VERSION);
			put(h, "</p>\n");
		}
	}
	put(h, "<nav><a href=\"#verdict\">verdict</a><a href=\"#graph\">wait-for graph</a>"
	       "<a href=\"#timeline\">stall timeline</a><a href=\"#events\">events</a>"
	       "<a href=\"#memory\">memory</a>"
	       "<a href=\"#stacks\">stacks</a><a href=\"#task-table\">tasks</a><a href=\"#log\">log</a>"
	       "</nav></header>\n<main>\n");
}

/* ---- verdicts ---- */

static void evidence_task_row(struct html *h, size_t i)
{
	const struct ks_task_analysis *ta = &h->a->ta[i];
	char when[64];

	ks_report_stall_words(&ta->stall, when, sizeof(when));
	put(h, "<tr><td>");
	task_link(h, i);
	if (ta->in_cycle)
		put(h, "<span class=\"badge cyc\">in cycle</span>");
	if (ta->oom_victim)
		put(h, "<span class=\"badge oom\">OOM victim</span>");
	put(h, "</td><td><span class=\"st %s\">%c</span></td><td>", state_class(task(h, i)->state_char),
	    task(h, i)->state_char);
	esc(h, ta->activity);
	if (ta->alloc.phase != KS_ALLOC_NONE && ta->alloc.gfp_known) {
		put(h, "<br><span class=\"muted mono\">");
		esc(h, ta->alloc.gfp_names);
		put(h, ", order %u, %s</span>", ta->alloc.order,
		    ks_alloc_oom_words(&ta->alloc));
	}
	put(h, "</td><td>%s</td></tr>\n", when);
}

static void evidence_lock_row(struct html *h, const struct ks_lock *l)
{
	put(h, "<tr><td class=\"mono\">");
	esc(h, lock_name(l));
	put(h, "</td><td>%s</td><td class=\"mono\">0x%llx</td><td>", ks_lock_type_name(l->type),
	    (unsigned long long)l->address);
	if (l->owner >= 0) {
		task_link(h, (size_t)l->owner);
		if (l->owner_is_hint)
			put(h, " <span class=\"muted\">(%s, a hint)</span>", l->hint_words ? l->hint_words : "maybe");
	} else {
		put(h, "<span class=\"muted\">none recorded</span>");
	}
	put(h, "</td><td>%zu</td></tr>\n", l->nwaiters);
}

/*
 * What kstall could not read is folded: a damaged dump may give a hundred lines,
 * which would push the graph off the first screen. The summary says how many and
 * of which kinds, so the reader knows whether to open it.
 */
static void html_support(struct html *h)
{
	size_t n;
	const struct ks_support_gap *gaps = ks_model_support(h->a, &n);

	if (!n)
		return;
	put(h, "<details id=\"kernel-support\" class=\"fold\" data-count=\"%zu\"><summary>Kernel support: %zu "
	       "thing%s kstall cannot read on this kernel, for every dump of this build</summary>\n<ul>\n",
	    n, n, n == 1 ? "" : "s");
	for (size_t g = 0; g < n; g++) {
		put(h, "<li><span class=\"cap\">");
		esc(h, gaps[g].capability);
		put(h, "</span>: ");
		esc(h, gaps[g].cost);
		put(h, "</li>\n");
	}
	put(h, "</ul></details>\n");
}

/* What each code means to someone reading the list (the JSON's problems[].code says the same). */
static const char *problem_words(enum ks_error_code code)
{
	switch (code) {
	case KS_ERR_FAULT:
		return "not mapped, or the dump is damaged there";
	case KS_ERR_NODATA:
		return "a page the dump left out (filtered by makedumpfile)";
	case KS_ERR_BAD_DATA:
		return "what was read makes no sense";
	case KS_ERR_LOOKUP:
	case KS_ERR_UNSUPPORTED:
		return "the debuginfo lacks what kstall needs";
	default:
		return "";
	}
}

/* Problems per code; count[KS_ERR__COUNT] takes a code kstall does not know. */
static void problems_count(const struct ks_problems *p, size_t count[KS_ERR__COUNT + 1])
{
	for (size_t i = 0; i < p->count; i++)
		count[p->items[i].code > 0 && p->items[i].code < KS_ERR__COUNT ? p->items[i].code : KS_ERR__COUNT]++;
}

/* "40 fault, 4 bad_data": the commonest kind first (ties in the codes' order), so the summary says what went wrong. */
static void problems_by_code(struct html *h, const size_t count_in[KS_ERR__COUNT + 1])
{
	size_t count[KS_ERR__COUNT + 1];

	memcpy(count, count_in, sizeof(count));
	for (bool first = true;; first = false) {
		size_t best = 1;

		for (size_t c = 2; c <= KS_ERR__COUNT; c++)
			if (count[c] > count[best])
				best = c;
		if (!count[best])
			return;
		put(h, "%s%zu %s", first ? "" : ", ", count[best], ks_error_code_name((enum ks_error_code)best));
		count[best] = 0;
	}
}

/* The words of each code present, once. */
static void problems_legend(struct html *h, const size_t count[KS_ERR__COUNT + 1])
{
	bool first = true;

	put(h, "<p class=\"muted\">");
	for (size_t c = 1; c < KS_ERR__COUNT; c++) {
		if (!count[c] || !problem_words((enum ks_error_code)c)[0])
			continue;
		put(h, "%s<code>%s</code>: %s", first ? "" : "; ", ks_error_code_name((enum ks_error_code)c),
		    problem_words((enum ks_error_code)c));
		first = false;
	}
	put(h, "%sThe rest of the report holds what could be read.</p>\n", first ? "" : ". ");
}

/* One line, with a link to the task it concerns when that task has a row. */
static void problem_item(struct html *h, const struct ks_problem *p)
{
	long t = p->task ? ks_model_task_index(h->a, p->task) : -1;

	put(h, "<li data-code=\"%s\"><span class=\"msg\">", ks_error_code_name(p->code));
	esc(h, p->text);
	put(h, "</span>");
	if (t >= 0) {
		put(h, " &rarr; ");
		task_link(h, (size_t)t);
	}
	put(h, "</li>\n");
}

static void html_problems(struct html *h)
{
	const struct ks_problems *p = &h->a->problems;
	size_t count[KS_ERR__COUNT + 1] = { 0 };

	if (!p->count)
		return;
	problems_count(p, count);
	put(h, "<details id=\"problems\" class=\"fold\" data-count=\"%zu\"><summary>Could not read: %zu problem%s (",
	    p->count, p->count, p->count == 1 ? "" : "s");
	problems_by_code(h, count);
	put(h, ")</summary>\n");
	problems_legend(h, count);
	put(h, "<ul class=\"problems mono\">\n");
	for (size_t i = 0; i < p->count; i++)
		problem_item(h, &p->items[i]);
	put(h, "</ul></details>\n");
}

static void html_verdicts(struct html *h)
{
	const struct ks_analysis *a = h->a;
	const struct ks_verdict *vd = a->nverdicts ? &a->verdicts[0] : NULL;
	bool ok = !vd || vd->kind == KS_VERDICT_NONE;
	char cover[400];

	put(h, "<section id=\"verdict\" class=\"verdict%s\">\n<h2>Verdict: <span class=\"kind\">%s</span> "
	       "<span class=\"muted\">score %.2f</span></h2>\n",
	    ok ? " ok" : vd->kind == KS_VERDICT_INCONCLUSIVE ? " inconclusive" : "",
	    vd ? ks_verdict_name(vd->kind) : "none", vd ? vd->score : 0.0);
	/* how much of the dump the verdicts rest on, before them */
	ks_coverage_words(&a->coverage, cover, sizeof(cover));
	put(h, "<p class=\"coverage%s\">coverage ", a->coverage.complete ? "" : " incomplete");
	esc(h, cover);
	put(h, "</p>\n");
	if (!vd) {
		put(h, "<p class=\"summary\">No hypothesis.</p></section>\n");
		return;
	}
	put(h, "<p class=\"summary\">");
	esc(h, vd->summary);
	put(h, "</p>\n<p class=\"muted\">signature (the same for every dump of this problem): <code>");
	esc(h, vd->signature);
	put(h, "</code></p>\n");
	if (vd->npids) {
		put(h, "<h3>Evidence: tasks</h3>\n<table><thead><tr><th>task</th><th>st</th><th>doing</th>"
		       "<th>stalled for</th></tr></thead><tbody>\n");
		for (size_t p = 0; p < vd->npids; p++) {
			long i = task_index(h, vd->pids[p]);

			if (i >= 0)
				evidence_task_row(h, (size_t)i);
		}
		put(h, "</tbody></table>\n");
	}
	if (vd->nlocks) {
		put(h, "<h3>Evidence: locks</h3>\n<table><thead><tr><th>lock</th><th>type</th><th>address</th>"
		       "<th>owner</th><th>waiters</th></tr></thead><tbody>\n");
		for (size_t l = 0; l < vd->nlocks; l++)
			if (vd->locks[l] >= 0 && (size_t)vd->locks[l] < a->nlocks)
				evidence_lock_row(h, &a->locks[vd->locks[l]]);
		put(h, "</tbody></table>\n");
	}
	if (a->nverdicts > 1) {
		put(h, "<h3>Other hypotheses</h3>\n<ul>\n");
		for (size_t v = 1; v < a->nverdicts; v++) {
			put(h, "<li><code>%s</code> <span class=\"muted\">%.2f</span>: ",
			    ks_verdict_name(a->verdicts[v].kind), a->verdicts[v].score);
			esc(h, a->verdicts[v].summary);
			put(h, "</li>\n");
		}
		put(h, "</ul>\n");
	}
	html_support(h);
	html_problems(h);
	put(h, "</section>\n");
}

/* ---- the wait-for graph ---- */

/*
 * Three columns: tasks that only wait, the locks, the owners. An owner that
 * waits too keeps its place among the owners and its wait is drawn back to its
 * lock, so every task is drawn once and a cycle shows as a loop. Only tasks on
 * the graph are drawn; the busiest locks come first and a crowd of waiters is
 * one "+N more" node, so 2000 tasks stay as readable as 2.
 */
#define G_MAX_LOCKS 30
#define G_MAX_WAITERS 5
#define G_NODE_W 250
#define G_NODE_H 40
#define G_ROW 50
#define G_GAP 130
#define G_TOP 34
#define G_X0 8
#define G_X1 (G_X0 + G_NODE_W + G_GAP)
#define G_X2 (G_X1 + G_NODE_W + G_GAP)
#define G_WIDTH (G_X2 + G_NODE_W + 60)

struct graph {
	/* per lock: its row's centre, -1 when not drawn; waiters summarized */
	long *lock_y;
	size_t *more;
	/* per task: column (0 or 2) and centre, -1 when not drawn */
	int *col;
	long *y;
	long height;
};

/* A lock is on a cycle when its owner is and so is one of its waiters (not merely a waiter of a cycle member). */
static bool lock_in_cycle(const struct html *h, size_t l)
{
	const struct ks_analysis *a = h->a;
	long o = a->locks[l].owner;

	if (o < 0 || !a->ta[o].in_cycle)
		return false;
	for (size_t i = 0; i < a->tasks.count; i++)
		if (a->ta[i].waits_on == (long)l && a->ta[i].in_cycle)
			return true;
	return false;
}

struct lock_rank {
	size_t idx;
	int verdict, cycle;
	size_t waiters;
};

static int lock_rank_cmp(const void *x, const void *y)
{
	const struct lock_rank *p = x, *q = y;

	if (p->verdict != q->verdict)
		return q->verdict - p->verdict;
	if (p->cycle != q->cycle)
		return q->cycle - p->cycle;
	if (p->waiters != q->waiters)
		return p->waiters < q->waiters ? 1 : -1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

/* Waiters worth seeing first: the ones a verdict names, OOM victims, cycles. */
static bool waiter_matters(const struct html *h, size_t i)
{
	return h->named[i] || h->a->ta[i].oom_victim || h->a->ta[i].in_cycle;
}

static void graph_place_lock(struct html *h, struct graph *g, size_t l, long *y)
{
	const struct ks_analysis *a = h->a;
	size_t shown = 0, more = 0;
	long top = *y;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < a->tasks.count; i++) {
			if (a->ta[i].waits_on != (long)l || h->owns[i] || g->col[i] >= 0 ||
			    waiter_matters(h, i) != (pass == 0))
				continue;
			if (shown < G_MAX_WAITERS) {
				g->col[i] = 0;
				g->y[i] = top + (long)shown * G_ROW + G_NODE_H / 2;
				shown++;
			} else {
				more++;
			}
		}
	}
	g->more[l] = more;
	size_t rows = shown + (more ? 1 : 0);

	if (!rows)
		rows = 1;
	g->lock_y[l] = top + (long)(rows - 1) * G_ROW / 2 + G_NODE_H / 2;
	if (a->locks[l].owner >= 0 && g->col[a->locks[l].owner] < 0) {
		g->col[a->locks[l].owner] = 2;
		g->y[a->locks[l].owner] = g->lock_y[l];
	}
	*y = top + (long)rows * G_ROW + 14;
}

static bool graph_layout(struct html *h, struct graph *g, size_t *nshown)
{
	const struct ks_analysis *a = h->a;
	struct lock_rank *r = calloc(a->nlocks ? a->nlocks : 1, sizeof(*r));
	long y = G_TOP;

	g->lock_y = malloc((a->nlocks ? a->nlocks : 1) * sizeof(long));
	g->more = calloc(a->nlocks ? a->nlocks : 1, sizeof(size_t));
	g->col = malloc((a->tasks.count ? a->tasks.count : 1) * sizeof(int));
	g->y = calloc(a->tasks.count ? a->tasks.count : 1, sizeof(long));
	if (!r || !g->lock_y || !g->more || !g->col || !g->y) {
		free(r);
		return false;
	}
	for (size_t i = 0; i < a->tasks.count; i++)
		g->col[i] = -1;
	for (size_t l = 0; l < a->nlocks; l++) {
		g->lock_y[l] = -1;
		r[l].idx = l;
		r[l].cycle = lock_in_cycle(h, l);
		r[l].waiters = a->locks[l].nwaiters;
		for (size_t v = 0; a->nverdicts && v < a->verdicts[0].nlocks; v++)
			r[l].verdict |= a->verdicts[0].locks[v] == (long)l;
	}
	ks_sort(r, a->nlocks, sizeof(*r), lock_rank_cmp);
	*nshown = a->nlocks < G_MAX_LOCKS ? a->nlocks : G_MAX_LOCKS;
	for (size_t k = 0; k < *nshown; k++)
		graph_place_lock(h, g, r[k].idx, &y);
	g->height = y + 10;
	free(r);
	return true;
}

static void graph_free(struct graph *g)
{
	free(g->lock_y);
	free(g->more);
	free(g->col);
	free(g->y);
}

static void graph_edge(struct html *h, const char *cls, long x1, long y1, long x2, long y2,
		       const char *marker)
{
	long mid = (x1 + x2) / 2;

	put(h, "<path class=\"edge %s\" d=\"M%ld %ld C%ld %ld %ld %ld %ld %ld\" marker-end=\"url(#%s)\"/>\n",
	    cls, x1, y1, mid, y1, mid, y2, x2 - 2, y2, marker);
}

static void graph_edges(struct html *h, const struct graph *g)
{
	const struct ks_analysis *a = h->a;

	for (size_t i = 0; i < a->tasks.count; i++) {
		long l = a->ta[i].waits_on;

		if (g->col[i] < 0 || l < 0 || g->lock_y[l] < 0)
			continue;
		bool cyc = a->ta[i].in_cycle && lock_in_cycle(h, (size_t)l);

		if (g->col[i] == 0) {
			graph_edge(h, cyc ? "wait cycle" : "wait", G_X0 + G_NODE_W, g->y[i], G_X1, g->lock_y[l],
				   cyc ? "arrow-red" : "arrow");
		} else {
			/* An owner's own wait loops back under the columns to its lock. */
			long x1 = G_X2 + 30, y1 = g->y[i] + G_NODE_H / 2;
			long x2 = G_X1 + G_NODE_W - 30, y2 = g->lock_y[l] + G_NODE_H / 2;

			put(h, "<path class=\"edge back%s\" d=\"M%ld %ld C%ld %ld %ld %ld %ld %ld\" "
			       "marker-end=\"url(#%s)\"/>\n",
			    cyc ? " cycle" : "", x1, y1, x1 - 20, y1 + 40, x2 + 20, y2 + 40, x2, y2 + 3,
			    cyc ? "arrow-red" : "arrow-brown");
		}
	}
	for (size_t l = 0; l < a->nlocks; l++) {
		long o = a->locks[l].owner;
		bool cyc = lock_in_cycle(h, l);

		if (g->lock_y[l] >= 0 && o >= 0 && g->col[o] == 2)
			graph_edge(h, cyc ? "own cycle" : a->locks[l].owner_is_hint ? "own hint" : "own",
				   G_X1 + G_NODE_W, g->lock_y[l], G_X2, g->y[o], cyc ? "arrow-red" : "arrow-blue");
	}
}

static void graph_task_node(struct html *h, const struct graph *g, size_t i)
{
	const struct ks_task *t = task(h, i);
	const struct ks_task_analysis *ta = &h->a->ta[i];
	long x = g->col[i] == 0 ? G_X0 : G_X2, y = g->y[i] - G_NODE_H / 2;
	char when[64];

	ks_report_stall_words(&ta->stall, when, sizeof(when));
	put(h, "<g class=\"node task%s%s\"><title>", ta->in_cycle ? " cycle" : "", ta->oom_victim ? " oom" : "");
	esc(h, t->comm);
	put(h, " (pid %d, state %c%s%s): ", t->pid, t->state_char, ta->oom_victim ? ", OOM victim" : "",
	    ta->in_cycle ? ", on a wait-for cycle" : "");
	esc(h, ta->activity);
	put(h, "; stalled %s</title>\n", when);
	put(h, "<a href=\"#");
	row_id(h, i);
	put(h, "\"><rect x=\"%ld\" y=\"%ld\" width=\"%d\" height=\"%d\" rx=\"5\"/>\n", x, y, G_NODE_W, G_NODE_H);
	put(h, "<text x=\"%ld\" y=\"%ld\"><tspan font-weight=\"600\">", x + 8, y + 16);
	escn(h, t->comm, 16);
	put(h, "</tspan> <tspan class=\"sub\">pid %d &middot; %c%s</tspan></text>\n", t->pid, t->state_char,
	    ta->oom_victim ? " &middot; OOM victim" : ta->in_cycle ? " &middot; in cycle" : "");
	put(h, "<text class=\"sub\" x=\"%ld\" y=\"%ld\">", x + 8, y + 32);
	escn(h, ta->activity, 38);
	put(h, "</text></a></g>\n");
}

static void graph_lock_node(struct html *h, const struct graph *g, size_t l)
{
	const struct ks_lock *lk = &h->a->locks[l];
	long y = g->lock_y[l] - G_NODE_H / 2;
	bool cyc = lock_in_cycle(h, l);

	put(h, "<g class=\"node lock%s\"><title>%s ", cyc ? " cycle" : "", ks_lock_type_name(lk->type));
	esc(h, lock_name(lk));
	put(h, " at 0x%llx, %zu waiter%s%s</title>\n", (unsigned long long)lk->address, lk->nwaiters,
	    lk->nwaiters == 1 ? "" : "s", lk->owner < 0 ? ", no owner recorded" : "");
	put(h, "<rect x=\"%d\" y=\"%ld\" width=\"%d\" height=\"%d\" rx=\"2\"/>\n", G_X1, y, G_NODE_W, G_NODE_H);
	put(h, "<text class=\"mono\" x=\"%d\" y=\"%ld\" font-weight=\"600\">", G_X1 + 8, y + 16);
	escn(h, lock_name(lk), 32);
	put(h, "</text>\n<text class=\"sub\" x=\"%d\" y=\"%ld\">%s &middot; 0x%llx &middot; %zu waiter%s</text></g>\n",
	    G_X1 + 8, y + 32, ks_lock_type_name(lk->type), (unsigned long long)lk->address, lk->nwaiters,
	    lk->nwaiters == 1 ? "" : "s");
	if (lk->owner < 0)
		put(h, "<text class=\"sub\" x=\"%d\" y=\"%ld\">no owner recorded</text>\n", G_X2,
		    g->lock_y[l] + 4);
}

static void graph_more_node(struct html *h, const struct graph *g, size_t l)
{
	/* the row after the last waiter drawn for this lock */
	long last = -1;

	for (size_t i = 0; i < h->a->tasks.count; i++)
		if (g->col[i] == 0 && h->a->ta[i].waits_on == (long)l && g->y[i] > last)
			last = g->y[i];
	long y = last + G_ROW - G_NODE_H / 2;

	graph_edge(h, "wait", G_X0 + G_NODE_W, y + G_NODE_H / 2, G_X1, g->lock_y[l], "arrow");
	put(h, "<g class=\"node more\"><rect x=\"%d\" y=\"%ld\" width=\"%d\" height=\"%d\" rx=\"5\"/>"
	       "<text x=\"%d\" y=\"%ld\">+%zu more waiter%s</text>"
	       "<text class=\"sub\" x=\"%d\" y=\"%ld\">listed in the task table</text></g>\n",
	    G_X0, y, G_NODE_W, G_NODE_H, G_X0 + 8, y + 16, g->more[l], g->more[l] == 1 ? "" : "s",
	    G_X0 + 8, y + 32);
}

static void html_waitfor_graph(struct html *h)
{
	const struct ks_analysis *a = h->a;
	struct graph g = { 0 };
	size_t nshown = 0;

	put(h, "<section id=\"graph\">\n<h2>Wait-for graph</h2>\n"
	       "<p class=\"legend\"><span><i class=\"cyc\"></i>on a wait-for cycle</span>"
	       "<span><i class=\"oom\"></i>OOM victim</span><span>grey arrow: waits for</span>"
	       "<span>blue arrow: owned by</span><span>dashed brown: an owner that waits itself</span></p>\n");
	if (!graph_layout(h, &g, &nshown)) {
		graph_free(&g);
		put(h, "<p>out of memory drawing the graph</p></section>\n");
		return;
	}
	if (!a->nlocks)
		g.height = 70;
	put(h, "<svg id=\"waitfor-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%ld\" "
	       "viewBox=\"0 0 %d %ld\" role=\"img\" aria-label=\"wait-for graph\">\n",
	    G_WIDTH, g.height, G_WIDTH, g.height);
	put(h, "<defs>");
	static const char *const markers[][2] = {
		{ "arrow", "#78909c" }, { "arrow-red", "#c62828" }, { "arrow-blue", "#1e88e5" },
		{ "arrow-brown", "#6d4c41" },
	};
	for (size_t m = 0; m < sizeof(markers) / sizeof(markers[0]); m++)
		put(h, "<marker id=\"%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"9\" "
		       "markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/>"
		       "</marker>",
		    markers[m][0], markers[m][1]);
	put(h, "</defs>\n");
	if (!a->nlocks) {
		put(h, "<text x=\"10\" y=\"40\">No task waits on a lock kstall knows (mutex, rwsem, semaphore, percpu_rwsem, page lock).</text>\n"
		       "</svg>\n</section>\n");
		graph_free(&g);
		return;
	}
	put(h, "<text class=\"head\" x=\"%d\" y=\"18\">waiting tasks</text><text class=\"head\" x=\"%d\" "
	       "y=\"18\">locks</text><text class=\"head\" x=\"%d\" y=\"18\">owners</text>\n",
	    G_X0, G_X1, G_X2);
	graph_edges(h, &g);
	for (size_t i = 0; i < a->tasks.count; i++)
		if (g.col[i] >= 0)
			graph_task_node(h, &g, i);
	for (size_t l = 0; l < a->nlocks; l++) {
		if (g.lock_y[l] < 0)
			continue;
		graph_lock_node(h, &g, l);
		if (g.more[l])
			graph_more_node(h, &g, l);
	}
	put(h, "</svg>\n");
	if (nshown < a->nlocks)
		put(h, "<p class=\"muted\">%zu more locks with waiters are not drawn; the task table lists "
		       "every waiter.</p>\n",
		    a->nlocks - nshown);
	put(h, "</section>\n");
	graph_free(&g);
}

/* ---- the stall timeline ---- */

#define TL_MAX_BARS 150
#define TL_LABEL_W 250
#define TL_PLOT_W 680
#define TL_ROW 22
#define TL_BAR_H 15
/* room above the first bar for the OOM kills' markers */
#define TL_TOP 20
#define TL_WIDTH (TL_LABEL_W + TL_PLOT_W + 50)

/* How long before the crash the stall began at the earliest. */
static double stall_start(const struct ks_stall *st)
{
	double s = st->exact ? st->seconds : st->max_seconds;

	return isfinite(s) && s > 0 ? s : 0;
}

static const struct ks_analysis *sort_a;

static int by_stall_start(const void *x, const void *y)
{
	double p = stall_start(&sort_a->ta[*(const size_t *)x].stall);
	double q = stall_start(&sort_a->ta[*(const size_t *)y].stall);

	return p < q ? 1 : p > q ? -1 : 0;
}

static double nice_step(double span)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400 };

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
		if (span / steps[s] <= 8)
			return steps[s];
	return ceil(span / 8 / 86400) * 86400;
}

static double tl_x(double seconds, double axis)
{
	double s = seconds < 0 ? 0 : seconds > axis ? axis : seconds;

	return TL_LABEL_W + TL_PLOT_W * (1 - s / axis);
}

static void timeline_bar(struct html *h, size_t i, long row, double axis)
{
	const struct ks_task *t = task(h, i);
	const struct ks_stall *st = &h->a->ta[i].stall;
	long y = TL_TOP + row * TL_ROW;
	char when[64];

	ks_report_stall_words(st, when, sizeof(when));
	put(h, "<g class=\"bar %s\"><title>", state_class(t->state_char));
	esc(h, t->comm);
	put(h, " (pid %d, state %c): stalled %s before the crash; start from %s. ", t->pid, t->state_char, when,
	    source_words(st->source));
	esc(h, h->a->ta[i].activity);
	put(h, "</title>\n<text x=\"%d\" y=\"%ld\" text-anchor=\"end\">", TL_LABEL_W - 8, y + 12);
	escn(h, t->comm, 16);
	put(h, " <tspan class=\"sub\">%d</tspan></text>\n", t->pid);
	if (st->exact) {
		double x = tl_x(st->seconds, axis);

		put(h, "<rect x=\"%.1f\" y=\"%ld\" width=\"%.1f\" height=\"%d\" rx=\"2\"/>\n", x, y,
		    TL_LABEL_W + TL_PLOT_W - x, TL_BAR_H);
	} else {
		double x0 = tl_x(st->max_seconds, axis), x1 = tl_x(st->min_seconds, axis);

		/* The start lies somewhere in the pale part; the task was stuck for the solid part. */
		put(h, "<rect class=\"unc\" x=\"%.1f\" y=\"%ld\" width=\"%.1f\" height=\"%d\"/>\n", x0, y,
		    x1 - x0, TL_BAR_H);
		put(h, "<rect x=\"%.1f\" y=\"%ld\" width=\"%.1f\" height=\"%d\" rx=\"2\"/>\n", x1, y,
		    TL_LABEL_W + TL_PLOT_W - x1, TL_BAR_H);
	}
	put(h, "</g>\n");
}

static void timeline_axis(struct html *h, long y, double axis)
{
	double step = nice_step(axis);

	put(h, "<g class=\"axis\"><line x1=\"%d\" y1=\"%ld\" x2=\"%d\" y2=\"%ld\"/>\n", TL_LABEL_W, y,
	    TL_LABEL_W + TL_PLOT_W, y);
	for (double s = 0; s <= axis + 1e-9; s += step) {
		double x = tl_x(s, axis);

		put(h, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%ld\" stroke-dasharray=\"2 4\"/>\n", x, TL_TOP,
		    x, y + 4);
		if (s == 0)
			put(h, "<text x=\"%.1f\" y=\"%ld\" text-anchor=\"middle\">crash</text>\n", x, y + 17);
		else
			put(h, "<text x=\"%.1f\" y=\"%ld\" text-anchor=\"middle\">&#8722;%.0f s</text>\n", x, y + 17,
			    s);
	}
	put(h, "</g>\n");
}

/* A machine that hung for hours may log thousands of hung-task reports: the newest tell the end. */
#define EV_MAX 500

/* The first event the events table shows. */
static size_t events_first(const struct html *h)
{
	return h->a->nevents > EV_MAX ? h->a->nevents - EV_MAX : 0;
}

/*
 * The log's OOM kills as ticks across the bars: whether a task stalled before
 * or after the killer struck is often the whole story. Returns how many kills
 * fall outside the axis (undated, or from before it begins).
 */
static size_t timeline_kills(struct html *h, long bottom, double axis)
{
	size_t outside = 0;

	for (size_t e = 0; e < h->a->nevents; e++) {
		const struct ks_event *ev = &h->a->events[e];
		double x;

		if (ev->kind != KS_EVENT_OOM_KILL)
			continue;
		if (ev->seconds_before < 0 || ev->seconds_before > axis) {
			outside++;
			continue;
		}
		x = tl_x(ev->seconds_before, axis);
		put(h, "<g class=\"kill\" data-pid=\"%d\"><title>OOM kill of ", ev->pid);
		esc(h, ev->comm);
		put(h, " (pid %d), %.1f s before the crash</title>\n", ev->pid, ev->seconds_before);
		/* only a row the events table shows can be linked to */
		if (e >= events_first(h))
			put(h, "<a href=\"#event-%llu\">", (unsigned long long)ev->seq);
		put(h, "<path d=\"M%.1f %dh10l-5 9z\"/>%s<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%ld\"/></g>\n",
		    x - 5, TL_TOP - 16, e >= events_first(h) ? "</a>" : "", x, TL_TOP - 7, x, bottom);
	}
	return outside;
}

/*
 * The system's memory stall from PSI, behind the bars: a band over the range
 * the averages allow for its onset (to the axis's start when they cannot bound
 * it) and a line at the estimate. Tasks allocating in it stalled since then,
 * or since their own start if they are younger.
 */
static void timeline_onset(struct html *h, long bottom, double axis)
{
	const struct ks_pressure *p = &h->a->memory.pressure;
	const struct ks_psi_group *g = &p->sys;
	double x0, x1, x;

	if (p->state != KS_PSI_READ || g->onset < 0)
		return;
	x0 = tl_x(g->onset_at_least ? axis : g->onset_max, axis);
	x1 = tl_x(g->onset_min, axis);
	x = tl_x(g->onset, axis);
	put(h, "<g class=\"onset\" data-onset=\"%.1f\" data-min=\"%.1f\" data-max=\"%.1f\"><title>The system's memory "
	       "stall began ",
	    g->onset, g->onset_min, g->onset_at_least ? -1.0 : g->onset_max);
	if (g->onset_at_least)
		put(h, "%.0f s or more before the crash", g->onset_min);
	else
		put(h, "about %.0f s before the crash (%.0f-%.0f s)", g->onset, g->onset_min, g->onset_max);
	put(h, ", stalling %.0f%% of the time since (PSI estimate)</title>\n", g->onset_share);
	put(h, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%ld\"/>\n", x0, TL_TOP - 4, x1 - x0,
	    bottom - TL_TOP + 4);
	put(h, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%ld\"/></g>\n", x, TL_TOP - 4, x, bottom);
}

static void html_timeline(struct html *h)
{
	const struct ks_analysis *a = h->a;
	size_t *idx = calloc(h->nstalled ? h->nstalled : 1, sizeof(size_t)), n = 0, unknown = 0;
	double axis = 1;
	size_t kills_outside = 0;

	put(h, "<section id=\"timeline\">\n<h2>Stall timeline</h2>\n"
	       "<p class=\"legend\"><span><i class=\"st-D\"></i>D uninterruptible</span>"
	       "<span><i class=\"st-R\"></i>R running</span><span><i class=\"st-S\"></i>S sleeping</span>"
	       "<span><i class=\"st-o\"></i>other</span><span><i class=\"unc\"></i>the stall began "
	       "somewhere here</span><span><i class=\"kill\"></i>OOM kill (from the log)</span>"
	       "<span><i class=\"onset\"></i>the system's memory stall began (PSI estimate)</span> "
	       "<span class=\"muted\">hover a bar for the source of its start</span></p>\n");
	if (!idx) {
		put(h, "<p>out of memory drawing the timeline</p></section>\n");
		return;
	}
	for (size_t i = 0; i < a->tasks.count; i++) {
		if (!h->stalled[i])
			continue;
		if (a->ta[i].stall.source == KS_STALL_NONE)
			unknown++;
		else
			idx[n++] = i;
	}
	sort_a = a;
	ks_sort(idx, n, sizeof(*idx), by_stall_start);
	size_t shown = n < TL_MAX_BARS ? n : TL_MAX_BARS;

	for (size_t k = 0; k < shown; k++)
		axis = fmax(axis, stall_start(&a->ta[idx[k]].stall));
	if (shown && a->memory.pressure.state == KS_PSI_READ && a->memory.pressure.sys.onset >= 0)
		axis = fmax(axis, a->memory.pressure.sys.onset_at_least ? a->memory.pressure.sys.onset_min
									: a->memory.pressure.sys.onset_max);
	axis = ceil(axis / nice_step(axis)) * nice_step(axis);
	long height = shown ? TL_TOP + (long)shown * TL_ROW + 30 : 40;

	put(h, "<svg id=\"stall-timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%ld\" "
	       "viewBox=\"0 0 %d %ld\" role=\"img\" aria-label=\"stall timeline\">\n",
	    TL_WIDTH, height, TL_WIDTH, height);
	if (!shown)
		put(h, "<text x=\"10\" y=\"%d\">No stalled task with a known stall start.</text>\n", TL_TOP + 14);
	if (shown)
		timeline_onset(h, TL_TOP + (long)shown * TL_ROW + 2, axis);
	for (size_t k = 0; k < shown; k++)
		timeline_bar(h, idx[k], (long)k, axis);
	if (shown) {
		kills_outside = timeline_kills(h, TL_TOP + (long)shown * TL_ROW + 2, axis);
		timeline_axis(h, TL_TOP + (long)shown * TL_ROW + 2, axis);
	}
	put(h, "</svg>\n");
	if (kills_outside)
		put(h, "<p class=\"muted\">%zu OOM kill%s of the log lie%s outside this axis; see the events.</p>\n",
		    kills_outside, kills_outside == 1 ? "" : "s", kills_outside == 1 ? "s" : "");
	if (n > shown)
		put(h, "<p class=\"muted\">The %zu longest stalls are drawn; %zu more are in the task table.</p>\n", shown,
		    n - shown);
	if (unknown)
		put(h, "<p class=\"muted\">%zu stalled task%s without a known stall start.</p>\n", unknown,
		    unknown == 1 ? "" : "s");
	put(h, "</section>\n");
	free(idx);
}

/* ---- events from the log ---- */

static const char *event_words(enum ks_event_kind kind)
{
	switch (kind) {
	case KS_EVENT_OOM_INVOKED:
		return "OOM killer invoked";
	case KS_EVENT_OOM_KILL:
		return "OOM kill";
	case KS_EVENT_OOM_REAPED:
		return "reaped";
	case KS_EVENT_OOM_REAP_FAILED:
		return "reap failed";
	case KS_EVENT_HUNG_TASK:
		return "hung task";
	case KS_EVENT_ALLOC_FAILURE:
		return "allocation failure";
	case KS_EVENT_MEMCG_OOM:
		return "memory cgroup at its limit";
	case KS_EVENT_OOM_NO_VICTIM:
		return "no killable process";
	}
	return "?";
}

static void event_row(struct html *h, const struct ks_event *ev)
{
	put(h, "<tr id=\"event-%llu\" data-kind=\"%s\" data-pid=\"", (unsigned long long)ev->seq,
	    ks_event_kind_name(ev->kind));
	if (ev->pid)
		put(h, "%d", ev->pid);
	put(h, "\"><td class=\"num\">");
	if (ev->seconds_before >= 0)
		put(h, "%.1f s", ev->seconds_before);
	else
		put(h, "?");
	put(h, "</td><td><span class=\"ev ev-%s\">%s</span></td><td>", ks_event_kind_name(ev->kind),
	    event_words(ev->kind));
	if (ev->task >= 0 && (size_t)ev->task < h->a->tasks.count) {
		task_link(h, (size_t)ev->task);
	} else {
		/* a killed process has usually exited; an exec or a reused pid changes the name */
		esc(h, ev->comm);
		if (ev->pid)
			put(h, " (%d)", ev->pid);
		put(h, " <span class=\"muted\">no task with this pid and name at the crash</span>");
	}
	put(h, "</td><td class=\"mono\">");
	esc(h, ev->text);
	put(h, "</td></tr>\n");
}

static void html_events(struct html *h)
{
	const struct ks_analysis *a = h->a;
	size_t first = events_first(h);

	put(h, "<section id=\"events\">\n<h2>Events from the log</h2>\n");
	if (!h->log) {
		put(h, "<p class=\"muted\">The kernel log could not be read from this dump.</p></section>\n");
		return;
	}
	if (!a->nevents) {
		put(h, "<p class=\"muted\">The log records no OOM kill, reaper result, hung task or allocation "
		       "failure.</p></section>\n");
		return;
	}
	put(h, "<p class=\"muted\">OOM killer invocations and kills, the OOM reaper's results, hung-task "
	       "reports and allocation failures, oldest first; the time is the log's timestamp against the "
	       "crash. A task that still exists links to its row.%s</p>\n",
	    first ? " Only the newest are shown." : "");
	if (first)
		put(h, "<p class=\"muted\">%zu older events are left out (all are in --json).</p>\n", first);
	put(h, "<table id=\"events-table\"><thead><tr><th>before the crash</th><th>event</th><th>task</th>"
	       "<th>log line</th></tr></thead><tbody>\n");
	for (size_t e = first; e < a->nevents; e++)
		event_row(h, &a->events[e]);
	put(h, "</tbody></table>\n</section>\n");
}

/* ---- memory ---- */

/* Free pages of each zone against its min/low/high watermarks: below min only atomic allocations succeed. */
#define Z_LABEL_W 150
#define Z_BAR_W 620
#define Z_WIDTH (Z_LABEL_W + Z_BAR_W + 110)
#define Z_ROW 46
/* one more line of watermark labels, for 11px text */
#define Z_LANE 14
/* an 11px character at its widest but for m and w, so the estimate errs wide */
#define Z_CHAR_W 7.5
/* a label pushed further than this from its mark goes to the line below */
#define Z_MAX_SHIFT 64

enum { Z_MARKS = 3 };

/* Where a zone's watermark marks and their labels go; the labels' lanes make its row taller. */
struct zone_marks {
	const char *name[Z_MARKS], *colour[Z_MARKS];
	struct ks_html_label label[Z_MARKS];
	unsigned lanes;
};

/* The bar's full width in pages: room past the highest of free and the high watermark. */
static double zone_scale(const struct ks_zone_info *z)
{
	double scale = (double)(z->high > z->free ? z->high : z->free) * 1.25;

	return scale > 0 ? scale : 1;
}

/* The x of pages on the bar; a watermark read as nonsense stays at the bar's end. */
static double zone_x(double pages, double scale)
{
	return Z_LABEL_W + Z_BAR_W * fmin(pages / scale, 1);
}

static void zone_marks(const struct ks_zone_info *z, struct zone_marks *m)
{
	static const char *const names[Z_MARKS] = { "min", "low", "high" };
	static const char *const colours[Z_MARKS] = { "#c62828", "#ef8f00", "#2e7d32" };
	const uint64_t pages[Z_MARKS] = { z->min, z->low, z->high };

	memset(m, 0, sizeof(*m));
	if (!z->watermarks_known)
		return;
	for (size_t k = 0; k < Z_MARKS; k++) {
		m->name[k] = names[k];
		m->colour[k] = colours[k];
		m->label[k].x = zone_x((double)pages[k], zone_scale(z));
		m->label[k].width = Z_CHAR_W * (double)strlen(names[k]);
	}
	/* min, low and high often lie within a few pixels: they then read side by side, in order */
	m->lanes = ks_html_place_labels(m->label, Z_MARKS, 2, Z_WIDTH - 2, 4, Z_MAX_SHIFT);
}

static long zone_row(const struct zone_marks *m)
{
	return Z_ROW + (m->lanes > 1 ? (long)(m->lanes - 1) * Z_LANE : 0);
}

/* Each mark across the bar, its label under it; a label moved off its mark gets a line to it. */
static void zone_mark_labels(struct html *h, const struct zone_marks *m, long y)
{
	for (size_t k = 0; k < Z_MARKS && m->name[k]; k++) {
		const struct ks_html_label *l = &m->label[k];
		double cx = l->left + l->width / 2;
		long base = y + 36 + (long)l->lane * Z_LANE;

		put(h, "<line x1=\"%.1f\" y1=\"%ld\" x2=\"%.1f\" y2=\"%ld\" stroke=\"%s\" stroke-width=\"2\"/>", l->x,
		    y - 3, l->x, y + 23, m->colour[k]);
		if (l->lane || fabs(cx - l->x) > 2)
			put(h, "<line class=\"leader\" x1=\"%.1f\" y1=\"%ld\" x2=\"%.1f\" y2=\"%ld\" stroke=\"%s\"/>", l->x,
			    y + 23, cx, base - 10, m->colour[k]);
		put(h, "<text class=\"sub wm\" x=\"%.1f\" y=\"%ld\" text-anchor=\"middle\">%s</text>\n", cx, base,
		    m->name[k]);
	}
}

static void zone_bar(struct html *h, const struct ks_zone_info *z, const struct zone_marks *m, long y,
		     uint64_t page_size)
{
	double scale = zone_scale(z);
	const char *fill = !z->watermarks_known ? "#78909c" : z->free < z->min ? "#c62828"
							 : z->free < z->high ? "#ef8f00" : "#2e7d32";
	double mib = (double)page_size / (1024 * 1024);

	put(h, "<g><title>node %d zone ", z->node);
	esc(h, z->name);
	put(h, ": %llu pages free (%.1f MiB) of %llu managed", (unsigned long long)z->free, (double)z->free * mib,
	    (unsigned long long)z->managed);
	if (z->watermarks_known)
		put(h, "; watermarks min %llu, low %llu, high %llu pages", (unsigned long long)z->min,
		    (unsigned long long)z->low, (unsigned long long)z->high);
	put(h, "</title>\n<text x=\"%d\" y=\"%ld\" text-anchor=\"end\">node %d ", Z_LABEL_W - 8, y + 15, z->node);
	escn(h, z->name, 12);
	put(h, "</text>\n<rect x=\"%d\" y=\"%ld\" width=\"%d\" height=\"20\" fill=\"#eceff2\"/>"
	       "<rect x=\"%d\" y=\"%ld\" width=\"%.1f\" height=\"20\" fill=\"%s\"/>\n",
	    Z_LABEL_W, y, Z_BAR_W, Z_LABEL_W, y, zone_x((double)z->free, scale) - Z_LABEL_W, fill);
	zone_mark_labels(h, m, y);
	put(h, "<text x=\"%d\" y=\"%ld\">%.0f MiB free</text></g>\n", Z_LABEL_W + Z_BAR_W + 8, y + 15,
	    (double)z->free * mib);
}

static void html_memory_zones(struct html *h)
{
	const struct ks_memory *m = &h->a->memory;
	struct zone_marks *marks;
	long height = 12, y = 6;

	put(h, "<h3>Zones against watermarks</h3>\n");
	if (!m->nzones) {
		put(h, "<p class=\"muted\">No zone could be read from this dump.</p>\n");
		return;
	}
	marks = calloc(m->nzones, sizeof(*marks));
	if (!marks) {
		put(h, "<p>out of memory drawing the zones</p>\n");
		return;
	}
	for (size_t z = 0; z < m->nzones; z++) {
		zone_marks(&m->zones[z], &marks[z]);
		height += zone_row(&marks[z]);
	}
	put(h, "<p class=\"legend\"><span><i style=\"background:#c62828\"></i>below min: only atomic "
	       "allocations succeed</span><span><i style=\"background:#ef8f00\"></i>below high: kswapd "
	       "reclaims</span><span><i style=\"background:#2e7d32\"></i>above high</span></p>\n");
	put(h, "<svg id=\"memory-zones\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%ld\" "
	       "viewBox=\"0 0 %d %ld\" role=\"img\" aria-label=\"zones against watermarks\">\n",
	    Z_WIDTH, height, Z_WIDTH, height);
	for (size_t z = 0; z < m->nzones; z++) {
		zone_bar(h, &m->zones[z], &marks[z], y, m->page_size ? m->page_size : 4096);
		y += zone_row(&marks[z]);
	}
	put(h, "</svg>\n");
	free(marks);
	if (m->kswapd_failed_nodes)
		put(h, "<p>kswapd gave up reclaiming on %u node%s (kswapd_failures reached its limit).</p>\n",
		    m->kswapd_failed_nodes, m->kswapd_failed_nodes == 1 ? "" : "s");
}

/* Tasks in the page allocator per slowpath phase: how the memory shortage shows in the tasks. */
static void html_memory_allocators(struct html *h)
{
	const struct ks_analysis *a = h->a;
	size_t count[KS_ALLOC_OOM_KILL + 1] = { 0 }, total = 0, no_oom = 0, nofail = 0, max = 1;
	const long bar_w = 520, label_w = 190, row = 24;

	for (size_t i = 0; i < a->tasks.count; i++) {
		const struct ks_alloc_state *al = &a->ta[i].alloc;

		if (al->phase == KS_ALLOC_NONE || al->phase > KS_ALLOC_OOM_KILL)
			continue;
		count[al->phase]++;
		total++;
		no_oom += al->may_oom_known && !al->may_oom;
		nofail += al->nofail;
	}
	for (int p = KS_ALLOC_RETRY; p <= KS_ALLOC_OOM_KILL; p++)
		max = count[p] > max ? count[p] : max;
	put(h, "<h3>Tasks in the page allocator: %zu</h3>\n", total);
	if (!total)
		return;
	put(h, "<svg id=\"memory-pressure\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%ld\" height=\"%ld\" "
	       "viewBox=\"0 0 %ld %ld\" role=\"img\" aria-label=\"tasks per allocator phase\">\n",
	    label_w + bar_w + 60, row * KS_ALLOC_OOM_KILL + 8, label_w + bar_w + 60, row * KS_ALLOC_OOM_KILL + 8);
	for (int p = KS_ALLOC_RETRY; p <= KS_ALLOC_OOM_KILL; p++) {
		long y = 4 + (p - 1) * row;
		double w = (double)bar_w * (double)count[p] / (double)max;

		put(h, "<text x=\"%ld\" y=\"%ld\" text-anchor=\"end\">%s</text>"
		       "<rect x=\"%ld\" y=\"%ld\" width=\"%.1f\" height=\"16\" rx=\"2\" fill=\"%s\"/>"
		       "<text x=\"%.1f\" y=\"%ld\">%zu</text>\n",
		    label_w - 8, y + 13, ks_alloc_phase_name((enum ks_alloc_phase)p), label_w, y,
		    count[p] ? fmax(w, 2) : 0, p >= KS_ALLOC_OOM_LOCK_WAIT ? "#e65100" : "#1e88e5",
		    label_w + (count[p] ? fmax(w, 2) : 0) + 6, y + 13, count[p]);
	}
	put(h, "</svg>\n");
	if (total)
		put(h, "<p>%zu of them may not invoke the OOM killer (no __GFP_FS, __GFP_NORETRY or a costly "
		       "order), %zu are __GFP_NOFAIL.</p>\n",
		    no_oom, nofail);
}

/*
 * Where RAM went: one bar of the parts of totalram (ks_memory_breakdown), each a share of the
 * width, named in a legend under it (not in the bar, where narrow parts' names would collide).
 */
static void html_memory_bar(struct html *h)
{
	static const char *const colors[KS_RAM_PARTS] = { "#1e88e5", "#90caf9", "#8e24aa", "#f9a825",
							   "#6d4c41", "#a1887f", "#43a047", "#9e9e9e" };
	const struct ks_memory *m = &h->a->memory;
	struct ks_ram_part parts[KS_RAM_PARTS];
	size_t n = ks_memory_breakdown(m, parts);
	const double width = 720;
	uint64_t sum = 0;
	double x = 0;

	put(h, "<h3>Where RAM went</h3>\n");
	if (!n) {
		put(h, "<p class=\"muted\">The memory counters could not all be read from this dump.</p>\n");
		return;
	}
	for (size_t p = 0; p < n; p++)
		sum += parts[p].pages;
	put(h, "<svg id=\"memory-bar\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"24\" "
	       "viewBox=\"0 0 %.0f 24\" role=\"img\" aria-label=\"where RAM went\">\n",
	    width, width);
	for (size_t p = 0; p < n; p++) {
		double w = width * (double)parts[p].pages / (double)sum;

		put(h, "<rect class=\"ram-part\" data-part=\"%s\" data-pages=\"%llu\" x=\"%.2f\" y=\"0\" "
		       "width=\"%.2f\" height=\"24\" fill=\"%s\"><title>%s: %.1f MiB, %.1f%% of RAM</title></rect>\n",
		    parts[p].name, (unsigned long long)parts[p].pages, x, w, colors[p], parts[p].name,
		    ks_memory_mib(m, parts[p].pages), 100.0 * (double)parts[p].pages / (double)m->pages[KS_MEM_TOTAL]);
		x += w;
	}
	put(h, "</svg>\n<p class=\"legend\">");
	for (size_t p = 0; p < n; p++)
		put(h, "<span title=\"%s\"><i style=\"background:%s\"></i>%s %.1f MiB (%.0f%%)</span>", parts[p].what,
		    colors[p], parts[p].name, ks_memory_mib(m, parts[p].pages),
		    100.0 * (double)parts[p].pages / (double)m->pages[KS_MEM_TOTAL]);
	put(h, "</p>\n");
}

/* "12.3 MiB" and its share of RAM in two cells */
static void mib_cells(struct html *h, uint64_t pages)
{
	const struct ks_memory *m = &h->a->memory;

	put(h, "<td class=\"num\">%.1f MiB</td><td class=\"num\">", ks_memory_mib(m, pages));
	if (m->known[KS_MEM_TOTAL] && m->pages[KS_MEM_TOTAL])
		put(h, "%.1f%%", 100.0 * (double)pages / (double)m->pages[KS_MEM_TOTAL]);
	put(h, "</td>");
}

/*
 * Who holds the memory, as the text's CONSUMERS: the biggest processes, the tmpfs files and who
 * holds them open, the slab caches, the memory cgroups; each table says why it is missing.
 */
static void html_memory_consumers(struct html *h)
{
	const struct ks_analysis *a = h->a;
	const struct ks_consumers *c = &a->memory.consumers;
	const struct ks_slab_census *sc = &c->slab;

	put(h, "<h3>Who holds the memory</h3>\n");
	if (!c->known) {
		put(h, "<p class=\"muted\">The mm counters' layout is unknown: no per-process memory.</p>\n");
	} else {
		put(h, "<table id=\"consumers-processes\"><thead><tr><th>process</th><th>resident</th><th>of RAM</th>"
		       "<th>anon / file / shmem MiB</th><th>threads</th></tr></thead><tbody>\n");
		for (size_t p = 0; p < c->ntop; p++) {
			const struct ks_process_mem *pm = &c->top[p];
			uint64_t rss = pm->anon + pm->file + pm->shmem;

			if (!rss && !pm->swap)
				break;
			put(h, "<tr data-pid=\"%d\"><td>", task(h, pm->task)->tgid);
			task_link(h, pm->task);
			put(h, "</td>");
			mib_cells(h, rss);
			put(h, "<td class=\"num\">%.1f / %.1f / %.1f</td><td class=\"num\">%zu</td></tr>\n",
			    ks_memory_mib(&a->memory, pm->anon), ks_memory_mib(&a->memory, pm->file),
			    ks_memory_mib(&a->memory, pm->shmem), pm->threads);
		}
		put(h, "</tbody></table>\n");
	}
	if (c->files_known && c->nfiles) {
		put(h, "<table id=\"consumers-files\"><thead><tr><th>tmpfs file</th><th>pages held</th><th>of RAM</th>"
		       "<th>open in</th></tr></thead><tbody>\n");
		for (size_t f = 0; f < c->nfiles; f++) {
			char label[sizeof(c->files[f].file.path) + 32];

			ks_file_label(&c->files[f].file, label, sizeof(label));
			put(h, "<tr><td class=\"mono\">");
			esc(h, label);
			put(h, "</td>");
			mib_cells(h, c->files[f].pages);
			put(h, "<td>");
			for (size_t k = 0; k < c->files[f].nholders && k < KS_FILE_HOLDERS; k++) {
				put(h, "%s", k ? ", " : "");
				task_link(h, c->files[f].holders[k]);
			}
			if (c->files[f].nholders > KS_FILE_HOLDERS)
				put(h, " and %zu more", c->files[f].nholders - KS_FILE_HOLDERS);
			if (!c->files[f].holders_known)
				put(h, "<span class=\"muted\">unknown</span>");
			put(h, "</td></tr>\n");
		}
		put(h, "</tbody></table>\n");
	}
	if (sc->state == KS_SLAB_READ && sc->ntop) {
		put(h, "<table id=\"consumers-slab\"><thead><tr><th>slab cache</th><th>its slabs span</th><th>of RAM</th>"
		       "<th>objects in use / room</th><th>object size</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < sc->ntop; i++) {
			put(h, "<tr><td class=\"mono\">");
			esc(h, sc->top[i].name);
			put(h, "</td>");
			mib_cells(h, sc->top[i].pages);
			put(h, "<td class=\"num\">%llu / %llu</td><td class=\"num\">%llu</td></tr>\n",
			    (unsigned long long)sc->top[i].inuse, (unsigned long long)sc->top[i].objects,
			    (unsigned long long)sc->top[i].object_size);
		}
		put(h, "</tbody></table>\n");
	} else if (sc->state != KS_SLAB_UNREAD) {
		put(h, "<p class=\"muted\">Slab caches not counted: %s.</p>\n",
		    sc->state == KS_SLAB_NOT_SLUB  ? "the allocator is SLOB or SLAB, whose pages name no cache"
		    : sc->state == KS_SLAB_TOO_BIG ? "the memory map is too big to walk in a report"
						   : "the dump lacks the memory map's tables");
	}
	if (c->cgroups_known && c->ncgroups) {
		put(h, "<table id=\"consumers-cgroups\"><thead><tr><th>memory cgroup</th><th>charged</th><th>of RAM</th>"
		       "<th>memory.max</th><th>memory.high</th><th>OOM kills</th><th>memory pressure (some avg10)</th>"
		       "<th>stalled tasks</th></tr></thead><tbody>\n");
		for (size_t g = 0; g < c->ncgroups; g++) {
			const struct ks_cgroup_mem *cg = &c->cgroups[g];

			put(h, "<tr><td class=\"mono\">");
			esc(h, cg->path);
			put(h, "</td>");
			mib_cells(h, cg->usage_pages);
			if (cg->limited)
				put(h, "<td class=\"num\">%.1f MiB</td>", ks_memory_mib(&a->memory, cg->max_pages));
			else
				put(h, "<td class=\"num\">max</td>");
			if (cg->high_limited)
				put(h, "<td class=\"num\">%.1f MiB</td>", ks_memory_mib(&a->memory, cg->high_pages));
			else
				put(h, "<td class=\"num\">max</td>");
			if (cg->events_known)
				put(h, "<td class=\"num\">%llu</td>", (unsigned long long)cg->ev_oom_kill);
			else
				put(h, "<td class=\"num\">?</td>");
			if (cg->psi_known)
				put(h, "<td class=\"num\">%.2f%%</td>", cg->psi.some[KS_PSI_MEMORY].avg10);
			else
				put(h, "<td class=\"num\">?</td>");
			put(h, "<td class=\"num\">%zu</td></tr>\n", cg->stalled);
		}
		put(h, "</tbody></table>\n");
	}
}

static void html_memory(struct html *h)
{
	put(h, "<section id=\"memory\">\n<h2>Memory</h2>\n");
	html_memory_bar(h);
	html_memory_zones(h);
	html_memory_allocators(h);
	html_memory_consumers(h);
	put(h, "</section>\n");
}

/* ---- tasks grouped by stack ---- */

static void stack_group(struct html *h, const struct ks_task_group *gr)
{
	const size_t *members = h->a->group_tasks + gr->first;
	size_t i = gr->first_task;
	const struct ks_stack *s = &h->a->stacks[i];

	put(h, "<details class=\"grp\"%s><summary><span class=\"cnt\">%zu &times;</span> "
	       "<span class=\"st %s\">%c</span> ",
	    gr->stalled ? " open" : "", gr->count, state_class(task(h, i)->state_char), task(h, i)->state_char);
	esc(h, h->a->ta[i].activity);
	put(h, " &mdash; <span class=\"muted\">");
	for (size_t k = 0; k < gr->count && k < 4; k++) {
		put(h, "%s", k ? ", " : "");
		esc(h, task(h, members[k])->comm);
	}
	put(h, "%s</span></summary>\n<div>", gr->count > 4 ? ", &hellip;" : "");
	for (size_t k = 0; k < gr->count && k < 60; k++) {
		put(h, "%s", k ? ", " : "");
		task_link(h, members[k]);
	}
	if (gr->count > 60)
		put(h, " and %zu more", gr->count - 60);
	put(h, "</div>\n<ol class=\"mono\">\n");
	for (size_t fr = h->a->ta[i].first_frame; fr < s->count; fr++) {
		put(h, "<li>");
		esc(h, s->frames[fr].function);
		if (s->frames[fr].inlined) {
			put(h, " <span class=\"muted\">(inlined)</span>");
		} else {
			put(h, " <span class=\"muted\">");
			esc(h, s->frames[fr].symbol);
			put(h, "+0x%llx</span>", (unsigned long long)s->frames[fr].offset);
		}
		put(h, "</li>\n");
	}
	put(h, "</ol>\n");
	if (s->note[0]) {
		put(h, "<p class=\"muted\">unwind stopped: ");
		esc(h, s->note);
		put(h, "</p>\n");
	}
	put(h, "</details>\n");
}

/* The model's groups: stalled ones first and open, then the biggest. */
static void html_stack_groups(struct html *h)
{
	put(h, "<section id=\"stacks\">\n<h2>Tasks grouped by stack</h2>\n<p class=\"controls\">"
	       "<button type=\"button\" id=\"expand\">expand all</button> "
	       "<button type=\"button\" id=\"collapse\">collapse all</button> "
	       "<span class=\"muted\">stalled groups first, open; tasks with the same state, activity and stack "
	       "together; idle CPUs left out</span></p>\n");
	for (size_t g = 0; g < h->a->ngroups; g++)
		stack_group(h, &h->a->groups[g]);
	put(h, "</section>\n");
}

/* ---- the task table ---- */

static void task_row(struct html *h, size_t i)
{
	const struct ks_analysis *a = h->a;
	const struct ks_task *t = task(h, i);
	const struct ks_task_analysis *ta = &a->ta[i];
	char when[64] = "";
	bool first = true;

	if (h->stalled[i])
		ks_report_stall_words(&ta->stall, when, sizeof(when));
	put(h, "<tr id=\"");
	row_id(h, i);
	put(h, "\" data-stalled=\"%d\"><td>%d</td><td>%d</td><td>", h->stalled[i], t->pid, t->tgid);
	esc(h, t->comm);
	put(h, "</td><td><span class=\"st %s\">%c</span></td><td>", state_class(t->state_char), t->state_char);
	esc(h, ta->activity);
	put(h, "</td><td>%s</td><td>", when);
	if (ta->waits_on >= 0) {
		put(h, "<span class=\"mono\">");
		esc(h, lock_name(&a->locks[ta->waits_on]));
		put(h, "</span> (%s)", ks_wait_type_name(ta->wait_type));
	}
	put(h, "</td><td>");
	for (size_t l = 0; l < a->nlocks; l++) {
		if (a->locks[l].owner != (long)i)
			continue;
		put(h, "%s<span class=\"mono\">", first ? "" : ", ");
		esc(h, lock_name(&a->locks[l]));
		put(h, "</span>");
		first = false;
	}
	put(h, "</td><td>");
	if (ta->in_cycle)
		put(h, "<span class=\"badge cyc\">in cycle</span>");
	if (ta->oom_victim)
		put(h, "<span class=\"badge oom\">OOM victim</span>");
	if (t->panic)
		put(h, "<span class=\"badge\">panic CPU</span>");
	else if (t->active)
		put(h, "<span class=\"badge\">on CPU %d</span>", t->cpu);
	if (ta->oom_score_adj == -1000)
		put(h, "<span class=\"badge\">unkillable</span>");
	if (t->idle)
		put(h, "<span class=\"badge\">idle CPU %d</span>", t->cpu);
	put(h, "</td></tr>\n");
}

static void html_task_table(struct html *h)
{
	const struct ks_analysis *a = h->a;

	put(h, "<section id=\"task-table\">\n<h2>Tasks</h2>\n<p class=\"controls\">"
	       "<input type=\"search\" id=\"filter\" placeholder=\"filter: comm, pid, lock, activity\" "
	       "aria-label=\"filter tasks\"> <label><input type=\"checkbox\" id=\"only-stalled\"%s> "
	       "stalled only</label> <span class=\"muted\"><span id=\"shown\">%zu</span> of %zu shown</span></p>\n",
	    h->nstalled ? " checked" : "", a->tasks.count, a->tasks.count);
	put(h, "<table id=\"tasks\"><thead><tr><th>pid</th><th>tgid</th><th>comm</th><th>st</th><th>doing</th>"
	       "<th>stalled for</th><th>waits on</th><th>holds</th><th></th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < a->tasks.count; i++)
		task_row(h, i);
	put(h, "</tbody></table>\n</section>\n");
}

/* ---- the kernel log ---- */

#define LOG_MAX_RELEVANT 400
#define LOG_TAIL 60

static void log_row(struct html *h, const struct ks_log_record *r)
{
	put(h, "<tr><td class=\"ts\">[%5llu.%06llu]</td><td>", (unsigned long long)(r->ts_nsec / 1000000000),
	    (unsigned long long)(r->ts_nsec % 1000000000 / 1000));
	esc(h, r->text ? r->text : "");
	put(h, "</td></tr>\n");
}

static void html_log(struct html *h)
{
	const struct ks_log *log = h->log;
	size_t nrel = 0, skip = 0, shown = 0;

	put(h, "<section id=\"log\">\n<h2>Kernel log: relevant lines</h2>\n");
	if (!log) {
		put(h, "<p class=\"muted\">The kernel log could not be read from this dump.</p></section>\n");
		return;
	}
	nrel = h->a->log_nrelevant;
	if (nrel > LOG_MAX_RELEVANT)
		skip = nrel - LOG_MAX_RELEVANT;
	put(h, "<p class=\"muted\">%zu of %zu lines: OOM reports, hung-task and lockup warnings, allocation "
	       "failures, the crash trigger%s.</p>\n<table class=\"log\" id=\"log-relevant\"><tbody>\n",
	    nrel - skip, log->count, skip ? "; the oldest are left out" : "");
	for (size_t r = 0; r < log->count; r++) {
		if (!h->a->log_relevant[r])
			continue;
		if (shown++ < skip)
			continue;
		log_row(h, &log->records[r]);
	}
	put(h, "</tbody></table>\n<details class=\"grp\"><summary>the last %d lines of the log</summary>\n"
	       "<table class=\"log\"><tbody>\n",
	    LOG_TAIL);
	for (size_t r = log->count > LOG_TAIL ? log->count - LOG_TAIL : 0; r < log->count; r++)
		log_row(h, &log->records[r]);
	put(h, "</tbody></table></details>\n</section>\n");
}

static void html_footer(struct html *h)
{
	put(h, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", SCRIPT);
}

int ks_report_html(FILE *out, const struct ks_analysis *a)
{
	size_t n = a->tasks.count ? a->tasks.count : 1;
	struct html h = { .out = out, .a = a, .log = a->log_known ? &a->log : NULL };
	int rc = -1;

	h.stalled = calloc(n, sizeof(bool));
	h.owns = calloc(n, sizeof(bool));
	h.named = calloc(n, sizeof(bool));
	if (!h.stalled || !h.owns || !h.named)
		goto out;
	for (size_t i = 0; i < a->tasks.count; i++) {
		h.stalled[i] = ks_task_stalled(a, i);
		h.nstalled += h.stalled[i];
	}
	for (size_t l = 0; l < a->nlocks; l++)
		if (a->locks[l].owner >= 0 && (size_t)a->locks[l].owner < a->tasks.count)
			h.owns[a->locks[l].owner] = true;
	for (size_t p = 0; a->nverdicts && p < a->verdicts[0].npids; p++) {
		long i = task_index(&h, a->verdicts[0].pids[p]);

		if (i >= 0)
			h.named[i] = true;
	}
	html_head(&h);
	html_header(&h);
	html_verdicts(&h);
	html_waitfor_graph(&h);
	html_timeline(&h);
	html_events(&h);
	html_memory(&h);
	html_stack_groups(&h);
	html_task_table(&h);
	html_log(&h);
	html_footer(&h);
	rc = ferror(out) ? -1 : 0;
out:
	free(h.stalled);
	free(h.owns);
	free(h.named);
	return rc;
}
