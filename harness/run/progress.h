/* What a run shows while it runs.  On a terminal: a live table of the
 * running jobs (step, boot number, elapsed), redrawn every second, with each
 * finished job's verdict printed above it as it comes.  Otherwise (CI logs):
 * one plain, timestamped line per event.  Thread-safe. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "job.h"

typedef struct lg_progress lg_progress;

/* live: redraw a table (stderr is a terminal); quiet: print nothing.  Never
 * NULL. */
lg_progress *lg_progress_new(const lg_plan *plan, FILE *out, bool live, bool quiet);
/* A job's step or state changed; boot is its current boot number (0 before
 * the first). */
void lg_progress_event(lg_progress *p, const lg_job *job, int boot, const char *what);
/* The same for a step that ends at until_ms (lg_now_ms): the table shows
 * "what N s left", counting down; a plain line says "what: N s". */
void lg_progress_event_until(lg_progress *p, const lg_job *job, int boot, const char *what, int64_t until_ms);
void lg_progress_done(lg_progress *p, const lg_job *job, const lg_job_result *res, size_t done);
/* Any other line (host slots, errors): above the table. */
void lg_progress_note(lg_progress *p, const char *line);
/* Stops the redraws and clears the table. Accepts NULL. */
void lg_progress_free(lg_progress *p);
