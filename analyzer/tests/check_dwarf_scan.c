/*
 * The name index of a real vmlinux, made to the end by kstall's own DIE
 * reader (dwarf_scan.c) and by libdw, must hold the same names with the same
 * values, and the own reader must have read every unit itself.
 * Usage: check_dwarf_scan VMLINUX
 */
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarf/dwarf_index.h"
#include "kstall/settings.h"

struct entry {
	char *key;
	uint64_t value;
};

struct list {
	struct entry *e;
	size_t n, cap;
	bool nomem;
};

static void add(void *arg, const char *key, uint64_t value)
{
	struct list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		struct entry *n = realloc(l->e, cap * sizeof(*n));

		if (!n) {
			l->nomem = true;
			return;
		}
		l->e = n;
		l->cap = cap;
	}
	l->e[l->n].key = strdup(key);
	l->e[l->n].value = value;
	if (!l->e[l->n].key)
		l->nomem = true;
	else
		l->n++;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* The whole index by one reader; units_libdw: how many units libdw read. */
static bool index_all(const char *path, const char *reader, struct list *l, unsigned *units,
		      unsigned *units_libdw)
{
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Dwarf *dwarf;
	struct ks_dwarf_index *ix = NULL;
	struct ks_error *err;
	uint64_t read, size;
	unsigned units_helper;
	bool ok = false;

	if (fd < 0) {
		perror(path);
		return false;
	}
	struct ks_settings settings = { .dwarf_by_libdw = !strcmp(reader, "libdw") };

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	dwarf = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	if (!dwarf) {
		fprintf(stderr, "%s: no DWARF\n", path);
	} else if ((err = ks_dwarf_index_open(elf, dwarf, path, NULL, "", 0, &settings, &ix))) {
		fprintf(stderr, "%s: %s\n", path, err->message ? err->message : "error");
		ks_error_destroy(err);
	} else if (!ks_dwarf_index_each(ix, add, l) || l->nomem) {
		fprintf(stderr, "out of memory\n");
	} else {
		ks_dwarf_index_built(ix, units, units_libdw, &units_helper, &read, &size);
		ok = read == size;
		if (!ok)
			fprintf(stderr, "%s reader: read %llu of %llu bytes\n", reader,
				(unsigned long long)read, (unsigned long long)size);
	}
	ks_dwarf_index_free(ix);
	if (dwarf)
		dwarf_end(dwarf);
	if (elf)
		elf_end(elf);
	close(fd);
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	return ok;
}

int main(int argc, char **argv)
{
	struct list mine = { 0 }, theirs = { 0 };
	unsigned units = 0, by_libdw = 0, units_ref = 0, by_libdw_ref = 0, kinds[128] = { 0 };
	size_t i = 0, j = 0, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: check_dwarf_scan VMLINUX\n");
		return 2;
	}
	if (!index_all(argv[1], "libdw", &theirs, &units_ref, &by_libdw_ref) ||
	    !index_all(argv[1], "own", &mine, &units, &by_libdw))
		return 2;
	while (i < mine.n || j < theirs.n) {
		int c = i == mine.n ? 1 : j == theirs.n ? -1 : strcmp(mine.e[i].key, theirs.e[j].key);

		if (c == 0 && mine.e[i].value == theirs.e[j].value) {
			kinds[(unsigned char)mine.e[i].key[0] & 127]++;
			i++, j++;
			continue;
		}
		if (bad++ < 20) {
			if (c < 0)
				printf("only the own reader has %s = %llx\n", mine.e[i].key,
				       (unsigned long long)mine.e[i].value);
			else if (c > 0)
				printf("only libdw has %s = %llx\n", theirs.e[j].key,
				       (unsigned long long)theirs.e[j].value);
			else
				printf("%s: %llx by the own reader, %llx by libdw\n", mine.e[i].key,
				       (unsigned long long)mine.e[i].value,
				       (unsigned long long)theirs.e[j].value);
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	printf("%zu names (%u aggregates, %u typedefs, %u enums, %u variables, %u enumerators) in %u units; "
	       "%u units left to libdw; %zu differences\n",
	       theirs.n, kinds['s'], kinds['t'], kinds['e'], kinds['v'], kinds['n'], units, by_libdw,
	       bad);
	if (units != units_ref || by_libdw_ref != units_ref)
		printf("the two passes did not read the same units (%u, %u)\n", units, units_ref);
	for (size_t k = 0; k < mine.n; k++)
		free(mine.e[k].key);
	for (size_t k = 0; k < theirs.n; k++)
		free(theirs.e[k].key);
	free(mine.e);
	free(theirs.e);
	/* a unit the own reader cannot read is correct but slow: on these kernels there must be none */
	return bad || by_libdw || units != units_ref || by_libdw_ref != units_ref || theirs.n < 1000;
}
