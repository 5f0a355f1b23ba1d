/*
 * Whether kstall may put work on a second thread: two CPUs or more, and not
 * KSTALL_THREADS=1 (the tests compare the answers of one thread and two).
 */
#ifndef KSTALL_THREADS_H
#define KSTALL_THREADS_H

#include <stdbool.h>

bool ks_threads_second(void);

#endif
