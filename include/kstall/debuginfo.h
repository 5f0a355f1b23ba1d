/*
 * Debuginfo of a vmlinux through elfutils libdw: ELF symbols, struct layouts,
 * enumerators and inline chains. Types and enumerators are indexed in one pass
 * over the top-level DIEs at open; no query scans DWARF again.
 */
#ifndef KSTALL_DEBUGINFO_H
#define KSTALL_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"

struct ks_debuginfo;

struct ks_settings;
/* settings: cache_dir, dwarf_by_libdw and one_thread are read (NULL: the defaults, nothing kept). */
struct ks_error *ks_debuginfo_open(const char *path, const struct ks_settings *settings,
				   struct ks_debuginfo **ret);
void ks_debuginfo_destroy(struct ks_debuginfo *di);
const char *ks_debuginfo_path(const struct ks_debuginfo *di);

/* The GNU build-id as lowercase hex, or "" when the file has none. */
const char *ks_debuginfo_build_id(const struct ks_debuginfo *di);
/* The linux_banner string as stored in the file, or NULL. */
const char *ks_debuginfo_banner(const struct ks_debuginfo *di);
/*
 * Whether this run indexed the DWARF names, and how many answers came from the
 * memo of earlier runs (see KSTALL_CACHE_DIR, KSTALL_CACHE=off).
 */
/*
 * Give back the resident pages of the file's DWARF sections (they are read
 * again from the page cache when needed): call between phases, where the
 * look-ups of one phase are done.
 */
void ks_debuginfo_trim(struct ks_debuginfo *di);
/* The same for one section of the file, by name. */
void ks_debuginfo_release(struct ks_debuginfo *di, const char *section);

/* How this run found DWARF names: from the memo of earlier runs, or by how much of a pass. */
struct ks_index_stats {
	unsigned memo_answers;
	bool built;	/* the pass was made, as far as read bytes of size, in units */
	unsigned units, units_libdw; /* units_libdw: those the fast reader left to libdw */
	unsigned units_helper;	     /* those read on the second thread */
	uint64_t read, size;
};
/* Settles the pass (ks_debuginfo_settle) first. */
void ks_debuginfo_index_stats(struct ks_debuginfo *di, struct ks_index_stats *st);

/*
 * In a run with no kept DWARF names, the name index is built on a second
 * thread from ks_debuginfo_open on, while the caller goes on: this stops it
 * (look-ups from here read on in the caller's thread). Call it where the
 * second CPU is wanted for other work.
 */
void ks_debuginfo_settle(struct ks_debuginfo *di);

/* What names a vmlinux, read without DWARF: cheap enough to look at many candidate files. */
struct ks_vmlinux_id {
	/* the GNU build-id as lowercase hex, "" when the file has none */
	char build_id[2 * 64 + 1];
	/* the release its linux_banner names ("6.1.0-18-amd64"), "" when unknown */
	char release[65];
};
/* A compressed file is decompressed as ks_debuginfo_open does (kept in settings' cache_dir, which
 * may be NULL: then a temporary file). */
struct ks_error *ks_debuginfo_identify(const char *path, const struct ks_settings *settings,
				       struct ks_vmlinux_id *ret);

/* Link-time address of a symbol (no KASLR offset applied); false if absent. */
bool ks_debuginfo_symbol(const struct ks_debuginfo *di, const char *name, uint64_t *addr,
			 uint64_t *size);

struct ks_symbol {
	const char *name;
	uint64_t address;
	uint64_t size;
};
/* The function or object symbol containing a link-time address. */
bool ks_debuginfo_symbolize(const struct ks_debuginfo *di, uint64_t addr,
			    struct ks_symbol *ret);

/* Size of a struct, union or typedef'd type; 0 when absent. */
uint64_t ks_debuginfo_type_size(struct ks_debuginfo *di, const char *type);

/*
 * Byte offset of a member, through anonymous structs and unions and dotted
 * paths ("thread.sp"). Bit-fields are refused. Returns false when absent.
 */
