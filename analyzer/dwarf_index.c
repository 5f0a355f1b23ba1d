#include "dwarf_index.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "debuginfo_internal.h"
#include "dwarf_scan.h"
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
	/* the scan: the header offset of the next unit to index, and how far that is */
	Dwarf_Off next;
	size_t info_size;
	unsigned units, units_libdw;
	bool started, done, nomem;
	struct ks_release release;
	/* the fast reader; NULL with KSTALL_DWARF_SCAN=libdw, or when the sections are not at hand */
	struct ks_scan_unit *scan;
	/* borrowed from the debuginfo */
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

/* The top-level DIEs of the unit whose header is at off. False only when memory runs out. */
static bool index_unit(struct part *p, Dwarf *dwarf, Dwarf_Off die_off)
{
	Dwarf_Die cu, child;

	if (!dwarf_offdie(dwarf, die_off, &cu) || dwarf_child(&cu, &child) != 0)
		return true;
	do {
		int tag = dwarf_tag(&child);
		char kind = kind_of(tag);
		const char *name;

		/* Tag first: most top-level DIEs are of no interest and cost nothing more. */
		if (!kind)
			continue;
		name = dwarf_diename(&child);
		/* A type met before (most are) needs no further look. */
		if ((name && part_has(p, kind, name)) || dwarf_hasattr(&child, DW_AT_declaration))
			continue;
		if ((tag == DW_TAG_enumeration_type && !add_enumerators(p, &child, name)) ||
		    (name && !part_add(p, kind, name, dwarf_dieoffset(&child))))
			return false;
	} while (dwarf_siblingof(&child, &child) == 0);
	return true;
}

/* add_enumerators, from the fast reader's DIEs. */
static enum ks_scan_result scan_enumerators(struct part *p, struct ks_scan_unit *su,
					     const struct ks_scan_die *type)
{
	uint64_t pos = type->children;
	struct ks_scan_die e;
	enum ks_scan_result r;
	bool first = true;

	if (!pos)
		return KS_SCAN_END;
	while ((r = ks_scan_die(su, &pos, &e)) == KS_SCAN_DIE) {
		if (!e.name)
			continue;
		if (first && !type->name && part_has(p, KS_IX_ENUMERATOR, e.name))
			return KS_SCAN_END;
		first = false;
		if (e.has_value && !part_add(p, KS_IX_ENUMERATOR, e.name, (uint64_t)e.value))
			return KS_SCAN_NOMEM;
	}
	return r;
}

/* index_unit with the fast reader: KS_SCAN_END when the unit is done. */
static enum ks_scan_result scan_unit(struct part *p, struct ks_scan_unit *su, Dwarf_Off header,
				     Dwarf_Off die_off)
{
	uint64_t pos;
	struct ks_scan_die d;
	enum ks_scan_result r = ks_scan_unit_open(su, header, die_off, &pos);

	if (r != KS_SCAN_DIE)
		return r;
	if (!pos)
		return KS_SCAN_END;
	while ((r = ks_scan_die(su, &pos, &d)) == KS_SCAN_DIE) {
		char kind = kind_of((int)d.tag);

		if (!kind || (d.name && part_has(p, kind, d.name)) || d.declaration)
			continue;
		if (d.tag == DW_TAG_enumeration_type && (r = scan_enumerators(p, su, &d)) != KS_SCAN_END)
			return r;
		if (d.name && !part_add(p, kind, d.name, d.offset))
			return KS_SCAN_NOMEM;
	}
	return r;
}

/*
 * One unit: by the fast reader, or by libdw where it cannot read the unit
 * (names it added before it stopped are added again, to the same values).
 */
static bool index_next(struct ks_dwarf_index *ix, Dwarf_Off header, Dwarf_Off die_off)
{
	if (ix->scan) {
		enum ks_scan_result r = scan_unit(&ix->all, ix->scan, header, die_off);

		if (r == KS_SCAN_END)
			return true;
		if (r == KS_SCAN_NOMEM)
			return false;
	}
	ix->units_libdw++;
	return index_unit(&ix->all, ix->dwarf, die_off);
}

/*
 * Index units in file order until key (NULL: any name at all) is known or
 * every unit is read. Taking units in order, a name's first definition is the
 * one kept, and a name met is final: the scan stops at the last name a run
 * asks for instead of reading every unit, and only a name that is not there
 * costs the whole pass.
 */
