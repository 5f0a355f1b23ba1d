/*
 * Loaded kernel modules, read from the dump's module list: names, text
 * ranges, symbols (the module's own kallsyms copy) and ORC tables. This is
 * what lets kstall name and unwind module frames with no module debuginfo.
 */
#ifndef KSTALL_MODULES_H
#define KSTALL_MODULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/debuginfo.h"
#include "kstall/error.h"
#include "kstall/unwind.h"

struct ks_kernel;

/* A module's memory: one core_layout before 6.4, text, data, rodata and ro_after_init since */
#define KS_MODULE_RANGES 4

struct ks_module {
	char name[64];
	struct {
		uint64_t base, size;
	} ranges[KS_MODULE_RANGES];
	size_t nranges;
	struct ks_symbol *syms; /* sorted by address; names owned by strtab */
	size_t nsyms;
	char *strtab;
	struct ks_orc_table orc;
	/* module.taints: the TAINT_* bits the module set (out-of-tree, unsigned, ...) */
	uint64_t taints;
	bool taints_known;
	uint64_t module; /* its struct module */
	/*
	 * Its DWARF (ks_kernel_module_dwarf opens it at first use): the .ko's
	 * debuginfo, relocated; NULL with dwarf_why saying why there is none.
	 */
	struct ks_debuginfo *dwarf;
	bool dwarf_tried;
	/* taken by its name alone: the loaded module or the file has no build-id to compare */
	bool dwarf_by_name;
	char dwarf_why[320];
	char build_id[2 * 64 + 1]; /* of the loaded module (its .note.gnu.build-id), "" when unread */
};

struct ks_modules {
	struct ks_module *mods;
	size_t count;
	/* the reads that failed: the list, a module lost or read in part (the analysis reports them) */
	struct ks_problems problems;
};

/* Never fails on bad module data: a module that cannot be read is skipped. */
struct ks_error *ks_modules_load(struct ks_kernel *k, struct ks_modules *ret);
void ks_modules_deinit(struct ks_modules *m);
const struct ks_module *ks_modules_find(const struct ks_modules *m, uint64_t addr);

/*
 * Find and open a module's debuginfo, once (the kernel's accessor is
 * ks_kernel_module_dwarf): a .ko of files (those given on the command line)
 * named as the module, else one under debug_root (/usr/lib/debug: its
 * .build-id links, then lib/modules/RELEASE/), whose build-id is the loaded
 * module's. Sets m->dwarf, or m->dwarf_why.
 */
void ks_module_dwarf_open(struct ks_kernel *k, struct ks_module *m, const char *const *files, size_t nfiles,
			  const char *debug_root);
bool ks_module_symbolize(const struct ks_module *mod, uint64_t addr, struct ks_symbol *ret);

#endif
