/*
 * A vmlinux shipped compressed (vmlinux.xz, vmlinux.gz): its ELF as a file
 * descriptor libelf can map. Decompressed once into the cache directory, kept
 * under a name made of the compressed file's identity (device, inode, size,
 * modification time), so later runs map it directly; without a cache
 * directory, into an unnamed temporary file that goes with the process.
 */
#ifndef KSTALL_DECOMPRESS_H
#define KSTALL_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "kstall/error.h"

enum ks_compression { KS_COMPRESSION_NONE, KS_COMPRESSION_XZ, KS_COMPRESSION_GZIP };

/* From a file's first bytes. */
enum ks_compression ks_compression_of(const unsigned char *hdr, size_t len);
const char *ks_compression_name(enum ks_compression c);
/* The first len bytes of the decompressed content, for telling a vmlinux from other ELF files. */
bool ks_decompress_head(const char *path, enum ks_compression c, unsigned char *buf, size_t len);
/*
 * A read-only descriptor of path's decompressed content (the caller closes it): kept in cache_dir
 * when there is one (and it can be written), else an unnamed file in tmp_dir (NULL: /tmp).
 */
struct ks_error *ks_decompress_open(const char *path, enum ks_compression c, const char *cache_dir,
				    const char *tmp_dir, int *ret);

#endif
