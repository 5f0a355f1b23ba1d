#include "dwarf/index_memo.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hashmap.h"
#include "base/search.h"

#define MAGIC "kstall-index-memo 1"
/* A memo holds a few hundred answers; anything far larger is not one. */
#define MAX_FILE (1u << 20)
#define MAX_KEY 256

struct answer {
	char *key;
	bool found;
	uint64_t value;
};

struct ks_index_memo {
	char *path;
	char build_id[2 * 64 + 1];
	uint64_t stamp;
	struct answer *answers;
	size_t count, cap;
	struct ks_strmap by_key; /* key -> index into answers */
	unsigned loaded;
	bool dirty;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
	return h;
}

static bool add(struct ks_index_memo *m, const char *key, bool found, uint64_t value)
{
	struct answer *a;

	if (m->count == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 256;
		struct answer *n = realloc(m->answers, cap * sizeof(*n));

		if (!n)
			return false;
		m->answers = n;
		m->cap = cap;
	}
	a = &m->answers[m->count];
	a->key = strdup(key);
	if (!a->key)
		return false;
	if (!ks_strmap_put(&m->by_key, a->key, m->count, false)) {
		free(a->key);
		return false;
	}
	a->found = found;
	a->value = value;
	m->count++;
	return true;
}

/* One "key value" line; key "k:name" without blanks, value hex or "-". */
static bool parse_answer(struct ks_index_memo *m, char *line)
{
	char *sp = strchr(line, ' '), *end;
	uint64_t value = 0;
	bool found;
	uint64_t old;

	if (!sp || sp - line < 3 || sp - line >= MAX_KEY || line[1] != ':')
		return false;
	*sp++ = '\0';
	found = strcmp(sp, "-") != 0;
	if (found) {
		if (!*sp || strlen(sp) > 16)
			return false;
		value = strtoull(sp, &end, 16);
		if (*end)
			return false;
	}
	/* A key twice is a file kstall did not write. */
	return !ks_strmap_get(&m->by_key, line, &old) && add(m, line, found, value);
}

/* Parse text (NUL-terminated, len bytes); false leaves m with whatever it took (the caller drops it). */
static bool parse(struct ks_index_memo *m, char *text, size_t len)
{
	char header[512], *end_line, *line, *next;
	uint64_t sum;
	int n;

	/* The checksum line closes the file and covers everything before it. */
	if (len < 2 || text[len - 1] != '\n')
		return false;
	text[len - 1] = '\0';
	end_line = strrchr(text, '\n');
	if (!end_line || sscanf(end_line + 1, "end %" SCNx64 "%n", &sum, &n) != 1 ||
	    end_line[1 + n] || sum != fnv(text, (size_t)(end_line + 1 - text)))
		return false;
	*end_line = '\0';
	n = snprintf(header, sizeof(header), MAGIC "\nbuild-id %s\nstamp %" PRIx64 "\n", m->build_id,
		     m->stamp);
	if (n < 0 || (size_t)n >= sizeof(header) || strncmp(text, header, (size_t)n))
		return false;
	for (line = text + n; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!parse_answer(m, line))
			return false;
	}
	return true;
}

static void forget(struct ks_index_memo *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->answers[i].key);
	m->count = 0;
	ks_strmap_free(&m->by_key);
}

static void read_file(struct ks_index_memo *m)
{
	FILE *f = fopen(m->path, "re");
	char *text;
	size_t len;

	if (!f)
		return;
	text = malloc(MAX_FILE + 1);
	len = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
	fclose(f);
	if (text && len <= MAX_FILE) {
		text[len] = '\0';
		if (strlen(text) == len && parse(m, text, len))
			m->loaded = (unsigned)m->count;
		else
			forget(m);
	}
	free(text);
}

struct ks_index_memo *ks_index_memo_load(const char *path, const char *build_id, uint64_t stamp)
{
	struct ks_index_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->stamp = stamp;
	snprintf(m->build_id, sizeof(m->build_id), "%s", build_id);
	/* Without a build-id no two files can be told apart: nothing is kept. */
	if (path && build_id[0]) {
		m->path = strdup(path);
		if (!m->path) {
			free(m);
			return NULL;
		}
		read_file(m);
	}
	return m;
}

static int by_key(const void *a, const void *b)
{
	return strcmp((*(const struct answer *const *)a)->key, (*(const struct answer *const *)b)->key);
}

/* Sorted, so that the same answers always make the same file; the checksum line is the caller's. */
static char *render(const struct ks_index_memo *m, size_t *len)
{
	const struct answer **sorted = malloc((m->count ? m->count : 1) * sizeof(*sorted));
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (!sorted)
		return NULL;
	for (size_t i = 0; i < m->count; i++)
		sorted[i] = &m->answers[i];
	ks_sort(sorted, m->count, sizeof(*sorted), by_key);
	f = open_memstream(&text, &size);
	if (!f) {
		free(sorted);
		return NULL;
	}
	fprintf(f, MAGIC "\nbuild-id %s\nstamp %" PRIx64 "\n", m->build_id, m->stamp);
	for (size_t i = 0; i < m->count; i++) {
		if (sorted[i]->found)
			fprintf(f, "%s %" PRIx64 "\n", sorted[i]->key, sorted[i]->value);
		else
			fprintf(f, "%s -\n", sorted[i]->key);
	}
	free(sorted);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	*len = size;
	return text;
}

static void save(struct ks_index_memo *m)
{
	char *text, *tmp;
	size_t len = 0;
	FILE *f;
	bool ok;

	text = render(m, &len);
	if (!text || asprintf(&tmp, "%s.%ld.tmp", m->path, (long)getpid()) < 0) {
		free(text);
		return;
	}
	f = fopen(tmp, "we");
	ok = f && fwrite(text, 1, len, f) == len &&
	     fprintf(f, "end %016" PRIx64 "\n", fnv(text, len)) > 0;
	if (f && fclose(f) != 0)
		ok = false;
	/* A cache that cannot be written is no error: the next run indexes again. */
	if (!ok || rename(tmp, m->path) != 0)
		unlink(tmp);
	free(tmp);
	free(text);
}

void ks_index_memo_destroy(struct ks_index_memo *m)
{
	if (!m)
		return;
	if (m->dirty && m->path)
		save(m);
	forget(m);
	free(m->answers);
	free(m->path);
	free(m);
}

unsigned ks_index_memo_loaded(const struct ks_index_memo *m)
{
	return m->loaded;
}

bool ks_index_memo_get(const struct ks_index_memo *m, const char *key, bool *found,
		       uint64_t *value)
{
	uint64_t i;

	if (!ks_strmap_get(&m->by_key, key, &i))
		return false;
	*found = m->answers[i].found;
	*value = m->answers[i].value;
	return true;
}

bool ks_index_memo_put(struct ks_index_memo *m, const char *key, bool found, uint64_t value)
{
	uint64_t old;

	if (strlen(key) >= MAX_KEY || ks_strmap_get(&m->by_key, key, &old))
		return true;
	if (!add(m, key, found, value))
		return false;
	m->dirty = true;
	return true;
}
