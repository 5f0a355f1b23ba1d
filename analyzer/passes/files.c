/*
 * Naming the file behind a lock: the inode of an i_rwsem or of a locked
 * folio's mapping, its dentry, and its path up through the mounts. Every
 * pointer comes from the dump and may be garbage: an inode counts only when
 * its own mapping points back at it, a dentry only when it points at the
 * inode, a mount only when it points at the superblock; every walk is bounded.
 */
#include <stdio.h>
#include <string.h>

#include "passes/files.h"

/* Deeper than any real path; a longer walk is a loop. */
#define MAX_PATH_STEPS 64
#define MAX_NAME 64

/* An inode whose embedded mapping names it as its host: true of every inode the kernel set up. */
static bool is_inode(struct ks_kernel *k, uint64_t inode)
{
	uint64_t host, sb;

	return inode && inode % 8 == 0 && ks_kernel_has(k, KS_F_INODE_DATA_HOST) &&
	       ks_try_read_u64(k, inode + ks_kernel_off(k, KS_F_INODE_DATA_HOST), &host) &&
	       host == inode && ks_try_read_field(k, inode, KS_F_INODE_SB, &sb) && sb;
}

bool ks_inode_of_rwsem(struct ks_kernel *k, uint64_t rwsem, uint64_t *inode)
{
	uint64_t i;

	if (!ks_kernel_has(k, KS_F_INODE_RWSEM) || rwsem < ks_kernel_off(k, KS_F_INODE_RWSEM))
		return false;
	i = rwsem - ks_kernel_off(k, KS_F_INODE_RWSEM);
	if (!is_inode(k, i))
		return false;
	*inode = i;
	return true;
}

/* The dentry's name; false when unreadable or empty. */
static bool dentry_name(struct ks_kernel *k, uint64_t dentry, char *buf, size_t size)
{
	uint64_t name;

	return ks_try_read_field(k, dentry, KS_F_DENTRY_NAME, &name) && name &&
	       ks_try_read_string(k, name, buf, size) && buf[0];
}

/* The first mount of the inode's superblock, checked; 0 when none. */
static uint64_t first_mount(struct ks_kernel *k, uint64_t sb)
{
	static const enum ks_field need[] = { KS_F_SB_MOUNTS, KS_F_MOUNT_INSTANCE, KS_F_MOUNT_SB };
	uint64_t head, next, m, msb;

	/* 7.x: s_mounts is a pointer to the first mount (the rest hang on mnt_next_for_sb) */
	if (ks_kernel_has(k, KS_F_SB_MOUNTS) && !ks_kernel_has(k, KS_F_MOUNT_INSTANCE) &&
	    ks_kernel_has(k, KS_F_MOUNT_NEXT_FOR_SB) && ks_kernel_has(k, KS_F_MOUNT_SB))
		return ks_try_read_field(k, sb, KS_F_SB_MOUNTS, &m) && m &&
		       ks_try_read_field(k, m, KS_F_MOUNT_SB, &msb) && msb == sb ? m : 0;
	if (!ks_kernel_has_all(k, need, sizeof(need) / sizeof(need[0])))
		return 0;
	head = sb + ks_kernel_off(k, KS_F_SB_MOUNTS);
	if (!ks_try_read_u64(k, head, &next) || next == head || !next)
		return 0;
	m = next - ks_kernel_off(k, KS_F_MOUNT_INSTANCE);
	return ks_try_read_field(k, m, KS_F_MOUNT_SB, &msb) && msb == sb ? m : 0;
}

/* A mount on no namespace, or on the kernel's internal one (an error pointer): not in any tree. */
static bool mount_attached(struct ks_kernel *k, uint64_t m)
{
	uint64_t ns;

	/* MNT_NS_INTERNAL is ERR_PTR(-EINVAL): error pointers are the last page of the address space. */
	return ks_try_read_field(k, m, KS_F_MOUNT_NS, &ns) && ns && ns < (uint64_t)-4095;
}

/*
 * The path from the dentry up to the root: through the mounts when mount is
 * known (crossing each mount at its root to its mountpoint), else to the
 * filesystem's root. Components are gathered innermost first, then joined.
 */
