#include "dwarf/dwarf_scan.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* Codes above this are not kept in the table (compilers number abbreviations from 1, densely). */
#define MAX_CODE 65536
/* How many DW_AT_specification / DW_AT_abstract_origin links a name is followed through, as libdw. */
#define MAX_CHAIN 16
/* How deep a subtree without DW_AT_sibling is skipped. */
#define MAX_DEPTH 256

struct spec {
	uint32_t attr, form;
	int64_t implicit;
	/* the value's bytes in the unit (plan_skip), 0 with variable set when they are in the data */
	uint8_t size;
	bool variable;
};

struct abbrev {
	uint32_t tag, first, count; /* specs[first .. first + count) */
	bool children, defined;
	/*
	 * For stepping over a DIE of a tag the caller does not want: the bytes of
	 * its attributes when every form has a size fixed in the unit, or -1; where
	 * the value of its DW_AT_sibling is when every form before it has, or -1.
	 */
	int32_t fixed_bytes, sibling_at;
	uint32_t sibling_form;
};

/* Tags (below this) whose DIEs ks_scan_die decodes whole: a bit each. */
#define MAX_WANTED_TAG 256

struct ks_scan_unit {
	struct ks_dwarf_sections s;
	/* the open unit: [start, end) of .debug_info */
	uint64_t start, end;
	unsigned version, offset_size, address_size;
	/* its abbreviations, and where they were read from (units may share a table) */
	uint64_t abbrev_offset;
	bool abbrev_valid;
	struct abbrev *abbrevs;
	size_t nabbrevs, abbrevs_cap;
	struct spec *specs;
	size_t nspecs, specs_cap;
	/* the sizes the table's fixed_bytes and sibling_at were worked out for */
	unsigned abbrev_offset_size, abbrev_address_size, abbrev_version;
	/* the tags the caller wants whole; all when none were set */
	bool filter;
	uint64_t wanted[MAX_WANTED_TAG / 64];
};

/* A bounded reader: every read checks the end, and a failed one leaves ok false. */
struct cursor {
	const unsigned char *p, *end;
	bool ok;
};

static uint64_t fixed(struct cursor *c, unsigned n)
{
	uint64_t v = 0;

	if ((size_t)(c->end - c->p) < n) {
		c->ok = false;
		c->p = c->end;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	/* most are one byte: abbreviation codes, small constants, short expressions */
	if (c->p < c->end && !(*c->p & 0x80))
		return *c->p++;
	while (c->p < c->end) {
		unsigned char b = *c->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	c->ok = false;
	return 0;
}

static int64_t sleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (c->p < c->end) {
		unsigned char b = *c->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << shift;
			return (int64_t)v;
		}
	}
	c->ok = false;
	return 0;
}

static void skip(struct cursor *c, uint64_t n)
{
	if ((uint64_t)(c->end - c->p) < n) {
		c->ok = false;
		c->p = c->end;
		return;
	}
	c->p += n;
}

struct ks_scan_unit *ks_scan_unit_new(const struct ks_dwarf_sections *s)
{
	struct ks_scan_unit *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->s = *s;
	if (u->s.str && (!u->s.str_size || u->s.str[u->s.str_size - 1]))
		u->s.str = NULL;
	if (u->s.line_str && (!u->s.line_str_size || u->s.line_str[u->s.line_str_size - 1]))
		u->s.line_str = NULL;
	return u;
}

void ks_scan_unit_free(struct ks_scan_unit *u)
{
	if (!u)
		return;
	free(u->abbrevs);
	free(u->specs);
	free(u);
}

static bool grow(void **array, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 256;
	void *n;

	if (need <= *cap)
		return true;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*array, ncap * size);
	if (!n)
		return false;
	*array = n;
	*cap = ncap;
	return true;
}

