/*
 * Every kernel layout kstall reads: struct members, type sizes, enumerators,
 * array lengths and where each global vmstat counter lives. Each is declared once here, with
 * the name (or '|'-separated alternatives, first match wins) the kernel's
 * DWARF gives it, and resolved by the kernel object once; nothing above the
 * kernel layer asks DWARF. Members are resolved at open, the rest at their
 * first use, not at open: a name the vmlinux
 * lacks costs a pass over all of its DWARF on a run with no kept answers, and
 * most of these are optional (node_data exists only with NUMA,
 * vmscan_throttle_state from 5.16, page_wait_table before 5.16).
 */
#ifndef KSTALL_LAYOUT_H
#define KSTALL_LAYOUT_H

/*
 * Struct members: X(id, struct, member names). Resolved all at once when the
 * kernel is opened (a few are required: the walk cannot go without them);
 * alternatives such as "__state|state" are picked by which member exists.
 */
#define KS_FIELDS(X) \
	X(TASK_TASKS, "task_struct", "tasks") \
	X(TASK_PID, "task_struct", "pid") \
	X(TASK_TGID, "task_struct", "tgid") \
	X(TASK_COMM, "task_struct", "comm") \
	X(TASK_STATE, "task_struct", "__state|state") /* __state (5.14+) or state */ \
	X(TASK_EXIT_STATE, "task_struct", "exit_state") \
	X(TASK_FLAGS, "task_struct", "flags") \
	X(TASK_ON_CPU, "task_struct", "on_cpu") \
	X(TASK_CPU, "task_struct", "thread_info.cpu|cpu") /* thread_info.cpu or cpu */ \
	X(TASK_REAL_PARENT, "task_struct", "real_parent") \
	X(TASK_SIGNAL, "task_struct", "signal") \
	X(TASK_STACK, "task_struct", "stack") \
	X(TASK_THREAD_SP, "task_struct", "thread.sp") \
	X(TASK_THREAD_NODE, "task_struct", "thread_node") /* on signal->thread_head */ \
	X(TASK_THREAD_GROUP, "task_struct", "thread_group") /* older list, gone in 6.7 */ \
	X(SIGNAL_THREAD_HEAD, "signal_struct", "thread_head") \
	X(RQ_CURR, "rq", "curr") \
	X(RQ_IDLE, "rq", "idle") \
	X(RQ_CLOCK, "rq", "clock") \
	X(ITF_BP, "inactive_task_frame", "bp") /* struct inactive_task_frame */ \
	X(ITF_RET_ADDR, "inactive_task_frame", "ret_addr") \
	X(ITF_BX, "inactive_task_frame", "bx") \
	X(ITF_R12, "inactive_task_frame", "r12") \
	X(ITF_R13, "inactive_task_frame", "r13") \
	X(ITF_R14, "inactive_task_frame", "r14") \
	X(ITF_R15, "inactive_task_frame", "r15") \
	X(PRSTATUS_PID, "elf_prstatus", "common.pr_pid|pr_pid") /* struct elf_prstatus */ \
	X(PRSTATUS_REG, "elf_prstatus", "pr_reg") \
	/* what the stall analysis reads */ \
	X(TASK_DELAYS, "task_struct", "delays") \
	X(DELAYS_FREEPAGES_START, "task_delay_info", "freepages_start") \
	X(TASK_LAST_ARRIVAL, "task_struct", "sched_info.last_arrival") /* sched_info.last_arrival */ \
	X(TASK_LAST_SWITCH_TIME, "task_struct", "last_switch_time") /* hung-task detector, 5.x+ */ \
	/* the switch count khungtaskd last saw: last_switch_time is the task's own only when it is current */ \
	X(TASK_LAST_SWITCH_COUNT, "task_struct", "last_switch_count") \
	X(TASK_NVCSW, "task_struct", "nvcsw") \
	X(TASK_NIVCSW, "task_struct", "nivcsw") \
	X(TASK_START_TIME, "task_struct", "start_time") /* ns of the monotonic clock at fork */ \
	/* before 6.2: a thread's rss deltas not yet folded into its mm, read with the task (its page is in hand) */ \
	X(TASK_RSS_STAT_COUNT, "task_struct", "rss_stat.count") \
	X(TASK_MEMALLOC_VALID, "task_struct", "memalloc.valid|memalloc.in_flight") /* memalloc-watchdog patch */ \
	X(TASK_MEMALLOC_START, "task_struct", "memalloc.start") \
	X(TASK_MEMALLOC_GFP, "task_struct", "memalloc.gfp") \
	X(TASK_MEMALLOC_ORDER, "task_struct", "memalloc.order") \
	X(SIGNAL_OOM_MM, "signal_struct", "oom_mm") \
	X(SIGNAL_OOM_SCORE_ADJ, "signal_struct", "oom_score_adj") \
	X(MUTEX_OWNER, "mutex", "owner") \
	X(MUTEX_WAIT_LIST, "mutex", "wait_list") \
	X(MUTEX_WAITER_TASK, "mutex_waiter", "task") \
	X(MUTEX_WAITER_LIST, "mutex_waiter", "list") \
	X(RWSEM_OWNER, "rw_semaphore", "owner") \
	X(RWSEM_WAIT_LIST, "rw_semaphore", "wait_list") \
	X(RWSEM_WAITER_TASK, "rwsem_waiter", "task") \
	X(RWSEM_WAITER_LIST, "rwsem_waiter", "list") \
	X(SEM_COUNT, "semaphore", "count") \
	X(SEM_WAIT_LIST, "semaphore", "wait_list") \
	X(SEM_WAITER_TASK, "semaphore_waiter", "task") \
	X(SEM_WAITER_LIST, "semaphore_waiter", "list") \
	/* memory */ \
	X(PGDAT_NODE_ZONES, "pglist_data", "node_zones") \
	X(PGDAT_NODE_ID, "pglist_data", "node_id") \
	X(PGDAT_KSWAPD_FAILURES, "pglist_data", "kswapd_failures") \
	X(ZONE_WATERMARK, "zone", "_watermark|watermark") /* _watermark (5.0+) or watermark */ \
	X(ZONE_WATERMARK_BOOST, "zone", "watermark_boost") \
	X(ZONE_MANAGED, "zone", "managed_pages") \
	X(ZONE_NAME, "zone", "name") \
	X(ZONE_VM_STAT, "zone", "vm_stat") \
	/* OOM */ \
	X(TASK_MM, "task_struct", "mm") \
	X(MM_MMAP_LOCK, "mm_struct", "mmap_lock|mmap_sem") /* mmap_lock (5.8+) or mmap_sem */ \
	X(TASK_OOM_REAPER_LIST, "task_struct", "oom_reaper_list") \
	/* percpu rw-semaphores (5.x+: rss, read_count, writer, waiters, block) and wait queues */ \
	X(PCPU_RWSEM_READ_COUNT, "percpu_rw_semaphore", "read_count") \
	X(PCPU_RWSEM_WRITER, "percpu_rw_semaphore", "writer.task") /* writer.task: the writer waiting for readers to leave */ \
	X(PCPU_RWSEM_WAITERS, "percpu_rw_semaphore", "waiters.head") \
	X(PCPU_RWSEM_BLOCK, "percpu_rw_semaphore", "block") \
	X(WQ_ENTRY_PRIVATE, "wait_queue_entry", "private") \
	X(WQ_ENTRY_ENTRY, "wait_queue_entry", "entry") \
	X(WQ_HEAD_HEAD, "wait_queue_head", "head") \
	/* page and folio locks: waiters on the hashed folio_wait_table / page_wait_table */ \
	X(WPQ_FOLIO, "wait_page_queue", "folio|page") /* wait_page_queue.folio (5.16+) or .page */ \
	X(WPQ_BIT_NR, "wait_page_queue", "bit_nr") \
	X(WPQ_WAIT, "wait_page_queue", "wait") \
	X(PAGE_FLAGS, "page", "flags") \
	X(PAGE_MAPPING, "page", "mapping") \
	X(PAGE_INDEX, "page", "index") \
	X(FOLIO_INDEX, "folio", "index") /* 5.16+; 7.x's struct page has no index of its own */ \
	X(MAPPING_HOST, "address_space", "host") \
	/* naming files */ \
	X(INODE_RWSEM, "inode", "i_rwsem") \
	X(INODE_MAPPING, "inode", "i_mapping") \
	X(INODE_DATA_HOST, "inode", "i_data.host") /* i_data.host: an inode's own mapping points back at it */ \
	X(INODE_SB, "inode", "i_sb") \
	X(INODE_INO, "inode", "i_ino") \
	X(INODE_DENTRY, "inode", "i_dentry") \
	X(DENTRY_ALIAS, "dentry", "d_u.d_alias|d_alias") /* d_u.d_alias (3.19+) or d_alias */ \
	X(DENTRY_PARENT, "dentry", "d_parent") \
	X(DENTRY_NAME, "dentry", "d_name.name") \
	X(DENTRY_INODE, "dentry", "d_inode") \
	X(SB_TYPE, "super_block", "s_type") \
	X(SB_LIST, "super_block", "s_list") /* consumers: every superblock, on super_blocks */ \
	X(SB_INODES, "super_block", "s_inodes") /* its inodes, on inode.i_sb_list */ \
	X(INODE_SB_LIST, "inode", "i_sb_list") \
	X(MAPPING_NRPAGES, "address_space", "nrpages") /* pages in the page cache: a tmpfs file's memory */ \
	X(SB_MOUNTS, "super_block", "s_mounts") \
	X(FSTYPE_NAME, "file_system_type", "name") \
	X(MOUNT_PARENT, "mount", "mnt_parent") \
	X(MOUNT_MOUNTPOINT, "mount", "mnt_mountpoint") \
	X(MOUNT_ROOT, "mount", "mnt.mnt_root") \
	X(MOUNT_SB, "mount", "mnt.mnt_sb") \
	X(MOUNT_INSTANCE, "mount", "mnt_instance") \
	X(MOUNT_NEXT_FOR_SB, "mount", "mnt_next_for_sb") /* 7.x: s_mounts points at the first mount */ \
	X(MOUNT_NS, "mount", "mnt_ns") \
	/* hung-task blocker tracking: an encoded lock word (6.16+) or a mutex pointer (6.15) */ \
	X(TASK_BLOCKER, "task_struct", "blocker") \
	X(TASK_BLOCKER_MUTEX, "task_struct", "blocker_mutex") \
	/* 7.x: the waiters are a ring of their own, the lock points at the first (no list head) */ \
	X(MUTEX_FIRST_WAITER, "mutex", "first_waiter") \
	X(RWSEM_FIRST_WAITER, "rw_semaphore", "first_waiter") \
	X(SEM_FIRST_WAITER, "semaphore", "first_waiter") \
	X(SEM_LAST_HOLDER, "semaphore", "last_holder") /* 6.16+ with hung-task blocker tracking */ \
	/* rt_mutex waits (futex PI everywhere; on PREEMPT_RT every mutex and rwsem): the task's */ \
	/* own record of the waiter it queued, and where mutexes and rwsems keep their rt_mutex */ \
	X(TASK_PI_BLOCKED_ON, "task_struct", "pi_blocked_on") \
	X(TASK_CGROUPS, "task_struct", "cgroups") /* cgroups: its css_set, read with the task */ \
	X(RT_WAITER_TASK, "rt_mutex_waiter", "task") \
	X(RT_WAITER_LOCK, "rt_mutex_waiter", "lock") \
	X(RTMUTEX_OWNER, "rt_mutex_base", "owner") \
	X(MUTEX_RTMUTEX, "mutex", "rtmutex") /* PREEMPT_RT's struct mutex */ \
	X(RWSEM_RWBASE_RTMUTEX, "rw_semaphore", "rwbase.rtmutex") /* PREEMPT_RT's struct rw_semaphore */ \
	X(RWSEM_RWBASE_READERS, "rw_semaphore", "rwbase.readers")

