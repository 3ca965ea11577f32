/* The journal of a run: what survives SIGKILL, an OOM kill or a power loss.
 *
 *   DIR/run-meta.xml             written when the run starts:
 *     <run-meta id="RUN_ID" matrix="/abs/matrix.xml" matrix-sha256="HEX"
 *               started="ISO-8601" jobs="N">
 *       <inputs>...</inputs>     what the guests are given (reports/inputs.h)
 *       <job id="JOB_ID"/>...    the plan, in order
 *     </run-meta>
 *   DIR/jobs/JOB_ID/result.xml   written the moment the job ends: the job's
 *                                <job> element of run.xml, as run.xml has it
 *
 * Every file is written durably (base/util.h lg_write_file_durable), so a
 * crash leaves a whole entry or none.  run.xml, junit.xml and report.html are
 * rebuilt from the journal at the end of a run and by `labgate run --resume`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "base/cleanup.h"
#include "model/diag.h"
#include "model/plan.h"
#include "model/shard.h"
#include "run/job.h"

typedef struct lg_run_meta {
    char *run_id;
    char *matrix;          /* the matrix file, absolute */
    char *matrix_sha256;
    char *started;         /* ISO-8601 UTC */
    char **job_ids;        /* the plan's, in order */
    size_t n_jobs;
    void *inputs;          /* <inputs> as lg_report_inputs_snapshot makes it, or NULL */
    lg_shard shard;        /* shard="I/N" of a sharded run; count 0 otherwise */
} lg_run_meta;

void lg_run_meta_free(lg_run_meta *meta);
LG_DEFINE_AUTOPTR(lg_run_meta, lg_run_meta_free)

/* Writes DIR/run-meta.xml for a run of plan (the shard's jobs, for a
 * sharded run, recorded as shard="I/N"); inputs and shard may be NULL. */
int lg_journal_write_meta(const char *dir, const char *run_id, const char *started, const lg_plan *plan,
                          const char *matrix_sha256, const void *inputs, const lg_shard *shard);
/* Reads DIR/run-meta.xml: -ENOENT when there is none, -EINVAL with the
 * problems in diags when it is not one labgate wrote. */
int lg_journal_read_meta(const char *dir, lg_run_meta **out, lg_diags *diags);

/* Why a resumed run cannot use plan (expanded from a matrix whose file has
 * digest matrix_sha256) with the journal meta describes: the matrix digest
 * changed, and/or job ids of either side that the other lacks.  NULL when
 * they match; else a new message. */
char *lg_journal_plan_mismatch(const lg_run_meta *meta, const lg_plan *plan, const char *matrix_sha256);

/* DIR/jobs/JOB_ID/result.xml (a new string). */
char *lg_journal_entry_path(const char *dir, const char *job_id);
/* Writes the job's entry durably, creating DIR/jobs/JOB_ID when needed. */
int lg_journal_write_job(const char *dir, const lg_job *job, const lg_job_result *res);
/* Reads the job's entry back into *res (lg_job_result_clear frees it):
 * every field run.xml holds.  -ENOENT when there is none; -EINVAL with the
 * problems in diags when it is not that job's entry (another id, an unknown
 * verdict or signal, an artifact path outside DIR).  *res untouched on
 * failure. */
int lg_journal_read_job(const char *dir, const lg_job *job, lg_job_result *res, lg_diags *diags);

/* Reads the <job> elements of the run.xml at path with the same reader:
 * each plan job found there into results[i] (found[i] set; clear it with
 * lg_job_result_clear).  -EINVAL with the problems in diags when an
 * element is unreadable, names a job not in plan or one already found
 * (found[] carries over between calls: one plan, several run.xml files);
 * the other jobs are still read.  The errno when path cannot be read.
 * inputs (optional): when *inputs is NULL, set to run.xml's <inputs> as
 * lg_report_inputs_snapshot makes it (lg_report_inputs_free frees it). */
int lg_journal_read_runxml_jobs(const char *path, const lg_plan *plan, lg_job_result *results, bool *found,
                                void **inputs, lg_diags *diags);

/* Which jobs a resumed run runs: those without a result in the journal
 * (has_result[i] false), and with retry_infra those whose result is
 * INFRA_ERROR.  Sets run[i] for each of the n jobs; returns how many run. */
size_t lg_journal_select_resume(const bool *has_result, const lg_verdict *verdicts, size_t n, bool retry_infra,
                                bool *run);