/* The byte size of a form whose size is the same in every unit; 0 for the others. */
static unsigned fixed_size(uint64_t form)
{
	switch (form) {
	case DW_FORM_flag:
	case DW_FORM_data1:
	case DW_FORM_ref1:
	case DW_FORM_addrx1:
		return 1;
	case DW_FORM_data2:
	case DW_FORM_ref2:
	case DW_FORM_addrx2:
		return 2;
	case DW_FORM_addrx3:
		return 3;
	case DW_FORM_data4:
	case DW_FORM_ref4:
	case DW_FORM_addrx4:
		return 4;
	case DW_FORM_data8:
	case DW_FORM_ref8:
	case DW_FORM_ref_sig8:
		return 8;
	case DW_FORM_data16:
		return 16;
	default:
		return 0;
	}
}

/*
 * The byte size of a form in the open unit: the fixed sizes, and those set by
 * the unit's offset and address sizes; 0 with *zero for a form with no bytes;
 * 0 for one whose size is in the data.
 */
static unsigned unit_size(const struct ks_scan_unit *u, uint64_t form, bool *zero)
{
	*zero = form == DW_FORM_flag_present || form == DW_FORM_implicit_const;
	switch (form) {
	case DW_FORM_strp:
	case DW_FORM_line_strp:
	case DW_FORM_sec_offset:
		return u->offset_size;
	case DW_FORM_addr:
		return u->address_size;
	case DW_FORM_ref_addr:
		return u->version <= 2 ? u->address_size : u->offset_size;
	default:
		return fixed_size(form);
	}
}

static void plan_skip(struct ks_scan_unit *u, struct abbrev *a)
{
	uint32_t at = 0;
	bool fixed = true;

	a->fixed_bytes = a->sibling_at = -1;
	a->sibling_form = 0;
	for (uint32_t i = 0; i < a->count; i++) {
		struct spec *sp = &u->specs[a->first + i];
		bool zero;
		unsigned size = unit_size(u, sp->form, &zero);

		sp->size = (uint8_t)size;
		sp->variable = !size && !zero;

		if (sp->attr == DW_AT_sibling && fixed && a->sibling_at < 0 &&
		    (sp->form == DW_FORM_ref1 || sp->form == DW_FORM_ref2 ||
		     sp->form == DW_FORM_ref4 || sp->form == DW_FORM_ref8)) {
			a->sibling_at = (int32_t)at;
			a->sibling_form = sp->form;
		}
		if (!size && !zero)
			fixed = false;
		at += size;
		if (at > INT32_MAX)
			return;
	}
	if (fixed)
		a->fixed_bytes = (int32_t)at;
}

static enum ks_scan_result read_abbrevs(struct ks_scan_unit *u, uint64_t offset)
{
	struct cursor c;

	if (u->abbrev_valid && u->abbrev_offset == offset && u->abbrev_offset_size == u->offset_size &&
	    u->abbrev_address_size == u->address_size && u->abbrev_version == u->version)
		return KS_SCAN_DIE;
	u->abbrev_valid = false;
	if (!u->s.abbrev || offset >= u->s.abbrev_size)
		return KS_SCAN_UNREADABLE;
	c = (struct cursor){ u->s.abbrev + offset, u->s.abbrev + u->s.abbrev_size, true };
	u->nspecs = 0;
	for (size_t i = 0; i < u->nabbrevs; i++)
		u->abbrevs[i].defined = false;
	for (;;) {
		uint64_t code = uleb(&c);
		struct abbrev a = { .defined = true };

		if (!c.ok)
			return KS_SCAN_UNREADABLE;
		if (!code)
			break;
		if (code >= MAX_CODE)
			return KS_SCAN_UNREADABLE;
		a.tag = (uint32_t)uleb(&c);
		a.children = fixed(&c, 1) == DW_CHILDREN_yes;
		a.first = (uint32_t)u->nspecs;
		for (;;) {
			uint64_t attr = uleb(&c), form = uleb(&c);
			int64_t implicit = form == DW_FORM_implicit_const ? sleb(&c) : 0;

			if (!c.ok || attr > UINT32_MAX || form > UINT32_MAX)
				return KS_SCAN_UNREADABLE;
			if (!attr && !form)
				break;
			if (!grow((void **)&u->specs, &u->specs_cap, u->nspecs + 1, sizeof(*u->specs)))
				return KS_SCAN_NOMEM;
			u->specs[u->nspecs++] = (struct spec){ (uint32_t)attr, (uint32_t)form, implicit };
		}
		a.count = (uint32_t)(u->nspecs - a.first);
		plan_skip(u, &a);
		if (code >= u->nabbrevs) {
			size_t old = u->nabbrevs;

			if (!grow((void **)&u->abbrevs, &u->abbrevs_cap, code + 1, sizeof(*u->abbrevs)))
				return KS_SCAN_NOMEM;
			memset(u->abbrevs + old, 0, (code + 1 - old) * sizeof(*u->abbrevs));
			u->nabbrevs = code + 1;
		}
		u->abbrevs[code] = a;
	}
	u->abbrev_offset = offset;
	u->abbrev_offset_size = u->offset_size;
	u->abbrev_address_size = u->address_size;
	u->abbrev_version = u->version;
	u->abbrev_valid = true;
	return KS_SCAN_DIE;
}

