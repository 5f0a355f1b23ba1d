#include "dwarf_index.h"

#include <dwarf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "debuginfo_internal.h"
#include "dwarf_units.h"
#include "hashmap.h"
#include "index_memo.h"

/* Names longer than this are not indexed (no C identifier in the kernel comes near). */
#define MAX_NAME 250

/* What one pass over a range of units collects: "k:name" keys and their values. */
struct part {
	struct ks_strmap map;
	/* key storage: chunks that never move, each starting with a pointer to the previous one */
	char *chunks;
	size_t len, cap;
};

struct ks_dwarf_index {
	struct part all;
	bool built, build_failed;
	/* borrowed from the debuginfo, for a build the memo makes late */
	int fd;
	Elf *elf;
	Dwarf *dwarf;
	const char *path;
	struct ks_index_memo *memo;
};

static void part_free(struct part *p)
{
	ks_strmap_free(&p->map);
	while (p->chunks) {
		char *prev;

		memcpy(&prev, p->chunks, sizeof(char *));
		free(p->chunks);
		p->chunks = prev;
	}
}

static bool make_key(char kind, const char *name, char *buf, size_t size)
{
	size_t len = strlen(name);

	if (len > MAX_NAME || len + 3 > size)
		return false;
	buf[0] = kind;
	buf[1] = ':';
	memcpy(buf + 2, name, len + 1);
	return true;
}

static bool part_has(const struct part *p, char kind, const char *name)
{
	char key[MAX_NAME + 3];
	uint64_t old;

	return make_key(kind, name, key, sizeof(key)) && ks_strmap_get(&p->map, key, &old);
}

static const char *intern(struct part *p, const char *key)
{
	size_t len = strlen(key) + 1;
	char *copy;

	if (p->len + len > p->cap) {
		size_t cap = (1u << 20) + sizeof(char *);
		char *chunk = malloc(cap);

		if (!chunk)
			return NULL;
		memcpy(chunk, &p->chunks, sizeof(char *));
		p->chunks = chunk;
		p->len = sizeof(char *);
		p->cap = cap;
	}
	copy = p->chunks + p->len;
	memcpy(copy, key, len);
	p->len += len;
	return copy;
}

/* Keep the first value a name gets. False only when memory runs out. */
static bool part_add(struct part *p, char kind, const char *name, uint64_t value)
{
	char key[MAX_NAME + 3];
	const char *stored;
	uint64_t old;

	if (!make_key(kind, name, key, sizeof(key)) || ks_strmap_get(&p->map, key, &old))
		return true;
	stored = intern(p, key);
	return stored && ks_strmap_put(&p->map, stored, value, false);
}

/*
 * The enumerators of an enum type. Every unit that includes a header repeats
 * its enums: one whose name, or (anonymous) whose first enumerator, is indexed
 * already adds nothing and is not read again.
 */
static bool add_enumerators(struct part *p, Dwarf_Die *type, const char *name)
{
	Dwarf_Die e;
	bool first = true;

	if ((name && part_has(p, KS_IX_ENUM, name)) || dwarf_child(type, &e) != 0)
		return true;
	do {
		Dwarf_Attribute attr;
		Dwarf_Sword sv;
		const char *en = dwarf_diename(&e);

		if (!en)
			continue;
		if (first && !name && part_has(p, KS_IX_ENUMERATOR, en))
			return true;
		first = false;
		if (!dwarf_attr(&e, DW_AT_const_value, &attr) || dwarf_formsdata(&attr, &sv) != 0)
			continue;
		if (!part_add(p, KS_IX_ENUMERATOR, en, (uint64_t)sv))
			return false;
	} while (dwarf_siblingof(&e, &e) == 0);
	return true;
}

static char kind_of(int tag)
{
	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		return KS_IX_AGGREGATE;
	case DW_TAG_typedef:
		return KS_IX_TYPEDEF;
	case DW_TAG_enumeration_type:
		return KS_IX_ENUM;
	case DW_TAG_variable:
		return KS_IX_VARIABLE;
	default:
		return 0;
	}
}

/* One half of the work: the units that start in [from, to). */
struct job {
	Elf *elf;
	Dwarf *dwarf;
	Dwarf_Off from, to;
	struct part part;
	bool nomem;
};

