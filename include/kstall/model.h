/*
 * The model room: the tasks with their stacks and what the passes find in
 * them (allocator states, lock waits and the wait-for graph, stall ages, OOM
 * state, memory, the log's events and ranked root-cause verdicts), with the
 * rules every reader shares (the name of each enum value, who waits for whom,
 * which task counts as stalled). Passes write it, through the table in
 * analyzer/passes/table.c; renderers only read it.
 */
#ifndef KSTALL_MODEL_H
#define KSTALL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kstall/error.h"
#include "kstall/kernel.h"
#include "kstall/log.h"
#include "kstall/tasks.h"
#include "kstall/unwind.h"

enum ks_alloc_phase {
	KS_ALLOC_NONE,
	KS_ALLOC_RETRY,		/* in the slowpath's retry loop */
	KS_ALLOC_RECLAIM,	/* direct reclaim */
	KS_ALLOC_COMPACTION,	/* direct compaction */
	KS_ALLOC_THROTTLED,	/* reclaim_throttle, too_many_isolated, congestion_wait ... */
	KS_ALLOC_OOM_LOCK_WAIT, /* sleeping for oom_lock in __alloc_pages_may_oom */
	KS_ALLOC_OOM_KILL,	/* inside out_of_memory */
};

struct ks_alloc_state {
	enum ks_alloc_phase phase;
	/* charging a memory cgroup (try_charge_memcg), not the page allocator: its limit, its
	 * reclaim and its OOM killer */
	bool memcg;
	/* the innermost allocator frame that tells the phase */
	const char *where;
	/* what asked for the memory: "fork", "page fault", "slab", "vmalloc", ... or "" */
	const char *context;
	/* throttled: why, in the kernel's words ("VMSCAN_THROTTLE_WRITEBACK",
	 * "pfmemalloc_reserves", ...); "" when unknown or not throttled */
	const char *throttle;
	bool gfp_known, order_known;
	uint64_t gfp;
	/* gfp in the kernel's own flag names, decoded once; "" when gfp is unknown */
	char gfp_names[160];
	unsigned int order;
	/* the allocation may invoke the OOM killer (__GFP_FS, not NORETRY, not costly); known only
	 * with the gfp mask and the dump's names of its flags */
	bool may_oom_known, may_oom;
	bool nofail;
	/*
	 * The slowpath's retry counters (4.x+): reclaim rounds without progress and
	 * compaction retries, read from its frame's DWARF locals where their location
	 * is known at the task's pc.
	 */
	bool no_progress_known, compaction_retries_known;
	int no_progress_loops, compaction_retries;
};

/* A lock kind and, for a waiter, how it waits. */
enum ks_lock_type {
	KS_LOCK_MUTEX,
	KS_LOCK_RWSEM_READ,
	KS_LOCK_RWSEM_WRITE,
	KS_LOCK_SEMAPHORE,
	KS_LOCK_PERCPU_READ,  /* percpu_rw_semaphore, a reader waiting for the writer */
	KS_LOCK_PERCPU_WRITE, /* a writer waiting for the write side (another writer has it) */
	KS_LOCK_PERCPU_DRAIN, /* the writer that has the write side, waiting for readers to leave */
	KS_LOCK_FOLIO,	      /* a page or folio lock (PG_locked) */
};

/* The file a folio or inode lock belongs to. */
struct ks_file_ref {
	/* an inode was found and checked (its own mapping points back at it) */
	bool known;
	uint64_t inode;
	uint64_t ino;
	char fstype[32];
	/*
	 * "/kstall-io/data" through the mounts when path_absolute; else the path
	 * within its filesystem ("tmpfs:/data"); else the dentry name; "" when none
	 */
	char path[256];
	bool path_absolute;
	/* folio locks: the page index in the file */
	bool index_known;
	uint64_t index;
};

