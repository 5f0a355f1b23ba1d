/*
 * `kstall sys`: the keys crash's `sys` prints, from the model, so that a crash
 * user finds them where they expect them. Each value says where it comes from
 * when crash's would differ: MEMORY is totalram (what the kernel manages), not
 * the installed RAM crash estimates from the memory map; UPTIME is the newest
 * runqueue clock, as the report dates everything.
 */
#include <inttypes.h>
#include <string.h>

#include "base/term.h"
#include "render/report.h"
#include "render/sys.h"

#ifndef KSTALL_VERSION
#define KSTALL_VERSION "0"
#endif

static unsigned int cpus_online(const struct ks_analysis *a, unsigned int *possible)
{
	unsigned int n = 0;

	*possible = a->kernel ? ks_kernel_nr_cpus(a->kernel) : 0;
	for (unsigned int c = 0; c < *possible; c++)
		n += ks_kernel_cpu_online(a->kernel, c);
	return n;
}

static uint64_t ram_bytes(const struct ks_analysis *a, bool *known)
{
	*known = a->memory.known[KS_MEM_TOTAL] && a->memory.page_size;
	return *known ? a->memory.pages[KS_MEM_TOTAL] * a->memory.page_size : 0;
}

void ks_sys_text(FILE *out, const struct ks_analysis *a, const char *dumpfile)
{
	const struct ks_dump_facts *f = &a->facts;
	char when[40], match[120], load[3][24];
	unsigned int possible, online = cpus_online(a, &possible);
	uint64_t up = a->now_ns / 1000000000ull;
	bool ram_known;
	uint64_t ram = ram_bytes(a, &ram_known);

	ks_facts_crash_time(f, when, sizeof(when));
	ks_facts_vmlinux_match(f, match, sizeof(match));
	for (int i = 0; i < 3; i++)
		ks_facts_loadavg(f, i, load[i], sizeof(load[i]));
	ks_term_printf(out, "      KERNEL: %s  (%s)\n",
		a->kernel ? ks_debuginfo_path(ks_kernel_debuginfo(a->kernel)) : "?", match);
	ks_term_printf(out, "    DUMPFILE: %s\n", dumpfile);
	ks_term_printf(out, "        CPUS: %u", possible);
	if (online != possible)
		ks_term_printf(out, " (%u online)", online);
	ks_term_printf(out, "\n        DATE: %s\n", when[0] ? when : "? (the dump has no CRASHTIME)");
	if (a->now_ns)
		ks_term_printf(out, "      UPTIME: %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\n", up / 3600,
			up / 60 % 60, up % 60);
	else
		ks_term_printf(out, "      UPTIME: ?\n");
	ks_term_printf(out, "LOAD AVERAGE: %s, %s, %s\n", load[0], load[1], load[2]);
	ks_term_printf(out, "       TASKS: %zu%s\n", a->tasks.count,
		a->tasks.problems.count ? " (at least: the task list could not all be read)" : "");
	ks_term_printf(out, "    NODENAME: %s\n", f->host[0] ? f->host : "?");
	ks_term_printf(out, "     RELEASE: %s\n", a->kernel ? ks_kernel_release(a->kernel) : "?");
	ks_term_printf(out, "     VERSION: %s\n", f->version[0] ? f->version : "?");
	if (ram_known)
		ks_term_printf(out, "      MEMORY: %.1f MiB (totalram)\n", (double)ram / (1 << 20));
	else
		ks_term_printf(out, "      MEMORY: ?\n");
	if (f->panic[0])
		ks_term_printf(out, "       PANIC: \"%s\"", f->panic);
	else
		ks_term_printf(out, "       PANIC: ? (the log names none)");
	if (f->panic_cpu >= 0)
		ks_term_printf(out, " (CPU %d)", f->panic_cpu);
	ks_term_printf(out, "\n     TAINTED: %s%s%s\n",
		!f->taint_known ? "?" : f->taint_mask ? f->taint : "no",
		f->ntainting_modules ? " by " : "", f->tainting_modules);
	ks_term_printf(out, "      KSTALL: %s\n", KSTALL_VERSION);
}

json_t *ks_sys_json(const struct ks_analysis *a, const char *dumpfile)
{
	const struct ks_dump_facts *f = &a->facts;
	unsigned int possible, online = cpus_online(a, &possible);
	bool ram_known;
	uint64_t ram = ram_bytes(a, &ram_known);
	json_t *load = json_null();
	char when[40];

	ks_facts_crash_time(f, when, sizeof(when));
	if (f->loadavg_known) {
		load = json_array();
		for (int i = 0; i < 3; i++) {
			char s[24];

			ks_facts_loadavg(f, i, s, sizeof(s));
			json_array_append_new(load, json_string(s));
		}
	}
	return json_pack("{s:i,s:o,s:o,s:i,s:i,s:o,s:o,s:o,s:I,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}",
			 "schema_version", 1, "kernel",
			 a->kernel ? ks_json_text(ks_debuginfo_path(ks_kernel_debuginfo(a->kernel)))
				   : json_null(),
			 "dumpfile", ks_json_text(dumpfile), "cpus", (int)possible, "cpus_online",
			 (int)online, "date", when[0] ? json_string(when) : json_null(), "uptime_seconds",
			 a->now_ns ? json_real((double)a->now_ns / 1e9) : json_null(), "load_average", load,
			 "tasks", (json_int_t)a->tasks.count, "tasks_complete", !a->tasks.problems.count,
			 "nodename",
			 f->host[0] ? ks_json_text(f->host) : json_null(), "release",
			 a->kernel ? ks_json_text(ks_kernel_release(a->kernel)) : json_null(), "version",
			 f->version[0] ? ks_json_text(f->version) : json_null(), "memory_bytes",
			 ram_known ? json_integer((json_int_t)ram) : json_null(), "panic",
			 f->panic[0] ? ks_json_text(f->panic) : json_null(), "panic_cpu",
			 f->panic_cpu >= 0 ? json_integer(f->panic_cpu) : json_null(), "taint",
			 f->taint_known ? ks_json_text(f->taint) : json_null(), "kstall_version",
			 KSTALL_VERSION);
}
