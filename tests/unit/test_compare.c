/* reports/compare: two runs compared job by job on records built in memory
 * (every old -> new transition), what `labgate compare` prints, and reading
 * run.xml back (well-formed, malformed with FILE:LINE). */
#include <errno.h>

#include "lg_test.h"

#include "base/error.h"
#include "base/mem.h"
#include "model/plan.h"
#include "reports/compare.h"

#define T_NULL "BUG: kernel NULL pointer dereference in sampledrv_parse_record"
#define T_OOB "BUG: KASAN: slab-out-of-bounds in sampledrv_match_rule"
#define T_LOOP "boot loop: guest reset 2 times in a row without reaching ready"
#define T_INFRA "libvirt connection lost: End of file while reading data"

enum { NONE = -1 }; /* no verdict recorded */

static lg_run_job job(const char *id, int verdict, const char *title)
{
    return (lg_run_job){
        .id = (char *)id, .guest = (char *)"linux-x86_64", .build = (char *)"agent-7.12",
        .content = (char *)"c-291", .scenario = (char *)"boot",
        .has_verdict = verdict != NONE, .verdict = verdict == NONE ? LG_VERDICT_PASS : (lg_verdict)verdict,
        .title = (char *)title,
    };
}

static lg_run_record record(const char *path, lg_run_job *jobs, size_t n)
{
    return (lg_run_record){ .path = (char *)path, .id = (char *)"run", .outcome = (char *)"blocked",
                            .jobs = jobs, .n_jobs = n };
}

static const lg_job_change *change_of(const lg_comparison *c, const char *id)
{
    for (size_t i = 0; i < c->n_jobs; i++) {
        const lg_run_job *j = c->jobs[i].new_job ? c->jobs[i].new_job : c->jobs[i].old_job;
        if (strcmp(j->id, id) == 0)
            return &c->jobs[i];
    }
    fail_msg("job %s not in the comparison", id);
    return NULL;
}

/* Every transition, each job named after what it is. */
typedef struct pair { const char *id; int old_verdict; const char *old_title; int new_verdict; const char *new_title;
                      bool in_old, in_new; lg_change expected; } pair;

static const pair PAIRS[] = {
    { "pass-crash", LG_VERDICT_PASS, NULL, LG_VERDICT_CRASH, T_NULL, true, true, LG_CHANGE_NEW_FAILURE },
    { "absent-hang", 0, NULL, LG_VERDICT_HANG, "heartbeat lost", false, true, LG_CHANGE_NEW_FAILURE },
    { "infra-crash", LG_VERDICT_INFRA_ERROR, T_INFRA, LG_VERDICT_CRASH, T_NULL, true, true, LG_CHANGE_NEW_FAILURE },
    { "none-crash", NONE, NULL, LG_VERDICT_CRASH, T_NULL, true, true, LG_CHANGE_NEW_FAILURE },
    { "crash-pass", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_FIXED },
    { "crash-same", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_CRASH, T_NULL, true, true, LG_CHANGE_STILL_FAILING },
    { "crash-other", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_CRASH, T_OOB, true, true, LG_CHANGE_STILL_FAILING },
    { "loop-crash", LG_VERDICT_BOOT_LOOP, T_LOOP, LG_VERDICT_CRASH, T_OOB, true, true, LG_CHANGE_STILL_FAILING },
    { "pass-infra", LG_VERDICT_PASS, NULL, LG_VERDICT_INFRA_ERROR, T_INFRA, true, true, LG_CHANGE_INCOMPLETE },
    { "infra-pass", LG_VERDICT_INFRA_ERROR, T_INFRA, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_INCOMPLETE },
    { "crash-infra", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_INFRA_ERROR, T_INFRA, true, true, LG_CHANGE_INCOMPLETE },
    { "pass-none", LG_VERDICT_PASS, NULL, NONE, NULL, true, true, LG_CHANGE_INCOMPLETE },
    { "absent-infra", 0, NULL, LG_VERDICT_INFRA_ERROR, T_INFRA, false, true, LG_CHANGE_INCOMPLETE },
    { "pass-pass", LG_VERDICT_PASS, NULL, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_SAME_PASS },
    { "old-only", LG_VERDICT_CRASH, T_NULL, 0, NULL, true, false, LG_CHANGE_ONLY_OLD },
    { "new-only", 0, NULL, LG_VERDICT_PASS, NULL, false, true, LG_CHANGE_ONLY_NEW },
};

