/* cpus.h — how many CPUs this process may run on.
 *
 * sl_cpus_usable: the CPUs in this thread's affinity mask (sched_getaffinity:
 * what taskset, cgroups' cpusets and systemd's CPUAffinity= leave), not the
 * CPUs the machine has; at least 1. Pools size themselves from it.
 */
#ifndef SL_CPUS_H
#define SL_CPUS_H

unsigned sl_cpus_usable(void);

#endif
