#include "dump/diskdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>

#define DUMP_DH_COMPRESSED_ZLIB 0x1u
/* makedumpfile's other methods (lzo, snappy, zstd): libkdumpfile decodes them */
#define DUMP_DH_COMPRESSED_OTHER (0x2u | 0x4u | 0x20u)

/* One rank sample per WORDS_PER_RANK bitmap words: the rank of a pfn costs at most that many popcounts. */
#define WORDS_PER_RANK 8

/*
 * Page descriptors are read 170 at a time (a 4 KiB read serves a run of
 * neighbouring pfns), and the last 64 such blocks are kept: on a dump of 10k
 * tasks this cuts the preads from 55 576 to 36 415. Page data is read
 * exactly: caching it in blocks (4 to 64 KiB) saved preads but cost as much
 * in copying, the pages kstall reads being scattered over the file.
 */
#define DESCS_PER_BLOCK 170u
#define DESC_SLOTS 64u

struct desc_slot {
	uint64_t block_1; /* block + 1; 0 when empty */
	unsigned char data[DESCS_PER_BLOCK * KS_DD_PAGE_DESC_SIZE];
};

struct ks_diskdump {
	int fd;
	uint32_t page_size;
	uint64_t max_mapnr;
	uint64_t desc_off;
	uint64_t fsize;
	/* the second bitmap: the pages that are in the file, in pfn order */
	uint64_t *bitmap;
	size_t nwords;
	/* descriptors before word i * WORDS_PER_RANK */
	uint64_t *rank;
	unsigned char *packed;
	struct libdeflate_decompressor *inflater;
	uint64_t ndescs; /* descriptors in the file (set bits of the bitmap) */
	struct desc_slot *descs;
	/* descriptors the scan found corrupt, the first of them, and why it is */
	uint64_t nbad, first_bad, noversize;
	uint64_t bitmap1_off; /* the first bitmap: the pages that exist */
	char layout_bad[160]; /* "" or how the bitmaps disagree with the descriptors */
	char bad_why[80];
	/* bitmap and rank belong to the reader this one was cloned from */
	bool borrowed;
};

uint64_t ks_diskdump_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

bool ks_diskdump_pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n >= 0 && (size_t)n == len;
}

struct ks_diskdump *ks_diskdump_open(int fd, const unsigned char *hdr, uint64_t fsize)
{
	uint64_t block = ks_diskdump_le(hdr + KS_DD_BLOCK_SIZE, 4), sub = ks_diskdump_le(hdr + KS_DD_SUB_HDR_SIZE, 4);
	uint64_t bitmap_blocks = ks_diskdump_le(hdr + KS_DD_BITMAP_BLOCKS, 4), mapnr = ks_diskdump_le(hdr + KS_DD_MAX_MAPNR, 4);
	int32_t version = (int32_t)ks_diskdump_le(hdr + KS_DD_HEADER_VERSION, 4);
	unsigned char subhdr[KS_DD_SUB_SIZE];
	struct ks_diskdump *d;
	uint64_t bitmap_len;

