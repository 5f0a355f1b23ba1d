/*
 * A module's DWARF, relocated to where the module was loaded. A .ko is a
 * relocatable object: its DWARF's addresses (and its references into
 * .debug_str and the like) are relocations against its sections, which the
 * kernel placed one by one. libdwfl applies them, asking for each section's
 * address (section_address below); the kernel recorded those addresses for
 * /sys/module/NAME/sections, and kstall reads them from the dump. This is how
 * libdwfl's own live-kernel reporting and crash's mod -s place a module.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarf/debuginfo_internal.h"

struct place {
	const char *path;
	const struct ks_section_addr *sections;
	size_t count;
};

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name,
		    Elf **elfp)
{
	const struct place *p = *userdata;
	int fd;

	(void)mod;
	(void)name;
	(void)base;
	*elfp = NULL;
	fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !(*file_name = strdup(p->path))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The DWARF is in the .ko itself: no separate file to look for. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			  const char *file_name, const char *debuglink, GElf_Word crc, char **debuginfo_file_name)
{
	(void)mod, (void)userdata, (void)name, (void)base, (void)file_name, (void)debuglink, (void)crc;
	(void)debuginfo_file_name;
	return -1;
}

/* A section the kernel did not keep (init code, freed after loading) is "omitted from memory": -1. */
static int section_address(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			   const char *secname, GElf_Word shndx, const GElf_Shdr *shdr, Dwarf_Addr *addr)
{
	const struct place *p = *userdata;

	(void)mod, (void)name, (void)base, (void)shndx, (void)shdr;
	*addr = (Dwarf_Addr)-1;
	/* after the open (the places are gone): nothing more is placed */
	for (size_t i = 0; p && i < p->count; i++)
		if (!strcmp(p->sections[i].name, secname)) {
			*addr = p->sections[i].address;
			break;
		}
	return 0;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = section_address,
};

struct ks_error *ks_debuginfo_open_module(const char *path, const char *name, uint64_t low, uint64_t high,
					  const struct ks_section_addr *sections, size_t count,
					  struct ks_debuginfo **ret)
{
	struct place p = { path, sections, count };
	Dwfl *dwfl = dwfl_begin(&callbacks);
	Dwfl_Module *mod;
	void **userdata;
	struct ks_error *err;

	if (!dwfl)
		return ks_error_create(KS_ERR_NOMEM, "libdwfl: %s", dwfl_errmsg(-1));
	dwfl_report_begin(dwfl);
	mod = dwfl_report_module(dwfl, name, low, high);
	if (!mod || dwfl_report_end(dwfl, NULL, NULL) != 0) {
		err = ks_error_create(KS_ERR_BAD_DATA, "%s: cannot place module %s: %s", path, name, dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return err;
	}
	/* the callbacks find the file and the sections through the module's userdata */
	dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = &p;
	err = ks_debuginfo_wrap_module(path, dwfl, mod, ret);
	/* relocated by now: the callbacks are not called again, and p goes out of scope */
	if (!err)
		*userdata = NULL;
	return err;
}
