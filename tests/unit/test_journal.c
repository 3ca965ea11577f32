/* The run's journal: each job's entry written durably and read back into
 * the same result (every field the reports use), the run metadata and the
 * plan check --resume makes, and which jobs a resumed run runs. */
#include <errno.h>

#include "lg_test.h"

#include "base/mem.h"
#include "model/plan.h"
#include "reports/journal.h"
#include "reports/report.h"

/* Three jobs: a crash with every field set, a pass, an infra error. */
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
    lg_signal_note notes[2];
    lg_signal_note finding;
    char *files[2];
    lg_attempt attempts[1];
} fixture;

static fixture *make_fixture(void)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->guest = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->build = (lg_build){ .id = (char *)"agent-7.12", .candidate = true };
    f->contents[0] = (lg_content){ .id = (char *)"faulty" };
    f->contents[1] = (lg_content){ .id = (char *)"good" };
    f->contents[2] = (lg_content){ .id = (char *)"other" };
    f->scenario = (lg_scenario){ .id = (char *)"boot" };
    f->matrix = (lg_matrix){
        .path = (char *)"/m.xml", .name = (char *)"nightly", .guests = &f->guest, .n_guests = 1,
        .builds = &f->build, .n_builds = 1, .contents = f->contents, .n_contents = 3,
        .scenarios = &f->scenario, .n_scenarios = 1,
    };
    for (size_t i = 0; i < 3; i++) {
        lg_job *j = &f->jobs[i];
        j->guest = &f->guest;
        j->build = &f->build;
        j->content = &f->contents[i];
        j->scenario = &f->scenario;
        j->seed = 1234567 + i;
        lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
        lg_job_result_init(&f->results[i]);
    }
    f->notes[0] = (lg_signal_note){ LG_SIGNAL_CONSOLE, LG_VERDICT_CRASH, 12.5, (char *)"BUG: kernel NULL pointer" };
    f->notes[1] = (lg_signal_note){ LG_SIGNAL_HEARTBEAT, LG_VERDICT_HANG, 20.25, (char *)"heartbeat lost" };
    f->files[0] = (char *)"jobs/x/files/dmesg.txt";
    f->files[1] = (char *)"jobs/x/files/agent.log";
    lg_job_result *crash = &f->results[0];
    crash->evidence = (lg_evidence){
        .verdict = LG_VERDICT_CRASH, .signal = LG_SIGNAL_PVPANIC,
        .title = (char *)"BUG: kernel NULL pointer dereference in sampledrv_parse_record",
        .time_s = 12.625, .boot = 2, .console_excerpt = (char *)"[ 3.1] BUG: kernel NULL pointer\n[ 3.2] RIP: x\n",
        .signals = f->notes, .n_signals = 2, .panic_time_s = 12.5, .report_time_s = 12.375,
        .last_answer_s = 11.75, .frozen_time_s = 12.75,
    };
    crash->duration_s = 41.5;
    crash->host = (char *)"lab-a";
    crash->boots = 2;
    crash->power_cut_ms = 1234;
    crash->step = (char *)"apply-content";
    crash->console_log = (char *)"jobs/a/console.log";
    crash->screenshot = (char *)"jobs/a/screen.png";
    crash->memory_dump = (char *)"jobs/a/memory.dump";
    crash->qemu_log = (char *)"jobs/a/qemu.log";
    crash->swtpm_log = (char *)"jobs/a/swtpm.log";
    crash->files = f->files;
    crash->n_files = 2;
    /* a pass with a finding (warnings="report") */
    f->finding = (lg_signal_note){ LG_SIGNAL_CONSOLE, LG_VERDICT_PASS, 7.5, (char *)"WARNING in sampledrv_check" };
    f->results[1].evidence.signals = &f->finding;
    f->results[1].evidence.n_signals = 1;
    f->results[1].duration_s = 30;
    f->results[1].boots = 1;
    f->results[1].console_log = (char *)"jobs/b/console.log";
    lg_job_result *infra = &f->results[2];
    infra->evidence.verdict = LG_VERDICT_INFRA_ERROR;
    infra->evidence.signal = LG_SIGNAL_HYPERVISOR;
    infra->evidence.title = (char *)"baseline: the guest image failed before the candidate was installed: CRASH x";
    infra->evidence.baseline = true;
    infra->evidence.baseline_verdict = LG_VERDICT_CRASH;
    infra->duration_s = 3.5;
    infra->host = (char *)"local";
    /* a baseline failure run again: the first attempt's record */
    f->attempts[0] = (lg_attempt){ LG_VERDICT_INFRA_ERROR, (char *)"baseline: ... BOOT_TIMEOUT y",
                                   (char *)"jobs/c/attempt-1", (char *)"local" };
    infra->attempts = f->attempts;
    infra->n_attempts = 1;
    infra->power_cut_ms = -1;
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = 3 };
    return f;
}

