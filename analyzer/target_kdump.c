/* The libkdumpfile backend of the target. */
#include <errno.h>
#include <fcntl.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kstall/target.h"

struct kdump_priv {
	kdump_ctx_t *ctx;
	int fd;
	char *vmcoreinfo;
};

static struct ks_error *kdump_translate(kdump_ctx_t *ctx, kdump_status st, uint64_t addr)
{
	switch (st) {
	case KDUMP_OK:
		return NULL;
	case KDUMP_ERR_NODATA:
		return ks_error_fault(KS_ERR_NODATA, addr, "page at 0x%llx is not in the dump (%s)",
				      (unsigned long long)addr, kdump_get_err(ctx));
	default:
		return ks_error_fault(KS_ERR_FAULT, addr, "cannot read 0x%llx: %s",
				      (unsigned long long)addr, kdump_get_err(ctx));
	}
}

static struct ks_error *kdump_priv_read(void *priv, uint64_t addr, void *buf, size_t len,
					bool physical)
{
	struct kdump_priv *p = priv;
	size_t got = len;
	kdump_status st;

	st = kdump_read(p->ctx, physical ? KDUMP_KPHYSADDR : KDUMP_KVADDR, addr, buf, &got);
	if (st == KDUMP_OK && got != len)
		return ks_error_fault(KS_ERR_FAULT, addr + got, "short read at 0x%llx",
				      (unsigned long long)(addr + got));
	return kdump_translate(p->ctx, st, addr + (st == KDUMP_OK ? 0 : got));
}

static const char *kdump_priv_vmcoreinfo(void *priv)
{
	return ((struct kdump_priv *)priv)->vmcoreinfo;
}

static void kdump_priv_destroy(void *priv)
{
	struct kdump_priv *p = priv;

	if (!p)
		return;
	if (p->ctx)
		kdump_free(p->ctx);
	if (p->fd >= 0)
		close(p->fd);
	free(p->vmcoreinfo);
	free(p);
}

static const struct ks_target_ops kdump_ops = {
	.version = KS_TARGET_OPS_VERSION,
	.name = "kdump",
	.read = kdump_priv_read,
	.vmcoreinfo = kdump_priv_vmcoreinfo,
	.destroy = kdump_priv_destroy,
};

struct ks_error *ks_target_open_kdump(const char *path, struct ks_target **ret)
{
	struct kdump_priv *p = calloc(1, sizeof(*p));
	kdump_status st;
	char *raw = NULL;

	if (!p)
		return &ks_error_nomem;
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		int e = errno;

		kdump_priv_destroy(p);
		return ks_error_create(KS_ERR_OS, "cannot open %s: %s", path, strerror(e));
	}
	p->ctx = kdump_new();
	if (!p->ctx) {
		kdump_priv_destroy(p);
		return &ks_error_nomem;
	}
	st = kdump_open_fd(p->ctx, p->fd);
	if (st == KDUMP_OK)
		st = kdump_set_string_attr(p->ctx, KDUMP_ATTR_OSTYPE, "linux");
	if (st != KDUMP_OK) {
		struct ks_error *err = ks_error_create(KS_ERR_BAD_DATA, "%s is not a readable vmcore: %s",
						       path, kdump_get_err(p->ctx));

		kdump_priv_destroy(p);
		return err;
	}
	if (kdump_vmcoreinfo_raw(p->ctx, &raw) == KDUMP_OK)
		p->vmcoreinfo = raw;
	return ks_target_create(&kdump_ops, p, ret);
}
