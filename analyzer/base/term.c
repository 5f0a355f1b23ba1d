/* Text for a terminal: dump strings with their control bytes escaped (the form is in term.h). */
#include "base/term.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "base/utf8.h"

/* no precision: every byte up to the NUL (strnlen takes no bound past the largest object) */
#define NO_MAX ((size_t)PTRDIFF_MAX)

/*
 * The escaped form of the character at s (of at most left bytes) into piece, its length the
 * return value; *used the bytes of s it stands for, *cols the columns it takes.
 */
static size_t escape_one(const unsigned char *s, size_t left, char piece[9], size_t *used, size_t *cols)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = ks_utf8_len(s);

	if (n > left)
		n = 0; /* a character cut by the precision is bytes, not a character */
	*used = n ? n : 1;
	*cols = 1;
	if (n == 1 && s[0] >= 0x20 && s[0] < 0x7f) {
		piece[0] = (char)s[0];
		return 1;
	}
	/* C1 controls: a terminal that reads UTF-8 obeys U+009B as it obeys ESC [ */
	if (n > 1 && !(n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
		memcpy(piece, s, n);
		return n;
	}
	/* a control, DEL, a byte that is no UTF-8, or both bytes of a C1 control */
	for (size_t i = 0; i < *used; i++) {
		piece[4 * i] = '\\';
		piece[4 * i + 1] = 'x';
		piece[4 * i + 2] = digits[s[i] >> 4];
		piece[4 * i + 3] = digits[s[i] & 15];
	}
	*cols = 4 * *used;
	return 4 * *used;
}

size_t ks_term_escape(const char *s, size_t max, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, written = 0, left = strnlen(s, max);
	bool fits = size > 0;

	while (left) {
		char piece[9];
		size_t used, cols, n = escape_one(p, left, piece, &used, &cols);

		if (fits && len + n < size) {
			memcpy(buf + len, piece, n);
			written = len + n;
		} else {
			fits = false;
		}
		len += n;
		p += used;
		left -= used;
	}
	if (size)
		buf[written] = '\0';
	return len;
}

/* Escaped s (at most max bytes) to out; the columns printed into *cols. */
static size_t put_escaped(FILE *out, const char *s, size_t max, size_t *cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strnlen(s, max), bytes = 0;

	*cols = 0;
	while (left) {
		char piece[9];
		size_t used, c, n;
		size_t run = 0;

		/* a run of plain ASCII goes out in one write: most strings are nothing else */
		while (run < left && p[run] >= 0x20 && p[run] < 0x7f)
			run++;
		if (run) {
			fwrite(p, 1, run, out);
			p += run;
			left -= run;
			bytes += run;
			*cols += run;
			continue;
		}
		n = escape_one(p, left, piece, &used, &c);
		fwrite(piece, 1, n, out);
		p += used;
		left -= used;
		bytes += n;
		*cols += c;
	}
	return bytes;
}

static size_t width_of(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strnlen(s, max), cols = 0;

	while (left) {
		char piece[9];
		size_t used, c;

		escape_one(p, left, piece, &used, &c);
		p += used;
		left -= used;
		cols += c;
	}
	return cols;
}

size_t ks_term_width(const char *s)
{
	return width_of(s, NO_MAX);
}

static size_t pad(FILE *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		putc(' ', out);
	return n;
}

/* A %s (or %c, as a string of one byte): escaped, padded to width columns. */
static size_t put_string(FILE *out, const char *s, int width, int prec, bool left)
{
	size_t max = prec >= 0 ? (size_t)prec : NO_MAX;
	size_t cols = width > 0 ? width_of(s, max) : 0, n = 0, printed;

	if (width > 0 && !left && cols < (size_t)width)
		n += pad(out, (size_t)width - cols);
	n += put_escaped(out, s, max, &printed);
	if (width > 0 && left && cols < (size_t)width)
		n += pad(out, (size_t)width - cols);
	return n;
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T, LEN_BIG_L };

