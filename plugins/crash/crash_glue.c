/*
 * The crash side of the plugin: the `kstall` command, its help, and the
 * target backend on crash's readmem(). The only file that includes defs.h.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

#include "host.h"

/* The kernel keeps VMCOREINFO in one page (VMCOREINFO_BYTES); anything larger is garbage. */
#define VMCOREINFO_MAX 4096

struct crash_priv {
	char *vmcoreinfo;
};

/*
 * readmem() with RETURN_ON_ERROR only covers the final read: translating a
 * kernel address reads page tables with FAULT_ON_ERROR, whose error(FATAL)
 * longjmps to pc->main_loop_env. Point that at this frame for the call, so a
 * bad pointer in the dump becomes an error here and never unwinds kstall.
 */
static bool guarded_readmem(uint64_t addr, int memtype, void *buf, size_t len)
{
	jmp_buf saved;
	volatile bool ok = false;

	memcpy(saved, pc->main_loop_env, sizeof(saved));
	if (!setjmp(pc->main_loop_env))
		ok = readmem(addr, memtype, buf, (long)len, "kstall", RETURN_ON_ERROR | QUIET);
	memcpy(pc->main_loop_env, saved, sizeof(saved));
	return ok;
}

static bool guarded_kvtop(uint64_t addr, physaddr_t *paddr)
{
	jmp_buf saved;
	volatile bool ok = false;

	memcpy(saved, pc->main_loop_env, sizeof(saved));
	if (!setjmp(pc->main_loop_env))
		ok = kvtop(CURRENT_CONTEXT(), addr, paddr, 0);
	memcpy(pc->main_loop_env, saved, sizeof(saved));
	return ok;
}

/*
 * crash says only yes or no. Find the first page that fails, then tell a
 * page the dump left out (it translates, but has no data: NODATA, as
 * libkdumpfile says) from an address that maps nowhere (FAULT).
 */
static enum ks_error_code crash_read_code(uint64_t addr, size_t len, bool physical, uint64_t *at_ret)
{
	uint64_t page = (uint64_t)PAGESIZE();
	uint64_t at = addr;
	physaddr_t paddr;
	char byte;

	while (at < addr + len && guarded_readmem(at, physical ? PHYSADDR : KVADDR, &byte, 1))
		at = (at | (page - 1)) + 1;
	if (at >= addr + len)
		at = addr;
	*at_ret = at;
	return physical || guarded_kvtop(at, &paddr) ? KS_ERR_NODATA : KS_ERR_FAULT;
}

static struct ks_error *crash_read_error(uint64_t addr, size_t len, bool physical)
{
	uint64_t at;

	if (crash_read_code(addr, len, physical, &at) == KS_ERR_NODATA)
		return ks_error_fault(KS_ERR_NODATA, at, "page at 0x%llx is not in the dump",
				      (unsigned long long)at);
	return ks_error_fault(KS_ERR_FAULT, at, "cannot read 0x%llx: no mapping",
			      (unsigned long long)at);
}

static struct ks_error *crash_read(void *priv, uint64_t addr, void *buf, size_t len,
				   bool physical)
{
	(void)priv;
	if (!len)
		return NULL;
	if (len > LONG_MAX)
		return ks_error_create(KS_ERR_USAGE, "read of %zu bytes is too large", len);
	if (guarded_readmem(addr, physical ? PHYSADDR : KVADDR, buf, len))
		return NULL;
	return crash_read_error(addr, len, physical);
}

static enum ks_error_code crash_try_read(void *priv, uint64_t addr, void *buf, size_t len,
					 bool physical)
{
	uint64_t at;

	(void)priv;
	if (!len)
		return 0;
	if (len > LONG_MAX)
		return KS_ERR_USAGE;
	if (guarded_readmem(addr, physical ? PHYSADDR : KVADDR, buf, len))
		return 0;
	return crash_read_code(addr, len, physical, &at);
}

static const char *crash_vmcoreinfo(void *priv)
{
	return ((struct crash_priv *)priv)->vmcoreinfo;
}

static void crash_destroy(void *priv)
{
	struct crash_priv *p = priv;

	if (!p)
		return;
	free(p->vmcoreinfo);
	free(p);
}

