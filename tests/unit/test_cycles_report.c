/* What the results say about cycles and the failure-rate bound: the
 * terminal summary, run.xml and report.html give "0 failures in N boots:
 * failure rate < p at confidence c" for a job that passed every count="auto"
 * cycle, nothing of the kind for a job that failed or was cut short, and the
 * journal keeps the counts a resumed run's reports need. */
#include <libxml/parser.h>

#include "lg_test.h"
#include "lg_test_xml.h"

#include "base/mem.h"
#include "model/plan.h"
#include "reports/journal.h"
#include "reports/report.h"

#define CLAIM "0 failures in 4 boots: failure rate < 0.5 at confidence 0.9"

/* One guest, one build, three contents on a scenario of four auto reboots
 * (max-failure-rate 0.5 at 0.9): the first passes every cycle, the second
 * crashes in the third, the third passes but its result holds no counts
 * (a journal entry older than the counts). */
typedef struct fixture {
    lg_profile profile;
    lg_guest guest;
    lg_build build;
    lg_content contents[3];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[3];
    lg_job_result results[3];
    lg_plan plan;
    lg_run_report report;
} fixture;

static fixture *make_fixture(void)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->guest = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->build = (lg_build){ .id = (char *)"agent-7.12", .candidate = true };
    f->contents[0] = (lg_content){ .id = (char *)"good" };
    f->contents[1] = (lg_content){ .id = (char *)"flaky" };
    f->contents[2] = (lg_content){ .id = (char *)"old" };
    f->scenario = (lg_scenario){ .id = (char *)"bound", .steps = lg_calloc(3, sizeof(lg_step)) };
    f->scenario.steps[f->scenario.n_steps++] = (lg_step){ .kind = LG_STEP_WAIT_READY, .count = 1 };
    f->scenario.steps[f->scenario.n_steps++] =
        (lg_step){ .kind = LG_STEP_REBOOT, .count = 1, .repeat = 1, .auto_cycles = true };
    lg_diags diags = { 0 };
    assert_int_equal(lg_scenario_expand(&f->scenario, 4, "m.xml", &diags), 0);
    f->matrix = (lg_matrix){
        .path = (char *)"/m.xml", .name = (char *)"cycles", .guests = &f->guest, .n_guests = 1,
        .builds = &f->build, .n_builds = 1, .contents = f->contents, .n_contents = 3,
        .scenarios = &f->scenario, .n_scenarios = 1,
        .policy = { .max_failure_rate = 0.5, .confidence = 0.9, .bound_cycles = 4 },
    };
    for (size_t i = 0; i < 3; i++) {
        lg_job *j = &f->jobs[i];
        *j = (lg_job){ .guest = &f->guest, .build = &f->build, .content = &f->contents[i], .scenario = &f->scenario };
        lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
        lg_job_result_init(&f->results[i]);
        f->results[i].duration_s = 60;
    }
    f->results[0].boots = f->results[0].ready_boots = 5;
    f->results[0].cycles = f->results[0].bound_cycles = 4;
    f->results[0].bound_boots = 4;
    lg_evidence *ev = &f->results[1].evidence;
    ev->verdict = LG_VERDICT_CRASH;
    ev->signal = LG_SIGNAL_CONSOLE;
    ev->title = lg_strdup("BUG: kernel NULL pointer dereference in sampledrv_parse_record");
    f->results[1].step = lg_strdup("reboot (cycle 3/4)");
    f->results[1].boots = f->results[1].ready_boots = 3;
    f->results[1].cycles = f->results[1].bound_cycles = 2;
    f->results[1].bound_boots = 2;
    f->results[2].boots = 5;
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = 3 };
    f->report = (lg_run_report){
        .plan = &f->plan, .results = f->results, .run_id = "run-1", .started = "2026-12-04T00:00:00Z",
        .finished = "2026-12-04T00:10:00Z", .accel = "tcg", .exit_code = LG_EXIT_BLOCKED,
    };
    return f;
}

static void free_fixture(fixture *f)
{
    for (size_t i = 0; i < 3; i++)
        lg_job_result_clear(&f->results[i]);
    free(f->scenario.steps);
    free(f);
}

static void test_claim_only_for_a_full_pass(void **state)
{
    (void)state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *pass = lg_report_bound_claim(&f->matrix.policy, &f->jobs[0], &f->results[0]);
    assert_non_null(pass);
    assert_string_equal(pass, CLAIM);
    assert_null(lg_report_bound_claim(&f->matrix.policy, &f->jobs[1], &f->results[1]));
    assert_null(lg_report_bound_claim(&f->matrix.policy, &f->jobs[2], &f->results[2]));
    /* cycles that did not each boot the guest are counted as cycles */
    f->results[0].bound_boots = 0;
    LG_AUTOFREE char *cycles = lg_report_bound_claim(&f->matrix.policy, &f->jobs[0], &f->results[0]);
    assert_string_equal(cycles, "0 failures in 4 cycles: failure rate < 0.5 at confidence 0.9");
    /* no bound in the policy, no claim */
    f->matrix.policy.bound_cycles = 0;
    assert_null(lg_report_bound_claim(&f->matrix.policy, &f->jobs[0], &f->results[0]));
    free_fixture(f);
}

