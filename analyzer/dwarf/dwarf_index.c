#include "dwarf/dwarf_index.h"

#include <dwarf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf/elf.h"
#include "dwarf/dwarf_scan.h"
#include "dwarf/dwarf_units.h"
#include "base/hashmap.h"
#include "dwarf/index_memo.h"
#include "base/threads.h"
#include "kstall/settings.h"

/* Names longer than this are not indexed (no C identifier in the kernel comes near). */
#define MAX_NAME 250

/* What one pass over a range of units collects: "k:name" keys and their values. */
struct part {
	struct ks_strmap map;
	/* key storage: chunks that never move, each starting with a pointer to the previous one */
	char *chunks;
	size_t len, cap;
	/* while the pass runs on its own thread: held to change map, and by others to read it */
	pthread_mutex_t *lock;
	/* the pass's own: kind and name_key (dwarf_scan.h) of names it has in map */
	struct ks_u64map seen;
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
	/*
	 * The pass on a second thread, in a run with no kept answers: it starts at
	 * open, while the caller loads symbols and units, and look-ups wait for it
	 * to meet their names. While it runs it owns the scan, the release, next,
	 * units and done; lock guards them and the map's changes.
	 */
	pthread_mutex_t lock;
	pthread_cond_t moved;
	pthread_t helper;
	bool helper_started;	     /* the caller's */
	bool helper_running, helper_stop; /* under lock */
	unsigned helper_units;
};