static bool scan_until(struct ks_dwarf_index *ix, const char *key)
{
	uint64_t value;

	if (!ix->started) {
		ks_release_init(ix->elf, &ix->release);
		ix->started = true;
	}
	while (!ix->done) {
		Dwarf_Off next;
		size_t hsize;

		if (dwarf_nextcu(ix->dwarf, ix->next, &next, &hsize, NULL, NULL, NULL) != 0) {
			ix->done = true;
			ks_release_upto(&ix->release, ix->next, true);
			break;
		}
		if (!index_next(ix, ix->next, ix->next + hsize)) {
			ix->nomem = ix->done = true;
			break;
		}
		ix->units++;
		ix->next = next;
		ks_release_upto(&ix->release, next, false);
		if (key ? ks_strmap_get(&ix->all.map, key, &value) : ix->all.map.count > 0) {
			/* the run goes on a while before its next new name: keep none of the pass's pages */
			ks_release_upto(&ix->release, next, true);
			return true;
		}
	}
	return false;
}

/*
 * The fast reader over the file's sections (.debug_info is info, of size),
 * unless KSTALL_DWARF_SCAN=libdw (the tests compare).
 */
static struct ks_scan_unit *open_scan(Elf *elf, const void *info, size_t info_size)
{
	const char *want = getenv("KSTALL_DWARF_SCAN");
	struct ks_dwarf_sections s = { .info = info, .info_size = info_size };
	const void *data;
	size_t size;
	uint64_t addr;

	if ((want && !strcmp(want, "libdw")) || !info)
		return NULL;
	if (!ks_elf_section(elf, ".debug_abbrev", &data, &s.abbrev_size, &addr))
		return NULL;
	s.abbrev = data;
	if (ks_elf_section(elf, ".debug_str", &data, &size, &addr)) {
		s.str = data;
		s.str_size = size;
	}
	if (ks_elf_section(elf, ".debug_line_str", &data, &size, &addr)) {
		s.line_str = data;
		s.line_str_size = size;
	}
	return ks_scan_unit_new(&s);
}

struct ks_error *ks_dwarf_index_open(Elf *elf, Dwarf *dwarf, const char *path,
				     const char *memo_path, const char *build_id, uint64_t stamp,
				     struct ks_dwarf_index **ret)
{
	struct ks_dwarf_index *ix = calloc(1, sizeof(*ix));
	struct ks_error *err;
	const void *info = NULL;
	uint64_t addr;

	if (!ix)
		return &ks_error_nomem;
	*ix = (struct ks_dwarf_index){ .elf = elf, .dwarf = dwarf, .path = path };
	if (!ks_elf_section(elf, ".debug_info", &info, &ix->info_size, &addr))
		info = NULL;
	ix->scan = open_scan(elf, info, ix->info_size);
	ix->memo = ks_index_memo_load(memo_path, build_id, stamp);
	if (!ix->memo) {
		free(ix);
		return &ks_error_nomem;
	}
	/* No answers kept: a vmlinux without types fails at open, not at the first look-up. */
	if (!ks_index_memo_loaded(ix->memo) && !scan_until(ix, NULL)) {
		err = ix->nomem ? &ks_error_nomem
				: ks_error_create(KS_ERR_LOOKUP, "%s has no DWARF types", path);
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
	ks_scan_unit_free(ix->scan);
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
	/* A name the memo does not hold: read on until it is met, or to the end. */
	found = ks_strmap_get(&ix->all.map, key, value) ||
		(scan_until(ix, key) && ks_strmap_get(&ix->all.map, key, value));
	if (ix->nomem)
		return false;
	ks_index_memo_put(ix->memo, key, found, found ? *value : 0);
	return found;
}

bool ks_dwarf_index_built(const struct ks_dwarf_index *ix, unsigned *units, unsigned *units_libdw,
			  uint64_t *read, uint64_t *size)
{
	*units = ix->units;
	*units_libdw = ix->units_libdw;
	*read = ix->next;
	*size = ix->info_size;
	return ix->started;
}

unsigned ks_dwarf_index_memo_answers(const struct ks_dwarf_index *ix)
{
	return ks_index_memo_loaded(ix->memo);
}

bool ks_dwarf_index_each(struct ks_dwarf_index *ix,
			 void (*fn)(void *arg, const char *key, uint64_t value), void *arg)
{
	scan_until(ix, "");
	if (ix->nomem)
		return false;
	for (size_t i = 0; i < ix->all.map.cap; i++)
		if (ix->all.map.keys[i])
			fn(arg, ix->all.map.keys[i], ix->all.map.values[i]);
	return true;
}
