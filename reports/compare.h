/* Reading a run back from its run.xml, and comparing two runs job by job:
 * what `labgate compare` and `labgate verify-release` stand on.  The
 * comparison works on plain data, so it is tested without files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/cleanup.h"
#include "model/diag.h"
#include "model/verdict.h"

typedef struct lg_run_job {
    char *id;          /* stable: derived from the matrix names (model/plan.h) */
    char *guest, *build, *content, *scenario;
    bool has_verdict;  /* false: the run recorded none (cut short) */
    lg_verdict verdict;
    char *title;       /* the evidence's title; NULL for PASS */
    int line;          /* in run.xml, 0 when built in memory */
} lg_run_job;

/* A build or content set of <inputs>. */
typedef struct lg_run_input {
    char *id;
    char *dir;
    char *sha256;      /* tree digest (base/sha256.h), NULL when the run could not compute it */
    char *error;       /* why not, or NULL */
    int line;
} lg_run_input;

typedef struct lg_run_record {
    char *path;        /* the run.xml read, or a name for messages */
    char *id;
    char *outcome;     /* clear | blocked | incomplete | error */
    char *matrix;      /* the matrix file the run used, or NULL */
    bool has_inputs;   /* written by a labgate that records digests */
    lg_run_job *jobs;       size_t n_jobs;
    lg_run_input *builds;   size_t n_builds;
    lg_run_input *contents; size_t n_contents;
    /* what `labgate merge` checks (all NULL / 0 when run.xml has none) */
    char *started, *finished, *accel, *host; /* the run's times, accelerator, machine */
    char *matrix_sha256;    /* <inputs><matrix sha256> */
    lg_run_input *images;   size_t n_images; /* id "GUEST/KIND" (disk, kernel, initrd) */
    int shard_index, shard_count;            /* <shard index count>; 0 when not a shard's run */
    size_t shard_plan_jobs;
    char *shard_plan_sha256;
    char **shard_job_ids;   size_t n_shard_job_ids;
    int shard_line;
    /* id -> first input of that id, made by lg_run_record_load (a record
     * put together by hand has none: lookups scan it then) */
    void *builds_by_id, *contents_by_id;
} lg_run_record;

/* Reads path.  -EINVAL with FILE:LINE problems in diags when it is not a
 * well-formed run.xml (no <run>, a job without id, an unknown verdict, a
 * job id twice); the errno when it cannot be read. */
int lg_run_record_load(const char *path, lg_run_record **out, lg_diags *diags);
void lg_run_record_free(lg_run_record *r);

/* A verdict that is a guest failure (blocks the release).  INFRA_ERROR and
 * no verdict at all are neither failure nor pass: the job has no result. */
bool lg_run_job_failed(const lg_run_job *job);
bool lg_run_job_has_result(const lg_run_job *job);
const lg_run_job *lg_run_record_job(const lg_run_record *r, const char *id);
const lg_run_input *lg_run_record_build(const lg_run_record *r, const char *id);
const lg_run_input *lg_run_record_content(const lg_run_record *r, const char *id);

typedef enum {
    LG_CHANGE_NEW_FAILURE,   /* PASS, absent or no result before; a failure now */
    LG_CHANGE_STILL_FAILING, /* a failure in both */
    LG_CHANGE_FIXED,         /* a failure before, PASS now */
    LG_CHANGE_INCOMPLETE,    /* no result (INFRA_ERROR / none) on either side, and not one of the above */
    LG_CHANGE_ONLY_OLD,
    LG_CHANGE_ONLY_NEW,      /* passing (a new job that fails is a new failure) */
    LG_CHANGE_SAME_PASS,
    LG_CHANGE_COUNT
} lg_change;

typedef struct lg_job_change {
    lg_change change;
    const lg_run_job *old_job; /* NULL when not in the old run */
    const lg_run_job *new_job; /* NULL when not in the new run */
    bool title_changed;        /* still failing, with another verdict or title */
} lg_job_change;

/* A build or content set of the same id whose tree digest differs. */
typedef struct lg_input_change {
    const char *kind; /* "build" | "content" */
    const lg_run_input *old_input, *new_input;
} lg_input_change;

typedef struct lg_comparison {
    lg_job_change *jobs;   /* new run's order, then jobs only in the old run in its order */
    size_t n_jobs;
    size_t count[LG_CHANGE_COUNT];
    lg_input_change *inputs;
    size_t n_inputs;
} lg_comparison;

/* The runs must outlive the comparison (it points into them).  Never NULL. */
lg_comparison *lg_compare_runs(const lg_run_record *old_run, const lg_run_record *new_run);
void lg_comparison_free(lg_comparison *c);
/* The report `labgate compare` prints. */
void lg_compare_print(const lg_comparison *c, const lg_run_record *old_run,
                      const lg_run_record *new_run, FILE *out);
/* 1 when there is a new failure, else 0. */
int lg_compare_exit_code(const lg_comparison *c);
const char *lg_change_name(lg_change change);

LG_DEFINE_AUTOPTR(lg_run_record, lg_run_record_free)
LG_DEFINE_AUTOPTR(lg_comparison, lg_comparison_free)