static void assert_same_string(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_result(const lg_job_result *want, const lg_job_result *got)
{
    const lg_evidence *w = &want->evidence, *g = &got->evidence;
    assert_int_equal(g->verdict, w->verdict);
    assert_true(got->duration_s == want->duration_s);
    assert_int_equal(got->boots, want->boots);
    /* the moment a power cut came: repro and the report read it back */
    assert_int_equal(got->power_cut_ms, want->power_cut_ms < 0 ? -1 : want->power_cut_ms);
    assert_same_string(got->console_log, want->console_log);
    assert_same_string(got->screenshot, want->screenshot);
    assert_same_string(got->memory_dump, want->memory_dump);
    assert_same_string(got->qemu_log, want->qemu_log);
    assert_same_string(got->swtpm_log, want->swtpm_log);
    assert_int_equal(got->n_files, want->n_files);
    for (size_t k = 0; k < want->n_files; k++)
        assert_string_equal(got->files[k], want->files[k]);
    assert_int_equal(got->n_attempts, want->n_attempts);
    for (size_t k = 0; k < want->n_attempts; k++) {
        assert_int_equal(got->attempts[k].verdict, want->attempts[k].verdict);
        assert_string_equal(got->attempts[k].title, want->attempts[k].title);
        assert_string_equal(got->attempts[k].dir, want->attempts[k].dir);
        assert_same_string(got->attempts[k].host, want->attempts[k].host);
    }
    /* where it ran: run.xml's host= on the job */
    assert_same_string(got->host, want->host);
    if (w->verdict == LG_VERDICT_PASS) {
        /* run.xml holds no evidence for a pass, only its findings */
        assert_int_equal(g->n_signals, w->n_signals);
        for (size_t k = 0; k < w->n_signals; k++) {
            assert_int_equal(g->signals[k].signal, w->signals[k].signal);
            assert_true(g->signals[k].time_s == w->signals[k].time_s);
            assert_string_equal(g->signals[k].title, w->signals[k].title);
        }
        return;
    }
    assert_int_equal(g->signal, w->signal);
    assert_same_string(g->title, w->title);
    assert_true(g->time_s == w->time_s);
    assert_int_equal(g->boot, w->boot);
    assert_same_string(got->step, want->step);
    assert_same_string(g->console_excerpt, w->console_excerpt);
    assert_true(g->panic_time_s == w->panic_time_s);
    assert_true(g->report_time_s == w->report_time_s);
    assert_true(g->last_answer_s == w->last_answer_s);
    assert_true(g->frozen_time_s == w->frozen_time_s);
    assert_int_equal(g->baseline, w->baseline);
    assert_int_equal(g->baseline_verdict, w->baseline_verdict);
    assert_int_equal(g->n_signals, w->n_signals);
    for (size_t k = 0; k < w->n_signals; k++) {
        assert_int_equal(g->signals[k].signal, w->signals[k].signal);
        assert_int_equal(g->signals[k].verdict, w->signals[k].verdict);
        assert_true(g->signals[k].time_s == w->signals[k].time_s);
        assert_string_equal(g->signals[k].title, w->signals[k].title);
    }
}

/* noinline: inlined, gcc takes the buffer for a pointer to this frame
 * (-Wdangling-pointer false positive, as in test_reports.c) */
__attribute__((noinline)) static char *read_text(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(lg_read_file(path, 1 << 24, &text, &len), 0);
    return text;
}

/* text without the blanks that start its lines */
static char *unindent(const char *text)
{
    LG_AUTOBUF out = LG_BUF_INIT;
    bool line_start = true;
    for (const char *c = text; *c; c++) {
        if (line_start && *c == ' ')
            continue;
        line_start = *c == '\n';
        lg_buf_append(&out, c, 1);
    }
    return lg_buf_steal(&out);
}

static lg_run_report report_of(const fixture *f, const lg_job_result *results)
{
    return (lg_run_report){
        .plan = &f->plan, .results = results, .run_id = "run-1", .started = "2026-11-24T00:00:00Z",
        .finished = "2026-11-24T00:10:00Z", .accel = "tcg", .exit_code = LG_EXIT_BLOCKED,
    };
}

static void test_entries_round_trip(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/round-trip", s->dir);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(lg_journal_write_job(dir, &f->jobs[i], &f->results[i]), 0);

    lg_job_result back[3];
    for (size_t i = 0; i < 3; i++) {
        lg_diags diags = { 0 };
        assert_int_equal(lg_journal_read_job(dir, &f->jobs[i], &back[i], &diags), 0);
        assert_int_equal(diags.n, 0);
        assert_same_result(&f->results[i], &back[i]);
    }

    /* run.xml rebuilt from the journal is the run.xml of the results */
    lg_run_report original = report_of(f, f->results), rebuilt = report_of(f, back);
    LG_AUTOFREE char *a = lg_strdup_printf("%s/a.xml", dir);
    LG_AUTOFREE char *b = lg_strdup_printf("%s/b.xml", dir);
    assert_int_equal(lg_report_write_runxml(&original, a), 0);
    assert_int_equal(lg_report_write_runxml(&rebuilt, b), 0);
    LG_AUTOFREE char *text_a = read_text(a);
    LG_AUTOFREE char *text_b = read_text(b);
    assert_string_equal(text_a, text_b);

    /* and each entry is exactly its <job> element of run.xml */
    for (size_t i = 0; i < 3; i++) {
        LG_AUTOFREE char *entry_path = lg_journal_entry_path(dir, f->jobs[i].id);
        LG_AUTOFREE char *entry = read_text(entry_path);
        char *job = strstr(entry, "<job ");
        assert_non_null(job);
        char *end = strstr(job, "</job>");
        size_t len = end ? (size_t)(end - job) + 6 : strlen(job) - 1;
        LG_AUTOFREE char *element = lg_strdup_printf("%.*s", (int)len, job);
        /* run.xml indents it one level deeper: compare without indentation */
        LG_AUTOFREE char *flat_element = unindent(element);
        LG_AUTOFREE char *flat_run = unindent(text_a);
        if (!strstr(flat_run, flat_element))
            fail_msg("entry %s:\n%s\nnot in run.xml:\n%s", entry_path, flat_element, flat_run);
    }
    for (size_t i = 0; i < 3; i++)
        lg_job_result_clear(&back[i]);
    free(f);
}

static void write_text(const char *path, const char *text)
{
    assert_int_equal(lg_write_file(path, text, strlen(text)), 0);
}

static void test_bad_entries_are_no_result(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/bad", s->dir);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    lg_job_result res = { .boots = 77 };
    lg_diags diags = { 0 };
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -ENOENT);
    assert_int_equal(res.boots, 77);

    assert_int_equal(lg_journal_write_job(dir, &f->jobs[1], &f->results[1]), 0);
    LG_AUTOFREE char *path = lg_journal_entry_path(dir, f->jobs[0].id);
    LG_AUTOFREE char *other = lg_journal_entry_path(dir, f->jobs[1].id);
    LG_AUTOFREE char *job_dir = lg_path_dirname(path);
    assert_int_equal(lg_mkdir_p(job_dir, 0755), 0);
    /* another job's entry, a truncated one, one naming a file outside the
     * results, an unknown verdict */
    LG_AUTOFREE char *other_text = read_text(other);
    write_text(path, other_text);
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    LG_AUTOFREE char *half = lg_strdup_printf("%.*s", (int)(strlen(other_text) / 2), other_text);
    write_text(path, half);
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    LG_AUTOFREE char *outside = lg_strdup_printf(
        "<job id=\"%s\" verdict=\"PASS\"><artifact kind=\"console\" path=\"jobs/../../etc/passwd\"/></job>",
        f->jobs[0].id);
    write_text(path, outside);
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    LG_AUTOFREE char *unknown = lg_strdup_printf("<job id=\"%s\" verdict=\"FINE\"/>", f->jobs[0].id);
    write_text(path, unknown);
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    /* two <evidence> (found by fuzz_journal: the second's strings replaced
     * the first's, which leaked) */
    size_t before = diags.n;
    LG_AUTOFREE char *twice = lg_strdup_printf(
        "<job id=\"%s\" verdict=\"CRASH\">\n<evidence signal=\"console\" title=\"a\" step=\"x\"/>\n"
        "<evidence signal=\"console\" title=\"b\" step=\"y\"/>\n</job>", f->jobs[0].id);
    write_text(path, twice);
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    assert_int_equal(diags.n, before + 1);
    assert_int_equal(diags.items[before].line, 3);
    assert_non_null(strstr(diags.items[before].message, "a second <evidence> in the entry of job"));
    assert_int_equal(res.boots, 77);
    assert_true(diags.n >= 5);
    lg_diags_clear(&diags);
    free(f);
}

