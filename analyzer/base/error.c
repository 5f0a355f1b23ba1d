#include "kstall/error.h"
#include "base/term.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ks_error ks_error_nomem = { .code = KS_ERR_NOMEM, .message = "out of memory" };

static struct ks_error *verror(enum ks_error_code code, uint64_t address, const char *fmt,
			       va_list ap)
{
	struct ks_error *err = calloc(1, sizeof(*err));

	if (!err)
		return &ks_error_nomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &ks_error_nomem;
	}
	err->code = code;
	err->address = address;
	return err;
}

struct ks_error *ks_error_create(enum ks_error_code code, const char *fmt, ...)
{
	va_list ap;
	struct ks_error *err;

	va_start(ap, fmt);
	err = verror(code, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ks_error *ks_error_fault(enum ks_error_code code, uint64_t address, const char *fmt, ...)
{
	va_list ap;
	struct ks_error *err;

	va_start(ap, fmt);
	err = verror(code, address, fmt, ap);
	va_end(ap);
	return err;
}

struct ks_error *ks_error_wrap(struct ks_error *err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *msg;

	if (!err || err == &ks_error_nomem)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0) {
		va_end(ap);
		return err;
	}
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx, err->message) >= 0) {
		free(err->message);
		err->message = msg;
	}
	free(ctx);
	return err;
}

/* Static, so that no thread ever writes them. */
#define QUIET(c, name) [c] = { .code = c, .message = (char *)name }
static struct ks_error quiet[KS_ERR__COUNT] = {
	QUIET(KS_ERR_NOMEM, "nomem"),	    QUIET(KS_ERR_FAULT, "fault"),
	QUIET(KS_ERR_NODATA, "nodata"),	    QUIET(KS_ERR_LOOKUP, "lookup"),
	QUIET(KS_ERR_BAD_DATA, "bad_data"), QUIET(KS_ERR_OS, "os"),
	QUIET(KS_ERR_UNSUPPORTED, "unsupported"), QUIET(KS_ERR_USAGE, "usage"),
	QUIET(KS_ERR_MISMATCH, "mismatch"),
};

struct ks_error *ks_error_quiet(enum ks_error_code code)
{
	return &quiet[code > 0 && code < KS_ERR__COUNT ? code : KS_ERR_FAULT];
}

void ks_error_destroy(struct ks_error *err)
{
	if (!err || err == &ks_error_nomem || (err >= quiet && err < quiet + KS_ERR__COUNT))
		return;
	free(err->message);
	free(err);
}

const char *ks_error_code_name(enum ks_error_code code)
{
	static const char *const names[] = {
		[KS_ERR_NOMEM] = "nomem",	[KS_ERR_FAULT] = "fault",
		[KS_ERR_NODATA] = "nodata",	[KS_ERR_LOOKUP] = "lookup",
		[KS_ERR_BAD_DATA] = "bad_data", [KS_ERR_OS] = "os",
		[KS_ERR_UNSUPPORTED] = "unsupported", [KS_ERR_USAGE] = "usage",
		[KS_ERR_MISMATCH] = "mismatch",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}

void ks_lines_append(char **lines, const char *fmt, ...)
{
	size_t old = *lines ? strlen(*lines) : 0;
	va_list ap;
	char *line, *p;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	p = realloc(*lines, old + (size_t)len + 2);
	if (p) {
		memcpy(p + old, line, (size_t)len);
		p[old + (size_t)len] = '\n';
		p[old + (size_t)len + 1] = '\0';
		*lines = p;
	}
	free(line);
}

void ks_problems_add(struct ks_problems *p, enum ks_error_code code, uint64_t task, uint64_t address,
		     const char *fmt, ...)
{
	va_list ap;
	char *text;
	int len;

	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct ks_problem *n = realloc(p->items, cap * sizeof(*n));

		if (!n)
			return;
		p->items = n;
		p->cap = cap;
	}
	va_start(ap, fmt);
	len = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	p->items[p->count++] = (struct ks_problem){ code, task, address, text };
}

void ks_problems_add_error(struct ks_problems *p, const struct ks_error *err, uint64_t task,
			   const char *prefix)
{
	ks_problems_add(p, err->code, task, err->address, "%s%s%s", prefix ? prefix : "",
			prefix ? ": " : "", err->message ? err->message : ks_error_code_name(err->code));
}

void ks_problems_append(struct ks_problems *to, const struct ks_problems *from)
{
	for (size_t i = 0; i < from->count; i++)
		ks_problems_add(to, from->items[i].code, from->items[i].task, from->items[i].address, "%s",
				from->items[i].text);
}

void ks_problems_print(FILE *out, const struct ks_problems *p)
{
	for (size_t i = 0; i < p->count; i++)
		ks_term_printf(out, "%s\n", p->items[i].text);
}

void ks_problems_deinit(struct ks_problems *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->items[i].text);
	free(p->items);
	memset(p, 0, sizeof(*p));
}
