#include "kstall/kernel.h"
#include "kernel/layout.h"
#include "dump/diskdump.h"
#include "kstall/modules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CPUS 8192

struct field_spec {
	const char *type;
	/* alternatives separated by '|', first present wins */
	const char *members;
};

static const struct field_spec field_specs[KS_F__COUNT] = {
#define X(id, type, members) [KS_F_##id] = { type, members },
	KS_FIELDS(X)
#undef X
};

/* Fields without which no task can be listed. */
static const enum ks_field required_fields[] = {
	KS_F_TASK_TASKS, KS_F_TASK_PID,	       KS_F_TASK_TGID,	 KS_F_TASK_COMM,
	KS_F_TASK_STATE, KS_F_TASK_EXIT_STATE, KS_F_TASK_FLAGS,	 KS_F_TASK_STACK,
	KS_F_TASK_THREAD_SP, KS_F_TASK_SIGNAL, KS_F_TASK_REAL_PARENT,
};

struct cpu_note {
	bool valid;
	uint32_t pid;
	uint64_t regs[KS_NR_REGS];
};

struct ks_kernel {
	struct ks_target *target;
	struct ks_debuginfo *di;
	struct ks_settings settings;
	/* the layouts of kstall/layout.h, resolved at first use */
	struct ks_layout *layout;
	uint64_t kaslr;
	char release[65];
	/* "" or what VMCOREINFO says that the matching vmlinux contradicts */
	char vmcoreinfo_damage[192];
	/* how the vmlinux was found and checked against the dump */
	enum ks_vmlinux_origin origin;
	enum ks_vmlinux_check check;
	uint64_t off[KS_F__COUNT];
	uint64_t fsize[KS_F__COUNT];
	bool has[KS_F__COUNT];
	uint64_t thread_size;

	unsigned int nr_cpus;
	uint64_t *per_cpu_offset;
	unsigned char *online;
	struct cpu_note *notes;
	int panic_cpu;
	uint64_t image_end; /* link-time _end */
	struct ks_modules modules;
	struct ks_support_gap gaps[KS_MAX_SUPPORT_GAPS];
	size_t ngaps;
};

void ks_kernel_support_add(struct ks_kernel *k, const char *capability, const char *cost)
{
	for (size_t i = 0; i < k->ngaps; i++)
		if (!strcmp(k->gaps[i].capability, capability))
			return;
	if (k->ngaps == KS_MAX_SUPPORT_GAPS)
		return;
	snprintf(k->gaps[k->ngaps].capability, sizeof(k->gaps[0].capability), "%s", capability);
	snprintf(k->gaps[k->ngaps].cost, sizeof(k->gaps[0].cost), "%s", cost);
	k->ngaps++;
}

const struct ks_support_gap *ks_kernel_support_gaps(const struct ks_kernel *k, size_t *count)
{
	*count = k->ngaps;
	return k->gaps;
}

const struct ks_modules *ks_kernel_modules(const struct ks_kernel *k)
{
	return &k->modules;
}

const struct ks_module *ks_kernel_module_at(const struct ks_kernel *k, uint64_t addr)
{
	/* modules load above the image's _end: most frames are the image's, and need no search */
	if (k->image_end != UINT64_MAX && addr - k->kaslr < k->image_end)
		return NULL;
	return ks_modules_find(&k->modules, addr);
}

struct ks_debuginfo *ks_kernel_module_dwarf(struct ks_kernel *k, const struct ks_module *m)
{
	struct ks_module *own;

	if (m < k->modules.mods || m >= k->modules.mods + k->modules.count)
		return NULL;
	/* the kernel's own copy: the look-up is done once and kept */
	own = &k->modules.mods[m - k->modules.mods];
	ks_module_dwarf_open(k, own, k->settings.module_files, k->settings.nmodule_files, k->settings.debug_root);
	return own->dwarf;
}

struct ks_target *ks_kernel_target(struct ks_kernel *k)
{
	return k->target;
}

struct ks_debuginfo *ks_kernel_debuginfo(struct ks_kernel *k)
{
	return k->di;
}

uint64_t ks_kernel_kaslr_offset(const struct ks_kernel *k)
{
	return k->kaslr;
}

