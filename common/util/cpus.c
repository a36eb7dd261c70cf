/* cpus.c — the CPUs this process may use (cpus.h). */
#include <sched.h>
#include <unistd.h>

#include "cpus.h"

unsigned sl_cpus_usable(void)
{
	cpu_set_t set;
	long n;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN); /* more than CPU_SETSIZE CPUs, or no affinity */
	return n > 0 ? (unsigned)n : 1;
}
