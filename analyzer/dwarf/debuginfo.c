#include "kstall/debuginfo.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kstall/settings.h"
#include "dwarf/debuginfo_internal.h"
#include "dwarf/decompress.h"
#include "dwarf/elf.h"
#include "dwarf/dwarf_index.h"
#include "dwarf/dwarf_units.h"
#include "dwarf/location.h"
#include "base/hashmap.h"
#include "base/search.h"

#define MAX_INLINE_DEPTH 16

struct pc_funcs {
	size_t count;
	struct ks_func funcs[];
};

struct ks_debuginfo {
	char *path;
	int fd;
	Elf *elf;
	Dwarf *dwarf;
	char build_id[2 * 64 + 1];
	const char *banner;

	struct ks_symbol *syms; /* sorted by address */
	size_t nsyms;
	/*
	 * name -> syms index + 1 (0: a free slot), open addressing, twice the
	 * symbols in slots: 4 bytes a slot where a string map takes 16.
	 */
	uint32_t *by_name;
	size_t by_name_cap;

	struct ks_dwarf_index *index;
	struct ks_dwarf_units *units;

	struct ks_u64map pc_cache;
	/* a module's (ks_debuginfo_open_module): libdwfl owns its relocated ELF and DWARF */
	Dwfl *dwfl;
	Dwfl_Module *dwfl_mod;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;
	bool cfi_tried;
	/* ",type.member,..." the settings hide (a test hook), or NULL */
	char *hidden;
};

/* Does the test hook hide type.member (member's first name, for a dotted path)? */
static bool hidden(const struct ks_debuginfo *di, const char *type, const char *member)
{
	char key[256];

	if (!di->hidden)
		return false;
	snprintf(key, sizeof(key), ",%s.%.*s,", type, (int)strcspn(member, "."), member);
	return strstr(di->hidden, key) != NULL;
}

Dwarf_CFI *ks_debuginfo_cfi(struct ks_debuginfo *di)
{
	if (!di->cfi_tried) {
		di->cfi_tried = true;
		di->cfi = dwarf_getcfi(di->dwarf);
	}
	return di->cfi;
}

const char *ks_debuginfo_path(const struct ks_debuginfo *di)
{
	return di->path;
}

const char *ks_debuginfo_build_id(const struct ks_debuginfo *di)
{
	return di->build_id;
}

const char *ks_debuginfo_banner(const struct ks_debuginfo *di)
{
	return di->banner;
}

void ks_debuginfo_index_stats(struct ks_debuginfo *di, struct ks_index_stats *st)
{
	st->built = ks_dwarf_index_built(di->index, &st->units, &st->units_libdw,
					 &st->units_helper, &st->read, &st->size);
	st->memo_answers = ks_dwarf_index_memo_answers(di->index);
}

void ks_debuginfo_settle(struct ks_debuginfo *di)
{
	ks_dwarf_index_settle(di->index);
}

static int sym_cmp(const void *a, const void *b)
{
	const struct ks_symbol *x = a, *y = b;

	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	/* Among aliases, the sized one first: it tells where the function ends. */
	return (y->size > 0) - (x->size > 0);
}

/* Whether name has a slot in by_name; *at: that slot, or the free one it would take. */
static bool by_name_slot(const struct ks_debuginfo *di, const char *name, size_t *at)
{
	size_t mask = di->by_name_cap - 1, i = ks_str_hash(name) & mask;

	for (; di->by_name[i]; i = (i + 1) & mask)
		if (!strcmp(di->syms[di->by_name[i] - 1].name, name))
			break;
	*at = i;
	return di->by_name[i] != 0;
}