bool ks_kernel_vmcoreinfo(struct ks_kernel *k, const char *key, char *buf, size_t size)
{
	return ks_target_vmcoreinfo(k->target, key, buf, size);
}

enum ks_vmlinux_origin ks_kernel_vmlinux_origin(const struct ks_kernel *k)
{
	return k->origin;
}

enum ks_vmlinux_check ks_kernel_vmlinux_check(const struct ks_kernel *k)
{
	return k->check;
}

uint64_t ks_kernel_page_size(struct ks_kernel *k)
{
	char buf[32];
	unsigned long long v;

	/* x86-64's, when VMCOREINFO does not say (every kdump kernel writes it) */
	if (!ks_target_vmcoreinfo(k->target, "PAGESIZE", buf, sizeof(buf)))
		return 4096;
	v = strtoull(buf, NULL, 10);
	return v >= 4096 && !(v & (v - 1)) ? v : 4096;
}

const char *ks_kernel_release(const struct ks_kernel *k)
{
	return k->release;
}

uint64_t ks_kernel_off(const struct ks_kernel *k, enum ks_field f)
{
	return k->off[f];
}

bool ks_kernel_has(const struct ks_kernel *k, enum ks_field f)
{
	return k->has[f];
}

bool ks_kernel_has_all(const struct ks_kernel *k, const enum ks_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!k->has[f[i]])
			return false;
	return true;
}

uint64_t ks_kernel_fsize(const struct ks_kernel *k, enum ks_field f)
{
	return k->fsize[f];
}

uint64_t ks_kernel_thread_size(const struct ks_kernel *k)
{
	return k->thread_size;
}

unsigned int ks_kernel_nr_cpus(const struct ks_kernel *k)
{
	return k->nr_cpus;
}

bool ks_kernel_cpu_online(const struct ks_kernel *k, unsigned int cpu)
{
	return cpu < k->nr_cpus && k->online[cpu];
}

int ks_kernel_panic_cpu(const struct ks_kernel *k)
{
	return k->panic_cpu;
}

bool ks_kernel_symbol(struct ks_kernel *k, const char *name, uint64_t *addr)
{
	if (!ks_debuginfo_symbol(k->di, name, addr, NULL))
		return false;
	*addr += k->kaslr;
	return true;
}

bool ks_kernel_symbolize(struct ks_kernel *k, uint64_t addr, struct ks_symbol *ret)
{
	const struct ks_module *mod;

	if (addr - k->kaslr < k->image_end) {
		if (!ks_debuginfo_symbolize(k->di, addr - k->kaslr, ret))
			return false;
		ret->address += k->kaslr;
		return true;
	}
	mod = ks_modules_find(&k->modules, addr);
	return mod && ks_module_symbolize(mod, addr, ret);
}

struct ks_error *ks_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len)
{
	return ks_target_read(k->target, addr, buf, len);
}

struct ks_error *ks_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret)
{
	return ks_target_read(k->target, addr, ret, sizeof(*ret));
}

struct ks_error *ks_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret)
{
	return ks_target_read(k->target, addr, ret, sizeof(*ret));
}

struct ks_error *ks_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret)
{
	unsigned char buf[8];
	struct ks_error *err;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return ks_error_create(KS_ERR_UNSUPPORTED, "cannot read a %zu-byte integer", size);
	err = ks_target_read(k->target, addr, buf, size);
	if (err)
		return err;
	*ret = ks_diskdump_le(buf, size);
	return NULL;
}

struct ks_error *ks_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f,
			       uint64_t *ret)
{
	if (!k->has[f])
		return ks_error_create(KS_ERR_LOOKUP, "%s.%s is not in the debuginfo",
				       field_specs[f].type, field_specs[f].members);
	return ks_read_uint(k, base + k->off[f], k->fsize[f], ret);
}

struct ks_error *ks_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size)
{
	struct ks_error *err;

	if (!size)
		return NULL;
	err = ks_target_read(k->target, addr, buf, size - 1);
	if (err) {
		/* A string may end before an unreadable page: read byte by byte. */
		size_t i;

		ks_error_destroy(err);
		for (i = 0; i + 1 < size; i++) {
			err = ks_target_read(k->target, addr + i, buf + i, 1);
			if (err)
				return err;
			if (!buf[i])
				return NULL;
		}
	}
	buf[size - 1] = '\0';
	return NULL;
}

