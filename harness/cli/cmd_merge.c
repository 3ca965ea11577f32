#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/copytree.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/sha256.h"
#include "base/util.h"
#include "cli.h"
#include "model/plan.h"
#include "model/shard.h"
#include "reports/journal.h"
#include "reports/merge.h"
#include "reports/report.h"

static const char usage_text[] =
    "usage: labgate merge DIR... --out OUT [--matrix MATRIX] [--quiet]\n"
    "\n"
    "Joins the results of a run's CI shards (labgate run MATRIX --shard I/N --out DIR,\n"
    "one DIR per shard) into one run in OUT: OUT/run.xml, OUT/junit.xml, OUT/report.html,\n"
    "and each job's OUT/jobs/JOB_ID/ (console log, screenshot, dumps, fetched files)\n"
    "hard-linked from its shard's DIR when OUT is on the same file system, copied\n"
    "otherwise (symbolic links in them are not taken), so report.html's links work\n"
    "and OUT stands on its own.  Prints the summary of the whole run.\n"
    "\n"
    "It fails closed (exit 3, naming the problem and the directory) unless the DIRs\n"
    "are shards 1..N of one plan, each exactly once: same N, same plan (the digest of\n"
    "all its job ids), same matrix file and input digests (builds, contents, images),\n"
    "each shard's jobs its own, together every job of the plan.\n"
    "\n"
    "  --out OUT        where the merged run goes (new, or an empty directory)\n"
    "  --matrix MATRIX  the matrix the shards ran, when it is not at the path their\n"
    "                   run.xml names (another checkout); its SHA-256 must be the\n"
    "                   one they recorded.  The reports are written from it, so its\n"
    "                   profiles and build and content directories must be there\n"
    "                   (as for labgate validate); images need not be\n"
    "  --quiet          no summary\n"
    "\n"
    "exit: the gate of the whole run: 0 release may ship (all PASS), 1 release blocked,\n"
    "      3 run incomplete (INFRA_ERROR, or shards that do not make one run);\n"
    "      2 bad input (a DIR or run.xml that cannot be read, a bad matrix, bad options)\n";

static bool empty_or_missing(const char *dir)
{
    if (!lg_is_dir(dir))
        return !lg_is_file(dir);
    LG_AUTOFREE char *run_xml = lg_strdup_printf("%s/run.xml", dir);
    LG_AUTOFREE char *jobs = lg_strdup_printf("%s/jobs", dir);
    return !lg_is_file(run_xml) && !lg_is_dir(jobs);
}

/* The shards' times and accelerators, as one run's */
static void merged_times(lg_run_record *const *records, size_t n, const char **started, const char **finished,
                         char **accel)
{
    *started = records[0]->started;
    *finished = records[0]->finished;
    bool mixed = false;
    for (size_t k = 0; k < n; k++) {
        const lg_run_record *r = records[k];
        /* ISO-8601 UTC: text order is time order */
        if (r->started && (!*started || strcmp(r->started, *started) < 0))
            *started = r->started;
        if (r->finished && (!*finished || strcmp(r->finished, *finished) > 0))
            *finished = r->finished;
        mixed = mixed || strcmp(r->accel ? r->accel : "", records[0]->accel ? records[0]->accel : "") != 0;
    }
    if (!mixed) {
        *accel = lg_strdup(records[0]->accel ? records[0]->accel : "none");
        return;
    }
    LG_AUTOBUF all = LG_BUF_INIT;
    for (size_t k = 0; k < n; k++)
        lg_buf_printf(&all, "%sshard %d: %s", k ? ", " : "mixed (", records[k]->shard_index,
                      records[k]->accel ? records[k]->accel : "none");
    lg_buf_puts(&all, ")");
    *accel = lg_buf_steal(&all);
}

typedef struct merge_state {
    lg_run_record **records;
    size_t n;
    lg_job_result *results;
    size_t n_results;
    bool *found;
    void *inputs;
    lg_report_merged_shard *shards;
} merge_state;

static void merge_state_clear(merge_state *st)
{
    for (size_t k = 0; k < st->n; k++)
        lg_run_record_free(st->records[k]);
    free(st->records);
    for (size_t i = 0; i < st->n_results; i++)
        lg_job_result_clear(&st->results[i]);
    free(st->results);
    free(st->found);
    free(st->shards);
    lg_report_inputs_free(st->inputs);
}

