/*
 * A kernel image in a dump: the target joined with its vmlinux debuginfo, the
 * KASLR offset, and the layout table (offsets resolved once from DWARF).
 */
#ifndef KSTALL_KERNEL_H
#define KSTALL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/debuginfo.h"
#include "kstall/error.h"
#include "kstall/layout.h"
#include "kstall/settings.h"
#include "kstall/target.h"

/* x86_64 registers, in DWARF numbering. */
enum ks_reg {
	KS_RAX, KS_RDX, KS_RCX, KS_RBX, KS_RSI, KS_RDI, KS_RBP, KS_RSP,
	KS_R8, KS_R9, KS_R10, KS_R11, KS_R12, KS_R13, KS_R14, KS_R15, KS_RIP,
	KS_NR_REGS
};

struct ks_kernel;

/* How the vmlinux was found: named by the user, a --vmlinux candidate of a batch, a debug path
 * (by build-id or release), debuginfod. */
enum ks_vmlinux_origin {
	KS_VMLINUX_GIVEN,
	KS_VMLINUX_CANDIDATE,
	KS_VMLINUX_DEBUG_PATH,
	KS_VMLINUX_DEBUGINFOD,
};

/* How it was checked against the dump: build-ids equal, linux_banner equal (one side has no
 * build-id), or not at all (--force). */
enum ks_vmlinux_check {
	KS_VMLINUX_BUILD_ID,
	KS_VMLINUX_BANNER,
	KS_VMLINUX_FORCED,
};

struct ks_kernel_options {
	/* open even when vmlinux and dump do not match */
	bool force;
	enum ks_vmlinux_origin origin;
	/* the embedding program's choices (copied; cache_dir is not kept); NULL: the defaults */
	const struct ks_settings *settings;
};

/* Takes ownership of target and di, also on failure. */
struct ks_error *ks_kernel_open(struct ks_target *target, struct ks_debuginfo *di,
				const struct ks_kernel_options *opts, struct ks_kernel **ret);
void ks_kernel_destroy(struct ks_kernel *k);

struct ks_target *ks_kernel_target(struct ks_kernel *k);
/* The settings the kernel was opened with (cache_dir NULL). */
const struct ks_settings *ks_kernel_settings(const struct ks_kernel *k);
struct ks_debuginfo *ks_kernel_debuginfo(struct ks_kernel *k);
uint64_t ks_kernel_kaslr_offset(const struct ks_kernel *k);
const char *ks_kernel_release(const struct ks_kernel *k);
/*
 * The letters of a taint mask as the kernel prints them after "Tainted:", one
 * per bit set, from its own taint_flags[] table; false when the table is unknown.
 */
bool ks_kernel_taint_letters(struct ks_kernel *k, uint64_t mask, char *buf, size_t size);
/* A VMCOREINFO value (CRASHTIME, OSRELEASE, ...); false when the dump has none. */
bool ks_kernel_vmcoreinfo(struct ks_kernel *k, const char *key, char *buf, size_t size);
enum ks_vmlinux_origin ks_kernel_vmlinux_origin(const struct ks_kernel *k);
enum ks_vmlinux_check ks_kernel_vmlinux_check(const struct ks_kernel *k);
/* VMCOREINFO's PAGESIZE; 4096 when absent or not a power of two */
uint64_t ks_kernel_page_size(struct ks_kernel *k);

/*
 * What kstall cannot do on this kernel because a layout it needs is missing or
 * unknown (a struct member, a symbol, a format), and what that costs the
 * reader: the "kernel support" section of every report. Found while opening
 * and analysing; the same capability is kept once.
 */
struct ks_support_gap {
	char capability[64];
	char cost[224];
};
#define KS_MAX_SUPPORT_GAPS 32
void ks_kernel_support_add(struct ks_kernel *k, const char *capability, const char *cost);
const struct ks_support_gap *ks_kernel_support_gaps(const struct ks_kernel *k, size_t *count);

/* Members of kstall/layout.h's KS_FIELDS, resolved at open: offset, presence, size. */
uint64_t ks_kernel_off(const struct ks_kernel *k, enum ks_field f);
bool ks_kernel_has(const struct ks_kernel *k, enum ks_field f);
/* Has this kernel every one of the n members f? */
bool ks_kernel_has_all(const struct ks_kernel *k, const enum ks_field *f, size_t n);
uint64_t ks_kernel_fsize(const struct ks_kernel *k, enum ks_field f);

/* Runtime address of a symbol (KASLR applied). */
bool ks_kernel_symbol(struct ks_kernel *k, const char *name, uint64_t *addr);
/* Symbol containing a runtime address. */
bool ks_kernel_symbolize(struct ks_kernel *k, uint64_t addr, struct ks_symbol *ret);

struct ks_error *ks_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len);
struct ks_error *ks_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret);
struct ks_error *ks_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret);
/* An unsigned integer field of size 1, 2, 4 or 8 bytes. */
struct ks_error *ks_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret);
/* Read the field f of the object at base. */
struct ks_error *ks_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f,
			       uint64_t *ret);
/* A NUL-terminated string of at most size-1 bytes. */
struct ks_error *ks_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size);

