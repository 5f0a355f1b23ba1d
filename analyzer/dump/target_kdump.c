/* The libkdumpfile backend of the target. */
#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kstall/settings.h"
#include "base/search.h"
#include "dump/diskdump.h"
#include "dump/readahead.h"
#include "kstall/target.h"

/* Page-table pages for the translation of the direct reader: a vmalloc'd stack needs four. */
#define PT_SLOTS 64u

struct pt_slot {
	uint64_t pfn_1; /* pfn + 1; 0 when empty */
	unsigned char data[];
};

/*
 * The direct page reader with a translation of its own: libkdumpfile's
 * translation system (the kernel's page-table layout, read-only once made,
 * shared), with page tables read by the direct reader. One per thread.
 */
struct page_reader {
	struct ks_diskdump *dd;
	addrxlat_ctx_t *axctx;
	addrxlat_sys_t *axsys; /* borrowed from kdump_priv */
	unsigned char *pt_cache; /* PT_SLOTS slots of sizeof(struct pt_slot) + page size */
};

struct kdump_priv {
	kdump_ctx_t *ctx;
	int fd;
	/* the direct reader (NULL for other formats); direct: it reads pages, not only says why one is bad */
	struct ks_diskdump *dd;
	bool direct;
	addrxlat_sys_t *axsys;
	struct page_reader reader;
	/* the read-ahead worker and its reader, while a read-ahead runs */
	struct ks_readahead *ra;
	struct page_reader *ra_reader;
	unsigned char *page; /* one page: parts of pages read by the direct reader */
	/*
	 * An ELF vmcore cut short: the physical ranges its PT_LOADs place past the
	 * end of the file (libkdumpfile reads them as zeros), and libkdumpfile's
	 * translation to find a virtual read's pages.
	 */
	struct cut_range {
		uint64_t start, end;
	} *cut;
	size_t ncut;
	addrxlat_ctx_t *elf_axctx;
	addrxlat_sys_t *elf_axsys;
	char *vmcoreinfo;
	/* "" or why reads past some point fail ("the file is cut: it has 10 of 20 bytes") */
	char truncated[128];
	char damage[256]; /* "" or what the file lacks (settle_damage), set once at open */
	char notes_damage[128]; /* "" or what check_notes found wrong in notes it could still read */
	char elf_damage[160];	/* "" or what check_loads found wrong in the PT_LOADs */
};

/*
 * libkdumpfile's error names the physical page it failed on when that page
 * (often a page table) could not be decoded; the direct reader then says why,
 * in the dump's terms, instead of "Decompression failed" or "Wrong page size".
 */
static bool damaged_page_named(struct kdump_priv *p, const char *err, uint64_t *paddr, char *why,
			       size_t len)
{
	const char *at = p->dd ? strstr(err, "PHYSADDR:0x") : NULL;
	uint32_t page;

	if (!at)
		return false;
	page = ks_diskdump_page_size(p->dd);
	*paddr = strtoull(at + strlen("PHYSADDR:"), NULL, 16);
	*paddr -= *paddr % page;
	return ks_diskdump_read_page(p->dd, *paddr, p->page, why, len) == KS_DD_DAMAGED;
}

static struct ks_error *kdump_translate(struct kdump_priv *p, kdump_status st, uint64_t addr)
{
	/* what the file lacks, found at open, explains a failed read better than libkdumpfile can */
	const char *err = kdump_get_err(p->ctx), *trunc = p->damage;
	char why[96];
	uint64_t paddr;

	switch (st) {
	case KDUMP_OK:
		return NULL;
	case KDUMP_ERR_NODATA:
		return ks_error_fault(KS_ERR_NODATA, addr, "page at 0x%llx is not in the dump (%s)",
				      (unsigned long long)addr, err);
	default:
		if (damaged_page_named(p, err, &paddr, why, sizeof(why)))
			return ks_error_fault(KS_ERR_FAULT, addr,
					      "cannot read 0x%llx: the page at physical 0x%llx is damaged "
					      "in the dump: %s", (unsigned long long)addr,
					      (unsigned long long)paddr, why);
		/* in a cut file libkdumpfile decodes what is no page ("unknown compression method"): the cut first */
		if (trunc[0])
			return ks_error_fault(KS_ERR_FAULT, addr, "cannot read 0x%llx: %s (libkdumpfile: %s)",
					      (unsigned long long)addr, trunc, err);
		return ks_error_fault(KS_ERR_FAULT, addr, "cannot read 0x%llx: %s", (unsigned long long)addr, err);
	}
}

/* The whole page at a page-aligned address, by the direct reader; KS_DD_OTHER: ask libkdumpfile. */
static enum ks_dd_page reader_page(struct page_reader *r, uint64_t addr, bool physical, void *buf,
				   char *why, size_t len)
{
	addrxlat_fulladdr_t fa = { addr, physical ? ADDRXLAT_KPHYSADDR : ADDRXLAT_KVADDR };

	if (!physical && addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, r->axctx, r->axsys) != ADDRXLAT_OK)
		return KS_DD_OTHER;
	return ks_diskdump_read_page(r->dd, fa.addr, buf, why, len);
}

static bool reader_ahead(void *reader, uint64_t addr, void *page)
{
	char why[1];

	return reader_page(reader, addr, false, page, why, sizeof(why)) == KS_DD_OK;
}

/* The page at page-aligned addr by the direct reader (the read-ahead's copy first). */
static enum ks_dd_page direct_page(struct kdump_priv *p, uint64_t addr, void *buf, bool physical,
				   char *why, size_t len)
{
	if (p->ra && !physical && ks_readahead_take(p->ra, addr, buf))
		return KS_DD_OK;
	return reader_page(&p->reader, addr, physical, buf, why, len);
}

/*
 * addr..addr+len by the direct reader, page by page (a part of a page through
 * p->page). *done: the bytes read before a page it cannot read; KS_DD_OTHER
 * there means libkdumpfile should read the rest.
 */
