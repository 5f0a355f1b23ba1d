/* What the unwinder needs of debuginfo beyond the public header: libdw's CFI. */
#ifndef KSTALL_DEBUGINFO_INTERNAL_H
#define KSTALL_DEBUGINFO_INTERNAL_H

#include <elfutils/libdw.h>

#include "kstall/debuginfo.h"

/* The .debug_frame CFI, or NULL when the file has none. Owned by the debuginfo. */
Dwarf_CFI *ks_debuginfo_cfi(struct ks_debuginfo *di);

#endif
