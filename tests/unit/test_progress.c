/* What a run shows while it runs: plain lines for logs, a live table on a
 * terminal. */
#include "lg_test.h"

#include "base/clock.h"
#include "run/progress.h"

typedef struct fixture {
    lg_profile profile;
    lg_guest guest;
    lg_build build;
    lg_content contents[2];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[2];
    lg_plan plan;
} fixture;

static void make(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->guest = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->build = (lg_build){ .id = (char *)"agent-1.0", .candidate = true };
    f->contents[0] = (lg_content){ .id = (char *)"good" };
    f->contents[1] = (lg_content){ .id = (char *)"faulty" };
    f->scenario = (lg_scenario){ .id = (char *)"s" };
    f->matrix = (lg_matrix){ .guests = &f->guest, .n_guests = 1, .builds = &f->build, .n_builds = 1,
                             .contents = f->contents, .n_contents = 2, .scenarios = &f->scenario, .n_scenarios = 1 };
    for (int i = 0; i < 2; i++) {
        f->jobs[i] = (lg_job){ .guest = &f->guest, .build = &f->build, .content = &f->contents[i],
                               .scenario = &f->scenario };
        lg_job_make_id("linux-x86_64", "agent-1.0", f->contents[i].id, "s", f->jobs[i].id);
    }
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = 2 };
}

static char *run_events(fixture *f, bool live, bool quiet)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    lg_progress *p = lg_progress_new(&f->plan, out, live, quiet);
    assert_non_null(p);
    lg_progress_note(p, "labgate: 2 job(s) on 2 worker(s)");
    lg_progress_event(p, &f->jobs[0], 0, "step 1/3 wait-ready");
    lg_progress_event(p, &f->jobs[1], 1, "step 2/3 install");
    lg_job_result res = { .duration_s = 12 };
    res.evidence.verdict = LG_VERDICT_CRASH;
    res.evidence.title = (char *)"BUG: kernel NULL pointer dereference in sampledrv_parse_record";
    lg_progress_done(p, &f->jobs[1], &res, 1);
    lg_progress_free(p);
    fclose(out);
    return text;
}

static void test_plain_lines(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    LG_AUTOFREE char *text = run_events(&f, false, false);
    assert_null(strchr(text, '\033')); /* no terminal codes in a log */
    LG_AUTOFREE char *step = lg_strdup_printf("%s linux-x86_64/agent-1.0/good/s: step 1/3 wait-ready\n", f.jobs[0].id);
    assert_non_null(strstr(text, step));
    LG_AUTOFREE char *done = lg_strdup_printf(
        "%s linux-x86_64/agent-1.0/faulty/s: CRASH (1/2 done, 12 s): BUG: kernel NULL pointer dereference in "
        "sampledrv_parse_record\n", f.jobs[1].id);
    assert_non_null(strstr(text, done));
    assert_non_null(strstr(text, "] labgate: 2 job(s) on 2 worker(s)\n"));
    /* every line timestamped */
    for (char *line = text; *line; line = strchr(line, '\n') + 1)
        assert_int_equal(line[0], '[');
}

static void test_live_table(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    LG_AUTOFREE char *text = run_events(&f, true, false);
    /* the table: running jobs with step, boot and elapsed, redrawn in place */
    assert_non_null(strstr(text, "0/2 done"));
    assert_non_null(strstr(text, "boot 1 "));
    assert_non_null(strstr(text, "step 2/3 install"));
    assert_non_null(strstr(text, "\033[")); /* cursor up + clear */
    /* the verdict stays, above the table */
    assert_non_null(strstr(text, "CRASH (1/2 done, 12 s)"));
    assert_non_null(strstr(text, "1/2 done  1 CRASH"));
}

/* A step with an end (stress): the table counts down to it, redrawn every
 * second; a log says how long once. */
static void test_countdown(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    for (int live = 0; live < 2; live++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        lg_progress *p = lg_progress_new(&f.plan, out, live, false);
        lg_progress_event_until(p, &f.jobs[0], 1, "stress process", lg_now_ms() + 12500);
        if (live) {
            lg_sleep_ms(2500); /* redraws by the ticker, every second */
        }
        lg_progress_event(p, &f.jobs[0], 1, "health check after stress process");
        lg_progress_free(p);
        fclose(out);
        if (live) {
            assert_non_null(strstr(text, "stress process 13 s left"));
            assert_true(strstr(text, "stress process 12 s left") || strstr(text, "stress process 11 s left") ||
                        strstr(text, "stress process 10 s left"));
            /* the next step has no countdown */
            assert_null(strstr(text, "health check after stress process 1"));
            assert_null(strstr(text, "after stress process s left"));
        } else {
            LG_AUTOFREE char *line =
                lg_strdup_printf("%s linux-x86_64/agent-1.0/good/s: stress process: 13 s\n", f.jobs[0].id);
            assert_non_null(strstr(text, line));
            LG_AUTOFREE char *next = lg_strdup_printf(
                "%s linux-x86_64/agent-1.0/good/s: health check after stress process\n", f.jobs[0].id);
            assert_non_null(strstr(text, next));
        }
        free(text);
    }
}

static void test_quiet_prints_nothing(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    LG_AUTOFREE char *text = run_events(&f, true, true);
    assert_string_equal(text, "");
}

/* A guest's title and step text with a carriage return and escape
 * sequences: visible, never able to redraw a row or the table. */
/* noinline: inlined, gcc takes the memstream buffer for a dangling pointer
 * to this frame (a -Wdangling-pointer false positive) */
__attribute__((noinline)) static char *run_hostile_events(fixture *f, bool live)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    lg_progress *p = lg_progress_new(&f->plan, out, live, false);
    assert_non_null(p);
    lg_progress_event(p, &f->jobs[0], 0, "exec: \x1b[2J\x1b]0;owned\x07\rok\xff");
    lg_job_result res = { .duration_s = 12 };
    res.evidence.verdict = LG_VERDICT_CRASH;
    res.evidence.title = (char *)"oops\rPASS -\x1b[1A\x9b" "2J\xc2\x9b";
    lg_progress_done(p, &f->jobs[1], &res, 1);
    lg_progress_free(p);
    fclose(out);
    return text;
}

/* The output without the table's own sequences (bold, cursor up, clear). */
static void assert_only_own_escapes(char *text)
{
    static const char *const own[] = { "\033[1m", "\033[0m", "\033[J" };
    for (size_t i = 0; i < LG_N_ELEMENTS(own); i++)
        for (char *p; (p = strstr(text, own[i]));)
            memset(p, '.', strlen(own[i]));
    for (char *p = text; (p = strstr(p, "\033["));) {
        size_t digits = strspn(p + 2, "0123456789");
        assert_true(digits > 0 && p[2 + digits] == 'A');
        memset(p, '.', 3 + digits);
    }
    assert_null(strchr(text, '\033'));
    assert_null(strchr(text, '\r'));
    assert_null(strstr(text, "\xc2\x9b"));
    assert_null(strchr(text, '\x9b'));
}

static void test_hostile_text_is_escaped(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    for (int live = 0; live < 2; live++) {
        char *text = run_hostile_events(&f, live);
        assert_non_null(strstr(text, "oops\\rPASS -\\x1b[1A\\x9b2J\\u009b"));
        assert_non_null(strstr(text, "exec: \\x1b[2J\\x1b]0;owned\\x07\\rok\\xff"));
        assert_only_own_escapes(text);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_live_table),
        cmocka_unit_test(test_quiet_prints_nothing),
        cmocka_unit_test(test_countdown),
        cmocka_unit_test(test_hostile_text_is_escaped),
    };
    return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
