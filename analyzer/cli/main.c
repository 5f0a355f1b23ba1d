/* kstall: the command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kstall/analysis.h"
#include "kstall/kernel.h"
#include "kstall/log.h"
#include "kstall/mm.h"
#include "kstall/modules.h"
#include "kstall/open.h"
#include "kstall/target.h"
#include "kstall/tasks.h"
#include "kstall/unwind.h"
#include "base/term.h"
#include "cli/heap.h"
#include "render/html.h"
#include "render/report.h"
#include "render/sys.h"
#include "triage/triage.h"

#define SCHEMA_VERSION 1

/* Exit codes: 0 ok, 1 ran but parts could not be read, 2 usage or input error. */
enum { EXIT_PARTIAL = 1, EXIT_USAGE = 2 };

/* A task asked for on the command line: by pid, task_struct address or comm. */
struct selector {
	enum { SEL_PID, SEL_ADDR, SEL_COMM } kind;
	long pid;
	uint64_t addr;
	const char *comm, *arg;
	bool matched;
};

struct cli {
	const char *command;
	/* all: bt -a, the task on each CPU (as crash's bt -a); every: bt -A / ps, every task */
	bool json, all, every, verbose, force;
	const char *vmcore, *vmlinux;
	/* report --html: the file to write, "-" for stdout */
	const char *html;
	/* ps --state LETTERS: only tasks in these states */
	const char *states;
	struct selector *sel;
	size_t nsel;
	/* the MODULE.ko files given, for module frames' DWARF */
	const char **modules;
	size_t nmodules;
};

static void cli_free(struct cli *cli)
{
	free(cli->sel);
	free(cli->modules);
}

static const char *const commands[] = { "report", "sys", "ps", "bt", "log", "mod", "triage" };

static bool is_command(const char *w)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(w, commands[i]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fputs("usage: kstall [COMMAND] [options] VMCORE [VMLINUX] [MODULE.ko...]\n"
	      "commands:\n"
	      "  report [--json] [--html FILE]\n"
	      "                              who is stuck, since when, waiting for whom, and why\n"
	      "                              (the default command); --html writes a self-contained\n"
	      "                              HTML page to FILE\n"
	      "  sys [--json]                the machine and the crash at a glance, like crash sys\n"
	      "  ps [--json] [--state LETTERS] [TASK...]\n"
	      "                              tasks, like crash ps\n"
	      "  bt [-a | -A | TASK...] [-v] [--json]\n"
	      "                              kernel stacks, like crash bt\n"
	      "  log                         the kernel log\n"
	      "  mod [--json]                loaded modules, like crash mod\n"
	      "  triage [options] PATH...    every dump under the PATHs, grouped by signature;\n"
	      "                              see kstall triage --help\n"
	      "TASK is a pid, a task_struct address (0x...) or a comm.\n"
	      "options:\n"
	      "  --force     open even when the vmlinux does not match the dump\n"
	      "  --json      machine-readable output\n"
	      "  --version   kstall's version\n"
	      "kstall COMMAND --help for one command.\n",
	      f);
}

/* One command's help: kstall COMMAND --help. */
static void usage_of(const char *command, FILE *f)
{
	if (!strcmp(command, "ps"))
		fputs("usage: kstall ps [--json] [--state LETTERS] [TASK...] VMCORE [VMLINUX]\n"
		      "Every task, like crash ps: pid, parent, CPU, task_struct, state, its process's\n"
		      "resident memory in KiB (RSS), comm ('>' marks the task on a CPU, [brackets]\n"
		      "kernel threads). TASK (a pid, a task_struct address\n"
		      "0x..., or a comm) and --state (letters such as D or RD) keep only those tasks;\n"
		      "a TASK that matches nothing is an error (exit 2).\n",
		      f);
	else if (!strcmp(command, "bt"))
		fputs("usage: kstall bt [-a | -A | TASK...] [-v] [--json] VMCORE [VMLINUX] [MODULE.ko...]\n"
		      "Kernel stacks, innermost frame first, like crash bt. Without a TASK: the task that\n"
		      "crashed. -a: the task on each CPU, as crash's bt -a; -A: every task. TASK is a pid,\n"
		      "a task_struct address (0x...) or a comm (every task of that name); one that matches\n"
		      "nothing is an error (exit 2). -v: each frame's parameters, or why each is unknown.\n",
		      f);
	else if (!strcmp(command, "mod"))
		fputs("usage: kstall mod [--json] VMCORE [VMLINUX]\n"
		      "The modules loaded at the crash, like crash mod: name, where its code is, its size\n"
		      "(every memory region), the taints it set in the kernel's letters (O: out-of-tree,\n"
		      "E: unsigned, P: proprietary), and how many symbols kstall read from it.\n",
		      f);
	else if (!strcmp(command, "sys"))
		fputs("usage: kstall sys [--json] VMCORE [VMLINUX]\n"
		      "The machine and the crash, in the keys of crash's sys: vmlinux (and how it was\n"
		      "matched), dump file, CPUs, date, uptime, load average, tasks, host, release,\n"
		      "version, memory (totalram), panic message and CPU, taints, kstall's version.\n",
		      f);
	else if (!strcmp(command, "log"))
		fputs("usage: kstall log VMCORE [VMLINUX]\n"
		      "The kernel log, '[seconds.micros] text' per record, as drgn's get_dmesg().\n",
		      f);
	else if (!strcmp(command, "report"))
		fputs("usage: kstall [report] [--json | --html FILE] [--force] VMCORE [VMLINUX] [MODULE.ko...]\n"
		      "Who is stuck, since when, waiting for whom, and why: the dump facts, ranked verdicts,\n"
		      "lock chains, stalled tasks, locks, memory and pressure, OOM state, the log's key lines,\n"
		      "and what could not be read. --json: the same as JSON (docs/kstall-report.schema.json);\n"
		      "--html FILE: a self-contained page ('-' for stdout).\n",
		      f);
	else
		usage(f);
}

