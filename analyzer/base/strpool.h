/* One copy of each distinct string: 10k tasks have a few dozen activity texts between them. */
#ifndef KSTALL_STRPOOL_H
#define KSTALL_STRPOOL_H

struct ks_strpool;

struct ks_strpool *ks_strpool_create(void);
void ks_strpool_destroy(struct ks_strpool *p);
/* The pool's copy of s, valid until the pool is destroyed; NULL when memory is short. */
const char *ks_strpool_intern(struct ks_strpool *p, const char *s);

#endif
