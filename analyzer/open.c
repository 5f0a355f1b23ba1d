#include "kstall/open.h"

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
	if (n < 18 || memcmp(hdr, "\177ELF", 4))
		return KS_FILE_UNKNOWN;
	if (hdr[16] == 4 /* ET_CORE */)
		return KS_FILE_VMCORE;
	if ((len > 3 && !strcmp(path + len - 3, ".ko")) ||
	    (len > 9 && !strcmp(path + len - 9, ".ko.debug")))
		return KS_FILE_MODULE;
	return KS_FILE_VMLINUX;
}

static bool readable(const char *p)
{
	return access(p, R_OK) == 0;
}

/* The standard places distributions put a release's vmlinux with debuginfo. */
static char *find_local(struct ks_target *t)
{
	char release[65], build_id[160], path[512];
	static const char *const by_release[] = {
		"/usr/lib/debug/boot/vmlinux-%s",
		"/usr/lib/debug/lib/modules/%s/vmlinux",
		"/boot/vmlinux-%s",
		"/lib/modules/%s/build/vmlinux",
	};

	if (ks_target_vmcoreinfo(t, "BUILD-ID", build_id, sizeof(build_id)) &&
	    strlen(build_id) > 2) {
		snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", build_id,
			 build_id + 2);
		if (readable(path))
			return strdup(path);
	}
	if (!ks_target_vmcoreinfo(t, "OSRELEASE", release, sizeof(release)))
		return NULL;
	for (size_t i = 0; i < sizeof(by_release) / sizeof(by_release[0]); i++) {
		snprintf(path, sizeof(path), by_release[i], release);
		if (readable(path))
			return strdup(path);
	}
	return NULL;
}

static char *find_debuginfod(struct ks_target *t)
{
	char build_id[160], *path = NULL;
	debuginfod_client *c;
	int fd;

	if (!getenv("DEBUGINFOD_URLS") || !*getenv("DEBUGINFOD_URLS") ||
	    !ks_target_vmcoreinfo(t, "BUILD-ID", build_id, sizeof(build_id)))
		return NULL;
	c = debuginfod_begin();
	if (!c)
		return NULL;
	fd = debuginfod_find_debuginfo(c, (const unsigned char *)build_id, 0, &path);
	debuginfod_end(c);
	if (fd < 0)
		return NULL;
	close(fd);
	return path;
}

struct ks_error *ks_open_target(struct ks_target *t, const char *vmlinux, bool force,
			       struct ks_kernel **ret)
{
	struct ks_debuginfo *di;
	struct ks_kernel_options kopts = { .force = force };
	struct ks_error *err;
	char *found = NULL;

	if (!vmlinux) {
		found = find_local(t);
		if (!found)
			found = find_debuginfod(t);
		if (!found) {
			char release[65] = "?";

			ks_target_vmcoreinfo(t, "OSRELEASE", release, sizeof(release));
			ks_target_destroy(t);
			return ks_error_create(KS_ERR_LOOKUP,
					       "no vmlinux for kernel %s found in the debug paths or "
					       "debuginfod; give its path after the vmcore",
					       release);
		}
		vmlinux = found;
	}
	err = ks_debuginfo_open(vmlinux, &di);
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
	struct ks_error *err = ks_target_open_kdump(opts->vmcore, &t);

	if (err)
		return err;
	return ks_open_target(t, opts->vmlinux, opts->force, ret);
}