static void test_meta_round_trip_and_plan_check(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/meta", s->dir);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    lg_run_meta *meta = NULL;
    lg_diags diags = { 0 };
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), -ENOENT);
    const char *digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_int_equal(lg_journal_write_meta(dir, "20261124-000000-42", "2026-11-24T00:00:00Z", &f->plan, digest,
                                           NULL, NULL), 0);
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), 0);
    assert_int_equal(diags.n, 0);
    assert_string_equal(meta->run_id, "20261124-000000-42");
    assert_string_equal(meta->matrix, "/m.xml");
    assert_string_equal(meta->matrix_sha256, digest);
    assert_string_equal(meta->started, "2026-11-24T00:00:00Z");
    assert_int_equal(meta->n_jobs, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(meta->job_ids[i], f->jobs[i].id);

    /* the same plan from the same matrix: resumable */
    assert_null(lg_journal_plan_mismatch(meta, &f->plan, digest));
    /* the matrix file changed */
    char *why = lg_journal_plan_mismatch(meta, &f->plan, "ffff456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_non_null(why);
    assert_non_null(strstr(why, "the matrix changed"));
    assert_null(strstr(why, "job(s)"));
    free(why);
    /* a job gone from the plan (an exclude added), and one that is new */
    lg_plan fewer = f->plan;
    fewer.n_jobs = 2;
    why = lg_journal_plan_mismatch(meta, &fewer, digest);
    assert_non_null(why);
    LG_AUTOFREE char *gone = lg_strdup_printf("1 job(s) of the run are not in the plan: %s", f->jobs[2].id);
    assert_non_null(strstr(why, gone));
    assert_null(strstr(why, "matrix changed"));
    free(why);
    lg_job extra[4];
    memcpy(extra, f->jobs, sizeof(f->jobs));
    extra[3] = f->jobs[0];
    memcpy(extra[3].id, "0123456789ab", LG_JOB_ID_LEN + 1);
    lg_plan more = f->plan;
    more.jobs = extra;
    more.n_jobs = 4;
    why = lg_journal_plan_mismatch(meta, &more, digest);
    assert_non_null(why);
    assert_non_null(strstr(why, "1 job(s) of the plan are not in the run: 0123456789ab"));
    free(why);
    lg_run_meta_free(meta);

    /* something else in its place */
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-meta.xml", dir);
    write_text(path, "<run id=\"x\"/>");
    meta = NULL;
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), -EINVAL);
    assert_null(meta);
    lg_diags_clear(&diags);
    free(f);
}

