/* Naming the file behind a lock: an inode's i_rwsem, a page-cache folio (for the lock pass). */
#ifndef KSTALL_PASSES_FILES_H
#define KSTALL_PASSES_FILES_H

#include "kstall/model.h"

/* Naming the file behind a lock (files.c). */
/* The inode whose i_rwsem is at this address, checked against garbage. */
bool ks_inode_of_rwsem(struct ks_kernel *k, uint64_t rwsem, uint64_t *inode);
bool ks_file_of_inode(struct ks_kernel *k, uint64_t inode, struct ks_file_ref *ret);
/* The name of a superblock's filesystem type ("tmpfs"); false when unreadable. */
bool ks_fstype_of_sb(struct ks_kernel *k, uint64_t sb, char *buf, size_t size);
/* The file of a page-cache folio, with the page index; false for anonymous pages. */
bool ks_file_of_folio(struct ks_kernel *k, uint64_t folio, struct ks_file_ref *ret);


#endif
