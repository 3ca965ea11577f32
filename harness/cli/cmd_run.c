#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli.h"
#include "run/runlock.h"
#include "guest/ssh.h"
#include "model/plan.h"
#include "model/verdict.h"
#include "reports/report.h"
#include "run/sched.h"
#include "virt/conn.h"

static atomic_bool interrupted;

static void on_signal(int sig)
{
    (void)sig;
    if (!atomic_exchange(&interrupted, true)) {
        static const char msg[] = "\nlabgate: interrupted; stopping jobs and removing their domains and overlays...\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)ignored;
    }
}

static const char usage_text[] =
    "usage: labgate run MATRIX [--out DIR] [--jobs N] [--accel auto|kvm|tcg] [--quiet] [--verbose]\n"
    "\n"
    "Runs every job of MATRIX and writes DIR/run.xml, DIR/junit.xml, DIR/report.html\n"
    "and DIR/jobs/JOB_ID/console.log.  Prints progress on stderr and a summary on stdout.\n"
    "\n"
    "  --out DIR        results directory (default: results/RUN_ID)\n"
    "  --jobs N         at most N jobs at once (default: the hosts' slots; a host\n"
    "                   without slots= takes as many guests as its CPUs and free\n"
    "                   memory carry, the largest guest of the matrix the measure)\n"
    "  --accel MODE     auto (prove KVM works, else TCG), kvm or tcg; overrides\n"
    "                   LABGATE_ACCEL and the matrix policy\n"
    "  --quiet          no progress lines\n"
    "  --verbose        more detail on stderr\n"
    "\n"
    "exit: 0 release may ship (all PASS), 1 release blocked, 2 bad input,\n"
    "      3 run incomplete (INFRA_ERROR, no blocking verdict)\n";