/*
 * A string of .debug_str or .debug_line_str. ks_scan_unit_new keeps such a
 * section only when it ends in a NUL, so every string in it is terminated.
 */
static const char *section_string(const unsigned char *sec, size_t size, uint64_t off)
{
	return sec && off < size ? (const char *)sec + off : NULL;
}

/* What one attribute's value is, as far as the scan cares. */
struct value {
	uint64_t u;
	int64_t s;
	const char *str;
	bool is_const; /* a constant form: s is the value as dwarf_formsdata gives it */
	bool is_ref;   /* a reference: u is a .debug_info offset */
};

/* Read (or skip) one attribute value of the given form. False: a form or value not handled. */
static bool read_form(struct ks_scan_unit *u, struct cursor *c, uint64_t form, int64_t implicit,
		      struct value *v)
{
	unsigned size = fixed_size(form);

	memset(v, 0, sizeof(*v));
	switch (form) {
	case DW_FORM_data1:
	case DW_FORM_data2:
	case DW_FORM_data4:
	case DW_FORM_data8: {
		/* signed, as dwarf_formsdata reads them */
		uint64_t sign = 1ull << (8 * size - 1);

		v->u = fixed(c, size);
		v->s = (int64_t)((v->u ^ sign) - sign);
		v->is_const = true;
		break;
	}
	case DW_FORM_sdata:
		v->s = sleb(c);
		v->is_const = true;
		break;
	case DW_FORM_udata:
		v->u = uleb(c);
		v->s = (int64_t)v->u;
		v->is_const = true;
		break;
	case DW_FORM_implicit_const:
		v->s = implicit;
		v->is_const = true;
		break;
	case DW_FORM_ref1:
	case DW_FORM_ref2:
	case DW_FORM_ref4:
	case DW_FORM_ref8:
		v->u = u->start + fixed(c, size);
		v->is_ref = true;
		break;
	case DW_FORM_ref_udata:
		v->u = u->start + uleb(c);
		v->is_ref = true;
		break;
	case DW_FORM_ref_addr:
		v->u = fixed(c, u->version <= 2 ? u->address_size : u->offset_size);
		v->is_ref = true;
		break;
	case DW_FORM_string: {
		const unsigned char *nul = memchr(c->p, 0, (size_t)(c->end - c->p));

		if (!nul)
			return false;
		v->str = (const char *)c->p;
		c->p = nul + 1;
		break;
	}
	case DW_FORM_strp:
	case DW_FORM_line_strp: {
		uint64_t off = fixed(c, u->offset_size);

		v->str = form == DW_FORM_strp ? section_string(u->s.str, u->s.str_size, off)
					      : section_string(u->s.line_str, u->s.line_str_size, off);
		v->u = off;
		if (!v->str)
			return false;
		break;
	}
	case DW_FORM_addr:
		skip(c, u->address_size);
		break;
	case DW_FORM_sec_offset:
		skip(c, u->offset_size);
		break;
	case DW_FORM_flag_present:
		break;
	case DW_FORM_exprloc:
	case DW_FORM_block:
		skip(c, uleb(c));
		break;
	case DW_FORM_block1:
		skip(c, fixed(c, 1));
		break;
	case DW_FORM_block2:
		skip(c, fixed(c, 2));
		break;
	case DW_FORM_block4:
		skip(c, fixed(c, 4));
		break;
	case DW_FORM_addrx:
	case DW_FORM_rnglistx:
	case DW_FORM_loclistx:
		uleb(c);
		break;
	default:
		/* string indexes (strx), supplementary files, DW_FORM_indirect: libdw's to read */
		if (!size)
			return false;
		skip(c, size); /* flags, data16, type signatures, address indexes */
		break;
	}
	return c->ok;
}

