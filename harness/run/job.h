/* Runs one job on one host: overlay, domain, steps, monitor, teardown.
 * Whatever happens (verdict, harness error, Ctrl-C) the domain is destroyed
 * and undefined, the overlay removed and the port released before return. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "model/evidence.h"
#include "model/plan.h"

typedef struct lg_job_env {
    const lg_matrix *matrix;
    lg_backend *backend;     /* the host's hypervisor and the guest, as the job sees them */
    const char *out_dir;     /* results/<run> */
    const char *run_id;
    bool kvm;
    atomic_bool *interrupted;
    bool keep_failed;        /* leave a failed job's VM for an engineer (repro --keep) */
    /* progress: called from the job's thread */
    void (*progress)(void *opaque, const lg_job *job, int boot, const char *what);
    void *progress_opaque;
    /* like progress, for a step that ends at until_ms (lg_now_ms): the
     * display counts down to it.  NULL: progress is called instead. */
    void (*progress_until)(void *opaque, const lg_job *job, int boot, const char *what, int64_t until_ms);
} lg_job_env;

/* An earlier attempt at a job, given up for a baseline failure: what it
 * ended with and where its evidence went. */
typedef struct lg_attempt {
    lg_verdict verdict;
    char *title;
    char *dir;             /* relative to out_dir */
    char *host;            /* the matrix host it ran on, or NULL */
} lg_attempt;

typedef struct lg_job_result {
    lg_evidence evidence;
    double duration_s;
    int boots;             /* boots the guest announced */
    int ready_boots;       /* boots that reached ready (the first, and each a step made) */
    int cycles;            /* cycles of the scenario's repeats finished */
    int bound_cycles;      /* of those, count="auto" ones: the failure-rate bound's trials */
    int bound_boots;       /* boots that reached ready during them */
    char *step;            /* step running when the verdict came, or NULL */
    int power_cut_ms;      /* a power cut's moment into its content hook, -1 none */
    char *console_log;     /* relative to out_dir */
    char *screenshot;      /* relative to out_dir, or NULL */
    char *memory_dump;     /* relative to out_dir, or NULL */
    char *qemu_log;        /* libvirt's QEMU log of the domain, relative to out_dir, or NULL */
    char *swtpm_log;       /* libvirt's swtpm log (guests with a TPM), or NULL */
    char **files;          /* fetched from the guest, relative to out_dir */
    size_t n_files;
    /* keep_failed: the VM left behind, or NULL */
    char *kept_domain;
    char *kept_overlay;
    int kept_port;         /* ssh forward on 127.0.0.1 */
    /* earlier attempts (baseline failures run again), oldest first */
    lg_attempt *attempts;
    size_t n_attempts;
    char *host;            /* the matrix host (its id) the job ran on; NULL: never ran */
} lg_job_result;

/* A job's artifacts other than fetched files: run.xml's <artifact kind>,
 * the report's label, the path relative to out_dir. */
typedef struct lg_artifact {
    const char *kind, *label, *path;
} lg_artifact;
#define LG_JOB_ARTIFACT_KINDS 5
/* Those the job has, in report order; returns how many. */
size_t lg_job_artifacts(const lg_job_result *result, lg_artifact out[LG_JOB_ARTIFACT_KINDS]);

/* Runs the job: prepare -> launch -> steps -> collect evidence -> tear
 * down.  result is always complete afterwards (lg_job_result_clear frees it). */
void lg_job_run(const lg_job_env *env, const lg_job *job, lg_job_result *result);
/* A result with no verdict yet and every time unknown: what a job that
 * never ran starts from. */
void lg_job_result_init(lg_job_result *result);
/* A job that never ran (Ctrl-C, no host could take it): the failure
 * table's NOT_RUN, with why as its title. */
void lg_job_result_not_run(lg_job_result *result, const char *why);
void lg_job_result_clear(lg_job_result *result);
/* Records the matrix host (its id) the job ran on, and on each earlier
 * attempt that has none recorded yet (they ran where the job did). */
void lg_job_result_set_host(lg_job_result *result, const char *host_id);
/* A baseline failure is run again (policy baseline-retries): moves what
 * the attempt left in jobs/ID/ into jobs/ID/attempt-N/ (N = the attempt's
 * number, from 1), and returns its record with paths pointing there.
 * result is cleared for the next attempt; its earlier attempts are kept in
 * *earlier (appended).  0, or < 0 when the files could not be moved (the
 * job is then not run again). */
int lg_job_archive_attempt(const char *out_dir, const lg_job *job, lg_job_result *result, lg_attempt **earlier,
                           size_t *n_earlier);
