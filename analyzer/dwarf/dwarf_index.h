/*
 * The name index of a vmlinux's DWARF: struct, union, typedef, enum and
 * variable names to their DIE offsets, and enumerators to their values.
 *
 * Built by one pass over the top-level DIEs of the units, in file order, the
 * costliest part of kstall's start-up when it is whole. So the pass is made
 * only as far as the names asked for: a look-up reads on until its name is
 * met. The answers are kept per vmlinux (index_memo.h): a later run on the
 * same kernel makes the pass only if it asks a name the memo does not hold.
 * Where a name is defined more than once (headers repeat in every unit), the
 * first definition in file order wins.
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
 * The index of a vmlinux whose libelf and libdw handles are elf and dwarf (the
 * caller's, which must outlive the index). path is for messages. memo_path:
 * where answers are kept for this vmlinux (build_id, and a stamp of its
 * DWARF's sizes), NULL for none. Without kept answers the pass starts now, so
 * that a vmlinux without types fails here.
 */
struct ks_settings;
/* settings: dwarf_by_libdw (no DIE reader of kstall's) and one_thread (no pass beside); NULL: defaults. */
struct ks_error *ks_dwarf_index_open(Elf *elf, Dwarf *dwarf, const char *path,
				     const char *memo_path, const char *build_id, uint64_t stamp,
				     const struct ks_settings *settings, struct ks_dwarf_index **ret);
/* Saves new answers to the memo. */
void ks_dwarf_index_free(struct ks_dwarf_index *ix);

/*
 * Not thread-safe: a name the memo lacks makes the pass go on. (In a run with
 * no kept answers the pass starts at open on a second thread, which this
 * waits for; it stops at ks_dwarf_index_settle.)
 */
bool ks_dwarf_index_get(struct ks_dwarf_index *ix, char kind, const char *name, uint64_t *value);

/*
 * Stop the pass's second thread, if it runs: look-ups from here read on in
 * the caller's thread. Made when the caller needs that CPU for other work.
 */
void ks_dwarf_index_settle(struct ks_dwarf_index *ix);

/*
 * Whether this run made the pass, with how many units (how many of them by
 * libdw, how many on the second thread) and bytes of .debug_info (of size) it read; and how many answers came
 * from the memo.
 */
bool ks_dwarf_index_built(struct ks_dwarf_index *ix, unsigned *units, unsigned *units_libdw,
			  unsigned *units_helper, uint64_t *read, uint64_t *size);
unsigned ks_dwarf_index_memo_answers(const struct ks_dwarf_index *ix);

/*
 * Every "kind:name" key of the vmlinux and its value, the pass made to the
 * end (the tests compare the readers with it). False when memory ran out.
 */
bool ks_dwarf_index_each(struct ks_dwarf_index *ix,
			 void (*fn)(void *arg, const char *key, uint64_t value), void *arg);

#endif
