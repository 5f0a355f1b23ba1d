/*
 * Kernel stack unwinding: ORC (the kernel's own tables) first, frame pointers
 * as the fallback. Blocked tasks start from their saved switch frame, tasks
 * running at the crash from their CPU's crash note. Inline calls become frames
 * of their own, as drgn shows them.
 */
#ifndef KSTALL_UNWIND_H
#define KSTALL_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"
#include "kstall/kernel.h"
#include "kstall/tasks.h"

#define KS_MAX_FRAMES 192

struct ks_frame {
	uint64_t pc;
	uint64_t sp;
	/* function name: DWARF's (inline calls included), else the symbol's; "??" when unknown */
	const char *function;
	/* the ELF or module symbol holding pc (".constprop.0" and all); "??" when none */
	const char *symbol;
	/* pc minus the start of the ELF symbol */
	uint64_t offset;
	bool inlined;
	/* pc is a return address (a caller frame), not the exact stop point */
	bool call_site;
	/* DWARF DIE of the function or inlined call; 0 without DWARF */
	uint64_t die;
	/* DIE of the concrete function the frame's code belongs to (its frame base) */
	uint64_t sub_die;
	/* the file die and sub_die are in: a module's debuginfo, NULL for the vmlinux's */
	struct ks_debuginfo *dwarf;
	/* the canonical frame address (the caller's sp); 0 when unknown */
	uint64_t cfa;
	/* registers the unwinder recovered for this frame; bit r of regs_valid says regs[r] is known */
	uint64_t regs[KS_NR_REGS];
	uint32_t regs_valid;
	/*
	 * An exception frame: this frame's state came from a pt_regs that entry code saved on the
	 * stack at regs_at (an interrupt, an exception, an NMI); 0 otherwise. regs_full: all of it was
	 * saved, not only the hardware's part (ip, cs, flags, sp, ss). Set on the first frame of a pc.
	 */
	uint64_t regs_at;
	bool regs_full;
};

/* The registers of a pt_regs, as crash's bt prints them at an exception frame. */
enum ks_pt_reg {
	KS_PT_IP, KS_PT_SP, KS_PT_FLAGS, KS_PT_AX, KS_PT_BX, KS_PT_CX, KS_PT_DX, KS_PT_SI, KS_PT_DI,
	KS_PT_BP, KS_PT_R8, KS_PT_R9, KS_PT_R10, KS_PT_R11, KS_PT_R12, KS_PT_R13, KS_PT_R14, KS_PT_R15,
	KS_PT_ORIG_AX, KS_PT_CS, KS_PT_SS, KS_PT_NREGS
};

struct ks_pt_regs {
	uint64_t v[KS_PT_NREGS];
	uint32_t valid; /* bit r: v[r] was saved and read */
};

/* "RIP", "RSP", "RFLAGS", "RAX", ..., "ORIG_RAX", "CS", "SS": crash's names */
const char *ks_pt_reg_name(enum ks_pt_reg r);

struct ks_stack {
	struct ks_frame *frames;
	size_t count;
	/* why the unwind stopped early; "" when it reached the end of the stack */
	char note[160];
	/*
	 * with a note: NODATA or FAULT when a read failed (a stack page filtered out
	 * of the dump, or damaged), UNSUPPORTED for a layout the unwinder does not
	 * know, BAD_DATA for what makes no sense (a step the wrong way)
	 */
	enum ks_error_code note_code;
	/* frames belong to another stack with the same frames; ks_stack_deinit leaves them */
	bool shared;
	/* the task has exited and the kernel freed its stack (task_struct.stack NULL): the
	 * frames are what that memory still held, and a stop is not a part missing from the dump */
	bool freed;
};

/*
 * ORC lookup, kept pure for unit tests. Entries are the kernel's 6-byte struct
 * orc_entry: two s16 offsets, then bit-fields whose layout changed in 6.4
 * (type grew to 3 bits and took over the 'end' bit). The format comes from
 * the kernel's DWARF (struct orc_entry's 'type' and 'end' members).
 */
/*
 * ORC base registers as kstall names them, whatever number the kernel gives
 * them: the kernel renumbered them in 7.x (AX added, SP 5 -> 3, PREV_SP 1 -> 8).
 */
enum ks_orc_reg {
	KS_ORC_REG_UNDEFINED,
	KS_ORC_REG_PREV_SP,
	KS_ORC_REG_SP,
	KS_ORC_REG_BP,
	KS_ORC_REG_SP_INDIRECT,
	KS_ORC_REG_BP_INDIRECT,
	KS_ORC_REG_AX,
	KS_ORC_REG_DX,
	KS_ORC_REG_DI,
	KS_ORC_REG_R10,
	KS_ORC_REG_R13,
	KS_ORC_REG_UNKNOWN, /* a number this numbering does not define */
};

