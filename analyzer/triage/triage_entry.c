/* A triage entry and its JSON line: what `triage --json` prints, and what a child sends its parent. */
#include <stdlib.h>
#include <string.h>

#include "triage/triage.h"

static const char *const status_names[] = {
	[KS_TRIAGE_PENDING] = "pending",
	[KS_TRIAGE_OK] = "ok",
	[KS_TRIAGE_PARTIAL] = "partial",
	[KS_TRIAGE_FAILED] = "failed",
	[KS_TRIAGE_INCONCLUSIVE] = "inconclusive",
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
	free(e->host);
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
	bool analyzed = e->status == KS_TRIAGE_OK || e->status == KS_TRIAGE_PARTIAL ||
			e->status == KS_TRIAGE_INCONCLUSIVE;
	json_t *o = json_object(), *pids = json_array();

	for (size_t i = 0; i < e->npids; i++)
		json_array_append_new(pids, json_integer(e->pids[i]));
	json_object_set_new(o, "type", json_string("dump"));
	json_object_set_new(o, "schema_version", json_integer(KS_TRIAGE_SCHEMA_VERSION));
	json_object_set_new(o, "path", ks_triage_json_text(e->path ? e->path : ""));
	json_object_set_new(o, "size", json_integer((json_int_t)e->size));
	json_object_set_new(o, "mtime_ns", json_integer((json_int_t)e->mtime_ns));
	json_object_set_new(o, "status", json_string(ks_triage_status_name(e->status)));
	json_object_set_new(o, "cached", json_boolean(e->cached));
	json_object_set_new(o, "release", ks_triage_json_text(e->release));
	json_object_set_new(o, "build_id", ks_triage_json_text(e->build_id));
	json_object_set_new(o, "vmlinux", ks_triage_json_text(e->vmlinux));
	json_object_set_new(o, "host", ks_triage_json_text(e->host));
	json_object_set_new(o, "crash_time", e->crash_time ? json_integer(e->crash_time) : json_null());
	json_object_set_new(o, "verdict", ks_triage_json_text(e->verdict));
	json_object_set_new(o, "score", analyzed ? json_real(e->score) : json_null());
	json_object_set_new(o, "signature", ks_triage_json_text(e->signature));
	json_object_set_new(o, "summary", ks_triage_json_text(e->summary));
	json_object_set_new(o, "pids", pids);
	json_object_set_new(o, "reason", ks_triage_json_text(e->reason));
	json_object_set_new(o, "analyzed_at",
			    e->analyzed_at ? json_integer(e->analyzed_at) : json_null());
	json_object_set_new(o, "analyzed_by", ks_triage_json_text(e->analyzed_by));
	return o;
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
	e->host = dup_member(obj, "host");
	e->crash_time = json_integer_value(json_object_get(obj, "crash_time"));
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
