/* Writers for the results of a run: run.xml (canonical), junit.xml,
 * report.html and the terminal summary. */
#pragma once
#include <stdio.h>

#include "base/sha256.h"
#include "run/job.h"
#include "run/sched.h"

/* A shard's run (labgate run --shard I/N): which shard, and the whole plan
 * it is a part of (what `labgate merge` checks the shards against). */
typedef struct lg_report_shard {
    int index, count;
    size_t plan_jobs;                        /* jobs of the whole, unsharded plan */
    char plan_sha256[LG_SHA256_HEX_LEN + 1]; /* lg_plan_digest of the whole plan */
} lg_report_shard;

/* One shard of a merged run: where its results came from. */
typedef struct lg_report_merged_shard {
    int index;
    const char *run_id;
    const char *dir;      /* the shard's results directory as given to merge */
    const char *host;     /* the machine that ran it (its run.xml's host) */
    size_t jobs;
} lg_report_merged_shard;

typedef struct lg_report_merge {
    int count;
    const lg_report_merged_shard *shards; /* count, by index */
    char plan_sha256[LG_SHA256_HEX_LEN + 1];
} lg_report_merge;

typedef struct lg_run_report {
    const lg_plan *plan;
    const lg_job_result *results; /* plan->n_jobs */
    const char *run_id;
    const char *started;          /* ISO-8601 UTC */
    const char *finished;
    const char *accel;
    int exit_code;
    /* <inputs> as digested before the first job started (what the guests
     * were given), from lg_report_inputs_snapshot; NULL: digest now */
    const void *inputs;
    /* per matrix host, how loaded it was as jobs started; or NULL */
    const lg_host_load *host_loads;
    /* policy baseline="first": the baseline boots that ran; or NULL */
    const lg_baselines *baselines;
    /* a shard's run, or NULL */
    const lg_report_shard *shard;
    /* a run merged from shards (labgate merge), or NULL */
    const lg_report_merge *merged;
} lg_run_report;

/* Digests the plan's inputs now; free with lg_report_inputs_free.  NULL
 * only when libxml2 cannot build the document (its own allocation). */
void *lg_report_inputs_snapshot(const lg_plan *plan);
void lg_report_inputs_free(void *snapshot);

const char *lg_report_outcome(int exit_code);
/* "shard 1 of 4 (3 of 11 jobs)" for a shard's run, "merged from 4 shards
 * (11 jobs)" for a merged one, else NULL.  A new string. */
char *lg_report_shard_line(const lg_run_report *r);
int lg_report_write_runxml(const lg_run_report *r, const char *path);
int lg_report_write_junit(const lg_run_report *r, const char *path);
/* The self-contained sign-off page.  Artifact paths in results are relative
 * to out_dir, where the screenshots to embed are read from; write path into
 * out_dir so the page's artifact links resolve. */
int lg_report_write_html(const lg_run_report *r, const char *out_dir, const char *path);
void lg_report_print_summary(const lg_run_report *r, FILE *out);
/* The failure-rate bound's claim for a job that passed every count="auto"
 * cycle under a policy with a bound: "0 failures in 29 boots: failure rate
 * < 0.1 at confidence 0.95" (boots when each cycle booted the guest, else
 * cycles).  NULL for any other job.  A new string. */
/* One line about a baseline boot for the summary and report.html:
 * "profile P on host H: PASS in 41.2 s (2 boots)" or "... CRASH TITLE"
 * (the title cleaned for a terminal).  A new string. */
char *lg_report_baseline_line(const lg_baseline *b);
/* How loaded a host was, in words: "load 1.20 per CPU at most as jobs
 * started (0.80 on average), CPUs busy 97 % at most (60 % on average),
 * steal 0.0 % at most (0.0 % on average)"; remote hosts have no load
 * average and no steal.  A new string. */
char *lg_report_host_load_text(const lg_host_load *l);
/* A host the run drained, in words: "drained at its check: WHY" or
 * "drained during the run after N job(s): WHY", and what the reconnect
 * after the run left on it; NULL for a host that was not drained. */
char *lg_report_host_drain_text(const lg_host_load *l);
char *lg_report_bound_claim(const lg_policy *policy, const lg_job *job, const lg_job_result *res);
