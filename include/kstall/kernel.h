/*
 * A kernel image in a dump: the target joined with its vmlinux debuginfo, the
 * KASLR offset, and the layout table (offsets resolved once from DWARF).
 */
#ifndef KSTALL_KERNEL_H
#define KSTALL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/debuginfo.h"
#include "kstall/error.h"
#include "kstall/target.h"

/* Fields of the layout table; KS_F_* index ks_kernel_off()/ks_kernel_has(). */
enum ks_field {
	KS_F_TASK_TASKS,
	KS_F_TASK_PID,
	KS_F_TASK_TGID,
	KS_F_TASK_COMM,
	KS_F_TASK_STATE,     /* __state (5.14+) or state */
	KS_F_TASK_EXIT_STATE,
	KS_F_TASK_FLAGS,
	KS_F_TASK_ON_CPU,
	KS_F_TASK_CPU,	     /* thread_info.cpu or cpu */
	KS_F_TASK_REAL_PARENT,
	KS_F_TASK_SIGNAL,
	KS_F_TASK_STACK,
	KS_F_TASK_THREAD_SP,
	KS_F_TASK_THREAD_NODE,	/* on signal->thread_head */
	KS_F_TASK_THREAD_GROUP, /* older list, gone in 6.7 */
	KS_F_SIGNAL_THREAD_HEAD,
	KS_F_RQ_CURR,
	KS_F_RQ_IDLE,
	KS_F_RQ_CLOCK,
	KS_F_ITF_BP, /* struct inactive_task_frame */
	KS_F_ITF_RET_ADDR,
	KS_F_ITF_BX,
	KS_F_ITF_R12,
	KS_F_ITF_R13,
	KS_F_ITF_R14,
	KS_F_ITF_R15,
	KS_F_PRSTATUS_PID, /* struct elf_prstatus */
	KS_F_PRSTATUS_REG,
	/* what the stall analysis reads */
	KS_F_TASK_DELAYS,
	KS_F_DELAYS_FREEPAGES_START,
	KS_F_TASK_LAST_ARRIVAL,	   /* sched_info.last_arrival */
	KS_F_TASK_LAST_SWITCH_TIME, /* hung-task detector, 5.x+ */
	KS_F_TASK_MEMALLOC_VALID,   /* memalloc-watchdog patch */
	KS_F_TASK_MEMALLOC_START,
	KS_F_TASK_MEMALLOC_GFP,
	KS_F_TASK_MEMALLOC_ORDER,
	KS_F_SIGNAL_OOM_MM,
	KS_F_SIGNAL_OOM_SCORE_ADJ,
	KS_F_MUTEX_OWNER,
	KS_F_MUTEX_WAIT_LIST,
	KS_F_MUTEX_WAITER_TASK,
	KS_F_MUTEX_WAITER_LIST,
	KS_F_RWSEM_OWNER,
	KS_F_RWSEM_WAIT_LIST,
	KS_F_RWSEM_WAITER_TASK,
	KS_F_RWSEM_WAITER_LIST,
	KS_F_SEM_COUNT,
	KS_F_SEM_WAIT_LIST,
	KS_F_SEM_WAITER_TASK,
	KS_F_SEM_WAITER_LIST,
	/* memory */
	KS_F_PGDAT_NODE_ZONES,
	KS_F_PGDAT_NODE_ID,
	KS_F_PGDAT_KSWAPD_FAILURES,
	KS_F_ZONE_WATERMARK, /* _watermark (5.0+) or watermark */
	KS_F_ZONE_WATERMARK_BOOST,
	KS_F_ZONE_MANAGED,
	KS_F_ZONE_NAME,
	KS_F_ZONE_VM_STAT,
	/* OOM */
	KS_F_TASK_MM,
	KS_F_MM_MMAP_LOCK, /* mmap_lock (5.8+) or mmap_sem */
	KS_F_TASK_OOM_REAPER_LIST,
	/* percpu rw-semaphores (5.x+: rss, read_count, writer, waiters, block) and wait queues */
	KS_F_PCPU_RWSEM_READ_COUNT,
	KS_F_PCPU_RWSEM_WRITER, /* writer.task: the writer waiting for readers to leave */
	KS_F_PCPU_RWSEM_WAITERS,
	KS_F_PCPU_RWSEM_BLOCK,
	KS_F_WQ_ENTRY_PRIVATE,
	KS_F_WQ_ENTRY_ENTRY,
	KS_F_WQ_HEAD_HEAD,
	/* page and folio locks: waiters on the hashed folio_wait_table / page_wait_table */
	KS_F_WPQ_FOLIO, /* wait_page_queue.folio (5.16+) or .page */
	KS_F_WPQ_BIT_NR,
	KS_F_WPQ_WAIT,
	KS_F_PAGE_FLAGS,
	KS_F_PAGE_MAPPING,
	KS_F_PAGE_INDEX,
	KS_F_MAPPING_HOST,
	/* naming files */
	KS_F_INODE_RWSEM,
	KS_F_INODE_MAPPING,
	KS_F_INODE_DATA_HOST, /* i_data.host: an inode's own mapping points back at it */
	KS_F_INODE_SB,
	KS_F_INODE_INO,
	KS_F_INODE_DENTRY,
	KS_F_DENTRY_ALIAS, /* d_u.d_alias (3.19+) or d_alias */
	KS_F_DENTRY_PARENT,
	KS_F_DENTRY_NAME,
	KS_F_DENTRY_INODE,
	KS_F_SB_TYPE,
	KS_F_SB_MOUNTS,
	KS_F_FSTYPE_NAME,
	KS_F_MOUNT_PARENT,
	KS_F_MOUNT_MOUNTPOINT,
	KS_F_MOUNT_ROOT,
	KS_F_MOUNT_SB,
	KS_F_MOUNT_INSTANCE,
	KS_F_MOUNT_NS,
	/* hung-task blocker tracking: an encoded lock word (6.16+) or a mutex pointer (6.15) */
	KS_F_TASK_BLOCKER,
	KS_F_TASK_BLOCKER_MUTEX,
	KS_F__COUNT
};

