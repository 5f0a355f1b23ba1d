/*
 * Text for a terminal. Strings from a dump (comms, log lines, tmpfs paths,
 * cgroup, module and slab names) are bytes that anyone on the crashed machine
 * could choose: a comm is set by prctl(PR_SET_NAME), a log line by writing
 * /dev/kmsg. Printed raw, an ESC or BEL sequence in one would retitle, recolour
 * or rewrite the terminal of whoever reads the report.
 *
 * The escaped form: a C0 control byte (0x00-0x1f, tab and newline too), DEL,
 * a C1 control encoded in UTF-8 (0xc2 0x80 to 0xc2 0x9f, each byte) and every
 * byte that is not part of valid UTF-8 become \xNN (two lowercase hex digits).
 * Everything else, printable ASCII and valid UTF-8 characters, is kept, the
 * backslash too: real names hold backslashes that mean something as they are
 * (ACPI paths in the log, \_SB_.PCI0; systemd's own escapes in cgroup names,
 * system-systemd\x2dcryptsetup.slice), and dmesg keeps them. So a \xNN in the
 * text is an escape or those four characters of the name; the JSON output has
 * every string as it is.
 */
#ifndef KSTALL_TERM_H
#define KSTALL_TERM_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* The most bytes the escaped form of n bytes can take (each byte as \xNN), without the NUL. */
#define KS_TERM_ESCAPED_MAX(n) ((n) * 4)

/*
 * The escaped form of s (at most max of its bytes, as printf's precision) into buf, NUL-terminated,
 * cut before an escape that does not fit whole. Returns the length of the whole escaped form.
 */
size_t ks_term_escape(const char *s, size_t max, char *buf, size_t size);

/* The columns the escaped form of s takes: an escape its 4, a character 1. */
size_t ks_term_width(const char *s);

/*
 * fprintf for text output: every %s and %c argument is printed escaped, and a %s width pads
 * to the columns of the escaped form (a comm of UTF-8 characters lines up as one of ASCII).
 * The format itself is printed as it is: it is kstall's, never the dump's. Returns the bytes
 * written, negative on a write error. %n is not supported.
 */
int ks_term_printf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ks_term_vprintf(FILE *out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* s escaped, as fputs. */
int ks_term_fputs(const char *s, FILE *out);

/*
 * json_dumpf, with DEL and the C1 controls as \u escapes too: JSON lets them stand raw in a
 * string (jansson escapes only the C0 ones), and JSON is read on terminals as well. The same
 * JSON text otherwise. 0, or -1 on error.
 */
int ks_term_json_dumpf(const json_t *j, FILE *out, size_t flags);

#endif
