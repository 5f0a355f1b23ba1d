// SPDX-License-Identifier: GPL-2.0
/*
 * kstall fixture scenarios. Builds a known stall state inside a test kernel
 * and prints what it built as "TRUTH {json}" lines on the console, so that the
 * host can write truth.json for the vmcore that kdump saves after SysRq-c.
 *
 * Every lock, role and stall start printed here is a fact of this kernel run;
 * kstall's tests compare their analysis of the dump against these lines.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/percpu-rwsem.h>
#include <linux/proc_fs.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/semaphore.h>
#include <linux/uaccess.h>
#include <linux/version.h>

/*
 * One source for every fixture kernel (5.10 to 7.x): where an API changed,
 * the guards below keep the older kernel's spelling.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#define pde_data(inode) PDE_DATA(inode)
#endif

/*
 * The page lock of io-locks: a folio's since 5.16, a page's before. Since 6.3
 * the filemap lookups return an ERR_PTR instead of NULL; both mean "none".
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
typedef struct folio io_page_t;

static inline io_page_t *io_page_find_lock(struct address_space *mapping, pgoff_t index)
{
	struct folio *folio = filemap_lock_folio(mapping, index);

	return IS_ERR(folio) ? NULL : folio;
}

static inline io_page_t *io_page_find(struct address_space *mapping, pgoff_t index)
{
	struct folio *folio = filemap_get_folio(mapping, index);

	return IS_ERR(folio) ? NULL : folio;
}

#define io_page_lock(p) folio_lock(p)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 16, 0)
typedef struct folio io_page_t;
#define io_page_find_lock(mapping, index) filemap_lock_folio(mapping, index)
#define io_page_find(mapping, index) filemap_get_folio(mapping, index)
#define io_page_lock(p) folio_lock(p)
#else
typedef struct page io_page_t;
#define io_page_find_lock(mapping, index) find_lock_page(mapping, index)
#define io_page_find(mapping, index) find_get_page(mapping, index)
#define io_page_lock(p) lock_page(p)
#endif

static char *scenario = "baseline";
module_param(scenario, charp, 0444);
MODULE_PARM_DESC(scenario, "baseline, abba, oom-deadlock, nofs-loop or io-locks");

/* Not static: the symbol names are what kstall should print for them. */
DEFINE_MUTEX(stall_mutex_a);
DEFINE_MUTEX(stall_mutex_b);
DEFINE_MUTEX(stall_mutex_m);
DECLARE_RWSEM(stall_rwsem);
struct semaphore stall_sem;
DEFINE_PERCPU_RWSEM(stall_pcpu_rwsem);

#define MAX_ROLES 32

/* One tracked participant; the reporter re-announces it when its stall moves. */
struct role {
	const char *name;
	struct task_struct *task;
	void *waits_on;
	void *holds[2];
	/* a lock held for read (a percpu_rw_semaphore's readers are not recorded) */
	void *reads;
	/* jiffies when the current wait or allocation began; 0 when none */
	unsigned long start;
	unsigned long reported;
};

static struct role roles[MAX_ROLES];
static int nr_roles;
static DEFINE_SPINLOCK(roles_lock);
static atomic_t victim_blocked = ATOMIC_INIT(0);
static atomic_t t1_has_a = ATOMIC_INIT(0);
static atomic_t t2_has_b = ATOMIC_INIT(0);

static struct role *role_add(const char *name, void *waits_on, void *h0, void *h1)
{
	struct role *r = NULL;

	spin_lock(&roles_lock);
	if (nr_roles < MAX_ROLES) {
		r = &roles[nr_roles++];
		r->name = name;
		r->task = current;
		r->waits_on = waits_on;
		r->holds[0] = h0;
		r->holds[1] = h1;
	}
	spin_unlock(&roles_lock);
	return r;
}

static void role_print(struct role *r)
{
	char waits[32] = "null", holds[64] = "", reads[48] = "";
	int i, n = 0;

	if (r->waits_on)
		snprintf(waits, sizeof(waits), "\"0x%lx\"", (unsigned long)r->waits_on);
	for (i = 0; i < 2; i++)
		if (r->holds[i])
			n += snprintf(holds + n, sizeof(holds) - n, "%s\"0x%lx\"", n ? "," : "",
				      (unsigned long)r->holds[i]);
	/* only roles that read-hold a lock say so: the other scenarios' lines stay as they were */
	if (r->reads)
		snprintf(reads, sizeof(reads), ",\"reads\":[\"0x%lx\"]", (unsigned long)r->reads);
	pr_notice("TRUTH {\"role\":\"%s\",\"pid\":%d,\"comm\":\"%s\",\"task\":\"0x%lx\",\"waits_on\":%s,\"holds\":[%s]%s,\"stall_start_jiffies\":%lu}\n",
		r->name, task_pid_nr(r->task), r->task->comm, (unsigned long)r->task, waits, holds,
		reads, r->start);
	r->reported = r->start;
}