/*
 * The register numberings of arch/x86/include/asm/orc_types.h (#defines, in
 * no DWARF): V1 from 4.14, V2 in 7.x. Told apart by the entries themselves
 * (ks_orc_guess_numbering).
 */
enum ks_orc_numbering { KS_ORC_NUMBERING_V1, KS_ORC_NUMBERING_V2 };

struct ks_orc_format {
	unsigned int sp_reg_shift, bp_reg_shift; /* 4 bits each */
	unsigned int type_shift, type_bits;	 /* bit offset in the 6 bytes, width */
	/* 'end' bit offset (before 6.4), or -1: the type numbers END_OF_STACK (6.4+) */
	int end_shift;
	/* the kernel's register number -> enum ks_orc_reg (ks_orc_set_numbering) */
	unsigned char reg[16];
};

void ks_orc_set_numbering(struct ks_orc_format *f, enum ks_orc_numbering n);
/*
 * Which numbering a table's entries use: the base register of most entries is
 * SP (a function's frame is found from its stack pointer), and the register
 * the saved BP is found from is PREV_SP; each numbering gives those two its
 * own numbers. False when the entries fit neither.
 */

/* Entry types as kstall names them, whatever number the kernel gives them. */
enum ks_orc_type {
	KS_ORC_UNDEFINED,    /* no data here */
	KS_ORC_END_OF_STACK, /* the stack ends here (a kernel thread's first frame) */
	KS_ORC_CALL,
	KS_ORC_REGS,
	KS_ORC_REGS_PARTIAL,
	KS_ORC_UNKNOWN, /* a number this format does not define */
};

struct ks_orc_entry {
	int16_t sp_offset;
	int16_t bp_offset;
	enum ks_orc_reg sp_reg;
	enum ks_orc_reg bp_reg;
	unsigned int raw_sp_reg, raw_bp_reg; /* the kernel's own numbers, for messages */
	enum ks_orc_type type;
	unsigned int raw_type; /* the kernel's own number, for messages */
};

struct ks_orc_table {
	/*
	 * ip of entry i, sorted ascending (absolute, link-time or runtime as the
	 * caller chooses); or, with ips NULL, as the vmlinux file keeps them:
	 * rel_ips[i] (32-bit, little-endian) + 4 * i + rel_base.
	 */
	uint64_t *ips;
	const unsigned char *rel_ips;
	uint64_t rel_base;
	/* 6 bytes each: the vmlinux file's own (mapped), or a copy in owned */
	const unsigned char *entries;
	unsigned char *owned;
	size_t count;
};

bool ks_orc_find(const struct ks_orc_table *t, const struct ks_orc_format *f, uint64_t ip,
		 struct ks_orc_entry *ret);
void ks_orc_decode(const struct ks_orc_format *f, const unsigned char raw[6],
		   struct ks_orc_entry *ret);
bool ks_orc_guess_numbering(const struct ks_orc_table *t, const struct ks_orc_format *f,
			    enum ks_orc_numbering *ret);

struct ks_unwinder;

struct ks_error *ks_unwinder_create(struct ks_kernel *k, struct ks_unwinder **ret);
void ks_unwinder_destroy(struct ks_unwinder *u);
/* Which unwinder this kernel gets: "orc" or "frame-pointer". */
const char *ks_unwinder_kind(const struct ks_unwinder *u);

/* The pt_regs of an exception frame (ks_frame.regs_at, regs_full); false when none could be read. */
bool ks_unwinder_pt_regs(struct ks_unwinder *u, uint64_t at, bool full, struct ks_pt_regs *ret);

/* Never fails on bad stack data: stops and says why in ret->note. */
struct ks_error *ks_unwind_task(struct ks_unwinder *u, const struct ks_task *t,
				struct ks_stack *ret);
void ks_stack_deinit(struct ks_stack *s);

/* The parameters of a frame's function with the values DWARF locations give. */
size_t ks_frame_params(struct ks_kernel *k, const struct ks_frame *f, struct ks_var *ret,
		       size_t max);
/* The value of one parameter by name; false when absent or unknown at this frame. */
bool ks_frame_param(struct ks_kernel *k, const struct ks_frame *f, const char *name,
		    uint64_t *value);
/* The local variables in scope at a frame's pc, with their values where DWARF locations give them. */
size_t ks_frame_locals(struct ks_kernel *k, const struct ks_frame *f, struct ks_var *ret,
		       size_t max);
/* The value of one local by name, zero-extended from its type's size; false when unknown here. */
bool ks_frame_local(struct ks_kernel *k, const struct ks_frame *f, const char *name,
		    uint64_t *value);

#endif