/* Why path is neither a vmcore nor a vmlinux, in words a user can act on. */
static void explain_file(const char *path)
{
	/* one byte more than is read: the System.map test runs strspn over it */
	unsigned char hdr[17] = { 0 };
	struct stat st;
	ssize_t n = 0;
	int fd;

	if (stat(path, &st)) {
		ks_term_printf(stderr, "kstall: %s: %s\n", path, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		ks_term_printf(stderr, "kstall: %s is a directory; give the vmcore file in it (kstall triage reads "
				"directories)\n", path);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ks_term_printf(stderr, "kstall: cannot read %s: %s\n", path, strerror(errno));
		return;
	}
	n = read(fd, hdr, sizeof(hdr) - 1);
	close(fd);
	/* a compressed vmlinux is read as it is: this one holds something else, or is corrupt */
	if (n >= 6 && !memcmp(hdr, "\xfd" "7zXZ", 6))
		ks_term_printf(stderr, "kstall: %s is xz-compressed, but what it holds is no vmlinux (or it is "
				"corrupt); a compressed dump must be unpacked first (xz -dk %s)\n", path, path);
	else if (n >= 2 && hdr[0] == 0x1f && hdr[1] == 0x8b)
		ks_term_printf(stderr, "kstall: %s is gzip-compressed, but what it holds is no vmlinux (or it is "
				"corrupt); a compressed dump must be unpacked first (gzip -dk %s)\n", path, path);
	else if (n >= 16 && strspn((const char *)hdr, "0123456789abcdef") == 16)
		ks_term_printf(stderr, "kstall: %s looks like a System.map; kstall needs the vmlinux with its debug "
				"info (Debian: linux-image-...-dbg)\n", path);
	else if (n == 0)
		ks_term_printf(stderr, "kstall: %s is empty\n", path);
	else if (n == 16 && !memcmp(hdr, "\177ELF", 4) && st.st_size >= 18)
		ks_term_printf(stderr, "kstall: %s is an ELF file of no type kstall reads (e_type is neither "
				"ET_CORE, a vmcore's, nor ET_EXEC, a vmlinux's): a damaged ELF header?\n", path);
	else if (!memcmp(hdr, "\177ELF", (size_t)(n < 4 ? n : 4)) || !memcmp(hdr, "KDUMP   ", (size_t)(n < 8 ? n : 8)))
		ks_term_printf(stderr, "kstall: %s is cut short: %lld bytes, less than the header of the %s it "
				"begins as\n", path, (long long)st.st_size, hdr[0] == 0x7f ? "ELF file" : "vmcore");
	else
		ks_term_printf(stderr, "kstall: %s is neither a vmcore nor a vmlinux\n", path);
}

/* A flattened dump (makedumpfile -F) must be rebuilt before anything can read it. */
static bool flattened(const char *path)
{
	char hdr[12];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = read(fd, hdr, sizeof(hdr)) == sizeof(hdr) && !memcmp(hdr, "makedumpfile", 12);
	close(fd);
	return yes;
}

static int fail(const char *what, struct ks_error *err)
{
	/* Memory running out is told apart from a bad dump: the remedy differs. */
	if (err->code == KS_ERR_NOMEM)
		ks_term_printf(stderr, "kstall: %s%sout of memory: this dump needs more memory than the "
			       "process may have (ulimit -v)\n", what ? what : "", what ? ": " : "");
	else
		ks_term_printf(stderr, "kstall: %s%s%s\n", what ? what : "", what ? ": " : "", err->message);
	ks_error_destroy(err);
	return EXIT_USAGE;
}

static int parse(int argc, char **argv, struct cli *cli)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cli->command = argv[1];
	optind = 2;
	/* No command word: the report. */
	if (!is_command(argv[1])) {
		struct stat st;

		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			exit(0);
		}
		if (argv[1][0] != '-' && !strchr(argv[1], '/') && stat(argv[1], &st)) {
			ks_term_printf(stderr, "kstall: '%s' is no command (report, ps, bt, log, mod, triage) and no file; "
					"try kstall --help\n", argv[1]);
			return EXIT_USAGE;
		}
		cli->command = "report";
		optind = 1;
	}
	while ((c = getopt_long(argc, argv, "aAvhs:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'f':
			cli->force = true;
			break;
		case 'H':
			cli->html = optarg;
			break;
		case 'a':
			cli->all = true;
			break;
		case 'A':
			cli->every = true;
			break;
		case 's':
			cli->states = optarg;
			break;
		case 'V':
			ks_term_printf(stdout, "kstall %s\n", KSTALL_VERSION);
			exit(0);
		case 'v':
			cli->verbose = true;
			break;
		case 'h':
			usage_of(cli->command, stdout);
			exit(0);
		default:
			usage_of(cli->command, stderr);
			return EXIT_USAGE;
		}
	}
	cli->sel = calloc((size_t)argc, sizeof(*cli->sel));
	cli->modules = calloc((size_t)argc, sizeof(*cli->modules));
	if (!cli->sel || !cli->modules)
		return EXIT_USAGE;
	for (int i = optind; i < argc; i++) {
		bool tasks = !strcmp(cli->command, "bt") || !strcmp(cli->command, "ps");
		struct selector *s = &cli->sel[cli->nsel];
		struct stat st;
		char *end;

		s->arg = argv[i];
		s->pid = strtol(argv[i], &end, 10);
		if (tasks && *argv[i] && !*end) {
			s->kind = SEL_PID;
			cli->nsel++;
			continue;
		}
		if (tasks && !strncmp(argv[i], "0x", 2) && argv[i][2]) {
			s->addr = strtoull(argv[i] + 2, &end, 16);
			if (!*end) {
				s->kind = SEL_ADDR;
				cli->nsel++;
				continue;
			}
		}
		/* not a file, no path: a comm */
		if (tasks && !strchr(argv[i], '/') && stat(argv[i], &st)) {
			s->kind = SEL_COMM;
			s->comm = argv[i];
			cli->nsel++;
			continue;
		}
		switch (ks_file_kind(argv[i])) {
		case KS_FILE_VMCORE:
			if (flattened(argv[i])) {
				ks_term_printf(stderr, "kstall: %s is a flattened dump (makedumpfile -F); rebuild it first: "
						"makedumpfile -R vmcore < %s\n", argv[i], argv[i]);
				return EXIT_USAGE;
			}
			cli->vmcore = argv[i];
			break;
		case KS_FILE_VMLINUX:
			if (cli->vmlinux) {
				ks_term_printf(stderr, "kstall: %s and %s are both ELF files that are not vmcores "
						"(e_type is not ET_CORE): give one vmcore and one vmlinux; a vmcore with "
						"a damaged ELF header looks like this\n", cli->vmlinux, argv[i]);
				return EXIT_USAGE;
			}
			cli->vmlinux = argv[i];
			break;
		case KS_FILE_MODULE:
			/* a module's debuginfo: its frames' inline calls and parameters */
			cli->modules[cli->nmodules++] = argv[i];
			break;
		default:
			explain_file(argv[i]);
			return EXIT_USAGE;
		}
	}
	if (cli->nsel && strcmp(cli->command, "bt") && strcmp(cli->command, "ps")) {
		ks_term_printf(stderr, "kstall: %s takes no tasks ('%s')\n", cli->command, cli->sel[0].arg);
		return EXIT_USAGE;
	}
	if (cli->html && strcmp(cli->command, "report")) {
		ks_term_printf(stderr, "kstall: --html is an option of report only\n");
		return EXIT_USAGE;
	}
	if (!cli->vmcore) {
		ks_term_printf(stderr, "kstall: no vmcore given; usage: kstall %s VMCORE [VMLINUX]\n",
			cli->command);
		return EXIT_USAGE;
	}
	return 0;
}