struct ks_lock {
	uint64_t address;
	enum ks_lock_type type;
	/* "stall_mutex_a", "sym+0x10", "mmap_lock of storm (tgid 44)",
	 * "i_rwsem of /tmp/f", "page 3 of /tmp/f", or "" when unknown */
	char name[320];
	/* what the lock is, without pids or addresses, for signatures: the symbol,
	 * "mm_struct.mmap_lock", "inode.i_rwsem", "folio:PG_locked", or "" when unknown */
	char what[64];
	/* owner task index in the tasks array; -1 when none is recorded. For a
	 * percpu_rw_semaphore, the writer that waits for the readers to leave. */
	long owner;
	/* the owner is only a hint (a reader-owned rwsem names the last reader) */
	bool owner_is_hint;
	/* what the hint is, in words: "last reader", "last holder", ... (static text) */
	const char *hint_words;
	size_t nwaiters;
	/* percpu_rw_semaphore: readers inside (the per-CPU counts summed), -1 when
	 * unknown or not a percpu_rw_semaphore; a writer has the write side */
	long readers;
	bool write_held;
	struct ks_file_ref file;
};

/* Where a stall's start time comes from, best first. */
enum ks_stall_source {
	KS_STALL_NONE,
	KS_STALL_MEMALLOC,	   /* task_struct.memalloc.start (memalloc watchdog) */
	KS_STALL_DELAYACCT,	   /* task->delays->freepages_start */
	KS_STALL_HUNG_TASK,	   /* last_switch_time */
	KS_STALL_SCHED_INFO,	   /* sched_info.last_arrival */
	KS_STALL_PSI,		   /* the system's memory stall onset (PSI), for a task allocating in it */
	KS_STALL_LOG,		   /* the task's own OOM invocations in the log, still allocating */
};

struct ks_stall {
	enum ks_stall_source source;
	/* best estimate of how long before the crash the stall began */
	double seconds;
	bool exact;
	/* when not exact, the stall began between max_seconds and min_seconds before the crash */
	double min_seconds, max_seconds;
};

struct ks_task_analysis {
	/* stack as analysed: for the panic task, only what the interrupt interrupted */
	size_t first_frame;
	struct ks_alloc_state alloc;
	/* index into locks; -1 when the task waits on no lock kstall knows */
	long waits_on;
	/* how it waits: for rwsems, read or write (the lock's own type says rwsem) */
	enum ks_lock_type wait_type;
	struct ks_stall stall;
	bool oom_victim;
	/* has an mm: a user task, not a kernel thread */
	bool user;
	short oom_score_adj;
	/* the log's OOM kill of this task's process: seconds before the crash, < 0 when none */
	double oom_killed_seconds;
	/* that kill's event and the reaper's last word on the process (reaped), -1 when none */
	long oom_kill_event, oom_reap_event;
	/* on a wait-for cycle */
	bool in_cycle;
	/* sleeping in balance_dirty_pages: writing faster than the disk takes it */
	bool dirty_throttled;
	/* what the task does, in a few words ("allocating: direct reclaim"); one copy per text */
	const char *activity;
	/* a stalled task's cgroup v2 (memory cgroups: its path, "/" the root); NULL when unknown */
	const char *cgroup;
};

enum ks_verdict_kind {
	KS_VERDICT_NONE,
	KS_VERDICT_LOCK_CYCLE,
	KS_VERDICT_OOM_DEADLOCK,
	KS_VERDICT_ALLOC_LOOP_NO_OOM,
	KS_VERDICT_RECLAIM_THROTTLE,
	KS_VERDICT_SHMEM_NO_SWAP,
	KS_VERDICT_ALLOC_STORM,
	KS_VERDICT_OOM_VICTIM_STUCK,
	KS_VERDICT_LOCK_CHAIN_HANG,
	KS_VERDICT_HUNG_TASKS,
	KS_VERDICT_FORK_STORM,
	KS_VERDICT_MEMCG_LIMIT,
	KS_VERDICT_SLAB_UNRECLAIMABLE,
	/* not all of the dump could be read (struct ks_coverage): no "none" on a guess */
	KS_VERDICT_INCONCLUSIVE,
};

