#include "dwarf/dwarf_units.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dwarf/elf.h"
#include "dump/diskdump.h"
#include "base/search.h"

/* An address range of .debug_aranges and the unit DIE it belongs to. */
struct range {
	uint64_t lo, hi;
	Dwarf_Off die;
};

/* A unit's header offset and its unit DIE's offset. */
struct unit {
	Dwarf_Off header, die;
};

struct ks_dwarf_units {
	struct range *ranges;
	size_t nranges;
};

void ks_release_init(Elf *elf, struct ks_release *r)
{
	const void *data = NULL;
	size_t fsize, size = 0;
	uint64_t addr;
	const char *raw = elf_rawfile(elf, &fsize);

	memset(r, 0, sizeof(*r));
	if (!raw || !ks_elf_section(elf, ".debug_info", &data, &size, &addr) || !size ||
	    (const char *)data < raw || (const char *)data + size > raw + fsize)
		return;
	r->start = data;
	r->end = r->start + size;
	r->done = ((uintptr_t)r->start + 4095) & ~(uintptr_t)4095;
}

void ks_release_upto(struct ks_release *r, Dwarf_Off off, bool last)
{
	uintptr_t upto;

	if (!r->start)
		return;
	if (off > (Dwarf_Off)(r->end - r->start))
		off = (Dwarf_Off)(r->end - r->start);
	upto = ((uintptr_t)r->start + off) & ~(uintptr_t)4095;
	if (upto <= r->done || (!last && upto < r->done + (4u << 20)))
		return;
	madvise((void *)r->done, upto - r->done, MADV_DONTNEED);
	r->done = upto;
}

/* Every unit, made known to libdw in file order (dwarf_offdie interns it), sorted by header offset. */
static struct unit *walk_units(Elf *elf, Dwarf *dwarf, size_t *count)
{
	struct unit *units = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	struct ks_release rel;

	ks_release_init(elf, &rel);
	while (dwarf_nextcu(dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;

		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 1024;
			struct unit *nu = realloc(units, ncap * sizeof(*nu));

			if (!nu)
				break;
			units = nu;
			cap = ncap;
		}
		if (dwarf_offdie(dwarf, off + hsize, &cu))
			units[n++] = (struct unit){ off, off + hsize };
		off = next;
		ks_release_upto(&rel, off, false);
	}
	ks_release_upto(&rel, off, true);
	*count = n;
	return units;
}

static uint64_t unit_header(const void *units, size_t i)
{
	return ((const struct unit *)units)[i].header;
}

static const struct unit *unit_of(const struct unit *units, size_t n, Dwarf_Off header)
{
	size_t at = ks_count_le(n, header, unit_header, units);

	return at && units[at - 1].header == header ? &units[at - 1] : NULL;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool add_range(struct ks_dwarf_units *u, size_t *cap, struct range r)
{
	if (u->nranges == *cap) {
		size_t ncap = *cap ? 2 * *cap : 1024;
		struct range *n = realloc(u->ranges, ncap * sizeof(*n));

		if (!n)
			return false;
		u->ranges = n;
		*cap = ncap;
	}
	u->ranges[u->nranges++] = r;
	return true;
}

/*
 * .debug_aranges, DWARF 2 to 5: sets of (address, length) pairs, each set
 * naming its unit by header offset. Anything unexpected ends the read: what
 * was read stays, the rest is libdw's to answer.
 */
static void read_aranges(struct ks_dwarf_units *u, Elf *elf, const struct unit *units, size_t n)
{
	const void *data;
	const unsigned char *p, *end;
	size_t size = 0, cap = 0;
	uint64_t addr;

	if (!ks_elf_section(elf, ".debug_aranges", &data, &size, &addr))
		return;
	p = data;
	end = p + size;
	while (end - p >= 16) {
		uint64_t len = ks_diskdump_le(p, 4), header;
		const unsigned char *unit_start = p, *set, *set_end;
		size_t offsize = 4, hdr;
		const struct unit *unit;

		p += 4;
		if (len == 0xffffffffu) {
			len = ks_diskdump_le(p, 8);
			p += 8;
			offsize = 8;
		}
		if (len > (uint64_t)(end - p) || len < 2 + offsize + 2)
			return;
		set = p;
		set_end = p + len;
		p = set_end;
		header = ks_diskdump_le(set + 2, offsize);
		hdr = (size_t)(set - unit_start) + 2 + offsize + 2;
		/* x86_64: 8-byte addresses, no segments; tuples start 16-aligned from the set. */
		if (set[2 + offsize] != 8 || set[3 + offsize] != 0 || !(unit = unit_of(units, n, header)))
			continue;
		for (const unsigned char *t = unit_start + ((hdr + 15) & ~(size_t)15); t + 16 <= set_end;
		     t += 16) {
			uint64_t lo = ks_diskdump_le(t, 8), length = ks_diskdump_le(t + 8, 8);

			if (!lo && !length)
				break;
			if (length && lo + length > lo &&
			    !add_range(u, &cap, (struct range){ lo, lo + length, unit->die }))
				return;
		}
	}
}

struct ks_dwarf_units *ks_dwarf_units_load(Elf *elf, Dwarf *dwarf)
{
	struct ks_dwarf_units *u = calloc(1, sizeof(*u));
	size_t n = 0;
	struct unit *units;

	if (!u)
		return NULL;
	units = walk_units(elf, dwarf, &n);
	if (units)
		read_aranges(u, elf, units, n);
	free(units);
	ks_sort(u->ranges, u->nranges, sizeof(*u->ranges), range_cmp);
	return u;
}

void ks_dwarf_units_destroy(struct ks_dwarf_units *u)
{
	if (!u)
		return;
	free(u->ranges);
	free(u);
}

static uint64_t range_start(const void *ranges, size_t i)
{
	return ((const struct range *)ranges)[i].lo;
}

bool ks_dwarf_units_at(const struct ks_dwarf_units *u, Dwarf *dwarf, uint64_t pc, Dwarf_Die *cu)
{
	/* The last range starting at or below pc. */
	size_t lo = ks_count_le(u->nranges, pc, range_start, u->ranges);

	return lo && pc < u->ranges[lo - 1].hi && dwarf_offdie(dwarf, u->ranges[lo - 1].die, cu);
}
