#include "kstall/unwind.h"

#include <dwarf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf/debuginfo_internal.h"
#include "base/hashmap.h"
#include "kstall/modules.h"
#include "base/search.h"

#define KERNEL_SPACE 0xffff800000000000ull
#define MAX_INLINE 16

/* pt_regs members the unwinder reads, in the order of this table. */
static const struct {
	enum ks_reg reg;
	const char *name;
} pt_regs_members[] = {
	{ KS_R15, "r15" }, { KS_R14, "r14" }, { KS_R13, "r13" }, { KS_R12, "r12" },
	{ KS_RBP, "bp" },  { KS_RBX, "bx" },  { KS_R11, "r11" }, { KS_R10, "r10" },
	{ KS_R9, "r9" },   { KS_R8, "r8" },   { KS_RAX, "ax" },	 { KS_RCX, "cx" },
	{ KS_RDX, "dx" },  { KS_RSI, "si" },  { KS_RDI, "di" },	 { KS_RIP, "ip" },
	{ KS_RSP, "sp" },
};
#define NR_PT_REGS (sizeof(pt_regs_members) / sizeof(pt_regs_members[0]))

struct ks_unwinder {
	struct ks_kernel *k;
	struct ks_orc_table orc; /* runtime addresses */
	struct ks_orc_format orc_format;
	uint64_t pt_regs_off[KS_NR_REGS];
	uint64_t pt_regs_cs;
	uint64_t pt_regs_size;
	bool have_pt_regs;
	/* link-time pc -> struct cfi_rule *; the shared no_rule when there is no usable FDE */
	struct ks_u64map cfi_cache;
	/* why the last stack word that could not be read failed: NODATA apart from FAULT */
	enum ks_error_code read_code;
};

/* A word of the stack being unwound; a failure keeps its code for the stack's note. */
static bool read_word(struct ks_unwinder *u, uint64_t addr, uint64_t *ret)
{
	enum ks_error_code code = ks_read_code(u->k, addr, ret, sizeof(*ret));

	if (code)
		u->read_code = code;
	return !code;
}

/* A CFI row in the forms the kernel's .debug_frame uses, compiled once per pc. */
enum cfi_kind { CFI_UNDEF, CFI_SAME, CFI_OFFSET, CFI_VAL_OFFSET };
struct cfi_rule {
	bool usable;
	uint8_t cfa_reg, ra;
	int64_t cfa_off;
	struct {
		uint8_t kind;
		int64_t off;
	} regs[KS_NR_REGS];
};
static struct cfi_rule no_rule;

void ks_orc_decode(const struct ks_orc_format *f, const unsigned char raw[6],
		   struct ks_orc_entry *ret)
{
	uint64_t word = 0;
	unsigned int type;

	for (int i = 5; i >= 0; i--)
		word = word << 8 | raw[i];
	ret->sp_offset = (int16_t)(word & 0xffff);
	ret->bp_offset = (int16_t)((word >> 16) & 0xffff);
	ret->raw_sp_reg = (word >> f->sp_reg_shift) & 0xf;
	ret->raw_bp_reg = (word >> f->bp_reg_shift) & 0xf;
	ret->sp_reg = (enum ks_orc_reg)f->reg[ret->raw_sp_reg];
	ret->bp_reg = (enum ks_orc_reg)f->reg[ret->raw_bp_reg];
	type = (unsigned int)(word >> f->type_shift) & ((1u << f->type_bits) - 1);
	ret->raw_type = type;
	if (f->end_shift >= 0) {
		/* before 6.4: CALL 0, REGS 1, REGS_PARTIAL 2; an undefined sp with 'end' ends the stack */
		static const enum ks_orc_type v1[] = { KS_ORC_CALL, KS_ORC_REGS,
						       KS_ORC_REGS_PARTIAL };

		if (ret->sp_reg == KS_ORC_REG_UNDEFINED)
			ret->type = (word >> f->end_shift) & 1 ? KS_ORC_END_OF_STACK : KS_ORC_UNDEFINED;
		else
			ret->type = type < 3 ? v1[type] : KS_ORC_UNKNOWN;
		return;
	}
	/* 6.4+: UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4 */
	ret->type = type <= 4 ? (enum ks_orc_type)type : KS_ORC_UNKNOWN;
}

void ks_orc_set_numbering(struct ks_orc_format *f, enum ks_orc_numbering n)
{
	static const unsigned char v1[10] = { KS_ORC_REG_UNDEFINED, KS_ORC_REG_PREV_SP, KS_ORC_REG_DX,
					      KS_ORC_REG_DI,	    KS_ORC_REG_BP,	KS_ORC_REG_SP,
					      KS_ORC_REG_R10,	    KS_ORC_REG_R13,	KS_ORC_REG_BP_INDIRECT,
					      KS_ORC_REG_SP_INDIRECT };
	static const unsigned char v2[11] = { KS_ORC_REG_UNDEFINED,   KS_ORC_REG_AX,	  KS_ORC_REG_DX,
					      KS_ORC_REG_SP,	      KS_ORC_REG_BP,	  KS_ORC_REG_DI,
					      KS_ORC_REG_R10,	      KS_ORC_REG_R13,	  KS_ORC_REG_PREV_SP,
					      KS_ORC_REG_SP_INDIRECT, KS_ORC_REG_BP_INDIRECT };
	const unsigned char *map = n == KS_ORC_NUMBERING_V1 ? v1 : v2;
	size_t len = n == KS_ORC_NUMBERING_V1 ? sizeof(v1) : sizeof(v2);

	for (size_t i = 0; i < sizeof(f->reg); i++)
		f->reg[i] = i < len ? map[i] : KS_ORC_REG_UNKNOWN;
}