typedef struct runs {
    lg_run_job old_jobs[LG_N_ELEMENTS(PAIRS)], new_jobs[LG_N_ELEMENTS(PAIRS)];
    lg_run_record old_run, new_run;
} runs;

static void make_runs(runs *r, const pair *pairs, size_t n)
{
    size_t n_old = 0, n_new = 0;
    for (size_t i = 0; i < n; i++) {
        if (pairs[i].in_old)
            r->old_jobs[n_old++] = job(pairs[i].id, pairs[i].old_verdict, pairs[i].old_title);
        if (pairs[i].in_new)
            r->new_jobs[n_new++] = job(pairs[i].id, pairs[i].new_verdict, pairs[i].new_title);
    }
    r->old_run = record("old/run.xml", r->old_jobs, n_old);
    r->new_run = record("new/run.xml", r->new_jobs, n_new);
}

static void test_every_transition(void **state)
{
    (void)state;
    runs r;
    make_runs(&r, PAIRS, LG_N_ELEMENTS(PAIRS));
    LG_AUTO(lg_comparison) c = lg_compare_runs(&r.old_run, &r.new_run);
    assert_non_null(c);
    assert_int_equal(c->n_jobs, LG_N_ELEMENTS(PAIRS));
    for (size_t i = 0; i < LG_N_ELEMENTS(PAIRS); i++) {
        const lg_job_change *ch = change_of(c, PAIRS[i].id);
        if (ch->change != PAIRS[i].expected)
            fail_msg("%s: %s, expected %s", PAIRS[i].id, lg_change_name(ch->change),
                     lg_change_name(PAIRS[i].expected));
    }
    assert_false(change_of(c, "crash-same")->title_changed);
    assert_true(change_of(c, "crash-other")->title_changed);
    assert_true(change_of(c, "loop-crash")->title_changed);
    assert_int_equal(c->count[LG_CHANGE_NEW_FAILURE], 4);
    assert_int_equal(c->count[LG_CHANGE_INCOMPLETE], 5);
    assert_int_equal(c->count[LG_CHANGE_FIXED], 1);
    assert_int_equal(c->count[LG_CHANGE_STILL_FAILING], 3);
    assert_int_equal(lg_compare_exit_code(c), 1);
    /* the new run's order, then what only the old run had */
    assert_string_equal(c->jobs[0].new_job->id, "pass-crash");
    assert_string_equal(c->jobs[c->n_jobs - 1].old_job->id, "old-only");
}

/* INFRA_ERROR is no verdict on the guest: never a new failure, never a fix. */
static void test_infra_error_is_neither_failure_nor_fix(void **state)
{
    (void)state;
    static const pair pairs[] = {
        { "pass-infra", LG_VERDICT_PASS, NULL, LG_VERDICT_INFRA_ERROR, T_INFRA, true, true, LG_CHANGE_INCOMPLETE },
        { "infra-pass", LG_VERDICT_INFRA_ERROR, T_INFRA, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_INCOMPLETE },
        { "crash-infra", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_INFRA_ERROR, T_INFRA, true, true, LG_CHANGE_INCOMPLETE },
        { "pass-pass", LG_VERDICT_PASS, NULL, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_SAME_PASS },
    };
    runs r;
    make_runs(&r, pairs, LG_N_ELEMENTS(pairs));
    LG_AUTO(lg_comparison) c = lg_compare_runs(&r.old_run, &r.new_run);
    assert_non_null(c);
    assert_int_equal(c->count[LG_CHANGE_NEW_FAILURE], 0);
    assert_int_equal(c->count[LG_CHANGE_FIXED], 0);
    assert_int_equal(c->count[LG_CHANGE_INCOMPLETE], 3);
    assert_int_equal(lg_compare_exit_code(c), 0);
}

