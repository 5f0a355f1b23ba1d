/*
 * Finding dumps: kdump-tools saves /var/crash/<stamp>/dump.<stamp>, kdumpctl
 * /var/crash/<host-date>/vmcore, next to logs and text files; names vary, so a
 * file counts by its header. Recursion is bounded and every directory and file
 * is visited once by (device, inode), which stops symlink loops and dumps
 * reached by two paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "triage/triage.h"
#include "base/search.h"

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct later {
	char *path;
	int depth;
};

struct finder {
	struct ks_triage_dumps *out;
	size_t cap;
	struct file_id *seen;
	size_t nseen, seen_cap;
	/* symlinked directories, walked after the real tree so that a dump keeps its real path */
	struct later *later;
	size_t nlater, later_cap;
};

/* False when (dev, ino) was seen before; records it otherwise. A lost record only costs a repeat. */
static bool first_visit(struct finder *f, const struct stat *st)
{
	struct file_id *n;

	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen[i].dev == st->st_dev && f->seen[i].ino == st->st_ino)
			return false;
	if (f->nseen == f->seen_cap) {
		size_t cap = f->seen_cap ? 2 * f->seen_cap : 64;

		n = realloc(f->seen, cap * sizeof(*n));
		if (!n)
			return true;
		f->seen = n;
		f->seen_cap = cap;
	}
	f->seen[f->nseen++] = (struct file_id){ st->st_dev, st->st_ino };
	return true;
}

/* An ELF core is a kernel's only with a VMCOREINFO note; a process core has none. */
static bool elf_has_vmcoreinfo(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool found = false;
	size_t nphdr;
	Elf *elf;

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_getphdrnum(elf, &nphdr) == 0) {
		for (size_t i = 0; !found && i < nphdr; i++) {
			GElf_Phdr ph;
			Elf_Data *data;
			GElf_Nhdr nh;
			size_t off = 0, name_off, desc_off;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			while (data && !found &&
			       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0)
				found = nh.n_namesz == sizeof("VMCOREINFO") &&
					!memcmp((const char *)data->d_buf + name_off, "VMCOREINFO",
						sizeof("VMCOREINFO"));
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return found;
}

static bool is_dump(const char *path)
{
	unsigned char hdr[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || ks_file_kind(path) != KS_FILE_VMCORE)
		return false;
	return memcmp(hdr, "\177ELF", 4) || elf_has_vmcoreinfo(path);
}

static struct ks_error *add(struct finder *f, const char *path, const struct stat *st,
			    const char *reason)
{
	struct ks_triage_entry *e;

	if (f->out->count == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;

		e = realloc(f->out->entries, cap * sizeof(*e));
		if (!e)
			return &ks_error_nomem;
		f->out->entries = e;
		f->cap = cap;
	}
	e = &f->out->entries[f->out->count];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path || (reason && !(e->reason = strdup(reason)))) {
		ks_triage_entry_deinit(e);
		return &ks_error_nomem;
	}
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->status = reason ? KS_TRIAGE_FAILED : KS_TRIAGE_PENDING;
	f->out->count++;
	return NULL;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct ks_error *walk(struct finder *f, const char *dir, int depth);

static struct ks_error *defer(struct finder *f, const char *path, int depth)
{
	if (f->nlater == f->later_cap) {
		size_t cap = f->later_cap ? 2 * f->later_cap : 16;
		struct later *n = realloc(f->later, cap * sizeof(*n));

		if (!n)
			return &ks_error_nomem;
		f->later = n;
		f->later_cap = cap;
	}
	f->later[f->nlater].path = strdup(path);
	if (!f->later[f->nlater].path)
		return &ks_error_nomem;
	f->later[f->nlater++].depth = depth;
	return NULL;
}

static struct ks_error *visit(struct finder *f, const char *path, int depth)
{
	struct stat st, lst;

	/* stat, not lstat: dumps and stamp directories may be symlinks. A dangling one is no dump. */
	if (stat(path, &st))
		return NULL;
	if (S_ISDIR(st.st_mode)) {
		if (depth >= KS_TRIAGE_MAX_DEPTH)
			return NULL;
		if (!lstat(path, &lst) && S_ISLNK(lst.st_mode))
			return defer(f, path, depth);
		return first_visit(f, &st) ? walk(f, path, depth + 1) : NULL;
	}
	if (!S_ISREG(st.st_mode) || !is_dump(path) || !first_visit(f, &st))
		return NULL;
	return add(f, path, &st, NULL);
}

static struct ks_error *walk(struct finder *f, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct ks_error *err = NULL;

	if (!d) {
		ks_lines_append(&f->out->problems, "cannot read directory %s: %s", dir,
				strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		char **nn;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				err = &ks_error_nomem;
				break;
			}
			names = nn;
		}
		if (asprintf(&names[n], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			     de->d_name) < 0) {
			err = &ks_error_nomem;
			break;
		}
		n++;
	}
	closedir(d);
	/* Name order: the first of two paths to one file is the one kept, the same on every run. */
	if (names)
		ks_sort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = visit(f, names[i], depth);
		free(names[i]);
	}
	free(names);
	return err;
}

/* Absolute without resolving symlinks: /var/crash/latest stays what the user called it. */
static char *absolute(const char *path)
{
	char *cwd, *abs, *w;

	if (path[0] == '/') {
		abs = strdup(path);
	} else {
		cwd = getcwd(NULL, 0);
		if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
			abs = NULL;
		free(cwd);
	}
	if (!abs)
		return NULL;
	/* "//" and "/./" go; ".." stays, since it means something else behind a symlink. */
	w = abs;
	for (const char *r = abs; *r;) {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	while (w > abs + 1 && w[-1] == '/')
		*--w = '\0';
	if (!abs[0])
		strcpy(abs, "/");
	return abs;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ks_triage_entry *)a)->path,
		      ((const struct ks_triage_entry *)b)->path);
}

static struct ks_error *find_one(struct finder *f, const char *arg)
{
	char *path = absolute(arg);
	struct ks_error *err = NULL;
	struct stat st;

	if (!path)
		return &ks_error_nomem;
	if (stat(path, &st)) {
		err = ks_error_create(KS_ERR_USAGE, "cannot read %s: %s", arg, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		if (first_visit(f, &st))
			err = walk(f, path, 0);
	} else if (first_visit(f, &st)) {
		/* Named on the command line: a row even when it is not a dump, saying so. */
		err = add(f, path, &st,
			  S_ISREG(st.st_mode) && is_dump(path)
				  ? NULL
				  : "not a crash dump: no kdump-compressed or ELF vmcore header");
	}
	free(path);
	return err;
}

struct ks_error *ks_triage_find(const char *const *paths, size_t n, struct ks_triage_dumps *ret)
{
	struct ks_triage_dumps out = { 0 };
	struct finder f = { .out = &out };
	struct ks_error *err = NULL;

	for (size_t i = 0; !err && i < n; i++)
		err = find_one(&f, paths[i]);
	/* Walking a deferred directory may defer more; each is walked once, so this ends. */
	for (size_t i = 0; i < f.nlater; i++) {
		struct stat st;

		if (!err && !stat(f.later[i].path, &st) && first_visit(&f, &st))
			err = walk(&f, f.later[i].path, f.later[i].depth + 1);
		free(f.later[i].path);
	}
	free(f.later);
	free(f.seen);
	if (err) {
		ks_triage_dumps_deinit(&out);
		return err;
	}
	if (out.count)
		ks_sort(out.entries, out.count, sizeof(*out.entries), entry_cmp);
	*ret = out;
	return NULL;
}
