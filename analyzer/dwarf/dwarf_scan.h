/*
 * DIEs read straight from .debug_info, for the one walk libdw is slow at: the
 * name index's pass over the top-level DIEs of many units. libdw looks up
 * each DIE's abbreviation through a locked hash table and allocates for every
 * unit it meets; here a unit's abbreviations are one array, reused, and a DIE
 * is decoded in one go. Only what the index needs is decoded (tag, name,
 * declaration flag, constant value, where the children and the next sibling
 * are); everything else is skipped by its form. Whatever this reader does not
 * know (a form, a unit type, a string index) it says so, and the caller
 * reads that unit with libdw: no answer depends on it.
 */
#ifndef KSTALL_DWARF_SCAN_H
#define KSTALL_DWARF_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The sections a scan reads, as mapped or copied by libelf; absent ones are NULL. */
struct ks_dwarf_sections {
	const unsigned char *info, *abbrev, *str, *line_str;
	size_t info_size, abbrev_size, str_size, line_str_size;
};

/* What a scan of one unit keeps: its header and abbreviation table. Reused unit after unit. */
struct ks_scan_unit;

struct ks_scan_unit *ks_scan_unit_new(const struct ks_dwarf_sections *s);
void ks_scan_unit_free(struct ks_scan_unit *u);

enum ks_scan_result {
	KS_SCAN_NOMEM = -2,
	KS_SCAN_UNREADABLE = -1, /* not read here: the caller asks libdw */
	KS_SCAN_END = 0,	 /* the end of a list of siblings */
	KS_SCAN_DIE = 1,
};

/*
 * Ready the unit whose header is at section offset header and whose unit DIE
 * libdw puts at die (checked: both readers must agree where the unit starts).
 * *children: where the unit DIE's children start, 0 when it has none.
 */
enum ks_scan_result ks_scan_unit_open(struct ks_scan_unit *u, uint64_t header, uint64_t die,
				      uint64_t *children);

/*
 * Where the unit whose header is at section offset header has its unit DIE
 * and where the next unit starts, without libdw (for a pass on a thread of its
 * own). KS_SCAN_END: header is the end of .debug_info; KS_SCAN_UNREADABLE: a
 * unit this reader leaves to libdw, or no unit at all.
 */
enum ks_scan_result ks_scan_unit_header(struct ks_scan_unit *u, uint64_t header, uint64_t *die,
					uint64_t *next);

struct ks_scan_die {
	uint64_t offset; /* in .debug_info, as libdw's dwarf_dieoffset */
	unsigned tag;
	/* DW_AT_name, or that of the DIE its DW_AT_specification or DW_AT_abstract_origin names, as dwarf_diename */
	const char *name;
	/*
	 * Where the DIE's own DW_AT_name is kept, when in a string section (less
	 * than 2^63, not 0): one key, one string (a cheap test for a name met
	 * before). 0 for a name in the DIE or through a link.
	 */
	uint64_t name_key;
	bool declaration; /* DW_AT_declaration on the DIE itself */
	bool has_value;	  /* DW_AT_const_value of a constant form, signed as dwarf_formsdata */
	int64_t value;
	uint64_t children; /* where the children start, 0 for none */
};

/*
 * Decode only DIEs of these tags: those of others come back from ks_scan_die
 * with their offset and tag alone (no name, value or children), stepped over
 * by their sizes, which is most of a pass's work saved. Unset: every DIE whole.
 */
void ks_scan_want(struct ks_scan_unit *u, const unsigned *tags, size_t n);

/*
 * The DIE at section offset *pos of the open unit. On KS_SCAN_DIE, *pos moves
 * to its next sibling; on KS_SCAN_END (the null entry that ends a list),
 * past that entry.
 */
enum ks_scan_result ks_scan_die(struct ks_scan_unit *u, uint64_t *pos, struct ks_scan_die *die);

#endif