static bool in_unit(const struct ks_scan_unit *u, uint64_t off)
{
	return off >= u->start && off < u->end;
}

/*
 * Decode the DIE at c; *next_sibling is where its DW_AT_sibling points, *link
 * the DIE to take its name from when it has none (0 for none of either).
 */
static enum ks_scan_result decode(struct ks_scan_unit *u, struct cursor *c, struct ks_scan_die *die,
				  uint64_t *next_sibling, uint64_t *link)
{
	uint64_t code = uleb(c);
	const struct abbrev *a;
	uint64_t origin = 0, specification = 0;

	if (!c->ok)
		return KS_SCAN_UNREADABLE;
	if (!code)
		return KS_SCAN_END;
	if (code >= u->nabbrevs || !u->abbrevs[code].defined)
		return KS_SCAN_UNREADABLE;
	a = &u->abbrevs[code];
	die->tag = a->tag;
	*next_sibling = 0;
	for (uint32_t i = 0; i < a->count; i++) {
		const struct spec *sp = &u->specs[a->first + i];
		struct value v;

		if (!read_form(u, c, sp->form, sp->implicit, &v))
			return KS_SCAN_UNREADABLE;
		switch (sp->attr) {
		case DW_AT_name:
			if (!v.str)
				return KS_SCAN_UNREADABLE;
			die->name = v.str;
			die->name_key = sp->form == DW_FORM_strp	   ? v.u + 1
					: sp->form == DW_FORM_line_strp ? (1ull << 62) | v.u
									: 0;
			break;
		case DW_AT_declaration:
			die->declaration = true; /* dwarf_hasattr: whatever its value */
			break;
		case DW_AT_const_value:
			die->has_value = v.is_const;
			die->value = v.s;
			break;
		case DW_AT_sibling:
			if (v.is_ref)
				*next_sibling = v.u;
			break;
		case DW_AT_abstract_origin:
			if (v.is_ref)
				origin = v.u;
			break;
		case DW_AT_specification:
			if (v.is_ref)
				specification = v.u;
			break;
		default:
			break;
		}
	}
	/* dwarf_attr_integrate: the abstract origin first, then the specification */
	*link = origin ? origin : specification;
	die->children = a->children ? (uint64_t)(c->p - u->s.info) : 0;
	return KS_SCAN_DIE;
}

/* Step over the children of a DIE that has no DW_AT_sibling: every descendant, to the matching end. */
static bool skip_children(struct ks_scan_unit *u, struct cursor *c)
{
	unsigned depth = 1;

	while (depth) {
		struct ks_scan_die d = { 0 };
		uint64_t sibling, link;
		enum ks_scan_result r = decode(u, c, &d, &sibling, &link);

		if (r == KS_SCAN_END)
			depth--;
		else if (r != KS_SCAN_DIE)
			return false;
		else if (d.children && ++depth > MAX_DEPTH)
			return false;
	}
	return true;
}

/* The name of the DIE at off, through its links (for a DIE without a name of its own). */
static enum ks_scan_result linked_name(struct ks_scan_unit *u, uint64_t off, const char **name)
{
	for (int chain = 0; chain <= MAX_CHAIN; chain++) {
		struct ks_scan_die d = { 0 };
		struct cursor c;
		uint64_t sibling, link;
		enum ks_scan_result r;

		/* a link into another unit would need that unit's abbreviations */
		if (!in_unit(u, off))
			return KS_SCAN_UNREADABLE;
		c = (struct cursor){ u->s.info + off, u->s.info + u->end, true };
		r = decode(u, &c, &d, &sibling, &link);
		if (r != KS_SCAN_DIE)
			return KS_SCAN_UNREADABLE;
		if (d.name || !link) {
			*name = d.name;
			return KS_SCAN_DIE;
		}
		off = link;
	}
	*name = NULL;
	return KS_SCAN_DIE;
}

