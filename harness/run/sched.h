/* Runs a plan's jobs on the matrix's hosts, up to each host's slots (and
 * --jobs overall) at once.  A job that hangs or crashes never stalls the
 * others: each runs on its own worker with its own deadlines. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>

#include "baseline.h"
#include "hostcheck.h"
#include "job.h"

/* How the scheduler reaches its hosts.  lg_sched_run uses libvirt
 * (lg_host_checks_run, lg_backend_libvirt_new, lg_host_leftovers_remove)
 * unless its options give these; unit tests give fakes. */
typedef struct lg_sched_host_ops {
    /* Checks every host of plan's matrix: out has one entry per host. */
    void (*check)(void *opaque, const lg_plan *plan, lg_accel accel, lg_host_ready *out);
    /* The backend of a host that passed its check (freed with
     * lg_backend_free after the run). */
    lg_backend *(*backend)(void *opaque, size_t host, lg_host_ready *ready);
    /* After the run, for a host drained on a lost connection: its
     * leftovers removed (*removed: how many); NULL, or what is left. */
    char *(*leftovers)(void *opaque, size_t host, int *removed);
    void *opaque;
} lg_sched_host_ops;

/* How loaded a host was while the run started its jobs (local hosts: the
 * load average per CPU, sampled as each job was about to start; every
 * host: its CPU time, see below). */
typedef struct lg_host_load {
    bool watched;          /* a local host: its load was read */
    double max_per_cpu;
    double sum_per_cpu;
    size_t samples;
    double held_s;         /* new jobs waited this long for the load to drop */
    /* the images put into the host's storage pool for this run (uploaded
     * or reused), and the pool's directory on the host */
    lg_staged_image *images;
    size_t n_images;
    char *pool_target;
    /* CPU time between samples (the first at the run's start): steal
     * (local hosts, from /proc/stat; the host itself a VM) and the busy
     * fraction (every host; a remote one's only measure, from libvirt) */
    bool cpu_watched;
    bool remote;
    double max_steal, sum_steal;
    double max_busy, sum_busy;
    size_t cpu_samples;
    /* the host check at the start, and draining (run/hostcheck.h,
     * run/drain.h) */
    bool checked;          /* the run checked it: run.xml has its <host> */
    bool drained;
    bool drained_at_check; /* it failed its check: no job started there */
    char *drain_reason;
    int slots;             /* jobs at once it was given (0: none) */
    int jobs_ended;        /* tries that ended there (retried ones too) */
    /* a host drained on a lost connection, reconnected once after the
     * run: this run's domains and overlays removed there, and what could
     * not be (NULL: nothing) */
    int leftovers_removed;
    char *leftovers;
} lg_host_load;
/* Frees what the entries own (not the array). */
void lg_host_loads_clear(lg_host_load *loads, size_t n);

typedef struct lg_sched_opts {
    int max_parallel;        /* 0 = sum of host slots */
    lg_accel accel;          /* already merged from matrix, environment, CLI */
    const char *out_dir;
    const char *run_id;
    bool quiet;
    bool keep_failed;        /* leave failed jobs' VMs behind (repro --keep) */
    atomic_bool *interrupted;
    /* Called on the job's worker the moment a job that ran has ended, before
     * its progress line (the run's journal); not for jobs that never ran,
     * except those its profile's failed baseline kept from running (they
     * have a verdict: INFRA_ERROR "baseline failed"). */
    void (*job_done)(void *opaque, const lg_job *job, const lg_job_result *result);
    void *job_done_opaque;
    lg_host_load *host_loads; /* matrix->n_hosts entries, filled in; or NULL */
    /* how the hosts are reached: NULL for libvirt (unit tests give fakes) */
    const struct lg_sched_host_ops *host_ops;
    /* how long a host's closed libvirt connection is tried again before the
     * host counts as lost and is drained; 0: LG_CONN_RECONNECT_S */
    int reconnect_s;
    /* policy baseline="first": the baseline boots that ran, appended; or NULL */
    lg_baselines *baselines;
} lg_sched_opts;

/* Each host with explicit slots against what it can run (its CPUs and
 * available memory, asked of libvirt): problems into diags, naming the
 * host's line (lg_plan_check_slots).  A host that cannot be reached is a
 * warning: the run reports it.  -EINVAL when a host has too many slots. */
int lg_sched_check_hosts(const lg_matrix *m, lg_diags *diags); /* starts libvirt's event loop (lg_virt_init) */

/* results has plan->n_jobs entries.  *accel_used says what ran ("kvm"/"tcg"). */
void lg_sched_run(const lg_plan *plan, const lg_sched_opts *opts, lg_job_result *results,
                  const char **accel_used);