int lg_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' },
        { "jobs", required_argument, NULL, 'j' },
        { "accel", required_argument, NULL, 'a' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out_dir = NULL, *accel_arg = NULL;
    int max_parallel = 0;
    bool quiet = false, verbose = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:a:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1024) {
                fprintf(stderr, "labgate run: --jobs wants a number from 1 to 1024, not '%s'\n", optarg);
                return LG_EXIT_BAD_INPUT;
            }
            max_parallel = (int)n;
            break;
        }
        case 'a': accel_arg = optarg; break;
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc - 1) {
        fputs(usage_text, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    lg_log_init(verbose, quiet);
    lg_cli_run_args args = {
        .matrix_path = argv[optind], .out_dir = out_dir, .max_parallel = max_parallel,
        .accel_arg = accel_arg, .quiet = quiet,
    };
    int rc = lg_cli_run_matrix(&args, NULL);
    lg_cli_run_shutdown();
    return rc;
}

void lg_cli_virt_notice(lg_virt_notice notice, const char *message)
{
    lg_log_level level = LG_LOG_WARN;
    switch (notice) {
    case LG_VIRT_NOTICE_KVM_PROBE:
        level = LG_LOG_INFO;
        break;
    case LG_VIRT_NOTICE_KVM_BROKEN:
    case LG_VIRT_NOTICE_GUARD_FIRED:
    case LG_VIRT_NOTICE_UNGUARDED:
        level = LG_LOG_WARN;
        break;
    case LG_VIRT_NOTICE_LOOP_FAILED:
        level = LG_LOG_ERROR;
        break;
    }
    /* under virt/'s name, as a user filters it */
    lg_log(level, "virt", "%s", message);
}

void lg_cli_run_shutdown(void)
{
    lg_virt_shutdown();
    lg_ssh_global_exit();
}

void lg_cli_run_outcome_clear(lg_cli_run_outcome *o)
{
    free(o->title);
    free(o->out_dir);
    free(o->kept_domain);
    free(o->memory_dump);
    free(o->ssh_user);
    free(o->ssh_key);
    free(o->uri);
    memset(o, 0, sizeof(*o));
}

typedef struct inputs_digest {
    const lg_plan *plan;
    pthread_t thread;
    void *inputs;
} inputs_digest;

static void *digest_inputs(void *opaque)
{
    inputs_digest *d = opaque;
    d->inputs = lg_report_inputs_snapshot(d->plan);
    return NULL;
}

int lg_cli_run_matrix(const lg_cli_run_args *args, lg_cli_run_outcome *outcome)
{
    const char *matrix_path = args->matrix_path;
    const char *out_dir = args->out_dir;
    const char *accel_arg = args->accel_arg;
    int max_parallel = args->max_parallel;
    bool quiet = args->quiet;

    lg_diags diags = { 0 };
    LG_AUTO(lg_matrix) m = NULL;
    int rc = lg_matrix_load(matrix_path, &m, &diags);
    lg_diags_print(&diags, stderr);
    lg_diags_clear(&diags);
    if (rc < 0)
        return LG_EXIT_BAD_INPUT;

    lg_accel accel = m->policy.accel;
    const char *env_accel = getenv("LABGATE_ACCEL");
    if (env_accel && *env_accel && lg_accel_parse(env_accel, &accel) < 0) {
        fprintf(stderr, "labgate run: LABGATE_ACCEL must be auto, kvm or tcg, not '%s'\n", env_accel);
        return LG_EXIT_BAD_INPUT;
    }
    if (accel_arg && lg_accel_parse(accel_arg, &accel) < 0) {
        fprintf(stderr, "labgate run: --accel must be auto, kvm or tcg, not '%s'\n", accel_arg);
        return LG_EXIT_BAD_INPUT;
    }

    LG_AUTO(lg_plan) plan = lg_plan_expand(m);
    if (plan->n_jobs == 0) {
        fprintf(stderr, "%s: every job is excluded; nothing to run\n", matrix_path);
        return LG_EXIT_BAD_INPUT;
    }
    if (args->only_job) {
        /* one job of the plan, as it was: same names, so the same id and seed */
        long i = lg_plan_find(plan, args->only_job);
        if (i < 0) {
            fprintf(stderr, "%s: no job %s in this matrix (was it renamed or excluded?)\n", matrix_path,
                    args->only_job);
            return LG_EXIT_BAD_INPUT;
        }
        plan->jobs[0] = plan->jobs[i];
        plan->n_jobs = 1;
    }

    char run_id[64], started[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(run_id, sizeof(run_id), "%Y%m%d-%H%M%S", &tm);
    snprintf(run_id + strlen(run_id), sizeof(run_id) - strlen(run_id), "-%d", (int)getpid());
    /* repro runs several times in one process: a new id each time */
    static int runs_in_process;
    if (runs_in_process++)
        snprintf(run_id + strlen(run_id), sizeof(run_id) - strlen(run_id), "-%d", runs_in_process);
    lg_wall_iso8601(started, sizeof(started));
    LG_AUTOFREE char *default_out = lg_strdup_printf("results/%s", run_id);
    if (!out_dir)
        out_dir = default_out;
    if (lg_mkdir_p(out_dir, 0755) < 0) {
        fprintf(stderr, "labgate run: %s\n", lg_error_msg());
        return LG_EXIT_BAD_INPUT;
    }

    /* held while this run lives: `labgate gc` leaves its domains alone */
    int run_lock = lg_run_lock_take(run_id, out_dir);
    if (run_lock < 0) {
        fprintf(stderr, "labgate run: %s\n", lg_error_msg());
        return LG_EXIT_INCOMPLETE;
    }

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lg_virt_set_notice_fn(lg_cli_virt_notice);
    if (lg_ssh_global_init() < 0 || lg_virt_init() < 0) {
        fprintf(stderr, "labgate run: %s\n", lg_error_msg());
        lg_run_lock_release(run_id, run_lock);
        return LG_EXIT_INCOMPLETE;
    }

    lg_job_result *results = lg_calloc(plan->n_jobs, sizeof(*results));
    lg_sched_opts sopts = {
        .max_parallel = max_parallel, .accel = accel, .out_dir = out_dir, .run_id = run_id,
        .quiet = quiet, .interrupted = &interrupted, .keep_failed = args->keep_failed,
    };
    /* what the guests are given, as the first jobs start: a file changed
     * later in the run does not change what run.xml says was tested.
     * Digested beside the jobs, not before them: a big disk image takes
     * seconds to minutes to read, and no guest needs to wait for that. */
    inputs_digest digest = { .plan = plan };
    bool digesting = pthread_create(&digest.thread, NULL, digest_inputs, &digest) == 0;
    if (!digesting)
        digest.inputs = lg_report_inputs_snapshot(plan);
    const char *accel_used = "none";
    lg_sched_run(plan, &sopts, results, &accel_used);
    if (digesting)
        pthread_join(digest.thread, NULL);
    void *inputs = digest.inputs;

    lg_verdict *verdicts = lg_calloc(plan->n_jobs, sizeof(*verdicts));
    for (size_t i = 0; i < plan->n_jobs; i++)
        verdicts[i] = results[i].evidence.verdict;
    int exit_code = lg_gate_exit_code(verdicts, plan->n_jobs);
    free(verdicts);

    char finished[32];
    lg_wall_iso8601(finished, sizeof(finished));
    lg_run_report report = {
        .plan = plan, .results = results, .run_id = run_id, .started = started, .finished = finished,
        .accel = accel_used, .exit_code = exit_code, .inputs = inputs,
    };
    LG_AUTOFREE char *run_xml = lg_strdup_printf("%s/run.xml", out_dir);
    LG_AUTOFREE char *junit_xml = lg_strdup_printf("%s/junit.xml", out_dir);
    LG_AUTOFREE char *report_html = lg_strdup_printf("%s/report.html", out_dir);
    if (lg_report_write_runxml(&report, run_xml) < 0 || lg_report_write_junit(&report, junit_xml) < 0 ||
        lg_report_write_html(&report, out_dir, report_html) < 0) {
        fprintf(stderr, "labgate run: %s\n", lg_error_msg());
        exit_code = exit_code == LG_EXIT_BLOCKED ? exit_code : LG_EXIT_INCOMPLETE;
    }
    lg_report_print_summary(&report, stdout);
    printf("results: %s/run.xml, %s/junit.xml, %s/report.html\n", out_dir, out_dir, out_dir);

    if (outcome) {
        /* the first job's, for a caller that ran one (repro) */
        const lg_job_result *r0 = &results[0];
        const lg_profile *p = plan->jobs[0].guest->profile;
        *outcome = (lg_cli_run_outcome){
            .verdict = r0->evidence.verdict,
            .title = lg_strdup(r0->evidence.title),
            .out_dir = lg_strdup(out_dir),
            .kept_domain = lg_strdup(r0->kept_domain),
            .kept_port = r0->kept_port,
            .memory_dump = r0->memory_dump ? lg_strdup_printf("%s/%s", out_dir, r0->memory_dump) : NULL,
            .ssh_user = lg_strdup(p->ssh_user),
            .ssh_key = lg_strdup(p->ssh_key),
            .transport = p->transport,
            .uri = lg_strdup(plan->matrix->hosts[0].uri),
        };
    }
    lg_report_inputs_free(inputs);
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_clear(&results[i]);
    free(results);
    lg_run_lock_release(run_id, run_lock);
    return exit_code;
}
