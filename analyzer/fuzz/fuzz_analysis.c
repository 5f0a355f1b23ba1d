/*
 * Fuzz target: kstall's whole analysis (task walk, unwinding, passes, verdicts,
 * text and JSON reports, the kernel log) over a real fixture whose memory the
 * input mutates. The dump is opened once; a wrapper target sits between the
 * kernel and the kdump backend and applies the input to every read.
 *
 * Input: a list of records, each
 *   op (1 byte)  kind in the low 2 bits: 0 xor bytes, 1 overwrite bytes,
 *                2 page filtered out (NODATA), 3 page unreadable (FAULT)
 *   page (2)     index into the pages an undamaged analysis reads (sorted)
 *   offset (2)   byte offset in that page (mod 4096)
 *   n (1)        byte count, 1..8 (xor and overwrite only)
 *   bytes (n)
 * Mutations are picked by the pages the analysis really reads (task_structs,
 * stacks, locks, lists, per-CPU data), so random inputs land where it matters.
 * The fixture: KSTALL_FUZZ_VMCORE and KSTALL_FUZZ_VMLINUX, else the paths
 * compiled in.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "kstall/analysis.h"
#include "kstall/kernel.h"
#include "kstall/log.h"
#include "render/html.h"
#include "render/report.h"

#define PAGE 4096ull
#define MAX_MUTATIONS 64

enum op { OP_XOR, OP_SET, OP_NODATA, OP_FAULT };

struct mutation {
	enum op op;
	/* page address; bit 0 set for a physical address */
	uint64_t page;
	unsigned int offset, n;
	unsigned char bytes[8];
};

static struct {
	struct ks_target *inner;
	struct ks_kernel *kernel;
	FILE *devnull;
	/* recording the pages an undamaged analysis reads */
	bool recording;
	struct ks_u64map seen;
	uint64_t *pages;
	size_t npages, cap;
	struct mutation muts[MAX_MUTATIONS];
	size_t nmuts;
} fz;

static void record(uint64_t addr, size_t len, bool physical)
{
	for (uint64_t p = addr & ~(PAGE - 1); p < addr + len && p >= (addr & ~(PAGE - 1)); p += PAGE) {
		uint64_t key = p | physical;

		if (ks_u64map_get(&fz.seen, key) || !ks_u64map_put(&fz.seen, key, (void *)1))
			continue;
		if (fz.npages == fz.cap) {
			size_t cap = fz.cap ? fz.cap * 2 : 1024;
			uint64_t *n = realloc(fz.pages, cap * sizeof(*n));

			if (!n)
				abort();
			fz.pages = n;
			fz.cap = cap;
		}
		fz.pages[fz.npages++] = key;
	}
}

static struct ks_error *fuzz_read(void *priv, uint64_t addr, void *buf, size_t len,
				  bool physical)
{
	struct ks_error *err;

	(void)priv;
	if (fz.recording)
		record(addr, len, physical);
	for (size_t i = 0; i < fz.nmuts; i++) {
		const struct mutation *m = &fz.muts[i];
		uint64_t page = m->page & ~1ull;

		if ((m->page & 1) != physical || page >= addr + len || page + PAGE <= addr)
			continue;
		if (m->op == OP_NODATA)
			return ks_error_fault(KS_ERR_NODATA, page, "page at 0x%llx is not in the dump (fuzz)",
					      (unsigned long long)page);
		if (m->op == OP_FAULT)
			return ks_error_fault(KS_ERR_FAULT, page, "cannot read 0x%llx (fuzz)",
					      (unsigned long long)page);
	}
	err = physical ? ks_target_read_phys(fz.inner, addr, buf, len)
		       : ks_target_read(fz.inner, addr, buf, len);
	if (err)
		return err;
	for (size_t i = 0; i < fz.nmuts; i++) {
		const struct mutation *m = &fz.muts[i];

		if ((m->page & 1) != physical || m->op > OP_SET)
			continue;
		for (unsigned int b = 0; b < m->n; b++) {
			uint64_t a = (m->page & ~1ull) + m->offset + b;

			if (a < addr || a - addr >= len)
				continue;
			if (m->op == OP_XOR)
				((unsigned char *)buf)[a - addr] ^= m->bytes[b];
			else
				((unsigned char *)buf)[a - addr] = m->bytes[b];
		}
	}
	return NULL;
}

