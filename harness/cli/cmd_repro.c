#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli.h"
#include "model/bound.h"
#include "model/verdict.h"

static const char help[] =
    "usage: labgate repro DIR JOB_ID [--keep] [--until-fail N [--confidence C]] [--out DIR2]\n"
    "Runs one job of an earlier run again: the same matrix (DIR/run.xml names it),\n"
    "guest profile, build, content, scenario and seed, and says whether the verdict\n"
    "reproduced (same verdict and title).\n"
    "\n"
    "  --keep           on failure, leave the VM as it is (crashed, paused or running)\n"
    "                   and print how to attach to it and how to clean up\n"
    "  --until-fail N   run the job up to N times, stop at the first failure, and\n"
    "                   print the hit rate (for a crash that comes one boot in twenty)\n"
    "                   with its exact (Clopper-Pearson) interval\n"
    "  --confidence C   of that interval, two-sided (default 0.95)\n"
    "  --out DIR2       results of the new runs (default: DIR/repro-JOB_ID/N)\n"
    "\n"
    "exit: 0 the original verdict reproduced, 1 it did not, 2 bad input,\n"
    "      3 the harness or hypervisor failed\n";

static void print_attach(const lg_cli_run_outcome *o)
{
    printf("\nThe VM is kept: %s\n", o->kept_domain);
    if (o->transport == LG_TRANSPORT_SSH && o->ssh_key)
        printf("  ssh:      ssh -i %s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null %s@127.0.0.1\n",
               o->ssh_key, o->kept_port, o->ssh_user ? o->ssh_user : "root");
    else
        printf("  agent:    virsh -c %s qemu-agent-command %s '{\"execute\":\"guest-ping\"}'\n", o->uri,
               o->kept_domain);
    printf("  console:  virsh -c %s console %s\n", o->uri, o->kept_domain);
    printf("  state:    virsh -c %s domstate --reason %s\n", o->uri, o->kept_domain);
    /* labgate stopped its vCPUs at the decision (a panicked one QEMU paused) */
    printf("  resume:   virsh -c %s resume %s   (it was frozen at the decision)\n", o->uri, o->kept_domain);
    if (o->memory_dump)
        printf("  memory:   %s (crash --osrelease / crash vmlinux %s)\n", o->memory_dump, o->memory_dump);
    else
        printf("  memory:   virsh -c %s dump --memory-only --format kdump-zlib %s /var/tmp/%s.kdump\n", o->uri,
               o->kept_domain, o->kept_domain);
    printf("  cleanup:  labgate gc --uri %s   (removes it and its overlay; this run is over)\n", o->uri);
}

/* k failures in n runs, with the exact interval of the rate behind them.
 * The runs stop at the first failure, which the interval (for a fixed n)
 * does not model: README says what that means. */
static void print_hit_rate(long failures, long runs, double confidence)
{
    printf("hit rate: %ld failure(s) in %ld run(s)", failures, runs);
    double lower = 0, upper = 1;
    if (lg_clopper_pearson(failures, runs, confidence, &lower, &upper) == 0)
        printf(": observed rate %.4f, %g %% interval [%.4f, %.4f] (Clopper-Pearson, exact)",
               (double)failures / (double)runs, confidence * 100, lower, upper);
    printf("\n");
}