enum ks_field {
#define X(id, ...) KS_F_##id,
	KS_FIELDS(X)
#undef X
	KS_F__COUNT
};

/*
 * Struct members asked for only by a pass that may not run, of types a kernel
 * may lack whole (CONFIG_PSI=n): X(id, struct, member names), resolved at
 * first use like the kinds below.
 */
#define KS_LATE_FIELDS(X)                                                           \
	X(PSI_GROUP_AVG, "psi_group", "avg")           /* pressure: the running averages */ \
	X(PSI_GROUP_TOTAL, "psi_group", "total")       /* pressure: total stall time, ns */ \
	X(PSI_GROUP_AVG_LAST_UPDATE, "psi_group", "avg_last_update") \
	X(PSI_GROUP_ENABLED, "psi_group", "enabled") /* 6.3+: cgroup.pressure 0 freezes a cgroup's */ \
	X(STATIC_KEY_ENABLED, "static_key", "enabled") /* pressure: psi_disabled */ \
	X(CLOCKSOURCE_MULT, "clocksource", "mult")     /* clocks: HZ from clocksource_jiffies */ \
	X(CLOCKSOURCE_SHIFT, "clocksource", "shift") \
	X(TAINT_FLAG_C_TRUE, "taint_flag", "c_true")   /* facts: the taint's letter */ \
	X(UTS_NODENAME, "uts_namespace", "name.nodename") /* facts: the host name */ \
	X(UTS_VERSION, "uts_namespace", "name.version") \
	X(MM_RSS_STAT, "mm_struct", "rss_stat")        /* consumers: percpu_counter[] (6.2+) or mm_rss_stat */ \
	X(MM_RSS_STAT_COUNT, "mm_struct", "rss_stat.count") /* before 6.2: atomic_long_t count[] */ \
	X(MM_PGTABLES_BYTES, "mm_struct", "pgtables_bytes") \
	X(PCPU_COUNTER_COUNT, "percpu_counter", "count") \
	X(PCPU_COUNTER_COUNTERS, "percpu_counter", "counters") \
	X(HSTATE_ORDER, "hstate", "order")             /* kmem: a hugetlb pool's page order */ \
	X(HSTATE_NR_HUGE_PAGES, "hstate", "nr_huge_pages") \
	X(HSTATE_FREE_HUGE_PAGES, "hstate", "free_huge_pages") \
	X(CGROUP_ROOT_CGRP, "cgroup_root", "cgrp")     /* cgroups: the v2 tree from cgrp_dfl_root */ \
	X(CGROUP_SELF, "cgroup", "self") \
	X(CGROUP_KN, "cgroup", "kn") \
	X(CGROUP_SUBSYS, "cgroup", "subsys") \
	X(CSS_CHILDREN, "cgroup_subsys_state", "children") \
	X(CSS_SIBLING, "cgroup_subsys_state", "sibling") \
	X(KERNFS_NAME, "kernfs_node", "name") \
	X(MEMCG_CSS, "mem_cgroup", "css") \
	X(MEMCG_USAGE, "mem_cgroup", "memory.usage") \
	X(MEMCG_MAX, "mem_cgroup", "memory.max") \
	X(MEMCG_HIGH, "mem_cgroup", "memory.high|high") /* memory.high: the page counter's (5.8+), the memcg's before */ \
	X(MEMCG_EVENTS, "mem_cgroup", "memory_events") \
	X(CSS_SET_DFL_CGRP, "css_set", "dfl_cgrp") \
	X(CGROUP_PSI, "cgroup", "psi") /* pressure of a cgroup: a pointer (6.1+) or embedded (5.x) */ \
	/* consumers: who holds a big tmpfs file open, through each process's file table */ \
	X(TASK_FILES, "task_struct", "files") \
	X(FILES_FDT, "files_struct", "fdt") \
	X(FDTABLE_MAX_FDS, "fdtable", "max_fds") \
	X(FDTABLE_FD, "fdtable", "fd") \
	X(FILE_F_INODE, "file", "f_inode") \
	/* slab: the caches on slab_caches, and the slab a head page of the memory map is */ \
	X(KMEM_CACHE_LIST, "kmem_cache", "list") \
	X(KMEM_CACHE_NAME, "kmem_cache", "name") \
	X(KMEM_CACHE_SIZE, "kmem_cache", "size") /* an object with its metadata: the stride */ \
	X(KMEM_CACHE_OBJECT_SIZE, "kmem_cache", "object_size") \
	X(KMEM_CACHE_OO, "kmem_cache", "oo") /* SLUB's alone: SLOB and SLAB have no per-page cache */ \
	X(SLAB_SLAB_CACHE, "slab", "slab_cache") /* struct slab (5.17+) overlays the head page */ \
	X(PAGE_SLAB_CACHE, "page", "slab_cache") /* before: struct page's own slab members */ \
	X(PAGE_PAGE_TYPE, "page", "page_type") /* 6.10+: slab is a page type, not a flag */

