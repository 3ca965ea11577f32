/* The plan: the cross product guests x builds x contents x scenarios, minus
 * excludes.  Job ids and seeds derive only from names, so they are stable
 * across runs and machines for the same matrix. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "matrix.h"

#define LG_JOB_ID_LEN 12

typedef struct lg_job {
    char id[LG_JOB_ID_LEN + 1];
    const lg_guest *guest;
    const lg_build *build;
    const lg_content *content;
    const lg_scenario *scenario;
    uint64_t seed;
} lg_job;

typedef struct lg_plan {
    const lg_matrix *matrix; /* borrowed */
    lg_job *jobs;
    size_t n_jobs;
    size_t n_excluded;
} lg_plan;

int lg_plan_expand(const lg_matrix *m, lg_plan **out);
void lg_plan_free(lg_plan *plan);
/* Index of the job with that id, or -1. */
long lg_plan_find(const lg_plan *plan, const char *job_id);
void lg_job_make_id(const char *guest, const char *build, const char *content,
                    const char *scenario, char out[LG_JOB_ID_LEN + 1]);

LG_DEFINE_AUTOPTR(lg_plan, lg_plan_free)