#define KS_VERDICT_MAX_PIDS 16
#define KS_VERDICT_MAX_LOCKS 8

struct ks_verdict {
	enum ks_verdict_kind kind;
	double score;
	int32_t pids[KS_VERDICT_MAX_PIDS];
	size_t npids;
	long locks[KS_VERDICT_MAX_LOCKS];
	size_t nlocks;
	char summary[768];
	char signature[256];
};

/* Memory counters, in pages, as `kmem -i` and /proc/meminfo show them. */
enum ks_mem_item {
	KS_MEM_TOTAL,
	KS_MEM_FREE,
	KS_MEM_FILE,
	KS_MEM_SHMEM,
	KS_MEM_DIRTY,
	KS_MEM_WRITEBACK,
	KS_MEM_ANON,
	KS_MEM_ACTIVE_ANON,
	KS_MEM_INACTIVE_ANON,
	KS_MEM_ACTIVE_FILE,
	KS_MEM_INACTIVE_FILE,
	KS_MEM_UNEVICTABLE,
	KS_MEM_MLOCKED,
	KS_MEM_SLAB_RECLAIMABLE,
	KS_MEM_SLAB_UNRECLAIMABLE,
	KS_MEM_KERNEL_STACK,
	KS_MEM_PAGETABLES,
	KS_MEM_ISOLATED_ANON,
	KS_MEM_ISOLATED_FILE,
	KS_MEM_SWAP_TOTAL,
	KS_MEM_SWAP_FREE,
	KS_MEM__COUNT
};

struct ks_zone_info {
	int node;
	char name[16];
	/* pages; the watermarks include watermark_boost where the kernel has it */
	uint64_t free, managed, min, low, high;
	bool watermarks_known;
	/* free could not be read (a problem says why): unknown, not 0, and watermarks_known false */
	bool free_unread;
};

/* Pressure stall information (PSI) of the whole system: one resource, some or full. */
struct ks_psi_line {
	bool known;
	/* the share of time tasks stalled on the resource, percent, over 10, 60 and 300 s */
	double avg10, avg60, avg300;
	/* the stall time since boot, seconds, as of the last averaging */
	double total_seconds;
};

enum ks_psi_resource { KS_PSI_MEMORY, KS_PSI_IO, KS_PSI_CPU, KS_PSI__COUNT };

enum ks_psi_state {
	KS_PSI_ABSENT,	   /* not built (CONFIG_PSI=n), or its layout unknown to kstall */
	KS_PSI_DISABLED,   /* built, but off (psi=0, CONFIG_PSI_DEFAULT_DISABLED) */
	KS_PSI_READ,	   /* the numbers below */
	KS_PSI_UNREADABLE, /* on, but psi_system could not be read (a problem says why) */
};

/*
 * One PSI group's lines, as of its last averaging, and the memory stall going
 * on at the crash (memory some avg10 >= KS_PSI_STALL_PCT): when it began,
 * seconds before the crash, estimated from the averages' decay (ks_psi_onset),
 * with the range the averages allow. onset < 0: no such stall. onset_at_least:
 * the averages are saturated, it began onset seconds ago or earlier.
 */
struct ks_psi_group {
	struct ks_psi_line some[KS_PSI__COUNT], full[KS_PSI__COUNT];
	/* how long before the crash the kernel last folded the averages (every 2 s); < 0 when unknown */
	double updated_seconds_before;
	double onset, onset_min, onset_max;
	bool onset_at_least;
	/* the share of time stalled since the onset, percent, as the fit found it */
	double onset_share;
};

struct ks_pressure {
	enum ks_psi_state state;
	struct ks_psi_group sys; /* psi_system's, when state is KS_PSI_READ */
};