/* Announce a lock wait that is about to begin, then let the caller block. */
static void role_block(const char *name, void *waits_on, void *h0, void *h1)
{
	struct role *r = role_add(name, waits_on, h0, h1);

	if (r) {
		r->start = jiffies;
		role_print(r);
	}
}

static void lock_truth(const char *name, const char *type, void *addr)
{
	pr_notice("TRUTH {\"lock\":\"%s\",\"type\":\"%s\",\"address\":\"0x%lx\"}\n", name, type,
		(unsigned long)addr);
}

static void sleep_forever(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		schedule();
	}
}

static int abba_t1(void *unused)
{
	mutex_lock(&stall_mutex_a);
	down_write(&stall_rwsem);
	atomic_set(&t1_has_a, 1);
	while (!atomic_read(&t2_has_b))
		msleep(20);
	role_block("cycle_a", &stall_mutex_b, &stall_mutex_a, &stall_rwsem);
	mutex_lock(&stall_mutex_b);
	sleep_forever();
	return 0;
}

static int abba_t2(void *unused)
{
	mutex_lock(&stall_mutex_b);
	down(&stall_sem);
	atomic_set(&t2_has_b, 1);
	while (!atomic_read(&t1_has_a))
		msleep(20);
	role_block("cycle_b", &stall_mutex_a, &stall_mutex_b, &stall_sem);
	mutex_lock(&stall_mutex_a);
	sleep_forever();
	return 0;
}

static int abba_waiter(void *unused)
{
	msleep(1500);
	role_block("mutex_waiter", &stall_mutex_a, NULL, NULL);
	mutex_lock(&stall_mutex_a);
	sleep_forever();
	return 0;
}

static int rwsem_reader(void *unused)
{
	msleep(1500);
	role_block("rwsem_reader", &stall_rwsem, NULL, NULL);
	down_read(&stall_rwsem);
	sleep_forever();
	return 0;
}

static int rwsem_writer(void *unused)
{
	msleep(2500);
	role_block("rwsem_writer", &stall_rwsem, NULL, NULL);
	down_write(&stall_rwsem);
	sleep_forever();
	return 0;
}

static int sem_waiter(void *unused)
{
	msleep(1500);
	role_block("sem_waiter", &stall_sem, NULL, NULL);
	down(&stall_sem);
	sleep_forever();
	return 0;
}

/*
 * Allocate order-0 pages with GFP_NOFS and keep them, forever. Once memory is
 * exhausted one allocation never returns: GFP_NOFS may not invoke the OOM
 * killer, so the allocator retries without end.
 */
static void alloc_forever(struct role *r)
{
	LIST_HEAD(kept);
	struct page *page;

	for (;;) {
		WRITE_ONCE(r->start, jiffies);
		page = alloc_page(GFP_NOFS | __GFP_NOWARN);
		WRITE_ONCE(r->start, 0);
		if (page)
			list_add(&page->lru, &kept);
		else
			msleep(10);
		cond_resched();
	}
}

static int oom_holder(void *unused)
{
	struct role *r;

	mutex_lock(&stall_mutex_m);
	while (!atomic_read(&victim_blocked))
		msleep(50);
	msleep(1000);
	r = role_add("holder", NULL, &stall_mutex_m, NULL);
	if (r)
		alloc_forever(r);
	sleep_forever();
	return 0;
}

static int nofs_worker(void *unused)
{
	struct role *r;

	/*
	 * Let user space settle first: once memory is gone, any allocation that
	 * may invoke the OOM killer finds nothing to kill and panics the box.
	 */
	msleep(5000);
	r = role_add("looper", NULL, NULL, NULL);

	if (r)
		alloc_forever(r);
	sleep_forever();
	return 0;
}

/* Re-announces every role whose allocation has been stuck for over a second. */
static int stall_reporter(void *unused)
{
	struct task_struct *g, *t;
	int i, n, last = -1;

	for (;;) {
		msleep_interruptible(500);
		for (i = 0; i < READ_ONCE(nr_roles); i++) {
			struct role *r = &roles[i];
			unsigned long start = READ_ONCE(r->start);

			if (start && start != r->reported && time_after(jiffies, start + HZ))
				role_print(r);
		}
		n = 0;
		rcu_read_lock();
		for_each_process_thread(g, t)
			n++;
		rcu_read_unlock();
		/* The idle tasks are not on the task list: one per online CPU. */
		n += num_online_cpus();
		if (n != last)
			pr_notice("TRUTH {\"tasks\":%d}\n", n);
		last = n;
	}
	return 0;
}