static enum ks_dd_page direct_read(struct kdump_priv *p, uint64_t addr, void *buf, size_t len,
				   bool physical, size_t *done, char *why, size_t whylen)
{
	uint32_t page = ks_diskdump_page_size(p->dd);

	for (*done = 0; *done < len;) {
		uint64_t at = addr + *done, base = at - at % page;
		size_t in = (size_t)(at - base), n = len - *done < page - in ? len - *done : page - in;
		bool whole = !in && n == page;
		void *to = whole ? (void *)((char *)buf + *done) : (void *)p->page;
		enum ks_dd_page st = direct_page(p, base, to, physical, why, whylen);

		if (st != KS_DD_OK)
			return st;
		if (!whole)
			memcpy((char *)buf + *done, p->page + in, n);
		*done += n;
	}
	return KS_DD_OK;
}

/* The error of a direct read that stopped at addr with st. */
static struct ks_error *direct_error(struct kdump_priv *p, enum ks_dd_page st, uint64_t addr, const char *why)
{
	switch (st) {
	case KS_DD_ABSENT:
		return ks_error_fault(KS_ERR_NODATA, addr, "page at 0x%llx is not in the dump",
				      (unsigned long long)addr);
	case KS_DD_DAMAGED:
		return ks_error_fault(KS_ERR_FAULT, addr, "page at 0x%llx is damaged in the dump: %s",
				      (unsigned long long)addr, why);
	default:
		return ks_error_fault(KS_ERR_FAULT, addr, "cannot read 0x%llx: the file cannot be read there%s%s%s",
				      (unsigned long long)addr, p->truncated[0] ? " (" : "", p->truncated,
				      p->truncated[0] ? ")" : "");
	}
}

/*
 * Whether addr..addr+len (virtual unless physical) touches data an ELF vmcore
 * cut short no longer has. A page that cannot be translated is left to the
 * read's own result.
 */
static bool past_the_cut(struct kdump_priv *p, uint64_t addr, size_t len, bool physical)
{
	const uint64_t page = 4096;
	uint64_t last = addr + (len ? len - 1 : 0);

	for (uint64_t at = addr - addr % page; at <= last && at >= addr - addr % page; at += page) {
		addrxlat_fulladdr_t fa = { at, physical ? ADDRXLAT_KPHYSADDR : ADDRXLAT_KVADDR };
		uint64_t lo = at < addr ? addr : at, hi = at + page - 1 < last ? at + page - 1 : last;

		if (!physical && (!p->elf_axsys ||
				  addrxlat_fulladdr_conv(&fa, ADDRXLAT_KPHYSADDR, p->elf_axctx, p->elf_axsys) !=
					  ADDRXLAT_OK))
			continue;
		lo = fa.addr + (lo - at);
		hi = fa.addr + (hi - at);
		for (size_t i = 0; i < p->ncut; i++)
			if (lo < p->cut[i].end && hi >= p->cut[i].start)
				return true;
	}
	return false;
}

static struct ks_error *kdump_priv_read(void *priv, uint64_t addr, void *buf, size_t len,
					bool physical)
{
	struct kdump_priv *p = priv;
	size_t got = len, done = 0;
	kdump_status st;
	char why[96];

	if (p->direct) {
		enum ks_dd_page d = direct_read(p, addr, buf, len, physical, &done, why, sizeof(why));

		if (d == KS_DD_OK)
			return NULL;
		if (d != KS_DD_OTHER)
			return direct_error(p, d, addr + done, why);
		addr += done;
		buf = (char *)buf + done;
		got = len -= done;
	}
	st = kdump_read(p->ctx, physical ? KDUMP_KPHYSADDR : KDUMP_KVADDR, addr, buf, &got);
	if (st == KDUMP_OK && got != len)
		return ks_error_fault(KS_ERR_FAULT, addr + got, "short read at 0x%llx",
				      (unsigned long long)(addr + got));
	if (st == KDUMP_OK && p->ncut && past_the_cut(p, addr, len, physical))
		return ks_error_fault(KS_ERR_FAULT, addr, "cannot read 0x%llx: %s",
				      (unsigned long long)addr, p->truncated);
	return kdump_translate(p, st, addr + (st == KDUMP_OK ? 0 : got));
}

/* As kdump_priv_read, with the code alone: the status tells NODATA from FAULT as kdump_translate does. */
static enum ks_error_code kdump_priv_try_read(void *priv, uint64_t addr, void *buf, size_t len,
					      bool physical)
{
	struct kdump_priv *p = priv;
	size_t got = len, done = 0;
	kdump_status st;
	char why[1];

	if (p->direct) {
		enum ks_dd_page d = direct_read(p, addr, buf, len, physical, &done, why, sizeof(why));

		if (d == KS_DD_OK)
			return 0;
		if (d == KS_DD_ABSENT)
			return KS_ERR_NODATA;
		if (d != KS_DD_OTHER)
			return KS_ERR_FAULT;
		addr += done;
		buf = (char *)buf + done;
		got = len -= done;
	}
	st = kdump_read(p->ctx, physical ? KDUMP_KPHYSADDR : KDUMP_KVADDR, addr, buf, &got);
	if (st == KDUMP_OK)
		return got == len && !(p->ncut && past_the_cut(p, addr, len, physical)) ? 0 : KS_ERR_FAULT;
	return st == KDUMP_ERR_NODATA ? KS_ERR_NODATA : KS_ERR_FAULT;
}

static struct pt_slot *pt_slot(struct page_reader *r, uint64_t pfn)
{
	size_t size = sizeof(struct pt_slot) + ks_diskdump_page_size(r->dd);

	return (struct pt_slot *)(r->pt_cache + (pfn % PT_SLOTS) * size);
}

static void pt_put_page(const addrxlat_buffer_t *buf)
{
	free(buf->priv);
}

