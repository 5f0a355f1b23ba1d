/* `kstall triage`: the command over discovery, the index and the parallel analysis. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/term.h"
#include "triage/triage.h"
#include "kstall/settings.h"
#include "base/search.h"

#ifndef KSTALL_VERSION
#define KSTALL_VERSION "0"
#endif

enum { EXIT_FAILED_DUMPS = 1, EXIT_USAGE = 2 };

#define DEFAULT_TIMEOUT 600
#define MAX_JOBS 256

struct triage_cli {
	bool json, wide;
	unsigned int jobs, timeout;
	const char *index, *similar;
	const char **files, **dirs, **paths;
	size_t nfiles, ndirs, npaths;
};

static void usage(FILE *f)
{
	fputs("usage: kstall triage [options] PATH...\n"
	      "       kstall triage --similar SIGNATURE [--index FILE] [--json]\n"
	      "Analyze every dump under the PATHs (directories such as /var/crash, or dump files),\n"
	      "one row each, then the dumps grouped by signature.\n"
	      "options:\n"
	      "  -j, --jobs N          analyze N dumps at once (default: the number of CPUs)\n"
	      "  --json                one JSON object per line\n"
	      "  --wide                every column in the table: each verdict's pids, the\n"
	      "                        signature, whether the row came from the index\n"
	      "  --index FILE          the index of earlier results (default:\n"
	      "                        $XDG_CACHE_HOME/kstall/triage.sqlite)\n"
	      "  --vmlinux FILE        a candidate vmlinux (repeatable); each dump takes the one\n"
	      "                        whose build-id is its own\n"
	      "  --debug-dir DIR       look for vmlinux files in DIR too (repeatable)\n"
	      "  --timeout SECONDS     stop the analysis of one dump after this long (default 600)\n"
	      "  --similar SIGNATURE   list the dumps of the index with this signature\n",
	      f);
}

static bool parse_count(const char *s, unsigned int max, unsigned int *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v > max)
		return false;
	*ret = (unsigned int)v;
	return true;
}

static bool push(const char ***arr, size_t *n, const char *s)
{
	const char **a = realloc(*arr, (*n + 1) * sizeof(*a));

	if (!a)
		return false;
	a[(*n)++] = s;
	*arr = a;
	return true;
}

static int parse(int argc, char **argv, struct triage_cli *cli)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "wide", no_argument, NULL, 'W' },
		{ "index", required_argument, NULL, 'i' },
		{ "vmlinux", required_argument, NULL, 'v' },
		{ "debug-dir", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "similar", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool ok = true;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!parse_count(optarg, MAX_JOBS, &cli->jobs) || !cli->jobs) {
				ks_term_printf(stderr,
					"kstall: triage -j wants a number from 1 to %d, not '%s'\n",
					MAX_JOBS, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'J':
			cli->json = true;
			break;
		case 'W':
			cli->wide = true;
			break;
		case 'i':
			cli->index = optarg;
			break;
		case 'v':
			ok &= push(&cli->files, &cli->nfiles, optarg);
			break;
		case 'd':
			ok &= push(&cli->dirs, &cli->ndirs, optarg);
			break;
		case 't':
			if (!parse_count(optarg, 86400 * 7, &cli->timeout)) {
				ks_term_printf(stderr, "kstall: triage --timeout wants seconds, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			cli->similar = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		ok &= push(&cli->paths, &cli->npaths, argv[i]);
	if (!ok) {
		ks_term_printf(stderr, "kstall: out of memory\n");
		return EXIT_USAGE;
	}
	if (cli->similar && cli->npaths) {
		ks_term_printf(stderr, "kstall: triage --similar lists the index; it takes no PATH\n");
		return EXIT_USAGE;
	}
	/* A mistyped candidate would only show as "no vmlinux" on every row: say it at once. */
	for (size_t i = 0; i < cli->nfiles + cli->ndirs; i++) {
		const char *p = i < cli->nfiles ? cli->files[i] : cli->dirs[i - cli->nfiles];

		if (access(p, R_OK)) {
			ks_term_printf(stderr, "kstall: cannot read %s %s: %s\n",
				i < cli->nfiles ? "--vmlinux" : "--debug-dir", p, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (!cli->similar && !cli->npaths) {
		ks_term_printf(stderr,
			"kstall: triage wants a PATH (a directory such as /var/crash, or a dump)\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* The release and the build-id of this binary: any rebuild may analyze differently. */
static void kstall_version(char *buf, size_t size)
{
	struct ks_vmlinux_id id;
	struct ks_error *err = ks_debuginfo_identify("/proc/self/exe", NULL, &id);

	if (err) {
		ks_error_destroy(err);
		id.build_id[0] = '\0';
	}
	snprintf(buf, size, "%s%s%.16s", KSTALL_VERSION, id.build_id[0] ? "+" : "", id.build_id);
}

struct batch {
	const struct triage_cli *cli;
	struct ks_triage_dumps *dumps;
	struct ks_triage_index *idx;
	const char *version;
	size_t done, cached, failed, printed;
	bool progress, index_failed;
};

static void print_progress(const struct batch *b)
{
	size_t n = b->dumps->count, width = 30, filled = n ? b->done * width / n : width;

	ks_term_printf(stderr, "\r[%.*s%.*s] %zu/%zu dumps, %zu cached, %zu failed", (int)filled,
		"##############################", (int)(width - filled),
		"..............................", b->done, n, b->cached, b->failed);
	fflush(stderr);
}

static void emit_json_line(json_t *j)
{
	if (j)
		ks_term_json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(j);
}

/* JSON lines in path order as soon as every earlier dump is done, so a pipe sees them early. */
static void print_ready(struct batch *b)
{
	while (b->printed < b->dumps->count &&
	       b->dumps->entries[b->printed].status != KS_TRIAGE_PENDING)
		emit_json_line(ks_triage_entry_json(&b->dumps->entries[b->printed++]));
	fflush(stdout);
}

static void on_done(void *arg, size_t i)
{
	struct batch *b = arg;
	struct ks_triage_entry *e = &b->dumps->entries[i];

	b->done++;
	b->cached += e->cached;
	b->failed += e->status == KS_TRIAGE_FAILED;
	if (!e->cached) {
		struct ks_error *err;

		if (!e->analyzed_at)
			e->analyzed_at = (int64_t)time(NULL);
		free(e->analyzed_by);
		e->analyzed_by = strdup(b->version);
		err = b->idx ? ks_triage_index_store(b->idx, e) : NULL;
		if (err) {
			/* The batch is worth more than its index: say so once and go on. */
			if (!b->index_failed)
			{
				/* clear the progress line first: that escape is kstall's own */
				if (b->progress)
					fputs("\r\033[K", stderr);
				ks_term_printf(stderr, "kstall: %s\n", err->message);
			}
			b->index_failed = true;
			ks_error_destroy(err);
		}
	}
	if (b->progress)
		print_progress(b);
	if (b->cli->json)
		print_ready(b);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* All the pids, or (compact) the first few and how many more: a storm's verdict names dozens. */
static void pids_words(const struct ks_triage_entry *e, bool wide, char *buf, size_t size)
{
	size_t len = 0, shown = wide ? e->npids : e->npids > 3 ? 2 : e->npids;

	snprintf(buf, size, "-");
	for (size_t i = 0; i < shown && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "", e->pids[i]);
	if (shown < e->npids && len < size)
		snprintf(buf + len, size - len, " +%zu", e->npids - shown);
}

static void status_words(const struct ks_triage_entry *e, bool wide, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", ks_triage_status_name(e->status),
		 wide && e->cached ? ", cached" : "");
}

/* UTC, as the report's header gives it: dumps of machines in several zones sort alike. */
static void date_words(const struct ks_triage_entry *e, char *buf, size_t size)
{
	time_t t = (time_t)e->crash_time;
	struct tm tm;

	snprintf(buf, size, "-");
	if (e->crash_time > 0 && gmtime_r(&t, &tm))
		strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

static int max_int(int a, size_t b)
{
	return (size_t)a > b ? a : (int)b;
}

enum { COL_DUMP, COL_DATE, COL_HOST, COL_KERNEL, COL_STATUS, COL_VERDICT, COL_PIDS, NCOLS };

/* Compact: a dump under the working directory by its relative name, as ls would show it. */
static const char *shown_path(const char *path, bool wide)
{
	static char cwd[4096];
	static bool have_cwd;
	size_t n;

	if (wide)
		return path;
	if (!have_cwd)
		have_cwd = getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/");
	n = have_cwd ? strlen(cwd) : 0;
	return n && !strncmp(path, cwd, n) && path[n] == '/' && path[n + 1] ? path + n + 1 : path;
}

static void row_words(const struct ks_triage_entry *e, bool wide, char (*w)[KS_VERDICT_MAX_PIDS * 12])
{
	snprintf(w[COL_DUMP], sizeof(w[0]), "%s", shown_path(e->path, wide));
	date_words(e, w[COL_DATE], sizeof(w[0]));
	snprintf(w[COL_HOST], sizeof(w[0]), "%s", or_dash(e->host));
	snprintf(w[COL_KERNEL], sizeof(w[0]), "%s", or_dash(e->release));
	status_words(e, wide, w[COL_STATUS], sizeof(w[0]));
	snprintf(w[COL_VERDICT], sizeof(w[0]), "%s", or_dash(e->verdict));
	pids_words(e, wide, w[COL_PIDS], sizeof(w[0]));
}

/*
 * One row per dump. Compact (the default) fits a wide terminal: the first pids, and why a dump
 * failed on a line of its own under it; the signatures are in the groups below. Wide adds the
 * signature (or the reason) as a last column as long as it is.
 */
static void print_table(const struct ks_triage_dumps *d, bool wide)
{
	static const char *const heads[NCOLS] = { "DUMP",   "CRASHED (UTC)", "HOST", "KERNEL",
						  "STATUS", "VERDICT",	     "PIDS" };
	char w[NCOLS][KS_VERDICT_MAX_PIDS * 12];
	int width[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		width[c] = (int)strlen(heads[c]);
	for (size_t i = 0; i < d->count; i++) {
		row_words(&d->entries[i], wide, w);
		for (int c = 0; c < NCOLS; c++)
			width[c] = max_int(width[c], ks_term_width(w[c]));
	}
	for (int c = 0; c < NCOLS; c++)
		ks_term_printf(stdout, "%-*s%s", c == NCOLS - 1 && !wide ? 0 : width[c], heads[c],
		       c == NCOLS - 1 ? "" : "  ");
	ks_term_printf(stdout, "%s\n", wide ? "  SIGNATURE / REASON" : "");
	for (size_t i = 0; i < d->count; i++) {
		const struct ks_triage_entry *e = &d->entries[i];

		row_words(e, wide, w);
		for (int c = 0; c < NCOLS; c++)
			ks_term_printf(stdout, "%-*s%s", c == NCOLS - 1 && !wide ? 0 : width[c], w[c],
			       c == NCOLS - 1 ? "" : "  ");
		if (wide)
			ks_term_printf(stdout, "  %s\n", e->status == KS_TRIAGE_FAILED ? or_dash(e->reason)
								: or_dash(e->signature));
		else if (e->status != KS_TRIAGE_OK && e->reason)
			ks_term_printf(stdout, "\n    %s: %s\n",
			       e->status == KS_TRIAGE_FAILED	     ? "failed"
			       : e->status == KS_TRIAGE_INCONCLUSIVE ? "inconclusive"
								     : "partly read",
			       e->reason);
		else
			putchar('\n');
	}
}

struct group {
	const char *signature, *verdict;
	size_t first, count; /* a run of order[] */
};

/*
 * What a dump is grouped by: its signature; a dump not read in full goes to
 * the group "inconclusive" whatever its verdict, never next to the dumps read
 * in full (a cut dump's "none" is no healthy machine).
 */
static const char *group_key(const struct ks_triage_entry *e)
{
	return e->status == KS_TRIAGE_INCONCLUSIVE ? "inconclusive" : e->signature;
}

static int by_signature(const void *a, const void *b, void *arg)
{
	const struct ks_triage_dumps *d = arg;
	const struct ks_triage_entry *x = &d->entries[*(const size_t *)a],
				     *y = &d->entries[*(const size_t *)b];
	int c = strcmp(group_key(x), group_key(y));

	return c ? c : strcmp(x->path, y->path);
}

static int by_count(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->signature, y->signature);
}

/* Dumps with the same signature, the biggest group first: the problem that recurs. */
static void print_groups(const struct ks_triage_dumps *d, bool json, bool wide)
{
	size_t *order = calloc(d->count ? d->count : 1, sizeof(*order)), n = 0, ng = 0;
	struct group *groups = calloc(d->count ? d->count : 1, sizeof(*groups));

	if (!order || !groups) {
		free(order);
		free(groups);
		ks_term_printf(stderr, "kstall: out of memory for the groups\n");
		return;
	}
	for (size_t i = 0; i < d->count; i++)
		if (d->entries[i].status != KS_TRIAGE_FAILED && d->entries[i].signature)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), by_signature, (void *)d);
	for (size_t i = 0; i < n; i++) {
		const struct ks_triage_entry *e = &d->entries[order[i]];

		if (!ng || strcmp(groups[ng - 1].signature, group_key(e)))
			groups[ng++] = (struct group){ group_key(e),
						       e->status == KS_TRIAGE_INCONCLUSIVE ? "inconclusive" : e->verdict,
						       i, 0 };
		groups[ng - 1].count++;
	}
	ks_sort(groups, ng, sizeof(*groups), by_count);
	if (!json && ng)
		ks_term_printf(stdout, "\nGROUPS (by signature)\n");
	for (size_t g = 0; g < ng; g++) {
		json_t *paths = json ? json_array() : NULL;

		if (!json)
			ks_term_printf(stdout, "  %zu x %s\n", groups[g].count, groups[g].signature);
		for (size_t i = groups[g].first; i < groups[g].first + groups[g].count; i++) {
			const char *path = d->entries[order[i]].path;

			if (json)
				json_array_append_new(paths, ks_triage_json_text(path));
			else
				ks_term_printf(stdout, "        %s\n", shown_path(path, wide));
		}
		if (json)
			emit_json_line(json_pack("{s:s,s:i,s:o,s:o,s:I,s:o}", "type", "group",
						 "schema_version", KS_TRIAGE_SCHEMA_VERSION,
						 "signature", ks_triage_json_text(groups[g].signature),
						 "verdict", ks_triage_json_text(groups[g].verdict),
						 "count", (json_int_t)groups[g].count, "paths", paths));
	}
	free(order);
	free(groups);
}

static void print_summary(const struct batch *b, const char *index)
{
	size_t n = b->dumps->count;

	size_t analyzed = n - b->cached - b->failed;

	if (b->cli->json) {
		emit_json_line(json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:o,s:s}", "type", "summary",
					 "schema_version", KS_TRIAGE_SCHEMA_VERSION, "dumps",
					 (json_int_t)n, "analyzed", (json_int_t)analyzed, "cached",
					 (json_int_t)b->cached, "failed", (json_int_t)b->failed,
					 "index", b->idx ? ks_triage_json_text(index) : json_null(), "kstall_version",
					 b->version));
		return;
	}
	ks_term_printf(stdout, "\n%zu dump%s: %zu analyzed, %zu from the index (%s), %zu failed\n", n,
	       n == 1 ? "" : "s", analyzed, b->cached, b->idx ? index : "none: nothing kept", b->failed);
}

static int similar(const struct triage_cli *cli, const char *index, const char *version)
{
	struct ks_triage_index *idx;
	struct ks_triage_dumps d;
	struct ks_error *err = ks_triage_index_open(index, version, true, &idx);

	if (!err) {
		err = ks_triage_index_similar(idx, cli->similar, &d);
		ks_triage_index_close(idx);
	}
	if (err) {
		ks_term_printf(stderr, "kstall: %s\n", err->message);
		ks_error_destroy(err);
		return EXIT_USAGE;
	}
	if (cli->json)
		for (size_t i = 0; i < d.count; i++)
			emit_json_line(ks_triage_entry_json(&d.entries[i]));
	else if (d.count)
		print_table(&d, cli->wide);
	if (!d.count)
		ks_term_printf(stderr, "kstall: no dump in %s has the signature %s\n", index, cli->similar);
	ks_triage_dumps_deinit(&d);
	return 0;
}

/* Entries this kstall analyzed before come from the index; the others wait for a child. */
static struct ks_error *take_cached(struct ks_triage_index *idx, struct ks_triage_dumps *d)
{
	for (size_t i = 0; i < d->count; i++) {
		struct ks_error *err;
		bool found;

		if (d->entries[i].status != KS_TRIAGE_PENDING)
			continue;
		/* found or not, e says so itself: a cached entry is no longer pending */
		err = ks_triage_index_lookup(idx, &d->entries[i], &found);
		if (err)
			return err;
	}
	return NULL;
}

static int run(const struct triage_cli *cli, const char *index, const char *version)
{
	struct ks_vmlinux_search search = { cli->files, cli->nfiles, cli->dirs, cli->ndirs };
	struct ks_triage_dumps d;
	struct batch b = { .cli = cli, .dumps = &d, .version = version };
	struct ks_triage_run_options ro = { .search = &search, .done = on_done, .arg = &b };
	struct ks_error *err = ks_triage_find(cli->paths, cli->npaths, &d);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (err) {
		ks_term_printf(stderr, "kstall: %s\n", err->message);
		ks_error_destroy(err);
		return EXIT_USAGE;
	}
	if (d.problems)
		/* one escaped line each: a newline of kstall's ends each */
		for (const char *l = d.problems; *l;) {
			size_t n = strcspn(l, "\n");

			ks_term_printf(stderr, "kstall: %.*s\n", (int)n, l);
			l += n + (l[n] == '\n');
		}
	/*
	 * The batch is worth more than its index: with no place for one (no HOME,
	 * a read-only cache) triage runs without, and says so.
	 */
	if (!index) {
		ks_term_printf(stderr, "kstall: no place for the triage index (set HOME or XDG_CACHE_HOME, or give "
				"--index FILE): running without one, nothing is kept\n");
	} else if ((err = ks_triage_index_open(index, version, false, &b.idx)) && err->code == KS_ERR_OS) {
		/* a place it cannot write; a file that is no index stays an error (below) */
		ks_term_printf(stderr, "kstall: %s: running without the index, nothing is kept\n", err->message);
		ks_error_destroy(err);
		err = NULL;
		b.idx = NULL;
	}
	if (!err && b.idx)
		err = take_cached(b.idx, &d);
	if (err) {
		ks_term_printf(stderr, "kstall: %s\n", err->message);
		ks_error_destroy(err);
		ks_triage_index_close(b.idx);
		ks_triage_dumps_deinit(&d);
		return EXIT_USAGE;
	}
	if (!d.count)
		ks_term_printf(stderr, "kstall: no dumps found\n");
	b.progress = isatty(STDERR_FILENO) && d.count;
	ro.jobs = cli->jobs ? cli->jobs : cpus > 0 ? (unsigned int)cpus : 1;
	ro.timeout = cli->timeout;
	for (size_t i = 0; i < d.count; i++)
		if (d.entries[i].status != KS_TRIAGE_PENDING)
			on_done(&b, i);
	ks_triage_run(d.entries, d.count, &ro);
	if (b.progress)
		fputs("\r\033[K", stderr);
	if (!cli->json && d.count)
		print_table(&d, cli->wide);
	print_groups(&d, cli->json, cli->wide);
	print_summary(&b, index);
	ks_triage_index_close(b.idx);
	ks_triage_dumps_deinit(&d);
	return b.failed ? EXIT_FAILED_DUMPS : 0;
}

/* "DIR/name" in the cache directory; NULL when there is none (no HOME). */
static char *cache_file(const char *name)
{
	char *dir = ks_cache_dir_from_env(), *path = NULL;

	if (dir && asprintf(&path, "%s/%s", dir, name) < 0)
		path = NULL;
	free(dir);
	return path;
}

int ks_triage_main(int argc, char **argv)
{
	struct triage_cli cli = { .timeout = DEFAULT_TIMEOUT };
	char version[64], *index = NULL;
	int rc = parse(argc, argv, &cli);

	if (!rc && !cli.index && !(index = cache_file("triage.sqlite")) && cli.similar) {
		ks_term_printf(stderr, "kstall: no place for the triage index: set HOME or XDG_CACHE_HOME, "
				"or give --index FILE\n");
		rc = EXIT_USAGE;
	}
	if (!rc) {
		kstall_version(version, sizeof(version));
		rc = cli.similar ? similar(&cli, cli.index ? cli.index : index, version)
				 : run(&cli, cli.index ? cli.index : index, version);
	}
	free(index);
	free(cli.files);
	free(cli.dirs);
	free(cli.paths);
	return rc;
}
