#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clean.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/sha256.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli.h"
#include "run/runlock.h"
#include "guest/ssh.h"
#include "model/plan.h"
#include "model/shard.h"
#include "model/verdict.h"
#include "reports/journal.h"
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
    "       labgate run MATRIX --resume DIR [--retry-infra] [--jobs N] [--accel ...] [--quiet] [--verbose]\n"
    "       labgate run MATRIX --shard I/N [--out DIR] ...     (CI: one of N machines; then labgate merge)\n"
    "\n"
    "Runs every job of MATRIX and writes DIR/run.xml, DIR/junit.xml, DIR/report.html\n"
    "and DIR/jobs/JOB_ID/console.log.  Prints progress on stderr and a summary on stdout.\n"
    "Each job's result is journaled in DIR/jobs/JOB_ID/result.xml the moment it ends\n"
    "(the run itself in DIR/run-meta.xml), so a run that is killed keeps every finished job.\n"
    "\n"
    "  --out DIR        results directory (default: results/RUN_ID)\n"
    "  --resume DIR     finish the run in DIR (killed, or interrupted): run only the\n"
    "                   jobs its journal has no result for, under the same run id,\n"
    "                   and rebuild the reports over the whole run.  Refused (exit 2)\n"
    "                   when MATRIX changed since the run started or its plan differs\n"
    "  --retry-infra    with --resume: also run again the jobs that ended INFRA_ERROR\n"
    "  --shard I/N      run only shard I of N (1-based) of the plan: a job's shard is a\n"
    "                   hash of its id mod N, so it never moves when other jobs come or\n"
    "                   go.  run.xml records the shard, its jobs and the digest of the\n"
    "                   whole plan; `labgate merge` joins the N results.  With --resume\n"
    "                   the run's own shard is resumed (giving another one is refused)\n"
    "  --jobs N         at most N jobs at once (default: the hosts' slots; a host\n"
    "                   without slots= takes as many guests as its CPUs and free\n"
    "                   memory carry, the largest guest of the matrix the measure)\n"
    "  --accel MODE     auto (prove KVM works, else TCG), kvm or tcg; overrides\n"
    "                   LABGATE_ACCEL and the matrix policy\n"
    "  --quiet          no progress lines\n"
    "  --verbose        more detail on stderr\n"
    "\n"
    "environment: LABGATE_ACCEL (as --accel), LABGATE_RECONNECT_S (how long a\n"
    "                   closed libvirt connection is opened again before its host\n"
    "                   is drained; default 60)\n"
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
        { "resume", required_argument, NULL, 'r' },
        { "retry-infra", no_argument, NULL, 'R' },
        { "shard", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out_dir = NULL, *accel_arg = NULL, *resume_dir = NULL;
    int max_parallel = 0;
    bool quiet = false, verbose = false, retry_infra = false;
    lg_shard shard = { 0 };
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
        case 'r': resume_dir = optarg; break;
        case 'R': retry_infra = true; break;
        case 's':
            if (lg_cli_parse_shard("run", optarg, &shard) != 0)
                return LG_EXIT_BAD_INPUT;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc - 1) {
        fputs(usage_text, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    if (resume_dir && out_dir) {
        fputs("labgate run: --resume DIR is where the results go: give --out or --resume, not both\n", stderr);
        return LG_EXIT_BAD_INPUT;
    }
    if (retry_infra && !resume_dir) {
        fputs("labgate run: --retry-infra goes with --resume DIR\n", stderr);
        return LG_EXIT_BAD_INPUT;
    }
    lg_log_init(verbose, quiet);
    lg_cli_run_args args = {
        .matrix_path = argv[optind], .out_dir = out_dir, .max_parallel = max_parallel,
        .accel_arg = accel_arg, .quiet = quiet, .resume_dir = resume_dir, .retry_infra = retry_infra,
        .shard = shard,
    };
    int rc = lg_cli_run_matrix(&args, NULL);
    lg_cli_run_shutdown();
    return rc;
}

int lg_cli_parse_shard(const char *cmd, const char *arg, lg_shard *out)
{
    if (lg_shard_parse(arg, out) < 0) {
        fprintf(stderr, "labgate %s: --shard %s\n", cmd, lg_error_msg());
        return LG_EXIT_BAD_INPUT;
    }
    return 0;
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

/* The run's journal: each job's result, durable the moment the job ends. */
static void journal_job(void *opaque, const lg_job *job, const lg_job_result *result)
{
    /* cut short by Ctrl-C: no result, so that --resume runs it again */
    if (atomic_load(&interrupted) && result->evidence.verdict == LG_VERDICT_INFRA_ERROR)
        return;
    if (lg_journal_write_job(opaque, job, result) < 0)
        lg_log(LG_LOG_ERROR, "run", "job %s: cannot journal its result: %s", job->id, lg_error_msg());
}

/* Reads the journal of a resumed run into results and marks the jobs to
 * run in to_run; returns how many.  An entry that cannot be read is no
 * result: the job runs again. */
static size_t load_journal(const char *out_dir, const lg_plan *plan, bool retry_infra, lg_job_result *results,
                           bool *to_run)
{
    bool *has_result = lg_calloc(plan->n_jobs, sizeof(*has_result));
    lg_verdict *verdicts = lg_calloc(plan->n_jobs, sizeof(*verdicts));
    for (size_t i = 0; i < plan->n_jobs; i++) {
        lg_diags diags = { 0 };
        int rc = lg_journal_read_job(out_dir, &plan->jobs[i], &results[i], &diags);
        if (rc == 0) {
            has_result[i] = true;
            verdicts[i] = results[i].evidence.verdict;
        } else if (rc != -ENOENT) {
            lg_diags_print(&diags, stderr);
            fprintf(stderr, "labgate run: job %s: its journal entry cannot be read; it runs again\n",
                    plan->jobs[i].id);
        }
        lg_diags_clear(&diags);
    }
    size_t n = lg_journal_select_resume(has_result, verdicts, plan->n_jobs, retry_infra, to_run);
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (to_run[i])
            lg_job_result_clear(&results[i]);
    free(has_result);
    free(verdicts);
    return n;
}

int lg_cli_run_matrix(const lg_cli_run_args *args, lg_cli_run_outcome *outcome)
{
    const char *matrix_path = args->matrix_path;
    const char *out_dir = args->out_dir;
    const char *accel_arg = args->accel_arg;
    int max_parallel = args->max_parallel;
    bool quiet = args->quiet;
    lg_shard shard = args->shard;

    LG_AUTO(lg_matrix) m = NULL;
    int rc = lg_cli_load_matrix(matrix_path, &m);
    if (rc != 0)
        return rc;

    lg_diags diags = { 0 };
    rc = lg_sched_check_hosts(m, &diags);
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
    /* how long a closed libvirt connection is tried again before its host
     * is drained (default LG_CONN_RECONNECT_S) */
    int reconnect_s = 0;
    const char *env_reconnect = getenv("LABGATE_RECONNECT_S");
    if (env_reconnect && *env_reconnect &&
        (lg_parse_int(env_reconnect, &reconnect_s) < 0 || reconnect_s < 1 || reconnect_s > 3600)) {
        fprintf(stderr, "labgate run: LABGATE_RECONNECT_S must be seconds from 1 to 3600, not '%s'\n",
                env_reconnect);
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

    char matrix_sha256[LG_SHA256_HEX_LEN + 1];
    if (lg_sha256_file(m->path, matrix_sha256) < 0) {
        fprintf(stderr, "labgate run: %s: %s\n", matrix_path, lg_error_msg());
        return LG_EXIT_BAD_INPUT;
    }
    LG_AUTO(lg_run_meta) meta = NULL;
    if (args->resume_dir) {
        out_dir = args->resume_dir;
        lg_diags meta_diags = { 0 };
        rc = lg_journal_read_meta(out_dir, &meta, &meta_diags);
        lg_diags_print(&meta_diags, stderr);
        lg_diags_clear(&meta_diags);
        if (rc == -ENOENT) {
            fprintf(stderr, "labgate run: %s/run-meta.xml: no such file: nothing to resume there\n", out_dir);
            return LG_EXIT_BAD_INPUT;
        }
        if (rc < 0)
            return LG_EXIT_BAD_INPUT;
        /* a shard goes on as the shard it was */
        if (!shard.count)
            shard = meta->shard;
        if (shard.count != meta->shard.count || shard.index != meta->shard.index) {
            if (meta->shard.count)
                fprintf(stderr, "labgate run: run %s is shard %d/%d: resume it as that shard, not %d/%d\n",
                        meta->run_id, meta->shard.index, meta->shard.count, shard.index, shard.count);
            else
                fprintf(stderr, "labgate run: run %s was not sharded: resume it without --shard\n", meta->run_id);
            return LG_EXIT_BAD_INPUT;
        }
    }

    /* the whole plan, before this shard is cut from it: its digest ties the
     * shards of one run together, and every shard digests the inputs of the
     * whole plan, so that merge can check they were given the same files */
    lg_report_shard shard_report = { .index = shard.index, .count = shard.count, .plan_jobs = plan->n_jobs };
    lg_plan_digest(plan, shard_report.plan_sha256);
    LG_AUTOFREE lg_job *whole_jobs = lg_calloc(plan->n_jobs, sizeof(*whole_jobs));
    memcpy(whole_jobs, plan->jobs, plan->n_jobs * sizeof(*whole_jobs));
    lg_plan whole = *plan;
    whole.jobs = whole_jobs;
    if (shard.count) {
        lg_plan_keep_shard(plan, shard);
        if (!quiet)
            fprintf(stderr, "labgate: shard %d of %d: %zu of the plan's %zu job(s)%s\n", shard.index, shard.count,
                    plan->n_jobs, whole.n_jobs, plan->n_jobs ? "" : "; nothing to run");
    }
    if (meta) {
        LG_AUTOFREE char *why = lg_journal_plan_mismatch(meta, plan, matrix_sha256);
        if (why) {
            /* why quotes run-meta.xml, a file in the results: for the terminal */
            LG_AUTOFREE char *shown = lg_clean_term(why);
            fprintf(stderr, "labgate run: cannot resume run %s with %s: %s\n", meta->run_id, matrix_path, shown);
            return LG_EXIT_BAD_INPUT;
        }
    }

    char new_run_id[64], new_started[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(new_run_id, sizeof(new_run_id), "%Y%m%d-%H%M%S", &tm);
    snprintf(new_run_id + strlen(new_run_id), sizeof(new_run_id) - strlen(new_run_id), "-%d", (int)getpid());
    /* repro runs several times in one process: a new id each time */
    static int runs_in_process;
    if (runs_in_process++)
        snprintf(new_run_id + strlen(new_run_id), sizeof(new_run_id) - strlen(new_run_id), "-%d",
                 runs_in_process);
    lg_wall_iso8601(new_started, sizeof(new_started));
    /* a resumed run goes on under its own id, from when it first started */
    const char *run_id = meta ? meta->run_id : new_run_id;
    const char *started = meta ? meta->started : new_started;
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
        if (meta && run_lock == -EEXIST)
            fprintf(stderr, "labgate run: the killed run's lock is still there: `labgate gc` cleans up after it\n");
        return LG_EXIT_INCOMPLETE;
    }

    /* what the guests are given, before any job starts: a file changed
     * during the run does not change what run.xml says was tested; a
     * resumed run reports what its first part was given */
    void *own_inputs = meta ? NULL : lg_report_inputs_snapshot(&whole);
    const void *inputs = meta ? meta->inputs : own_inputs;
    if (!meta && lg_journal_write_meta(out_dir, run_id, started, plan, matrix_sha256, inputs, &shard) < 0) {
        fprintf(stderr, "labgate run: %s\n", lg_error_msg());
        lg_report_inputs_free(own_inputs);
        lg_run_lock_release(run_id, run_lock);
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
        lg_report_inputs_free(own_inputs);
        lg_run_lock_release(run_id, run_lock);
        return LG_EXIT_INCOMPLETE;
    }

    lg_job_result *results = lg_calloc(plan->n_jobs, sizeof(*results));
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_init(&results[i]);
    bool *to_run = lg_calloc(plan->n_jobs, sizeof(*to_run));
    size_t n_to_run = meta ? load_journal(out_dir, plan, args->retry_infra, results, to_run) : plan->n_jobs;
    if (!meta)
        for (size_t i = 0; i < plan->n_jobs; i++)
            to_run[i] = true;
    if (meta && !quiet)
        fprintf(stderr, "labgate: resuming run %s: %zu of %zu job(s) to run\n", run_id, n_to_run, plan->n_jobs);

    /* the jobs to run, as a plan of their own; their results go back in place */
    lg_plan part = *plan;
    part.jobs = lg_calloc(n_to_run ? n_to_run : 1, sizeof(*part.jobs));
    part.n_jobs = 0;
    size_t *index = lg_calloc(n_to_run ? n_to_run : 1, sizeof(*index));
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (to_run[i]) {
            index[part.n_jobs] = i;
            part.jobs[part.n_jobs++] = plan->jobs[i];
        }
    lg_job_result *part_results = lg_calloc(n_to_run ? n_to_run : 1, sizeof(*part_results));
    lg_host_load *host_loads = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*host_loads));
    lg_baselines baselines = { 0 };
    lg_sched_opts sopts = {
        .max_parallel = max_parallel, .accel = accel, .out_dir = out_dir, .run_id = run_id,
        .quiet = quiet, .interrupted = &interrupted, .keep_failed = args->keep_failed,
        .job_done = journal_job, .job_done_opaque = (void *)out_dir, .host_loads = host_loads,
        .baselines = &baselines, .reconnect_s = reconnect_s,
    };
    const char *accel_used = "none";
    if (part.n_jobs)
        lg_sched_run(&part, &sopts, part_results, &accel_used);
    for (size_t k = 0; k < part.n_jobs; k++)
        results[index[k]] = part_results[k];
    free(part_results);
    free(part.jobs);
    free(index);
    free(to_run);

    lg_verdict *verdicts = lg_calloc(plan->n_jobs, sizeof(*verdicts));
    for (size_t i = 0; i < plan->n_jobs; i++)
        verdicts[i] = results[i].evidence.verdict;
    int exit_code = lg_gate_exit_code(verdicts, plan->n_jobs);
    free(verdicts);

    char finished[32];
    lg_wall_iso8601(finished, sizeof(finished));
    lg_run_report report = {
        .plan = plan, .results = results, .run_id = run_id, .started = started, .finished = finished,
        .accel = accel_used, .exit_code = exit_code, .inputs = inputs, .host_loads = host_loads,
        .baselines = &baselines,
        .shard = shard.count ? &shard_report : NULL,
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
    lg_report_inputs_free(own_inputs);
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_clear(&results[i]);
    free(results);
    lg_host_loads_clear(host_loads, m->n_hosts);
    free(host_loads);
    lg_baselines_clear(&baselines);
    lg_run_lock_release(run_id, run_lock);
    return exit_code;
}
