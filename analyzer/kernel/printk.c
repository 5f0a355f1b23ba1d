#include <stdlib.h>
#include <string.h>

#include "kstall/log.h"

/* 2^24 descriptors or data bytes: far above any kernel's log. */
#define MAX_BITS 24

struct prb_layout {
	uint64_t desc_ring, text_ring;
	uint64_t count_bits, descs, infos, head_id, tail_id;
	uint64_t size_bits, data;
	uint64_t desc_size, state_var, lpos_begin, lpos_next;
	uint64_t info_size, seq, ts_nsec, text_len, level, caller_id;
	uint64_t level_size, text_len_size;
};

static bool layout(struct ks_debuginfo *di, struct prb_layout *l)
{
	bool ok = true;
#define M(type, member, dst) ok = ok && ks_debuginfo_member(di, type, member, &l->dst, NULL)
	M("printk_ringbuffer", "desc_ring", desc_ring);
	M("printk_ringbuffer", "text_data_ring", text_ring);
	M("prb_desc_ring", "count_bits", count_bits);
	M("prb_desc_ring", "descs", descs);
	M("prb_desc_ring", "infos", infos);
	M("prb_desc_ring", "head_id", head_id);
	M("prb_desc_ring", "tail_id", tail_id);
	M("prb_data_ring", "size_bits", size_bits);
	M("prb_data_ring", "data", data);
	M("prb_desc", "state_var", state_var);
	M("prb_desc", "text_blk_lpos.begin", lpos_begin);
	M("prb_desc", "text_blk_lpos.next", lpos_next);
	M("printk_info", "seq", seq);
	M("printk_info", "ts_nsec", ts_nsec);
	M("printk_info", "caller_id", caller_id);
	ok = ok && ks_debuginfo_member(di, "printk_info", "text_len", &l->text_len,
				       &l->text_len_size);
#undef M
	/* level is a bit-field in printk_info: not read. */
	l->desc_size = ks_debuginfo_type_size(di, "prb_desc");
	l->info_size = ks_debuginfo_type_size(di, "printk_info");
	return ok && l->desc_size && l->info_size;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint64_t getn(const unsigned char *p, uint64_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size > 8 ? 8 : size);
	return v;
}

static struct ks_error *push(struct ks_log *log, size_t *cap, const struct ks_log_record *r)
{
	if (log->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct ks_log_record *n = realloc(log->records, ncap * sizeof(*n));

		if (!n)
			return &ks_error_nomem;
		log->records = n;
		*cap = ncap;
	}
	log->records[log->count++] = *r;
	return NULL;
}

struct ks_error *ks_log_read(struct ks_kernel *k, struct ks_log *ret)
{
	struct ks_debuginfo *di = ks_kernel_debuginfo(k);
	struct prb_layout l;
	uint64_t prb_ptr, prb, count_bits = 0, size_bits = 0, descs, infos, data, head, tail;
	uint64_t count, dsize, id_mask = (1ull << 62) - 1;
	unsigned char *dbuf = NULL, *ibuf = NULL, *text = NULL;
	struct ks_error *err;
	size_t cap = 0;

	memset(ret, 0, sizeof(*ret));
	if (!ks_kernel_symbol(k, "prb", &prb_ptr) || !layout(di, &l))
		return ks_error_create(KS_ERR_UNSUPPORTED,
				       "no lockless printk ring buffer (prb) in this kernel");
	if ((err = ks_read_u64(k, prb_ptr, &prb)))
		return ks_error_wrap(err, "prb");
	if ((err = ks_read_uint(k, prb + l.desc_ring + l.count_bits, 4, &count_bits)) ||
	    (err = ks_read_u64(k, prb + l.desc_ring + l.descs, &descs)) ||
	    (err = ks_read_u64(k, prb + l.desc_ring + l.infos, &infos)) ||
	    (err = ks_read_u64(k, prb + l.desc_ring + l.head_id, &head)) ||
	    (err = ks_read_u64(k, prb + l.desc_ring + l.tail_id, &tail)) ||
	    (err = ks_read_uint(k, prb + l.text_ring + l.size_bits, 4, &size_bits)) ||
	    (err = ks_read_u64(k, prb + l.text_ring + l.data, &data)))
		return ks_error_wrap(err, "printk ring buffer header");
	if (count_bits > MAX_BITS || size_bits > MAX_BITS)
		return ks_error_create(KS_ERR_BAD_DATA, "printk ring buffer sizes 2^%llu/2^%llu",
				       (unsigned long long)count_bits, (unsigned long long)size_bits);
	count = 1ull << count_bits;
	dsize = 1ull << size_bits;
	dbuf = malloc(count * l.desc_size);
	ibuf = malloc(count * l.info_size);
	text = malloc(dsize);
	if (!dbuf || !ibuf || !text) {
		err = &ks_error_nomem;
		goto out;
	}
	if ((err = ks_read(k, descs, dbuf, count * l.desc_size)) ||
	    (err = ks_read(k, infos, ibuf, count * l.info_size)) ||
	    (err = ks_read(k, data, text, dsize))) {
		err = ks_error_wrap(err, "printk ring buffer");
		goto out;
	}
	head &= id_mask;
	tail &= id_mask;
	for (uint64_t id = tail, n = 0; n < count; id = (id + 1) & id_mask, n++) {
		const unsigned char *d = dbuf + (id & (count - 1)) * l.desc_size;
		const unsigned char *info = ibuf + (id & (count - 1)) * l.info_size;
		uint64_t sv = get64(d + l.state_var), state = sv >> 62;
		uint64_t begin = get64(d + l.lpos_begin), next = get64(d + l.lpos_next);
		uint64_t text_len = getn(info + l.text_len, l.text_len_size), off, avail;
		struct ks_log_record r = { 0 };

		if ((sv & id_mask) == id && (state == 1 || state == 2)) {
			r.seq = get64(info + l.seq);
			r.ts_nsec = get64(info + l.ts_nsec);
			r.caller_id = (uint32_t)getn(info + l.caller_id, 4);
			avail = 0;
			off = 0;
			if (!(begin & 1)) {
				if ((begin >> size_bits) == (next >> size_bits) && begin < next) {
					off = begin & (dsize - 1);
					avail = next - begin;
				} else if (((begin + dsize) >> size_bits) == (next >> size_bits)) {
					off = 0;
					avail = next & (dsize - 1);
				}
			}
			/* The block starts with its id; the text follows. */
			avail = avail >= 8 ? avail - 8 : 0;
			if (off + 8 + avail > dsize)
				avail = 0;
			if (text_len > avail)
				text_len = avail;
			r.text = malloc(text_len + 1);
			if (!r.text) {
				err = &ks_error_nomem;
				goto out;
			}
			memcpy(r.text, text + off + 8, text_len);
			r.text[text_len] = '\0';
			if ((err = push(ret, &cap, &r))) {
				free(r.text);
				goto out;
			}
		}
		if (id == head)
			break;
	}
out:
	free(dbuf);
	free(ibuf);
	free(text);
	if (err)
		ks_log_deinit(ret);
	return err;
}

void ks_log_deinit(struct ks_log *log)
{
	for (size_t i = 0; i < log->count; i++)
		free(log->records[i].text);
	free(log->records);
	memset(log, 0, sizeof(*log));
}