static struct ks_error *load_symbols(struct ks_debuginfo *di)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(di->elf, scn))) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !shdr.sh_entsize)
			break;
		n = shdr.sh_size / shdr.sh_entsize;
		di->syms = calloc(n ? n : 1, sizeof(*di->syms));
		if (!di->syms)
			return &ks_error_nomem;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &sym))
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
				continue;
			if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS || !sym.st_value)
				continue;
			name = elf_strptr(di->elf, shdr.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			di->syms[di->nsyms++] = (struct ks_symbol){ name, sym.st_value, sym.st_size };
		}
		break;
	}
	if (!di->nsyms)
		return ks_error_create(KS_ERR_LOOKUP, "%s has no symbol table", di->path);
	ks_sort(di->syms, di->nsyms, sizeof(*di->syms), sym_cmp);
	if (di->nsyms >= UINT32_MAX / 4)
		return ks_error_create(KS_ERR_BAD_DATA, "%s has too many symbols", di->path);
	for (di->by_name_cap = 64; di->by_name_cap < 2 * di->nsyms; di->by_name_cap *= 2)
		;
	di->by_name = calloc(di->by_name_cap, sizeof(*di->by_name));
	if (!di->by_name)
		return &ks_error_nomem;
	/* in address order, the sized alias first: the first symbol of a name is the one kept */
	for (size_t i = 0; i < di->nsyms; i++) {
		size_t at;

		if (!by_name_slot(di, di->syms[i].name, &at))
			di->by_name[at] = (uint32_t)(i + 1);
	}
	return NULL;
}

/* The GNU build-id note as lowercase hex into out (2 * 64 + 1 bytes); "" when there is none. */
static void elf_build_id(Elf *elf, char *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

			if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) ||
			    nhdr.n_descsz > 64)
				continue;
			for (size_t i = 0; i < nhdr.n_descsz; i++)
				sprintf(out + 2 * i, "%02x", desc[i]);
			return;
		}
	}
}

/* Bytes of the file at a link-time address, from the section that holds it. */
static const void *bytes_at(Elf *elf, uint64_t addr, size_t *avail)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS ||
		    !(shdr.sh_flags & SHF_ALLOC))
			continue;
		if (addr < shdr.sh_addr || addr >= shdr.sh_addr + shdr.sh_size)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || addr - shdr.sh_addr >= data->d_size)
			return NULL;
		*avail = data->d_size - (addr - shdr.sh_addr);
		return (const char *)data->d_buf + (addr - shdr.sh_addr);
	}
	return NULL;
}

static void load_banner(struct ks_debuginfo *di)
{
	uint64_t addr, size;
	size_t avail;
	const char *s;

	if (!ks_debuginfo_symbol(di, "linux_banner", &addr, &size))
		return;
	s = bytes_at(di->elf, addr, &avail);
	if (s && memchr(s, '\0', avail))
		di->banner = s;
}

/*
 * What tells two files with one build-id apart where DIE offsets are concerned
 * (the DWARF recompressed or rewritten by a packager): the sizes of the file
 * and of the sections the offsets point into.
 */
static uint64_t dwarf_stamp(const struct ks_debuginfo *di)
{
	static const char *const names[] = { ".debug_info", ".debug_abbrev", ".debug_str" };
	struct stat st;
	uint64_t stamp = fstat(di->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	if (elf_getshdrstrndx(di->elf, &shstrndx) != 0)
		return stamp;
	while ((scn = elf_nextscn(di->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &shdr) || !(n = elf_strptr(di->elf, shstrndx, shdr.sh_name)))
			continue;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(n, names[i]))
				stamp = (stamp ^ shdr.sh_size) * 0x100000001b3ull;
	}
	return stamp;
}

/* No cache directory: nothing kept between runs. */
static char *memo_path(const struct ks_debuginfo *di, const struct ks_settings *settings)
{
	char *path;

	if (!settings || !settings->cache_dir || !di->build_id[0])
		return NULL;
	if (asprintf(&path, "%s/index-%s.memo", settings->cache_dir, di->build_id) < 0)
		return NULL;
	return path;
}

/* path's ELF: the file itself, or its decompressed copy when it is xz or gzip (vmlinux.xz). */
static struct ks_error *open_elf_fd(const char *path, const struct ks_settings *settings, int *ret)
{
	unsigned char hdr[8];
	enum ks_compression c;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ks_error_create(KS_ERR_OS, "cannot open %s: %s", path, strerror(errno));
	n = pread(fd, hdr, sizeof(hdr), 0);
	c = ks_compression_of(hdr, n > 0 ? (size_t)n : 0);
	if (c == KS_COMPRESSION_NONE) {
		*ret = fd;
		return NULL;
	}
	close(fd);
	return ks_decompress_open(path, c, settings ? settings->cache_dir : NULL, settings ? settings->tmp_dir : NULL,
				  ret);
}

struct ks_error *ks_debuginfo_open(const char *path, const struct ks_settings *settings,
				   struct ks_debuginfo **ret)
{
	struct ks_debuginfo *di = calloc(1, sizeof(*di));
	struct ks_error *err;
	char *memo;

