#include "kstall/target.h"

#include <stdlib.h>
#include <string.h>

struct ks_target {
	const struct ks_target_ops *ops;
	void *priv;
};

struct ks_error *ks_target_create(const struct ks_target_ops *ops, void *priv,
				  struct ks_target **ret)
{
	struct ks_target *t;

	if (ops->version != KS_TARGET_OPS_VERSION) {
		ops->destroy(priv);
		return ks_error_create(KS_ERR_UNSUPPORTED, "target backend %s has version %u, want %u",
				       ops->name, ops->version, KS_TARGET_OPS_VERSION);
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ops->destroy(priv);
		return &ks_error_nomem;
	}
	t->ops = ops;
	t->priv = priv;
	*ret = t;
	return NULL;
}

void ks_target_destroy(struct ks_target *t)
{
	if (!t)
		return;
	t->ops->destroy(t->priv);
	free(t);
}

struct ks_error *ks_target_read(struct ks_target *t, uint64_t addr, void *buf, size_t len)
{
	return t->ops->read(t->priv, addr, buf, len, false);
}

struct ks_error *ks_target_read_phys(struct ks_target *t, uint64_t addr, void *buf, size_t len)
{
	return t->ops->read(t->priv, addr, buf, len, true);
}

const char *ks_target_name(const struct ks_target *t)
{
	return t->ops->name;
}

const char *ks_target_vmcoreinfo_raw(struct ks_target *t)
{
	return t->ops->vmcoreinfo(t->priv);
}

bool ks_target_vmcoreinfo(struct ks_target *t, const char *key, char *buf, size_t size)
{
	const char *info = t->ops->vmcoreinfo(t->priv);
	size_t klen = strlen(key);

	for (const char *line = info; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > klen && line[klen] == '=' && !strncmp(line, key, klen)) {
			size_t vlen = len - klen - 1;

			if (vlen >= size)
				return false;
			memcpy(buf, line + klen + 1, vlen);
			buf[vlen] = '\0';
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}