	/* "DISKDUMP" files and split dumps have other layouts: libkdumpfile's job. */
	if (memcmp(hdr, "KDUMP   ", 8) || version < 1 || block < 1024 || block > 65536 ||
	    (block & (block - 1)) || !ks_diskdump_pread(fd, subhdr, sizeof(subhdr), block) ||
	    ks_diskdump_le(subhdr + KS_DD_SUB_SPLIT, 4))
		return NULL;
	if (version >= 6)
		mapnr = ks_diskdump_le(subhdr + KS_DD_SUB_MAX_MAPNR_64, 8);
	bitmap_len = bitmap_blocks / 2 * block;
	if (!mapnr || mapnr > bitmap_len * 8 || bitmap_len > ((uint64_t)1 << 32))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->fd = fd;
	d->page_size = (uint32_t)block;
	d->max_mapnr = mapnr;
	d->fsize = fsize;
	d->desc_off = (1 + sub + bitmap_blocks) * block;
	d->bitmap1_off = (1 + sub) * block;
	d->nwords = (size_t)((mapnr + 63) / 64);
	d->bitmap = malloc(d->nwords * 8);
	d->rank = malloc((d->nwords / WORDS_PER_RANK + 1) * sizeof(*d->rank));
	d->packed = malloc(block);
	d->descs = calloc(DESC_SLOTS, sizeof(*d->descs));
	if (!d->bitmap || !d->rank || !d->packed || !d->descs ||
	    !ks_diskdump_pread(fd, d->bitmap, d->nwords * 8, (1 + sub + bitmap_blocks / 2) * block) ||
	    !(d->inflater = libdeflate_alloc_decompressor())) {
		ks_diskdump_close(d);
		return NULL;
	}
	/* Bits past max_mapnr are no pages. */
	if (mapnr % 64)
		d->bitmap[d->nwords - 1] &= ((uint64_t)1 << (mapnr % 64)) - 1;
	for (size_t w = 0, n = 0; w < d->nwords; w++) {
		if (w % WORDS_PER_RANK == 0)
			d->rank[w / WORDS_PER_RANK] = n;
		n += (uint64_t)__builtin_popcountll(ks_diskdump_le((const unsigned char *)&d->bitmap[w], 8));
		d->ndescs = n;
	}
	return d;
}

struct ks_diskdump *ks_diskdump_clone(const struct ks_diskdump *d)
{
	struct ks_diskdump *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *d;
	c->borrowed = true;
	c->packed = malloc(d->page_size);
	c->descs = calloc(DESC_SLOTS, sizeof(*c->descs));
	c->inflater = libdeflate_alloc_decompressor();
	if (!c->packed || !c->descs || !c->inflater) {
		ks_diskdump_close(c);
		return NULL;
	}
	return c;
}

void ks_diskdump_close(struct ks_diskdump *d)
{
	if (!d)
		return;
	if (d->inflater)
		libdeflate_free_decompressor(d->inflater);
	if (!d->borrowed) {
		free(d->bitmap);
		free(d->rank);
	}
	free(d->packed);
	free(d->descs);
	free(d);
}

uint32_t ks_diskdump_page_size(const struct ks_diskdump *d)
{
	return d->page_size;
}

uint64_t ks_diskdump_pfns(const struct ks_diskdump *d)
{
	return d->max_mapnr;
}

/* The bitmap word as the file has it: little-endian, bit n of byte b is pfn 8b+n. */
static uint64_t word(const struct ks_diskdump *d, size_t w)
{
	return ks_diskdump_le((const unsigned char *)&d->bitmap[w], 8);
}

bool ks_diskdump_has(const struct ks_diskdump *d, uint64_t paddr)
{
	uint64_t pfn = paddr / d->page_size;

	return pfn < d->max_mapnr && (word(d, (size_t)(pfn / 64)) >> (pfn % 64) & 1);
}

/* Descriptor idx (its 24 bytes) through the descriptor cache. */
static bool read_desc(struct ks_diskdump *d, uint64_t idx, unsigned char *out)
{
	uint64_t block = idx / DESCS_PER_BLOCK, first = block * DESCS_PER_BLOCK;
	struct desc_slot *slot = &d->descs[block % DESC_SLOTS];

	if (slot->block_1 != block + 1) {
		uint64_t n = d->ndescs - first < DESCS_PER_BLOCK ? d->ndescs - first : DESCS_PER_BLOCK;

		slot->block_1 = 0;
		if (idx >= d->ndescs ||
		    !ks_diskdump_pread(d->fd, slot->data, n * KS_DD_PAGE_DESC_SIZE,
				       d->desc_off + first * KS_DD_PAGE_DESC_SIZE))
			return false;
		slot->block_1 = block + 1;
	}
	memcpy(out, slot->data + (idx - first) * KS_DD_PAGE_DESC_SIZE, KS_DD_PAGE_DESC_SIZE);
	return true;
}

