/*
 * The triage index: one SQLite table, a row per dump path with what its last
 * analysis found. A row is reused only for the same file (path, size, mtime)
 * analyzed by the same kstall build, since another build may find otherwise.
 * Only the parent process of a batch touches the connection.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "triage/triage.h"

/* 2 added host and crash_time; an index of format 1 is migrated in place */
#define INDEX_FORMAT 2

struct ks_triage_index {
	sqlite3 *db;
	char *path, *version;
	sqlite3_stmt *lookup, *store;
};

#define COLUMNS                                                                                 \
	"path, size, mtime_ns, status, release, build_id, vmlinux, verdict, score, signature, " \
	"summary, pids, reason, analyzed_at, kstall_version, host, crash_time"

static const char schema[] =
	"CREATE TABLE dumps ("
	" path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	" status TEXT NOT NULL, release TEXT, build_id TEXT, vmlinux TEXT, verdict TEXT,"
	" score REAL, signature TEXT, summary TEXT, pids TEXT NOT NULL, reason TEXT,"
	" analyzed_at INTEGER NOT NULL, kstall_version TEXT NOT NULL, host TEXT,"
	" crash_time INTEGER);"
	"CREATE INDEX dumps_by_signature ON dumps(signature);"
	"PRAGMA user_version = 2;";

/* Format 1 to 2 in one transaction: its rows stay (another kstall build will not reuse them,
 * but --similar still lists them), with no host or date. */
static const char migrate_1_to_2[] =
	"BEGIN IMMEDIATE;"
	"ALTER TABLE dumps ADD COLUMN host TEXT;"
	"ALTER TABLE dumps ADD COLUMN crash_time INTEGER;"
	"PRAGMA user_version = 2;"
	"COMMIT;";

static struct ks_error *db_error(struct ks_triage_index *idx, int rc)
{
	if (rc == SQLITE_NOMEM)
		return &ks_error_nomem;
	return ks_error_create(rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? KS_ERR_BAD_DATA
									   : KS_ERR_OS,
			       "index %s: %s", idx->path,
			       idx->db ? sqlite3_errmsg(idx->db) : sqlite3_errstr(rc));
}

/* One integer from a query, as PRAGMA user_version gives it. */
static struct ks_error *query_int(struct ks_triage_index *idx, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(idx, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? NULL : db_error(idx, rc);
}

/* A new file gets the table; an old one must be an index of the format this kstall writes. */
static struct ks_error *check_format(struct ks_triage_index *idx, bool readonly)
{
	int64_t format = 0, tables = 0;
	struct ks_error *err = query_int(idx, "PRAGMA user_version", &format);
	int rc;

	if (!err && !format)
		err = query_int(idx, "SELECT count(*) FROM sqlite_master", &tables);
	if (err)
		return err;
	if (format == INDEX_FORMAT)
		return NULL;
	if (format == 1 && !readonly) {
		rc = sqlite3_exec(idx->db, migrate_1_to_2, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
		/* another batch may have migrated it meanwhile */
		if (rc != SQLITE_OK) {
			struct ks_error *again = query_int(idx, "PRAGMA user_version", &format);

			if (!again && format == INDEX_FORMAT)
				return NULL;
			ks_error_destroy(again);
		}
		return rc == SQLITE_OK ? NULL : db_error(idx, rc);
	}
	if (format == 1 && readonly)
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "%s is a triage index of format 1: run kstall triage on it once "
				       "to bring it to format %d",
				       idx->path, INDEX_FORMAT);
	if (format || tables || readonly)
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "%s is not a kstall triage index of format %d (its format: "
				       "%lld)",
				       idx->path, INDEX_FORMAT, (long long)format);
	rc = sqlite3_exec(idx->db, schema, NULL, NULL, NULL);
	return rc == SQLITE_OK ? NULL : db_error(idx, rc);
}

static struct ks_error *prepare(struct ks_triage_index *idx)
{
	int rc = sqlite3_prepare_v2(idx->db,
				    "SELECT " COLUMNS " FROM dumps WHERE path = ?1 AND size = ?2 "
				    "AND mtime_ns = ?3 AND kstall_version = ?4 AND status != 'failed'",
				    -1, &idx->lookup, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(idx->db,
					"INSERT OR REPLACE INTO dumps (" COLUMNS ") VALUES (?1, ?2, "
					"?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
					-1, &idx->store, NULL);
	return rc == SQLITE_OK ? NULL : db_error(idx, rc);
}

struct ks_error *ks_triage_index_open(const char *path, const char *version, bool readonly,
				      struct ks_triage_index **ret)
{
	struct ks_triage_index *idx = calloc(1, sizeof(*idx));
	struct ks_error *err = NULL;
	struct stat st;
	int rc;