static addrxlat_status pt_get_page(const addrxlat_cb_t *cb, addrxlat_buffer_t *buf)
{
	struct page_reader *r = cb->priv;
	uint32_t page = ks_diskdump_page_size(r->dd);
	uint64_t pfn = buf->addr.addr / page;
	struct pt_slot *slot;
	void *copy;

	if (buf->addr.as != ADDRXLAT_KPHYSADDR)
		return addrxlat_ctx_err(r->axctx, ADDRXLAT_ERR_NOMETH, "not a physical address");
	slot = pt_slot(r, pfn);
	if (slot->pfn_1 != pfn + 1) {
		slot->pfn_1 = 0;
		char why[96];
		enum ks_dd_page st = ks_diskdump_read_page(r->dd, pfn * page, slot->data, why, sizeof(why));

		if (st == KS_DD_DAMAGED)
			return addrxlat_ctx_err(r->axctx, ADDRXLAT_ERR_INVALID,
						"page table at 0x%llx is damaged in the dump: %s",
						(unsigned long long)(pfn * page), why);
		if (st != KS_DD_OK)
			return addrxlat_ctx_err(r->axctx, ADDRXLAT_ERR_NODATA,
						"page table at 0x%llx not in the dump",
						(unsigned long long)(pfn * page));
		slot->pfn_1 = pfn + 1;
	}
	/* libaddrxlat keeps the buffer in a cache of its own until put_page: a copy, never the slot. */
	copy = malloc(page);
	if (!copy)
		return addrxlat_ctx_err(r->axctx, ADDRXLAT_ERR_NOMEM, "no memory for a page table");
	memcpy(copy, slot->data, page);
	buf->priv = copy;
	buf->addr.addr = pfn * page;
	buf->ptr = copy;
	buf->size = page;
	buf->byte_order = ADDRXLAT_LITTLE_ENDIAN;
	buf->put_page = pt_put_page;
	return ADDRXLAT_OK;
}

static unsigned long pt_read_caps(const addrxlat_cb_t *cb)
{
	(void)cb;
	return ADDRXLAT_CAPS(ADDRXLAT_KPHYSADDR);
}

static void reader_deinit(struct page_reader *r)
{
	free(r->pt_cache);
	if (r->axctx)
		addrxlat_ctx_decref(r->axctx);
	memset(r, 0, sizeof(*r));
}

/* r reads through dd and translates with sys; false (r cleared) when memory is short. */
static bool reader_init(struct page_reader *r, struct ks_diskdump *dd, addrxlat_sys_t *sys)
{
	addrxlat_cb_t *cb;

	memset(r, 0, sizeof(*r));
	r->dd = dd;
	r->axsys = sys;
	r->pt_cache = calloc(PT_SLOTS, sizeof(struct pt_slot) + ks_diskdump_page_size(dd));
	r->axctx = addrxlat_ctx_new();
	cb = r->axctx ? addrxlat_ctx_add_cb(r->axctx) : NULL;
	if (!r->pt_cache || !cb) {
		reader_deinit(r);
		return false;
	}
	cb->priv = r;
	cb->get_page = pt_get_page;
	cb->read_caps = pt_read_caps;
	return true;
}

/* The direct reader's translation; false leaves p without one. */
static bool own_translation(struct kdump_priv *p)
{
	addrxlat_ctx_t *lib;
	addrxlat_sys_t *sys;

	if (kdump_get_addrxlat(p->ctx, &lib, &sys) != KDUMP_OK)
		return false;
	addrxlat_ctx_decref(lib);
	if (!reader_init(&p->reader, p->dd, sys)) {
		addrxlat_sys_decref(sys);
		return false;
	}
	p->axsys = sys;
	return true;
}

static uint64_t readahead_stop(struct kdump_priv *p)
{
	uint64_t taken = ks_readahead_taken(p->ra);

	ks_readahead_stop(p->ra);
	p->ra = NULL;
	if (p->ra_reader) {
		struct ks_diskdump *dd = p->ra_reader->dd;

		reader_deinit(p->ra_reader);
		ks_diskdump_close(dd);
		free(p->ra_reader);
		p->ra_reader = NULL;
	}
	return taken;
}

static uint64_t kdump_priv_readahead(void *priv, const uint64_t *pages, size_t n)
{
	struct kdump_priv *p = priv;
	struct ks_diskdump *dd = NULL;
	uint64_t taken = readahead_stop(p);

	if (!n || !p->direct || !(p->ra_reader = malloc(sizeof(*p->ra_reader))))
		return taken;
	if (!(dd = ks_diskdump_clone(p->dd)) || !reader_init(p->ra_reader, dd, p->axsys)) {
		ks_diskdump_close(dd);
		free(p->ra_reader);
		p->ra_reader = NULL;
		return taken;
	}
	p->ra = ks_readahead_start(reader_ahead, p->ra_reader, ks_diskdump_page_size(p->dd), pages, n);
	if (!p->ra)
		readahead_stop(p);
	return taken;
}

static void kdump_priv_readahead_at(void *priv, size_t pos)
{
	ks_readahead_at(((struct kdump_priv *)priv)->ra, pos);
}

static const char *kdump_priv_vmcoreinfo(void *priv)
{
	return ((struct kdump_priv *)priv)->vmcoreinfo;
}

static void kdump_priv_destroy(void *priv)
{
	struct kdump_priv *p = priv;

	if (!p)
		return;
	readahead_stop(p);
	reader_deinit(&p->reader);
	ks_diskdump_close(p->dd);
	if (p->axsys)
		addrxlat_sys_decref(p->axsys);
	/* libkdumpfile's translation context calls back into its kdump context: gone first */
	if (p->elf_axctx)
		addrxlat_ctx_decref(p->elf_axctx);
	if (p->elf_axsys)
		addrxlat_sys_decref(p->elf_axsys);
	if (p->ctx)
		kdump_free(p->ctx);
	if (p->fd >= 0)
		close(p->fd);
	free(p->vmcoreinfo);
	free(p->page);
	free(p->cut);
	free(p);
}

