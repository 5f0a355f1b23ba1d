/* What the unwinder needs of debuginfo beyond the public header: libdw's CFI. */
#ifndef KSTALL_DEBUGINFO_INTERNAL_H
#define KSTALL_DEBUGINFO_INTERNAL_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "kstall/debuginfo.h"

/* The .debug_frame CFI, or NULL when the file has none. Owned by the debuginfo. */
Dwarf_CFI *ks_debuginfo_cfi(struct ks_debuginfo *di);

/*
 * A module's debuginfo over the libdwfl module that relocated it (dwfl holds
 * only that module); takes ownership of dwfl, also on failure. Its pcs are
 * the module's run-time addresses.
 */
struct ks_error *ks_debuginfo_wrap_module(const char *path, Dwfl *dwfl, Dwfl_Module *mod,
					  struct ks_debuginfo **ret);

#endif
