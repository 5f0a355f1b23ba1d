/*
 * The units of a vmlinux's .debug_info, and which unit holds a pc.
 *
 * libdw reads a unit's header the first time an offset inside it is asked
 * for, and with the header every header before it; the kernel then maps the
 * 64 KiB around each page it faults in, so one look-up into a late unit would
 * make most of .debug_info resident for the rest of the run (45 MB of a small
 * kernel, far more of a distro's). Here the units are made known to libdw at
 * open, in file order, and the pages behind are handed back as the walk goes
 * (the mapping is read-only: a later look-up faults in the few it needs from
 * the page cache). The pc look-up reads .debug_aranges itself for the same
 * reason: libdw's reads the first DIE of every unit.
 */
#ifndef KSTALL_DWARF_UNITS_H
#define KSTALL_DWARF_UNITS_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

/* Hands back the pages of .debug_info behind a forward walk. */
struct ks_release {
	const unsigned char *start, *end;
	uintptr_t done; /* page-aligned address up to which pages were released */
};

/* Inactive (every call a no-op) when .debug_info is not the file's own mapping. */
void ks_release_init(Elf *elf, struct ks_release *r);
/* Release the pages wholly below offset off of .debug_info, in steps of 4 MiB (all when last). */
void ks_release_upto(struct ks_release *r, Dwarf_Off off, bool last);

struct ks_dwarf_units;

/* NULL when memory is short; a table without aranges answers no pc (the caller asks libdw). */
struct ks_dwarf_units *ks_dwarf_units_load(Elf *elf, Dwarf *dwarf);
void ks_dwarf_units_destroy(struct ks_dwarf_units *u);

/* The unit DIE of the unit whose address ranges hold pc. */
bool ks_dwarf_units_at(const struct ks_dwarf_units *u, Dwarf *dwarf, uint64_t pc, Dwarf_Die *cu);

#endif
