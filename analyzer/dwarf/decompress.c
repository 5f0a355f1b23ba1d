/* Compressed vmlinux files: see decompress.h. liblzma and zlib, streamed: nothing is held whole. */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/io.h"
#include "dwarf/decompress.h"

#define CHUNK (1u << 20)

enum ks_compression ks_compression_of(const unsigned char *hdr, size_t len)
{
	if (len >= 6 && !memcmp(hdr, "\xfd" "7zXZ\0", 6))
		return KS_COMPRESSION_XZ;
	if (len >= 2 && hdr[0] == 0x1f && hdr[1] == 0x8b)
		return KS_COMPRESSION_GZIP;
	return KS_COMPRESSION_NONE;
}

const char *ks_compression_name(enum ks_compression c)
{
	return c == KS_COMPRESSION_XZ ? "xz" : c == KS_COMPRESSION_GZIP ? "gzip" : "none";
}

/* One decoder over both formats: feed input, take output. */
struct decoder {
	enum ks_compression kind;
	lzma_stream xz;
	z_stream gz;
	bool ended;
	/* gzip: a member ended with no input after it yet; the file may hold another */
	bool member_end;
};

static bool decoder_init(struct decoder *d, enum ks_compression c)
{
	memset(d, 0, sizeof(*d));
	d->kind = c;
	if (c == KS_COMPRESSION_XZ) {
		d->xz = (lzma_stream)LZMA_STREAM_INIT;
		return lzma_stream_decoder(&d->xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
	}
	/* 15 + 32: a gzip (or zlib) header, detected */
	return inflateInit2(&d->gz, 15 + 32) == Z_OK;
}

static void decoder_end(struct decoder *d)
{
	if (d->kind == KS_COMPRESSION_XZ)
		lzma_end(&d->xz);
	else
		inflateEnd(&d->gz);
}

/*
 * Decodes from in (*in_len bytes, updated to what is left) into out (*out_len, updated to what was
 * written). finish: no more input. False on corrupt input.
 */
static bool decode(struct decoder *d, const unsigned char **in, size_t *in_len, unsigned char *out,
		   size_t *out_len, bool finish)
{
	size_t room = *out_len;

	if (d->kind == KS_COMPRESSION_XZ) {
		lzma_ret r;

		d->xz.next_in = *in;
		d->xz.avail_in = *in_len;
		d->xz.next_out = out;
		d->xz.avail_out = room;
		r = lzma_code(&d->xz, finish ? LZMA_FINISH : LZMA_RUN);
		*in = d->xz.next_in;
		*in_len = d->xz.avail_in;
		*out_len = room - d->xz.avail_out;
		d->ended = r == LZMA_STREAM_END;
		return r == LZMA_OK || r == LZMA_STREAM_END || r == LZMA_BUF_ERROR;
	} else {
		int r;

		d->gz.next_in = (unsigned char *)*in;
		d->gz.avail_in = (uInt)*in_len;
		d->gz.next_out = out;
		d->gz.avail_out = (uInt)room;
		r = inflate(&d->gz, Z_NO_FLUSH);
		*in = d->gz.next_in;
		*in_len = d->gz.avail_in;
		*out_len = room - d->gz.avail_out;
		/*
		 * gzip files may hold several members one after another (cat a.gz b.gz, bgzip), as
		 * gzip -d reads them: another member's magic after the end starts it; the end of the
		 * input ends the file (decompress_into says so), anything else after it is ignored.
		 */
		if (r == Z_STREAM_END) {
			if (*in_len >= 2 && (*in)[0] == 0x1f && (*in)[1] == 0x8b)
				return inflateReset(&d->gz) == Z_OK;
			d->member_end = true;
			d->ended = *in_len > 0;
			return true;
		}
		d->member_end = false;
		return r == Z_OK || r == Z_BUF_ERROR;
	}
}

bool ks_decompress_head(const char *path, enum ks_compression c, unsigned char *buf, size_t len)
{
	unsigned char in[4096];
	size_t got = 0;
	struct decoder d;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && decoder_init(&d, c);

	if (!ok) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (ok && got < len && !d.ended) {
		ssize_t n = read(fd, in, sizeof(in));
		const unsigned char *p = in;
		size_t left = n > 0 ? (size_t)n : 0;

		if (n <= 0)
			break;
		while (ok && left && got < len && !d.ended) {
			size_t room = len - got;

			ok = decode(&d, &p, &left, buf + got, &room, false);
			got += room;
			if (!room && left == (size_t)n)
				break;
		}
	}
	decoder_end(&d);
	close(fd);
	return ok && got == len;
}

/* All of in_fd decompressed into out_fd. */
static struct ks_error *decompress_into(const char *path, int in_fd, enum ks_compression c, int out_fd)
{
	unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
	struct decoder d;
	struct ks_error *err = NULL;
	bool eof = false;

	if (!in || !out || !decoder_init(&d, c)) {
		free(in);
		free(out);
		return &ks_error_nomem;
	}
	while (!err && !d.ended) {
		ssize_t n = eof ? 0 : read(in_fd, in, CHUNK);
		const unsigned char *p = in;
		size_t left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = ks_error_create(KS_ERR_OS, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		eof = n == 0;
		left = (size_t)n;
		do {
			size_t made = CHUNK;

			if (!decode(&d, &p, &left, out, &made, eof)) {
				err = ks_error_create(KS_ERR_BAD_DATA, "%s: corrupt %s data", path,
						      ks_compression_name(c));
				break;
			}
			if (made && !ks_write_all(out_fd, out, made))
				err = ks_error_create(KS_ERR_OS, "cannot write the decompressed %s: %s", path,
						      strerror(errno));
			/* the input is over right after a gzip member: that is the file's end */
			if (eof && !left && d.member_end)
				d.ended = true;
			if (!made && eof && !d.ended && !left)
				err = ks_error_create(KS_ERR_BAD_DATA, "%s is cut short (its %s stream has no end)",
						      path, ks_compression_name(c));
		} while (!err && !d.ended && (left || (eof && !err)));
	}
	decoder_end(&d);
	free(in);
	free(out);
	return err;
}

/* Where O_TMPFILE is not supported: a named file, unlinked at once. */
static int unlinked_temp(const char *dir)
{
	char *name;
	int fd;

	if (asprintf(&name, "%s/kstall-vmlinux-XXXXXX", dir) < 0)
		return -1;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0)
		unlink(name);
	free(name);
	return fd;
}

/* An unnamed file in dir, for a decompressed copy nobody else needs. */
static struct ks_error *temp_file(const char *path, const char *dir, int *ret)
{
	*ret = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*ret < 0 && errno == EOPNOTSUPP)
		*ret = unlinked_temp(dir);
	return *ret < 0 ? ks_error_create(KS_ERR_OS, "no place to decompress %s (%s: %s)", path, dir,
					   strerror(errno))
			: NULL;
}