static void test_resume_selects_missing_jobs(void **state)
{
    (void)state;
    const bool has[6] = { true, false, true, true, false, true };
    const lg_verdict verdicts[6] = { LG_VERDICT_PASS, LG_VERDICT_PASS, LG_VERDICT_INFRA_ERROR,
                                     LG_VERDICT_CRASH, LG_VERDICT_INFRA_ERROR, LG_VERDICT_HANG };
    bool run[6];
    assert_int_equal(lg_journal_select_resume(has, verdicts, 6, false, run), 2);
    const bool missing[6] = { false, true, false, false, true, false };
    assert_memory_equal(run, missing, sizeof(run));
    assert_int_equal(lg_journal_select_resume(has, verdicts, 6, true, run), 3);
    const bool with_infra[6] = { false, true, true, false, true, false };
    assert_memory_equal(run, with_infra, sizeof(run));
    const bool all[3] = { true, true, true };
    assert_int_equal(lg_journal_select_resume(all, verdicts, 3, false, run), 0);
}


/* run-meta.xml is a file in the results: a resumed run takes its run id
 * from it (for lock and overlay file names, domain names, the reports), so
 * an id that could name another directory or carry a terminal control is
 * refused, and so is a job id that is not one of the plan's form. */
static void test_meta_refuses_hostile_ids(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/hostile-meta", s->dir);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-meta.xml", dir);
    static const char *const bad_ids[] = { "../../etc/x", "a/b", ".hidden", "x&#155;[2J", "x&#13;y", "" };
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(*bad_ids); i++) {
        LG_AUTOFREE char *xml = lg_strdup_printf("<run-meta id=\"%s\" matrix=\"/m.xml\" matrix-sha256=\"00\" "
                                                 "started=\"2026-11-24T00:00:00Z\" jobs=\"0\"/>\n", bad_ids[i]);
        write_text(path, xml);
        lg_run_meta *meta = NULL;
        lg_diags diags = { 0 };
        assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), -EINVAL);
        assert_null(meta);
        assert_int_equal(diags.n, 1);
        assert_int_equal(diags.items[0].line, 1);
        lg_diags_clear(&diags);
    }
    /* a job id that is not 12 hex digits: named with its line */
    write_text(path, "<run-meta id=\"20261124-000000-42\" matrix=\"/m.xml\" matrix-sha256=\"00\"\n"
                     "  started=\"2026-11-24T00:00:00Z\" jobs=\"2\">\n"
                     "  <job id=\"0123456789ab\"/>\n  <job id=\"../0123456789\"/>\n</run-meta>\n");
    lg_run_meta *meta = NULL;
    lg_diags diags = { 0 };
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), -EINVAL);
    assert_null(meta);
    assert_int_equal(diags.n, 1);
    assert_int_equal(diags.items[0].line, 4);
    assert_string_equal(diags.items[0].message, "<job> without a job id (12 hex digits): '../0123456789'");
    lg_diags_clear(&diags);
    /* the ids labgate makes, a repro's "-2" included, are read */
    write_text(path, "<run-meta id=\"20261124-000000-42-2\" matrix=\"/m.xml\" matrix-sha256=\"00\" "
                     "started=\"2026-11-24T00:00:00Z\" jobs=\"1\"><job id=\"0123456789ab\"/></run-meta>\n");
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), 0);
    assert_string_equal(meta->run_id, "20261124-000000-42-2");
    assert_int_equal(meta->n_jobs, 1);
    lg_run_meta_free(meta);
}