static void test_summary_says_the_claim(void **state)
{
    (void)state;
    fixture *f = make_fixture();
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    lg_report_print_summary(&f->report, out);
    fclose(out);
    /* on the passed job's row, and on no other */
    const char *row = strstr(text, f->jobs[0].id);
    assert_non_null(row);
    const char *end = strchr(row, '\n');
    const char *claim = strstr(row, CLAIM);
    assert_true(claim && claim < end);
    assert_null(strstr(end, "0 failures in"));
    free(text);
    free_fixture(f);
}

static void test_runxml_counts_and_bound(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    static const struct { const char *expr, *want; } checks[] = {
        { "/run/job[@content='good']/@boots", "5" },
        { "/run/job[@content='good']/@ready-boots", "5" },
        { "/run/job[@content='good']/@cycles", "4" },
        { "/run/job[@content='good']/@cycles-planned", "4" },
        { "/run/job[@content='good']/@bound-cycles", "4" },
        { "/run/job[@content='good']/@bound-cycles-planned", "4" },
        { "/run/job[@content='good']/@bound-boots", "4" },
        { "/run/job[@content='good']/bound", CLAIM },
        { "/run/job[@content='good']/bound/@holds", "true" },
        { "/run/job[@content='good']/bound/@max-failure-rate", "0.5" },
        { "/run/job[@content='good']/bound/@confidence", "0.9" },
        { "/run/job[@content='flaky']/@verdict", "CRASH" },
        { "/run/job[@content='flaky']/@cycles", "2" },
        { "/run/job[@content='flaky']/evidence/@step", "reboot (cycle 3/4)" },
        { "/run/job[@content='flaky']/bound/@holds", "false" },
        { "/run/job[@content='flaky']/bound", "" },
        { "/run/job[@content='old']/bound/@holds", "false" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(checks); i++) {
        LG_AUTOFREE char *got = lg_test_xpath_string(doc, checks[i].expr);
        if (strcmp(got, checks[i].want) != 0)
            fail_msg("%s: got '%s', want '%s'", checks[i].expr, got, checks[i].want);
    }
    xmlFreeDoc(doc);
    free_fixture(f);
}

static void test_html_says_the_claim(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *path = lg_strdup_printf("%s/report.html", s->dir);
    assert_int_equal(lg_report_write_html(&f->report, s->dir, path), 0);
    LG_AUTOFREE char *html = NULL;
    size_t len = 0;
    assert_int_equal(lg_read_file(path, 16u << 20, &html, &len), 0);
    /* escaped once, in the passed job's section */
    const char *claim = strstr(html, "0 failures in 4 boots: failure rate &lt; 0.5 at confidence 0.9");
    assert_non_null(claim);
    assert_null(strstr(claim + 1, "0 failures in"));
    LG_AUTOFREE char *good_anchor = lg_strdup_printf("id=\"job-%s\"", f->jobs[0].id);
    assert_true(strstr(html, good_anchor) < claim);
    /* the crashed job shows how far its cycles got */
    assert_non_null(strstr(html, "<dt>Cycles</dt><dd>2 of 4 (2 of 4 count=&quot;auto&quot;)</dd>"));
    free_fixture(f);
}

static void test_journal_keeps_the_counts(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/journal", s->dir);
    assert_int_equal(lg_journal_write_job(dir, &f->jobs[0], &f->results[0]), 0);
    lg_job_result back;
    lg_diags diags = { 0 };
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &back, &diags), 0);
    assert_int_equal(back.ready_boots, 5);
    assert_int_equal(back.cycles, 4);
    assert_int_equal(back.bound_cycles, 4);
    assert_int_equal(back.bound_boots, 4);
    /* so a resumed run's reports make the same claim */
    LG_AUTOFREE char *claim = lg_report_bound_claim(&f->matrix.policy, &f->jobs[0], &back);
    assert_string_equal(claim, CLAIM);
    lg_job_result_clear(&back);
    lg_diags_clear(&diags);
    free_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_only_for_a_full_pass),
        cmocka_unit_test(test_summary_says_the_claim),
        cmocka_unit_test(test_runxml_counts_and_bound),
        cmocka_unit_test(test_html_says_the_claim),
        cmocka_unit_test(test_journal_keeps_the_counts),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