/*
 * What the file lacks, as the checks at open found it, in one sentence: the
 * first of them, once (each failed read quotes it, and a damaged dump has many).
 */
static void settle_damage(struct kdump_priv *p)
{
	uint64_t bad, pfn = 0;
	const char *why, *first = p->truncated[0] ? p->truncated
				  : p->notes_damage[0] ? p->notes_damage
				  : p->elf_damage[0]   ? p->elf_damage
				  : p->dd		? ks_diskdump_layout_damage(p->dd)
							: NULL;

	if (first)
		snprintf(p->damage, sizeof(p->damage), "%s", first);
	else if (p->dd && (bad = ks_diskdump_damaged(p->dd, &pfn, &why)))
		snprintf(p->damage, sizeof(p->damage),
			 "%llu page descriptor%s of the file %s corrupt: %s page%s cannot be read (the "
			 "first, pfn 0x%llx, gives %s)",
			 (unsigned long long)bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are",
			 bad == 1 ? "its" : "their", bad == 1 ? "" : "s", (unsigned long long)pfn, why);
}

static const char *kdump_priv_damage(void *priv)
{
	struct kdump_priv *p = priv;

	return p->damage[0] ? p->damage : NULL;
}

static const struct ks_target_ops kdump_ops = {
	.damage = kdump_priv_damage,
	.version = KS_TARGET_OPS_VERSION,
	.name = "kdump",
	.read = kdump_priv_read,
	.try_read = kdump_priv_try_read,
	.vmcoreinfo = kdump_priv_vmcoreinfo,
	.destroy = kdump_priv_destroy,
	.readahead = kdump_priv_readahead,
	.readahead_at = kdump_priv_readahead_at,
};

/*
 * The diskdump ("KDUMP   ", makedumpfile -c) header, x86_64 layout: what kstall
 * checks before libkdumpfile sees the file, so that a damaged header gets a
 * message that names the field, and a cut file is known to be cut.
 */

static bool is_diskdump(const unsigned char *hdr)
{
	return !memcmp(hdr, "KDUMP   ", 8) || !memcmp(hdr, "DISKDUMP", 8);
}

/* (offset, size) of a region the sub header names must lie inside the file. */
static struct ks_error *check_region(const char *path, const char *what, const unsigned char *p,
				     uint64_t fsize)
{
	uint64_t off = ks_diskdump_le(p, 8), size = ks_diskdump_le(p + 8, 8);

	if (size && (off > fsize || size > fsize - off))
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged header: %s at bytes %llu+%llu, past the end of "
				       "the file (%llu bytes)",
				       path, what, (unsigned long long)off, (unsigned long long)size,
				       (unsigned long long)fsize);
	return NULL;
}

/*
 * Page data is written in pfn order, one descriptor per bit set in the second
 * bitmap; zero pages share one copy near the start. The file must reach the end
 * of the furthest data among the last descriptors (a bounded look: at most
 * TAIL_DESCS of them). A shorter file was cut: say so in p->truncated, which
 * every failed read then quotes.
 */
#define TAIL_DESCS 4096

static void check_length(struct kdump_priv *p, uint64_t fsize, uint64_t bitmap_off,
			 uint64_t bitmap_len, uint64_t desc_off)
{
	unsigned char *buf = malloc(bitmap_len > TAIL_DESCS * KS_DD_PAGE_DESC_SIZE
					    ? bitmap_len
					    : TAIL_DESCS * KS_DD_PAGE_DESC_SIZE);
	uint64_t n = 0, need, tail;

	if (!buf || !ks_diskdump_pread(p->fd, buf, bitmap_len, bitmap_off)) {
		free(buf);
		return;
	}
	for (uint64_t i = 0; i < bitmap_len; i++)
		n += (uint64_t)__builtin_popcount(buf[i]);
	need = desc_off + n * KS_DD_PAGE_DESC_SIZE;
	tail = n < TAIL_DESCS ? n : TAIL_DESCS;
	if (need <= fsize &&
	    ks_diskdump_pread(p->fd, buf, tail * KS_DD_PAGE_DESC_SIZE, need - tail * KS_DD_PAGE_DESC_SIZE)) {
		for (uint64_t i = 0; i < tail; i++) {
			uint64_t end = ks_diskdump_le(buf + i * KS_DD_PAGE_DESC_SIZE, 8) +
				       ks_diskdump_le(buf + i * KS_DD_PAGE_DESC_SIZE + 8, 4);

			if (end > need)
				need = end;
		}
	}
	free(buf);
	if (need > fsize)
		snprintf(p->truncated, sizeof(p->truncated),
			 "the file is cut short: %llu bytes, its page table needs %llu",
			 (unsigned long long)fsize, (unsigned long long)need);
}

/*
 * The ELF notes (the CPUs' registers, VMCOREINFO), as both formats carry them:
 * libkdumpfile walks them trusting each note's sizes (a huge one overflowed its
 * stack), and a VMCOREINFO cut by a NUL loses every line after it without a
 * word. A note that overruns the region is refused, naming it; a NUL inside
 * VMCOREINFO is damage kstall reports (p->notes_damage).
 */
#define NOTES_MAX (16u << 20)

