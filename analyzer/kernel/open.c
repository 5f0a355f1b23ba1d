#include "kstall/open.h"
#include "dwarf/decompress.h"

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum ks_file_kind ks_file_kind(const char *path)
{
	unsigned char hdr[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = strlen(path);

	if (fd < 0)
		return KS_FILE_UNKNOWN;
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n >= 8 && (!memcmp(hdr, "KDUMP   ", 8) || !memcmp(hdr, "DISKDUMP", 8) ||
		       !memcmp(hdr, "makedumpfile", 8)))
		return KS_FILE_VMCORE;
	/* vmlinux.xz, vmlinux.gz: the ELF inside decides (a compressed dump is not taken as it is) */
	if (n > 0 && ks_compression_of(hdr, (size_t)n) != KS_COMPRESSION_NONE) {
		enum ks_compression c = ks_compression_of(hdr, (size_t)n);

		if (!ks_decompress_head(path, c, hdr, sizeof(hdr)) || memcmp(hdr, "\177ELF", 4) ||
		    hdr[16] == 4 /* ET_CORE */)
			return KS_FILE_UNKNOWN;
		n = sizeof(hdr);
	}
	if (n < 18 || memcmp(hdr, "\177ELF", 4))
		return KS_FILE_UNKNOWN;
	if (hdr[16] == 4 /* ET_CORE */)
		return KS_FILE_VMCORE;
	/* ET_REL, ET_EXEC, ET_DYN (little-endian e_type); anything else is a damaged header */
	if (hdr[17] || hdr[16] < 1 || hdr[16] > 3)
		return KS_FILE_UNKNOWN;
	if ((len > 3 && !strcmp(path + len - 3, ".ko")) ||
	    (len > 9 && !strcmp(path + len - 9, ".ko.debug")))
		return KS_FILE_MODULE;
	return KS_FILE_VMLINUX;
}

static bool readable(const char *p)
{
	return access(p, R_OK) == 0;
}

/* What the dump says about its kernel, and what was looked at and refused. */
struct wanted {
	char build_id[160], release[65];
	char *refused; /* "; PATH (build-id X)" per refused file, or NULL */
	const struct ks_settings *settings; /* for a compressed candidate; may be NULL */
};

/*
 * Several kernels of one release (a rebuilt kernel, a debug flavour) differ in
 * build-id only: that is what decides. A side without a build-id falls back
 * to the release, as the open's own check falls back to linux_banner.
 */
static bool matches(struct wanted *w, const char *path)
{
	struct ks_vmlinux_id id;
	struct ks_error *err;
	char *more;

	if (!readable(path))
		return false;
	err = ks_debuginfo_identify(path, w->settings, &id);
	if (err) {
		if (asprintf(&more, "%s; %s", w->refused ? w->refused : "", err->message) >= 0) {
			free(w->refused);
			w->refused = more;
		}
		ks_error_destroy(err);
		return false;
	}
	if (w->build_id[0] && id.build_id[0]) {
		if (!strncmp(id.build_id, w->build_id, strlen(w->build_id)))
			return true;
	} else if (w->release[0] && !strcmp(id.release, w->release)) {
		return true;
	}
	if (asprintf(&more, "%s; %s (build-id %s, release %s) is not the dump's",
		     w->refused ? w->refused : "", path, id.build_id[0] ? id.build_id : "none",
		     id.release[0] ? id.release : "unknown") >= 0) {
		free(w->refused);
		w->refused = more;
	}
	return false;
}

/* The places distributions put a release's vmlinux with debuginfo, under a root ("" or a debug dir). */
static char *find_under(struct wanted *w, const char *root, bool extra)
{
	static const char *const by_release[] = {
		"%s/usr/lib/debug/boot/vmlinux-%s",
		"%s/usr/lib/debug/lib/modules/%s/vmlinux",
		"%s/boot/vmlinux-%s",
		"%s/lib/modules/%s/build/vmlinux",
	};
	/* a --debug-dir: laid out like /usr/lib/debug, or holding the files themselves */
	static const char *const in_dir[] = {
		"%s/boot/vmlinux-%s", "%s/lib/modules/%s/vmlinux", "%s/vmlinux-%s", "%s/%s/vmlinux",
	};
	const char *const *names = extra ? in_dir : by_release;
	size_t n = extra ? sizeof(in_dir) / sizeof(in_dir[0])
			 : sizeof(by_release) / sizeof(by_release[0]);
	char path[4096];

	if (strlen(w->build_id) > 2) {
		snprintf(path, sizeof(path), "%s%s/.build-id/%.2s/%s.debug", root,
			 extra ? "" : "/usr/lib/debug", w->build_id, w->build_id + 2);
		if (matches(w, path))
			return strdup(path);
	}
	for (size_t i = 0; w->release[0] && i < n; i++) {
		snprintf(path, sizeof(path), names[i], root, w->release);
		if (matches(w, path))
			return strdup(path);
	}
	if (extra) {
		snprintf(path, sizeof(path), "%s/vmlinux", root);
		if (matches(w, path))
			return strdup(path);
	}
	return NULL;
}