/*
 * Why descriptor (off, size, flags) cannot be read, or NULL. libkdumpfile
 * before 0.5.4 copies a compressed page of any size up to 64 KiB into a buffer
 * of one page: a size over the page size overflows it, so such a descriptor
 * must never reach it.
 */
static const char *desc_fault(const struct ks_diskdump *d, uint64_t off, uint64_t size, uint64_t flags,
			      char *why, size_t len)
{
	if (flags & ~(uint64_t)(DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_OTHER))
		snprintf(why, len, "unknown compression flags 0x%llx", (unsigned long long)flags);
	else if (!flags && size != d->page_size)
		snprintf(why, len, "an uncompressed page of %llu bytes", (unsigned long long)size);
	else if (!size || size > d->page_size)
		snprintf(why, len, "compressed data of %llu bytes (the page size is %u)",
			 (unsigned long long)size, d->page_size);
	else if (off > d->fsize || size > d->fsize - off)
		/* a cut file, or an offset gone wrong: either way the data is not there */
		snprintf(why, len, "data at byte %llu, %llu bytes, past the end of the file (%llu bytes)",
			 (unsigned long long)off, (unsigned long long)size, (unsigned long long)d->fsize);
	else
		return NULL;
	return why;
}

#define SCAN_DESCS 43690u /* about 1 MiB of descriptors per read */

/*
 * makedumpfile writes one descriptor per bit of the second bitmap, then the
 * page data right after the descriptors (the shared zero page first), and
 * dumps only pages the first bitmap says exist. A bit flipped in a bitmap moves
 * every later pfn onto another page's descriptor: each read would return some
 * other page, with nothing to see. Both rules are checked.
 */
static bool check_layout(struct ks_diskdump *d, uint64_t min_off, bool all_read)
{
	uint64_t table_end = d->desc_off + d->ndescs * KS_DD_PAGE_DESC_SIZE;
	uint64_t *b1 = malloc(d->nwords * 8);

	if (!b1)
		return false;
	if (all_read && d->ndescs && min_off != table_end)
		snprintf(d->layout_bad, sizeof(d->layout_bad),
			 "the page bitmap marks %llu pages as dumped, so page data should begin at byte "
			 "%llu, but the descriptors place it at %llu",
			 (unsigned long long)d->ndescs, (unsigned long long)table_end,
			 (unsigned long long)min_off);
	else if (ks_diskdump_pread(d->fd, b1, d->nwords * 8, d->bitmap1_off))
		for (size_t w = 0; w < d->nwords; w++)
			if (word(d, w) & ~ks_diskdump_le((const unsigned char *)&b1[w], 8)) {
				snprintf(d->layout_bad, sizeof(d->layout_bad),
					 "the page bitmaps disagree: pfn 0x%llx is dumped but not a page "
					 "the first bitmap lists",
					 (unsigned long long)(w * 64 + (uint64_t)__builtin_ctzll(
						 word(d, w) & ~ks_diskdump_le((const unsigned char *)&b1[w], 8))));
				break;
			}
	free(b1);
	return true;
}

const char *ks_diskdump_layout_damage(const struct ks_diskdump *d)
{
	return d->layout_bad[0] ? d->layout_bad : NULL;
}