bool ks_orc_guess_numbering(const struct ks_orc_table *t, const struct ks_orc_format *f,
			    enum ks_orc_numbering *ret)
{
	size_t sp[16] = { 0 }, bp[16] = { 0 }, step = t->count / 4096 + 1, best_sp = 1, best_bp = 1;
	static const enum ks_orc_numbering all[] = { KS_ORC_NUMBERING_V1, KS_ORC_NUMBERING_V2 };

	/* a sample of a few thousand entries is plenty: SP is the base of nearly all */
	for (size_t i = 0; i < t->count; i += step) {
		struct ks_orc_entry e;

		ks_orc_decode(f, t->entries + 6 * i, &e);
		sp[e.raw_sp_reg]++;
		bp[e.raw_bp_reg]++;
	}
	for (size_t r = 2; r < 16; r++) {
		best_sp = sp[r] > sp[best_sp] ? r : best_sp;
		best_bp = bp[r] > bp[best_bp] ? r : best_bp;
	}
	for (size_t n = 0; n < sizeof(all) / sizeof(all[0]); n++) {
		struct ks_orc_format g = *f;

		ks_orc_set_numbering(&g, all[n]);
		if (sp[best_sp] && bp[best_bp] && g.reg[best_sp] == KS_ORC_REG_SP &&
		    g.reg[best_bp] == KS_ORC_REG_PREV_SP) {
			*ret = all[n];
			return true;
		}
	}
	return false;
}

static uint64_t orc_ip(const struct ks_orc_table *t, size_t i)
{
	int32_t rel;

	if (t->ips)
		return t->ips[i];
	memcpy(&rel, t->rel_ips + 4 * i, 4);
	return t->rel_base + 4 * i + (uint64_t)(int64_t)rel;
}

static uint64_t orc_ip_key(const void *t, size_t i)
{
	return orc_ip(t, i);
}

bool ks_orc_find(const struct ks_orc_table *t, const struct ks_orc_format *f, uint64_t ip,
		 struct ks_orc_entry *ret)
{
	size_t lo = ks_count_le(t->count, ip, orc_ip_key, t);

	if (!lo)
		return false;
	ks_orc_decode(f, t->entries + 6 * (lo - 1), ret);
	return true;
}

/*
 * struct orc_entry's bit-fields from the kernel's DWARF. Its 'end' bit (gone
 * in 6.4) tells which numbering the type uses: see ks_orc_decode.
 */
static bool orc_format(struct ks_debuginfo *di, struct ks_orc_format *f)
{
	uint64_t off, bits, sp_off, sp_bits, bp_off, bp_bits;

	if (!ks_debuginfo_bitfield(di, "orc_entry", "type", &off, &bits) || !bits || bits > 8 ||
	    off + bits > 48 || !ks_debuginfo_bitfield(di, "orc_entry", "sp_reg", &sp_off, &sp_bits) ||
	    !ks_debuginfo_bitfield(di, "orc_entry", "bp_reg", &bp_off, &bp_bits) || sp_bits != 4 ||
	    bp_bits != 4 || sp_off + 4 > 48 || bp_off + 4 > 48)
		return false;
	f->sp_reg_shift = (unsigned int)sp_off;
	f->bp_reg_shift = (unsigned int)bp_off;
	f->type_shift = (unsigned int)off;
	f->type_bits = (unsigned int)bits;
	f->end_shift = -1;
	if (ks_debuginfo_bitfield(di, "orc_entry", "end", &off, &bits) && bits == 1 && off < 48)
		f->end_shift = (int)off;
	return true;
}