static const struct ks_target_ops crash_ops = {
	.version = KS_TARGET_OPS_VERSION,
	.name = "crash",
	.read = crash_read,
	.try_read = crash_try_read,
	.vmcoreinfo = crash_vmcoreinfo,
	.destroy = crash_destroy,
};

/*
 * The kernel's own VMCOREINFO text (vmcoreinfo_data, vmcoreinfo_size): the
 * same bytes the dump's note was made from (crash_save_vmcoreinfo appends
 * CRASHTIME to both), and it is there whatever the dump format or a live system.
 */
static char *vmcoreinfo_from_memory(void)
{
	uint64_t data, size;
	char *text;

	if (!symbol_exists("vmcoreinfo_data") || !symbol_exists("vmcoreinfo_size"))
		return NULL;
	/* A pointer and a size_t: 8 bytes each on x86_64, the one target this plugin builds for. */
	if (!guarded_readmem(symbol_value("vmcoreinfo_data"), KVADDR, &data, 8) ||
	    !guarded_readmem(symbol_value("vmcoreinfo_size"), KVADDR, &size, 8) || !data ||
	    !size || size > VMCOREINFO_MAX)
		return NULL;
	text = calloc(1, size + 1);
	if (text && !guarded_readmem(data, KVADDR, text, size)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Failing that, the dump's note, key by key, for the keys kstall reads. */
static char *vmcoreinfo_from_note(void)
{
	static const char *const keys[] = { "OSRELEASE", "BUILD-ID", "PAGESIZE",
					    "KERNELOFFSET", "SYMBOL(_stext)", "CRASHTIME" };
	char *text = NULL;
	size_t len = 0;

	if (!pc->read_vmcoreinfo)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* crash returns a malloc'd copy, or NULL when the key is absent */
		char *value = pc->read_vmcoreinfo(keys[i]), *grown;
		size_t add;

		if (!value)
			continue;
		add = strlen(keys[i]) + strlen(value) + 2;
		grown = realloc(text, len + add + 1);
		if (grown) {
			text = grown;
			len += (size_t)sprintf(text + len, "%s=%s\n", keys[i], value);
		}
		free(value);
	}
	return text;
}

/*
 * The core takes the KASLR offset from KERNELOFFSET. crash may know it even
 * when the text does not say it (--kaslr, or found by its own search): add it.
 */
static char *add_kerneloffset(char *text)
{
	size_t len = text ? strlen(text) : 0;
	char *grown;

	if ((text && (!strncmp(text, "KERNELOFFSET=", 13) || strstr(text, "\nKERNELOFFSET="))) ||
	    !(kt->flags & RELOC_SET) || !kt->relocate)
		return text;
	grown = realloc(text, len + 32);
	if (!grown)
		return text;
	/* crash relocates symbols by subtracting relocate: the offset is its negation */
	snprintf(grown + len, 32, "%sKERNELOFFSET=%lx\n", len && grown[len - 1] != '\n' ? "\n" : "",
		 (ulong)0 - kt->relocate);
	return grown;
}

struct ks_error *kscrash_target_create(struct ks_target **ret)
{
	struct crash_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return &ks_error_nomem;
	p->vmcoreinfo = vmcoreinfo_from_memory();
	if (!p->vmcoreinfo)
		p->vmcoreinfo = vmcoreinfo_from_note();
	p->vmcoreinfo = add_kerneloffset(p->vmcoreinfo);
	return ks_target_create(&crash_ops, p, ret);
}

const char *kscrash_vmlinux(void)
{
	return pc->namelist_debug ? pc->namelist_debug : pc->namelist;
}

/* ACTIVE(), not LIVE(): a dump taken from a running system (LIVE_DUMP) is still a file that never changes. */
bool kscrash_live(void)
{
	return ACTIVE();
}

static char *help_kstall[] = {
	"kstall",
	"memory-allocation stalls, lock chains and OOM deadlocks",
	"[-l | -a | -m | -j | -h]",
	"  Analyses the dump for who is stuck, since when, waiting for whom, and why,",
	"  and ranks root-cause verdicts (lock cycle, OOM deadlock, allocation loop",
	"  that may not invoke the OOM killer, ...). It walks the tasks itself, so it",
	"  works where crash's own task table is incomplete. The first command reads",
	"  the vmlinux DWARF and analyses the dump; later commands reuse the result",
	"  until \"extend -u\".",
	" ",
	"  With no option, the report: verdicts, lock chains, stalled tasks, locks, OOM.",
	"    -l  lock chains and the locks tasks wait on, with their owners.",
	"    -a  allocator state of every task in the page allocator (phase, gfp,",
	"        order, may it invoke the OOM killer, stall age).",
	"    -m  memory pressure: tasks in the allocator by phase, and the OOM state.",
	"    -j  the whole analysis as JSON, the same as \"kstall report --json\".",
	"    -h  this help (the same as \"help kstall\").",
	"\nEXAMPLE",
	"  The verdict on a dump of two kernel threads that lock two mutexes in",
	"  opposite orders:\n",
	"    crash> kstall -l",
	" ",
	"    LOCK CHAINS (LOCK <- its waiters; -> its owner, the lock that owner",
	"    waits for, and on)",
	"      cycle 1: abba_t1 (pid 42, D) -> mutex stall_mutex_b -> abba_t2 (pid",
	"      43, D) -> mutex stall_mutex_a -> back to abba_t1 (pid 42)",
	"      mutex stall_mutex_a <- abba_t2 (pid 43), abba_waiter (pid 44),",
	"      abba_user (pid 49)",
	"        -> abba_t1 (pid 42, D): in cycle 1",
	"      ...",
	"\n  Save the JSON for another tool:\n",
	"    crash> kstall -j > stall.json",
	NULL
};

/*
 * "kstall -h": what "help kstall" prints, laid out as crash lays out a command's help.
 * crash's own cmd_usage() would longjmp back to the prompt.
 */
static void print_help(FILE *out)
{
	fprintf(out, "NAME\n  %s - %s\n\nSYNOPSIS\n  %s %s\n\nDESCRIPTION\n", help_kstall[0], help_kstall[1],
		help_kstall[0], help_kstall[2]);
	for (int i = 3; help_kstall[i]; i++)
		fprintf(out, "%s\n", help_kstall[i]);
	fflush(out);
}

static void cmd_kstall(void)
{
	enum kscrash_view view = KSCRASH_REPORT;
	int c, nviews = 0;
	bool help = false;
	sigset_t sigint, old;

	while ((c = getopt(argcnt, args, "lamjh")) != EOF) {
		nviews++;
		switch (c) {
		case 'l':
			view = KSCRASH_LOCKS;
			break;
		case 'a':
			view = KSCRASH_ALLOC;
			break;
		case 'm':
			view = KSCRASH_MEMORY;
			break;
		case 'j':
			view = KSCRASH_JSON;
			break;
		case 'h':
			help = true;
			break;
		default:
			argerrs++;
			break;
		}
	}
	/* cmd_usage(SYNOPSIS) would longjmp to the prompt: say the same and return. */
	if (argerrs || nviews > 1 || args[optind]) {
		fprintf(fp, "Usage:\n  kstall %s\nEnter \"help kstall\" for details.\n",
			help_kstall[2]);
		fflush(fp);
		return;
	}
	if (help) {
		print_help(fp);
		return;
	}
	/*
	 * crash's SIGINT handler longjmps to the prompt, which would leave the
	 * analysis half built. Hold Ctrl-C until the command is done (a second
	 * or so); crash then takes it as usual.
	 */
	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	sigprocmask(SIG_BLOCK, &sigint, &old);
	kscrash_run(view, fp);
	fflush(fp);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static struct command_table_entry command_table[] = {
	{ "kstall", cmd_kstall, help_kstall, 0 },
	{ NULL },
};

void __attribute__((constructor)) kstall_crash_init(void)
{
	register_extension(command_table);
}

/* `extend -u`: nothing kstall cached may outlive the plugin. */
void __attribute__((destructor)) kstall_crash_fini(void)
{
	kscrash_session_free();
}