/*
 * The try-reads keep only whether a read worked: they ask the target for the
 * code alone, so a failure formats no message it would throw away.
 */
enum ks_error_code ks_read_code(struct ks_kernel *k, uint64_t addr, void *buf, size_t len)
{
	return ks_target_try_read(k->target, addr, buf, len);
}

bool ks_try_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len)
{
	return !ks_read_code(k, addr, buf, len);
}

bool ks_try_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret)
{
	return !ks_read_code(k, addr, ret, sizeof(*ret));
}

bool ks_try_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret)
{
	return !ks_read_code(k, addr, ret, sizeof(*ret));
}

static enum ks_error_code read_uint_code(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret)
{
	unsigned char buf[8];
	enum ks_error_code code;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return KS_ERR_UNSUPPORTED;
	if ((code = ks_read_code(k, addr, buf, size)))
		return code;
	*ret = ks_diskdump_le(buf, size);
	return 0;
}

bool ks_try_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret)
{
	return !read_uint_code(k, addr, size, ret);
}

enum ks_error_code ks_read_field_code(struct ks_kernel *k, uint64_t base, enum ks_field f, uint64_t *ret)
{
	return k->has[f] ? read_uint_code(k, base + k->off[f], k->fsize[f], ret) : KS_ERR_LOOKUP;
}

bool ks_try_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f, uint64_t *ret)
{
	return !ks_read_field_code(k, base, f, ret);
}

enum ks_error_code ks_read_string_code(struct ks_kernel *k, uint64_t addr, char *buf, size_t size)
{
	enum ks_error_code code;

	if (!size)
		return 0;
	if (ks_read_code(k, addr, buf, size - 1)) {
		/* A string may end before an unreadable page: read byte by byte. */
		for (size_t i = 0; i + 1 < size; i++) {
			if ((code = ks_read_code(k, addr + i, buf + i, 1))) {
				buf[i] = '\0';
				return code;
			}
			if (!buf[i])
				return 0;
		}
	}
	buf[size - 1] = '\0';
	return 0;
}

bool ks_try_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size)
{
	return !ks_read_string_code(k, addr, buf, size);
}

/*
 * What the lock pass needs of each lock kind, in every layout kstall knows
 * (a wait list, 7.x's ring, or PREEMPT_RT's rt_mutex): a kernel with none of
 * them is one whose locks kstall cannot read, and the report says so rather
 * than show no lock waits.
 */
static void check_lock_layouts(struct ks_kernel *k)
{
	static const struct {
		const char *capability, *cost;
		enum ks_field any[3];
		enum ks_field waiter_task;
	} kinds[] = {
		{ "mutex waits", "tasks waiting on mutexes and the owners of mutexes cannot be found",
		  { KS_F_MUTEX_WAIT_LIST, KS_F_MUTEX_FIRST_WAITER, KS_F_MUTEX_RTMUTEX }, KS_F_MUTEX_WAITER_TASK },
		{ "rwsem waits", "tasks waiting on rw_semaphores (mmap_lock, i_rwsem) cannot be found",
		  { KS_F_RWSEM_WAIT_LIST, KS_F_RWSEM_FIRST_WAITER, KS_F_RWSEM_RWBASE_RTMUTEX },
		  KS_F_RWSEM_WAITER_TASK },
		{ "semaphore waits", "tasks waiting on semaphores cannot be found",
		  { KS_F_SEM_WAIT_LIST, KS_F_SEM_FIRST_WAITER, KS_F_SEM_WAIT_LIST }, KS_F_SEM_WAITER_TASK },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		bool list = k->has[kinds[i].any[0]] || k->has[kinds[i].any[1]];
		bool rt = kinds[i].any[2] != kinds[i].any[0] && k->has[kinds[i].any[2]] &&
			  k->has[KS_F_TASK_PI_BLOCKED_ON] && k->has[KS_F_RT_WAITER_LOCK];

		if (!(list && k->has[kinds[i].waiter_task]) && !rt)
			ks_kernel_support_add(k, kinds[i].capability, kinds[i].cost);
	}
}

