/* The <stress> step's pieces that need no guest: how long the harness
 * waits for it, and what of the tool's output explains a failure. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

/* Beyond the load's own seconds: starting the tool, stopping its workers,
 * removing their files, its report.  For KVM; scaled under TCG. */
#define LG_STRESS_MARGIN_S 30

/* The step's deadline: the load's seconds as they are (the tool stops on its
 * own clock, emulated or not) plus the margin, already scaled. */
int64_t lg_stress_deadline_ms(int seconds, int64_t scaled_margin_ms);
/* The exit status says the tool never ran the load (missing, not
 * executable, options refused) rather than that the load failed. */
bool lg_stress_unavailable(int status);
/* The line of out that says why: the last one that reports an error or a
 * failure, else the last line ("" when there is none).  Points into out. */
const char *lg_stress_why(lg_buf *out);