/* x86_64 registers, in DWARF numbering. */
enum ks_reg {
	KS_RAX, KS_RDX, KS_RCX, KS_RBX, KS_RSI, KS_RDI, KS_RBP, KS_RSP,
	KS_R8, KS_R9, KS_R10, KS_R11, KS_R12, KS_R13, KS_R14, KS_R15, KS_RIP,
	KS_NR_REGS
};

struct ks_kernel;

struct ks_kernel_options {
	/* open even when vmlinux and dump do not match */
	bool force;
};

/* Takes ownership of target and di, also on failure. */
struct ks_error *ks_kernel_open(struct ks_target *target, struct ks_debuginfo *di,
				const struct ks_kernel_options *opts, struct ks_kernel **ret);
void ks_kernel_destroy(struct ks_kernel *k);

struct ks_target *ks_kernel_target(struct ks_kernel *k);
struct ks_debuginfo *ks_kernel_debuginfo(struct ks_kernel *k);
uint64_t ks_kernel_kaslr_offset(const struct ks_kernel *k);
const char *ks_kernel_release(const struct ks_kernel *k);

uint64_t ks_kernel_off(const struct ks_kernel *k, enum ks_field f);
bool ks_kernel_has(const struct ks_kernel *k, enum ks_field f);
uint64_t ks_kernel_fsize(const struct ks_kernel *k, enum ks_field f);

/* Runtime address of a symbol (KASLR applied). */
bool ks_kernel_symbol(struct ks_kernel *k, const char *name, uint64_t *addr);
/* Symbol containing a runtime address. */
bool ks_kernel_symbolize(struct ks_kernel *k, uint64_t addr, struct ks_symbol *ret);

struct ks_error *ks_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len);
struct ks_error *ks_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret);
struct ks_error *ks_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret);
/* An unsigned integer field of size 1, 2, 4 or 8 bytes. */
struct ks_error *ks_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret);
/* Read the field f of the object at base. */
struct ks_error *ks_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f,
			       uint64_t *ret);
/* A NUL-terminated string of at most size-1 bytes. */
struct ks_error *ks_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size);

/* The same reads as a yes/no, for callers that go on without the value: no error is made. */
bool ks_try_read(struct ks_kernel *k, uint64_t addr, void *buf, size_t len);
bool ks_try_read_u64(struct ks_kernel *k, uint64_t addr, uint64_t *ret);
bool ks_try_read_u32(struct ks_kernel *k, uint64_t addr, uint32_t *ret);
bool ks_try_read_uint(struct ks_kernel *k, uint64_t addr, size_t size, uint64_t *ret);
bool ks_try_read_field(struct ks_kernel *k, uint64_t base, enum ks_field f, uint64_t *ret);
bool ks_try_read_string(struct ks_kernel *k, uint64_t addr, char *buf, size_t size);

/* Per-CPU data. */
unsigned int ks_kernel_nr_cpus(const struct ks_kernel *k);
bool ks_kernel_cpu_online(const struct ks_kernel *k, unsigned int cpu);
/* Runtime address of a per-CPU variable's instance on a CPU. */
struct ks_error *ks_kernel_per_cpu(struct ks_kernel *k, const char *var, unsigned int cpu,
				   uint64_t *ret);

/* A per-CPU pointer (a value of a `T __percpu *`) resolved for one CPU. */
bool ks_kernel_per_cpu_ptr(const struct ks_kernel *k, uint64_t ptr, unsigned int cpu, uint64_t *ret);

/* The address of an online CPU's struct rq; false for offline or unreadable CPUs. */
bool ks_kernel_runqueue(struct ks_kernel *k, unsigned int cpu, uint64_t *ret);

/* Registers a CPU saved in its crash note; false when the CPU has none. */
bool ks_kernel_cpu_regs(const struct ks_kernel *k, unsigned int cpu, uint64_t regs[KS_NR_REGS],
			uint32_t *pid);
/* The CPU that crashed, or -1 when unknown. */
int ks_kernel_panic_cpu(const struct ks_kernel *k);

struct ks_modules;
/* The modules loaded at the crash (read once at open). */
const struct ks_modules *ks_kernel_modules(const struct ks_kernel *k);

/* Size of a kernel stack, from DWARF (union thread_union). */
uint64_t ks_kernel_thread_size(const struct ks_kernel *k);

/* The owner task address from a mutex or rwsem owner word (its flag bits removed). */
uint64_t ks_lock_owner_task(uint64_t owner_word);

#endif