/* The plan check over a large plan: every job of either side missing from
 * the other is named, in order.  (The check uses hash sets of ids, so it is
 * linear in jobs; this test checks the answer, not the time.) */
#define MANY_JOBS 20000
static void test_plan_check_many_jobs(void **state)
{
    (void)state;
    fixture *f = make_fixture();
    lg_job *jobs = lg_calloc(MANY_JOBS, sizeof(*jobs));
    lg_run_meta meta = { .run_id = (char *)"r", .matrix_sha256 = (char *)"d", .started = (char *)"s" };
    meta.job_ids = lg_calloc(MANY_JOBS, sizeof(*meta.job_ids));
    /* the run has ids 0..N-1 but 17; the plan has them in reverse, but 4711 */
    for (size_t i = 0; i < MANY_JOBS; i++) {
        jobs[i] = f->jobs[0];
        snprintf(jobs[i].id, sizeof(jobs[i].id), "%012zx", (size_t)(MANY_JOBS - 1 - i));
        if (i != 17)
            meta.job_ids[meta.n_jobs++] = lg_strdup_printf("%012zx", i);
    }
    lg_plan plan = f->plan;
    plan.jobs = jobs;
    plan.n_jobs = MANY_JOBS;
    LG_AUTOFREE char *why = lg_journal_plan_mismatch(&meta, &plan, "d");
    assert_non_null(why);
    assert_string_equal(why, "1 job(s) of the plan are not in the run: 000000000011");
    memmove(&jobs[MANY_JOBS - 1 - 4711], &jobs[MANY_JOBS - 4711], 4711 * sizeof(*jobs));
    plan.n_jobs--;
    LG_AUTOFREE char *why2 = lg_journal_plan_mismatch(&meta, &plan, "d");
    assert_string_equal(why2, "1 job(s) of the run are not in the plan: 000000001267; "
                              "1 job(s) of the plan are not in the run: 000000000011");
    for (size_t i = 0; i < meta.n_jobs; i++)
        free(meta.job_ids[i]);
    free(meta.job_ids);
    free(jobs);
    free(f);
}