/*
 * libdebuginfod is loaded only when it is asked: linked in, its curl, TLS and
 * Kerberos libraries cost every run (most never use it) their relocation time
 * and 4 MB of resident pages.
 */
static char *find_debuginfod(const struct wanted *w)
{
	__typeof__(debuginfod_begin) *begin;
	__typeof__(debuginfod_find_debuginfo) *find;
	__typeof__(debuginfod_end) *end;
	char *path = NULL;
	debuginfod_client *c;
	void *lib;
	int fd;

	if (!getenv("DEBUGINFOD_URLS") || !*getenv("DEBUGINFOD_URLS") || !w->build_id[0])
		return NULL;
	lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return NULL;
	begin = (__typeof__(begin))dlsym(lib, "debuginfod_begin");
	find = (__typeof__(find))dlsym(lib, "debuginfod_find_debuginfo");
	end = (__typeof__(end))dlsym(lib, "debuginfod_end");
	c = begin && find && end ? begin() : NULL;
	if (!c) {
		dlclose(lib);
		return NULL;
	}
	fd = find(c, (const unsigned char *)w->build_id, 0, &path);
	end(c);
	/* Not closed: the library's TLS and atexit state may outlive the client. */
	if (fd < 0)
		return NULL;
	close(fd);
	return path;
}

struct ks_error *ks_find_vmlinux(struct ks_target *t, const struct ks_vmlinux_search *search,
				 char **ret, enum ks_vmlinux_origin *origin)
{
	enum ks_vmlinux_origin how = KS_VMLINUX_CANDIDATE;
	struct wanted w = { .settings = search ? search->settings : NULL };
	char *found = NULL;
	struct ks_error *err;

	if (!ks_target_vmcoreinfo(t, "BUILD-ID", w.build_id, sizeof(w.build_id)))
		w.build_id[0] = '\0';
	/* a damaged VMCOREINFO: its bytes must not become paths, debuginfod queries or messages */
	bool id_damaged = w.build_id[0] && !ks_build_id_well_formed(w.build_id);
	if (id_damaged)
		w.build_id[0] = '\0';
	if (!ks_target_vmcoreinfo(t, "OSRELEASE", w.release, sizeof(w.release)))
		w.release[0] = '\0';
	for (size_t i = 0; search && !found && i < search->nfiles; i++)
		if (matches(&w, search->files[i]))
			found = strdup(search->files[i]);
	if (!found)
		how = KS_VMLINUX_DEBUG_PATH;
	for (size_t i = 0; search && !found && i < search->ndirs; i++)
		found = find_under(&w, search->dirs[i], true);
	if (!found)
		found = find_under(&w, "", false);
	if (!found) {
		how = KS_VMLINUX_DEBUGINFOD;
		found = find_debuginfod(&w);
	}
	if (found) {
		free(w.refused);
		*ret = found;
		if (origin)
			*origin = how;
		return NULL;
	}
	err = ks_error_create(KS_ERR_LOOKUP,
			      "no vmlinux for kernel %s (build-id %s) found in %sthe debug paths or "
			      "debuginfod%s; name it on the command line",
			      w.release[0] ? w.release : "?",
			      w.build_id[0] ? w.build_id : id_damaged ? "damaged in VMCOREINFO: not hex" : "unknown",
			      search && (search->nfiles || search->ndirs) ? "the given files, " : "",
			      w.refused ? w.refused : "");
	free(w.refused);
	return err;
}

struct ks_error *ks_open_target(struct ks_target *t, const char *vmlinux,
				enum ks_vmlinux_origin origin, bool force,
				const struct ks_settings *settings, struct ks_kernel **ret)
{
	struct ks_debuginfo *di;
	struct ks_kernel_options kopts = { .force = force, .settings = settings, .origin = origin };
	struct ks_error *err;
	char *found = NULL;

	if (!vmlinux) {
		struct ks_vmlinux_search only = { .settings = settings };

		err = ks_find_vmlinux(t, &only, &found, &kopts.origin);
		if (err) {
			ks_target_destroy(t);
			return err;
		}
		vmlinux = found;
	}
	err = ks_debuginfo_open(vmlinux, settings, &di);
	free(found);
	if (err) {
		ks_target_destroy(t);
		return err;
	}
	return ks_kernel_open(t, di, &kopts, ret);
}

struct ks_error *ks_open(const struct ks_open_options *opts, struct ks_kernel **ret)
{
	struct ks_target *t;
	struct ks_error *err = ks_target_open_kdump(opts->vmcore, opts->settings, &t);

	if (err)
		return err;
	return ks_open_target(t, opts->vmlinux, KS_VMLINUX_GIVEN, opts->force, opts->settings, ret);
}
