/*
 * Pages of a kdump-compressed file (makedumpfile -c), read without libkdumpfile.
 *
 * libkdumpfile starts a new zlib stream for every page it reads (an allocation
 * and a 32 KiB window each); on a dump of 10k tasks that was a third of
 * kstall's time. This reader decompresses whole pages with libdeflate. It
 * knows only the common shape: one file, zlib or uncompressed pages; anything
 * else is left to
 * libkdumpfile (ks_diskdump_open gives NULL), and so is every page this reader
 * cannot serve, so that its errors keep libkdumpfile's wording.
 */
#ifndef KSTALL_DISKDUMP_H
#define KSTALL_DISKDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * makedumpfile's disk_dump_header and kdump_sub_header, x86_64 layout: the
 * header checks of the libkdumpfile backend read the same fields.
 */
#define KS_DD_HEADER_VERSION 0x8
#define KS_DD_BLOCK_SIZE 0x1ac
#define KS_DD_SUB_HDR_SIZE 0x1b0
#define KS_DD_BITMAP_BLOCKS 0x1b4
#define KS_DD_MAX_MAPNR 0x1b8
#define KS_DD_SUB_SPLIT 12
#define KS_DD_SUB_OFF_VMCOREINFO 32
#define KS_DD_SUB_OFF_NOTE 48
#define KS_DD_SUB_MAX_MAPNR_64 96
#define KS_DD_SUB_SIZE 104
#define KS_DD_PAGE_DESC_SIZE 24

/* A little-endian field of n bytes, as the file stores them. */
uint64_t ks_diskdump_le(const unsigned char *p, size_t n);
/* pread of exactly len bytes at off. */
bool ks_diskdump_pread(int fd, void *buf, size_t len, uint64_t off);

struct ks_diskdump;

/*
 * hdr: the file's first 0x1c0 bytes, already checked by the caller. NULL when the
 * file is not of the shape this reader knows, or memory is short.
 */
struct ks_diskdump *ks_diskdump_open(int fd, const unsigned char *hdr, uint64_t fsize);
void ks_diskdump_close(struct ks_diskdump *d);
/*
 * A second reader of the same file, for another thread: buffers and caches of
 * its own, the page map shared. Close it before d. NULL when memory is short.
 */
struct ks_diskdump *ks_diskdump_clone(const struct ks_diskdump *d);

uint32_t ks_diskdump_page_size(const struct ks_diskdump *d);
/* How many page frames the dump's bitmaps cover (max_mapnr). */
uint64_t ks_diskdump_pfns(const struct ks_diskdump *d);

/* Is the page at this physical address in the dump? */
bool ks_diskdump_has(const struct ks_diskdump *d, uint64_t paddr);

/*
 * Read the whole page holding paddr into buf (page_size bytes). false when the
 * page is not in the dump, or is stored in a way this reader does not decode,
 * or the file is damaged there: the caller asks libkdumpfile, which says why.
 */
/* What a page read gave. */
enum ks_dd_page {
	KS_DD_OK,
	KS_DD_ABSENT,  /* not in the dump (filtered out, or no such page) */
	KS_DD_OTHER,   /* compressed by a method only libkdumpfile decodes: ask it */
	KS_DD_IO,      /* the file could not be read there (it is cut short) */
	KS_DD_DAMAGED, /* its descriptor or data is corrupt: no reader may retry it; why says how */
};

/*
 * Look at every page descriptor once (what libkdumpfile would trust blindly):
 * the corrupt ones are then refused by every read. False when memory is short.
 */
bool ks_diskdump_scan(struct ks_diskdump *d);
/* How many descriptors the scan found corrupt; the first one's pfn and why. */
uint64_t ks_diskdump_damaged(const struct ks_diskdump *d, uint64_t *first_pfn, const char **why);

/* How the bitmaps disagree with the descriptors (a flipped bit), found by the scan; NULL when they agree. */
const char *ks_diskdump_layout_damage(const struct ks_diskdump *d);

/* Of those, the compressed ones bigger than a page (what overflows libkdumpfile < 0.5.4). */
uint64_t ks_diskdump_oversized(const struct ks_diskdump *d);

/* The page at paddr (page-aligned) into buf; why (len bytes) says why when DAMAGED. */
enum ks_dd_page ks_diskdump_read_page(struct ks_diskdump *d, uint64_t paddr, void *buf, char *why,
				      size_t len);

#endif