	if (!di)
		return &ks_error_nomem;
	di->fd = -1;
	di->path = strdup(path);
	if (settings && settings->hide_members &&
	    asprintf(&di->hidden, ",%s,", settings->hide_members) < 0)
		di->hidden = NULL;
	if (!di->path) {
		free(di);
		return &ks_error_nomem;
	}
	elf_version(EV_CURRENT);
	err = open_elf_fd(path, settings, &di->fd);
	if (err)
		goto fail;
	errno = 0;
	di->elf = elf_begin(di->fd, ELF_C_READ_MMAP, NULL);
	if (!di->elf && errno == ENOMEM) {
		err = &ks_error_nomem;
		goto fail;
	}
	if (!di->elf || elf_kind(di->elf) != ELF_K_ELF) {
		err = ks_error_create(KS_ERR_BAD_DATA, "%s is not an ELF file", path);
		goto fail;
	}
	errno = 0;
	di->dwarf = dwarf_begin_elf(di->elf, DWARF_C_READ, NULL);
	/* libdw says "invalid ELF file" when a section's mapping or copy found no memory */
	if (!di->dwarf && errno == ENOMEM) {
		err = &ks_error_nomem;
		goto fail;
	}
	if (!di->dwarf) {
		err = ks_error_create(KS_ERR_LOOKUP, "%s has no DWARF debuginfo: %s", path,
				      dwarf_errmsg(-1));
		goto fail;
	}
	elf_build_id(di->elf, di->build_id);
	/* first: without kept answers its pass starts on a second thread, alongside what follows */
	memo = memo_path(di, settings);
	err = ks_dwarf_index_open(di->elf, di->dwarf, di->path, memo, di->build_id,
				  dwarf_stamp(di), settings, &di->index);
	free(memo);
	if (err)
		goto fail;
	err = load_symbols(di);
	if (err)
		goto fail;
	load_banner(di);
	di->units = ks_dwarf_units_load(di->elf, di->dwarf);
	if (!di->units) {
		err = &ks_error_nomem;
		goto fail;
	}
	*ret = di;
	return NULL;
fail:
	ks_debuginfo_destroy(di);
	return err;
}

struct ks_error *ks_debuginfo_wrap_module(const char *path, Dwfl *dwfl, Dwfl_Module *mod,
					  struct ks_debuginfo **ret)
{
	struct ks_debuginfo *di = calloc(1, sizeof(*di));
	GElf_Addr elf_bias;
	const unsigned char *id;
	GElf_Addr id_addr;
	int len;

	if (!di || !(di->path = strdup(path))) {
		free(di);
		dwfl_end(dwfl);
		return &ks_error_nomem;
	}
	di->fd = -1;
	di->dwfl = dwfl;
	di->dwfl_mod = mod;
	di->dwarf = dwfl_module_getdwarf(mod, &di->bias);
	di->elf = dwfl_module_getelf(mod, &elf_bias);
	if (!di->dwarf || !di->elf) {
		ks_debuginfo_destroy(di);
		return ks_error_create(KS_ERR_LOOKUP, "%s: no DWARF (%s)", path, dwfl_errmsg(-1));
	}
	len = dwfl_module_build_id(mod, &id, &id_addr);
	for (int i = 0; i < len && i < 64; i++)
		snprintf(di->build_id + 2 * i, 3, "%02x", id[i]);
	*ret = di;
	return NULL;
}

void ks_debuginfo_destroy(struct ks_debuginfo *di)
{
	if (!di)
		return;
	ks_u64map_free_pointers(&di->pc_cache, NULL);
	ks_dwarf_index_free(di->index);
	ks_dwarf_units_destroy(di->units);
	free(di->by_name);
	free(di->syms);
	if (di->dwfl) {
		dwfl_end(di->dwfl);
		di->dwarf = NULL;
		di->elf = NULL;
	}
	if (di->dwarf)
		dwarf_end(di->dwarf);
	if (di->elf)
		elf_end(di->elf);
	if (di->fd >= 0)
		close(di->fd);
	free(di->hidden);
	free(di->path);
	free(di);
}

