/*
 * The kstall side of the crash plugin: the analysis of the dump crash has
 * open, built on the first command and kept for the next ones, and its views.
 */
#include <jansson.h>
#include <stdlib.h>

#include "base/term.h"
#include "host.h"
#include "kstall/analysis.h"
#include "kstall/open.h"
#include "render/report.h"

/*
 * Indexing the vmlinux DWARF and walking every task takes a good fraction of
 * a second; a dump does not change, so one analysis serves the session.
 */
static struct {
	struct ks_kernel *kernel;
	struct ks_analysis analysis;
	bool analyzed;
} session;

void kscrash_session_free(void)
{
	if (session.analyzed)
		ks_analysis_deinit(&session.analysis);
	session.analyzed = false;
	ks_kernel_destroy(session.kernel);
	session.kernel = NULL;
}

static struct ks_error *session_analysis(struct ks_analysis **ret)
{
	struct ks_error *err;

	if (!session.kernel) {
		struct ks_target *t;

		err = kscrash_target_create(&t);
		if (err)
			return ks_error_wrap(err, "cannot read the dump through crash");
		struct ks_settings settings;
		char *cache_dir;

		ks_settings_from_env(&settings, &cache_dir);
		err = ks_open_target(t, kscrash_vmlinux(), KS_VMLINUX_GIVEN, false, &settings, &session.kernel);
		free(cache_dir);
		if (err)
			return err;
	}
	if (!session.analyzed) {
		err = ks_analyze(session.kernel, &session.analysis);
		if (err)
			return ks_error_wrap(err, "cannot analyze the dump");
		session.analyzed = true;
	}
	*ret = &session.analysis;
	return NULL;
}

static void render(enum kscrash_view view, FILE *out, const struct ks_analysis *a)
{
	static const unsigned int sections[] = {
		[KSCRASH_REPORT] = KS_REPORT_DEFAULT,
		[KSCRASH_LOCKS] = KS_REPORT_CHAINS | KS_REPORT_LOCKS | KS_REPORT_SUPPORT | KS_REPORT_PROBLEMS,
		[KSCRASH_ALLOC] = KS_REPORT_ALLOC | KS_REPORT_SUPPORT | KS_REPORT_PROBLEMS,
		[KSCRASH_MEMORY] = KS_REPORT_MEMORY | KS_REPORT_OOM | KS_REPORT_EVENTS |
				   KS_REPORT_SUPPORT | KS_REPORT_PROBLEMS,
	};

	if (view == KSCRASH_JSON) {
		json_t *root = ks_report_json(a);

		/* the CLI's format exactly, so the two can be compared byte for byte */
		if (!root || ks_term_json_dumpf(root, out, JSON_INDENT(1) | JSON_SORT_KEYS))
			fprintf(out, "kstall: cannot write the JSON\n");
		else
			fputc('\n', out);
		json_decref(root);
		return;
	}
	ks_report_sections(out, a, sections[view]);
}

void kscrash_run(enum kscrash_view view, FILE *out)
{
	struct ks_analysis *a;
	struct ks_error *err = session_analysis(&a);

	if (err) {
		ks_term_printf(out, "kstall: %s\n", err->message);
		ks_error_destroy(err);
	} else {
		render(view, out, a);
	}
	/* On a live system the next command must see memory as it is then. */
	if (kscrash_live())
		kscrash_session_free();
}