static struct ks_error *check_notes(struct kdump_priv *p, const char *path, const char *where, uint64_t off,
				    uint64_t size, bool require_vmcoreinfo)
{
	unsigned char *n;
	uint64_t at = 0, i = 0;
	bool vmcoreinfo = false;

	if (!size)
		return NULL;
	if (size > NOTES_MAX)
		return ks_error_create(KS_ERR_BAD_DATA, "%s: damaged %s: %llu bytes of ELF notes (the "
				       "notes of a dump are a few KiB)", path, where, (unsigned long long)size);
	n = malloc(size);
	if (!n)
		return &ks_error_nomem;
	if (!ks_diskdump_pread(p->fd, n, size, off)) {
		free(n);
		return ks_error_create(KS_ERR_BAD_DATA, "%s: the ELF notes at byte %llu cannot be read", path,
				       (unsigned long long)off);
	}
	for (; size - at >= 12; i++) {
		uint64_t namesz = ks_diskdump_le(n + at, 4), descsz = ks_diskdump_le(n + at + 4, 4);
		uint64_t name = at + 12, desc = name + ((namesz + 3) & ~3ull), end = desc + ((descsz + 3) & ~3ull);

		if (!namesz && !descsz && !ks_diskdump_le(n + at + 8, 4))
			break; /* zero padding ends the notes */
		if (end > size) {
			free(n);
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged %s: ELF note %llu at byte %llu: %llu name and %llu data "
					       "bytes run past the end of the notes (%llu bytes)",
					       path, where, (unsigned long long)i, (unsigned long long)(off + at),
					       (unsigned long long)namesz, (unsigned long long)descsz,
					       (unsigned long long)size);
		}
		/* a name is a C string of namesz bytes, NUL included: a walk gone astray meets none */
		if (!namesz || n[name + namesz - 1] || strlen((const char *)n + name) != namesz - 1) {
			free(n);
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged %s: ELF note %llu at byte %llu: its name (%llu bytes) is "
					       "not one string", path, where, (unsigned long long)i,
					       (unsigned long long)(off + at), (unsigned long long)namesz);
		}
		vmcoreinfo |= namesz == 11 && !memcmp(n + name, "VMCOREINFO", 11);
		if (namesz == 11 && !memcmp(n + name, "VMCOREINFO", 11)) {
			const unsigned char *nul = memchr(n + desc, 0, descsz);

			/* trailing NULs are padding; one before text is damage */
			if (nul) {
				uint64_t cut = (uint64_t)(nul - (n + desc)), rest = cut;

				while (rest < descsz && !n[desc + rest])
					rest++;
				if (rest < descsz)
					snprintf(p->notes_damage, sizeof(p->notes_damage),
						 "VMCOREINFO is damaged: a NUL byte at %llu of its %llu bytes hides "
						 "the lines after it", (unsigned long long)cut,
						 (unsigned long long)descsz);
			}
		}
		at = end;
	}
	free(n);
	/* the kernel's own layout facts, without which nothing can be translated */
	if (!vmcoreinfo && require_vmcoreinfo)
		return ks_error_create(KS_ERR_BAD_DATA, "%s: damaged %s: the ELF notes (%llu bytes at byte %llu) "
				       "hold no VMCOREINFO note", path, where, (unsigned long long)size,
				       (unsigned long long)off);
	return NULL;
}

static struct ks_error *check_diskdump(struct kdump_priv *p, const char *path,
				       const unsigned char *hdr, uint64_t fsize)
{
	uint64_t block = ks_diskdump_le(hdr + KS_DD_BLOCK_SIZE, 4), sub = ks_diskdump_le(hdr + KS_DD_SUB_HDR_SIZE, 4);
	uint64_t bitmap_blocks = ks_diskdump_le(hdr + KS_DD_BITMAP_BLOCKS, 4), mapnr = ks_diskdump_le(hdr + KS_DD_MAX_MAPNR, 4);
	int32_t version = (int32_t)ks_diskdump_le(hdr + KS_DD_HEADER_VERSION, 4);
	unsigned char subhdr[KS_DD_SUB_SIZE];
	struct ks_error *err;
	uint64_t desc_off;

	if (block < 1024 || block > 65536 || (block & (block - 1)))
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged header: block size %llu is not a page size", path,
				       (unsigned long long)block);
	if (sub > (1u << 20) || !bitmap_blocks || bitmap_blocks > (1u << 30) || version < 0)
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged header: version %d, %llu sub header and %llu "
				       "bitmap blocks make no sense",
				       path, version, (unsigned long long)sub,
				       (unsigned long long)bitmap_blocks);
	desc_off = (1 + sub + bitmap_blocks) * block;
	if (desc_off > fsize)
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged header or cut file: the page bitmaps end at byte "
				       "%llu, the file has %llu",
				       path, (unsigned long long)desc_off, (unsigned long long)fsize);
	if (version >= 1 && !ks_diskdump_pread(p->fd, subhdr, sizeof(subhdr), block))
		return ks_error_create(KS_ERR_BAD_DATA, "%s: cannot read the sub header", path);
	/* libkdumpfile reads VMCOREINFO there in version 3 only; later ones have it in the notes. */
	if (version == 3 && (err = check_region(path, "VMCOREINFO", subhdr + KS_DD_SUB_OFF_VMCOREINFO, fsize)))
		return err;
	if (version >= 4 && (err = check_region(path, "ELF notes", subhdr + KS_DD_SUB_OFF_NOTE, fsize)))
		return err;
	/* from version 4 libkdumpfile takes VMCOREINFO from the notes (a copy may also lie apart) */
	if (version >= 4 && (err = check_notes(p, path, "sub header or ELF notes",
					       ks_diskdump_le(subhdr + KS_DD_SUB_OFF_NOTE, 8),
					       ks_diskdump_le(subhdr + KS_DD_SUB_OFF_NOTE + 8, 8),
					       true)))
		return err;
	if (version >= 6)
		mapnr = ks_diskdump_le(subhdr + KS_DD_SUB_MAX_MAPNR_64, 8);
	/* a part of a split dump (makedumpfile --split) holds the pfns start..end of the whole */
	if (version >= 2 && ks_diskdump_le(subhdr + KS_DD_SUB_SPLIT, 4)) {
		uint64_t start = ks_diskdump_le(subhdr + 16, 8), end = ks_diskdump_le(subhdr + 24, 8);

		if (version >= 6)
			start = ks_diskdump_le(subhdr + 80, 8), end = ks_diskdump_le(subhdr + 88, 8);
		if (start >= end || end > mapnr)
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged sub header: it says the file is part of a split dump, "
					       "with pfns %llu to %llu of %llu, which cannot be",
					       path, (unsigned long long)start, (unsigned long long)end,
					       (unsigned long long)mapnr);
	}
	/* makedumpfile writes two bitmaps, each of max_mapnr bits. */
	if (!memcmp(hdr, "KDUMP   ", 8) && mapnr > bitmap_blocks * block * 8 / 2)
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged header: %llu pages do not fit its page bitmaps "
				       "(%llu bits)",
				       path, (unsigned long long)mapnr,
				       (unsigned long long)(bitmap_blocks * block * 8 / 2));
	if (!memcmp(hdr, "KDUMP   ", 8))
		check_length(p, fsize, (1 + sub + bitmap_blocks / 2) * block, bitmap_blocks / 2 * block,
			     desc_off);
	return NULL;
}