/* A write blocks the writer on the lock the file is named after. */
static ssize_t lock_write(struct file *file, const char __user *buf, size_t len, loff_t *pos)
{
	struct mutex *m = pde_data(file_inode(file));

	if (m == &stall_mutex_m) {
		role_block("victim", m, NULL, NULL);
		atomic_set(&victim_blocked, 1);
	} else {
		role_block("user_waiter", m, NULL, NULL);
	}
	mutex_lock(m);
	mutex_unlock(m);
	return len;
}

static const struct proc_ops lock_ops = {
	.proc_write = lock_write,
};

/*
 * io-locks: the locks of file I/O. A percpu_rw_semaphore whose writer has the
 * write side and waits for a reader that never leaves, with a reader and a
 * writer queued behind it; a page of a tmpfs file locked by one kthread while
 * another and a read() wait for it; the same file's inode lock held while a
 * kthread (shared) and a write() wait for it. init mounts the tmpfs at IO_DIR.
 */
#define IO_DIR "/kstall-io"
#define IO_FILE IO_DIR "/data"
#define IO_PAGE 1

static struct inode *io_inode;
static io_page_t *io_folio;
static DECLARE_COMPLETION(io_page_locked);
static DECLARE_COMPLETION(io_ready);

static void file_lock_truth(const char *what, const char *type, void *addr, long index)
{
	char idx[32] = "";

	if (index >= 0)
		snprintf(idx, sizeof(idx), ",\"index\":%ld", index);
	pr_notice("TRUTH {\"lock\":\"%s%s\",\"type\":\"%s\",\"address\":\"0x%lx\",\"file\":\"%s\"%s}\n",
		  what, IO_FILE, type, (unsigned long)addr, IO_FILE, idx);
}

static int pcpu_reader(void *unused)
{
	struct role *r;

	percpu_down_read(&stall_pcpu_rwsem);
	r = role_add("pcpu_reader", NULL, NULL, NULL);
	if (r) {
		r->reads = &stall_pcpu_rwsem;
		role_print(r);
	}
	sleep_forever();
	return 0;
}

static int pcpu_writer(void *unused)
{
	msleep(500);
	/* takes the write side (block), then waits for the reader to leave: forever */
	role_block("pcpu_writer", &stall_pcpu_rwsem, &stall_pcpu_rwsem, NULL);
	percpu_down_write(&stall_pcpu_rwsem);
	sleep_forever();
	return 0;
}

static int pcpu_read_waiter(void *unused)
{
	msleep(1500);
	role_block("pcpu_read_waiter", &stall_pcpu_rwsem, NULL, NULL);
	percpu_down_read(&stall_pcpu_rwsem);
	sleep_forever();
	return 0;
}

static int pcpu_write_waiter(void *unused)
{
	msleep(2000);
	role_block("pcpu_write_waiter", &stall_pcpu_rwsem, NULL, NULL);
	percpu_down_write(&stall_pcpu_rwsem);
	sleep_forever();
	return 0;
}

/* Creates the file, three pages long, and keeps page IO_PAGE locked. */
static int page_holder(void *unused)
{
	static char buf[3 * PAGE_SIZE];
	struct file *f;
	io_page_t *folio;
	struct role *r;
	loff_t pos = 0;

	memset(buf, 'k', sizeof(buf));
	f = filp_open(IO_FILE, O_RDWR | O_CREAT | O_LARGEFILE, 0644);
	if (IS_ERR(f)) {
		pr_err("kstall_scenario: cannot open %s: %ld\n", IO_FILE, PTR_ERR(f));
		sleep_forever();
	}
	if (kernel_write(f, buf, sizeof(buf), &pos) != sizeof(buf))
		pr_err("kstall_scenario: short write to %s\n", IO_FILE);
	folio = io_page_find_lock(f->f_mapping, IO_PAGE);
	if (!folio) {
		pr_err("kstall_scenario: page %d of %s not in the page cache\n", IO_PAGE, IO_FILE);
		sleep_forever();
	}
	io_inode = file_inode(f);
	io_folio = folio;
	file_lock_truth("page 1 of ", "folio", folio, IO_PAGE);
	r = role_add("page_holder", NULL, folio, NULL);
	if (r)
		role_print(r);
	complete_all(&io_page_locked);
	sleep_forever();
	return 0;
}

static int inode_holder(void *unused)
{
	struct role *r;

	wait_for_completion(&io_page_locked);
	inode_lock(io_inode);
	file_lock_truth("i_rwsem of ", "rwsem", &io_inode->i_rwsem, -1);
	r = role_add("inode_holder", NULL, &io_inode->i_rwsem, NULL);
	if (r)
		role_print(r);
	complete_all(&io_ready);
	sleep_forever();
	return 0;
}