/* memory some avg10 at or above this (one second of stall in every ten): a memory stall is going on */
#define KS_PSI_STALL_PCT 10.0

/*
 * A process's memory from its mm's counters, in pages, as /proc/PID/status's
 * RssAnon, RssFile, RssShmem and VmSwap (VmPTE in bytes).
 */
struct ks_process_mem {
	size_t task; /* the thread group leader, else the first of its threads met */
	uint64_t mm;
	uint64_t anon, file, shmem, swap;
	uint64_t pgtables_bytes;
	bool pgtables_known;
	size_t threads;
};

#define KS_TOP_PROCESSES 10
#define KS_TOP_FILES 10

/* A file on a tmpfs (shmem) and the memory its pages hold. */
#define KS_FILE_HOLDERS 4
struct ks_file_mem {
	struct ks_file_ref file;
	uint64_t pages; /* its mapping's nrpages */
	/*
	 * The processes that hold it open (a file descriptor on it), as task
	 * indexes of their leaders, at most KS_FILE_HOLDERS of nholders;
	 * holders_known when every process's file table was read.
	 */
	size_t holders[KS_FILE_HOLDERS], nholders;
	bool holders_known;
};
/* a task forked this many seconds or less before the crash is young: a fork storm makes many */
#define KS_YOUNG_SECONDS 60

/* Kernel memory outside the page counters, as /proc/meminfo counts it; each unknown when unread. */
struct ks_kernel_mem {
	/* VmallocUsed: nr_vmalloc_pages (5.x+) */
	bool vmalloc_known;
	uint64_t vmalloc_pages;
	/* Percpu: pcpu_nr_populated * pcpu_nr_units */
	bool percpu_known;
	uint64_t percpu_pages;
	/* Hugetlb: every pool of hstates[], nr_huge_pages of 2^order pages each (free_huge_pages
	 * of them free); hugetlb_known false on a kernel without hugetlbfs */
	bool hugetlb_known, hugetlb_absent; /* absent: the kernel has no hugetlbfs (no hstates) */
	uint64_t hugetlb_pages, hugetlb_free_pages;
	size_t hugetlb_pools;
	/* nr_threads against the kernel's ceiling max_threads (fork fails with EAGAIN there), and
	 * total_forks, every fork since boot; threads_known when all three were read */
	bool threads_known;
	uint64_t nr_threads, max_threads, total_forks;
};

/* A cgroup v2 with the memory controller: its charge against memory.max, what memory.events counts. */
#define KS_TOP_CGROUPS 16
struct ks_cgroup_mem {
	char path[128]; /* "/" for the root, "/a/b" below */
	uint64_t usage_pages;
	/* memory.max; limited false when it is the kernel's "max" (PAGE_COUNTER_MAX) */
	uint64_t max_pages;
	bool limited;
	/* memory.high, where reclaim throttles the cgroup's allocations before memory.max fails them;
	 * high_limited false when it is "max" or unread */
	uint64_t high_pages;
	bool high_limited;
	/* memory.events: hits of memory.high and memory.max, OOMs, OOM kills; events_known when read */
	uint64_t ev_high, ev_max, ev_oom, ev_oom_kill;
	bool events_known;
	/* stalled tasks (allocating, or in D) whose cgroup this is */
	size_t stalled;
	/* its pressure (cgroup.psi; the root's is psi_system): psi_known when read */
	bool psi_known;
	struct ks_psi_group psi;
};

/* A slab cache and what its slabs hold, counted from the memory map. */
#define KS_TOP_SLABS 12
struct ks_slab_cache {
	char name[32];
	uint64_t cache;		      /* its struct kmem_cache */
	uint64_t object_size, stride; /* object_size, and size: the object with its metadata */
	uint64_t slabs, pages;	      /* its slabs and the pages they span */
	uint64_t objects, inuse;      /* the objects they have room for, and those allocated */
};

