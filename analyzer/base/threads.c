#include "base/threads.h"

#include <unistd.h>

bool ks_threads_second(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2;
}