void ks_scan_want(struct ks_scan_unit *u, const unsigned *tags, size_t n)
{
	memset(u->wanted, 0, sizeof(u->wanted));
	u->filter = true;
	for (size_t i = 0; i < n; i++)
		if (tags[i] < MAX_WANTED_TAG)
			u->wanted[tags[i] / 64] |= 1ull << (tags[i] % 64);
}

static bool wanted(const struct ks_scan_unit *u, uint32_t tag)
{
	return !u->filter || tag >= MAX_WANTED_TAG || (u->wanted[tag / 64] >> (tag % 64) & 1);
}

/*
 * Past a DIE of a tag the caller does not want, whose attributes start at c:
 * its sibling straight from where plan_skip put it, or its attributes by their
 * sizes. *pos moves to the next sibling.
 */
static enum ks_scan_result step_over(struct ks_scan_unit *u, struct cursor *c,
				     const struct abbrev *a, uint64_t *pos)
{
	uint64_t sibling = 0;

	if (a->children && a->sibling_at >= 0) {
		struct cursor at = { c->p, c->end, true };

		skip(&at, (uint64_t)a->sibling_at);
		sibling = u->start + fixed(&at, fixed_size(a->sibling_form));
		if (at.ok && sibling > *pos && sibling <= u->end) {
			*pos = sibling;
			return KS_SCAN_DIE;
		}
		sibling = 0;
	}
	if (a->fixed_bytes >= 0) {
		skip(c, (uint64_t)a->fixed_bytes);
	} else {
		for (uint32_t i = 0; i < a->count && c->ok; i++) {
			const struct spec *sp = &u->specs[a->first + i];
			struct value v;

			if (sp->variable) {
				if (!read_form(u, c, sp->form, sp->implicit, &v))
					return KS_SCAN_UNREADABLE;
			} else if (sp->attr == DW_AT_sibling && sp->size && fixed_size(sp->form)) {
				sibling = u->start + fixed(c, sp->size);
			} else {
				skip(c, sp->size);
			}
		}
	}
	if (!c->ok)
		return KS_SCAN_UNREADABLE;
	if (!a->children)
		*pos = (uint64_t)(c->p - u->s.info);
	else if (sibling > *pos && sibling <= u->end)
		*pos = sibling;
	else if (skip_children(u, c))
		*pos = (uint64_t)(c->p - u->s.info);
	else
		return KS_SCAN_UNREADABLE;
	return KS_SCAN_DIE;
}

enum ks_scan_result ks_scan_die(struct ks_scan_unit *u, uint64_t *pos, struct ks_scan_die *die)
{
	struct cursor c;
	uint64_t sibling, link;
	enum ks_scan_result r;

	/* a list may run to the unit's end without its null entry, as libdw allows */
	if (*pos == u->end && u->end)
		return KS_SCAN_END;
	if (!in_unit(u, *pos))
		return KS_SCAN_UNREADABLE;
	c = (struct cursor){ u->s.info + *pos, u->s.info + u->end, true };
	memset(die, 0, sizeof(*die));
	die->offset = *pos;
	if (u->filter) {
		struct cursor attrs = c;
		uint64_t code = uleb(&attrs);

		if (attrs.ok && code && code < u->nabbrevs && u->abbrevs[code].defined &&
		    !wanted(u, u->abbrevs[code].tag)) {
			die->tag = u->abbrevs[code].tag;
			return step_over(u, &attrs, &u->abbrevs[code], pos);
		}
	}
	r = decode(u, &c, die, &sibling, &link);
	if (r == KS_SCAN_END)
		*pos = (uint64_t)(c.p - u->s.info);
	if (r != KS_SCAN_DIE)
		return r;
	if (!die->name && link && linked_name(u, link, &die->name) != KS_SCAN_DIE)
		return KS_SCAN_UNREADABLE;
	if (!die->children)
		*pos = (uint64_t)(c.p - u->s.info);
	else if (sibling > *pos && sibling <= u->end)
		*pos = sibling;
	else if (skip_children(u, &c))
		*pos = (uint64_t)(c.p - u->s.info);
	else
		return KS_SCAN_UNREADABLE;
	return KS_SCAN_DIE;
}