enum ks_slab_state {
	KS_SLAB_UNREAD,	  /* the walk's layout is unknown on this kernel (a kernel-support gap says what) */
	KS_SLAB_READ,	  /* the figures below */
	KS_SLAB_NOT_SLUB, /* SLOB or SLAB: the page names no cache */
	KS_SLAB_TOO_BIG,  /* the memory map is bigger than the walk's bound */
	KS_SLAB_UNREADABLE, /* the dump lacks the memory map's tables (a problem says what) */
};

/* Slab caches by the pages their slabs span, biggest first (`kmem -s`, slabtop). */
struct ks_slab_census {
	enum ks_slab_state state;
	struct ks_slab_cache top[KS_TOP_SLABS];
	size_t ntop, caches;			 /* caches on slab_caches */
	uint64_t slabs, pages, objects, inuse;	 /* over every slab met */
	uint64_t foreign_pages;			 /* slab pages whose cache is not on slab_caches */
	uint64_t map_pages, unreadable_map_pages; /* struct pages walked, and those the dump lacks */
};

/* Who holds the memory: the processes by RSS, their sums, and the task count's growth. */
struct ks_consumers {
	bool known; /* the mm counters' layout was read */
	struct ks_process_mem top[KS_TOP_PROCESSES]; /* biggest RSS first */
	size_t ntop, processes;
	uint64_t anon, file, shmem, swap, pgtables_bytes; /* sums over every process, pages (bytes) */
	size_t unreadable; /* processes whose counters could not be read */
	bool young_known;
	size_t young; /* tasks forked KS_YOUNG_SECONDS or less before the crash */
	/* tmpfs files by the pages they hold, biggest first, over every tmpfs superblock */
	bool files_known;
	struct ks_file_mem files[KS_TOP_FILES];
	size_t nfiles, files_seen;
	uint64_t files_pages;
	bool files_cut; /* the walk stopped at its bound (or a list looped) */
	struct ks_kernel_mem kernel;
	struct ks_slab_census slab;
	/* memory cgroups: those with a limit or stalled tasks first, then the biggest charges */
	bool cgroups_known;
	struct ks_cgroup_mem cgroups[KS_TOP_CGROUPS];
	size_t ncgroups, cgroups_seen;
};

struct ks_memory {
	uint64_t page_size;
	bool known[KS_MEM__COUNT];
	uint64_t pages[KS_MEM__COUNT];
	struct ks_zone_info *zones;
	size_t nzones;
	/* nodes whose kswapd gave up (kswapd_failures >= MAX_RECLAIM_RETRIES) */
	unsigned int kswapd_failed_nodes;
	struct ks_pressure pressure;
	struct ks_consumers consumers;
};

/* What the log says happened, linked to the tasks it names. */
enum ks_event_kind {
	KS_EVENT_OOM_INVOKED, /* "comm invoked oom-killer: gfp_mask=..." */
	KS_EVENT_OOM_KILL,    /* "Out of memory: Killed process PID (comm)" */
	KS_EVENT_OOM_REAPED,  /* "oom_reaper: reaped process PID (comm)" */
	KS_EVENT_OOM_REAP_FAILED,
	KS_EVENT_HUNG_TASK,   /* "INFO: task comm:PID blocked for more than N seconds." */
	KS_EVENT_ALLOC_FAILURE, /* "comm: page allocation failure: order:N, mode:..." */
	/* a memory cgroup's OOM report: "memory: usage NkB, limit NkB, failcnt N", its cgroup from
	 * the "Memory cgroup stats for PATH:" line after it */
	KS_EVENT_MEMCG_OOM,
	KS_EVENT_OOM_NO_VICTIM, /* "Out of memory and no killable processes..." */
};

