/*
 * The name index of a vmlinux's DWARF: struct, union, typedef, enum and
 * variable names to their DIE offsets, and enumerators to their values.
 *
 * Built once per open by one pass over the top-level DIEs of every unit, the
 * costliest part of kstall's start-up; two threads each take half the units.
 * Where a name is defined more than once (headers repeat in every unit), the
 * first definition in file order wins, as a single pass would have it.
 */
#ifndef KSTALL_DWARF_INDEX_H
#define KSTALL_DWARF_INDEX_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "kstall/error.h"

struct ks_dwarf_index;

/* Kinds of name, one namespace each. */
enum {
	KS_IX_AGGREGATE = 's', /* struct or union */
	KS_IX_TYPEDEF = 't',
	KS_IX_ENUM = 'e',
	KS_IX_VARIABLE = 'v',
	KS_IX_ENUMERATOR = 'n', /* the value is the enumerator's, not a DIE offset */
};

/*
 * Index the file open as fd, whose libelf and libdw handles are elf and dwarf
 * (the caller's; a second thread opens its own on fd). path is for messages.
 */
struct ks_error *ks_dwarf_index_build(int fd, Elf *elf, Dwarf *dwarf, const char *path,
				      struct ks_dwarf_index **ret);
void ks_dwarf_index_free(struct ks_dwarf_index *ix);

bool ks_dwarf_index_get(const struct ks_dwarf_index *ix, char kind, const char *name,
			uint64_t *value);

#endif