/*
 * The header of the unit at section offset header, into u (its extent, version
 * and sizes); c is left at the unit DIE. Unit types this reader does not read
 * are KS_SCAN_UNREADABLE.
 */
static enum ks_scan_result read_header(struct ks_scan_unit *u, uint64_t header, struct cursor *c,
				       uint64_t *abbrev_offset)
{
	uint64_t length;

	u->start = u->end = 0;
	if (!u->s.info || header >= u->s.info_size)
		return KS_SCAN_UNREADABLE;
	*c = (struct cursor){ u->s.info + header, u->s.info + u->s.info_size, true };
	length = fixed(c, 4);
	u->offset_size = 4;
	if (length == 0xffffffffu) {
		length = fixed(c, 8);
		u->offset_size = 8;
	} else if (length >= 0xfffffff0u) {
		return KS_SCAN_UNREADABLE;
	}
	if (!c->ok || length > (uint64_t)(c->end - c->p))
		return KS_SCAN_UNREADABLE;
	u->end = (uint64_t)(c->p - u->s.info) + length;
	c->end = u->s.info + u->end;
	u->version = (unsigned)fixed(c, 2);
	if (u->version >= 2 && u->version <= 4) {
		*abbrev_offset = fixed(c, u->offset_size);
		u->address_size = (unsigned)fixed(c, 1);
	} else if (u->version == 5) {
		unsigned type = (unsigned)fixed(c, 1);

		/* skeleton, split and type units: libdw's */
		if (type != DW_UT_compile && type != DW_UT_partial)
			return KS_SCAN_UNREADABLE;
		u->address_size = (unsigned)fixed(c, 1);
		*abbrev_offset = fixed(c, u->offset_size);
	} else {
		return KS_SCAN_UNREADABLE;
	}
	u->start = header;
	if (!c->ok || (u->address_size != 4 && u->address_size != 8))
		return KS_SCAN_UNREADABLE;
	return KS_SCAN_DIE;
}

enum ks_scan_result ks_scan_unit_header(struct ks_scan_unit *u, uint64_t header, uint64_t *die,
					uint64_t *next)
{
	struct cursor c;
	uint64_t abbrev_offset;
	enum ks_scan_result r;

	if (u->s.info && header == u->s.info_size)
		return KS_SCAN_END;
	r = read_header(u, header, &c, &abbrev_offset);
	if (r != KS_SCAN_DIE)
		return r;
	*die = (uint64_t)(c.p - u->s.info);
	*next = u->end;
	return KS_SCAN_DIE;
}

enum ks_scan_result ks_scan_unit_open(struct ks_scan_unit *u, uint64_t header, uint64_t die,
				      uint64_t *children)
{
	struct cursor c;
	uint64_t abbrev_offset = 0, sibling, link;
	struct ks_scan_die cu;
	enum ks_scan_result r = read_header(u, header, &c, &abbrev_offset);

	if (r != KS_SCAN_DIE)
		return r;
	if ((uint64_t)(c.p - u->s.info) != die)
		return KS_SCAN_UNREADABLE;
	r = read_abbrevs(u, abbrev_offset);
	if (r != KS_SCAN_DIE)
		return r;
	/* the unit DIE itself: only where its children start, not where it ends */
	memset(&cu, 0, sizeof(cu));
	r = decode(u, &c, &cu, &sibling, &link);
	if (r != KS_SCAN_DIE)
		return r == KS_SCAN_END ? KS_SCAN_UNREADABLE : r;
	*children = cu.children;
	return KS_SCAN_DIE;
}
