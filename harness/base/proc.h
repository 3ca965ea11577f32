/* Child processes with a deadline (qemu-img and friends). */
#pragma once
#include "buf.h"
#include "clock.h"

#include <stdbool.h>
#include <stdint.h>

/* Runs argv (PATH lookup) with stdin from /dev/null, stdout+stderr collected
 * into output (may be NULL).  Kills the child at the deadline.
 * Returns the exit status (>= 0), -ETIMEDOUT, or another negative errno;
 * a failure message is left in lg_error_msg(). */
int lg_proc_run(const char *const argv[], lg_deadline dl, lg_buf *output);

/* This machine's load: the 1-minute load average over the online CPUs
 * (/proc/loadavg); < 0 when it cannot be read. */
double lg_load_per_cpu(void);

/* A host's CPU time so far, summed over its CPUs, in one unit (jiffies
 * from /proc/stat, ns from libvirt); a field the source lacks is 0.
 * "system" includes irq and softirq; "steal" is time the host's own
 * hypervisor gave to others while this host (itself a VM) wanted it. */
typedef struct lg_cpu_times {
    uint64_t user, system, idle, iowait, steal;
} lg_cpu_times;

/* The aggregate "cpu " line of /proc/stat's text: user nice system idle
 * iowait irq softirq steal (later fields, guest time, are already in
 * user).  0, or -EINVAL when there is no such line or it is cut short
 * (at least user, nice, system and idle). */
int lg_cpu_times_parse(const char *proc_stat, lg_cpu_times *out);
/* This machine's, from /proc/stat: 0 or a negative errno. */
int lg_cpu_times_read(lg_cpu_times *out);

/* Where the CPUs' time went between two samples, as fractions of it. */
typedef struct lg_cpu_share {
    double busy;   /* neither idle nor waiting for I/O (steal counts: the CPU was not ours to idle on) */
    double steal;  /* taken by the host's hypervisor */
} lg_cpu_share;
/* 0, or -ENODATA when no time passed (or a counter went backwards: a
 * reboot in between). */
int lg_cpu_share_between(const lg_cpu_times *before, const lg_cpu_times *after, lg_cpu_share *out);

/* A remote host counts as saturated from this busy fraction: libvirt
 * gives no load average there, and a busy fraction cannot say how many
 * tasks wait beyond "none of the CPUs ever idles". */
#define LG_REMOTE_BUSY_SATURATED 0.95
/* The hold-back rule (README "Policy"): a host is saturated when
 * - the vCPUs of the guests labgate itself started there within the last
 *   minute, per CPU (started_per_cpu >= 0), counted against the CPU time
 *   the host really has (1 - steal; steal < 0: unknown), are above
 *   max_load: the load average has not seen them yet (it lags by about a
 *   minute), so a dozen guests started at once would all start; or
 * - its load average per CPU (load_per_cpu >= 0: a local host), counted
 *   the same way, is above max_load: load / (1 - steal) > max_load; or
 * - its CPUs were busy (busy >= 0: sampled) at least
 *   LG_REMOTE_BUSY_SATURATED of the time and no load average is known (a
 *   remote host).
 * max_load <= 0: never. */
bool lg_host_saturated(double load_per_cpu, double steal, double busy, double started_per_cpu, double max_load);
