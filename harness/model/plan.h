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

/* The matrix crossed into jobs, excludes dropped; never NULL. */
lg_plan *lg_plan_expand(const lg_matrix *m);
void lg_plan_free(lg_plan *plan);
/* Index of the job with that id, or -1. */
long lg_plan_find(const lg_plan *plan, const char *job_id);
/* When <apply-content cut-power-within-ms="W"/> (step step_index of the
 * job's scenario) cuts the power: ms after its content hook starts, in
 * [0, W), from the job's seed and the step's place alone (the same job of
 * the same matrix cuts at the same moment: repro).  0 when W <= 0. */
int lg_plan_cut_ms(const lg_job *job, size_t step_index, int within_ms);
/* A job's rough length in seconds, for ordering only (never a deadline):
 * each boot its scenario makes at LG_JOB_BOOT_COST_S, each stress step's
 * seconds, each other step at LG_JOB_STEP_COST_S.  Relative: under TCG
 * every term grows alike. */
#define LG_JOB_BOOT_COST_S 10
#define LG_JOB_STEP_COST_S 2
long lg_job_cost_s(const lg_job *job);
/* The plan's job indexes in the order to start them (n_jobs entries):
 * longest first, so that a long job started last does not leave every
 * other slot idle at the end of a run; equal costs keep the plan's order. */
size_t *lg_plan_start_order(const lg_plan *plan);
void lg_job_make_id(const char *guest, const char *build, const char *content,
                    const char *scenario, char out[LG_JOB_ID_LEN + 1]);

/* Host memory kept for the host itself, and each guest's cost beyond its
 * RAM (the QEMU process, TCG's translation cache). */
#define LG_HOST_RESERVE_MIB 1024
#define LG_GUEST_OVERHEAD_MIB 256
/* How many of the plan's guests a host can run at once: every guest vCPU
 * keeps a host CPU busy under TCG, and every guest needs its memory; the
 * largest guest of the matrix is the measure.  At least 1: a host too small
 * for one guest still runs jobs one by one rather than none. */
/* A host's explicit slots against what it can run (lg_plan_auto_slots):
 * more is an error in diags naming the host's line, or a warning when the
 * policy allows overcommit.  Returns -EINVAL on the error, else 0. */
int lg_plan_check_slots(const lg_matrix *m, const lg_host *host, int host_cpus, long long host_available_mib,
                        lg_diags *diags);
int lg_plan_auto_slots(const lg_matrix *m, int host_cpus, long long host_available_mib);

LG_DEFINE_AUTOPTR(lg_plan, lg_plan_free)
