/* Subcommands of the labgate command. */
#pragma once
#include <stdbool.h>

#include "model/kinds.h"
#include "model/matrix.h"
#include "model/shard.h"
#include "model/verdict.h"
#include "reports/compare.h"
#include "virt/conn.h"

int lg_cmd_validate(int argc, char **argv);
int lg_cmd_plan(int argc, char **argv);
int lg_cmd_run(int argc, char **argv);
int lg_cmd_triage(int argc, char **argv);
int lg_cmd_domxml(int argc, char **argv);
int lg_cmd_gc(int argc, char **argv);
int lg_cmd_repro(int argc, char **argv);
int lg_cmd_verify_release(int argc, char **argv);
int lg_cmd_compare(int argc, char **argv);
int lg_cmd_merge(int argc, char **argv);

/* A run's results directory read back (DIR/run.xml), for compare,
 * verify-release and repro: 0, or LG_EXIT_BAD_INPUT with the problems
 * printed to stderr under "labgate CMD". */
int lg_cli_load_run(const char *cmd, const char *dir, lg_run_record **out);
/* A matrix and its profiles loaded and checked: 0, or LG_EXIT_BAD_INPUT with
 * FILE:LINE problems printed to stderr (warnings are printed either way). */
int lg_cli_load_matrix(const char *path, lg_matrix **out);

/* What `run` does, for `run` and `repro`. */
typedef struct lg_cli_run_args {
    const char *matrix_path;
    const char *out_dir;    /* NULL: results/RUN_ID */
    int max_parallel;       /* 0: the hosts' slots */
    const char *accel_arg;  /* NULL: environment, then matrix */
    bool quiet;
    const char *only_job;   /* run just this job id */
    bool keep_failed;       /* leave a failed job's VM behind */
    const char *resume_dir; /* run only the jobs this run's journal has no result for */
    bool retry_infra;       /* and, resuming, those that ended INFRA_ERROR */
    lg_shard shard;         /* run only this shard's jobs; count 0: all (a resumed shard: its own) */
} lg_cli_run_args;

/* --shard I/N of run and plan: 0, or LG_EXIT_BAD_INPUT with the problem
 * printed under "labgate CMD". */
int lg_cli_parse_shard(const char *cmd, const char *arg, lg_shard *out);

/* The first job's result (repro runs one). */
typedef struct lg_cli_run_outcome {
    lg_verdict verdict;
    char *title;
    char *out_dir;
    char *kept_domain;      /* the VM left behind, or NULL */
    int kept_port;
    char *memory_dump;      /* path, or NULL */
    char *ssh_user, *ssh_key, *uri;
    lg_transport_kind transport;
} lg_cli_run_outcome;

/* Returns the gate's exit code. */
int lg_cli_run_matrix(const lg_cli_run_args *args, lg_cli_run_outcome *outcome);
void lg_cli_run_outcome_clear(lg_cli_run_outcome *outcome);
/* After the last lg_cli_run_matrix: stops libvirt's event thread and libssh2. */
void lg_cli_run_shutdown(void);

/* Logs virt/'s notices (lg_virt_set_notice_fn) under "virt": probes and
 * progress at info level, fallbacks and overrun deadlines as warnings, the
 * event loop's end as an error. */
void lg_cli_virt_notice(lg_virt_notice notice, const char *message);
