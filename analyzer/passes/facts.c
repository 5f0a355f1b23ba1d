/*
 * The facts pass: what every ticket starts with. The host and the kernel's
 * build string (init_uts_ns), the crash's wall-clock time (vmcoreinfo's
 * CRASHTIME, written by the kernel as it crashed), the panic message and CPU,
 * and the taints: tainted_mask decoded with the kernel's own taint_flags[]
 * letters, and the modules that set them (module.taints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "kstall/modules.h"


static void uts(struct ks_analysis *a)
{
	struct ks_kernel *k = a->kernel;
	uint64_t ns, off, size;
	enum ks_error_code code;

	if (!ks_kernel_symbol(k, "init_uts_ns", &ns))
		return;
	/* unread: empty, which the report shows as unknown */
	if (ks_kernel_late_field(k, KS_LF_UTS_NODENAME, &off, &size) && size <= sizeof(a->facts.host) &&
	    (code = ks_read_string_code(k, ns + off, a->facts.host, size))) {
		a->facts.host[0] = '\0';
		ks_problems_add(&a->problems, code, 0, ns + off, "cannot read the host name (init_uts_ns) at 0x%llx (%s)",
				(unsigned long long)(ns + off), ks_error_code_name(code));
	}
	if (ks_kernel_late_field(k, KS_LF_UTS_VERSION, &off, &size) && size <= sizeof(a->facts.version) &&
	    (code = ks_read_string_code(k, ns + off, a->facts.version, size))) {
		a->facts.version[0] = '\0';
		ks_problems_add(&a->problems, code, 0, ns + off,
				"cannot read the kernel version (init_uts_ns) at 0x%llx (%s)", (unsigned long long)(ns + off),
				ks_error_code_name(code));
	}
}

/* The last panic line of the log; else the SysRq trigger; else the last Oops. */
static void panic_text(struct ks_analysis *a)
{
	static const char *const marks[] = { "Kernel panic - not syncing: ", "sysrq: Trigger a crash",
					     "Oops: " };
	const struct ks_log *log = &a->log;

	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++)
		for (size_t i = log->count; i-- > 0;) {
			const char *t = log->records[i].text, *p;

			if (t && (p = strstr(t, marks[m]))) {
				snprintf(a->facts.panic, sizeof(a->facts.panic), "%s", p);
				return;
			}
		}
}

static struct ks_error *facts_finish(struct ks_analysis *a, void *ctx)
{
	struct ks_kernel *k = a->kernel;
	struct ks_dump_facts *f = &a->facts;
	const struct ks_modules *mods = ks_kernel_modules(k);
	char value[32], *end;
	uint64_t addr;
	size_t len = 0;

	(void)ctx;
	f->crash_time = -1;
	f->panic_cpu = ks_kernel_panic_cpu(k);
	f->vmlinux_origin = ks_kernel_vmlinux_origin(k);
	f->vmlinux_check = ks_kernel_vmlinux_check(k);
	uts(a);
	if (ks_kernel_vmcoreinfo(k, "CRASHTIME", value, sizeof(value))) {
		long long v = strtoll(value, &end, 10);

		if (end != value && v > 0)
			f->crash_time = v;
	}
	panic_text(a);
	f->loadavg_known = ks_kernel_symbol(k, "avenrun", &addr) &&
			   ks_pass_read_u64(a, addr, &f->loadavg[0], "avenrun[0]") &&
			   ks_pass_read_u64(a, addr + 8, &f->loadavg[1], "avenrun[1]") &&
			   ks_pass_read_u64(a, addr + 16, &f->loadavg[2], "avenrun[2]");
	if (ks_kernel_symbol(k, "tainted_mask", &addr) && ks_pass_read_u64(a, addr, &f->taint_mask, "tainted_mask")) {
		f->taint_known = true;
		if (!ks_kernel_taint_letters(k, f->taint_mask, f->taint, sizeof(f->taint)))
			snprintf(f->taint, sizeof(f->taint), "0x%llx", (unsigned long long)f->taint_mask);
	}
	for (size_t i = 0; mods && i < mods->count && len < sizeof(f->tainting_modules); i++) {
		char letters[40];

		if (!mods->mods[i].taints_known || !mods->mods[i].taints)
			continue;
		if (!ks_kernel_taint_letters(k, mods->mods[i].taints, letters, sizeof(letters)))
			snprintf(letters, sizeof(letters), "0x%llx", (unsigned long long)mods->mods[i].taints);
		len += (size_t)snprintf(f->tainting_modules + len, sizeof(f->tainting_modules) - len, "%s%s(%s)",
					len ? " " : "", mods->mods[i].name, letters);
		f->ntainting_modules++;
	}
	return NULL;
}

/* After the log pass (the panic message is in the log). */
const struct ks_pass ks_pass_facts = {
	.name = "facts",
	.finish = facts_finish,
};