	if (!idx)
		return &ks_error_nomem;
	idx->path = strdup(path);
	idx->version = strdup(version);
	if (!idx->path || !idx->version) {
		ks_triage_index_close(idx);
		return &ks_error_nomem;
	}
	/* SQLite would say "unable to open database file"; the user wants to know which and why. */
	if (readonly && stat(path, &st)) {
		err = ks_error_create(KS_ERR_OS, "no triage index %s: %s", path, strerror(errno));
		ks_triage_index_close(idx);
		return err;
	}
	rc = sqlite3_open_v2(path, &idx->db,
			     readonly ? SQLITE_OPEN_READONLY
				      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     NULL);
	if (rc == SQLITE_OK)
		/* Two batches may share an index: wait for the other's write rather than fail. */
		rc = sqlite3_busy_timeout(idx->db, 10000);
	err = rc != SQLITE_OK ? db_error(idx, rc) : check_format(idx, readonly);
	if (!err && !readonly)
		err = prepare(idx);
	if (err) {
		ks_triage_index_close(idx);
		return err;
	}
	*ret = idx;
	return NULL;
}

void ks_triage_index_close(struct ks_triage_index *idx)
{
	if (!idx)
		return;
	sqlite3_finalize(idx->lookup);
	sqlite3_finalize(idx->store);
	sqlite3_close(idx->db);
	free(idx->path);
	free(idx->version);
	free(idx);
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? strdup((const char *)s) : NULL;
}

/* Columns in COLUMNS order into e; the file's own (path, size, mtime) only when with_file. */
static void fill(sqlite3_stmt *st, struct ks_triage_entry *e, bool with_file)
{
	const char *pids = (const char *)sqlite3_column_text(st, 11);

	if (with_file) {
		e->path = column_dup(st, 0);
		e->size = (uint64_t)sqlite3_column_int64(st, 1);
		e->mtime_ns = sqlite3_column_int64(st, 2);
	}
	if (!ks_triage_status_parse((const char *)sqlite3_column_text(st, 3), &e->status))
		e->status = KS_TRIAGE_FAILED;
	e->release = column_dup(st, 4);
	e->build_id = column_dup(st, 5);
	e->vmlinux = column_dup(st, 6);
	e->verdict = column_dup(st, 7);
	e->score = sqlite3_column_double(st, 8);
	e->signature = column_dup(st, 9);
	e->summary = column_dup(st, 10);
	e->npids = 0;
	while (pids && *pids && e->npids < KS_VERDICT_MAX_PIDS) {
		char *end;

		e->pids[e->npids++] = (int32_t)strtol(pids, &end, 10);
		pids = *end == ',' ? end + 1 : "";
	}
	e->reason = column_dup(st, 12);
	e->analyzed_at = sqlite3_column_int64(st, 13);
	e->analyzed_by = column_dup(st, 14);
	e->host = column_dup(st, 15);
	e->crash_time = sqlite3_column_int64(st, 16);
	e->cached = true;
}

struct ks_error *ks_triage_index_lookup(struct ks_triage_index *idx, struct ks_triage_entry *e,
					bool *found)
{
	sqlite3_stmt *st = idx->lookup;
	int rc;

	if (!st)
		return ks_error_create(KS_ERR_USAGE, "index %s is open read-only", idx->path);
	sqlite3_bind_text(st, 1, e->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->size);
	sqlite3_bind_int64(st, 3, e->mtime_ns);
	sqlite3_bind_text(st, 4, idx->version, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		fill(st, e, false);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? NULL : db_error(idx, rc);
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

struct ks_error *ks_triage_index_store(struct ks_triage_index *idx, const struct ks_triage_entry *e)
{
	sqlite3_stmt *st = idx->store;
	char pids[KS_VERDICT_MAX_PIDS * 12 + 1] = "";
	size_t len = 0;
	int rc;

	if (!st)
		return ks_error_create(KS_ERR_USAGE, "index %s is open read-only", idx->path);
	for (size_t i = 0; i < e->npids; i++)
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d", i ? "," : "",
					e->pids[i]);
	sqlite3_bind_text(st, 1, e->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->size);
	sqlite3_bind_int64(st, 3, e->mtime_ns);
	sqlite3_bind_text(st, 4, ks_triage_status_name(e->status), -1, SQLITE_STATIC);
	bind_text(st, 5, e->release);
	bind_text(st, 6, e->build_id);
	bind_text(st, 7, e->vmlinux);
	bind_text(st, 8, e->verdict);
	sqlite3_bind_double(st, 9, e->score);
	bind_text(st, 10, e->signature);
	bind_text(st, 11, e->summary);
	sqlite3_bind_text(st, 12, pids, -1, SQLITE_STATIC);
	bind_text(st, 13, e->reason);
	sqlite3_bind_int64(st, 14, e->analyzed_at);
	sqlite3_bind_text(st, 15, idx->version, -1, SQLITE_STATIC);
	bind_text(st, 16, e->host);
	if (e->crash_time)
		sqlite3_bind_int64(st, 17, e->crash_time);
	else
		sqlite3_bind_null(st, 17);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? NULL : db_error(idx, rc);
}

struct ks_error *ks_triage_index_similar(struct ks_triage_index *idx, const char *signature,
					 struct ks_triage_dumps *ret)
{
	struct ks_triage_dumps out = { 0 };
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(idx->db,
				    "SELECT " COLUMNS " FROM dumps WHERE signature = ?1 ORDER BY path",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(idx, rc);
	sqlite3_bind_text(st, 1, signature, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out.count == cap) {
			struct ks_triage_entry *n;

			cap = cap ? 2 * cap : 16;
			n = realloc(out.entries, cap * sizeof(*n));
			if (!n) {
				rc = SQLITE_NOMEM;
				break;
			}
			out.entries = n;
		}
		memset(&out.entries[out.count], 0, sizeof(*out.entries));
		fill(st, &out.entries[out.count++], true);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ks_triage_dumps_deinit(&out);
		return db_error(idx, rc);
	}
	*ret = out;
	return NULL;
}