static bool walk_path(struct ks_kernel *k, uint64_t dentry, uint64_t mount, char *buf, size_t size,
		      bool *absolute)
{
	char names[MAX_PATH_STEPS][MAX_NAME];
	size_t n = 0, len = 0;
	uint64_t d = dentry, m = mount;
	bool done = false;

	for (size_t steps = 0; steps < MAX_PATH_STEPS && !done; steps++) {
		uint64_t root, parent;

		if (m && ks_try_read_field(k, m, KS_F_MOUNT_ROOT, &root) && d == root) {
			uint64_t pm, mp;

			if (!ks_try_read_field(k, m, KS_F_MOUNT_PARENT, &pm) || !pm)
				return false;
			if (pm == m) {
				done = true;
				break;
			}
			if (!ks_try_read_field(k, m, KS_F_MOUNT_MOUNTPOINT, &mp) || !mp)
				return false;
			d = mp;
			m = pm;
			continue;
		}
		if (!ks_try_read_field(k, d, KS_F_DENTRY_PARENT, &parent) || !parent)
			return false;
		if (parent == d) {
			/* the filesystem's root, not a mount's: the path is within the filesystem */
			m = 0;
			done = true;
			break;
		}
		if (n == MAX_PATH_STEPS || !dentry_name(k, d, names[n], MAX_NAME))
			return false;
		n++;
		d = parent;
	}
	if (!done)
		return false;
	*absolute = m && mount_attached(k, m);
	buf[0] = '\0';
	for (size_t i = n; i-- > 0 && len < size;)
		len += (size_t)snprintf(buf + len, size - len, "/%s", names[i]);
	if (!n)
		snprintf(buf, size, "/");
	return true;
}

bool ks_fstype_of_sb(struct ks_kernel *k, uint64_t sb, char *buf, size_t size)
{
	uint64_t type, name;

	return ks_try_read_field(k, sb, KS_F_SB_TYPE, &type) && type &&
	       ks_try_read_field(k, type, KS_F_FSTYPE_NAME, &name) && name && ks_try_read_string(k, name, buf, size);
}

bool ks_file_of_inode(struct ks_kernel *k, uint64_t inode, struct ks_file_ref *ret)
{
	static const enum ks_field need[] = { KS_F_INODE_DENTRY, KS_F_DENTRY_ALIAS, KS_F_DENTRY_INODE,
					      KS_F_DENTRY_PARENT, KS_F_DENTRY_NAME };
	struct ks_file_ref f = { .known = true, .inode = inode };
	uint64_t sb, first, dentry, din;

	if (!is_inode(k, inode))
		return false;
	ks_try_read_field(k, inode, KS_F_INODE_INO, &f.ino);
	if (ks_try_read_field(k, inode, KS_F_INODE_SB, &sb))
		ks_fstype_of_sb(k, sb, f.fstype, sizeof(f.fstype));
	/* The first alias; a hard-linked file has more, any one names it. */
	if (ks_kernel_has_all(k, need, sizeof(need) / sizeof(need[0])) &&
	    ks_try_read_u64(k, inode + ks_kernel_off(k, KS_F_INODE_DENTRY), &first) && first) {
		dentry = first - ks_kernel_off(k, KS_F_DENTRY_ALIAS);
		if (ks_try_read_field(k, dentry, KS_F_DENTRY_INODE, &din) && din == inode) {
			char rel[sizeof(f.path)];
			bool absolute = false;

			if (walk_path(k, dentry, first_mount(k, sb), f.path, sizeof(f.path), &absolute)) {
				f.path_absolute = absolute;
				if (!absolute) {
					snprintf(rel, sizeof(rel), "%s", f.path);
					/*
					 * A file with no place in any tree (the kernel's own tmpfs behind shared
					 * anonymous mappings, "dev/zero"; SysV segments): its dentry is its own
					 * parent, and its name is all there is.
					 */
					char own[MAX_NAME];

					if (!strcmp(rel, "/") && dentry_name(k, dentry, own, sizeof(own)) &&
					    strcmp(own, "/"))
						snprintf(rel, sizeof(rel), "%s", own);
					snprintf(f.path, sizeof(f.path), "%.31s:%.*s", f.fstype[0] ? f.fstype : "?",
						 (int)(sizeof(f.path) - 33), rel);
				}
			} else if (!dentry_name(k, dentry, f.path, sizeof(f.path))) {
				f.path[0] = '\0';
			}
		}
	}
	*ret = f;
	return true;
}

bool ks_file_of_folio(struct ks_kernel *k, uint64_t folio, struct ks_file_ref *ret)
{
	uint64_t mapping, host, back;

	/*
	 * The low bits of page->mapping mark anonymous and movable pages; an
	 * address_space is word-aligned, so any low bit set means no file.
	 */
	if (!ks_try_read_field(k, folio, KS_F_PAGE_MAPPING, &mapping) || !mapping || mapping % 8 ||
	    !ks_try_read_field(k, mapping, KS_F_MAPPING_HOST, &host) ||
	    !ks_try_read_field(k, host, KS_F_INODE_MAPPING, &back) || back != mapping ||
	    !ks_file_of_inode(k, host, ret))
		return false;
	ret->index_known = ks_try_read_field(k, folio, KS_F_FOLIO_INDEX, &ret->index) ||
			   ks_try_read_field(k, folio, KS_F_PAGE_INDEX, &ret->index);
	return true;
}