static void test_identical_runs(void **state)
{
    (void)state;
    static const pair pairs[] = {
        { "a", LG_VERDICT_PASS, NULL, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_SAME_PASS },
        { "b", LG_VERDICT_CRASH, T_NULL, LG_VERDICT_CRASH, T_NULL, true, true, LG_CHANGE_STILL_FAILING },
    };
    runs r;
    make_runs(&r, pairs, LG_N_ELEMENTS(pairs));
    LG_AUTO(lg_comparison) c = lg_compare_runs(&r.old_run, &r.new_run);
    assert_non_null(c);
    assert_int_equal(lg_compare_exit_code(c), 0);
    assert_int_equal(c->count[LG_CHANGE_SAME_PASS], 1);
    assert_int_equal(c->count[LG_CHANGE_STILL_FAILING], 1);
    assert_int_equal(c->n_inputs, 0);
}

static char *printed(const lg_comparison *c, const lg_run_record *o, const lg_run_record *n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    lg_compare_print(c, o, n, out);
    fclose(out);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    LG_AUTOFREE char *needle = lg_strdup_printf("\n%s\n", line);
    if (!strstr(text, needle)) {
        print_lines(text);
        fail_msg("line \"%s\" not in the output above", line);
    }
}

static void test_printed_report(void **state)
{
    (void)state;
    runs r;
    make_runs(&r, PAIRS, LG_N_ELEMENTS(PAIRS));
    lg_run_input old_builds[] = { { .id = (char *)"agent-7.12", .sha256 = (char *)"aaaa" } };
    lg_run_input new_builds[] = { { .id = (char *)"agent-7.12", .sha256 = (char *)"bbbb" } };
    lg_run_input contents[] = { { .id = (char *)"c-291", .sha256 = (char *)"cccc" } };
    r.old_run.builds = old_builds, r.old_run.n_builds = 1, r.old_run.contents = contents, r.old_run.n_contents = 1;
    r.new_run.builds = new_builds, r.new_run.n_builds = 1, r.new_run.contents = contents, r.new_run.n_contents = 1;
    LG_AUTO(lg_comparison) c = lg_compare_runs(&r.old_run, &r.new_run);
    assert_non_null(c);
    LG_AUTOFREE char *text = printed(c, &r.old_run, &r.new_run);
    static const char head[] = "old: old/run.xml (run run, outcome blocked, 13 jobs)\n"
                               "new: new/run.xml (run run, outcome blocked, 15 jobs)\n";
    assert_true(strncmp(text, head, strlen(head)) == 0);
    assert_line(text, "NEW FAILURES (4)");
    assert_line(text, "  pass-crash  linux-x86_64/agent-7.12/c-291/boot: PASS -> CRASH: " T_NULL);
    assert_line(text, "  absent-hang  linux-x86_64/agent-7.12/c-291/boot: absent -> HANG: heartbeat lost");
    assert_line(text, "  infra-crash  linux-x86_64/agent-7.12/c-291/boot: INFRA_ERROR -> CRASH: " T_NULL);
    assert_line(text, "  none-crash  linux-x86_64/agent-7.12/c-291/boot: no verdict -> CRASH: " T_NULL);
    assert_line(text, "STILL FAILING (3)");
    assert_line(text, "  crash-same  linux-x86_64/agent-7.12/c-291/boot: CRASH: " T_NULL);
    assert_line(text, "  crash-other  linux-x86_64/agent-7.12/c-291/boot: CRASH: " T_OOB " (changed; was CRASH: " T_NULL ")");
    assert_line(text, "  loop-crash  linux-x86_64/agent-7.12/c-291/boot: CRASH: " T_OOB " (changed; was BOOT_LOOP: " T_LOOP ")");
    assert_line(text, "FIXED (1)");
    assert_line(text, "  crash-pass  linux-x86_64/agent-7.12/c-291/boot: CRASH: " T_NULL " -> PASS");
    assert_line(text, "INCOMPLETE (no verdict: harness or hypervisor failure) (5)");
    assert_line(text, "  pass-infra  linux-x86_64/agent-7.12/c-291/boot: PASS -> INFRA_ERROR: " T_INFRA);
    assert_line(text, "  infra-pass  linux-x86_64/agent-7.12/c-291/boot: INFRA_ERROR: " T_INFRA " -> PASS");
    assert_line(text, "  absent-infra  linux-x86_64/agent-7.12/c-291/boot: absent -> INFRA_ERROR: " T_INFRA);
    assert_line(text, "  pass-none  linux-x86_64/agent-7.12/c-291/boot: PASS -> no verdict");
    assert_line(text, "ONLY IN OLD RUN (1)");
    assert_line(text, "  old-only  linux-x86_64/agent-7.12/c-291/boot: CRASH: " T_NULL);
    assert_line(text, "ONLY IN NEW RUN (1)");
    assert_line(text, "  new-only  linux-x86_64/agent-7.12/c-291/boot: PASS");
    assert_line(text, "INPUTS CHANGED (1)");
    assert_line(text, "  build agent-7.12: sha256 aaaa -> bbbb");
    assert_line(text, "4 new failures, 3 still failing, 1 fixed, 5 incomplete, 1 passing in both, 1 only in old, 1 only in new");
    assert_line(text, "REGRESSION: the new run fails where the old did not");
    /* passing in both is counted, not listed */
    assert_null(strstr(text, "pass-pass"));
    /* sections in the order a reader acts on them */
    assert_true(strstr(text, "NEW FAILURES") < strstr(text, "STILL FAILING"));
    assert_true(strstr(text, "STILL FAILING") < strstr(text, "FIXED"));
    assert_true(strstr(text, "FIXED") < strstr(text, "INCOMPLETE"));
}