/*
 * A corrupt page descriptor makes its page unreadable (every read of it says
 * why). libkdumpfile before 0.5.4 copies compressed data of up to 64 KiB into a
 * one-page buffer: one descriptor over the page size overflows its heap, and
 * libkdumpfile reads page tables by itself, out of kstall's reach. Such a dump
 * is refused there, with the reason.
 */
static struct ks_error *check_descriptors(struct kdump_priv *p, const char *path)
{
	uint64_t bad, pfn = 0;
	const char *why;

	if (!ks_diskdump_scan(p->dd))
		return &ks_error_nomem;
	bad = ks_diskdump_damaged(p->dd, &pfn, &why);
	if (bad && ks_diskdump_oversized(p->dd) && KDUMPFILE_VERSION < KDUMPFILE_MKVER(0, 5, 4))
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged page descriptor table (or a header field that misplaces it): "
				       "%llu page descriptor%s corrupt (the first, "
				       "of pfn 0x%llx, gives %s); libkdumpfile " KDUMPFILE_VERSION_STRING " would overflow its buffer "
				       "on such a page, so the dump is not read (0.5.4 and later can)",
				       path, (unsigned long long)bad, bad == 1 ? " is" : "s are",
				       (unsigned long long)pfn, why);
	return NULL;
}

/*
 * An ELF64 vmcore (/proc/vmcore as saved, or makedumpfile -E): its program
 * headers must lie in the file (libkdumpfile allocates what e_phnum, or with
 * PN_XNUM section 0's sh_info, says, whatever the file holds), and a PT_LOAD
 * whose data runs past the end means the file was cut: libkdumpfile would read
 * the missing part as zeros. Those physical ranges go to p->cut.
 */
#define ELF_PN_XNUM 0xffffu
#define ELF_PHDR_SIZE 56u

struct load {
	uint64_t off, filesz, paddr, memsz;
};

