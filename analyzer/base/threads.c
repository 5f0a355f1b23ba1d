#include "base/threads.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool ks_threads_second(void)
{
	const char *threads = getenv("KSTALL_THREADS");

	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 && !(threads && !strcmp(threads, "1"));
}