/* The release in "Linux version 6.1.0-18-amd64 (...)", found by a linear look through .symtab. */
static void elf_release(Elf *elf, char *out, size_t size)
{
	static const char prefix[] = "Linux version ";
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	out[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || !shdr.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < shdr.sh_size / shdr.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name, *s;
			size_t avail, len;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    !(name = elf_strptr(elf, shdr.sh_link, sym.st_name)) ||
			    strcmp(name, "linux_banner"))
				continue;
			s = bytes_at(elf, sym.st_value, &avail);
			if (!s || avail <= sizeof(prefix) || memcmp(s, prefix, sizeof(prefix) - 1))
				return;
			s += sizeof(prefix) - 1;
			avail -= sizeof(prefix) - 1;
			for (len = 0; len < avail && len + 1 < size && s[len] > ' ' && s[len] < 0x7f; len++)
				;
			memcpy(out, s, len);
			out[len] = '\0';
			return;
		}
		return;
	}
}

struct ks_error *ks_debuginfo_identify(const char *path, const struct ks_settings *settings,
				       struct ks_vmlinux_id *ret)
{
	int fd;
	Elf *elf;
	/* a compressed candidate is kept once decompressed: a batch asks about it for every dump */
	struct ks_error *err = open_elf_fd(path, settings, &fd);

	if (err)
		return err;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return ks_error_create(KS_ERR_BAD_DATA, "%s is not an ELF file", path);
	}
	elf_build_id(elf, ret->build_id);
	elf_release(elf, ret->release, sizeof(ret->release));
	elf_end(elf);
	close(fd);
	return NULL;
}

bool ks_debuginfo_symbol(const struct ks_debuginfo *di, const char *name, uint64_t *addr,
			 uint64_t *size)
{
	size_t at;
	const struct ks_symbol *sym;

	if (!di->by_name || !by_name_slot(di, name, &at))
		return false;
	sym = &di->syms[di->by_name[at] - 1];
	*addr = sym->address;
	if (size)
		*size = sym->size;
	return true;
}

static uint64_t symbol_address(const void *syms, size_t i)
{
	return ((const struct ks_symbol *)syms)[i].address;
}

bool ks_debuginfo_symbolize(const struct ks_debuginfo *di, uint64_t addr, struct ks_symbol *ret)
{
	size_t lo = ks_count_le(di->nsyms, addr, symbol_address, di->syms);

	if (!lo)
		return false;
	lo--;
	/*
	 * A sized symbol that contains addr wins over nearer labels inside it
	 * (entry_SYSCALL_64 over entry_SYSCALL_64_after_hwframe), as drgn and crash
	 * name frames.
	 */
	for (size_t i = lo + 1, steps = 0; i-- > 0 && steps < 64; steps++) {
		const struct ks_symbol *s = &di->syms[i];

		if (s->size && addr < s->address + s->size) {
			*ret = *s;
			return true;
		}
	}
	while (lo > 0 && di->syms[lo - 1].address == di->syms[lo].address)
		lo--;
	if (di->syms[lo].size && addr >= di->syms[lo].address + di->syms[lo].size)
		return false;
	*ret = di->syms[lo];
	return true;
}

static bool find_die(struct ks_debuginfo *di, char prefix, const char *name, Dwarf_Die *die)
{
	uint64_t off;

	return ks_dwarf_index_get(di->index, prefix, name, &off) && dwarf_offdie(di->dwarf, off, die);
}

/* A struct, union or typedef name to the aggregate DIE behind it. */
static bool find_type(struct ks_debuginfo *di, const char *name, Dwarf_Die *die)
{
	if (find_die(di, KS_IX_AGGREGATE, name, die))
		return true;
	if (!find_die(di, KS_IX_TYPEDEF, name, die))
		return false;
	return dwarf_peel_type(die, die) == 0;
}

uint64_t ks_debuginfo_type_size(struct ks_debuginfo *di, const char *type)
{
	Dwarf_Die die;
	Dwarf_Word size;

	if (!find_type(di, type, &die) || dwarf_aggregate_size(&die, &size) != 0)
		return 0;
	return size;
}

static bool member_offset(Dwarf_Die *die, Dwarf_Word *off)
{
	Dwarf_Attribute attr;

	if (!dwarf_attr(die, DW_AT_data_member_location, &attr)) {
		*off = 0; /* union members */
		return true;
	}
	return dwarf_formudata(&attr, off) == 0;
}