/* Why a read failed (0: it did not), without making a message; LOOKUP for a field the kernel lacks. */
enum ks_error_code ks_read_code(struct ks_kernel *k, uint64_t addr, void *buf, size_t len);
enum ks_error_code ks_read_field_code(struct ks_kernel *k, uint64_t base, enum ks_field f, uint64_t *ret);
/* A NUL-terminated string of at most size-1 bytes; on failure buf holds what was read before it. */
enum ks_error_code ks_read_string_code(struct ks_kernel *k, uint64_t addr, char *buf, size_t size);
/* The same reads as a yes/no, for callers that go on without the value: no error is made. */
bool ks_try_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len);
bool ks_try_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret);
bool ks_try_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret);
bool ks_try_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret);
bool ks_try_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f, uint64_t *ret);
bool ks_try_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size);

/* Per-CPU data. */
unsigned int ks_kernel_nr_cpus(const struct ks_kernel *k);
bool ks_kernel_cpu_online(const struct ks_kernel *k, unsigned int cpu);
/* Runtime address of a per-CPU variable's instance on a CPU. */
struct ks_error *ks_kernel_per_cpu(struct ks_kernel *k, const char *var, unsigned int cpu,
				   uint64_t *ret);

/* A per-CPU pointer (a value of a `T __percpu *`) resolved for one CPU. */
bool ks_kernel_per_cpu_ptr(const struct ks_kernel *k, uint64_t ptr, unsigned int cpu, uint64_t *ret);

/* The address of an online CPU's struct rq; false for offline or unreadable CPUs. */
bool ks_kernel_runqueue(struct ks_kernel *k, unsigned int cpu, uint64_t *ret);

/* Registers a CPU saved in its crash note; false when the CPU has none. */
bool ks_kernel_cpu_regs(const struct ks_kernel *k, unsigned int cpu, uint64_t regs[KS_NR_REGS],
			uint32_t *pid);
/* The CPU that crashed, or -1 when unknown. */
int ks_kernel_panic_cpu(const struct ks_kernel *k);

struct ks_modules;
/* The modules loaded at the crash (read once at open). */
const struct ks_modules *ks_kernel_modules(const struct ks_kernel *k);
struct ks_module;
/* The loaded module whose memory holds addr; NULL for the vmlinux image's addresses and others. */
const struct ks_module *ks_kernel_module_at(const struct ks_kernel *k, uint64_t addr);
/* A loaded module's DWARF, opened at its first use (see ks_module_dwarf_open); NULL when none. */
struct ks_debuginfo *ks_kernel_module_dwarf(struct ks_kernel *k, const struct ks_module *m);

/*
 * A present section of the memory map: its first pfn, its pages, and the
 * address of its first struct page; map 0 when the dump lacks the section's
 * entry (its pages are unknown, not absent).
 */
struct ks_memmap_section {
	uint64_t pfn, pages, map;
};
/*
 * The memory map's present sections, up to max_pfn, in pfn order; the array
 * is the caller's to free. UNSUPPORTED without SPARSEMEM's tables, NODATA when
 * the dump lacks their root.
 */
struct ks_error *ks_kernel_memmap(struct ks_kernel *k, struct ks_memmap_section **ret, size_t *count);

/* Size of a kernel stack, from DWARF (union thread_union). */
uint64_t ks_kernel_thread_size(const struct ks_kernel *k);

/* The owner task address from a mutex, rwsem or rt_mutex owner word (its flag bits removed). */
uint64_t ks_lock_owner_task(uint64_t owner_word);
/*
 * A mutex's owner word, wherever this kernel keeps it: mutex.owner, or on
 * PREEMPT_RT the owner of the rt_mutex inside it. LOOKUP when it has neither.
 */
enum ks_error_code ks_mutex_owner_word(struct ks_kernel *k, uint64_t mutex, uint64_t *ret);

/*
 * The layouts of kstall/layout.h, each resolved from DWARF at its first use and
 * kept: a type's size (0 when unknown), an enumerator's value, a global array's
 * address and length (the first of its names the kernel has), the address of
 * a global vmstat counter. False (or 0) is the capability flag: this kernel
 * lacks it.
 */
uint64_t ks_kernel_type_size(struct ks_kernel *k, enum ks_type_size size);
/* A late member's offset and size. */
bool ks_kernel_late_field(struct ks_kernel *k, enum ks_late_field f, uint64_t *off, uint64_t *size);
bool ks_kernel_enumerator(struct ks_kernel *k, enum ks_enumerator e, int64_t *ret);
bool ks_kernel_array(struct ks_kernel *k, enum ks_array array, uint64_t *addr, uint64_t *len);
bool ks_kernel_vmstat(struct ks_kernel *k, enum ks_vmstat item, uint64_t *addr);

/* What VMCOREINFO says that the matching vmlinux contradicts (damage), or NULL. */
const char *ks_kernel_vmcoreinfo_damage(const struct ks_kernel *k);

/* A build-id as VMCOREINFO should hold it: hex digits, whole bytes. Anything else is damage. */
bool ks_build_id_well_formed(const char *id);

#endif