/* Type sizes: X(id, struct name). 0 when the DWARF lacks the type. */
#define KS_TYPE_SIZES(X)                                                               \
	X(ZONE, "zone")                               /* memory: the zones of a node */ \
	X(WAIT_QUEUE_HEAD, "wait_queue_head")         /* locks: folio wait table buckets */ \
	X(INACTIVE_TASK_FRAME, "inactive_task_frame") /* unwind: a sleeper's switch frame */ \
	X(TAINT_FLAG, "taint_flag")                   /* facts: the entries of taint_flags[] */ \
	X(PERCPU_COUNTER, "percpu_counter")           /* consumers: mm rss_stat[] (6.2+) */ \
	X(HSTATE, "hstate")                           /* kmem: the entries of hstates[] */ \
	X(PAGE, "page")                               /* slab: the memory map's stride */ \
	X(MEM_SECTION, "mem_section")                 /* slab: the sections of the memory map */

/* Enumerators: X(id, enum type, enumerator names). */
#define KS_ENUMERATORS(X)                                                                     \
	X(PG_LOCKED, "pageflags", "PG_locked")          /* locks: the page lock bit */         \
	X(ZONE_NR_FREE_PAGES, "zone_stat_item", "NR_FREE_PAGES") /* memory: a zone's free pages */ \
	X(WMARK_MIN, "zone_watermarks", "WMARK_MIN")    /* memory: the zone watermarks */      \
	X(WMARK_LOW, "zone_watermarks", "WMARK_LOW")                                           \
	X(WMARK_HIGH, "zone_watermarks", "WMARK_HIGH")                                         \
	X(NR_WMARK, "zone_watermarks", "NR_WMARK")                                             \
	X(VM_EVENT_OOM_KILL, "vm_event_item", "OOM_KILL") /* oom: the kernel's count of kills */ \
	/* alloc: why reclaim_throttle sleeps (5.16+) */                                      \
	X(THROTTLE_WRITEBACK, "vmscan_throttle_state", "VMSCAN_THROTTLE_WRITEBACK")            \
	X(THROTTLE_ISOLATED, "vmscan_throttle_state", "VMSCAN_THROTTLE_ISOLATED")              \
	X(THROTTLE_NOPROGRESS, "vmscan_throttle_state", "VMSCAN_THROTTLE_NOPROGRESS")          \
	X(THROTTLE_CONGESTED, "vmscan_throttle_state", "VMSCAN_THROTTLE_CONGESTED")            \
	/* pressure: the rows of psi_group's avg and total (CPU full from 5.13) */            \
	X(PSI_IO_SOME, "psi_states", "PSI_IO_SOME")                                            \
	X(PSI_IO_FULL, "psi_states", "PSI_IO_FULL")                                            \
	X(PSI_MEM_SOME, "psi_states", "PSI_MEM_SOME")                                          \
	X(PSI_MEM_FULL, "psi_states", "PSI_MEM_FULL")                                          \
	X(PSI_CPU_SOME, "psi_states", "PSI_CPU_SOME")                                          \
	X(PSI_CPU_FULL, "psi_states", "PSI_CPU_FULL")                                          \
	X(PSI_AVGS, "psi_aggregators", "PSI_AVGS") \
	/* consumers: the mm counters (an unnamed enum: "" finds them by name) */            \
	X(MM_FILEPAGES, "", "MM_FILEPAGES")                                                    \
	X(MM_ANONPAGES, "", "MM_ANONPAGES")                                                    \
	X(MM_SWAPENTS, "", "MM_SWAPENTS")                                                      \
	X(MM_SHMEMPAGES, "", "MM_SHMEMPAGES")                                                  \
	/* cgroups: the memory controller's slot, and the events memory.events counts */        \
	X(MEMORY_CGRP_ID, "cgroup_subsys_id", "memory_cgrp_id")                                \
	X(MEMCG_EV_MAX, "memcg_memory_event", "MEMCG_MAX")                                     \
	X(MEMCG_EV_HIGH, "memcg_memory_event", "MEMCG_HIGH")                                   \
	X(MEMCG_EV_OOM, "memcg_memory_event", "MEMCG_OOM")                                     \
	X(MEMCG_EV_OOM_KILL, "memcg_memory_event", "MEMCG_OOM_KILL") \
	/* slab: how a head page says it is a slab, by era: a page flag (to 6.9), a page type */ \
	/* bit under PAGE_TYPE_BASE (6.10, 6.11), the page type's top byte (6.12+) */ \
	X(PG_SLAB, "pageflags", "PG_slab") \
	X(PAGETYPE_PG_SLAB, "pagetype", "PG_slab") \
	X(PAGE_TYPE_BASE, "pagetype", "PAGE_TYPE_BASE") \
	X(PGTY_SLAB, "pagetype", "PGTY_slab")