static void resolve_fields(struct ks_kernel *k)
{
	for (int f = 0; f < KS_F__COUNT; f++)
		k->has[f] = ks_layout_member(k, field_specs[f].type, field_specs[f].members, &k->off[f],
					     &k->fsize[f]);
	check_lock_layouts(k);
}

bool ks_build_id_well_formed(const char *id)
{
	size_t n = strlen(id);

	return n && n % 2 == 0 && strspn(id, "0123456789abcdefABCDEF") == n;
}

/*
 * The build-ids match, so the vmlinux's banner ("Linux version R ...") names the
 * dump's release: an OSRELEASE that differs is damage in VMCOREINFO. The
 * banner's release is taken, and the damage said.
 */
static void check_release(struct ks_kernel *k)
{
	const char *banner = ks_debuginfo_banner(k->di), *prefix = "Linux version ";
	size_t n;

	if (!banner || strncmp(banner, prefix, strlen(prefix)))
		return;
	banner += strlen(prefix);
	n = strcspn(banner, " ");
	if (n >= sizeof(k->release) || (strlen(k->release) == n && !strncmp(k->release, banner, n)))
		return;
	snprintf(k->vmcoreinfo_damage, sizeof(k->vmcoreinfo_damage),
		 "VMCOREINFO is damaged: its OSRELEASE '%.64s' is not the release of the vmlinux whose "
		 "build-id it has ('%.*s')", k->release, (int)n, banner);
	snprintf(k->release, sizeof(k->release), "%.*s", (int)n, banner);
}

const char *ks_kernel_vmcoreinfo_damage(const struct ks_kernel *k)
{
	return k->vmcoreinfo_damage[0] ? k->vmcoreinfo_damage : NULL;
}

static struct ks_error *check_match(struct ks_kernel *k, bool force)
{
	char dump_id[160], release[65];
	const char *file_id = ks_debuginfo_build_id(k->di);

	if (!ks_target_vmcoreinfo(k->target, "OSRELEASE", release, sizeof(release)))
		release[0] = '\0';
	snprintf(k->release, sizeof(k->release), "%s", release);
	k->check = KS_VMLINUX_FORCED;
	if (force)
		return NULL;
	/* a damaged build-id is none: the banners decide */
	if (ks_target_vmcoreinfo(k->target, "BUILD-ID", dump_id, sizeof(dump_id)) &&
	    ks_build_id_well_formed(dump_id) && *file_id) {
		k->check = KS_VMLINUX_BUILD_ID;
		if (!strncmp(dump_id, file_id, strlen(dump_id))) {
			check_release(k);
			return NULL;
		}
		return ks_error_create(KS_ERR_MISMATCH,
				       "%s (build-id %s) does not match the dump (kernel %s, build-id %s); "
				       "give the matching vmlinux, or --force",
				       ks_debuginfo_path(k->di), file_id, release, dump_id);
	}
	/* No build-id on one side: compare linux_banner in the dump with the file's. */
	const char *banner = ks_debuginfo_banner(k->di);
	uint64_t addr;
	char dump_banner[512];
	struct ks_error *err;

	if (!banner || !ks_kernel_symbol(k, "linux_banner", &addr))
		return ks_error_create(KS_ERR_MISMATCH, "cannot tell whether %s matches the dump; use --force",
				       ks_debuginfo_path(k->di));
	err = ks_read_string(k, addr, dump_banner, sizeof(dump_banner));
	if (err)
		return ks_error_wrap(err, "cannot read linux_banner to check %s",
				     ks_debuginfo_path(k->di));
	if (strncmp(dump_banner, banner, sizeof(dump_banner) - 1))
		return ks_error_create(KS_ERR_MISMATCH,
				       "%s does not match the dump: its banner is \"%.80s\", the dump's \"%.80s\"",
				       ks_debuginfo_path(k->di), banner, dump_banner);
	k->check = KS_VMLINUX_BANNER;
	return NULL;
}

static struct ks_error *find_kaslr(struct ks_kernel *k)
{
	char buf[64];
	uint64_t stext;

	if (ks_target_vmcoreinfo(k->target, "KERNELOFFSET", buf, sizeof(buf))) {
		k->kaslr = strtoull(buf, NULL, 16);
		return NULL;
	}
	if (ks_target_vmcoreinfo(k->target, "SYMBOL(_stext)", buf, sizeof(buf)) &&
	    ks_debuginfo_symbol(k->di, "_stext", &stext, NULL)) {
		k->kaslr = strtoull(buf, NULL, 16) - stext;
		return NULL;
	}
	k->kaslr = 0;
	return NULL;
}