static struct ks_error *load_orc(struct ks_unwinder *u)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(u->k);
	const void *ipdata, *edata;
	size_t ipsize, esize, n;
	uint64_t ipaddr, eaddr, kaslr = ks_kernel_kaslr_offset(u->k);

	if (!ks_debuginfo_section(di, ".orc_unwind_ip", &ipdata, &ipsize, &ipaddr) ||
	    !ks_debuginfo_section(di, ".orc_unwind", &edata, &esize, &eaddr))
		return NULL; /* no ORC: frame pointers */
	if (!orc_format(di, &u->orc_format)) {
		/* Unwinding with a misread format goes wrong silently: use CFI and frame pointers. */
		ks_kernel_support_add(u->k, "ORC unwind format",
				      "struct orc_entry has no 'type' bit-field kstall can read: "
				      "entry code and frames without CFI cannot be unwound");
		return NULL;
	}
	n = ipsize / 4;
	if (esize / 6 < n)
		return ks_error_create(KS_ERR_BAD_DATA, "%s is damaged: its ORC tables disagree: %zu ips, "
				       "%zu entries", ks_debuginfo_path(di), n, esize / 6);
	/* Both read in place, as the file has them: a binary search reads a few pages of each. */
	u->orc.rel_ips = ipdata;
	u->orc.rel_base = ipaddr + kaslr;
	u->orc.entries = edata;
	u->orc.count = n;
	enum ks_orc_numbering numbering;

	if (!ks_orc_guess_numbering(&u->orc, &u->orc_format, &numbering)) {
		memset(&u->orc, 0, sizeof(u->orc));
		ks_kernel_support_add(u->k, "ORC register numbering",
				      "the ORC entries fit no register numbering kstall knows: "
				      "entry code and frames without CFI cannot be unwound");
		return NULL;
	}
	ks_orc_set_numbering(&u->orc_format, numbering);
	/* The linker sorts them; check rather than trust (and give the pages read back). */
	for (size_t i = 1; i < n; i++)
		if (orc_ip(&u->orc, i) < orc_ip(&u->orc, i - 1)) {
			/* the vmlinux is damaged, not the dump: unwind without ORC, and say so */
			memset(&u->orc, 0, sizeof(u->orc));
			ks_kernel_support_add(u->k, "ORC unwind table",
					      "the vmlinux's .orc_unwind_ip is not sorted (the file is damaged): "
					      "entry code and frames without CFI cannot be unwound");
			return NULL;
		}
	ks_debuginfo_release(di, ".orc_unwind_ip");
	return NULL;
}

struct ks_error *ks_unwinder_create(struct ks_kernel *k, struct ks_unwinder **ret)
{
	struct ks_unwinder *u = calloc(1, sizeof(*u));
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	struct ks_error *err;

	if (!u)
		return &ks_error_nomem;
	u->k = k;
	u->have_pt_regs = true;
	for (size_t i = 0; i < NR_PT_REGS; i++)
		if (!ks_debuginfo_member(di, "pt_regs", pt_regs_members[i].name,
					 &u->pt_regs_off[pt_regs_members[i].reg], NULL))
			u->have_pt_regs = false;
	if (!ks_debuginfo_member(di, "pt_regs", "cs", &u->pt_regs_cs, NULL))
		u->have_pt_regs = false;
	u->pt_regs_size = ks_debuginfo_type_size(di, "pt_regs");
	err = load_orc(u);
	if (err) {
		ks_unwinder_destroy(u);
		return err;
	}
	*ret = u;
	return NULL;
}

void ks_unwinder_destroy(struct ks_unwinder *u)
{
	if (!u)
		return;
	ks_u64map_free_pointers(&u->cfi_cache, &no_rule);
	free(u);
}

static const char *const pt_reg_names[KS_PT_NREGS][2] = {
	[KS_PT_IP] = { "ip", "RIP" },	  [KS_PT_SP] = { "sp", "RSP" },	    [KS_PT_FLAGS] = { "flags", "RFLAGS" },
	[KS_PT_AX] = { "ax", "RAX" },	  [KS_PT_BX] = { "bx", "RBX" },	    [KS_PT_CX] = { "cx", "RCX" },
	[KS_PT_DX] = { "dx", "RDX" },	  [KS_PT_SI] = { "si", "RSI" },	    [KS_PT_DI] = { "di", "RDI" },
	[KS_PT_BP] = { "bp", "RBP" },	  [KS_PT_R8] = { "r8", "R8" },	    [KS_PT_R9] = { "r9", "R9" },
	[KS_PT_R10] = { "r10", "R10" },	  [KS_PT_R11] = { "r11", "R11" },   [KS_PT_R12] = { "r12", "R12" },
	[KS_PT_R13] = { "r13", "R13" },	  [KS_PT_R14] = { "r14", "R14" },   [KS_PT_R15] = { "r15", "R15" },
	[KS_PT_ORIG_AX] = { "orig_ax", "ORIG_RAX" }, [KS_PT_CS] = { "cs", "CS" }, [KS_PT_SS] = { "ss", "SS" },
};

const char *ks_pt_reg_name(enum ks_pt_reg r)
{
	return (unsigned)r < KS_PT_NREGS ? pt_reg_names[r][1] : "?";
}

bool ks_unwinder_pt_regs(struct ks_unwinder *u, uint64_t at, bool full, struct ks_pt_regs *ret)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(u->k);
	/* what the CPU itself pushes; the rest only entry code that saves all of pt_regs */
	const uint32_t hardware = 1u << KS_PT_IP | 1u << KS_PT_SP | 1u << KS_PT_FLAGS | 1u << KS_PT_CS |
				  1u << KS_PT_SS;

	memset(ret, 0, sizeof(*ret));
	for (int r = 0; at && r < KS_PT_NREGS; r++) {
		uint64_t off, size, v = 0;

		if (!(full || hardware & 1u << r) ||
		    !ks_debuginfo_member(di, "pt_regs", pt_reg_names[r][0], &off, &size) || size > 8 ||
		    ks_read_code(u->k, at + off, &v, size))
			continue;
		ret->v[r] = v;
		ret->valid |= 1u << r;
	}
	return ret->valid != 0;
}

