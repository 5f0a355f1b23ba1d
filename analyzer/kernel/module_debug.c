/*
 * A loaded module's debuginfo: which .ko it is, and where its sections went.
 * The kernel keeps every section's address for /sys/module/NAME/sections
 * (module.sect_attrs: before 6.14 a module_sect_attr per section, its address
 * beside its bin_attribute; since, the address in the bin_attribute's
 * private), and the module's build-id in its .note.gnu.build-id section,
 * loaded with it. A .ko is taken only when its build-id is the loaded
 * module's (or when either has none, by its name).
 */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kstall/kernel.h"
#include "kstall/modules.h"

#define MAX_SECTIONS 512
#define MAX_WALK 200000 /* directory entries looked at under lib/modules/RELEASE */
#define MAX_DEPTH 8

struct sections {
	struct ks_section_addr *s;
	char (*names)[128];
	size_t n;
};

/* The module's sections as sysfs lists them; false when this kernel's layout of them is unknown. */
static bool read_sections(struct ks_kernel *k, const struct ks_module *m, struct sections *ret)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	uint64_t attrs_off, bin_off, name_off, addr_off, battr_off = 0, attrs, list, ptr;
	bool private;

	memset(ret, 0, sizeof(*ret));
	if (!ks_debuginfo_member(di, "module", "sect_attrs", &attrs_off, NULL) ||
	    !ks_debuginfo_member(di, "module_sect_attrs", "grp.bin_attrs", &bin_off, NULL) ||
	    !ks_debuginfo_member(di, "bin_attribute", "attr.name", &name_off, NULL))
		return false;
	private = !ks_debuginfo_member(di, "module_sect_attr", "address", &addr_off, NULL);
	if (private && !ks_debuginfo_member(di, "bin_attribute", "private", &addr_off, NULL))
		return false;
	if (!private && !ks_debuginfo_member(di, "module_sect_attr", "battr", &battr_off, NULL))
		return false;
	if (!ks_try_read_u64(k, m->module + attrs_off, &attrs) || !attrs ||
	    !ks_try_read_u64(k, attrs + bin_off, &list) || !list)
		return true; /* no sections recorded (no sysfs): none to place */
	ret->s = calloc(MAX_SECTIONS, sizeof(*ret->s));
	ret->names = calloc(MAX_SECTIONS, sizeof(*ret->names));
	if (!ret->s || !ret->names)
		return true;
	/* grp.bin_attrs: a NULL-terminated array of the sections' attributes */
	for (size_t i = 0; i < MAX_SECTIONS && ks_try_read_u64(k, list + 8 * i, &ptr) && ptr; i++) {
		uint64_t name, address;

		if (!ks_try_read_u64(k, ptr + name_off, &name) || !name ||
		    !ks_try_read_string(k, name, ret->names[ret->n], sizeof(ret->names[0])) ||
		    !ks_try_read_u64(k, private ? ptr + addr_off : ptr - battr_off + addr_off, &address))
			continue;
		ret->s[ret->n] = (struct ks_section_addr){ ret->names[ret->n], address };
		ret->n++;
	}
	return true;
}

/* The GNU build-id note at addr (the loaded .note.gnu.build-id section), as hex. */
static void loaded_build_id(struct ks_kernel *k, uint64_t addr, char *out, size_t size)
{
	uint32_t hdr[3];
	unsigned char id[64];

	out[0] = '\0';
	/* namesz, descsz, type NT_GNU_BUILD_ID (3); the name "GNU\0" */
	if (!ks_try_read(k, addr, hdr, sizeof(hdr)) || hdr[0] != 4 || hdr[2] != 3 || !hdr[1] || hdr[1] > sizeof(id) ||
	    !ks_try_read(k, addr + 16, id, hdr[1]))
		return;
	for (uint32_t i = 0; i < hdr[1] && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* A .ko's module name (.modinfo's "name=") and build-id; false when it is not an ELF file. */
static bool ko_facts(const char *path, char *name, size_t name_size, char *build_id, size_t id_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool ok = false;

	name[0] = build_id[0] = '\0';
	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	ok = true;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		const char *sname;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || !(sname = elf_strptr(elf, shstrndx, shdr.sh_name)) ||
		    !(data = elf_getdata(scn, NULL)) || !data->d_buf)
			continue;
		if (!strcmp(sname, ".modinfo")) {
			for (size_t at = 0; at < data->d_size; at += strlen((char *)data->d_buf + at) + 1) {
				const char *kv = (const char *)data->d_buf + at;

				if (!memchr(kv, '\0', data->d_size - at))
					break;
				if (!strncmp(kv, "name=", 5))
					snprintf(name, name_size, "%s", kv + 5);
			}
		} else if (shdr.sh_type == SHT_NOTE) {
			GElf_Nhdr nhdr;
			size_t off = 0, name_off, desc_off;

			while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0)
				if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
				    !memcmp((char *)data->d_buf + name_off, "GNU", 4))
					for (size_t i = 0; i < nhdr.n_descsz && 2 * i + 2 < id_size; i++)
						snprintf(build_id + 2 * i, 3, "%02x",
							 ((unsigned char *)data->d_buf)[desc_off + i]);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}