/* Find one member by name in an aggregate, descending into anonymous members. */
static bool find_member(Dwarf_Die *agg, const char *name, size_t len, Dwarf_Die *ret,
			uint64_t *offset, int depth)
{
	Dwarf_Die child;

	if (depth > 8 || dwarf_child(agg, &child) != 0)
		return false;
	do {
		const char *n;
		Dwarf_Word off;
		Dwarf_Die type;

		if (dwarf_tag(&child) != DW_TAG_member || !member_offset(&child, &off))
			continue;
		n = dwarf_diename(&child);
		if (n && strlen(n) == len && !strncmp(n, name, len)) {
			if (dwarf_hasattr(&child, DW_AT_bit_size))
				return false;
			*ret = child;
			*offset = off;
			return true;
		}
		if (!n) {
			Dwarf_Attribute attr;
			uint64_t inner;

			if (!dwarf_attr_integrate(&child, DW_AT_type, &attr) ||
			    !dwarf_formref_die(&attr, &type) || dwarf_peel_type(&type, &type) != 0)
				continue;
			if (find_member(&type, name, len, ret, &inner, depth + 1)) {
				*offset = off + inner;
				return true;
			}
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* A bit-field member's offset in bits from its aggregate's start and its width. */
static bool bitfield_of(Dwarf_Die *child, uint64_t *bit_offset, uint64_t *bit_size)
{
	Dwarf_Attribute attr;
	Dwarf_Word bits, where, storage, unit;
	Dwarf_Die mtype;
	int size;

	if (!dwarf_attr(child, DW_AT_bit_size, &attr) || dwarf_formudata(&attr, &bits) != 0)
		return false;
	*bit_size = bits;
	/* DWARF 4+: the offset from the struct's start, in bits */
	if (dwarf_attr(child, DW_AT_data_bit_offset, &attr))
		return dwarf_formudata(&attr, bit_offset) == 0;
	/* DWARF 2/3 style: a storage unit, and the offset of the field's most significant bit */
	if (!member_offset(child, &where) || !dwarf_attr(child, DW_AT_bit_offset, &attr) ||
	    dwarf_formudata(&attr, &storage) != 0)
		return false;
	if (dwarf_attr(child, DW_AT_byte_size, &attr)) {
		if (dwarf_formudata(&attr, &unit) != 0)
			return false;
	} else if (dwarf_attr_integrate(child, DW_AT_type, &attr) && dwarf_formref_die(&attr, &mtype) &&
		   dwarf_peel_type(&mtype, &mtype) == 0 && (size = dwarf_bytesize(&mtype)) > 0) {
		unit = (Dwarf_Word)size;
	} else {
		return false;
	}
	if (storage + bits > unit * 8)
		return false;
	*bit_offset = where * 8 + unit * 8 - storage - bits;
	return true;
}

/* A named bit-field, here or inside anonymous members (struct slab's counters sit in unions). */
static bool find_bitfield(Dwarf_Die *agg, const char *member, uint64_t *bit_offset, uint64_t *bit_size,
			  int depth)
{
	Dwarf_Die child, type;

	if (depth > 8 || dwarf_child(agg, &child) != 0)
		return false;
	do {
		const char *n = dwarf_diename(&child);
		Dwarf_Attribute attr;
		Dwarf_Word off;
		uint64_t inner;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		if (n) {
			if (!strcmp(n, member))
				return bitfield_of(&child, bit_offset, bit_size);
			continue;
		}
		if (!member_offset(&child, &off) || !dwarf_attr_integrate(&child, DW_AT_type, &attr) ||
		    !dwarf_formref_die(&attr, &type) || dwarf_peel_type(&type, &type) != 0)
			continue;
		if (find_bitfield(&type, member, &inner, bit_size, depth + 1)) {
			*bit_offset = off * 8 + inner;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

bool ks_debuginfo_bitfield(struct ks_debuginfo *di, const char *type, const char *member,
			   uint64_t *bit_offset, uint64_t *bit_size)
{
	Dwarf_Die agg;

	if (hidden(di, type, member) || !find_type(di, type, &agg))
		return false;
	return find_bitfield(&agg, member, bit_offset, bit_size, 0);
}

bool ks_debuginfo_member(struct ks_debuginfo *di, const char *type, const char *member,
			 uint64_t *offset, uint64_t *size)
{
	Dwarf_Die agg, mem, mtype;
	uint64_t total = 0;

	if (hidden(di, type, member) || !find_type(di, type, &agg))
		return false;
	for (const char *p = member;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		Dwarf_Attribute attr;
		uint64_t off;

		if (!find_member(&agg, p, len, &mem, &off, 0))
			return false;
		total += off;
		if (!dwarf_attr_integrate(&mem, DW_AT_type, &attr) ||
		    !dwarf_formref_die(&attr, &mtype) || dwarf_peel_type(&mtype, &mtype) != 0)
			return false;
		if (!dot)
			break;
		agg = mtype;
		p = dot + 1;
	}
	if (size) {
		Dwarf_Word sz;

		if (dwarf_aggregate_size(&mtype, &sz) != 0) {
			Dwarf_Attribute attr;

			if (!dwarf_attr(&mtype, DW_AT_byte_size, &attr) ||
			    dwarf_formudata(&attr, &sz) != 0)
				sz = 8; /* pointers carry no byte size in kernel DWARF */
		}
		*size = sz;
	}
	*offset = total;
	return true;
}

bool ks_debuginfo_enumerator(struct ks_debuginfo *di, const char *name, int64_t *value)
{
	uint64_t v;

	if (!ks_dwarf_index_get(di->index, KS_IX_ENUMERATOR, name, &v))
		return false;
	*value = (int64_t)v;
	return true;
}

bool ks_debuginfo_enumerator_of(struct ks_debuginfo *di, const char *type, const char *name,
				int64_t *value)
{
	Dwarf_Die e, child;

	if (!find_die(di, KS_IX_ENUM, type, &e) || dwarf_child(&e, &child) != 0)
		return false;
	do {
		Dwarf_Attribute attr;
		Dwarf_Sword sv;
		const char *en = dwarf_diename(&child);

		if (en && !strcmp(en, name) && dwarf_attr(&child, DW_AT_const_value, &attr) &&
		    dwarf_formsdata(&attr, &sv) == 0) {
			*value = (int64_t)sv;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

bool ks_debuginfo_array_length(struct ks_debuginfo *di, const char *variable, uint64_t *len)
{
	Dwarf_Die var, type, sub;
	Dwarf_Attribute attr;
	Dwarf_Word n;

	if (!find_die(di, KS_IX_VARIABLE, variable, &var) || !dwarf_attr_integrate(&var, DW_AT_type, &attr) ||
	    !dwarf_formref_die(&attr, &type) || dwarf_peel_type(&type, &type) != 0 ||
	    dwarf_tag(&type) != DW_TAG_array_type || dwarf_child(&type, &sub) != 0)
		return false;
	if (dwarf_attr(&sub, DW_AT_count, &attr) && dwarf_formudata(&attr, &n) == 0) {
		*len = n;
		return true;
	}
	if (dwarf_attr(&sub, DW_AT_upper_bound, &attr) && dwarf_formudata(&attr, &n) == 0) {
		*len = n + 1;
		return true;
	}
	return false;
}

/*
 * The chain of inlined calls at pc below die, outermost first. dwarf_getscopes
 * is no help here: past an inlined call it climbs the abstract definition, not
 * the function the call was inlined into.
 */
static size_t inline_chain(Dwarf_Die *die, uint64_t pc, Dwarf_Die *chain, size_t n, int depth)
{
	Dwarf_Die child;

	if (depth > 64 || dwarf_child(die, &child) != 0)
		return n;
	do {
		int tag = dwarf_tag(&child);

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block)
			continue;
		if (dwarf_haspc(&child, pc) != 1)
			continue;
		if (tag == DW_TAG_inlined_subroutine && n < MAX_INLINE_DEPTH - 1)
			chain[n++] = child;
		return inline_chain(&child, pc, chain, n, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
	return n;
}

static bool find_subprogram(Dwarf_Die *cu, uint64_t pc, Dwarf_Die *ret)
{
	Dwarf_Die child;

	if (dwarf_child(cu, &child) != 0)
		return false;
	do {
		if (dwarf_tag(&child) == DW_TAG_subprogram && dwarf_haspc(&child, pc) == 1) {
			*ret = child;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static struct pc_funcs *compute_functions(struct ks_debuginfo *di, uint64_t pc)
{
	Dwarf_Die cu, sub, chain[MAX_INLINE_DEPTH];
	struct pc_funcs *ret;
	size_t n = 0;
	Dwarf_Addr bias;
	Dwarf_Die *mod_cu;

	if (di->dwfl_mod) {
		/* a module: libdwfl maps its units by their ranges (a .ko has no .debug_aranges) */
		if ((mod_cu = dwfl_module_addrdie(di->dwfl_mod, pc, &bias)) && find_subprogram(mod_cu, pc - bias, &sub)) {
			chain[0] = sub;
			n = inline_chain(&sub, pc - bias, chain, 1, 0);
		}
	} else if ((ks_dwarf_units_at(di->units, di->dwarf, pc, &cu) || dwarf_addrdie(di->dwarf, pc, &cu)) &&
		   find_subprogram(&cu, pc, &sub)) {
		chain[0] = sub;
		n = inline_chain(&sub, pc, chain, 1, 0);
	}
	ret = malloc(sizeof(*ret) + n * sizeof(ret->funcs[0]));
	if (!ret)
		return NULL;
	ret->count = n;
	/* Innermost first: reverse the chain. */
	for (size_t i = 0; i < n; i++) {
		const char *name = dwarf_diename(&chain[n - 1 - i]);

		ret->funcs[i] = (struct ks_func){ name ? name : "??", i + 1 < n,
						  dwarf_dieoffset(&chain[n - 1 - i]) };
	}
	return ret;
}

size_t ks_debuginfo_functions_at(struct ks_debuginfo *di, uint64_t pc, struct ks_func *ret,
				 size_t max)
{
	struct pc_funcs *pf = ks_u64map_get(&di->pc_cache, pc);
	size_t n;

	if (!pf) {
		pf = compute_functions(di, pc);
		if (!pf)
			return 0;
		if (!ks_u64map_put(&di->pc_cache, pc, pf)) {
			free(pf);
			return 0;
		}
	}
	n = pf->count < max ? pf->count : max;
	memcpy(ret, pf->funcs, n * sizeof(*ret));
	return n;
}

bool ks_debuginfo_section(const struct ks_debuginfo *di, const char *name, const void **data,
			  size_t *size, uint64_t *addr)
{
	return ks_elf_section(di->elf, name, data, size, addr);
}

/*
 * Type look-ups and pc look-ups read DIEs all over .debug_info, and the kernel
 * maps the 64 KiB around each page they fault in (see dwarf_units.h). Handing
 * the pages back costs nothing: a later look-up faults in the few it needs.
 */
/* The resident pages of section name, where they are the file's own mapping. */
static void release_section(struct ks_debuginfo *di, const char *name, const char *raw,
			    size_t fsize)
{
	const void *data;
	size_t size = 0;
	uint64_t addr;
	uintptr_t from, to;

	/* Only the file's own mapping: a copy libelf decompressed would be lost. */
	if (!raw || !ks_elf_section(di->elf, name, &data, &size, &addr) || (const char *)data < raw ||
	    (const char *)data + size > raw + fsize)
		return;
	from = ((uintptr_t)data + 4095) & ~(uintptr_t)4095;
	to = ((uintptr_t)data + size) & ~(uintptr_t)4095;
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
}

void ks_debuginfo_release(struct ks_debuginfo *di, const char *section)
{
	size_t fsize;
	const char *raw = elf_rawfile(di->elf, &fsize);

	release_section(di, section, raw, fsize);
}

void ks_debuginfo_trim(struct ks_debuginfo *di)
{
	/* .symtab is read once at open; .debug_frame and .strtab only a page here and there after */
	static const char *const names[] = { ".debug_info",     ".debug_abbrev",   ".debug_str",
					     ".debug_loclists", ".debug_rnglists", ".debug_line",
					     ".debug_frame",    ".symtab",	   ".strtab",
					     ".orc_unwind",     ".orc_unwind_ip" };
	size_t fsize;
	const char *raw = elf_rawfile(di->elf, &fsize);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		release_section(di, names[i], raw, fsize);
}

/* The byte size of a variable's type; 0 when DWARF does not say. */
static uint64_t var_size(Dwarf_Die *var)
{
	Dwarf_Attribute attr;
	Dwarf_Die type;
	Dwarf_Word size;

	if (!dwarf_attr_integrate(var, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
	    dwarf_aggregate_size(&type, &size) != 0)
		return 0;
	return size;
}

/* One parameter's or variable's value at the frame's pc. */
static struct ks_var eval_var(Dwarf_Die *var, const struct ks_frame_ctx *ctx, uint64_t frame_base,
			      bool have_fb)
{
	struct ks_var v = { 0 };
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;
	bool is_value;
	uint64_t size;

	v.name = dwarf_diename(var);
	if (!v.name)
		v.name = "?";
	v.why = "optimized out";
	if (dwarf_attr(var, DW_AT_location, &attr) &&
	    dwarf_getlocation_addr(&attr, ctx->link_pc, &ops, &nops, 1) == 1 && nops > 0) {
		uint64_t x;

		if (ks_location_eval(ops, nops, ctx, frame_base, have_fb, &x, &is_value, &v.why)) {
			if (is_value) {
				v.value = x;
				v.known = true;
			} else if (ctx->read_u64(ctx->arg, x, &v.value)) {
				v.known = true;
			} else {
				v.why = "unreadable";
			}
		}
	}
	/* An int in a register or read as 8 bytes: only its own bytes are its value. */
	if (v.known && (size = var_size(var)) > 0 && size < 8)
		v.value &= (1ull << (8 * size)) - 1;
	if (v.known)
		v.why = NULL;
	return v;
}

static bool frame_base_of(struct ks_debuginfo *di, Dwarf_Die *die, uint64_t sub_off,
			  const struct ks_frame_ctx *ctx, uint64_t *ret)
{
	Dwarf_Die sub;
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;
	bool is_value;
	const char *why;

	/* The frame base belongs to the concrete subprogram; inlined scopes share it. */
	if (!sub_off || !dwarf_offdie(di->dwarf, sub_off, &sub))
		sub = *die;
	return dwarf_tag(&sub) == DW_TAG_subprogram && dwarf_attr(&sub, DW_AT_frame_base, &attr) &&
	       dwarf_getlocation_addr(&attr, ctx->link_pc, &ops, &nops, 1) == 1 &&
	       ks_location_eval(ops, nops, ctx, 0, false, ret, &is_value, &why);
}

size_t ks_debuginfo_params(struct ks_debuginfo *di, uint64_t die_off, uint64_t sub_off,
			   const struct ks_frame_ctx *ctx, struct ks_var *ret, size_t max)
{
	Dwarf_Die die, child;
	uint64_t frame_base = 0;
	bool have_fb;
	size_t n = 0;

	if (!die_off || !dwarf_offdie(di->dwarf, die_off, &die))
		return 0;
	have_fb = frame_base_of(di, &die, sub_off, ctx, &frame_base);
	if (dwarf_child(&die, &child) != 0)
		return 0;
	do {
		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		if (n == max)
			break;
		ret[n++] = eval_var(&child, ctx, frame_base, have_fb);
	} while (dwarf_siblingof(&child, &child) == 0);
	return n;
}

/* The variables of a scope and of the lexical blocks within it that hold the pc. */
static size_t scope_locals(Dwarf_Die *scope, const struct ks_frame_ctx *ctx, uint64_t frame_base,
			   bool have_fb, struct ks_var *ret, size_t n, size_t max, int depth)
{
	Dwarf_Die child;

	if (depth > 32 || dwarf_child(scope, &child) != 0)
		return n;
	do {
		int tag = dwarf_tag(&child);

		if (n == max)
			break;
		if (tag == DW_TAG_variable)
			ret[n++] = eval_var(&child, ctx, frame_base, have_fb);
		else if (tag == DW_TAG_lexical_block && dwarf_haspc(&child, ctx->link_pc) == 1)
			n = scope_locals(&child, ctx, frame_base, have_fb, ret, n, max, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
	return n;
}

size_t ks_debuginfo_locals(struct ks_debuginfo *di, uint64_t die_off, uint64_t sub_off,
			   const struct ks_frame_ctx *ctx, struct ks_var *ret, size_t max)
{
	Dwarf_Die die;
	uint64_t frame_base = 0;
	bool have_fb;

	if (!die_off || !dwarf_offdie(di->dwarf, die_off, &die))
		return 0;
	have_fb = frame_base_of(di, &die, sub_off, ctx, &frame_base);
	return scope_locals(&die, ctx, frame_base, have_fb, ret, 0, max, 0);
}
