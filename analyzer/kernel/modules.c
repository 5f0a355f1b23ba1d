#include "kstall/modules.h"

#include <stdlib.h>
#include <string.h>

#include "kstall/kernel.h"
#include "base/search.h"

#define MAX_MODULES 4096
#define MAX_MODULE_SYMS (1u << 20)
#define MAX_STRTAB (16u << 20)
#define MAX_ORCS (1u << 22)

struct mod_layout {
	uint64_t list, name, name_size, kallsyms;
	uint64_t symtab, num_symtab, strtab;
	uint64_t orc_ip, orc, num_orcs;
	bool have_orc;
	uint64_t taints;
	bool have_taints;
	/* where each memory region's base and size are, from the module */
	uint64_t base[KS_MODULE_RANGES], size[KS_MODULE_RANGES];
	size_t nranges;
};

/*
 * Before 6.4 one core_layout holds text, rodata and data; since, mem[] has a
 * struct module_memory per mod_mem_type, of which the core ones (not the
 * init ones, freed after loading) hold what a dump can point into.
 */
static bool ranges(struct ks_debuginfo *di, struct mod_layout *l)
{
	static const char *const core[] = { "MOD_TEXT", "MOD_DATA", "MOD_RODATA",
					    "MOD_RO_AFTER_INIT" };
	uint64_t mem, stride, base, size;

	if (ks_debuginfo_member(di, "module", "core_layout.base", &l->base[0], NULL) &&
	    ks_debuginfo_member(di, "module", "core_layout.size", &l->size[0], NULL)) {
		l->nranges = 1;
		return true;
	}
	if (!ks_debuginfo_member(di, "module", "mem", &mem, NULL) ||
	    !(stride = ks_debuginfo_type_size(di, "module_memory")) ||
	    !ks_debuginfo_member(di, "module_memory", "base", &base, NULL) ||
	    !ks_debuginfo_member(di, "module_memory", "size", &size, NULL))
		return false;
	for (size_t i = 0; i < KS_MODULE_RANGES; i++) {
		int64_t type;

		/* MOD_RO_AFTER_INIT came with mem[] itself; a missing one is skipped */
		if (!ks_debuginfo_enumerator_of(di, "mod_mem_type", core[i], &type) || type < 0 ||
		    type > 64)
			continue;
		l->base[l->nranges] = mem + (uint64_t)type * stride + base;
		l->size[l->nranges] = mem + (uint64_t)type * stride + size;
		l->nranges++;
	}
	return l->nranges > 0;
}

static bool layout(struct ks_debuginfo *di, struct mod_layout *l)
{
	bool ok = ks_debuginfo_member(di, "module", "list", &l->list, NULL) &&
		  ks_debuginfo_member(di, "module", "name", &l->name, &l->name_size) &&
		  ranges(di, l) && ks_debuginfo_member(di, "module", "kallsyms", &l->kallsyms, NULL) &&
		  ks_debuginfo_member(di, "mod_kallsyms", "symtab", &l->symtab, NULL) &&
		  ks_debuginfo_member(di, "mod_kallsyms", "num_symtab", &l->num_symtab, NULL) &&
		  ks_debuginfo_member(di, "mod_kallsyms", "strtab", &l->strtab, NULL);

	l->have_taints = ks_debuginfo_member(di, "module", "taints", &l->taints, NULL);
	l->have_orc = ks_debuginfo_member(di, "module", "arch.orc_unwind_ip", &l->orc_ip, NULL) &&
		      ks_debuginfo_member(di, "module", "arch.orc_unwind", &l->orc, NULL) &&
		      ks_debuginfo_member(di, "module", "arch.num_orcs", &l->num_orcs, NULL);
	return ok;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct ks_symbol *x = a, *y = b;

	return x->address < y->address ? -1 : x->address > y->address;
}

/* The first read of a module's that failed: why and where (code 0: none). */
struct mod_fail {
	enum ks_error_code code;
	uint64_t at;
};

static bool mod_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len, struct mod_fail *f)
{
	enum ks_error_code code = ks_read_code(k, addr, buf, len);

	if (code && !f->code) {
		f->code = code;
		f->at = addr;
	}
	return !code;
}

static bool mod_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret, struct mod_fail *f)
{
	unsigned char buf[8];

	/* the failure's code from a read of the same bytes: a second read on failure only */
	return ks_try_read_uint(k, addr, size, ret) || (size <= sizeof(buf) && mod_read(k, addr, buf, size, f));
}

