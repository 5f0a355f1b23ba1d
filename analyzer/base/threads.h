/*
 * Whether a second thread can help: two CPUs or more. Whether kstall may use
 * one is the embedding program's choice (struct ks_settings, one_thread).
 */
#ifndef KSTALL_THREADS_H
#define KSTALL_THREADS_H

#include <stdbool.h>

bool ks_threads_second(void);

#endif