struct ks_event {
	enum ks_event_kind kind;
	int32_t pid; /* 0 when the line names none */
	char comm[16];
	long task;   /* index into tasks, -1 when the task is gone */
	/* how long before the crash it was logged; < 0 when unknown */
	double seconds_before;
	uint64_t seq;
	const char *text; /* the log record's (the model's log holds it) */
	/* a kill's or a reap's "anon-rss:NkB, file-rss:NkB, shmem-rss:NkB": the process's memory at
	 * the kill, or what the reaper left; rss_known false for other lines */
	bool rss_known;
	uint64_t anon_kb, file_kb, shmem_kb;
	/* memcg_oom: the cgroup's usage and limit (kB), its failcnt, and its path ("" unknown) */
	uint64_t usage_kb, limit_kb, failcnt;
	char memcg[96];
};

struct ks_oom {
	/* task holding oom_lock, -1 for none, -2 when it could not be read */
	long lock_owner;
	/* tasks sleeping for oom_lock in __alloc_pages_may_oom */
	size_t lock_waiters;
	/* the oom_reaper kthread, -1 when absent */
	long reaper;
	/* tasks queued for the reaper (oom_reaper_list) */
	long *reaper_queue;
	size_t nreaper_queue;
	size_t victims;
	/* stuck (D or allocating) tasks with oom_score_adj -1000: the OOM killer cannot pick them */
	size_t unkillable_stuck;
	size_t kills; /* OOM kills in the log */
	/* the log's first and last kill, seconds before the crash; -1 when fewer than one dated */
	double first_kill_seconds, last_kill_seconds;
	/* the kernel's own count since boot: the OOM_KILL vm event summed over CPUs (it counts
	 * kills the log lost); oom_kill_counter_known false without CONFIG_VM_EVENT_COUNTERS */
	bool oom_kill_counter_known;
	uint64_t oom_kill_counter;
};

/*
 * Tasks that do the same thing: the same state, activity and own frames (the
 * scheduler's left out). Every task but the idle ones is in exactly one
 * group; the text report, the HTML page and the JSON show these groups.
 */
struct ks_task_group {
	/* the members are group_tasks[first .. first + count), in task order */
	size_t first, count;
	/* the first member's task index */
	size_t first_task;
	/* its members are stalled (ks_task_stalled) */
	bool stalled;
};

/* What every ticket starts with: the machine, the crash, and what tainted the kernel. */
struct ks_dump_facts {
	char host[65];	  /* init_uts_ns nodename; "" when unread */
	char version[65]; /* the kernel's build string (uname -v); "" when unread */
	/* the crash's wall-clock time (vmcoreinfo CRASHTIME), seconds since the epoch; -1 when absent */
	int64_t crash_time;
	/* the panic message: the log's "Kernel panic - not syncing: ..." text, or how the crash was
	 * triggered ("sysrq: Trigger a crash"); "" when the log does not say */
	char panic[200];
	int panic_cpu; /* -1 when unknown */
	/* tainted_mask, and its letters as the kernel prints them (taint_flags[]); taint_known false
	 * when unread */
	uint64_t taint_mask;
	bool taint_known;
	char taint[40];
	/* modules that set taints, "name(letters)" each, space-separated */
	char tainting_modules[400];
	size_t ntainting_modules;
	/* avenrun[]: the 1, 5 and 15 minute load averages in the kernel's fixed point (FSHIFT 11
	 * fraction bits); loadavg_known false when unread */
	uint64_t loadavg[3];
	bool loadavg_known;
	/* how the vmlinux was found and checked against the dump */
	enum ks_vmlinux_origin vmlinux_origin;
	enum ks_vmlinux_check vmlinux_check;
};

/*
 * How much of the dump the analysis read: the tasks against the kernel's own
 * count of them (nr_threads, which leaves out the idle tasks, plus one idle
 * task per online CPU, as the task walk takes them), and the reads that
 * failed. complete only when every task was read and no read failed; the
 * verdicts are scaled by what was read (ks_coverage_scale) and "none" is
 * given only on complete coverage.
 */