struct ks_error *ks_decompress_open(const char *path, enum ks_compression c, const char *cache_dir,
				    const char *tmp_dir, int *ret)
{
	struct stat st;
	char *cached = NULL, *tmp = NULL;
	struct ks_error *err;
	int in_fd = open(path, O_RDONLY | O_CLOEXEC), out_fd = -1;

	if (in_fd < 0)
		return ks_error_create(KS_ERR_OS, "cannot open %s: %s", path, strerror(errno));
	if (fstat(in_fd, &st)) {
		close(in_fd);
		return ks_error_create(KS_ERR_OS, "cannot stat %s: %s", path, strerror(errno));
	}
	if (cache_dir &&
	    asprintf(&cached, "%s/vmlinux-%llx-%llx-%llx-%llx.elf", cache_dir, (unsigned long long)st.st_dev,
		     (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
		     (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec) < 0)
		cached = NULL;
	if (cached && (*ret = open(cached, O_RDONLY | O_CLOEXEC)) >= 0) {
		close(in_fd);
		free(cached);
		return NULL;
	}
	/* written under a temporary name, renamed when whole: a reader never maps half a file */
	if (cached && asprintf(&tmp, "%s.%ld.tmp", cached, (long)getpid()) >= 0) {
		mkdir(cache_dir, 0700);
		out_fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (out_fd >= 0) {
		err = decompress_into(path, in_fd, c, out_fd);
		if (!err && rename(tmp, cached))
			err = ks_error_create(KS_ERR_OS, "cannot keep the decompressed %s as %s: %s", path,
					      cached, strerror(errno));
		if (!err) {
			*ret = out_fd;
			goto out;
		}
		unlink(tmp);
		close(out_fd);
		out_fd = -1;
		/* corrupt input stays an error; a cache that cannot be written (full) falls back */
		if (err->code != KS_ERR_OS)
			goto out;
		ks_error_destroy(err);
		if (lseek(in_fd, 0, SEEK_SET) < 0) {
			err = ks_error_create(KS_ERR_OS, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
	}
	err = temp_file(path, tmp_dir ? tmp_dir : "/tmp", &out_fd);
	if (!err)
		err = decompress_into(path, in_fd, c, out_fd);
	if (err) {
		if (out_fd >= 0)
			close(out_fd);
		goto out;
	}
	*ret = out_fd;
out:
	close(in_fd);
	free(cached);
	free(tmp);
	return err;
}