/* VMCOREINFO is read at open, before any input: the inner backend's, unchanged. */
static const char *fuzz_vmcoreinfo(void *priv)
{
	(void)priv;
	return ks_target_vmcoreinfo_raw(fz.inner);
}

static void fuzz_destroy(void *priv)
{
	(void)priv;
}

static const struct ks_target_ops fuzz_ops = {
	.version = KS_TARGET_OPS_VERSION,
	.name = "fuzz",
	.read = fuzz_read,
	.vmcoreinfo = fuzz_vmcoreinfo,
	.destroy = fuzz_destroy,
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One analysis and every renderer; everything it made is freed. */
static void analyze_once(void)
{
	struct ks_analysis a;
	struct ks_error *err = ks_analyze(fz.kernel, &a);

	if (!err) {
		json_t *j = ks_report_json(&a);
		char *s = json_dumps(j, JSON_SORT_KEYS);

		ks_report_text(fz.devnull, &a);
		ks_report_html(fz.devnull, &a);
		free(s);
		json_decref(j);
		ks_analysis_deinit(&a);
	}
	ks_error_destroy(err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *vmcore = getenv("KSTALL_FUZZ_VMCORE"), *vmlinux = getenv("KSTALL_FUZZ_VMLINUX");
	struct ks_settings settings;
	struct ks_kernel_options opts = { .settings = &settings };
	char *cache_dir;
	struct ks_debuginfo *di;
	struct ks_target *t;
	struct ks_error *err;

	(void)argc;
	(void)argv;
#ifdef KSTALL_FUZZ_VMCORE_DEFAULT
	if (!vmcore)
		vmcore = KSTALL_FUZZ_VMCORE_DEFAULT;
	if (!vmlinux)
		vmlinux = KSTALL_FUZZ_VMLINUX_DEFAULT;
#endif
	if (!vmcore || !vmlinux) {
		fprintf(stderr, "fuzz: set KSTALL_FUZZ_VMCORE and KSTALL_FUZZ_VMLINUX\n");
		exit(2);
	}
	ks_settings_from_env(&settings, &cache_dir);
	err = ks_target_open_kdump(vmcore, &settings, &fz.inner);
	if (!err)
		err = ks_debuginfo_open(vmlinux, &settings, &di);
	free(cache_dir);
	if (!err) {
		/* The wrapper owns nothing: the inner target lives as long as the process. */
		err = ks_target_create(&fuzz_ops, NULL, &t);
		if (!err)
			err = ks_kernel_open(t, di, &opts, &fz.kernel);
	}
	if (err) {
		fprintf(stderr, "fuzz: cannot open %s with %s: %s\n", vmcore, vmlinux, err->message);
		exit(2);
	}
	fz.devnull = fopen("/dev/null", "w");
	if (!fz.devnull)
		abort();
	/* The pages an undamaged analysis reads: what the inputs' page indexes name. */
	fz.recording = true;
	analyze_once();
	fz.recording = false;
	ks_u64map_free(&fz.seen);
	qsort(fz.pages, fz.npages, sizeof(*fz.pages), cmp_u64);
	fprintf(stderr, "fuzz: %s: %zu pages read by the analysis\n", vmcore, fz.npages);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	size_t pos = 0;

	fz.nmuts = 0;
	while (pos + 5 <= size && fz.nmuts < MAX_MUTATIONS && fz.npages) {
		struct mutation *m = &fz.muts[fz.nmuts];
		unsigned int idx = data[pos + 1] | data[pos + 2] << 8;

		m->op = (enum op)(data[pos] & 3);
		m->page = fz.pages[idx % fz.npages];
		m->offset = (data[pos + 3] | data[pos + 4] << 8) % PAGE;
		m->n = 0;
		pos += 5;
		if (m->op <= OP_SET) {
			if (pos >= size)
				break;
			m->n = data[pos] % 8 + 1;
			pos++;
			if (m->n > size - pos)
				m->n = (unsigned int)(size - pos);
			if (m->offset + m->n > PAGE)
				m->n = (unsigned int)(PAGE - m->offset);
			memcpy(m->bytes, data + pos, m->n);
			pos += m->n;
		}
		fz.nmuts++;
	}
	analyze_once();
	fz.nmuts = 0;
	return 0;
}