static void test_printed_report_without_regressions(void **state)
{
    (void)state;
    static const pair pairs[] = {
        { "a", LG_VERDICT_PASS, NULL, LG_VERDICT_PASS, NULL, true, true, LG_CHANGE_SAME_PASS },
    };
    runs r;
    make_runs(&r, pairs, LG_N_ELEMENTS(pairs));
    LG_AUTO(lg_comparison) c = lg_compare_runs(&r.old_run, &r.new_run);
    assert_non_null(c);
    LG_AUTOFREE char *text = printed(c, &r.old_run, &r.new_run);
    assert_line(text, "0 new failures, 0 still failing, 0 fixed, 0 incomplete, 1 passing in both, 0 only in old, 0 only in new");
    assert_line(text, "no new failures");
    assert_null(strstr(text, "NEW FAILURES"));
}

/* ------------------------------------------------------------ run.xml */

/* Titles and names in a run.xml may be a guest's: printed visibly, never as
 * control bytes that could redraw the report. */
static void test_printed_report_escapes_hostile_text(void **state)
{
    (void)state;
    lg_run_job old_jobs[] = { job("a", LG_VERDICT_PASS, NULL) };
    lg_run_job new_jobs[] = { job("a", LG_VERDICT_CRASH, "oops\r  a  PASS\x1b[2K\x9b\xc2\x9b") };
    new_jobs[0].guest = (char *)"linux\x1b]0;t\x07";
    lg_run_record o = record("old/run.xml", old_jobs, 1), n = record("new\r/run.xml", new_jobs, 1);
    n.id = (char *)"\x1b[31mrun";
    LG_AUTO(lg_comparison) c = lg_compare_runs(&o, &n);
    LG_AUTOFREE char *text = printed(c, &o, &n);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p == 0x9b) {
            print_lines(text);
            fail_msg("control byte 0x%02x in the report", *p);
        }
    assert_line(text, "  a  linux\\x1b]0;t\\x07/agent-7.12/c-291/boot: PASS -> "
                      "CRASH: oops\\r  a  PASS\\x1b[2K\\x9b\\u009b");
    assert_non_null(strstr(text, "new: new\\r/run.xml (run \\x1b[31mrun, outcome blocked, 1 job)\n"));
}

