/* Child processes with a deadline (qemu-img and friends). */
#pragma once
#include "buf.h"
#include "clock.h"

/* Runs argv (PATH lookup) with stdin from /dev/null, stdout+stderr collected
 * into output (may be NULL).  Kills the child at the deadline.
 * Returns the exit status (>= 0), -ETIMEDOUT, or another negative errno;
 * a failure message is left in lg_error_msg(). */
int lg_proc_run(const char *const argv[], lg_deadline dl, lg_buf *output);

/* This machine's load: the 1-minute load average over the online CPUs
 * (/proc/loadavg); < 0 when it cannot be read. */
double lg_load_per_cpu(void);
