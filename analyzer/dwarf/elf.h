/* The ELF sections the DWARF readers share: below debuginfo, the index and the unit table alike. */
#ifndef KSTALL_DWARF_ELF_H
#define KSTALL_DWARF_ELF_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A section of an ELF file by name: its data (the file's mapping, or libelf's copy), size, address. */
bool ks_elf_section(Elf *elf, const char *name, const void **data, size_t *size, uint64_t *addr);

#endif