const char *ks_unwinder_kind(const struct ks_unwinder *u)
{
	return u->orc.count ? "orc" : "frame-pointer";
}

struct state {
	uint64_t regs[KS_NR_REGS];
	uint32_t valid;
	/* pc is exact (interrupted or first frame), not a return address */
	bool exact;
	/* restored from a pt_regs at regs_at (all of it when regs_full); 0 otherwise */
	uint64_t regs_at;
	bool regs_full;
};

#define REG_BIT(r) (1u << (r))

static struct ks_error *push_frames(struct ks_unwinder *u, struct ks_stack *s, size_t *cap,
				    const struct state *st)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(u->k), *mod_di = NULL;
	uint64_t pc = st->regs[KS_RIP];
	uint64_t lookup = st->exact ? pc : pc - 1;
	struct ks_func funcs[MAX_INLINE];
	struct ks_symbol sym;
	bool have_sym = ks_kernel_symbolize(u->k, lookup, &sym);
	const struct ks_module *mod = ks_kernel_module_at(u->k, lookup);
	size_t n;

	/* module code: its own DWARF where kstall has the .ko, at run-time addresses */
	if (mod && (mod_di = ks_kernel_module_dwarf(u->k, mod)))
		n = ks_debuginfo_functions_at(mod_di, lookup, funcs, MAX_INLINE);
	else
		n = mod ? 0 : ks_debuginfo_functions_at(di, lookup - ks_kernel_kaslr_offset(u->k), funcs, MAX_INLINE);

	bool have_dwarf = n > 0;

	if (!n)
		funcs[n++] = (struct ks_func){ have_sym ? sym.name : "??", false, 0 };
	for (size_t i = 0; i < n; i++) {
		struct ks_frame *f;

		if (s->count == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct ks_frame *nf = realloc(s->frames, ncap * sizeof(*nf));

			if (!nf)
				return &ks_error_nomem;
			s->frames = nf;
			*cap = ncap;
		}
		f = &s->frames[s->count++];
		memset(f, 0, sizeof(*f));
		f->pc = pc;
		f->sp = st->regs[KS_RSP];
		f->inlined = i + 1 < n;
		f->call_site = !st->exact;
		f->function = funcs[i].name;
		f->symbol = have_sym ? sym.name : "??";
		f->offset = have_sym ? pc - sym.address : 0;
		memcpy(f->regs, st->regs, sizeof(f->regs));
		f->regs_valid = st->valid;
		if (!i) {
			f->regs_at = st->regs_at;
			f->regs_full = st->regs_full;
		}
		f->die = i < n && funcs[i].die ? funcs[i].die : 0;
		f->sub_die = have_dwarf ? funcs[n - 1].die : 0;
		f->dwarf = have_dwarf ? mod_di : NULL;
		if (!have_dwarf)
			f->die = 0;
	}
	return NULL;
}

static bool read_regs(struct ks_unwinder *u, uint64_t base, struct state *st, bool full)
{
	uint64_t v;

	if (!u->have_pt_regs)
		return false;
	for (size_t i = 0; i < NR_PT_REGS; i++) {
		enum ks_reg r = pt_regs_members[i].reg;

		if (!full && r != KS_RIP && r != KS_RSP)
			continue;
		if (!read_word(u, base + u->pt_regs_off[r], &v))
			return false;
		st->regs[r] = v;
	}
	st->valid = full ? (REG_BIT(KS_NR_REGS) - 1) : (REG_BIT(KS_RIP) | REG_BIT(KS_RSP));
	return true;
}

/* The user-mode check the kernel does on pt_regs: CS with RPL 3. */
static bool regs_user(struct ks_unwinder *u, uint64_t base)
{
	uint64_t cs;

	return read_word(u, base + u->pt_regs_cs, &cs) && (cs & 3) == 3;
}

/* ERROR: what was read makes no sense (a step the wrong way); UNKNOWN: a layout the unwinder does
 * not know; UNREADABLE: a read failed */
enum step { STEP_OK, STEP_END, STEP_ERROR, STEP_UNKNOWN, STEP_UNREADABLE };