/* The journal's files are XML labgate reads back: a DOCTYPE (where entity
 * declarations live) is refused in an entry and in run-meta.xml alike,
 * with the line, and no entity is expanded. */
static void test_doctype_refused_in_journal(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/doctype", s->dir);
    LG_AUTOFREE char *path = lg_journal_entry_path(dir, f->jobs[0].id);
    LG_AUTOFREE char *job_dir = lg_path_dirname(path);
    assert_int_equal(lg_mkdir_p(job_dir, 0755), 0);
    LG_AUTOFREE char *entry = lg_strdup_printf(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE job [\n <!ENTITY a \"aaaaaaaaaaaaaaaa\">\n"
        " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n"
        "<job id=\"%s\" verdict=\"PASS\"><evidence signal=\"step\" title=\"&b;&b;&b;\"/></job>\n", f->jobs[0].id);
    write_text(path, entry);
    lg_job_result res = { .boots = 77 };
    lg_diags diags = { 0 };
    assert_int_equal(lg_journal_read_job(dir, &f->jobs[0], &res, &diags), -EINVAL);
    assert_int_equal(res.boots, 77);
    assert_int_equal(diags.n, 1);
    assert_int_equal(diags.items[0].line, 2);
    assert_string_equal(diags.items[0].message, "DOCTYPE/entity declarations are not accepted");
    lg_diags_clear(&diags);

    LG_AUTOFREE char *meta_path = lg_strdup_printf("%s/run-meta.xml", dir);
    write_text(meta_path, "<?xml version=\"1.0\"?>\n\n<!DOCTYPE run-meta SYSTEM \"file:///etc/passwd\">\n"
                          "<run-meta id=\"r\" matrix-sha256=\"00\" started=\"s\"/>\n");
    lg_run_meta *meta = NULL;
    assert_int_equal(lg_journal_read_meta(dir, &meta, &diags), -EINVAL);
    assert_null(meta);
    assert_int_equal(diags.n, 1);
    assert_int_equal(diags.items[0].line, 3);
    assert_string_equal(diags.items[0].message, "DOCTYPE/entity declarations are not accepted");
    lg_diags_clear(&diags);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_round_trip),
        cmocka_unit_test(test_bad_entries_are_no_result),
        cmocka_unit_test(test_meta_round_trip_and_plan_check),
        cmocka_unit_test(test_resume_selects_missing_jobs),
        cmocka_unit_test(test_meta_refuses_hostile_ids),
        cmocka_unit_test(test_plan_check_many_jobs),
        cmocka_unit_test(test_doctype_refused_in_journal),
    };
    return cmocka_run_group_tests_name("journal", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