static int page_waiter(void *unused)
{
	io_page_t *folio;

	wait_for_completion(&io_ready);
	msleep(1000);
	folio = io_page_find(io_inode->i_mapping, IO_PAGE);
	if (!folio) {
		pr_err("kstall_scenario: page %d of %s is gone\n", IO_PAGE, IO_FILE);
		sleep_forever();
	}
	role_block("page_waiter", folio, NULL, NULL);
	io_page_lock(folio);
	sleep_forever();
	return 0;
}

static int inode_reader(void *unused)
{
	wait_for_completion(&io_ready);
	msleep(1000);
	role_block("inode_reader", &io_inode->i_rwsem, NULL, NULL);
	inode_lock_shared(io_inode);
	sleep_forever();
	return 0;
}

/*
 * User space announces its blocking call here first: "reader" before a read()
 * of page IO_PAGE (it waits for the page lock), "writer" before a write() (it
 * waits for the inode lock).
 */
static ssize_t io_role_write(struct file *file, const char __user *ubuf, size_t len, loff_t *pos)
{
	char buf[16] = "";

	if (copy_from_user(buf, ubuf, min(len, sizeof(buf) - 1)))
		return -EFAULT;
	if (wait_for_completion_interruptible(&io_ready))
		return -EINTR;
	if (!strncmp(buf, "reader", 6))
		role_block("user_reader", io_folio, NULL, NULL);
	else if (!strncmp(buf, "writer", 6))
		role_block("user_writer", &io_inode->i_rwsem, NULL, NULL);
	else
		return -EINVAL;
	return len;
}

static const struct proc_ops io_role_ops = {
	.proc_write = io_role_write,
};

static void start(int (*fn)(void *), const char *name)
{
	struct task_struct *t = kthread_run(fn, NULL, "%s", name);

	if (IS_ERR(t))
		pr_err("kstall_scenario: cannot start %s\n", name);
}

static int __init kstall_scenario_init(void)
{
	struct proc_dir_entry *dir;
	const char *cause = "none";
	int i;

	sema_init(&stall_sem, 1);
	dir = proc_mkdir("kstall", NULL);
	if (!dir)
		return -ENOMEM;
	proc_create_data("lock_a", 0200, dir, &lock_ops, &stall_mutex_a);
	proc_create_data("lock_m", 0200, dir, &lock_ops, &stall_mutex_m);

	if (!strcmp(scenario, "abba")) {
		cause = "lock_cycle";
		lock_truth("stall_mutex_a", "mutex", &stall_mutex_a);
		lock_truth("stall_mutex_b", "mutex", &stall_mutex_b);
		lock_truth("stall_rwsem", "rwsem", &stall_rwsem);
		lock_truth("stall_sem", "semaphore", &stall_sem);
		start(abba_t1, "abba_t1");
		start(abba_t2, "abba_t2");
		start(abba_waiter, "abba_waiter");
		start(rwsem_reader, "rwsem_reader");
		start(rwsem_writer, "rwsem_writer");
		/* A name with markup: reports must render it inert. */
		start(sem_waiter, "<b>x</b><img>");
	} else if (!strcmp(scenario, "oom-deadlock")) {
		cause = "oom_deadlock";
		lock_truth("stall_mutex_m", "mutex", &stall_mutex_m);
		start(oom_holder, "oom_holder");
	} else if (!strcmp(scenario, "nofs-loop")) {
		cause = "alloc_loop_no_oom";
		for (i = 0; i < 3; i++)
			start(nofs_worker, "nofs_worker");
	} else if (!strcmp(scenario, "io-locks")) {
		cause = "lock_chain_hang";
		proc_create("io_role", 0200, dir, &io_role_ops);
		lock_truth("stall_pcpu_rwsem", "percpu_rwsem", &stall_pcpu_rwsem);
		start(pcpu_reader, "pcpu_reader");
		start(pcpu_writer, "pcpu_writer");
		start(pcpu_read_waiter, "pcpu_rd_waiter");
		start(pcpu_write_waiter, "pcpu_wr_waiter");
		start(page_holder, "page_holder");
		start(inode_holder, "inode_holder");
		start(page_waiter, "page_waiter");
		start(inode_reader, "inode_reader");
	}
	start(stall_reporter, "stall_reporter");
	pr_notice("TRUTH {\"scenario\":\"%s\",\"root_cause\":\"%s\",\"hz\":%d}\n", scenario, cause,
		HZ);
	return 0;
}
module_init(kstall_scenario_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kstall fixture scenarios");