static void index_units(struct job *j)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	struct ks_release rel;

	ks_release_init(j->elf, &rel);
	while (off < j->to && dwarf_nextcu(j->dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;

		if (off < j->from || !dwarf_offdie(j->dwarf, off + hsize, &cu) ||
		    dwarf_child(&cu, &child) != 0) {
			off = next;
			continue;
		}
		do {
			int tag = dwarf_tag(&child);
			char kind = kind_of(tag);
			const char *name;

			/* Tag first: most top-level DIEs are of no interest and cost nothing more. */
			if (!kind)
				continue;
			name = dwarf_diename(&child);
			/* A type met before (most are) needs no further look. */
			if ((name && part_has(&j->part, kind, name)) ||
			    dwarf_hasattr(&child, DW_AT_declaration))
				continue;
			if ((tag == DW_TAG_enumeration_type && !add_enumerators(&j->part, &child, name)) ||
			    (name && !part_add(&j->part, kind, name, dwarf_dieoffset(&child)))) {
				j->nomem = true;
				return;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
		off = next;
		ks_release_upto(&rel, off, false);
	}
	ks_release_upto(&rel, off, true);
}

static void *index_thread(void *arg)
{
	index_units(arg);
	return NULL;
}

/* Add what later units defined and earlier ones did not; the keys change owner. */
static bool merge(struct part *into, struct part *from)
{
	for (size_t i = 0; i < from->map.cap; i++) {
		uint64_t old;

		if (from->map.keys[i] && !ks_strmap_get(&into->map, from->map.keys[i], &old) &&
		    !ks_strmap_put(&into->map, from->map.keys[i], from->map.values[i], false))
			return false;
	}
	/* Append from's chunk list to into's: its oldest chunk points at into's newest. */
	if (from->chunks) {
		char *oldest = from->chunks, *prev;

		for (;;) {
			memcpy(&prev, oldest, sizeof(char *));
			if (!prev)
				break;
			oldest = prev;
		}
		memcpy(oldest, &into->chunks, sizeof(char *));
		into->chunks = from->chunks;
		into->len = into->cap = 0; /* new keys go to a fresh chunk */
		from->chunks = NULL;
	}
	ks_strmap_free(&from->map);
	return true;
}

static struct ks_error *build(struct ks_dwarf_index *ix)
{
	int fd = ix->fd;
	Elf *elf = ix->elf;
	Dwarf *dwarf = ix->dwarf;
	const char *path = ix->path;
	const void *data;
	size_t size = 0;
	uint64_t addr;
	struct job first = { .elf = elf, .dwarf = dwarf, .from = 0, .to = UINT64_MAX };
	struct job second = { .to = UINT64_MAX };
	const char *want = getenv("KSTALL_INDEX_THREADS"), *all = getenv("KSTALL_THREADS");
	pthread_t thread;
	bool threaded = false;

	ks_elf_section(elf, ".debug_info", &data, &size, &addr);
	second.from = size / 2;
	/*
	 * The second thread reads through handles of its own: libdw's are not shared
	 * safely. KSTALL_INDEX_THREADS=1 or KSTALL_THREADS=1 keeps to one (the
	 * benchmark and the tests compare).
	 */
	if (size > (1u << 20) && !(want && !strcmp(want, "1")) && !(all && !strcmp(all, "1")) &&
	    (second.elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) &&
	    (second.dwarf = dwarf_begin_elf(second.elf, DWARF_C_READ, NULL)) &&
	    !pthread_create(&thread, NULL, index_thread, &second)) {
		threaded = true;
		first.to = second.from;
	}
	index_units(&first);
	if (threaded) {
		pthread_join(thread, NULL);
		first.nomem |= second.nomem || !merge(&first.part, &second.part);
	}
	part_free(&second.part);
	if (second.dwarf)
		dwarf_end(second.dwarf);
	if (second.elf)
		elf_end(second.elf);
	if (first.nomem) {
		part_free(&first.part);
		return &ks_error_nomem;
	}
	if (!first.part.map.count) {
		part_free(&first.part);
		return ks_error_create(KS_ERR_LOOKUP, "%s has no DWARF types", path);
	}
	ix->all = first.part;
	ix->built = true;
	return NULL;
}

struct ks_error *ks_dwarf_index_open(int fd, Elf *elf, Dwarf *dwarf, const char *path,
				     const char *memo_path, const char *build_id, uint64_t stamp,
				     struct ks_dwarf_index **ret)
{
	struct ks_dwarf_index *ix = calloc(1, sizeof(*ix));
	struct ks_error *err;

	if (!ix)
		return &ks_error_nomem;
	*ix = (struct ks_dwarf_index){ .fd = fd, .elf = elf, .dwarf = dwarf, .path = path };
	ix->memo = ks_index_memo_load(memo_path, build_id, stamp);
	if (!ix->memo) {
		free(ix);
		return &ks_error_nomem;
	}
	/* No answers kept: index now, so that a vmlinux without types fails at open. */
	if (!ks_index_memo_loaded(ix->memo) && (err = build(ix))) {
		ks_dwarf_index_free(ix);
		return err;
	}
	*ret = ix;
	return NULL;
}

void ks_dwarf_index_free(struct ks_dwarf_index *ix)
{
	if (!ix)
		return;
	ks_index_memo_destroy(ix->memo);
	part_free(&ix->all);
	free(ix);
}

bool ks_dwarf_index_get(struct ks_dwarf_index *ix, char kind, const char *name, uint64_t *value)
{
	char key[MAX_NAME + 3];
	bool found;

	if (!make_key(kind, name, key, sizeof(key)))
		return false;
	if (ks_index_memo_get(ix->memo, key, &found, value))
		return found;
	/* A name the memo does not hold: the whole index, once. */
	if (!ix->built && !ix->build_failed) {
		struct ks_error *err = build(ix);

		ix->build_failed = err != NULL;
		ks_error_destroy(err);
	}
	if (!ix->built)
		return false;
	found = ks_strmap_get(&ix->all.map, key, value);
	ks_index_memo_put(ix->memo, key, found, found ? *value : 0);
	return found;
}

bool ks_dwarf_index_built(const struct ks_dwarf_index *ix)
{
	return ix->built;
}

unsigned ks_dwarf_index_memo_answers(const struct ks_dwarf_index *ix)
{
	return ks_index_memo_loaded(ix->memo);
}
