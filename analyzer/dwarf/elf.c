/* Sections of an ELF file by name, for every reader of the vmlinux. */
#include <gelf.h>
#include <string.h>

#include "dwarf/elf.h"

bool ks_elf_section(Elf *elf, const char *name, const void **data, size_t *size, uint64_t *addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		n = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!n || strcmp(n, name))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return false;
		*data = d->d_buf;
		*size = d->d_size;
		*addr = shdr.sh_addr;
		return true;
	}
	return false;
}