static int merge(char **dirs, size_t n_dirs, const char *out_dir, const char *matrix_arg, bool quiet,
                 merge_state *st)
{
    st->records = lg_calloc(n_dirs, sizeof(*st->records));
    for (size_t k = 0; k < n_dirs; k++) {
        int rc = lg_cli_load_run("merge", dirs[k], &st->records[k]);
        if (rc != 0)
            return rc;
        st->n++;
    }
    LG_AUTOFREE char *why = NULL;
    if (lg_merge_check((const lg_run_record *const *)st->records, (const char *const *)dirs, n_dirs, &why) < 0) {
        fprintf(stderr, "labgate merge: %s\n", why);
        fprintf(stderr, "labgate merge: nothing merged: the release gate has no answer (exit 3)\n");
        return LG_EXIT_INCOMPLETE;
    }
    const lg_run_record *first = st->records[0];

    /* the reports are written from the matrix the shards ran */
    const char *matrix_path = matrix_arg ? matrix_arg : first->matrix;
    if (!matrix_path || !*matrix_path) {
        fprintf(stderr, "labgate merge: %s/run.xml names no matrix: give --matrix\n", dirs[0]);
        return LG_EXIT_BAD_INPUT;
    }
    char matrix_sha256[LG_SHA256_HEX_LEN + 1];
    if (lg_sha256_file(matrix_path, matrix_sha256) < 0) {
        fprintf(stderr, "labgate merge: %s: %s%s\n", matrix_path, lg_error_msg(),
                matrix_arg ? "" : " (the path the shards' run.xml names: give --matrix)");
        return LG_EXIT_BAD_INPUT;
    }
    if (!first->matrix_sha256) {
        fprintf(stderr, "labgate merge: %s/run.xml records no matrix digest: the shards cannot be shown to have run "
                        "%s\n", dirs[0], matrix_path);
        return LG_EXIT_INCOMPLETE;
    }
    if (strcmp(matrix_sha256, first->matrix_sha256) != 0) {
        fprintf(stderr, "labgate merge: %s is not the matrix the shards ran (SHA-256 %.12s..., they ran %.12s...)\n",
                matrix_path, matrix_sha256, first->matrix_sha256);
        return LG_EXIT_INCOMPLETE;
    }
    LG_AUTO(lg_matrix) m = NULL;
    int rc = lg_cli_load_matrix(matrix_path, &m);
    if (rc != 0)
        return rc;
    LG_AUTO(lg_plan) plan = lg_plan_expand(m);
    char plan_sha256[LG_SHA256_HEX_LEN + 1];
    lg_plan_digest(plan, plan_sha256);
    if (strcmp(plan_sha256, first->shard_plan_sha256) != 0) {
        fprintf(stderr, "labgate merge: the plan of %s is not the shards' (digest %.12s..., theirs %.12s...)\n",
                matrix_path, plan_sha256, first->shard_plan_sha256);
        return LG_EXIT_INCOMPLETE;
    }

    /* every job's result, read by the journal's reader from its shard's run.xml */
    st->results = lg_calloc(plan->n_jobs + 1, sizeof(*st->results));
    st->found = lg_calloc(plan->n_jobs + 1, sizeof(*st->found));
    st->n_results = plan->n_jobs;
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_init(&st->results[i]);
    lg_diags diags = { 0 };
    for (size_t k = 0; k < n_dirs; k++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", dirs[k]);
        rc = lg_journal_read_runxml_jobs(path, plan, st->results, st->found, &st->inputs, &diags);
        lg_diags_print(&diags, stderr);
        lg_diags_clear(&diags);
        if (rc < 0)
            return LG_EXIT_BAD_INPUT;
    }
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (!st->found[i]) {
            fprintf(stderr, "labgate merge: no shard has a result for job %s\n", plan->jobs[i].id);
            return LG_EXIT_INCOMPLETE;
        }

    /* the jobs' artifacts, where report.html links them */
    if (lg_mkdir_p(out_dir, 0755) < 0) {
        fprintf(stderr, "labgate merge: %s: %s\n", out_dir, lg_error_msg());
        return LG_EXIT_BAD_INPUT;
    }
    lg_copy_stats copied = { 0 };
    for (size_t k = 0; k < n_dirs; k++)
        for (size_t i = 0; i < st->records[k]->n_shard_job_ids; i++) {
            const char *id = st->records[k]->shard_job_ids[i];
            LG_AUTOFREE char *src = lg_strdup_printf("%s/jobs/%s", dirs[k], id);
            LG_AUTOFREE char *dst = lg_strdup_printf("%s/jobs/%s", out_dir, id);
            if (!lg_is_dir(src))
                continue; /* a job that never ran has none */
            if (lg_copy_tree(src, dst, &copied) < 0) {
                fprintf(stderr, "labgate merge: %s\n", lg_error_msg());
                return LG_EXIT_INCOMPLETE;
            }
        }

    st->shards = lg_calloc((size_t)first->shard_count, sizeof(*st->shards));
    for (size_t k = 0; k < n_dirs; k++) {
        const lg_run_record *r = st->records[k];
        st->shards[r->shard_index - 1] = (lg_report_merged_shard){
            .index = r->shard_index, .run_id = r->id, .dir = dirs[k], .host = r->host, .jobs = r->n_shard_job_ids,
        };
    }
    lg_report_merge merged = { .count = first->shard_count, .shards = st->shards };
    memcpy(merged.plan_sha256, plan_sha256, sizeof(plan_sha256));

    lg_verdict *verdicts = lg_calloc(plan->n_jobs + 1, sizeof(*verdicts));
    for (size_t i = 0; i < plan->n_jobs; i++)
        verdicts[i] = st->results[i].evidence.verdict;
    int exit_code = lg_gate_exit_code(verdicts, plan->n_jobs);
    free(verdicts);

    const char *started, *finished;
    LG_AUTOFREE char *accel = NULL;
    merged_times(st->records, n_dirs, &started, &finished, &accel);
    /* a run of its own: the merge, named after when it was made */
    char run_id[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(run_id, sizeof(run_id), "%Y%m%d-%H%M%S", &tm);
    snprintf(run_id + strlen(run_id), sizeof(run_id) - strlen(run_id), "-merged-%d", (int)getpid());
    lg_run_report report = {
        .plan = plan, .results = st->results, .run_id = run_id, .started = started ? started : "",
        .finished = finished ? finished : "", .accel = accel, .exit_code = exit_code, .inputs = st->inputs,
        .merged = &merged,
    };
    LG_AUTOFREE char *run_xml = lg_strdup_printf("%s/run.xml", out_dir);
    LG_AUTOFREE char *junit_xml = lg_strdup_printf("%s/junit.xml", out_dir);
    LG_AUTOFREE char *report_html = lg_strdup_printf("%s/report.html", out_dir);
    if (lg_report_write_runxml(&report, run_xml) < 0 || lg_report_write_junit(&report, junit_xml) < 0 ||
        lg_report_write_html(&report, out_dir, report_html) < 0) {
        fprintf(stderr, "labgate merge: %s\n", lg_error_msg());
        return exit_code == LG_EXIT_BLOCKED ? exit_code : LG_EXIT_INCOMPLETE;
    }
    if (!quiet) {
        lg_report_print_summary(&report, stdout);
        printf("artifacts: %zu file(s) of %zu job(s) %s", copied.files, plan->n_jobs,
               copied.linked == copied.files ? "hard-linked" : copied.linked ? "hard-linked or copied" : "copied");
        if (copied.skipped)
            printf(", %zu symbolic link(s) or special file(s) left out", copied.skipped);
        printf("\nresults: %s/run.xml, %s/junit.xml, %s/report.html\n", out_dir, out_dir, out_dir);
    }
    return exit_code;
}

int lg_cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' },
        { "matrix", required_argument, NULL, 'm' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out_dir = NULL, *matrix = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:m:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'm': matrix = optarg; break;
        case 'q': quiet = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind >= argc || !out_dir) {
        fputs(usage_text, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    if (!empty_or_missing(out_dir)) {
        fprintf(stderr, "labgate merge: --out %s: holds results already (run.xml or jobs/); give a new directory\n",
                out_dir);
        return LG_EXIT_BAD_INPUT;
    }
    merge_state st = { 0 };
    int rc = merge(argv + optind, (size_t)(argc - optind), out_dir, matrix, quiet, &st);
    merge_state_clear(&st);
    return rc;
}