static int load_by_off(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int load_by_paddr(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->memsz > y->memsz ? -1 : x->memsz < y->memsz; /* the outer one first */
}

/*
 * The PT_LOADs as the kernel (/proc/vmcore) and makedumpfile -E write them:
 * only PT_NOTE and PT_LOAD entries, no segment with more file data than
 * memory, no two sharing file bytes, no two physical ranges overlapping in
 * part (one inside another is real: the kernel text's segment lies inside a
 * RAM segment in /proc/vmcore). A header that
 * breaks one maps some physical pages onto other data; it is damage kstall
 * reports (p->elf_damage), reading on.
 */
static void check_loads(struct kdump_priv *p, const unsigned char *ph, uint64_t phnum)
{
	struct load *l = malloc(phnum * sizeof(*l));
	size_t n = 0;

	if (!l)
		return;
	for (uint64_t i = 0; i < phnum && !p->elf_damage[0]; i++) {
		const unsigned char *e = ph + i * ELF_PHDR_SIZE;
		uint64_t type = ks_diskdump_le(e, 4);
		struct load x = { ks_diskdump_le(e + 8, 8), ks_diskdump_le(e + 32, 8), ks_diskdump_le(e + 24, 8),
				  ks_diskdump_le(e + 40, 8) };

		if (type != 0 && type != 1 && type != 4)
			snprintf(p->elf_damage, sizeof(p->elf_damage),
				 "ELF program header %llu has type 0x%llx, which no vmcore has",
				 (unsigned long long)i, (unsigned long long)type);
		else if (type == 1 && (x.filesz > x.memsz || x.paddr + x.memsz < x.paddr))
			snprintf(p->elf_damage, sizeof(p->elf_damage),
				 "ELF program header %llu: a PT_LOAD of %llu file bytes for %llu bytes of memory "
				 "at 0x%llx", (unsigned long long)i, (unsigned long long)x.filesz,
				 (unsigned long long)x.memsz, (unsigned long long)x.paddr);
		else if (type == 1)
			l[n++] = x;
	}
	if (!p->elf_damage[0]) {
		ks_sort(l, n, sizeof(*l), load_by_off);
		for (size_t i = 1; i < n && !p->elf_damage[0]; i++)
			if (l[i - 1].filesz && l[i].filesz && l[i - 1].off + l[i - 1].filesz > l[i].off)
				snprintf(p->elf_damage, sizeof(p->elf_damage),
					 "two PT_LOAD program headers share file bytes at %llu", (unsigned long long)l[i].off);
	}
	if (!p->elf_damage[0]) {
		/* nested ranges are real (the kernel text's segment); a partial overlap is not */
		ks_sort(l, n, sizeof(*l), load_by_paddr);
		for (size_t i = 1, outer = 0; i < n && !p->elf_damage[0]; i++) {
			uint64_t end = l[outer].paddr + l[outer].memsz;

			if (l[i].paddr < end && l[i].paddr + l[i].memsz > end)
				snprintf(p->elf_damage, sizeof(p->elf_damage),
					 "two PT_LOAD program headers overlap in part at physical 0x%llx",
					 (unsigned long long)l[i].paddr);
			if (l[i].paddr >= end)
				outer = i;
		}
	}
	free(l);
}
static struct ks_error *check_elf(struct kdump_priv *p, const char *path, const unsigned char *hdr,
				  uint64_t fsize)
{
	uint64_t phoff = ks_diskdump_le(hdr + 32, 8), shoff = ks_diskdump_le(hdr + 40, 8);
	uint64_t phentsize = ks_diskdump_le(hdr + 54, 2), phnum = ks_diskdump_le(hdr + 56, 2);
	uint64_t shnum = ks_diskdump_le(hdr + 60, 2), shentsize = ks_diskdump_le(hdr + 58, 2);
	uint64_t need = 0, max, notes = 0;
	unsigned char *ph, sh0[64];
	/* section 0 holds the counts too big for the header (extended numbering, PN_XNUM) */
	bool have_sh0 = ((shoff && !shnum) || phnum == ELF_PN_XNUM) && shoff && shoff <= fsize &&
			fsize - shoff >= sizeof(sh0) && ks_diskdump_pread(p->fd, sh0, sizeof(sh0), shoff);

	/* libkdumpfile 0.5.1 crashes on an ELFCLASS32 header over a 64-bit dump */
	if (hdr[4] != 2 || hdr[5] != 1)
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "%s: damaged ELF header, or not an x86_64 vmcore: class %u, byte order %u "
				       "(kstall reads ELF64 little-endian)", path, hdr[4], hdr[5]);
	if (ks_diskdump_le(hdr + 18, 2) != 62) /* EM_X86_64 */
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "%s: damaged ELF header, or not an x86_64 vmcore: e_machine %llu (x86_64 is "
				       "62)", path, (unsigned long long)ks_diskdump_le(hdr + 18, 2));
	/* e_shnum 0 with e_shoff set: the count is section 0's sh_size (libkdumpfile reads it) */
	if (shoff && !shnum) {
		if (shentsize != 64 || !have_sh0)
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged ELF header: e_shnum 0 and e_shoff %llu name a section 0 "
					       "that cannot be read (e_shentsize %llu, the file %llu bytes)", path,
					       (unsigned long long)shoff, (unsigned long long)shentsize,
					       (unsigned long long)fsize);
		shnum = ks_diskdump_le(sh0 + 32, 8);
	}
	if (shnum && (shentsize != 64 || shoff > fsize || shnum > (fsize - shoff) / 64))
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged ELF header: %llu section headers of %llu bytes at byte %llu "
				       "do not fit the file (%llu bytes)", path, (unsigned long long)shnum,
				       (unsigned long long)shentsize, (unsigned long long)shoff,
				       (unsigned long long)fsize);
	if (phnum == ELF_PN_XNUM) {
		if (!have_sh0)
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged ELF header: e_phnum says the count is in section 0, "
					       "which lies past the end of the file (%llu bytes)",
					       path, (unsigned long long)fsize);
		phnum = ks_diskdump_le(sh0 + 44, 4);
	}
	max = phoff < fsize ? (fsize - phoff) / ELF_PHDR_SIZE : 0;
	if (phentsize != ELF_PHDR_SIZE || !phnum || phnum > max)
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: damaged ELF header, or a file cut short: %llu program headers of "
				       "%llu bytes at byte %llu do not fit the file (%llu bytes)",
				       path, (unsigned long long)phnum, (unsigned long long)phentsize,
				       (unsigned long long)phoff, (unsigned long long)fsize);
	ph = malloc(phnum * ELF_PHDR_SIZE);
	if (!ph || !ks_diskdump_pread(p->fd, ph, phnum * ELF_PHDR_SIZE, phoff)) {
		free(ph);
		return ph ? ks_error_create(KS_ERR_OS, "%s: cannot read its program headers", path)
			  : &ks_error_nomem;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const unsigned char *e = ph + i * ELF_PHDR_SIZE;
		uint64_t type = ks_diskdump_le(e, 4), off = ks_diskdump_le(e + 8, 8);
		uint64_t paddr = ks_diskdump_le(e + 24, 8), filesz = ks_diskdump_le(e + 32, 8);
		uint64_t end = off + filesz < off ? UINT64_MAX : off + filesz;

		if (type == 4 && end > fsize) { /* PT_NOTE: the file must hold it, cut or not */
			free(ph);
			return ks_error_create(KS_ERR_BAD_DATA,
					       "%s: damaged ELF program header %llu: PT_NOTE at byte %llu, %llu "
					       "bytes, past the end of the file (%llu bytes)",
					       path, (unsigned long long)i, (unsigned long long)off,
					       (unsigned long long)filesz, (unsigned long long)fsize);
		}
		if (type == 4) {
			struct ks_error *err = check_notes(p, path, "PT_NOTE segment", off, filesz, true);

			notes++;
			if (err) {
				free(ph);
				return err;
			}
		}
		if (type != 1 || end <= fsize) /* PT_LOAD */
			continue;
		need = end > need ? end : need;
		if (type == 1) {
			struct cut_range *n = realloc(p->cut, (p->ncut + 1) * sizeof(*n));

			if (!n) {
				free(ph);
				return &ks_error_nomem;
			}
			p->cut = n;
			/* the part of the segment the file no longer holds */
			p->cut[p->ncut].start = paddr + (off < fsize ? fsize - off : 0);
			p->cut[p->ncut++].end = paddr + filesz;
		}
	}
	if (!notes) {
		free(ph);
		return ks_error_create(KS_ERR_BAD_DATA, "%s: damaged ELF program headers: none of the %llu is a "
				       "PT_NOTE (a vmcore's notes hold VMCOREINFO and the CPUs' registers)", path,
				       (unsigned long long)phnum);
	}
	check_loads(p, ph, phnum);
	free(ph);
	if (need)
		snprintf(p->truncated, sizeof(p->truncated),
			 "the file is cut short: %llu bytes, its program headers need %llu",
			 (unsigned long long)fsize, (unsigned long long)need);
	return NULL;
}

