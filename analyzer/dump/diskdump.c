#include "dump/diskdump.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>

#define DUMP_DH_COMPRESSED_ZLIB 0x1u

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

bool ks_diskdump_read_page(struct ks_diskdump *d, uint64_t paddr, void *buf)
{
	uint64_t pfn = paddr / d->page_size, idx, off, size, flags;
	size_t w = (size_t)(pfn / 64), got;
	unsigned char desc[KS_DD_PAGE_DESC_SIZE];

	if (!ks_diskdump_has(d, paddr))
		return false;
	idx = d->rank[w / WORDS_PER_RANK];
	for (size_t i = w - w % WORDS_PER_RANK; i < w; i++)
		idx += (uint64_t)__builtin_popcountll(word(d, i));
	idx += (uint64_t)__builtin_popcountll(word(d, w) & (((uint64_t)1 << (pfn % 64)) - 1));
	if (!read_desc(d, idx, desc))
		return false;
	off = ks_diskdump_le(desc, 8);
	size = ks_diskdump_le(desc + 8, 4);
	flags = ks_diskdump_le(desc + 12, 4);
	if (!size || size > d->page_size || off > d->fsize || size > d->fsize - off)
		return false;
	if (!flags && size == d->page_size)
		return ks_diskdump_pread(d->fd, buf, size, off);
	if (flags != DUMP_DH_COMPRESSED_ZLIB || !ks_diskdump_pread(d->fd, d->packed, size, off))
		return false;
	/* A zlib stream (compress2): success means a whole page whose Adler-32 holds. */
	return libdeflate_zlib_decompress(d->inflater, d->packed, size, buf, d->page_size, &got) ==
		       LIBDEFLATE_SUCCESS &&
	       got == d->page_size;
}
