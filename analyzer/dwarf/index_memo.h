/*
 * The answers the DWARF name index gave on earlier runs against the same
 * vmlinux, kept in a small file per build-id.
 *
 * kstall asks the index for a few hundred names, always the same ones; the
 * index itself costs a pass over every unit of .debug_info (the larger part
 * of start-up, and of peak memory, on a small dump). With the answers kept,
 * a later run on a dump of the same kernel needs no pass at all; a name the
 * memo does not hold (a newer kstall asks something new) sends the caller
 * back to the index, and the answer joins the memo.
 *
 * The file is text: a header naming the vmlinux (build-id, and the sizes that
 * tell two builds of its DWARF apart), one "key value" line per answer ("-"
 * for a name the vmlinux does not have), and a closing checksum. A file that
 * does not parse, does not match or fails its checksum is ignored and
 * rewritten; it is replaced atomically (rename), so concurrent runs never see
 * half of one.
 */
#ifndef KSTALL_INDEX_MEMO_H
#define KSTALL_INDEX_MEMO_H

#include <stdbool.h>
#include <stdint.h>

struct ks_index_memo;

/*
 * The memo kept at path for this vmlinux (identity: build-id and stamp), or an
 * empty one when the file is missing, damaged or of another vmlinux. path
 * NULL: a memo that is never saved. NULL only when memory is short.
 */
struct ks_index_memo *ks_index_memo_load(const char *path, const char *build_id, uint64_t stamp);
/* Writes the file if answers were added, then frees. */
void ks_index_memo_destroy(struct ks_index_memo *m);

/* How many answers came from the file. */
unsigned ks_index_memo_loaded(const struct ks_index_memo *m);

/* True when key has an answer: *found says whether the name exists, *value its value. */
bool ks_index_memo_get(const struct ks_index_memo *m, const char *key, bool *found,
		       uint64_t *value);
/* Record an answer; false only when memory is short (the memo then stays as it was). */
bool ks_index_memo_put(struct ks_index_memo *m, const char *key, bool found, uint64_t value);

#endif