#if KDUMPFILE_VERSION < KDUMPFILE_MKVER(0, 5, 4)
/*
 * libkdumpfile before 0.5.4 frees its diskdump data when the open of a damaged
 * file fails, but leaves the page_size attribute override that points into it:
 * kdump_free() then reads freed memory and may crash (upstream ae178dd removed
 * the override). Such a context is never freed. It stays reachable from here,
 * so leak checkers do not count it; one per failed open.
 */
static struct {
	kdump_ctx_t **ctx;
	size_t count, cap;
} failed_opens;

static void keep_failed_ctx(kdump_ctx_t *ctx)
{
	if (failed_opens.count == failed_opens.cap) {
		size_t cap = failed_opens.cap ? 2 * failed_opens.cap : 8;
		kdump_ctx_t **n = realloc(failed_opens.ctx, cap * sizeof(*n));

		if (!n)
			return;
		failed_opens.ctx = n;
		failed_opens.cap = cap;
	}
	failed_opens.ctx[failed_opens.count++] = ctx;
}
#define KS_KDUMP_FREE_AFTER_FAILED_DISKDUMP_OPEN 0
#else
#define KS_KDUMP_FREE_AFTER_FAILED_DISKDUMP_OPEN 1
#endif

struct ks_error *ks_target_open_kdump(const char *path, const struct ks_settings *settings,
				      struct ks_target **ret)
{
	struct kdump_priv *p = calloc(1, sizeof(*p));
	unsigned char hdr[0x1c0];
	kdump_status st;
	struct stat sb;
	char *raw = NULL;
	bool diskdump;

	if (!p)
		return &ks_error_nomem;
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0 || fstat(p->fd, &sb)) {
		int e = errno;

		kdump_priv_destroy(p);
		return ks_error_create(KS_ERR_OS, "cannot open %s: %s", path, strerror(e));
	}
	memset(hdr, 0, sizeof(hdr));
	diskdump = pread(p->fd, hdr, sizeof(hdr), 0) >= 8 && is_diskdump(hdr);
	if (diskdump && (uint64_t)sb.st_size < sizeof(hdr)) {
		/* libkdumpfile 0.5.1 crashes freeing a context whose diskdump open failed */
		kdump_priv_destroy(p);
		return ks_error_create(KS_ERR_BAD_DATA,
				       "%s: the file is cut short: %llu bytes, less than a diskdump header",
				       path, (unsigned long long)sb.st_size);
	}
	if (diskdump) {
		struct ks_error *err = check_diskdump(p, path, hdr, (uint64_t)sb.st_size);

		if (err) {
			kdump_priv_destroy(p);
			return err;
		}
	}
	/* Every descriptor checked before libkdumpfile may read a page by one of them. */
	if (diskdump && (p->dd = ks_diskdump_open(p->fd, hdr, (uint64_t)sb.st_size))) {
		struct ks_error *err = check_descriptors(p, path);

		if (err) {
			kdump_priv_destroy(p);
			return err;
		}
	}
	if (!diskdump && !memcmp(hdr, "\177ELF", 4)) {
		struct ks_error *err = check_elf(p, path, hdr, (uint64_t)sb.st_size);

		if (err) {
			kdump_priv_destroy(p);
			return err;
		}
	}
	p->ctx = kdump_new();
	if (!p->ctx) {
		kdump_priv_destroy(p);
		return &ks_error_nomem;
	}
	/* read(2), not a mapping of the file that would stay resident for the run. */
	kdump_set_number_attr(p->ctx, KDUMP_ATTR_FILE_MMAP_POLICY, KDUMP_MMAP_NEVER);
	/*
	 * Its cache of pages sits under kstall's own (target.c), which takes the
	 * repeats: 1024 pages by default, 4 MiB of heap for little.
	 */
	kdump_set_number_attr(p->ctx, "cache.size", 64);
	errno = 0;
	st = kdump_open_fd(p->ctx, p->fd);
	if (st == KDUMP_OK)
		st = kdump_set_string_attr(p->ctx, KDUMP_ATTR_OSTYPE, "linux");
	if (st != KDUMP_OK) {
		/* libkdumpfile words a failed allocation as its own ("Cannot allocate file cache") */
		struct ks_error *err = errno == ENOMEM ? &ks_error_nomem : ks_error_create(KS_ERR_BAD_DATA, "%s is not a readable vmcore: %s%s%s",
						       path, kdump_get_err(p->ctx),
						       p->truncated[0] ? "; " : "", p->truncated);

#if !KS_KDUMP_FREE_AFTER_FAILED_DISKDUMP_OPEN
		if (diskdump) {
			keep_failed_ctx(p->ctx);
			p->ctx = NULL;
		}
#endif
		kdump_priv_destroy(p);
		return err;
	}
	if (kdump_vmcoreinfo_raw(p->ctx, &raw) == KDUMP_OK)
		p->vmcoreinfo = raw;
	/* Every page through libkdumpfile when asked (the tests compare both). */
	if (p->dd && !(p->page = malloc(ks_diskdump_page_size(p->dd)))) {
		ks_diskdump_close(p->dd);
		p->dd = NULL;
	}
	p->direct = p->dd && !(settings && settings->pages_by_libkdumpfile) && own_translation(p);
	/* A cut ELF file: virtual reads are checked against the cut through libkdumpfile's translation. */
	if (p->ncut && kdump_get_addrxlat(p->ctx, &p->elf_axctx, &p->elf_axsys) != KDUMP_OK)
		p->elf_axctx = NULL, p->elf_axsys = NULL;
	settle_damage(p);
	return ks_target_create(&kdump_ops, p, ret);
}