static struct ks_error *load_cpus(struct ks_kernel *k)
{
	uint64_t pco, nr_addr, mask_addr;
	uint32_t nr = 0;
	struct ks_error *err;

	if (!ks_kernel_symbol(k, "__per_cpu_offset", &pco) ||
	    !ks_kernel_symbol(k, "nr_cpu_ids", &nr_addr))
		return ks_error_create(KS_ERR_LOOKUP, "no __per_cpu_offset or nr_cpu_ids symbol");
	err = ks_read_u32(k, nr_addr, &nr);
	if (err)
		return ks_error_wrap(err, "nr_cpu_ids");
	if (!nr || nr > MAX_CPUS)
		return ks_error_create(KS_ERR_BAD_DATA,
				       "nr_cpu_ids reads %u, which no kernel kstall reads has (1 to %u): the "
				       "dump is damaged where it holds it, or the vmlinux is not this dump's",
				       nr, MAX_CPUS);
	k->nr_cpus = nr;
	k->per_cpu_offset = calloc(nr, sizeof(uint64_t));
	k->online = calloc(nr, 1);
	k->notes = calloc(nr, sizeof(*k->notes));
	if (!k->per_cpu_offset || !k->online || !k->notes)
		return &ks_error_nomem;
	err = ks_read(k, pco, k->per_cpu_offset, nr * sizeof(uint64_t));
	if (err)
		return ks_error_wrap(err, "__per_cpu_offset");
	if (ks_kernel_symbol(k, "__cpu_online_mask", &mask_addr)) {
		for (unsigned int c = 0; c < nr; c++) {
			uint64_t word;

			if (ks_try_read_u64(k, mask_addr + (c / 64) * 8, &word))
				k->online[c] = (word >> (c % 64)) & 1;
		}
	} else {
		memset(k->online, 1, nr);
	}
	return NULL;
}

/* The user_regs_struct slot of each register in elf_prstatus.pr_reg. */
static const struct {
	enum ks_reg reg;
	const char *name;
} prstatus_regs[] = {
	{ KS_R15, "r15" }, { KS_R14, "r14" }, { KS_R13, "r13" }, { KS_R12, "r12" },
	{ KS_RBP, "bp" },  { KS_RBX, "bx" },  { KS_R11, "r11" }, { KS_R10, "r10" },
	{ KS_R9, "r9" },   { KS_R8, "r8" },   { KS_RAX, "ax" },	 { KS_RCX, "cx" },
	{ KS_RDX, "dx" },  { KS_RSI, "si" },  { KS_RDI, "di" },	 { KS_RIP, "ip" },
	{ KS_RSP, "sp" },
};

static void load_crash_notes(struct ks_kernel *k)
{
	uint64_t notes_ptr_addr, notes, panic_addr;
	uint64_t reg_off[KS_NR_REGS];
	uint64_t desc_size = ks_debuginfo_type_size(k->di, "elf_prstatus");

	k->panic_cpu = -1;
	if (ks_kernel_symbol(k, "panic_cpu", &panic_addr)) {
		uint32_t v;

		if (ks_try_read_u32(k, panic_addr, &v) && (int32_t)v >= 0 && v < k->nr_cpus)
			k->panic_cpu = (int)v;
	}
	if (!k->has[KS_F_PRSTATUS_REG] || !k->has[KS_F_PRSTATUS_PID] || !desc_size)
		return;
	for (size_t i = 0; i < sizeof(prstatus_regs) / sizeof(prstatus_regs[0]); i++) {
		/* pt_regs names; user_regs_struct has the same order for these. */
		if (!ks_debuginfo_member(k->di, "pt_regs", prstatus_regs[i].name,
					 &reg_off[prstatus_regs[i].reg], NULL))
			return;
	}
	if (!ks_kernel_symbol(k, "crash_notes", &notes_ptr_addr) ||
	    !ks_try_read_u64(k, notes_ptr_addr, &notes))
		return;
	for (unsigned int c = 0; c < k->nr_cpus; c++) {
		/* Elf64_Nhdr, "CORE\0" padded to 8 bytes, then struct elf_prstatus. */
		unsigned char buf[12 + 8 + 512];
		uint32_t namesz, descsz, type, pid;

		if (!k->online[c] || desc_size > sizeof(buf) - 20 ||
		    !ks_try_read(k, notes + k->per_cpu_offset[c], buf, 20 + desc_size))
			continue;
		memcpy(&namesz, buf, 4);
		memcpy(&descsz, buf + 4, 4);
		memcpy(&type, buf + 8, 4);
		if (namesz != 5 || memcmp(buf + 12, "CORE", 5) || type != 1 /* NT_PRSTATUS */ ||
		    descsz < desc_size)
			continue;
		memcpy(&pid, buf + 20 + k->off[KS_F_PRSTATUS_PID], 4);
		k->notes[c].pid = pid;
		for (size_t i = 0; i < sizeof(prstatus_regs) / sizeof(prstatus_regs[0]); i++) {
			enum ks_reg r = prstatus_regs[i].reg;

			memcpy(&k->notes[c].regs[r], buf + 20 + k->off[KS_F_PRSTATUS_REG] + reg_off[r],
			       8);
		}
		k->notes[c].valid = k->notes[c].regs[KS_RIP] != 0;
	}
}

