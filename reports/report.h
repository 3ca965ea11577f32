/* Writers for the results of a run: run.xml (canonical), junit.xml, and the
 * terminal summary. */
#pragma once
#include <stdio.h>

#include "run/job.h"

typedef struct lg_run_report {
    const lg_plan *plan;
    const lg_job_result *results; /* plan->n_jobs */
    const char *run_id;
    const char *started;          /* ISO-8601 UTC */
    const char *finished;
    const char *accel;
    int exit_code;
} lg_run_report;

const char *lg_report_outcome(int exit_code);
int lg_report_write_runxml(const lg_run_report *r, const char *path);
int lg_report_write_junit(const lg_run_report *r, const char *path);
void lg_report_print_summary(const lg_run_report *r, FILE *out);