bool ks_debuginfo_member(struct ks_debuginfo *di, const char *type, const char *member,
			 uint64_t *offset, uint64_t *size);

/*
 * A bit-field member of a struct, found through anonymous members too: its
 * offset in bits from the start of the struct, as little-endian x86 numbers
 * them, and its width. False when absent or not a bit-field.
 */
bool ks_debuginfo_bitfield(struct ks_debuginfo *di, const char *type, const char *member,
			   uint64_t *bit_offset, uint64_t *bit_size);

/* Value of a named enumerator of any top-level enum. */
bool ks_debuginfo_enumerator(struct ks_debuginfo *di, const char *name, int64_t *value);

/*
 * Value of an enumerator of one named enum ("node_stat_item", "NR_SHMEM"): for
 * names that move between enums across versions. Reads only that enum's DIE.
 */
bool ks_debuginfo_enumerator_of(struct ks_debuginfo *di, const char *type, const char *name,
				int64_t *value);

/* Number of elements of a global array variable, from its DWARF type. */
bool ks_debuginfo_array_length(struct ks_debuginfo *di, const char *variable, uint64_t *len);

/* One function at a PC: the innermost inlined call first, the concrete function last. */
struct ks_func {
	const char *name;
	bool inlined;
	/* the subprogram or inlined_subroutine DIE, for ks_debuginfo_params() */
	uint64_t die;
};

/*
 * The functions active at a link-time PC, innermost first, into ret[0..max).
 * Returns the count (0 when there is no DWARF for the PC). Cached by PC.
 */
size_t ks_debuginfo_functions_at(struct ks_debuginfo *di, uint64_t pc, struct ks_func *ret,
				 size_t max);

/* A parameter's value at a frame, as far as DWARF can tell. */
struct ks_var {
	const char *name;
	bool known;
	uint64_t value;
	/* why it is unknown: "optimized out", "register not recovered", ... */
	const char *why;
};

/* Memory and registers of one frame, for evaluating DWARF locations. */
struct ks_frame_ctx {
	uint64_t link_pc; /* pc without KASLR, the call site for caller frames */
	const uint64_t *regs;
	uint32_t regs_valid;
	uint64_t cfa;
	bool have_cfa;
	/* read 8 bytes of dump memory; false when unreadable */
	bool (*read_u64)(void *arg, uint64_t addr, uint64_t *ret);
	void *arg;
};

/* The formal parameters of the function DIE at a frame, in order; returns the count. */
size_t ks_debuginfo_params(struct ks_debuginfo *di, uint64_t die, uint64_t sub_die,
			   const struct ks_frame_ctx *ctx, struct ks_var *ret, size_t max);

/*
 * The local variables of the function DIE at a frame: its own and those of the
 * lexical blocks that hold the pc (not those of functions inlined into it).
 */
size_t ks_debuginfo_locals(struct ks_debuginfo *di, uint64_t die, uint64_t sub_die,
			   const struct ks_frame_ctx *ctx, struct ks_var *ret, size_t max);

/* Where the kernel loaded one section of a module. */
struct ks_section_addr {
	const char *name;
	uint64_t address;
};

/*
 * A module's .ko (with its DWARF), relocated to where the module was loaded:
 * each of sections (as /sys/module/NAME/sections), the module's memory from
 * low to high. Only ks_debuginfo_functions_at, _params, _locals and
 * _build_id answer for it; its pcs are run-time addresses.
 */
struct ks_error *ks_debuginfo_open_module(const char *path, const char *name, uint64_t low, uint64_t high,
					  const struct ks_section_addr *sections, size_t count,
					  struct ks_debuginfo **ret);

/* The ELF section bytes by name (e.g. ".orc_unwind"), with their link-time address. */
bool ks_debuginfo_section(const struct ks_debuginfo *di, const char *name, const void **data,
			  size_t *size, uint64_t *addr);

#endif
