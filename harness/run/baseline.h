/* Policy baseline="first" at run time (model/baseline.h says what the
 * baseline boot does): running it, marking the jobs of a profile whose
 * baseline failed, and the gate that makes every job of a profile wait
 * for its profile's baseline on its host. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>

#include "job.h"

/* A baseline boot as it ended. */
typedef struct lg_baseline {
    char *profile;          /* the profile's id */
    char *host;             /* the host's id */
    char *dir;              /* its results, relative to the run's directory */
    int planned_boots;      /* the boots it goes through when it passes */
    bool interrupted;       /* Ctrl-C came while it ran: no verdict on the image */
    lg_job_result result;   /* its artifact paths relative to the run's directory too */
} lg_baseline;

/* The baselines of a run, in the order they started. */
typedef struct lg_baselines {
    lg_baseline *items;
    size_t n;
} lg_baselines;

/* Boots profile on env's host (host: its index in env->matrix) as a job of
 * its own: the profile's baseline scenario (lg_baseline_scenario of plan),
 * no build, no content, the heartbeat and the monitor as in any job.  Its
 * files go to env->out_dir/DIR (lg_baseline_dir; an older one there is
 * replaced).  env->progress gets a job that is not in plan.  *out is
 * filled whatever happened. */
void lg_baseline_run(const lg_job_env *env, const lg_plan *plan, const lg_profile *profile, size_t host,
                     lg_baseline *out);
/* A job of a profile whose baseline did not pass: INFRA_ERROR "baseline
 * failed: VERDICT TITLE" (the failure table's BASELINE_FAILED), with the
 * baseline's evidence and artifacts; the job never ran (0 s, no boots).
 * res is cleared first. */
void lg_baseline_fail_job(const lg_baseline *b, lg_job_result *res);
void lg_baseline_clear(lg_baseline *b);
void lg_baselines_clear(lg_baselines *list);

/* The gate: one baseline per (profile, host), run by the first worker
 * whose job needs it while the others with jobs of that profile on that
 * host wait for it. */
typedef struct lg_baseline_gate lg_baseline_gate;
/* Runs the baseline of job's profile on host for a worker (caller: what
 * lg_baseline_gate_pass was given). */
typedef void (*lg_baseline_run_fn)(void *caller, const lg_job *job, size_t host, lg_baseline *out);
lg_baseline_gate *lg_baseline_gate_new(lg_baseline_run_fn run);
/* Before job runs on host: true when its profile's baseline there passed
 * (run now by this caller if nobody has, or waited for).  false: the job
 * must not run, and res says why (lg_baseline_fail_job; NOT_RUN when the
 * baseline was interrupted). */
bool lg_baseline_gate_pass(lg_baseline_gate *g, const lg_job *job, size_t host, void *caller,
                           atomic_bool *interrupted, lg_job_result *res);
/* A baseline of profile on host that ran already (the host check's
 * known-good boot): the gate takes it over and no worker runs it again. */
void lg_baseline_gate_put(lg_baseline_gate *g, const lg_profile *profile, size_t host, lg_baseline *b);
/* The baselines that ran are appended to out (may be NULL: dropped). */
void lg_baseline_gate_free(lg_baseline_gate *g, lg_baselines *out);