/* Global arrays whose length the DWARF gives: X(id, variable names). */
#define KS_ARRAYS(X)                                                                        \
	X(NODE_DATA, "node_data")                           /* memory: the nodes, with NUMA */  \
	X(FOLIO_WAIT_TABLE, "folio_wait_table|page_wait_table") /* locks: hashed page waiters */ \
	X(TASK_STATE_ARRAY, "task_state_array")              /* tasks: state letters */ \
	X(TAINT_FLAGS, "taint_flags")                        /* facts: a letter per taint bit */

/*
 * Global vmstat counters (memory): X(id, item names). Items move between
 * vm_node_stat (node_stat_item) and vm_zone_stat (zone_stat_item) across
 * versions, and some were renamed: each is looked up in its enum only.
 */
#define KS_VMSTATS(X)                                                    \
	X(FREE_PAGES, "NR_FREE_PAGES")                                   \
	X(FILE_PAGES, "NR_FILE_PAGES")                                   \
	X(SHMEM, "NR_SHMEM")                                             \
	X(FILE_DIRTY, "NR_FILE_DIRTY")                                   \
	X(WRITEBACK, "NR_WRITEBACK")                                     \
	X(ANON, "NR_ANON_MAPPED|NR_ANON_PAGES")                          \
	X(ACTIVE_ANON, "NR_ACTIVE_ANON")                                 \
	X(INACTIVE_ANON, "NR_INACTIVE_ANON")                             \
	X(ACTIVE_FILE, "NR_ACTIVE_FILE")                                 \
	X(INACTIVE_FILE, "NR_INACTIVE_FILE")                             \
	X(UNEVICTABLE, "NR_UNEVICTABLE")                                 \
	X(MLOCK, "NR_MLOCK")                                             \
	X(SLAB_RECLAIMABLE, "NR_SLAB_RECLAIMABLE_B|NR_SLAB_RECLAIMABLE") \
	X(SLAB_UNRECLAIMABLE, "NR_SLAB_UNRECLAIMABLE_B|NR_SLAB_UNRECLAIMABLE") \
	X(KERNEL_STACK_KB, "NR_KERNEL_STACK_KB")                         \
	X(PAGETABLE, "NR_PAGETABLE")                                     \
	X(ISOLATED_ANON, "NR_ISOLATED_ANON")                             \
	X(ISOLATED_FILE, "NR_ISOLATED_FILE")                             \
	X(VMALLOC, "NR_VMALLOC") /* kmem: 7.x counts vmalloc pages here, not in nr_vmalloc_pages */

enum ks_late_field {
#define X(id, ...) KS_LF_##id,
	KS_LATE_FIELDS(X)
#undef X
	KS_LF__COUNT
};
enum ks_type_size {
#define X(id, ...) KS_SIZE_##id,
	KS_TYPE_SIZES(X)
#undef X
	KS_SIZE__COUNT
};
enum ks_enumerator {
#define X(id, ...) KS_E_##id,
	KS_ENUMERATORS(X)
#undef X
	KS_E__COUNT
};
enum ks_array {
#define X(id, ...) KS_A_##id,
	KS_ARRAYS(X)
#undef X
	KS_A__COUNT
};
enum ks_vmstat {
#define X(id, ...) KS_VM_##id,
	KS_VMSTATS(X)
#undef X
	KS_VM__COUNT
};

#endif