static enum length parse_length(const char **pp)
{
	const char *p = *pp;
	enum length len = LEN_NONE;

	switch (*p) {
	case 'h':
		len = p[1] == 'h' ? LEN_HH : LEN_H;
		p += len == LEN_HH ? 2 : 1;
		break;
	case 'l':
		len = p[1] == 'l' ? LEN_LL : LEN_L;
		p += len == LEN_LL ? 2 : 1;
		break;
	case 'z':
		len = LEN_Z, p++;
		break;
	case 'j':
		len = LEN_J, p++;
		break;
	case 't':
		len = LEN_T, p++;
		break;
	case 'L':
		len = LEN_BIG_L, p++;
		break;
	}
	*pp = p;
	return len;
}

static const char *length_name(enum length len)
{
	static const char *const names[] = { "", "hh", "h", "l", "ll", "z", "j", "t", "L" };

	return names[len];
}

static int parse_number(const char **pp)
{
	int v = 0;

	while (**pp >= '0' && **pp <= '9') {
		if (v < 100000)
			v = v * 10 + (**pp - '0');
		(*pp)++;
	}
	return v;
}

/* The format is the caller's, checked at its call by the format attribute; one conversion at a time. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* One numeric conversion, spec rebuilt with its * width and precision filled in. */
static int put_number(FILE *out, const char *spec, char conv, enum length len, va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i':
		switch (len) {
		case LEN_L:
			return fprintf(out, spec, va_arg(*ap, long));
		case LEN_LL:
			return fprintf(out, spec, va_arg(*ap, long long));
		case LEN_Z:
			return fprintf(out, spec, va_arg(*ap, ssize_t));
		case LEN_J:
			return fprintf(out, spec, va_arg(*ap, intmax_t));
		case LEN_T:
			return fprintf(out, spec, va_arg(*ap, ptrdiff_t));
		default:
			return fprintf(out, spec, va_arg(*ap, int));
		}
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		switch (len) {
		case LEN_L:
			return fprintf(out, spec, va_arg(*ap, unsigned long));
		case LEN_LL:
			return fprintf(out, spec, va_arg(*ap, unsigned long long));
		case LEN_Z:
			return fprintf(out, spec, va_arg(*ap, size_t));
		case LEN_J:
			return fprintf(out, spec, va_arg(*ap, uintmax_t));
		case LEN_T:
			return fprintf(out, spec, va_arg(*ap, ptrdiff_t));
		default:
			return fprintf(out, spec, va_arg(*ap, unsigned int));
		}
	case 'e':
	case 'E':
	case 'f':
	case 'F':
	case 'g':
	case 'G':
	case 'a':
	case 'A':
		if (len == LEN_BIG_L)
			return fprintf(out, spec, va_arg(*ap, long double));
		return fprintf(out, spec, va_arg(*ap, double));
	case 'p':
		return fprintf(out, spec, va_arg(*ap, void *));
	default:
		return 0;
	}
}

#pragma GCC diagnostic pop

