/* Evaluating a DWARF location expression against one frame's registers and memory. */
#ifndef KSTALL_LOCATION_H
#define KSTALL_LOCATION_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>

#include "kstall/debuginfo.h"

/*
 * On success *ret is the value itself (*is_value) or the address where it
 * lives. On failure *why says why in a few words ("register not recovered").
 */
bool ks_location_eval(const Dwarf_Op *ops, size_t nops, const struct ks_frame_ctx *ctx,
		      uint64_t frame_base, bool have_fb, uint64_t *ret, bool *is_value,
		      const char **why);

#endif
