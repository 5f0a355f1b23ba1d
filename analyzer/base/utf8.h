/*
 * UTF-8 as the renderers need it: strings from a dump (comms, log lines,
 * names) are bytes, and HTML and JSON both want valid UTF-8.
 */
#ifndef KSTALL_UTF8_H
#define KSTALL_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, what a byte that is not UTF-8 becomes. */
#define KS_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* The length of the valid UTF-8 sequence at s, 0 when it is not one (overlongs and surrogates included). */
size_t ks_utf8_len(const unsigned char *s);

#endif