/* Module names use '_' where file names may use '-'. */
static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return *a == *b;
}

/*
 * Is the file at path this module's? Where both have a build-id, that decides
 * (a debug-only .ko.debug keeps no .modinfo to name it); else the name, and
 * *by_name says the match is unverified. Fills why when it is a near miss
 * worth saying.
 */
static bool matches(const struct ks_module *m, const char *path, char *why, size_t why_size, bool *by_name)
{
	char name[64], id[2 * 64 + 1];

	if (!ko_facts(path, name, sizeof(name), id, sizeof(id)))
		return false;
	*by_name = !m->build_id[0] || !id[0];
	if (!*by_name) {
		if (!strcmp(m->build_id, id))
			return true;
		if (same_name(name, m->name))
			snprintf(why, why_size, "%.160s is another build of %s (build-id %.12s..., the loaded one %.12s...)",
				 path, m->name, id, m->build_id);
		return false;
	}
	return same_name(name, m->name);
}

/* Under dir, the first NAME.ko or NAME.ko.debug (depth-first, bounded) that matches. */
static bool walk(const struct ks_module *m, const char *dir, int depth, size_t *seen, char *out, size_t size,
		 char *why, size_t why_size, bool *by_name)
{
	DIR *d;
	struct dirent *e;
	bool found = false;

	if (depth > MAX_DEPTH || !(d = opendir(dir)))
		return false;
	while (!found && (e = readdir(d)) && ++*seen < MAX_WALK) {
		char path[4096], base[80];
		size_t len = strlen(e->d_name);
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && !lstat(path, &st) && S_ISDIR(st.st_mode))) {
			found = walk(m, path, depth + 1, seen, out, size, why, why_size, by_name);
			continue;
		}
		if (len > 9 && !strcmp(e->d_name + len - 9, ".ko.debug"))
			snprintf(base, sizeof(base), "%.*s", (int)(len - 9), e->d_name);
		else if (len > 3 && !strcmp(e->d_name + len - 3, ".ko"))
			snprintf(base, sizeof(base), "%.*s", (int)(len - 3), e->d_name);
		else
			continue;
		if (same_name(base, m->name) && matches(m, path, why, why_size, by_name)) {
			snprintf(out, size, "%s", path);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static bool find_ko(struct ks_kernel *k, const struct ks_module *m, const char *const *files, size_t nfiles,
		    const char *root, char *out, size_t size, char *why, size_t why_size, bool *by_name)
{
	char path[4096];
	size_t seen = 0;
	struct stat st;

	for (size_t i = 0; i < nfiles; i++)
		if (matches(m, files[i], why, why_size, by_name)) {
			snprintf(out, size, "%s", files[i]);
			return true;
		}
	if (!root)
		return false;
	/* Debian's -dbg packages link every file by build-id */
	if (strlen(m->build_id) > 2) {
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", root, m->build_id, m->build_id + 2);
		if (!stat(path, &st) && matches(m, path, why, why_size, by_name)) {
			snprintf(out, size, "%s", path);
			return true;
		}
	}
	snprintf(path, sizeof(path), "%s/lib/modules/%s", root, ks_kernel_release(k));
	return walk(m, path, 0, &seen, out, size, why, why_size, by_name);
}

void ks_module_dwarf_open(struct ks_kernel *k, struct ks_module *m, const char *const *files, size_t nfiles,
			  const char *debug_root)
{
	struct sections sec;
	char path[4096];
	uint64_t low = UINT64_MAX, high = 0;
	struct ks_error *err;

	if (m->dwarf_tried)
		return;
	m->dwarf_tried = true;
	if (!read_sections(k, m, &sec)) {
		snprintf(m->dwarf_why, sizeof(m->dwarf_why),
			 "this kernel's record of module sections (module.sect_attrs) has a layout kstall does not know");
		return;
	}
	for (size_t i = 0; i < sec.n; i++)
		if (!strcmp(sec.s[i].name, ".note.gnu.build-id"))
			loaded_build_id(k, sec.s[i].address, m->build_id, sizeof(m->build_id));
	snprintf(m->dwarf_why, sizeof(m->dwarf_why), "no %s.ko given or found", m->name);
	if (!sec.n)
		snprintf(m->dwarf_why, sizeof(m->dwarf_why), "the kernel kept no section addresses for %s", m->name);
	else if (find_ko(k, m, files, nfiles, debug_root, path, sizeof(path), m->dwarf_why, sizeof(m->dwarf_why),
			 &m->dwarf_by_name)) {
		for (size_t r = 0; r < m->nranges; r++) {
			low = m->ranges[r].base < low ? m->ranges[r].base : low;
			high = m->ranges[r].base + m->ranges[r].size > high ? m->ranges[r].base + m->ranges[r].size : high;
		}
		if ((err = ks_debuginfo_open_module(path, m->name, low, high, sec.s, sec.n, &m->dwarf))) {
			snprintf(m->dwarf_why, sizeof(m->dwarf_why), "%.200s", err->message ? err->message : "cannot open it");
			ks_error_destroy(err);
		} else {
			m->dwarf_why[0] = '\0';
		}
	}
	free(sec.s);
	free(sec.names);
}