#define KS_COVERAGE_MAX_PARTS 24
struct ks_coverage {
	/* nr_threads could be read; tasks_expected is known only then */
	bool threads_known;
	uint64_t nr_threads;
	/* the online CPUs: one idle task each */
	unsigned int idle_expected;
	uint64_t tasks_expected;
	/* tasks in the model (idle ones included), the idle ones among them, and those some of whose
	 * fields could not be read */
	size_t tasks_read, idle_read, tasks_partial;
	/* stacks that could not be unwound to their end */
	size_t stacks_incomplete;
	/* problems of a failed read: fault, nodata, bad_data, os (not lookup: a support gap) */
	size_t read_failures;
	/* what could not be read in full: "tasks", "stacks", or the passes by name (static text) */
	const char *parts[KS_COVERAGE_MAX_PARTS];
	size_t nparts;
	bool complete;
};

struct ks_analysis {
	struct ks_kernel *kernel;
	struct ks_tasks tasks;
	struct ks_stack *stacks; /* one per task */
	struct ks_task_analysis *ta;
	struct ks_lock *locks;
	size_t nlocks;
	struct ks_verdict *verdicts; /* best first */
	size_t nverdicts;
	/* jiffies and HZ at the crash, when known */
	uint64_t jiffies;
	unsigned int hz;
	/* nanosecond clock at the crash (max rq->clock over CPUs) */
	uint64_t now_ns;
	struct ks_dump_facts facts;
	/* the hung-task detector's timeout (sysctl_hung_task_timeout_secs); 0 when unknown or off */
	unsigned long hung_task_timeout;
	struct ks_memory memory;
	struct ks_oom oom;
	/* stalled groups first, then the biggest, then by their first task */
	struct ks_task_group *groups;
	size_t ngroups;
	size_t *group_tasks;
	struct ks_event *events; /* in log order */
	size_t nevents;
	/* the kernel log, when log_known; log_relevant[r]: record r is one a support
	 * engineer looks for first (OOM reports, hung-task and lockup warnings, allocation
	 * failures, the crash trigger), log_nrelevant of them */
	struct ks_log log;
	bool log_known;
	bool *log_relevant;
	size_t log_nrelevant;
	/* what could not be read or resolved, in the order met (the task walk's first) */
	struct ks_problems problems;
	/* how much of that is (struct ks_coverage); set before the verdicts */
	struct ks_coverage coverage;
	/* private: task_struct address -> index */
	void *task_index;
	/* private: the texts tasks share (activity) */
	void *strings;
};

/* What kstall cannot read on the analysed kernel (none without a kernel). */
const struct ks_support_gap *ks_model_support(const struct ks_analysis *a, size_t *count);
const char *ks_verdict_name(enum ks_verdict_kind kind);
/* A problem of this code is a read that failed (the dump lacks or garbles it), not a support gap. */
bool ks_problem_is_read_failure(enum ks_error_code code);
/* Note that part (static text) could not be read in full; once each. */
void ks_coverage_add_part(struct ks_coverage *c, const char *part);
/*
 * The share of the tasks read, what every verdict's score is multiplied by:
 * 1 when coverage is complete, tasks_read / tasks_expected (at most 1) when
 * the count is known, 0.5 when it is not (nr_threads unreadable).
 */
double ks_coverage_scale(const struct ks_coverage *c);
/* In words: "complete: 43 of 43 tasks read, 0 reads failed", or "incomplete: 41 of 43 tasks read,
 * 2 reads failed; not read in full: tasks, memory". */
