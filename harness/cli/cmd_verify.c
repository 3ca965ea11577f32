#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/error.h"
#include "base/sha256.h"
#include "base/util.h"
#include "cli.h"
#include "model/verdict.h"
#include "reports/compare.h"

static const char usage[] =
    "usage: labgate verify-release DIR --build PATH --content PATH\n"
    "Answers \"was this exact release tested, and did it pass?\" from the results of a\n"
    "run (DIR/run.xml), by content rather than by name: PATH's tree digest (SHA-256 over\n"
    "every file, see run.xml <inputs>) must equal that of a build (content set) the run\n"
    "used.  Exit 0 only when the run is complete (no INFRA_ERROR, every job has a\n"
    "verdict) and at least one job ran this build with this content and every such job\n"
    "passed.  Exit 1 otherwise, saying why; 2 for bad input (no DIR/run.xml, a PATH\n"
    "that cannot be read, a malformed run.xml).\n";

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* s from run.xml, for the terminal (base/clean.h): a title or id there may
 * be a guest's.  A new string. */
static char *shown(const char *s)
{
    return lg_clean_term(or_dash(s));
}

static void print_job(const char *prefix, const lg_run_job *j, const char *suffix)
{
    LG_AUTOFREE char *id = shown(j->id);
    LG_AUTOFREE char *guest = shown(j->guest);
    LG_AUTOFREE char *build = shown(j->build);
    LG_AUTOFREE char *content = shown(j->content);
    LG_AUTOFREE char *scenario = shown(j->scenario);
    printf("  %sjob %s (%s/%s/%s/%s)%s", prefix, id, guest, build, content, scenario, suffix);
}

static int digest_arg(const char *option, const char *path, lg_tree **out)
{
    int rc = lg_sha256_tree(path, NULL, NULL, out);
    if (rc < 0)
        fprintf(stderr, "labgate verify-release: %s %s: %s\n", option, path, lg_error_msg());
    return rc;
}

/* Every <inputs> entry whose digest is `sha256`; ids joined for messages. */
static size_t matching_inputs(const lg_run_input *list, size_t n, const char *sha256, lg_buf *ids)
{
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        if (list[i].sha256 && strcmp(list[i].sha256, sha256) == 0) {
            lg_buf_printf(ids, "%s'", found++ ? ", " : "");
            lg_clean_term_append(ids, list[i].id);
            lg_buf_puts(ids, "'");
        }
    return found;
}

static bool input_matches(const lg_run_input *in, const char *sha256)
{
    return in && in->sha256 && strcmp(in->sha256, sha256) == 0;
}

static void explain_missing(const char *kind, const char *sha256, const lg_run_input *list, size_t n)
{
    printf("  no job ran on these exact files (%s sha256 %s not in the run)\n", kind, sha256);
    for (size_t i = 0; i < n; i++)
        if (list[i].error) {
            LG_AUTOFREE char *id = shown(list[i].id);
            LG_AUTOFREE char *error = shown(list[i].error);
            printf("    (the run could not digest %s '%s': %s)\n", kind, id, error);
        }
}

