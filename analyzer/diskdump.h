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
#include <stdint.h>

struct ks_diskdump;

/*
 * hdr: the file's first 0x1c0 bytes, already checked by the caller. NULL when the
 * file is not of the shape this reader knows, or memory is short.
 */
struct ks_diskdump *ks_diskdump_open(int fd, const unsigned char *hdr, uint64_t fsize);
void ks_diskdump_close(struct ks_diskdump *d);

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
bool ks_diskdump_read_page(struct ks_diskdump *d, uint64_t paddr, void *buf);

#endif