static bool compile_reg(const Dwarf_Op *ops, size_t nops, uint8_t *kind, int64_t *off)
{
	if (nops < 1 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	*off = 0;
	size_t i = 1;

	if (i < nops && ops[i].atom == DW_OP_plus_uconst)
		*off = (int64_t)ops[i++].number;
	if (i == nops) {
		*kind = CFI_OFFSET;
		return true;
	}
	if (i + 1 == nops && ops[i].atom == DW_OP_stack_value) {
		*kind = CFI_VAL_OFFSET;
		return true;
	}
	return false;
}

/* The compiled CFI row at a link-time pc, or &no_rule. */
static const struct cfi_rule *cfi_rule_at(struct ks_unwinder *u, uint64_t pc)
{
	Dwarf_CFI *cfi = ks_debuginfo_cfi(ks_kernel_debuginfo(u->k));
	struct cfi_rule *rule = ks_u64map_get(&u->cfi_cache, pc);
	Dwarf_Frame *frame = NULL;
	Dwarf_Op *ops, ops_mem[3];
	size_t nops;
	int ra;

	if (rule)
		return rule;
	rule = calloc(1, sizeof(*rule));
	if (!rule)
		return &no_rule;
	if (!cfi || dwarf_cfi_addrframe(cfi, pc, &frame) != 0)
		goto none;
	ra = dwarf_frame_info(frame, NULL, NULL, NULL);
	if (ra < 0 || ra > KS_RIP || dwarf_frame_cfa(frame, &ops, &nops) != 0 || nops != 1)
		goto none;
	if (ops[0].atom == DW_OP_bregx && ops[0].number <= KS_RIP) {
		rule->cfa_reg = (uint8_t)ops[0].number;
		rule->cfa_off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg16) {
		rule->cfa_reg = ops[0].atom - DW_OP_breg0;
		rule->cfa_off = (int64_t)ops[0].number;
	} else {
		goto none;
	}
	rule->ra = (uint8_t)ra;
	for (int r = 0; r < KS_NR_REGS; r++) {
		rule->regs[r].kind = CFI_UNDEF;
		if (dwarf_frame_register(frame, r, ops_mem, &ops, &nops) != 0)
			continue;
		if (nops == 0) {
			/* same_value keeps the register; undefined loses it */
			rule->regs[r].kind = ops == NULL ? CFI_SAME : CFI_UNDEF;
			continue;
		}
		if (!compile_reg(ops, nops, &rule->regs[r].kind, &rule->regs[r].off))
			goto none; /* a form the kernel does not use: give up on CFI here */
	}
	rule->usable = true;
	free(frame);
	if (!ks_u64map_put(&u->cfi_cache, pc, rule)) {
		free(rule);
		return &no_rule;
	}
	return rule;
none:
	free(frame);
	free(rule);
	ks_u64map_put(&u->cfi_cache, pc, &no_rule);
	return &no_rule;
}

/* One step by the .debug_frame CFI; false when there is none for the pc. */
static bool step_cfi(struct ks_unwinder *u, struct state *st)
{
	uint64_t ip = st->regs[KS_RIP];
	const struct cfi_rule *rule =
		cfi_rule_at(u, (st->exact ? ip : ip - 1) - ks_kernel_kaslr_offset(u->k));
	struct state next = { 0 };
	uint64_t cfa;

	if (!rule->usable || !(st->valid & REG_BIT(rule->cfa_reg)))
		return false;
	cfa = st->regs[rule->cfa_reg] + rule->cfa_off;
	for (int r = 0; r < KS_NR_REGS; r++) {
		uint64_t v;

		switch (rule->regs[r].kind) {
		case CFI_SAME:
			if (!(st->valid & REG_BIT(r)) || r == rule->ra)
				continue;
			v = st->regs[r];
			break;
		case CFI_OFFSET:
			if (!read_word(u, cfa + rule->regs[r].off, &v))
				continue;
			break;
		case CFI_VAL_OFFSET:
			v = cfa + rule->regs[r].off;
			break;
		default:
			continue;
		}
		next.regs[r] = v;
		next.valid |= REG_BIT(r);
	}
	if (!(next.valid & REG_BIT(rule->ra)) || cfa <= st->regs[KS_RSP])
		return false;
	next.regs[KS_RIP] = next.regs[rule->ra];
	next.regs[KS_RSP] = cfa;
	next.valid |= REG_BIT(KS_RIP) | REG_BIT(KS_RSP);
	next.exact = false;
	*st = next;
	return true;
}

static enum step step_orc(struct ks_unwinder *u, struct state *st, char *note, size_t nsize)
{
	struct ks_orc_entry orc;
	uint64_t ip = st->regs[KS_RIP], sp, bp = st->regs[KS_RBP], newbp;
	uint64_t lookup = st->exact ? ip : ip - 1;
	bool indirect = false, full_regs = false;
	struct state next = { 0 };

	const struct ks_module *mod = ks_kernel_module_at(u->k, lookup);
	const struct ks_orc_table *table = mod ? &mod->orc : &u->orc;

	if (!ks_orc_find(table, &u->orc_format, lookup, &orc) || orc.type == KS_ORC_UNDEFINED) {
		/* No ORC here (objtool skipped the file) and no CFI: the kernel's guess. */
		/* What the kernel does without ORC data: assume a frame-pointer frame. */
		orc = (struct ks_orc_entry){ .sp_reg = KS_ORC_REG_BP, .sp_offset = 16,
					     .bp_reg = KS_ORC_REG_PREV_SP, .bp_offset = -16,
					     .type = KS_ORC_CALL };
	}
	if (orc.type == KS_ORC_END_OF_STACK)
		return STEP_END;
	if (orc.type == KS_ORC_UNKNOWN) {
		snprintf(note, nsize, "unknown ORC type %u at 0x%llx", orc.raw_type,
			 (unsigned long long)ip);
		return STEP_UNKNOWN;
	}
	if (orc.sp_reg == KS_ORC_REG_UNDEFINED) {
		snprintf(note, nsize, "no ORC data at 0x%llx", (unsigned long long)ip);
		return STEP_ERROR;
	}
	switch (orc.sp_reg) {
	case KS_ORC_REG_SP:
		sp = st->regs[KS_RSP] + orc.sp_offset;
		break;
	case KS_ORC_REG_BP:
		sp = bp + orc.sp_offset;
		break;
	case KS_ORC_REG_SP_INDIRECT:
		sp = st->regs[KS_RSP];
		indirect = true;
		break;
	case KS_ORC_REG_BP_INDIRECT:
		sp = bp + orc.sp_offset;
		indirect = true;
		break;
	case KS_ORC_REG_R10:
	case KS_ORC_REG_R13:
	case KS_ORC_REG_DI:
	case KS_ORC_REG_DX:
	case KS_ORC_REG_AX: {
		static const enum ks_reg map[] = { [KS_ORC_REG_R10] = KS_R10, [KS_ORC_REG_R13] = KS_R13,
						   [KS_ORC_REG_DI] = KS_RDI, [KS_ORC_REG_DX] = KS_RDX,
						   [KS_ORC_REG_AX] = KS_RAX };
		enum ks_reg r = map[orc.sp_reg];

		if (!(st->valid & REG_BIT(r))) {
			snprintf(note, nsize, "register needed at 0x%llx is unknown",
				 (unsigned long long)ip);
			return STEP_ERROR;
		}
		sp = st->regs[r];
		break;
	}
	default:
		snprintf(note, nsize, "unknown ORC sp register %u at 0x%llx", orc.raw_sp_reg,
			 (unsigned long long)ip);
		return STEP_UNKNOWN;
	}
	if (indirect) {
		if (!read_word(u, sp, &sp))
			goto unreadable;
		if (orc.sp_reg == KS_ORC_REG_SP_INDIRECT)
			sp += orc.sp_offset;
	}
	switch (orc.type) {
	case KS_ORC_CALL:
		if (!read_word(u, sp - 8, &next.regs[KS_RIP]))
			goto unreadable;
		next.regs[KS_RSP] = sp;
		next.valid = REG_BIT(KS_RIP) | REG_BIT(KS_RSP);
		next.exact = false;
		break;
	case KS_ORC_REGS:
		if (regs_user(u, sp))
			return STEP_END;
		if (!read_regs(u, sp, &next, true))
			goto unreadable;
		next.exact = true;
		next.regs_at = sp;
		next.regs_full = true;
		full_regs = true;
		break;
	case KS_ORC_REGS_PARTIAL: {
		uint64_t base = sp - u->pt_regs_off[KS_RIP];

		if (regs_user(u, base))
			return STEP_END;
		if (!read_regs(u, base, &next, false))
			goto unreadable;
		next.exact = true;
		next.regs_at = base;
		break;
	}
	default:
		snprintf(note, nsize, "unknown ORC type %u at 0x%llx", orc.raw_type,
			 (unsigned long long)ip);
		return STEP_UNKNOWN;
	}
	switch (orc.bp_reg) {
	case KS_ORC_REG_UNDEFINED:
		newbp = full_regs ? next.regs[KS_RBP] : bp;
		break;
	case KS_ORC_REG_PREV_SP:
		if (!read_word(u, sp + orc.bp_offset, &newbp))
			goto unreadable;
		break;
	case KS_ORC_REG_BP:
		if (!read_word(u, bp + orc.bp_offset, &newbp))
			goto unreadable;
		break;
	default:
		snprintf(note, nsize, "unknown ORC bp register %u at 0x%llx", orc.raw_bp_reg,
			 (unsigned long long)ip);
		return STEP_UNKNOWN;
	}
	next.regs[KS_RBP] = newbp;
	if (st->valid & REG_BIT(KS_RBP) || orc.bp_reg != KS_ORC_REG_UNDEFINED || full_regs)
		next.valid |= REG_BIT(KS_RBP);
	/*
	 * An indirect sp is a stack switch (call_on_irqstack saved the task's sp on
	 * the IRQ stack): the task's stack may lie below the IRQ stack, as the
	 * kernel's own unwinder allows when it moves to the next stack.
	 */
	if (!next.exact && !indirect && next.regs[KS_RSP] <= st->regs[KS_RSP]) {
		snprintf(note, nsize, "stack going the wrong way at 0x%llx", (unsigned long long)ip);
		return STEP_ERROR;
	}
	*st = next;
	return STEP_OK;
unreadable:
	snprintf(note, nsize, "stack unreadable while unwinding 0x%llx", (unsigned long long)ip);
	return STEP_UNREADABLE;
}

static enum step step_fp(struct ks_unwinder *u, struct state *st, char *note, size_t nsize)
{
	uint64_t bp = st->regs[KS_RBP];
	struct state next = { 0 };

	if (!(st->valid & REG_BIT(KS_RBP)) || !bp)
		return STEP_END;
	if (bp & 1) {
		/* An encoded frame pointer: entry code saved pt_regs at bp - 1. */
		uint64_t base = bp - 1;

		if (regs_user(u, base))
			return STEP_END;
		if (!read_regs(u, base, &next, true))
			goto unreadable;
		next.exact = true;
		next.regs_at = base;
		next.regs_full = true;
	} else {
		if (!read_word(u, bp + 8, &next.regs[KS_RIP]) ||
		    !read_word(u, bp, &next.regs[KS_RBP]))
			goto unreadable;
		next.regs[KS_RSP] = bp + 16;
		next.valid = REG_BIT(KS_RIP) | REG_BIT(KS_RSP) | REG_BIT(KS_RBP);
		if (next.regs[KS_RSP] <= st->regs[KS_RSP]) {
			snprintf(note, nsize, "frame pointer going the wrong way at 0x%llx",
				 (unsigned long long)st->regs[KS_RIP]);
			return STEP_ERROR;
		}
	}
	if (!next.regs[KS_RIP])
		return STEP_END;
	*st = next;
	return STEP_OK;
unreadable:
	snprintf(note, nsize, "stack unreadable at frame pointer 0x%llx", (unsigned long long)bp);
	return STEP_UNREADABLE;
}

static struct ks_error *initial_state(struct ks_unwinder *u, const struct ks_task *t,
				      struct state *st, char *note, size_t nsize)
{
	struct ks_kernel *k = u->k;
	uint64_t sp;
	struct ks_error *err;

	memset(st, 0, sizeof(*st));
	if (t->active && t->cpu >= 0) {
		if (ks_kernel_cpu_regs(k, (unsigned int)t->cpu, st->regs, NULL)) {
			st->valid = REG_BIT(KS_NR_REGS) - 1;
			st->exact = true;
			return NULL;
		}
		snprintf(note, nsize, "running on CPU %d at the crash, but the CPU saved no registers",
			 t->cpu);
		return ks_error_create(KS_ERR_NODATA, "%s", note);
	}
	sp = t->thread_sp;
	if (!sp)
		return ks_error_create(KS_ERR_FAULT, "cannot read task_struct.thread.sp of task 0x%llx",
				       (unsigned long long)t->address);
	if (!ks_kernel_has(k, KS_F_ITF_RET_ADDR) || !ks_kernel_has(k, KS_F_ITF_BP))
		return ks_error_create(KS_ERR_UNSUPPORTED, "no struct inactive_task_frame");
	{
		static const struct {
			enum ks_field f;
			enum ks_reg r;
		} saved[] = { { KS_F_ITF_BP, KS_RBP },	 { KS_F_ITF_RET_ADDR, KS_RIP },
			      { KS_F_ITF_BX, KS_RBX },	 { KS_F_ITF_R12, KS_R12 },
			      { KS_F_ITF_R13, KS_R13 }, { KS_F_ITF_R14, KS_R14 },
			      { KS_F_ITF_R15, KS_R15 } };

		for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++) {
			if (!ks_kernel_has(k, saved[i].f))
				continue;
			err = ks_read_u64(k, sp + ks_kernel_off(k, saved[i].f), &st->regs[saved[i].r]);
			if (err)
				return ks_error_wrap(err, "saved switch frame");
			st->valid |= REG_BIT(saved[i].r);
		}
	}
	st->regs[KS_RSP] = sp + ks_kernel_type_size(k, KS_SIZE_INACTIVE_TASK_FRAME);
	st->valid |= REG_BIT(KS_RSP);
	/* ret_addr is where __schedule resumes: an exact PC inside it, not a call site. */
	st->exact = true;
	return NULL;
}