static void part_free(struct part *p)
{
	ks_strmap_free(&p->map);
	ks_u64map_free(&p->seen);
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
	if (!stored)
		return false;
	if (!p->lock)
		return ks_strmap_put(&p->map, stored, value, false);
	pthread_mutex_lock(p->lock);
	bool ok = ks_strmap_put(&p->map, stored, value, false);
	pthread_mutex_unlock(p->lock);
	return ok;
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
		/* most names repeat (every unit has the headers' types), and by the same string */
		uint64_t seen = d.name_key ? (uint64_t)kind << 56 ^ d.name_key : 0;

		if (!kind || d.declaration || (seen && ks_u64map_get(&p->seen, seen)))
			continue;
		if (d.name && part_has(p, kind, d.name)) {
			if (seen && !ks_u64map_put(&p->seen, seen, p))
				return KS_SCAN_NOMEM;
			continue;
		}
		if (d.tag == DW_TAG_enumeration_type && (r = scan_enumerators(p, su, &d)) != KS_SCAN_END)
			return r;
		if (d.name && !part_add(p, kind, d.name, d.offset))
			return KS_SCAN_NOMEM;
		if (d.name && seen && !ks_u64map_put(&p->seen, seen, p))
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
 * scan_until on the second thread, with no key: units in file order until it
 * is asked to stop, memory runs out, or a unit only libdw reads (libdw is not
 * the thread's to call: the caller's scan_until goes on from there).
 */
static void *pass_thread(void *arg)
{
	struct ks_dwarf_index *ix = arg;
	Dwarf_Off at = ix->next;
	bool stop = false;

	while (!stop) {
		uint64_t die = 0, next = 0;
		enum ks_scan_result head = ks_scan_unit_header(ix->scan, at, &die, &next);
		enum ks_scan_result r =
			head == KS_SCAN_DIE ? scan_unit(&ix->all, ix->scan, at, die) : head;

		if (head == KS_SCAN_DIE && r == KS_SCAN_END)
			ks_release_upto(&ix->release, next, false);
		pthread_mutex_lock(&ix->lock);
		if (head == KS_SCAN_END) {
			ix->done = true;
			stop = true;
		} else if (r == KS_SCAN_END) {
			ix->next = at = next;
			ix->units++;
			ix->helper_units++;
		} else {
			ix->nomem = ix->done = r == KS_SCAN_NOMEM;
			stop = true;
		}
		stop = stop || ix->helper_stop;
		if (stop)
			ix->helper_running = false;
		pthread_cond_broadcast(&ix->moved);
		pthread_mutex_unlock(&ix->lock);
	}
	/* the caller goes on a while before its next new name, if any: keep none of the pass's pages */
	ks_release_upto(&ix->release, at, true);
	return NULL;
}

static void start_helper(struct ks_dwarf_index *ix)
{
	if (!ix->scan || !ks_threads_second())
		return;
	if (pthread_mutex_init(&ix->lock, NULL))
		return;
	if (pthread_cond_init(&ix->moved, NULL)) {
		pthread_mutex_destroy(&ix->lock);
		return;
	}
	ks_release_init(ix->elf, &ix->release);
	ix->started = true;
	ix->all.lock = &ix->lock;
	ix->helper_running = true;
	if (pthread_create(&ix->helper, NULL, pass_thread, ix)) {
		ix->all.lock = NULL;
		ix->helper_running = false;
		pthread_cond_destroy(&ix->moved);
		pthread_mutex_destroy(&ix->lock);
		return;
	}
	ix->helper_started = true;
}

/* Stop the second thread: what it owned is the caller's again. */
void ks_dwarf_index_settle(struct ks_dwarf_index *ix)
{
	if (!ix->helper_started)
		return;
	pthread_mutex_lock(&ix->lock);
	ix->helper_stop = true;
	pthread_mutex_unlock(&ix->lock);
	pthread_join(ix->helper, NULL);
	ix->helper_started = false;
	ix->all.lock = NULL;
	/* a help to the pass only (a later stretch of it grows it again): not kept through the run */
	ks_u64map_free(&ix->all.seen);
	pthread_cond_destroy(&ix->moved);
	pthread_mutex_destroy(&ix->lock);
}

/* key's value, waiting while the second thread may still meet it (key NULL: any name). */
static bool wait_for(struct ks_dwarf_index *ix, const char *key, uint64_t *value)
{
	bool found;

	if (!ix->helper_started)
		return key ? ks_strmap_get(&ix->all.map, key, value) : ix->all.map.count > 0;
	pthread_mutex_lock(&ix->lock);
	while (!(found = key ? ks_strmap_get(&ix->all.map, key, value) : ix->all.map.count > 0) &&
	       ix->helper_running)
		pthread_cond_wait(&ix->moved, &ix->lock);
	pthread_mutex_unlock(&ix->lock);
	/* not met, and the thread has stopped: the rest of the pass is the caller's */
	if (!found)
		ks_dwarf_index_settle(ix);
	return found;
}

/* The fast reader over the file's sections (.debug_info is info, of size). */
static struct ks_scan_unit *open_scan(Elf *elf, const void *info, size_t info_size)
{
	struct ks_dwarf_sections s = { .info = info, .info_size = info_size };
	const void *data;
	size_t size;
	uint64_t addr;

	if (!info)
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
	struct ks_scan_unit *u = ks_scan_unit_new(&s);
	/* what kind_of indexes, and the enumerators of enums */
	unsigned tags[0x101], n = 0;

	/* kind_of's tags are all below 0x100 (DW_TAG_lo_user is 0x4080) */
	for (unsigned tag = 0; tag < 0x100; tag++)
		if (kind_of((int)tag))
			tags[n++] = tag;
	tags[n++] = DW_TAG_enumerator;
	if (u)
		ks_scan_want(u, tags, n);
	return u;
}

struct ks_error *ks_dwarf_index_open(Elf *elf, Dwarf *dwarf, const char *path,
				     const char *memo_path, const char *build_id, uint64_t stamp,
				     const struct ks_settings *settings, struct ks_dwarf_index **ret)
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
	ix->scan = settings && settings->dwarf_by_libdw ? NULL : open_scan(elf, info, ix->info_size);
	ix->memo = ks_index_memo_load(memo_path, build_id, stamp);
	if (!ix->memo) {
		free(ix);
		return &ks_error_nomem;
	}
	/*
	 * No answers kept: the pass starts now, on a second thread where there is
	 * one, and a vmlinux without types fails at open, not at the first look-up.
	 */
	if (!ks_index_memo_loaded(ix->memo) && !(settings && settings->one_thread))
		start_helper(ix);
	if (!ks_index_memo_loaded(ix->memo) && !wait_for(ix, NULL, NULL) && !scan_until(ix, NULL)) {
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
	ks_dwarf_index_settle(ix);
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
	found = wait_for(ix, key, value) ||
		(scan_until(ix, key) && ks_strmap_get(&ix->all.map, key, value));
	if (ix->nomem)
		return false;
	ks_index_memo_put(ix->memo, key, found, found ? *value : 0);
	return found;
}

bool ks_dwarf_index_built(struct ks_dwarf_index *ix, unsigned *units, unsigned *units_libdw,
			  unsigned *units_helper, uint64_t *read, uint64_t *size)
{
	ks_dwarf_index_settle(ix);
	*units_helper = ix->helper_units;
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
	ks_dwarf_index_settle(ix);
	scan_until(ix, "");
	if (ix->nomem)
		return false;
	for (size_t i = 0; i < ix->all.map.cap; i++)
		if (ix->all.map.keys[i])
			fn(arg, ix->all.map.keys[i], ix->all.map.values[i]);
	return true;
}