static char *write_tmp(const tmpdir_suite *s, const char *name, const char *text)
{
    char *path = lg_strdup_printf("%s/%s", s->dir, name);
    assert_int_equal(lg_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_load_fixture_run(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    LG_AUTO(lg_run_record) r = NULL;
    assert_int_equal(lg_run_record_load(FIXTURE("runs/new/run.xml"), &r, &diags), 0);
    assert_int_equal(diags.n, 0);
    assert_string_equal(r->id, "20261124-020000-5151");
    assert_string_equal(r->outcome, "blocked");
    assert_true(r->has_inputs);
    assert_int_equal(r->n_jobs, 9);
    assert_int_equal(r->n_builds, 2);
    assert_int_equal(r->n_contents, 2);
    /* ids are the plan's: the same names give the same id */
    char id[LG_JOB_ID_LEN + 1];
    lg_job_make_id("linux-x86_64", "agent-7.11", "c-291", "boot", id);
    const lg_run_job *crash = NULL;
    for (size_t i = 0; i < r->n_jobs; i++)
        if (strcmp(r->jobs[i].id, id) == 0)
            crash = &r->jobs[i];
    assert_non_null(crash);
    assert_true(crash->has_verdict);
    assert_int_equal(crash->verdict, LG_VERDICT_CRASH);
    assert_string_equal(crash->title, T_NULL);
    assert_string_equal(crash->content, "c-291");
    assert_true(crash->line > 1);
    const lg_run_input *b = lg_run_record_build(r, "agent-7.12");
    assert_non_null(b);
    assert_int_equal(strlen(b->sha256), 64);
    assert_null(lg_run_record_build(r, "agent-9"));
    assert_non_null(lg_run_record_content(r, "c-290"));
}

static void test_load_rejects_malformed(void **state)
{
    const tmpdir_suite *s = *state;
    static const struct { const char *name, *text, *message; int line; } cases[] = {
        { "broken.xml", "<?xml version=\"1.0\"?>\n<run id=\"r\">\n  <job id=\"a\" verdict=\"PASS\">\n</run>\n",
          "Opening and ending tag mismatch", 4 },
        { "not-run.xml", "<?xml version=\"1.0\"?>\n<matrix name=\"x\"/>\n", "expected a <run> document", 2 },
        { "no-id.xml", "<run>\n  <job verdict=\"PASS\"/>\n</run>\n", "<job> without an id", 2 },
        { "verdict.xml", "<run>\n  <job id=\"a\" verdict=\"PASS\"/>\n  <job id=\"b\" verdict=\"MAYBE\"/>\n</run>\n",
          "job 'b' has an unknown verdict 'MAYBE'", 3 },
        { "twice.xml", "<run>\n  <job id=\"a\" verdict=\"PASS\"/>\n\n  <job id=\"a\" verdict=\"CRASH\"/>\n</run>\n",
          "job id 'a' appears twice (first on line 2)", 4 },
        /* a DTD: entity declarations are refused, not expanded */
        { "doctype.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE run [\n  <!ENTITY t \"CRASH\">\n]>\n"
                         "<run id=\"r\">\n  <job id=\"a\" verdict=\"&t;\"/>\n</run>\n",
          "DOCTYPE/entity declarations are not accepted", 2 },
        { "external.xml", "<?xml version=\"1.0\"?>\n\n<!DOCTYPE run SYSTEM \"file:///etc/passwd\">\n"
                          "<run id=\"r\"/>\n",
          "DOCTYPE/entity declarations are not accepted", 3 },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        LG_AUTOFREE char *path = write_tmp(s, cases[i].name, cases[i].text);
        lg_diags diags = { 0 };
        LG_AUTO(lg_run_record) r = NULL;
        assert_int_equal(lg_run_record_load(path, &r, &diags), -EINVAL);
        assert_null(r);
        assert_true(diags.n >= 1);
        bool found = false;
        for (size_t d = 0; d < diags.n; d++)
            found |= strstr(diags.items[d].message, cases[i].message) && diags.items[d].line == cases[i].line &&
                     strcmp(diags.items[d].file, path) == 0;
        if (!found) {
            for (size_t d = 0; d < diags.n; d++)
                print_message("# %s:%d: %s\n", diags.items[d].file, diags.items[d].line, diags.items[d].message);
            fail_msg("%s: no \"%s\" at line %d", cases[i].name, cases[i].message, cases[i].line);
        }
        lg_diags_clear(&diags);
    }
    lg_diags diags = { 0 };
    LG_AUTO(lg_run_record) r = NULL;
    LG_AUTOFREE char *missing = lg_strdup_printf("%s/none/run.xml", s->dir);
    assert_int_equal(lg_run_record_load(missing, &r, &diags), -ENOENT);
    assert_int_equal(diags.n, 1);
    lg_diags_clear(&diags);
}

static void test_load_without_inputs_or_verdict(void **state)
{
    const tmpdir_suite *s = *state;
    /* an older run.xml (no <inputs>), a job the run never decided */
    LG_AUTOFREE char *path = write_tmp(s, "old-format.xml",
                                       "<run id=\"r\" outcome=\"incomplete\">\n"
                                       "  <job id=\"a\" verdict=\"\"/>\n"
                                       "  <job id=\"b\" verdict=\"INFRA_ERROR\"><evidence title=\"host full\"/></job>\n"
                                       "</run>\n");
    lg_diags diags = { 0 };
    LG_AUTO(lg_run_record) r = NULL;
    assert_int_equal(lg_run_record_load(path, &r, &diags), 0);
    assert_false(r->has_inputs);
    assert_int_equal(r->n_jobs, 2);
    assert_false(r->jobs[0].has_verdict);
    assert_false(lg_run_job_has_result(&r->jobs[0]));
    assert_true(r->jobs[1].has_verdict);
    assert_false(lg_run_job_has_result(&r->jobs[1]));
    assert_false(lg_run_job_failed(&r->jobs[1]));
    assert_string_equal(r->jobs[1].title, "host full");
}

/* Runs of many jobs: matching by id used to scan the other run for every
 * job (quadratic: 50,000 jobs took 11 s).  Asserts the results, not the
 * time; the test's timeout catches a return to a scan. */
#define MANY_JOBS 50000

static void test_many_jobs(void **state)
{
    (void)state;
    /* old: job-0 .. job-N-1; new, in reverse order: every tenth old job
     * gone, every seventh one failing now, and N/10 jobs of its own */
    lg_run_job *old_jobs = lg_calloc(MANY_JOBS, sizeof(*old_jobs));
    lg_run_job *new_jobs = lg_calloc(MANY_JOBS + MANY_JOBS / 10, sizeof(*new_jobs));
    char **ids = lg_calloc(MANY_JOBS + MANY_JOBS / 10, sizeof(*ids));
    size_t n_new = 0, expect_only_old = 0, expect_new_failure = 0, expect_pass = 0;
    for (size_t i = 0; i < MANY_JOBS; i++) {
        ids[i] = lg_strdup_printf("job-%zu", i);
        old_jobs[i] = job(ids[i], LG_VERDICT_PASS, NULL);
    }
    for (size_t k = MANY_JOBS; k-- > 0;) {
        if (k % 10 == 0) {
            expect_only_old++;
            continue;
        }
        bool fails = k % 7 == 0;
        new_jobs[n_new++] = job(ids[k], fails ? LG_VERDICT_CRASH : LG_VERDICT_PASS, fails ? T_NULL : NULL);
        expect_new_failure += fails;
        expect_pass += !fails;
    }
    for (size_t i = 0; i < MANY_JOBS / 10; i++) {
        ids[MANY_JOBS + i] = lg_strdup_printf("extra-%zu", i);
        new_jobs[n_new++] = job(ids[MANY_JOBS + i], LG_VERDICT_PASS, NULL);
    }
    lg_run_record old_run = record("old/run.xml", old_jobs, MANY_JOBS);
    lg_run_record new_run = record("new/run.xml", new_jobs, n_new);
    LG_AUTO(lg_comparison) c = lg_compare_runs(&old_run, &new_run);
    assert_int_equal(c->n_jobs, n_new + expect_only_old);
    assert_int_equal(c->count[LG_CHANGE_ONLY_OLD], expect_only_old);
    assert_int_equal(c->count[LG_CHANGE_NEW_FAILURE], expect_new_failure);
    assert_int_equal(c->count[LG_CHANGE_SAME_PASS], expect_pass);
    assert_int_equal(c->count[LG_CHANGE_ONLY_NEW], MANY_JOBS / 10);
    /* each new job matched the old job of its own id */
    for (size_t i = 0; i < n_new; i++) {
        const lg_job_change *ch = &c->jobs[i];
        assert_ptr_equal(ch->new_job, &new_jobs[i]);
        if (ch->old_job)
            assert_string_equal(ch->old_job->id, ch->new_job->id);
        else
            assert_int_equal(strncmp(ch->new_job->id, "extra-", 6), 0);
    }
    /* then the old-only ones, in the old run's order */
    assert_string_equal(c->jobs[n_new].old_job->id, "job-0");
    assert_string_equal(c->jobs[n_new + 1].old_job->id, "job-10");
    for (size_t i = 0; i < MANY_JOBS + MANY_JOBS / 10; i++)
        free(ids[i]);
    free(ids);
    free(old_jobs);
    free(new_jobs);
}

/* The same size read from run.xml, with ids repeated far apart: every
 * repeat is found, with the line of the first. */
static void test_load_many_jobs(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOBUF xml = LG_BUF_INIT;
    lg_buf_puts(&xml, "<run id=\"big\" outcome=\"clear\">\n");
    for (size_t i = 0; i < MANY_JOBS; i++)
        lg_buf_printf(&xml, "  <job id=\"job-%zu\" verdict=\"PASS\"/>\n", i);
    LG_AUTOFREE char *ok_xml = lg_strdup_printf("%s</run>\n", xml.data);
    LG_AUTOFREE char *path = write_tmp(s, "big.xml", ok_xml);
    lg_diags diags = { 0 };
    LG_AUTO(lg_run_record) r = NULL;
    assert_int_equal(lg_run_record_load(path, &r, &diags), 0);
    assert_int_equal(diags.n, 0);
    assert_int_equal(r->n_jobs, MANY_JOBS);
    assert_string_equal(r->jobs[MANY_JOBS - 1].id, "job-49999");
    assert_ptr_equal(lg_run_record_job(r, "job-12345"), &r->jobs[12345]);

    /* job-3 is on line 5, job-40000 on line 40002 */
    lg_buf_puts(&xml, "  <job id=\"job-40000\" verdict=\"CRASH\"/>\n  <job id=\"job-3\" verdict=\"PASS\"/>\n"
                      "  <job id=\"job-3\"/>\n</run>\n");
    LG_AUTOFREE char *dup_path = write_tmp(s, "big-twice.xml", xml.data);
    LG_AUTO(lg_run_record) r2 = NULL;
    assert_int_equal(lg_run_record_load(dup_path, &r2, &diags), -EINVAL);
    assert_null(r2);
    assert_int_equal(diags.n, 3);
    assert_int_equal(diags.items[0].line, MANY_JOBS + 2);
    assert_string_equal(diags.items[0].message, "job id 'job-40000' appears twice (first on line 40002)");
    assert_int_equal(diags.items[1].line, MANY_JOBS + 3);
    assert_string_equal(diags.items[1].message, "job id 'job-3' appears twice (first on line 5)");
    assert_int_equal(diags.items[2].line, MANY_JOBS + 4);
    assert_string_equal(diags.items[2].message, "job id 'job-3' appears twice (first on line 5)");
    lg_diags_clear(&diags);
}


/* Many inputs read from run.xml: each job's build and content found by id
 * (the first of a repeated id, as before), and compare names exactly the
 * inputs whose digest changed.  The lookups go through the record's hash
 * index; this checks the answers, not the time. */
#define MANY_INPUTS 20000
static void test_load_many_inputs(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOBUF old_xml = LG_BUF_INIT;
    LG_AUTOBUF new_xml = LG_BUF_INIT;
    lg_buf *both[] = { &old_xml, &new_xml };
    for (int k = 0; k < 2; k++) {
        lg_buf_puts(both[k], "<run id=\"r\" outcome=\"clear\">\n <inputs>\n");
        for (size_t i = 0; i < MANY_INPUTS; i++) {
            /* the new run's b-777 and c-4242 changed */
            unsigned d = k == 1 && (i == 777) ? 0xe : 0xa;
            unsigned e = k == 1 && (i == 4242) ? 0xf : 0xb;
            lg_buf_printf(both[k], "  <build id=\"b-%zu\" sha256=\"%064x\"/>\n", i, d);
            lg_buf_printf(both[k], "  <content id=\"c-%zu\" sha256=\"%064x\"/>\n", i, e);
        }
        /* a repeated id: the first one counts */
        lg_buf_printf(both[k], "  <build id=\"b-5\" sha256=\"%064x\"/>\n", 0xdu);
        lg_buf_puts(both[k], " </inputs>\n");
        for (size_t i = 0; i < MANY_INPUTS; i += 1000)
            lg_buf_printf(both[k], " <job id=\"j-%zu\" build=\"b-%zu\" content=\"c-%zu\" verdict=\"PASS\"/>\n", i,
                          i, MANY_INPUTS - 1 - i);
        lg_buf_puts(both[k], "</run>\n");
    }
    LG_AUTOFREE char *old_path = write_tmp(s, "inputs-old.xml", old_xml.data);
    LG_AUTOFREE char *new_path = write_tmp(s, "inputs-new.xml", new_xml.data);
    lg_diags diags = { 0 };
    LG_AUTO(lg_run_record) old_run = NULL;
    LG_AUTO(lg_run_record) new_run = NULL;
    assert_int_equal(lg_run_record_load(old_path, &old_run, &diags), 0);
    assert_int_equal(lg_run_record_load(new_path, &new_run, &diags), 0);
    assert_int_equal(diags.n, 0);
    assert_int_equal(new_run->n_builds, MANY_INPUTS + 1);
    for (size_t i = 0; i < new_run->n_jobs; i++) {
        const lg_run_job *j = &new_run->jobs[i];
        const lg_run_input *b = lg_run_record_build(new_run, j->build);
        const lg_run_input *c = lg_run_record_content(new_run, j->content);
        assert_non_null(b);
        assert_non_null(c);
        assert_string_equal(b->id, j->build);
        assert_string_equal(c->id, j->content);
    }
    assert_ptr_equal(lg_run_record_build(new_run, "b-5"), &new_run->builds[5]);
    assert_null(lg_run_record_build(new_run, "b-none"));
    assert_null(lg_run_record_content(new_run, NULL));
    LG_AUTO(lg_comparison) c = lg_compare_runs(old_run, new_run);
    /* (the repeated b-5 differs from the old run's first b-5: listed too) */
    assert_int_equal(c->n_inputs, 3);
    assert_string_equal(c->inputs[0].kind, "build");
    assert_string_equal(c->inputs[0].new_input->id, "b-777");
    assert_ptr_equal(c->inputs[0].old_input, &old_run->builds[777]);
    assert_ptr_equal(c->inputs[1].new_input, &new_run->builds[MANY_INPUTS]);
    assert_ptr_equal(c->inputs[1].old_input, &old_run->builds[5]);
    assert_string_equal(c->inputs[2].kind, "content");
    assert_string_equal(c->inputs[2].new_input->id, "c-4242");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transition),
        cmocka_unit_test(test_infra_error_is_neither_failure_nor_fix),
        cmocka_unit_test(test_identical_runs),
        cmocka_unit_test(test_printed_report),
        cmocka_unit_test(test_printed_report_without_regressions),
        cmocka_unit_test(test_printed_report_escapes_hostile_text),
        cmocka_unit_test(test_load_fixture_run),
        cmocka_unit_test(test_load_rejects_malformed),
        cmocka_unit_test(test_load_without_inputs_or_verdict),
        cmocka_unit_test(test_many_jobs),
        cmocka_unit_test(test_load_many_jobs),
        cmocka_unit_test(test_load_many_inputs),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