static void load_syms(struct ks_kernel *k, const struct mod_layout *l, uint64_t mod,
		      struct ks_module *m, struct mod_fail *f)
{
	uint64_t ks, symtab, strtab, n = 0;
	unsigned char *raw = NULL;

	if (!mod_read(k, mod + l->kallsyms, &ks, 8, f) || !ks || !mod_read(k, ks + l->symtab, &symtab, 8, f) ||
	    !mod_read_uint(k, ks + l->num_symtab, 4, &n, f) || !mod_read(k, ks + l->strtab, &strtab, 8, f) || !n ||
	    n > MAX_MODULE_SYMS)
		return;
	raw = malloc(n * 24);
	if (!raw || !mod_read(k, symtab, raw, n * 24, f))
		goto out;
	/* The string table ends after the last name; find its extent from the names. */
	uint64_t strsize = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t name;

		memcpy(&name, raw + 24 * i, 4);
		if (name + 256 > strsize)
			strsize = name + 256;
	}
	if (strsize > MAX_STRTAB)
		goto out;
	m->strtab = calloc(1, strsize + 1);
	m->syms = calloc(n, sizeof(*m->syms));
	if (!m->strtab || !m->syms)
		goto out;
	/* Read page by page: the tail past the real table may be unmapped, by design no problem. */
	for (uint64_t off = 0; off < strsize;) {
		uint64_t chunk = 4096 - ((strtab + off) & 4095);

		if (chunk > strsize - off)
			chunk = strsize - off;
		if (!ks_try_read(k, strtab + off, m->strtab + off, chunk))
			break;
		off += chunk;
	}
	for (uint64_t i = 0; i < n; i++) {
		const unsigned char *s = raw + 24 * i;
		uint32_t name;
		uint64_t value, size;
		unsigned type = s[4] & 0xf;

		memcpy(&name, s, 4);
		memcpy(&value, s + 8, 8);
		memcpy(&size, s + 16, 8);
		if ((type != 2 /* STT_FUNC */ && type != 1 /* STT_OBJECT */) || !value ||
		    name >= strsize || !m->strtab[name])
			continue;
		m->syms[m->nsyms++] = (struct ks_symbol){ m->strtab + name, value, size };
	}
	ks_sort(m->syms, m->nsyms, sizeof(*m->syms), sym_cmp);
out:
	free(raw);
}

static void load_orc(struct ks_kernel *k, const struct mod_layout *l, uint64_t mod,
		     struct ks_module *m, struct mod_fail *f)
{
	uint64_t ipaddr, eaddr, n;
	int32_t *rel = NULL;

	if (!l->have_orc || !mod_read(k, mod + l->orc_ip, &ipaddr, 8, f) || !mod_read(k, mod + l->orc, &eaddr, 8, f) ||
	    !mod_read_uint(k, mod + l->num_orcs, 4, &n, f) || !n || n > MAX_ORCS)
		return;
	rel = malloc(n * 4);
	m->orc.ips = malloc(n * sizeof(uint64_t));
	m->orc.entries = m->orc.owned = malloc(n * 6);
	if (!rel || !m->orc.ips || !m->orc.owned || !mod_read(k, ipaddr, rel, n * 4, f) ||
	    !mod_read(k, eaddr, m->orc.owned, n * 6, f))
		goto fail;
	for (uint64_t i = 0; i < n; i++)
		m->orc.ips[i] = ipaddr + 4 * i + (int64_t)rel[i];
	for (uint64_t i = 1; i < n; i++)
		if (m->orc.ips[i] < m->orc.ips[i - 1])
			goto fail; /* the kernel sorts them at load time */
	m->orc.count = n;
	free(rel);
	return;
fail:
	free(rel);
	free(m->orc.ips);
	free(m->orc.owned);
	memset(&m->orc, 0, sizeof(m->orc));
}

