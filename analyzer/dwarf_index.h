/*
 * The name index of a vmlinux's DWARF: struct, union, typedef, enum and
 * variable names to their DIE offsets, and enumerators to their values.
 *
 * Built by one pass over the top-level DIEs of every unit, the costliest part
 * of kstall's start-up; two threads each take half the units. The answers it
 * gives are kept per vmlinux (index_memo.h): a later run on the same kernel
 * makes the pass only if it asks a name the memo does not hold.
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
 * The index of the file open as fd, whose libelf and libdw handles are elf and
 * dwarf (the caller's, which must outlive the index; a second thread opens its
 * own on fd). path is for messages. memo_path: where answers are kept for this
 * vmlinux (build_id, and a stamp of its DWARF's sizes), NULL for none. The
 * pass runs now unless the memo has answers.
 */
struct ks_error *ks_dwarf_index_open(int fd, Elf *elf, Dwarf *dwarf, const char *path,
				     const char *memo_path, const char *build_id, uint64_t stamp,
				     struct ks_dwarf_index **ret);
/* Saves new answers to the memo. */
void ks_dwarf_index_free(struct ks_dwarf_index *ix);

/* Not thread-safe: a name the memo lacks makes the pass. */
bool ks_dwarf_index_get(struct ks_dwarf_index *ix, char kind, const char *name, uint64_t *value);

/* Whether this run made the pass, and how many answers came from the memo. */
bool ks_dwarf_index_built(const struct ks_dwarf_index *ix);
unsigned ks_dwarf_index_memo_answers(const struct ks_dwarf_index *ix);

#endif
