/* Errors: every fallible kstall function returns struct ks_error * (NULL = success). */
#ifndef KSTALL_ERROR_H
#define KSTALL_ERROR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ks_error_code {
	KS_ERR_NOMEM = 1,
	KS_ERR_FAULT,	    /* address not mapped, or the dump is damaged there */
	KS_ERR_NODATA,	    /* page filtered out of the dump (not corruption) */
	KS_ERR_LOOKUP,	    /* symbol, type, member or enumerator not found */
	KS_ERR_BAD_DATA,    /* a value read from the dump makes no sense */
	KS_ERR_OS,	    /* a system call failed */
	KS_ERR_UNSUPPORTED, /* the kernel or dump has a shape kstall does not know */
	KS_ERR_USAGE,	    /* the caller asked for something impossible */
	KS_ERR_MISMATCH,    /* vmlinux does not belong to the dump */
	KS_ERR__COUNT
};

struct ks_error {
	enum ks_error_code code;
	/* set for FAULT and NODATA */
	uint64_t address;
	char *message;
};

/* A printf-style error. Never returns NULL: falls back to a static out-of-memory error. */
struct ks_error *ks_error_create(enum ks_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct ks_error *ks_error_fault(enum ks_error_code code, uint64_t address, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix context to err ("context: inner") and return it. */
struct ks_error *ks_error_wrap(struct ks_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ks_error_destroy(struct ks_error *err);

extern struct ks_error ks_error_nomem;
/*
 * A static error of this code, without a message of its own or an address,
 * for a read whose caller keeps only whether and why it failed (a try-read):
 * nothing is allocated or formatted, and destroying it does nothing.
 */
struct ks_error *ks_error_quiet(enum ks_error_code code);

const char *ks_error_code_name(enum ks_error_code code);

/*
 * Append one line to a newline-terminated list of problems (*lines may be
 * NULL). Out of memory loses the line, never the list.
 */
void ks_lines_append(char **lines, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One thing the analysis could not read or resolve, and why. */
struct ks_problem {
	/*
	 * NODATA: a page the dump left out (makedumpfile filtered it), apart from
	 * FAULT (not mapped, or the file is damaged there) and BAD_DATA (what was
	 * read makes no sense: a loop, a garbage pointer); LOOKUP and UNSUPPORTED:
	 * the kernel's debuginfo lacks what kstall needs.
	 */
	enum ks_error_code code;
	/* the task_struct it concerns, 0 for none; the address that failed, 0 for none */
	uint64_t task, address;
	/* one line, owned */
	char *text;
};

/* The problems met, in order; a zeroed list is empty. */
struct ks_problems {
	struct ks_problem *items;
	size_t count, cap;
};

/* Out of memory loses the problem, never the list. */
void ks_problems_add(struct ks_problems *p, enum ks_error_code code, uint64_t task, uint64_t address,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A failed read or look-up: its code and address, its message after prefix ("prefix: message"). */
void ks_problems_add_error(struct ks_problems *p, const struct ks_error *err, uint64_t task,
			   const char *prefix);
/* Append copies of every problem of from. */
void ks_problems_append(struct ks_problems *to, const struct ks_problems *from);
/* One line each, for a terminal: the dump strings in them escaped (base/term.h). */
void ks_problems_print(FILE *out, const struct ks_problems *p);
void ks_problems_deinit(struct ks_problems *p);

#endif