struct ks_error *ks_unwind_task(struct ks_unwinder *u, const struct ks_task *t,
				struct ks_stack *ret)
{
	struct state st;
	size_t cap = 0, physical = 0;
	struct ks_error *err;
	uint64_t stack_lo = 0, stack_hi = UINT64_MAX;

	memset(ret, 0, sizeof(*ret));
	/* A blocked task's frames all lie on its own stack; a running one may be on IRQ stacks. */
	if (!t->active && (stack_lo = t->stack))
		stack_hi = stack_lo + ks_kernel_thread_size(u->k);
	/*
	 * With the thread_info in the task (4.9+), an exited task's stack is freed and
	 * task->stack NULLed. Its memory often still holds the last frames (a cached vmap
	 * stack, as drgn reads it too); what cannot be read of it is not missing from the dump.
	 */
	ret->freed = !t->active && !t->stack && ks_kernel_has(u->k, KS_F_TASK_STACK) && t->exit_state;
	err = initial_state(u, t, &st, ret->note, sizeof(ret->note));
	if (err) {
		if (!ret->note[0])
			snprintf(ret->note, sizeof(ret->note), "%s", err->message);
		ret->note_code = err->code;
		ks_error_destroy(err);
		return NULL;
	}
	for (;;) {
		struct ks_symbol sym;
		enum step r;

		if (st.regs[KS_RIP] < KERNEL_SPACE ||
		    !ks_kernel_symbolize(u->k, st.exact ? st.regs[KS_RIP] : st.regs[KS_RIP] - 1, &sym)) {
			snprintf(ret->note, sizeof(ret->note), "pc 0x%llx is not kernel text",
				 (unsigned long long)st.regs[KS_RIP]);
			break;
		}
		err = push_frames(u, ret, &cap, &st);
		if (err) {
			ks_stack_deinit(ret);
			return err;
		}
		st.regs_at = 0;
		st.regs_full = false;
		if (++physical >= KS_MAX_FRAMES) {
			snprintf(ret->note, sizeof(ret->note), "stopped after %d frames", KS_MAX_FRAMES);
			break;
		}
		/*
		 * DWARF CFI first, as drgn does: it recovers the callee-saved registers
		 * that parameter values live in. ORC covers what has no CFI (entry code).
		 */
		if (step_cfi(u, &st))
			r = STEP_OK;
		else if (u->orc.count)
			r = step_orc(u, &st, ret->note, sizeof(ret->note));
		else
			r = step_fp(u, &st, ret->note, sizeof(ret->note));
		if (r == STEP_UNREADABLE)
			ret->note_code = u->read_code;
		else if (r == STEP_UNKNOWN)
			ret->note_code = KS_ERR_UNSUPPORTED;
		if (r != STEP_OK)
			break;
		if (st.regs[KS_RSP] < stack_lo || st.regs[KS_RSP] > stack_hi) {
			snprintf(ret->note, sizeof(ret->note), "stack pointer 0x%llx left the task's stack",
				 (unsigned long long)st.regs[KS_RSP]);
			break;
		}
		/* The caller's sp is the CFA of every frame of the physical frame just left. */
		for (size_t i = ret->count; i-- > 0 && !ret->frames[i].cfa;)
			ret->frames[i].cfa = st.regs[KS_RSP];
	}
	/* the other notes: a pc outside kernel text, too many frames, a stack pointer that left */
	if (ret->note[0] && !ret->note_code)
		ret->note_code = KS_ERR_BAD_DATA;
	return NULL;
}