/* root NULL: building it ran out of memory (jansson says no more than that). */
static int emit_json(json_t *root)
{
	int rc;

	if (!root)
		return fail("cannot build the JSON", &ks_error_nomem);
	errno = 0;
	rc = ks_term_json_dumpf(root, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (rc) {
		if (!errno || errno == ENOMEM)
			return fail("cannot write the JSON", &ks_error_nomem);
		ks_term_printf(stderr, "kstall: cannot write the JSON: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	putchar('\n');
	return 0;
}

static char *hex(uint64_t v, char buf[19])
{
	snprintf(buf, 19, "0x%llx", (unsigned long long)v);
	return buf;
}

/* Does task t match selector s? */
static bool selects(const struct selector *s, const struct ks_task *t)
{
	switch (s->kind) {
	case SEL_PID:
		return t->pid == s->pid;
	case SEL_ADDR:
		return t->address == s->addr;
	default:
		return !strncmp(t->comm, s->comm, sizeof(t->comm));
	}
}

/*
 * The tasks a command shows: the selected ones, else every task for ps and
 * bt -A, the task on each CPU for bt -a, the crashed one for bt. Every
 * selector must match a task: one that matches none is an error, said here
 * (exit 2) before anything is printed.
 */
static bool wanted(const struct cli *cli, const struct ks_task *t)
{
	bool ps = !strcmp(cli->command, "ps");

	if (cli->states && !strchr(cli->states, t->state_char))
		return false;
	if (cli->nsel) {
		for (size_t i = 0; i < cli->nsel; i++)
			if (selects(&cli->sel[i], t))
				return true;
		return false;
	}
	if (ps || cli->every)
		return true;
	if (cli->all)
		return t->active;
	return t->panic;
}

static bool selectors_match(struct cli *cli, const struct ks_tasks *tasks)
{
	bool ok = true;

	for (size_t i = 0; i < cli->nsel; i++) {
		for (size_t j = 0; j < tasks->count && !cli->sel[i].matched; j++)
			cli->sel[i].matched = selects(&cli->sel[i], &tasks->tasks[j]);
		if (!cli->sel[i].matched) {
			ks_term_printf(stderr, "kstall: no task %s '%s' in the dump\n",
				cli->sel[i].kind == SEL_PID ? "with pid" : cli->sel[i].kind == SEL_ADDR
										? "at address"
										: "named",
				cli->sel[i].arg);
			ok = false;
		}
	}
	return ok;
}

static int emit_json(json_t *root);

/* The loaded modules, as crash's mod shows them, with the taints each set. */
static int cmd_mod(const struct cli *cli, struct ks_kernel *k)
{
	const struct ks_modules *mods = ks_kernel_modules(k);
	json_t *arr = cli->json ? json_array() : NULL;
	char h[19];

	if (!cli->json)
		ks_term_printf(stdout, "%-24s %-18s %10s  %-8s %7s  %s\n", "NAME", "BASE", "SIZE", "TAINTS", "SYMBOLS", "DEBUGINFO");
	for (size_t i = 0; mods && i < mods->count; i++) {
		const struct ks_module *m = &mods->mods[i];
		struct ks_debuginfo *di = ks_kernel_module_dwarf(k, m);
		uint64_t size = 0;
		char taint[40] = "";

		for (size_t r = 0; r < m->nranges; r++)
			size += m->ranges[r].size;
		if (m->taints_known && m->taints && !ks_kernel_taint_letters(k, m->taints, taint, sizeof(taint)))
			snprintf(taint, sizeof(taint), "0x%llx", (unsigned long long)m->taints);
		if (cli->json) {
			json_t *o = json_pack("{s:o,s:s,s:I,s:o,s:I}", "name", ks_json_text(m->name), "base",
					      hex(m->nranges ? m->ranges[0].base : 0, h), "size", (json_int_t)size, "taints",
					      m->taints_known ? json_string(taint) : json_null(), "symbols",
					      (json_int_t)m->nsyms);

			json_object_set_new(o, "build_id", m->build_id[0] ? json_string(m->build_id) : json_null());
			json_object_set_new(o, "debuginfo", di ? ks_json_text(ks_debuginfo_path(di)) : json_null());
			json_object_set_new(o, "debuginfo_check",
					    di ? json_string(m->dwarf_by_name ? "name" : "build_id") : json_null());
			json_object_set_new(o, "debuginfo_missing", di ? json_null() : ks_json_text(m->dwarf_why));
			json_array_append_new(arr, o);
		} else {
			ks_term_printf(stdout, "%-24s %016llx %10llu  %-8s %7zu  %s%s\n", m->name,
			       (unsigned long long)(m->nranges ? m->ranges[0].base : 0), (unsigned long long)size,
			       m->taints_known ? (taint[0] ? taint : "-") : "?", m->nsyms,
			       di ? ks_debuginfo_path(di) : m->dwarf_why,
			       di && m->dwarf_by_name ? " (by name: no build-id to compare)" : "");
		}
	}
	if (cli->json) {
		json_t *root = json_object();

		json_object_set_new(root, "schema_version", json_integer(SCHEMA_VERSION));
		json_object_set_new(root, "modules", arr);
		return emit_json(root);
	}
	return 0;
}

/*
 * Each task's resident set as its process's mm counts it (the same for every thread), in
 * bytes; -1 for a kernel thread, -2 when it could not be read or this kernel's counters are
 * unknown. NULL when out of memory.
 */
static int64_t *tasks_rss(struct ks_kernel *k, const struct ks_tasks *tasks)
{
	int64_t *rss = calloc(tasks->count ? tasks->count : 1, sizeof(*rss));
	struct ks_mm_procs mp = { 0 };
	struct ks_error *err = rss ? ks_mm_procs_read(k, tasks, &mp) : NULL;

	if (err == &ks_error_nomem) {
		free(rss);
		return NULL;
	}
	ks_error_destroy(err);
	for (size_t i = 0; rss && i < tasks->count; i++) {
		const struct ks_task *t = &tasks->tasks[i];
		long p = err ? -1 : mp.of_task[i];

		if (!t->mm || t->idle)
			rss[i] = -1;
		else if (p < 0 || !mp.read[p])
			rss[i] = -2;
		else {
			/* a garbage count from a damaged dump saturates rather than wraps */
			uint64_t pages = ks_mm_usage_rss(&mp.usage[p]), ps = ks_kernel_page_size(k);

			rss[i] = ps && pages > (uint64_t)INT64_MAX / ps ? INT64_MAX : (int64_t)(pages * ps);
		}
	}
	if (!err)
		ks_mm_procs_deinit(&mp);
	return rss;
}

static int cmd_ps(const struct cli *cli, struct ks_kernel *k, const struct ks_tasks *tasks)
{
	int64_t *rss = tasks_rss(k, tasks);

	if (!rss)
		return fail(NULL, &ks_error_nomem);
	if (cli->json) {
		json_t *root = json_object(), *arr = json_array();
		char h[19];

		for (size_t i = 0; i < tasks->count; i++) {
			const struct ks_task *t = &tasks->tasks[i];
			char st[2] = { t->state_char, 0 };

			if (!wanted(cli, t))
				continue;

			json_array_append_new(
				arr, json_pack("{s:i,s:i,s:i,s:o,s:o,s:i,s:b,s:b,s:b,s:b,s:I,s:s,s:o}",
					       "pid", t->pid, "tgid", t->tgid, "ppid", t->ppid,
					       "comm", ks_json_text(t->comm), "state", ks_json_text(st), "cpu", t->cpu,
					       "on_cpu", t->on_cpu, "active", t->active, "panic",
					       t->panic, "idle", t->idle, "flags", (json_int_t)t->flags,
					       "task", hex(t->address, h), "rss_bytes",
					       rss[i] >= 0 ? json_integer(rss[i]) : json_null()));
		}
		free(rss);
		json_object_set_new(root, "schema_version", json_integer(SCHEMA_VERSION));
		json_object_set_new(root, "tasks", arr);
		return emit_json(root);
	}
	/* as crash's ps: RSS in KiB; '-' a kernel thread, '?' not readable */
	ks_term_printf(stdout, "   PID    PPID  CPU       TASK        ST       RSS  COMM\n");
	for (size_t i = 0; i < tasks->count; i++) {
		const struct ks_task *t = &tasks->tasks[i];
		char kib[24];

		if (!wanted(cli, t))
			continue;
		if (rss[i] >= 0)
			snprintf(kib, sizeof(kib), "%lld", (long long)(rss[i] / 1024));
		else
			snprintf(kib, sizeof(kib), "%s", rss[i] == -1 ? "-" : "?");
		ks_term_printf(stdout, "%c%6d %7d %4d  %016llx  %c   %8s  %s%s%s\n", t->active ? '>' : ' ', t->pid,
		       t->ppid, t->cpu, (unsigned long long)t->address, t->state_char, kib,
		       t->idle || (t->flags & 0x200000) ? "[" : "", t->comm,
		       t->idle || (t->flags & 0x200000) ? "]" : "");
	}
	free(rss);
	return 0;
}

#define MAX_PARAMS 16

static json_t *params_json(struct ks_kernel *k, const struct ks_frame *f)
{
	struct ks_var vars[MAX_PARAMS];
	size_t n = ks_frame_params(k, f, vars, MAX_PARAMS);
	json_t *arr = json_array();
	char h[19];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, vars[i].known
						   ? json_pack("{s:s,s:s}", "name", vars[i].name,
							       "value", hex(vars[i].value, h))
						   : json_pack("{s:s,s:n,s:s}", "name", vars[i].name,
							       "value", "why", vars[i].why));
	return arr;
}

static void print_params(struct ks_kernel *k, const struct ks_frame *f)
{
	struct ks_var vars[MAX_PARAMS];
	size_t n = ks_frame_params(k, f, vars, MAX_PARAMS);

	for (size_t i = 0; i < n; i++) {
		if (vars[i].known)
			ks_term_printf(stdout, "        %s = 0x%llx\n", vars[i].name, (unsigned long long)vars[i].value);
		else
			ks_term_printf(stdout, "        %s = <%s>\n", vars[i].name, vars[i].why);
	}
}


/* Stacks that could not be unwound to their end are added to problems (exit code 1). */
/*
 * Which stack sp lies on: 1 the task's own, 0 another (an IRQ or exception
 * stack the unwinder crossed), -1 unknown (no stack or size).
 */
static int stack_of(const struct ks_task *t, uint64_t thread_size, uint64_t sp)
{
	if (!t->stack || !thread_size || !sp)
		return -1;
	return sp >= t->stack && sp - t->stack < thread_size;
}

/*
 * An exception frame as crash's bt shows it, before the interrupted function's frame: where it
 * was interrupted, then the registers saved there (the hardware's part only, for a partial save).
 */
static void print_exception(struct ks_unwinder *u, const struct ks_frame *f)
{
	struct ks_pt_regs r;
	static const enum ks_pt_reg rows[][3] = {
		{ KS_PT_IP, KS_PT_SP, KS_PT_FLAGS },  { KS_PT_AX, KS_PT_BX, KS_PT_CX },
		{ KS_PT_DX, KS_PT_SI, KS_PT_DI },     { KS_PT_BP, KS_PT_R8, KS_PT_R9 },
		{ KS_PT_R10, KS_PT_R11, KS_PT_R12 },  { KS_PT_R13, KS_PT_R14, KS_PT_R15 },
		{ KS_PT_ORIG_AX, KS_PT_CS, KS_PT_SS },
	};

	ks_term_printf(stdout, "    [exception RIP: %s+%llu]\n", f->symbol, (unsigned long long)f->offset);
	if (!ks_unwinder_pt_regs(u, f->regs_at, f->regs_full, &r)) {
		ks_term_printf(stdout, "    (the saved registers at %016llx could not be read)\n",
		       (unsigned long long)f->regs_at);
		return;
	}
	for (size_t row = 0; row < sizeof(rows) / sizeof(rows[0]); row++) {
		int shown = 0;

		for (int c = 0; c < 3; c++) {
			enum ks_pt_reg g = rows[row][c];
			/* segment selectors and flags print short, as crash prints them */
			int width = g == KS_PT_CS || g == KS_PT_SS ? 4 : g == KS_PT_FLAGS ? 8 : 16;

			if (!(r.valid & 1u << g))
				continue;
			ks_term_printf(stdout, "%s%*s: %0*llx", shown++ ? "  " : "    ", g >= KS_PT_R8 && g <= KS_PT_R9 ? 3 : 0,
			       ks_pt_reg_name(g), width, (unsigned long long)r.v[g]);
		}
		if (shown)
			putchar('\n');
	}
}

static json_t *exception_json(struct ks_unwinder *u, const struct ks_frame *f)
{
	struct ks_pt_regs r;
	json_t *regs = json_object();
	char h[19];

	if (ks_unwinder_pt_regs(u, f->regs_at, f->regs_full, &r))
		for (int g = 0; g < KS_PT_NREGS; g++)
			if (r.valid & 1u << g)
				json_object_set_new(regs, ks_pt_reg_name((enum ks_pt_reg)g),
						    json_string(hex(r.v[g], h)));
	return json_pack("{s:s,s:b,s:o}", "regs_at", hex(f->regs_at, h), "full", f->regs_full,
			 "registers", regs);
}

static int cmd_bt(const struct cli *cli, struct ks_kernel *k, struct ks_tasks *tasks)
{
	struct ks_unwinder *u;
	struct ks_error *err = ks_unwinder_create(k, &u);
	json_t *root = NULL, *arr = NULL;
	int rc = 0;
	char h[19], h2[19];
	const uint64_t thread_size = ks_kernel_thread_size(k);

	if (err)
		return fail("cannot unwind", err);
	if (cli->json) {
		root = json_object();
		arr = json_array();
	}
	for (size_t i = 0; i < tasks->count; i++) {
		const struct ks_task *t = &tasks->tasks[i];
		struct ks_stack s;

		if (!wanted(cli, t))
			continue;
		err = ks_unwind_task(u, t, &s);
		if (err) {
			ks_unwinder_destroy(u);
			json_decref(root);
			return fail("unwind", err);
		}
		if (s.note[0] && !s.freed)
			ks_problems_add(&tasks->problems, s.note_code, t->address, 0,
					"stack of pid %d (%s) incomplete: %s", t->pid, t->comm, s.note);
		if (cli->json) {
			json_t *frames = json_array();

			for (size_t f = 0; f < s.count; f++) {
				int where = stack_of(t, thread_size, s.frames[f].sp);

				json_t *fr = json_pack("{s:o,s:o,s:s,s:I,s:b,s:s}", "function",
						       ks_json_text(s.frames[f].function), "symbol",
						       ks_json_text(s.frames[f].symbol), "pc",
						       hex(s.frames[f].pc, h), "offset",
						       (json_int_t)s.frames[f].offset, "inline",
						       s.frames[f].inlined, "sp", hex(s.frames[f].sp, h2));

				if (where >= 0)
					json_object_set_new(fr, "task_stack", json_boolean(where));
				if (cli->verbose)
					json_object_set_new(fr, "params", params_json(k, &s.frames[f]));
				if (s.frames[f].regs_at)
					json_object_set_new(fr, "exception", exception_json(u, &s.frames[f]));
				json_array_append_new(frames, fr);
			}
			json_array_append_new(arr, json_pack("{s:i,s:o,s:s,s:i,s:b,s:o,s:s?,s:b}", "pid",
							     t->pid, "comm", ks_json_text(t->comm), "task",
							     hex(t->address, h), "cpu", t->cpu, "active",
							     t->active, "frames", frames, "note",
							     s.note[0] ? s.note : NULL, "stack_freed",
							     s.freed));
		} else {
			ks_term_printf(stdout, "PID: %-6d TASK: %016llx  CPU: %-3d COMMAND: \"%s\"\n", t->pid,
			       (unsigned long long)t->address, t->cpu, t->comm);
			for (size_t f = 0; f < s.count; f++) {
				const struct ks_frame *fr = &s.frames[f];

				/* as crash does: the frames above ran on another stack (IRQ, exception) */
				if (f && stack_of(t, thread_size, fr->sp) == 1 &&
				    stack_of(t, thread_size, s.frames[f - 1].sp) == 0)
					ks_term_printf(stdout, "    --- <interrupt stack> ---\n");
				if (fr->regs_at)
					print_exception(u, fr);
				ks_term_printf(stdout, " #%-2zu [%016llx] %s%s at %016llx\n", f,
				       (unsigned long long)fr->sp, fr->inlined ? fr->function : fr->symbol,
				       fr->inlined ? " (inlined)" : "", (unsigned long long)fr->pc);
				if (cli->verbose)
					print_params(k, fr);
			}
			if (s.note[0])
				ks_term_printf(stdout, "    (unwind stopped: %s)\n", s.note);
			if (s.freed)
				ks_term_printf(stdout, "    (the task has exited and the kernel freed its stack: these "
				       "frames are what its memory still held)\n");
			putchar('\n');
		}
		ks_stack_deinit(&s);
	}
	if (cli->json) {
		json_object_set_new(root, "schema_version", json_integer(SCHEMA_VERSION));
		json_object_set_new(root, "unwinder", json_string(ks_unwinder_kind(u)));
		json_object_set_new(root, "tasks", arr);
		rc = emit_json(root);
	}
	ks_unwinder_destroy(u);
	return rc;
}

static int cmd_log(struct ks_kernel *k)
{
	struct ks_log log;
	struct ks_error *err = ks_log_read(k, &log);

	if (err)
		return fail("cannot read the kernel log", err);
	for (size_t i = 0; i < log.count; i++) {
		const char *text = log.records[i].text;

		/*
		 * A record that holds newlines (lockdep's reports do) is a line each, every one
		 * after its record's timestamp as the kernel prints it: a line of the log text
		 * cannot pass for a record of its own.
		 */
		do {
			size_t n = strcspn(text, "\n");

			ks_term_printf(stdout, "[%5llu.%06llu] %.*s\n",
				       (unsigned long long)(log.records[i].ts_nsec / 1000000000),
				       (unsigned long long)(log.records[i].ts_nsec % 1000000000 / 1000), (int)n,
				       text);
			text += n;
		} while (*text++ == '\n');
	}
	ks_log_deinit(&log);
	return 0;
}

static int write_html(const char *path, const struct ks_analysis *a)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int rc = 0;

	if (!f) {
		ks_term_printf(stderr, "kstall: cannot write %s: %s\n", path, strerror(errno));
		rc = EXIT_USAGE;
	} else {
		rc = ks_report_html(f, a);
		rc |= f == stdout ? fflush(f) : fclose(f);
		if (rc) {
			ks_term_printf(stderr, "kstall: cannot write %s\n", path);
			rc = EXIT_USAGE;
		}
	}
	return rc;
}

/* Phase times for KSTALL_STATS=1: start, dump and debuginfo open, analysis done. */
static double stamps[3];

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_report(const struct cli *cli, struct ks_kernel *k)
{
	struct ks_analysis a;
	struct ks_error *err = ks_analyze(k, &a);
	int rc = 0;

	stamps[2] = now_seconds();
	if (err)
		return fail("cannot analyze the dump", err);
	if (cli->html)
		rc = write_html(cli->html, &a);
	if (!rc && cli->json)
		rc = emit_json(ks_report_json(&a));
	else if (!rc && !cli->html)
		ks_report_text(stdout, &a);
	if (!rc && a.problems.count) {
		ks_term_printf(stderr, "kstall: parts of the dump could not be read:\n");
		ks_problems_print(stderr, &a.problems);
		rc = EXIT_PARTIAL;
	}
	if (!rc || rc == EXIT_PARTIAL) {
		size_t n;
		const struct ks_support_gap *gaps = ks_model_support(&a, &n);

		for (size_t i = 0; i < n; i++)
			ks_term_printf(stderr, "kstall: not supported on this kernel: %s: %s\n",
				gaps[i].capability, gaps[i].cost);
		if (n)
			rc = EXIT_PARTIAL;
	}
	ks_analysis_deinit(&a);
	return rc;
}

static int cmd_sys(const struct cli *cli, struct ks_kernel *k)
{
	struct ks_analysis a;
	struct ks_error *err = ks_analyze(k, &a);
	int rc = 0;

	if (err)
		return fail("cannot analyze the dump", err);
	if (cli->json)
		rc = emit_json(ks_sys_json(&a, cli->vmcore));
	else
		ks_sys_text(stdout, &a, cli->vmcore);
	/* as report: what could not be read is said, and a count from a partial walk is marked */
	if (!rc && a.problems.count) {
		ks_term_printf(stderr, "kstall: parts of the dump could not be read:\n");
		ks_problems_print(stderr, &a.problems);
		rc = EXIT_PARTIAL;
	}
	ks_analysis_deinit(&a);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct ks_open_options oo = { 0 };
	struct ks_settings settings;
	struct ks_kernel *k;
	struct ks_tasks tasks;
	struct ks_error *err;
	char *cache_dir = NULL;
	int rc;

	ks_heap_setup();
	ks_heap_catch_oom_abort();
	/* Many dumps, not one: its own options and arguments. */
	if (argc > 1 && !strcmp(argv[1], "triage"))
		return ks_triage_main(argc - 1, argv + 1);
	rc = parse(argc, argv, &cli);
	stamps[0] = now_seconds();
	if (rc) {
		cli_free(&cli);
		return rc;
	}
	if (strcmp(cli.command, "ps") && strcmp(cli.command, "bt") && strcmp(cli.command, "log") &&
	    strcmp(cli.command, "report") && strcmp(cli.command, "mod") && strcmp(cli.command, "sys")) {
		ks_term_printf(stderr, "kstall: unknown command '%s'; try kstall --help\n", cli.command);
		cli_free(&cli);
		return EXIT_USAGE;
	}
	oo.vmcore = cli.vmcore;
	oo.vmlinux = cli.vmlinux;
	oo.force = cli.force;
	ks_settings_from_env(&settings, &cache_dir);
	settings.module_files = cli.modules;
	settings.nmodule_files = cli.nmodules;
	oo.settings = &settings;
	err = ks_open(&oo, &k);
	free(cache_dir);
	if (err) {
		cli_free(&cli);
		return fail(NULL, err);
	}
	stamps[1] = now_seconds();
	if (!strcmp(cli.command, "log")) {
		rc = cmd_log(k);
		goto out;
	}
	if (!strcmp(cli.command, "mod")) {
		rc = cmd_mod(&cli, k);
		goto out;
	}
	if (!strcmp(cli.command, "report")) {
		rc = cmd_report(&cli, k);
		goto out;
	}
	if (!strcmp(cli.command, "sys")) {
		rc = cmd_sys(&cli, k);
		goto out;
	}
	err = ks_tasks_load(k, &tasks);
	if (err) {
		rc = fail("cannot list tasks", err);
		goto out;
	}
	if (!selectors_match(&cli, &tasks)) {
		rc = EXIT_USAGE;
		ks_tasks_deinit(&tasks);
		goto out;
	}
	if (!strcmp(cli.command, "ps"))
		rc = cmd_ps(&cli, k, &tasks);
	else
		rc = cmd_bt(&cli, k, &tasks);
	if (!rc && tasks.problems.count) {
		ks_term_printf(stderr, "kstall: parts of the dump could not be read:\n");
		ks_problems_print(stderr, &tasks.problems);
		rc = EXIT_PARTIAL;
	}
	ks_tasks_deinit(&tasks);
out:
	if (getenv("KSTALL_STATS")) {
		struct ks_target_stats st = ks_target_stats(ks_kernel_target(k));

		double end = now_seconds();

		struct ks_index_stats ix;

		ks_debuginfo_index_stats(ks_kernel_debuginfo(k), &ix);
		ks_term_printf(stderr, "kstall: %llu page reads, %llu from the dump (%llu of them read ahead)\n",
			(unsigned long long)st.reads, (unsigned long long)st.misses,
			(unsigned long long)st.ahead);
		ks_term_printf(stderr, "kstall: DWARF names: %u answers kept from earlier runs, index ",
			ix.memo_answers);
		if (ix.built)
			fprintf(stderr,
				"built (%u units, %u by libdw, %u on a second thread, %.1f of %.1f MB "
				"of .debug_info)\n",
				ix.units, ix.units_libdw, ix.units_helper, ix.read / 1e6,
				ix.size / 1e6);
		else
			ks_term_printf(stderr, "not built\n");
		ks_term_printf(stderr, "kstall: open %.3f s", stamps[1] - stamps[0]);
		if (stamps[2])
			ks_term_printf(stderr, ", analysis %.3f s, report %.3f s", stamps[2] - stamps[1],
				end - stamps[2]);
		ks_term_printf(stderr, "\n");
	}
	ks_kernel_destroy(k);
	cli_free(&cli);
	return rc;
}