void ks_coverage_words(const struct ks_coverage *c, char *buf, size_t size);
const char *ks_alloc_phase_name(enum ks_alloc_phase phase);
/* "may invoke the OOM killer", "may not ...", or that it is not known (gfp mask unknown) */
const char *ks_alloc_oom_words(const struct ks_alloc_state *alloc);
/* "mutex", "rwsem", "semaphore", "percpu_rwsem", "folio" */
const char *ks_lock_type_name(enum ks_lock_type type);
/* how a task waits: "mutex", "rwsem (read)", "rwsem (write)", "semaphore",
 * "percpu_rwsem (read)", "percpu_rwsem (write)", "percpu_rwsem (write, readers to leave)",
 * "folio lock" */
const char *ks_wait_type_name(enum ks_lock_type type);
/*
 * The task that task i waits for: the owner of the lock it waits on; -1 when
 * there is none, the owner is only a hint, or i owns that lock itself (the
 * writer of a percpu_rw_semaphore waiting for its readers).
 */
long ks_waits_for(const struct ks_analysis *a, size_t i);
const char *ks_stall_source_name(enum ks_stall_source source);
/* "read", "disabled", "unreadable", "absent" */
const char *ks_psi_state_name(enum ks_psi_state state);
const char *ks_slab_state_name(enum ks_slab_state state);
/* "memory", "io", "cpu" */
const char *ks_psi_resource_name(enum ks_psi_resource resource);
/* "shmem", "swap_total", ... */
const char *ks_mem_item_name(enum ks_mem_item item);
/* pages of the dump's page size, in MiB */
double ks_memory_mib(const struct ks_memory *m, uint64_t pages);

/* One part of "where RAM went": a name, its pages, and what it counts. */
struct ks_ram_part {
	const char *name, *what;
	uint64_t pages;
};

#define KS_RAM_PARTS 8
/*
 * RAM (totalram) split into parts that do not overlap, from the global counters: anonymous
 * memory, page cache without shmem, shmem/tmpfs, slab, kernel stacks, page tables, free, and
 * the rest ("other kernel": allocations no counter names). Returns how many parts, 0 when the
 * total or a counter is unknown. When the counters add up to more than the total (per-CPU
 * drift), "other kernel" is 0 and no part is cut.
 */
size_t ks_memory_breakdown(const struct ks_memory *m, struct ks_ram_part *ret);
/* The crash's time, "2026-12-02 19:04:05 UTC", or "" when the dump does not date it. */
void ks_facts_crash_time(const struct ks_dump_facts *f, char *buf, size_t size);
/* A load average as /proc/loadavg prints it ("4.43"), rounded as the kernel rounds. */
void ks_facts_loadavg(const struct ks_dump_facts *f, int which, char *buf, size_t size);
/* "given", "candidate", "debug_path", "debuginfod"; "build_id", "banner", "forced" */
const char *ks_vmlinux_origin_name(enum ks_vmlinux_origin o);
const char *ks_vmlinux_check_name(enum ks_vmlinux_check c);
/* In words: "given; its build-id is the dump's" */
void ks_facts_vmlinux_match(const struct ks_dump_facts *f, char *buf, size_t size);
/* A file's label: its path, else "inode N on FSTYPE"; "inode 0xADDR" when it was not named. */
void ks_file_label(const struct ks_file_ref *f, char *buf, size_t size);
const char *ks_event_kind_name(enum ks_event_kind kind);

/* Free everything the model holds (a zeroed model is fine). */
void ks_analysis_deinit(struct ks_analysis *a);

/* Index of the task at a task_struct address, or -1 (idle tasks have none). */
long ks_model_task_index(const struct ks_analysis *a, uint64_t address);
/* A task worth showing: allocating, waiting on a lock, or in D (not an idle task). */
bool ks_task_stalled(const struct ks_analysis *a, size_t i);
/* context_switch, __schedule or schedule: where every sleeper is, so not what tells two tasks apart. */
bool ks_frame_is_scheduler(const char *function);
/* For the panic task, the first frame of its own work: below the interrupt entry. */
size_t ks_model_first_frame(const struct ks_task *t, const struct ks_stack *s);

#endif