int ks_term_vprintf(FILE *out, const char *fmt, va_list ap)
{
	va_list aq;
	long total = 0;

	/* a va_list parameter may be an array adjusted to a pointer: a copy can be passed by address */
	va_copy(aq, ap);
	for (const char *p = fmt; *p;) {
		const char *pct = strchr(p, '%');
		size_t lit = pct ? (size_t)(pct - p) : strlen(p);
		char flags[8], spec[48], conv;
		size_t nflags = 0;
		int width = -1, prec = -1;
		bool left = false;
		enum length len;

		fwrite(p, 1, lit, out);
		total += (long)lit;
		if (!pct)
			break;
		p = pct + 1;
		if (*p == '%') {
			putc('%', out);
			total++;
			p++;
			continue;
		}
		while (*p && strchr("-+ #0", *p)) {
			left |= *p == '-';
			if (nflags < sizeof(flags) - 1)
				flags[nflags++] = *p;
			p++;
		}
		flags[nflags] = '\0';
		if (*p == '*') {
			width = va_arg(aq, int);
			p++;
			if (width < 0) {
				/* as printf: a negative * width is the - flag */
				if (!left && nflags < sizeof(flags) - 1)
					flags[nflags++] = '-';
				flags[nflags] = '\0';
				left = true;
				width = width < -100000 ? 100000 : -width;
			}
		} else if (*p >= '0' && *p <= '9') {
			width = parse_number(&p);
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				prec = va_arg(aq, int);
				p++;
			} else {
				prec = parse_number(&p);
			}
		}
		len = parse_length(&p);
		if (!*p)
			break;
		conv = *p++;
		if (conv == 's') {
			const char *s = va_arg(aq, const char *);

			total += (long)put_string(out, s ? s : "(null)", width, prec, left);
		} else if (conv == 'c') {
			char s[2] = { (char)va_arg(aq, int), 0 };

			/* a NUL byte is an escape too, not the end of an empty string */
			if (!s[0]) {
				size_t spaces = width > 4 ? (size_t)width - 4 : 0;

				total += (long)(left ? 0 : pad(out, spaces));
				total += (long)fwrite("\\x00", 1, 4, out);
				total += (long)(left ? pad(out, spaces) : 0);
			} else {
				total += (long)put_string(out, s, width, -1, left);
			}
		} else {
			int n;
			size_t sl = (size_t)snprintf(spec, sizeof(spec), "%%%s", flags);

			if (width >= 0)
				sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%d", width);
			if (prec >= 0)
				sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, ".%d", prec);
			snprintf(spec + sl, sizeof(spec) - sl, "%s%c", length_name(len), conv);
			n = put_number(out, spec, conv, len, &aq);
			total += n > 0 ? n : 0;
		}
	}
	va_end(aq);
	if (ferror(out))
		return -1;
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

int ks_term_printf(FILE *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = ks_term_vprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

int ks_term_fputs(const char *s, FILE *out)
{
	size_t cols;

	put_escaped(out, s, NO_MAX, &cols);
	return ferror(out) ? EOF : 0;
}

struct json_out {
	FILE *out;
	bool c2; /* the last byte was 0xc2: a C1 control may follow */
};

static int json_chunk(const char *buffer, size_t size, void *data)
{
	struct json_out *j = data;
	const unsigned char *b = (const unsigned char *)buffer;
	size_t from = 0;

	/* a 0xc2 held back from the chunk before: a C1 control if this one opens with 0x80-0x9f */
	if (j->c2 && size) {
		if (b[0] >= 0x80 && b[0] < 0xa0)
			fprintf(j->out, "\\u%04X", b[0]);
		else
			putc(0xc2, j->out);
		from = b[0] >= 0x80 && b[0] < 0xa0;
		j->c2 = false;
	}
	for (size_t i = from; i < size; i++) {
		if (b[i] == 0x7f || (b[i] == 0xc2 && (i + 1 == size || (b[i + 1] >= 0x80 && b[i + 1] < 0xa0)))) {
			fwrite(b + from, 1, i - from, j->out);
			if (b[i] == 0x7f) {
				fputs("\\u007F", j->out);
			} else if (i + 1 == size) {
				j->c2 = true;
			} else {
				fprintf(j->out, "\\u%04X", b[i + 1]);
				i++;
			}
			from = i + 1;
		}
	}
	fwrite(b + from, 1, size - from, j->out);
	return ferror(j->out) ? -1 : 0;
}

int ks_term_json_dumpf(const json_t *j, FILE *out, size_t flags)
{
	struct json_out o = { out, false };
	int rc = json_dump_callback(j, json_chunk, &o, flags);

	if (o.c2)
		putc(0xc2, out);
	return rc || ferror(out) ? -1 : 0;
}
