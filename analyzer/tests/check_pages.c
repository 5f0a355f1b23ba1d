/*
 * Every page of a real dump, read by kstall's own kdump-compressed reader and
 * by libkdumpfile, must be the same bytes; pages the reader says are absent
 * must be absent for libkdumpfile too.
 * Usage: check_pages VMCORE
 */
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/diskdump.h"

int main(int argc, char **argv)
{
	unsigned char hdr[0x1c0], *mine, *theirs;
	unsigned long present = 0, absent = 0, bad = 0;
	struct ks_diskdump *d;
	kdump_ctx_t *ctx;
	struct stat sb;
	uint32_t ps;
	uint64_t max;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: check_pages VMCORE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb) || pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr)) {
		perror(argv[1]);
		return 2;
	}
	d = ks_diskdump_open(fd, hdr, (uint64_t)sb.st_size);
	ctx = kdump_new();
	if (!d || !ctx || kdump_open_fd(ctx, fd) != KDUMP_OK ||
	    kdump_set_string_attr(ctx, KDUMP_ATTR_OSTYPE, "linux") != KDUMP_OK) {
		fprintf(stderr, "FAIL: %s: cannot open with both readers\n", argv[1]);
		return 1;
	}
	ps = ks_diskdump_page_size(d);
	mine = malloc(ps);
	theirs = malloc(ps);
	max = ks_diskdump_pfns(d);
	for (uint64_t pfn = 0; pfn < max && mine && theirs; pfn++) {
		size_t got = ps;
		kdump_status st = kdump_read(ctx, KDUMP_KPHYSADDR, pfn * ps, theirs, &got);

		if (ks_diskdump_has(d, pfn * ps)) {
			present++;
			char why[96];

			if (ks_diskdump_read_page(d, pfn * ps, mine, why, sizeof(why)) != KS_DD_OK || st != KDUMP_OK || got != ps ||
			    memcmp(mine, theirs, ps)) {
				if (bad++ < 10)
					fprintf(stderr, "FAIL: pfn 0x%llx differs (libkdumpfile: %s)\n",
						(unsigned long long)pfn, st == KDUMP_OK ? "ok" : kdump_get_err(ctx));
			}
		} else {
			absent++;
			if (st == KDUMP_OK && bad++ < 10)
				fprintf(stderr, "FAIL: pfn 0x%llx absent here, present for libkdumpfile\n",
					(unsigned long long)pfn);
		}
	}
	printf("%s: %lu pages present, %lu absent, %lu differ\n", argv[1], present, absent, bad);
	free(mine);
	free(theirs);
	kdump_free(ctx);
	ks_diskdump_close(d);
	close(fd);
	return bad || present < 1000 ? 1 : 0;
}