int lg_cmd_repro(int argc, char **argv)
{
    static const struct option options[] = {
        { "keep", no_argument, NULL, 'k' },
        { "until-fail", required_argument, NULL, 'u' },
        { "out", required_argument, NULL, 'o' },
        { "confidence", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool keep = false;
    long attempts = 1;
    double confidence = 0.95;
    const char *out_base = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'k': keep = true; break;
        case 'u': {
            char *end;
            attempts = strtol(optarg, &end, 10);
            if (*end || attempts < 1 || attempts > 10000) {
                fprintf(stderr, "labgate repro: --until-fail wants a number from 1 to 10000, not '%s'\n", optarg);
                return LG_EXIT_BAD_INPUT;
            }
            break;
        }
        case 'o': out_base = optarg; break;
        case 'c': {
            char *end;
            confidence = strtod(optarg, &end);
            if (end == optarg || *end || !(confidence > 0 && confidence < 1)) {
                fprintf(stderr, "labgate repro: --confidence wants a number between 0 and 1, not '%s'\n", optarg);
                return LG_EXIT_BAD_INPUT;
            }
            break;
        }
        case 'h': fputs(help, stdout); return 0;
        default: fputs(help, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc - 2) {
        fputs(help, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    const char *dir = argv[optind], *job_id = argv[optind + 1];
    for (const char *p = job_id; *p; p++)
        if (!strchr("0123456789abcdef", *p)) {
            fprintf(stderr, "labgate repro: '%s' is not a job id (12 hex digits, see run.xml)\n", job_id);
            return LG_EXIT_BAD_INPUT;
        }
    LG_AUTO(lg_run_record) record = NULL;
    if (lg_cli_load_run("repro", dir, &record) != 0)
        return LG_EXIT_BAD_INPUT;
    const lg_run_job *job = lg_run_record_job(record, job_id);
    LG_AUTOFREE char *record_path = lg_clean_term(record->path);
    if (!job || !job->has_verdict) {
        fprintf(stderr, "labgate repro: %s has no %s %s\n", record_path, job ? "verdict for job" : "job", job_id);
        return LG_EXIT_BAD_INPUT;
    }
    if (!record->matrix || !*record->matrix) {
        fprintf(stderr, "labgate repro: %s does not name its matrix\n", record_path);
        return LG_EXIT_BAD_INPUT;
    }
    const char *matrix = record->matrix;
    const char *verdict_name = lg_verdict_name(job->verdict);
    const char *title = job->title; /* as run.xml keeps it: lg_clean_xml'd */
    LG_AUTOFREE char *shown_title = lg_clean_term(title ? title : "");
    printf("repro of job %s: originally %s%s%s\n", job_id, verdict_name, title ? ": " : "", shown_title);

    int rc = LG_EXIT_INCOMPLETE;
    long failures = 0, runs = 0;
    bool reproduced = false;
    for (long i = 1; i <= attempts; i++) {
        LG_AUTOFREE char *out = out_base ? (attempts > 1 ? lg_strdup_printf("%s/%ld", out_base, i) : lg_strdup(out_base))
                                         : lg_strdup_printf("%s/repro-%s/%ld", dir, job_id, i);
        lg_cli_run_args args = { .matrix_path = matrix, .out_dir = out, .only_job = job_id, .keep_failed = keep };
        lg_cli_run_outcome o = { 0 };
        if (attempts > 1)
            fprintf(stderr, "labgate repro: attempt %ld of %ld\n", i, attempts);
        rc = lg_cli_run_matrix(&args, &o);
        if (rc == LG_EXIT_BAD_INPUT) {
            lg_cli_run_outcome_clear(&o);
            break;
        }
        if (!o.out_dir) /* ran nothing */
            break;
        runs++;
        bool failed = o.verdict != LG_VERDICT_PASS && o.verdict != LG_VERDICT_INFRA_ERROR;
        /* the new title as run.xml would keep it, or a guest's control
         * byte in it would make every attempt "different" */
        LG_AUTOFREE char *new_title = lg_clean_xml(o.title ? o.title : "");
        bool same = o.verdict == job->verdict && strcmp(new_title, title ? title : "") == 0;
        failures += failed;
        LG_AUTOFREE char *shown_new = lg_clean_term(new_title);
        printf("attempt %ld: %s%s%s -> %s\n", i, lg_verdict_name(o.verdict), o.title ? ": " : "", shown_new,
               same ? "REPRODUCED" : "different");
        reproduced = reproduced || same;
        if (o.kept_domain)
            print_attach(&o);
        lg_cli_run_outcome_clear(&o);
        if (failed || o.verdict == LG_VERDICT_INFRA_ERROR)
            break;
    }
    lg_cli_run_shutdown();
    if (rc == LG_EXIT_BAD_INPUT)
        return rc;
    if (attempts > 1)
        print_hit_rate(failures, runs, confidence);
    if (reproduced)
        return 0;
    return runs ? 1 : LG_EXIT_INCOMPLETE;
}