bool ks_diskdump_scan(struct ks_diskdump *d)
{
	uint64_t avail, min_off = UINT64_MAX;
	unsigned char *buf;

	if (d->borrowed)
		return true;
	buf = malloc((size_t)SCAN_DESCS * KS_DD_PAGE_DESC_SIZE);
	if (!buf)
		return false;
	/* descriptors past the end of a cut file are not read: their pages fail as cut */
	avail = d->fsize > d->desc_off ? (d->fsize - d->desc_off) / KS_DD_PAGE_DESC_SIZE : 0;
	if (avail > d->ndescs)
		avail = d->ndescs;
	for (uint64_t first = 0; first < avail; first += SCAN_DESCS) {
		uint64_t n = avail - first < SCAN_DESCS ? avail - first : SCAN_DESCS;

		if (!ks_diskdump_pread(d->fd, buf, n * KS_DD_PAGE_DESC_SIZE,
				       d->desc_off + first * KS_DD_PAGE_DESC_SIZE))
			break;
		for (uint64_t i = 0; i < n; i++) {
			const unsigned char *e = buf + i * KS_DD_PAGE_DESC_SIZE;
			char why[sizeof(d->bad_why)];
			uint64_t idx = first + i;

			if (ks_diskdump_le(e, 8) < min_off)
				min_off = ks_diskdump_le(e, 8);

			if (!desc_fault(d, ks_diskdump_le(e, 8), ks_diskdump_le(e + 8, 4),
					ks_diskdump_le(e + 12, 4), why, sizeof(why)))
				continue;
			if (ks_diskdump_le(e + 12, 4) && ks_diskdump_le(e + 8, 4) > d->page_size)
				d->noversize++;
			if (!d->nbad++) {
				d->first_bad = idx;
				memcpy(d->bad_why, why, sizeof(why));
			}
		}
	}
	free(buf);
	return check_layout(d, min_off, avail == d->ndescs);
}

uint64_t ks_diskdump_oversized(const struct ks_diskdump *d)
{
	return d->noversize;
}

uint64_t ks_diskdump_damaged(const struct ks_diskdump *d, uint64_t *first_pfn, const char **why)
{
	if (d->nbad && first_pfn) {
		/* the pfn of descriptor first_bad: the first_bad-th set bit of the bitmap */
		uint64_t left = d->first_bad;

		for (size_t w = 0; w < d->nwords; w++) {
			uint64_t bits = word(d, w);
			unsigned c = (unsigned)__builtin_popcountll(bits);

			if (left >= c) {
				left -= c;
				continue;
			}
			while (left--)
				bits &= bits - 1;
			*first_pfn = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(bits);
			break;
		}
	}
	if (why)
		*why = d->bad_why;
	return d->nbad;
}

enum ks_dd_page ks_diskdump_read_page(struct ks_diskdump *d, uint64_t paddr, void *buf, char *why,
				      size_t len)
{
	uint64_t pfn = paddr / d->page_size, idx, off, size, flags;
	size_t w = (size_t)(pfn / 64), got;
	unsigned char desc[KS_DD_PAGE_DESC_SIZE];

	if (!ks_diskdump_has(d, paddr))
		return KS_DD_ABSENT;
	idx = d->rank[w / WORDS_PER_RANK];
	for (size_t i = w - w % WORDS_PER_RANK; i < w; i++)
		idx += (uint64_t)__builtin_popcountll(word(d, i));
	idx += (uint64_t)__builtin_popcountll(word(d, w) & (((uint64_t)1 << (pfn % 64)) - 1));
	if (!read_desc(d, idx, desc))
		return KS_DD_IO;
	off = ks_diskdump_le(desc, 8);
	size = ks_diskdump_le(desc + 8, 4);
	flags = ks_diskdump_le(desc + 12, 4);
	if (desc_fault(d, off, size, flags, why, len))
		return KS_DD_DAMAGED;
	if (off > d->fsize || size > d->fsize - off)
		return KS_DD_IO;
	if (!flags)
		return ks_diskdump_pread(d->fd, buf, size, off) ? KS_DD_OK : KS_DD_IO;
	if (flags != DUMP_DH_COMPRESSED_ZLIB)
		return KS_DD_OTHER;
	if (!ks_diskdump_pread(d->fd, d->packed, size, off))
		return KS_DD_IO;
	/* A zlib stream (compress2): success means a whole page whose Adler-32 holds. */
	if (libdeflate_zlib_decompress(d->inflater, d->packed, size, buf, d->page_size, &got) ==
		    LIBDEFLATE_SUCCESS &&
	    got == d->page_size)
		return KS_DD_OK;
	snprintf(why, len, "its zlib data (%llu bytes at %llu) does not decompress to a page",
		 (unsigned long long)size, (unsigned long long)off);
	return KS_DD_DAMAGED;
}