struct ks_error *ks_modules_load(struct ks_kernel *k, struct ks_modules *ret)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	struct mod_layout l;
	uint64_t head, pos;
	size_t cap = 0;

	memset(ret, 0, sizeof(*ret));
	memset(&l, 0, sizeof(l));
	if (!ks_kernel_symbol(k, "modules", &head))
		return NULL; /* no modules support in this kernel */
	if (!layout(di, &l)) {
		ks_kernel_support_add(k, "loaded modules",
				      "struct module has a layout kstall does not know: module frames, "
				      "module symbols and locks in modules cannot be named");
		return NULL;
	}
	{
		enum ks_error_code code = ks_read_code(k, head, &pos, sizeof(pos));

		if (code) {
			ks_problems_add(&ret->problems, code, 0, head,
					"cannot read the module list at 0x%llx (%s): no module's frames, symbols or "
					"locks can be named",
					(unsigned long long)head, ks_error_code_name(code));
			return NULL;
		}
	}
	for (size_t n = 0; pos != head && pos && n < MAX_MODULES; n++) {
		uint64_t mod = pos - l.list;
		struct ks_module *m;
		struct mod_fail f = { 0 }, extra = { 0 };
		uint64_t next;
		enum ks_error_code code;

		if (ret->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ks_module *nm = realloc(ret->mods, ncap * sizeof(*nm));

			if (!nm)
				return &ks_error_nomem;
			ret->mods = nm;
			cap = ncap;
		}
		m = &ret->mods[ret->count];
		memset(m, 0, sizeof(*m));
		if ((code = ks_read_string_code(k, mod + l.name, m->name,
						l.name_size < sizeof(m->name) ? l.name_size : sizeof(m->name)))) {
			f.code = code;
			f.at = mod + l.name;
		} else {
			for (size_t r = 0; r < l.nranges; r++) {
				uint64_t base, size;

				if (mod_read(k, mod + l.base[r], &base, 8, &f) &&
				    mod_read_uint(k, mod + l.size[r], 4, &size, &f) && base && size) {
					m->ranges[m->nranges].base = base;
					m->ranges[m->nranges].size = size;
					m->nranges++;
				}
			}
		}
		m->taints_known = l.have_taints && mod_read(k, mod + l.taints, &m->taints, 8, &extra);
		m->module = mod;
		if (m->nranges) {
			load_syms(k, &l, mod, m, &extra);
			load_orc(k, &l, mod, m, &extra);
			ret->count++;
		}
		/* one problem a module: it is lost, or some of what names its frames is */
		if (!m->nranges && f.code)
			ks_problems_add(&ret->problems, f.code, 0, f.at,
					"cannot read the module at 0x%llx (%s at 0x%llx): its frames, symbols and locks "
					"cannot be named",
					(unsigned long long)mod, ks_error_code_name(f.code), (unsigned long long)f.at);
		else if (m->nranges && (f.code || extra.code))
			ks_problems_add(&ret->problems, f.code ? f.code : extra.code, 0, f.code ? f.at : extra.at,
					"module %s (0x%llx) read in part (%s at 0x%llx): its taints, symbols or ORC "
					"table may be missing",
					m->name, (unsigned long long)mod, ks_error_code_name(f.code ? f.code : extra.code),
					(unsigned long long)(f.code ? f.at : extra.at));
		if ((code = ks_read_code(k, pos, &next, sizeof(next)))) {
			ks_problems_add(&ret->problems, code, 0, pos,
					"the module list is cut after %zu entries (%s at 0x%llx): the modules past it cannot be "
					"named",
					n + 1, ks_error_code_name(code), (unsigned long long)pos);
			break;
		}
		pos = next;
	}
	return NULL;
}

void ks_modules_deinit(struct ks_modules *m)
{
	for (size_t i = 0; i < m->count; i++) {
		free(m->mods[i].syms);
		free(m->mods[i].strtab);
		free(m->mods[i].orc.ips);
		free(m->mods[i].orc.owned);
		ks_debuginfo_destroy(m->mods[i].dwarf);
	}
	free(m->mods);
	ks_problems_deinit(&m->problems);
	memset(m, 0, sizeof(*m));
}

const struct ks_module *ks_modules_find(const struct ks_modules *m, uint64_t addr)
{
	for (size_t i = 0; i < m->count; i++)
		for (size_t r = 0; r < m->mods[i].nranges; r++)
			if (addr >= m->mods[i].ranges[r].base &&
			    addr - m->mods[i].ranges[r].base < m->mods[i].ranges[r].size)
				return &m->mods[i];
	return NULL;
}

static uint64_t symbol_address(const void *syms, size_t i)
{
	return ((const struct ks_symbol *)syms)[i].address;
}

bool ks_module_symbolize(const struct ks_module *mod, uint64_t addr, struct ks_symbol *ret)
{
	size_t lo = ks_count_le(mod->nsyms, addr, symbol_address, mod->syms);

	if (!lo)
		return false;
	lo--;
	if (mod->syms[lo].size && addr >= mod->syms[lo].address + mod->syms[lo].size)
		return false;
	*ret = mod->syms[lo];
	return true;
}