bool ks_kernel_cpu_regs(const struct ks_kernel *k, unsigned int cpu, uint64_t regs[KS_NR_REGS],
			uint32_t *pid)
{
	if (cpu >= k->nr_cpus || !k->notes[cpu].valid)
		return false;
	memcpy(regs, k->notes[cpu].regs, sizeof(k->notes[cpu].regs));
	if (pid)
		*pid = k->notes[cpu].pid;
	return true;
}

struct ks_error *ks_kernel_per_cpu(struct ks_kernel *k, const char *var, unsigned int cpu,
				   uint64_t *ret)
{
	uint64_t addr;

	uint64_t end;

	if (cpu >= k->nr_cpus)
		return ks_error_create(KS_ERR_USAGE, "no CPU %u", cpu);
	if (!ks_debuginfo_symbol(k->di, var, &addr, NULL))
		return ks_error_create(KS_ERR_LOOKUP, "no per-CPU symbol %s", var);
	/* Zero-based per-CPU symbols are offsets that KASLR does not move. */
	if (!(ks_debuginfo_symbol(k->di, "__per_cpu_end", &end, NULL) && addr < end &&
	      end < 0x100000000ull))
		addr += k->kaslr;
	*ret = addr + k->per_cpu_offset[cpu];
	return NULL;
}

bool ks_kernel_per_cpu_ptr(const struct ks_kernel *k, uint64_t ptr, unsigned int cpu, uint64_t *ret)
{
	/* Every possible CPU, online or not: the kernel sums per-CPU counts the same way. */
	if (cpu >= k->nr_cpus)
		return false;
	*ret = ptr + k->per_cpu_offset[cpu];
	return true;
}

bool ks_kernel_runqueue(struct ks_kernel *k, unsigned int cpu, uint64_t *ret)
{
	struct ks_error *err;

	if (!ks_kernel_cpu_online(k, cpu))
		return false;
	err = ks_kernel_per_cpu(k, "runqueues", cpu, ret);
	ks_error_destroy(err);
	return !err;
}

/*
 * THREAD_SIZE. The linker script reserves exactly one stack for the init task
 * between these symbols, so the symbol table answers without DWARF; the
 * thread_union type is in DWARF only where some unit uses it, and asking for
 * it where it is not costs a pass over every unit.
 */
static uint64_t thread_size(struct ks_debuginfo *di)
{
	static const char *const starts[] = { "__start_init_task", "init_stack", "init_thread_union" };
	uint64_t end, start, size;

	if (ks_debuginfo_symbol(di, "__end_init_task", &end, NULL)) {
		for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
			if (!ks_debuginfo_symbol(di, starts[i], &start, NULL) || end <= start)
				continue;
			size = end - start;
			/* a power of two between one page and 64 pages, or the symbols mean something else */
			if (size >= 4096 && size <= (256u << 10) && !(size & (size - 1)))
				return size;
		}
	}
	size = ks_debuginfo_type_size(di, "thread_union");
	return size ? size : 16384; /* x86_64's default when neither says */
}

