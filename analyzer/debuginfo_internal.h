/* What the unwinder needs of debuginfo beyond the public header: libdw's CFI. */
#ifndef KSTALL_DEBUGINFO_INTERNAL_H
#define KSTALL_DEBUGINFO_INTERNAL_H

#include <elfutils/libdw.h>

#include "kstall/debuginfo.h"

/* A section of an ELF file by name: its data (the file's mapping, or libelf's copy), size, address. */
bool ks_elf_section(Elf *elf, const char *name, const void **data, size_t *size, uint64_t *addr);

/* The .debug_frame CFI, or NULL when the file has none. Owned by the debuginfo. */
Dwarf_CFI *ks_debuginfo_cfi(struct ks_debuginfo *di);

#endif
