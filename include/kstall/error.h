/* Errors: every fallible kstall function returns struct ks_error * (NULL = success). */
#ifndef KSTALL_ERROR_H
#define KSTALL_ERROR_H

#include <stdint.h>

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

const char *ks_error_code_name(enum ks_error_code code);

/*
 * Append one line to a newline-terminated list of problems (*lines may be
 * NULL). Out of memory loses the line, never the list.
 */
void ks_lines_append(char **lines, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
