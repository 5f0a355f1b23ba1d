/* A triage entry and its JSON line: what `triage --json` prints and what a child sends its parent. */
#include <stdlib.h>
#include <string.h>

#include "triage.h"

static const char *const status_names[] = {
	[KS_TRIAGE_PENDING] = "pending",
	[KS_TRIAGE_OK] = "ok",
	[KS_TRIAGE_PARTIAL] = "partial",
	[KS_TRIAGE_FAILED] = "failed",
};

const char *ks_triage_status_name(enum ks_triage_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "?";
}

bool ks_triage_status_parse(const char *name, enum ks_triage_status *ret)
{
	for (size_t i = 0; name && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (!strcmp(name, status_names[i])) {
			*ret = (enum ks_triage_status)i;
			return true;
		}
	}
	return false;
}

void ks_triage_entry_deinit(struct ks_triage_entry *e)
{
	free(e->path);
	free(e->release);
	free(e->build_id);
	free(e->vmlinux);
	free(e->verdict);
	free(e->signature);
	free(e->summary);
	free(e->reason);
	free(e->analyzed_by);
	memset(e, 0, sizeof(*e));
}

void ks_triage_dumps_deinit(struct ks_triage_dumps *d)
{
	for (size_t i = 0; i < d->count; i++)
		ks_triage_entry_deinit(&d->entries[i]);
	free(d->entries);
	free(d->problems);
	memset(d, 0, sizeof(*d));
}

/* JSON strings must be UTF-8; a comm or file name need not be. Such bytes become '?'. */
json_t *ks_triage_json_text(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j || !(copy = strdup(s)))
		return j ? j : json_null();
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

json_t *ks_triage_entry_json(const struct ks_triage_entry *e)
{
	bool analyzed = e->status == KS_TRIAGE_OK || e->status == KS_TRIAGE_PARTIAL;
	json_t *pids = json_array();

	for (size_t i = 0; i < e->npids; i++)
		json_array_append_new(pids, json_integer(e->pids[i]));
	return json_pack("{s:s,s:i,s:o,s:I,s:I,s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "type", "dump", "schema_version", KS_TRIAGE_SCHEMA_VERSION, "path",
			 ks_triage_json_text(e->path ? e->path : ""), "size", (json_int_t)e->size, "mtime_ns",
			 (json_int_t)e->mtime_ns, "status", ks_triage_status_name(e->status),
			 "cached", e->cached, "release", ks_triage_json_text(e->release), "build_id",
			 ks_triage_json_text(e->build_id), "vmlinux", ks_triage_json_text(e->vmlinux), "verdict",
			 ks_triage_json_text(e->verdict), "score", analyzed ? json_real(e->score) : json_null(),
			 "signature", ks_triage_json_text(e->signature), "summary", ks_triage_json_text(e->summary),
			 "pids", pids, "reason", ks_triage_json_text(e->reason), "analyzed_at",
			 e->analyzed_at ? json_integer(e->analyzed_at) : json_null(), "analyzed_by",
			 ks_triage_json_text(e->analyzed_by));
}

static char *dup_member(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? strdup(s) : NULL;
}

struct ks_error *ks_triage_entry_from_json(json_t *obj, struct ks_triage_entry *e)
{
	json_t *pids = json_object_get(obj, "pids");
	enum ks_triage_status status;
	size_t i;
	json_t *pid;

	if (!json_is_object(obj) ||
	    !ks_triage_status_parse(json_string_value(json_object_get(obj, "status")), &status) ||
	    !json_is_array(pids))
		return ks_error_create(KS_ERR_BAD_DATA, "not a triage result");
	e->status = status;
	e->release = dup_member(obj, "release");
	e->build_id = dup_member(obj, "build_id");
	e->vmlinux = dup_member(obj, "vmlinux");
	e->verdict = dup_member(obj, "verdict");
	e->signature = dup_member(obj, "signature");
	e->summary = dup_member(obj, "summary");
	e->reason = dup_member(obj, "reason");
	e->analyzed_by = dup_member(obj, "analyzed_by");
	e->score = json_number_value(json_object_get(obj, "score"));
	e->analyzed_at = json_integer_value(json_object_get(obj, "analyzed_at"));
	e->npids = 0;
	json_array_foreach(pids, i, pid)
		if (e->npids < KS_VERDICT_MAX_PIDS)
			e->pids[e->npids++] = (int32_t)json_integer_value(pid);
	return NULL;
}
