/* The kernel log, read from the printk ring buffer in the dump. */
#ifndef KSTALL_LOG_H
#define KSTALL_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"
#include "kstall/kernel.h"

struct ks_log_record {
	uint64_t seq;
	uint64_t ts_nsec;
	int level;
	uint32_t caller_id;
	/* NUL-terminated, owned by the log */
	char *text;
};

struct ks_log {
	struct ks_log_record *records;
	size_t count;
};

/* The lockless ring buffer of 5.10+ (prb); older log_buf kernels get UNSUPPORTED for now. */
struct ks_error *ks_log_read(struct ks_kernel *k, struct ks_log *ret);
void ks_log_deinit(struct ks_log *log);

#endif