const struct ks_settings *ks_kernel_settings(const struct ks_kernel *k)
{
	return &k->settings;
}

struct ks_layout *ks_kernel_layout(struct ks_kernel *k)
{
	return k->layout;
}

struct ks_error *ks_kernel_open(struct ks_target *target, struct ks_debuginfo *di,
				const struct ks_kernel_options *opts, struct ks_kernel **ret)
{
	struct ks_kernel *k = calloc(1, sizeof(*k));
	struct ks_error *err;

	if (!k) {
		ks_target_destroy(target);
		ks_debuginfo_destroy(di);
		return &ks_error_nomem;
	}
	k->target = target;
	k->di = di;
	k->layout = ks_layout_create();
	if (opts && opts->settings)
		k->settings = *opts->settings;
	k->origin = opts ? opts->origin : KS_VMLINUX_GIVEN;
	k->settings.cache_dir = NULL;
	err = find_kaslr(k);
	if (!err)
		err = check_match(k, opts && opts->force);
	if (err)
		goto fail;
	resolve_fields(k);
	for (size_t i = 0; i < sizeof(required_fields) / sizeof(required_fields[0]); i++) {
		enum ks_field f = required_fields[i];

		if (!k->has[f]) {
			err = ks_error_create(KS_ERR_UNSUPPORTED, "%s has no %s.%s",
					      ks_debuginfo_path(di), field_specs[f].type,
					      field_specs[f].members);
			goto fail;
		}
	}
	k->thread_size = thread_size(di);
	err = load_cpus(k);
	if (err)
		goto fail;
	load_crash_notes(k);
	if (!ks_debuginfo_symbol(di, "_end", &k->image_end, NULL))
		k->image_end = UINT64_MAX;
	err = ks_modules_load(k, &k->modules);
	if (err)
		goto fail;
	/* the second CPU is the stack read-ahead's from here */
	ks_debuginfo_settle(di);
	ks_debuginfo_trim(di);
	*ret = k;
	return NULL;
fail:
	ks_kernel_destroy(k);
	return err;
}

void ks_kernel_destroy(struct ks_kernel *k)
{
	if (!k)
		return;
	free(k->per_cpu_offset);
	free(k->online);
	free(k->notes);
	ks_modules_deinit(&k->modules);
	ks_layout_destroy(k->layout);
	ks_debuginfo_destroy(k->di);
	ks_target_destroy(k->target);
	free(k);
}

uint64_t ks_lock_owner_task(uint64_t owner_word)
{
	/* mutex: WAITERS|HANDOFF|PICKUP; rwsem: READER_OWNED|NONSPINNABLE (4.10+); rt_mutex: HAS_WAITERS */
	return owner_word & ~(uint64_t)7;
}

enum ks_error_code ks_mutex_owner_word(struct ks_kernel *k, uint64_t mutex, uint64_t *ret)
{
	if (k->has[KS_F_MUTEX_OWNER] || !k->has[KS_F_MUTEX_RTMUTEX])
		return ks_read_field_code(k, mutex, KS_F_MUTEX_OWNER, ret);
	return ks_read_field_code(k, mutex + k->off[KS_F_MUTEX_RTMUTEX], KS_F_RTMUTEX_OWNER, ret);
}

/* The letters of mask, as print_tainted() writes them: one per taint bit set. */
bool ks_kernel_taint_letters(struct ks_kernel *k, uint64_t mask, char *buf, size_t size)
{
	uint64_t table, n, esize = ks_kernel_type_size(k, KS_SIZE_TAINT_FLAG), off, fsize;
	size_t len = 0;

	buf[0] = '\0';
	if (!ks_kernel_array(k, KS_A_TAINT_FLAGS, &table, &n) || !n || n > 64 || !esize ||
	    !ks_kernel_late_field(k, KS_LF_TAINT_FLAG_C_TRUE, &off, &fsize) || fsize != 1)
		return false;
	for (uint64_t b = 0; b < n && len + 1 < size; b++) {
		char c;

		if (!(mask & (1ull << b)))
			continue;
		if (!ks_try_read(k, table + b * esize + off, &c, 1) || c < 'A' || c > 'Z')
			c = '?';
		buf[len++] = c;
	}
	buf[len] = '\0';
	return true;
}
