#include "kstall/error.h"

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

void ks_error_destroy(struct ks_error *err)
{
	if (!err || err == &ks_error_nomem)
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
