#include "dwarf/location.h"

#include <dwarf.h>

/* A DWARF location expression over one frame: a value, or the address it lives at. */
bool ks_location_eval(const Dwarf_Op *ops, size_t nops, const struct ks_frame_ctx *ctx,
			  uint64_t frame_base, bool have_fb, uint64_t *ret, bool *is_value,
			  const char **why)
{
	uint64_t stack[16];
	size_t sp = 0;

	*is_value = false;
	*why = "unsupported location";
	for (size_t i = 0; i < nops; i++) {
		uint8_t op = ops[i].atom;

		if (sp >= 15)
			return false;
		if (op >= DW_OP_reg0 && op <= DW_OP_reg16) {
			unsigned r = op - DW_OP_reg0;

			if (r > 16 || !(ctx->regs_valid & (1u << r))) {
				*why = "register not recovered";
				return false;
			}
			*ret = ctx->regs[r];
			*is_value = true;
			return i + 1 == nops;
		}
		if (op >= DW_OP_breg0 && op <= DW_OP_breg16) {
			unsigned r = op - DW_OP_breg0;

			if (!(ctx->regs_valid & (1u << r))) {
				*why = "register not recovered";
				return false;
			}
			stack[sp++] = ctx->regs[r] + (int64_t)ops[i].number;
			continue;
		}
		if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			stack[sp++] = op - DW_OP_lit0;
			continue;
		}
		switch (op) {
		case DW_OP_addr:
		case DW_OP_const1u:
		case DW_OP_const1s:
		case DW_OP_const2u:
		case DW_OP_const2s:
		case DW_OP_const4u:
		case DW_OP_const4s:
		case DW_OP_const8u:
		case DW_OP_const8s:
		case DW_OP_constu:
		case DW_OP_consts:
			stack[sp++] = ops[i].number;
			break;
		case DW_OP_fbreg:
			if (!have_fb) {
				*why = "no frame base";
				return false;
			}
			stack[sp++] = frame_base + (int64_t)ops[i].number;
			break;
		case DW_OP_call_frame_cfa:
			if (!ctx->have_cfa) {
				*why = "no CFA";
				return false;
			}
			stack[sp++] = ctx->cfa;
			break;
		case DW_OP_plus_uconst:
			if (!sp)
				return false;
			stack[sp - 1] += ops[i].number;
			break;
		case DW_OP_plus:
		case DW_OP_minus:
		case DW_OP_and:
			if (sp < 2)
				return false;
			sp--;
			stack[sp - 1] = op == DW_OP_plus    ? stack[sp - 1] + stack[sp]
					: op == DW_OP_minus ? stack[sp - 1] - stack[sp]
							    : stack[sp - 1] & stack[sp];
			break;
		case DW_OP_deref:
			if (!sp || !ctx->read_u64(ctx->arg, stack[sp - 1], &stack[sp - 1])) {
				*why = "unreadable";
				return false;
			}
			break;
		case DW_OP_stack_value:
			if (!sp)
				return false;
			*ret = stack[sp - 1];
			*is_value = true;
			return true;
		case DW_OP_entry_value:
		case DW_OP_GNU_entry_value:
			*why = "optimized out (entry value)";
			return false;
		default:
			return false;
		}
	}
	if (!sp)
		return false;
	*ret = stack[sp - 1];
	return true;
}

