/* File descriptor helpers the layers share. */
#ifndef KSTALL_IO_H
#define KSTALL_IO_H

#include <stdbool.h>
#include <stddef.h>

/* All of buf to fd, through short writes and EINTR; false on any other failure (errno says). */
bool ks_write_all(int fd, const void *buf, size_t len);

#endif