int lg_cmd_verify_release(int argc, char **argv)
{
    const char *dir = NULL, *build_path = NULL, *content_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--build") == 0 && i + 1 < argc)
            build_path = argv[++i];
        else if (strcmp(argv[i], "--content") == 0 && i + 1 < argc)
            content_path = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "labgate verify-release: unexpected argument '%s'\n", argv[i]);
            fputs(usage, stderr);
            return LG_EXIT_BAD_INPUT;
        }
    }
    if (!dir || !build_path || !content_path) {
        fputs(usage, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    LG_AUTO(lg_run_record) run = NULL;
    if (lg_cli_load_run("verify-release", dir, &run) != 0)
        return LG_EXIT_BAD_INPUT;
    LG_AUTOFREE char *run_xml = shown(run->path);
    LG_AUTOFREE char *run_id = shown(run->id);
    LG_AUTOFREE char *outcome = shown(run->outcome);
    LG_AUTO(lg_tree) build = NULL;
    LG_AUTO(lg_tree) content = NULL;
    if (digest_arg("--build", build_path, &build) < 0 || digest_arg("--content", content_path, &content) < 0)
        return LG_EXIT_BAD_INPUT;

    /* everything that stands in the way, not only the first */
    size_t problems = 0;
    bool complete = run->outcome && (strcmp(run->outcome, "clear") == 0 || strcmp(run->outcome, "blocked") == 0);
    printf("%s: run %s, outcome %s, %zu job%s\n", run_xml, run_id, outcome, run->n_jobs,
           run->n_jobs == 1 ? "" : "s");
    if (!complete) {
        printf("  run incomplete: outcome is '%s'\n", outcome);
        problems++;
    }
    if (run->n_jobs == 0) {
        printf("  run incomplete: it has no jobs\n");
        problems++;
    }
    for (size_t i = 0; i < run->n_jobs; i++) {
        const lg_run_job *j = &run->jobs[i];
        if (lg_run_job_has_result(j))
            continue;
        problems++;
        print_job("run incomplete: ", j, "");
        LG_AUTOFREE char *title = shown(j->title);
        if (!j->has_verdict)
            printf(" has no verdict\n");
        else
            printf(": INFRA_ERROR: %s\n", title);
    }
    if (!run->has_inputs) {
        printf("  cannot verify: %s records no input digests (<inputs>; written by an older labgate)\n", run_xml);
        printf("NOT VERIFIED\n");
        return LG_EXIT_BLOCKED;
    }

    LG_AUTOBUF build_ids = LG_BUF_INIT;
    LG_AUTOBUF content_ids = LG_BUF_INIT;
    size_t n_builds = matching_inputs(run->builds, run->n_builds, build->sha256, &build_ids);
    size_t n_contents = matching_inputs(run->contents, run->n_contents, content->sha256, &content_ids);
    if (n_builds)
        printf("  build   %s: sha256 %s (%zu file%s)\n", build_ids.data, build->sha256, build->n_files,
               build->n_files == 1 ? "" : "s");
    else {
        explain_missing("build", build->sha256, run->builds, run->n_builds);
        problems++;
    }
    if (n_contents)
        printf("  content %s: sha256 %s (%zu file%s)\n", content_ids.data, content->sha256, content->n_files,
               content->n_files == 1 ? "" : "s");
    else {
        explain_missing("content", content->sha256, run->contents, run->n_contents);
        problems++;
    }
    size_t matched = 0, passed = 0;
    for (size_t i = 0; n_builds && n_contents && i < run->n_jobs; i++) {
        const lg_run_job *j = &run->jobs[i];
        if (!input_matches(lg_run_record_build(run, j->build), build->sha256) ||
            !input_matches(lg_run_record_content(run, j->content), content->sha256))
            continue;
        matched++;
        if (j->has_verdict && j->verdict == LG_VERDICT_PASS) {
            passed++;
            continue;
        }
        if (!lg_run_job_has_result(j))
            continue; /* already said: run incomplete */
        problems++;
        print_job("", j, " failed: ");
        LG_AUTOFREE char *title = shown(j->title);
        printf("%s: %s\n", lg_verdict_name(j->verdict), title);
    }
    if (n_builds && n_contents && !matched) {
        printf("  no job ran on these exact files (build %s with content %s: no job combines them)\n",
               build_ids.data, content_ids.data);
        problems++;
    }
    if (problems) {
        printf("NOT VERIFIED: %zu problem%s\n", problems, problems == 1 ? "" : "s");
        return LG_EXIT_BLOCKED;
    }
    for (size_t i = 0; i < run->n_jobs; i++) {
        const lg_run_job *j = &run->jobs[i];
        if (input_matches(lg_run_record_build(run, j->build), build->sha256) &&
            input_matches(lg_run_record_content(run, j->content), content->sha256))
            print_job("PASS  ", j, "\n");
    }
    printf("VERIFIED: %zu job%s ran these exact files and passed\n", passed, passed == 1 ? "" : "s");
    return 0;
}