static bool frame_read(void *arg, uint64_t addr, uint64_t *ret)
{
	return ks_try_read_u64(arg, addr, ret);
}

static struct ks_frame_ctx frame_ctx(struct ks_kernel *k, const struct ks_frame *f)
{
	return (struct ks_frame_ctx){
		/* a module's DWARF is relocated to where it runs; the vmlinux's is at link time */
		.link_pc = f->pc - f->call_site - (f->dwarf ? 0 : ks_kernel_kaslr_offset(k)),
		.regs = f->regs,
		.regs_valid = f->regs_valid,
		.cfa = f->cfa,
		.have_cfa = f->cfa != 0,
		.read_u64 = frame_read,
		.arg = k,
	};
}

size_t ks_frame_params(struct ks_kernel *k, const struct ks_frame *f, struct ks_var *ret,
		       size_t max)
{
	struct ks_frame_ctx ctx = frame_ctx(k, f);

	return ks_debuginfo_params(f->dwarf ? f->dwarf : ks_kernel_debuginfo(k), f->die, f->sub_die, &ctx, ret, max);
}

size_t ks_frame_locals(struct ks_kernel *k, const struct ks_frame *f, struct ks_var *ret,
		       size_t max)
{
	struct ks_frame_ctx ctx = frame_ctx(k, f);

	return ks_debuginfo_locals(f->dwarf ? f->dwarf : ks_kernel_debuginfo(k), f->die, f->sub_die, &ctx, ret, max);
}

void ks_stack_deinit(struct ks_stack *s)
{
	if (!s->shared)
		free(s->frames);
	memset(s, 0, sizeof(*s));
}

#define MAX_LOCALS 64

bool ks_frame_local(struct ks_kernel *k, const struct ks_frame *f, const char *name,
		    uint64_t *value)
{
	struct ks_var vars[MAX_LOCALS];
	size_t n = ks_frame_locals(k, f, vars, MAX_LOCALS);

	for (size_t i = 0; i < n; i++) {
		if (vars[i].known && !strcmp(vars[i].name, name)) {
			*value = vars[i].value;
			return true;
		}
	}
	return false;
}

bool ks_frame_param(struct ks_kernel *k, const struct ks_frame *f, const char *name,
		    uint64_t *value)
{
	struct ks_var vars[16];
	size_t n = ks_frame_params(k, f, vars, 16);

	for (size_t i = 0; i < n; i++) {
		if (vars[i].known && !strcmp(vars[i].name, name)) {
			*value = vars[i].value;
			return true;
		}
	}
	return false;
}
