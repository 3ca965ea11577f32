/* The writers of a run's results, on a plan and results built in memory:
 * the terminal summary (content x build grouping), run.xml and junit.xml. */
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "lg_test.h"
#include "lg_test_xml.h"

#include "base/clean.h"
#include "model/plan.h"
#include "reports/compare.h"
#include "reports/report.h"

/* Two builds (7.11 in the field, 7.12 the candidate) x two contents on two
 * guests: the bad content crashes 7.11 on one guest only. */
typedef struct fixture {
    lg_profile profile;
    lg_guest guests[2];
    lg_build builds[2];
    lg_content contents[2];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[8];
    lg_job_result results[8];
    lg_plan plan;
    lg_run_report report;
} fixture;

static fixture *make_fixture(void)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->guests[0] = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->guests[1] = (lg_guest){ .id = (char *)"linux-aarch64", .profile = &f->profile };
    f->builds[0] = (lg_build){ .id = (char *)"agent-7.11", .candidate = false };
    f->builds[1] = (lg_build){ .id = (char *)"agent-7.12", .candidate = true };
    f->contents[0] = (lg_content){ .id = (char *)"c-291" };
    f->contents[1] = (lg_content){ .id = (char *)"c-290" };
    f->scenario = (lg_scenario){ .id = (char *)"boot" };
    f->matrix = (lg_matrix){
        .path = (char *)"/m.xml", .name = (char *)"nightly",
        .guests = f->guests, .n_guests = 2, .builds = f->builds, .n_builds = 2,
        .contents = f->contents, .n_contents = 2, .scenarios = &f->scenario, .n_scenarios = 1,
    };
    size_t n = 0;
    for (size_t g = 0; g < 2; g++)
        for (size_t b = 0; b < 2; b++)
            for (size_t c = 0; c < 2; c++) {
                lg_job *j = &f->jobs[n];
                j->guest = &f->guests[g];
                j->build = &f->builds[b];
                j->content = &f->contents[c];
                j->scenario = &f->scenario;
                lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
                lg_evidence *ev = &f->results[n].evidence;
                ev->panic_time_s = ev->report_time_s = ev->last_answer_s = ev->frozen_time_s = -1;
                if (g == 0 && b == 0 && c == 0) {
                    ev->verdict = LG_VERDICT_CRASH;
                    ev->signal = LG_SIGNAL_CONSOLE;
                    ev->title = (char *)"BUG: kernel NULL pointer dereference in sampledrv_parse_record";
                    ev->console_excerpt = (char *)"BUG: kernel NULL pointer dereference, address: 0000000000000000";
                    ev->time_s = 12.5;
                    ev->boot = 1;
                }
                f->results[n].duration_s = 30;
                n++;
            }
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = n };
    f->report = (lg_run_report){
        .plan = &f->plan, .results = f->results, .run_id = "run-1", .started = "2026-11-24T00:00:00Z",
        .finished = "2026-11-24T00:10:00Z", .accel = "tcg", .exit_code = LG_EXIT_BLOCKED,
    };
    return f;
}

/* noinline: inlined, gcc takes the memstream's buffer pointer for a
 * dangling pointer to this frame (-Wdangling-pointer false positive) */
__attribute__((noinline)) static char *summary_of(const fixture *f)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    lg_report_print_summary(&f->report, out);
    fclose(out);
    return text;
}

static void assert_line(const char *text, const char *line)
{
    LG_AUTOFREE char *needle = lg_strdup_printf("\n%s\n", line);
    if (!strstr(text, needle))
        fail_msg("line \"%s\" not in:\n%s", line, text);
}

static void test_summary_groups_by_content(void **state)
{
    (void)state;
    fixture *f = make_fixture();
    LG_AUTOFREE char *text = summary_of(f);
    assert_non_null(strstr(text, "BY CONTENT"));
    /* the bad content crashes the build in the field, on one of two guests */
    assert_line(text, "  c-291");
    assert_line(text, "    agent-7.11  released   CRASH         1/2  "
                      "BUG: kernel NULL pointer dereference in sampledrv_parse_record (linux-x86_64)");
    assert_line(text, "    agent-7.12  candidate  PASS          2/2");
    /* content order is the matrix's */
    assert_true(strstr(text, "  c-291\n") < strstr(text, "  c-290\n"));
    assert_non_null(strstr(text, "RELEASE BLOCKED"));
    free(f);
}

static void test_summary_without_versions_has_no_grouping(void **state)
{
    (void)state;
    fixture *f = make_fixture();
    f->matrix.n_builds = 1;
    f->plan.n_jobs = 0;
    /* only the jobs of the first build */
    for (size_t i = 0; i < 8; i++)
        if (f->jobs[i].build == &f->builds[0])
            f->jobs[f->plan.n_jobs] = f->jobs[i], f->results[f->plan.n_jobs++] = f->results[i];
    LG_AUTOFREE char *text = summary_of(f);
    assert_null(strstr(text, "BY CONTENT"));
    free(f);
}

static void test_runxml_evidence_and_timeline(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    lg_signal_note notes[] = {
        { LG_SIGNAL_CONSOLE, LG_VERDICT_CRASH, 12.5, (char *)"BUG: kernel NULL pointer dereference" },
        { LG_SIGNAL_PVPANIC, LG_VERDICT_CRASH, 12.61, (char *)"kernel panic (pvpanic)" },
    };
    lg_evidence *ev = &f->results[0].evidence;
    ev->signals = notes;
    ev->n_signals = 2;
    ev->panic_time_s = 12.6;
    ev->report_time_s = 12.499;
    ev->frozen_time_s = 12.625;
    f->results[0].step = (char *)"apply-content";
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct { const char *expr, *want; } checks[] = {
        { "/run/@outcome", "blocked" },
        { "count(/run/job)", "8" },
        { "count(/run/job[@verdict='CRASH'])", "1" },
        { "/run/job[@verdict='CRASH']/@build", "agent-7.11" },
        { "/run/job[@verdict='CRASH']/evidence/@time-s", "12.500" },
        { "/run/job[@verdict='CRASH']/evidence/@panic-time-s", "12.600" },
        { "/run/job[@verdict='CRASH']/evidence/@report-time-s", "12.499" },
        { "count(/run/job[@verdict='CRASH']/evidence/@last-answer-s)", "0" },
        { "/run/job[@verdict='CRASH']/evidence/@frozen-at-s", "12.625" },
        { "count(/run/job/evidence/@frozen-at-s)", "1" },
        { "/run/job[@verdict='CRASH']/evidence/@step", "apply-content" },
        { "count(/run/job[@verdict='CRASH']/evidence/signal)", "2" },
        { "/run/job[@verdict='CRASH']/evidence/signal[2]/@name", "pvpanic" },
        { "/run/job[@verdict='CRASH']/evidence/signal[2]/@time-s", "12.610" },
        { "count(/run/job[@verdict='PASS']/evidence)", "0" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(checks); i++) {
        LG_AUTOFREE char *got = lg_test_xpath_string(doc, checks[i].expr);
        if (strcmp(got, checks[i].want) != 0)
            fail_msg("%s = \"%s\", expected \"%s\"", checks[i].expr, got, checks[i].want);
    }
    xmlFreeDoc(doc);
    free(f);
}

/* baseline="first" and the hosts' load: a passing baseline and a failed
 * one in run.xml and the summary; a local host with its load average and
 * steal, a remote one with only its busy fraction. */
static void test_baselines_and_host_load(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    lg_host hosts[2] = { { .id = (char *)"local", .uri = (char *)"qemu:///system" },
                         { .id = (char *)"far", .uri = (char *)"qemu+ssh://far/system" } };
    f->matrix.hosts = hosts;
    f->matrix.n_hosts = 2;
    lg_host_load loads[2] = {
        { .watched = true, .max_per_cpu = 2.5, .sum_per_cpu = 3.0, .samples = 2, .held_s = 12,
          .cpu_watched = true, .max_steal = 0.25, .sum_steal = 0.3, .max_busy = 0.97, .sum_busy = 1.5,
          .cpu_samples = 2 },
        { .cpu_watched = true, .remote = true, .max_busy = 0.99, .sum_busy = 0.8, .cpu_samples = 1 },
    };
    f->report.host_loads = loads;
    lg_baseline items[2] = {
        { .profile = (char *)"linux-x86_64", .host = (char *)"local", .dir = (char *)"baseline/linux-x86_64/local",
          .planned_boots = 2 },
        { .profile = (char *)"linux-aarch64", .host = (char *)"far", .dir = (char *)"baseline/linux-aarch64/far",
          .planned_boots = 1 },
    };
    lg_job_result_init(&items[0].result);
    items[0].result.duration_s = 41.25;
    items[0].result.ready_boots = 2;
    items[0].result.console_log = (char *)"baseline/linux-x86_64/local/console.log";
    lg_job_result_init(&items[1].result);
    items[1].result.evidence.verdict = LG_VERDICT_CRASH;
    items[1].result.evidence.signal = LG_SIGNAL_CONSOLE;
    items[1].result.evidence.title = (char *)"Kernel panic - not syncing: VFS: Unable to mount root fs";
    items[1].result.duration_s = 9;
    items[1].result.step = (char *)"wait-ready";
    items[1].result.console_log = (char *)"baseline/linux-aarch64/far/console.log";
    lg_baselines list = { items, 2 };
    f->report.baselines = &list;

    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-baseline.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct { const char *expr, *want; } checks[] = {
        { "count(/run/baseline)", "2" },
        { "/run/baseline[1]/@profile", "linux-x86_64" },
        { "/run/baseline[1]/@verdict", "PASS" },
        { "/run/baseline[1]/@seconds", "41.2" },
        { "/run/baseline[1]/@boots", "2" },
        { "/run/baseline[1]/@planned-boots", "2" },
        { "count(/run/baseline[1]/evidence)", "0" },
        { "/run/baseline[1]/artifact[@kind='console']/@path", "baseline/linux-x86_64/local/console.log" },
        { "/run/baseline[2]/@verdict", "CRASH" },
        { "/run/baseline[2]/@host", "far" },
        { "/run/baseline[2]/evidence/@title", "Kernel panic - not syncing: VFS: Unable to mount root fs" },
        { "/run/baseline[2]/evidence/@step", "wait-ready" },
        { "/run/host-load[@host='local']/@max-per-cpu", "2.50" },
        { "/run/host-load[@host='local']/@max-steal", "0.250" },
        { "/run/host-load[@host='local']/@mean-steal", "0.150" },
        { "/run/host-load[@host='local']/@mean-busy", "0.750" },
        { "/run/host-load[@host='far']/@max-busy", "0.990" },
        { "count(/run/host-load[@host='far']/@max-per-cpu)", "0" },
        { "count(/run/host-load[@host='far']/@max-steal)", "0" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(checks); i++) {
        LG_AUTOFREE char *got = lg_test_xpath_string(doc, checks[i].expr);
        if (strcmp(got, checks[i].want) != 0)
            fail_msg("%s = \"%s\", expected \"%s\"", checks[i].expr, got, checks[i].want);
    }
    xmlFreeDoc(doc);

    LG_AUTOFREE char *text = summary_of(f);
    assert_line(text, "baseline of profile linux-x86_64 on host local: PASS in 41.2 s (2 boots, nothing installed)");
    assert_line(text, "baseline of profile linux-aarch64 on host far: CRASH Kernel panic - not syncing: VFS: Unable to "
                      "mount root fs after 9.0 s (evidence in baseline/linux-aarch64/far/); its jobs were not run");
    assert_line(text, "host local: load 2.50 per CPU at most as jobs started (1.50 on average), CPUs busy 97 % at most "
                      "(75 % on average), steal 25.0 % at most (15.0 % on average); new jobs waited 12 s for it to drop");
    assert_line(text, "host far: CPUs busy 99 % at most (80 % on average)");
    free(f);
}

/* Per host, the images its pool gave the run: what a test checks to know
 * that a second run uploaded nothing. */
static void test_runxml_host_images(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    lg_host hosts[2] = { { .id = (char *)"local", .uri = (char *)"qemu:///system" },
                         { .id = (char *)"far", .uri = (char *)"qemu+ssh://lab@h/session" } };
    f->matrix.hosts = hosts;
    f->matrix.n_hosts = 2;
    lg_staged_image images[] = {
        { .source = (char *)"/img/rootfs.qcow2", .volume = (char *)"sha256-aa", .path = (char *)"/p/sha256-aa",
          .uploaded = true, .size = 42729472, .seconds = 1.25 },
        { .source = (char *)"/img/vmlinuz", .volume = (char *)"sha256-bb", .path = (char *)"/p/sha256-bb",
          .uploaded = false, .size = 14190528 },
    };
    lg_host_load loads[2] = { { .images = images, .n_images = 2, .pool_target = (char *)"/p" }, { 0 } };
    f->report.host_loads = loads;
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-images.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct { const char *expr, *want; } checks[] = {
        { "count(/run/host-images)", "1" }, /* the host that staged nothing has none */
        { "/run/host-images/@host", "local" },
        { "/run/host-images/@uri", "qemu:///system" },
        { "/run/host-images/@pool-target", "/p" },
        { "count(/run/host-images/image[@action='uploaded'])", "1" },
        { "/run/host-images/image[@action='uploaded']/@volume", "sha256-aa" },
        { "/run/host-images/image[@action='uploaded']/@source", "/img/rootfs.qcow2" },
        { "/run/host-images/image[@action='uploaded']/@size", "42729472" },
        { "/run/host-images/image[@action='reused']/@volume", "sha256-bb" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(checks); i++) {
        LG_AUTOFREE char *got = lg_test_xpath_string(doc, checks[i].expr);
        if (strcmp(got, checks[i].want) != 0)
            fail_msg("%s = \"%s\", expected \"%s\"", checks[i].expr, got, checks[i].want);
    }
    xmlFreeDoc(doc);
    LG_AUTOFREE char *summary = summary_of(f);
    assert_non_null(strstr(summary, "host local: 1 image(s) uploaded (40.8 MiB in 1.2 s), 1 reused from its storage pool\n"));
    assert_null(strstr(summary, "host far:"));
    free(f);
}

/* Each host the run checked: ok, or drained at its check or during the
 * run and why, in run.xml, the summary and report.html; a job's earlier
 * try on another host names that host. */
static void test_hosts_drained(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture();
    lg_host hosts[3] = { { .id = (char *)"local", .uri = (char *)"qemu:///system" },
                         { .id = (char *)"far", .uri = (char *)"qemu+ssh://lab@h/session" },
                         { .id = (char *)"near", .uri = (char *)"qemu:///session" } };
    f->matrix.hosts = hosts;
    f->matrix.n_hosts = 3;
    lg_host_load loads[3] = {
        { .checked = true, .slots = 2, .jobs_ended = 9 },
        { .checked = true, .drained = true, .drained_at_check = true,
          .drain_reason = (char *)"check failed: connection: Cannot recv data: Connection reset by peer" },
        { .checked = true, .drained = true, .slots = 1, .jobs_ended = 1,
          .drain_reason = (char *)"connection lost: libvirt at qemu:///session did not come back within 60 s",
          .leftovers = (char *)"cannot reconnect to remove this run's domains and overlays: no daemon" },
    };
    f->report.host_loads = loads;
    lg_attempt tries[1] = { { .verdict = LG_VERDICT_INFRA_ERROR, .title = (char *)"lost the connection to libvirt",
                              .dir = (char *)"jobs/x/attempt-1", .host = (char *)"near" } };
    f->results[1].attempts = tries;
    f->results[1].n_attempts = 1;
    f->results[1].host = (char *)"local";
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-hosts.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct { const char *expr, *want; } checks[] = {
        { "count(/run/host)", "3" },
        { "/run/host[@id='local']/@state", "ok" },
        { "/run/host[@id='local']/@slots", "2" },
        { "/run/host[@id='local']/@jobs", "9" },
        { "count(/run/host[@id='local']/@reason)", "0" },
        { "/run/host[@id='far']/@state", "drained" },
        { "/run/host[@id='far']/@drained-at", "check" },
        { "/run/host[@id='far']/@uri", "qemu+ssh://lab@h/session" },
        { "/run/host[@id='far']/@reason", "check failed: connection: Cannot recv data: Connection reset by peer" },
        { "/run/host[@id='near']/@drained-at", "run" },
        { "/run/host[@id='near']/@leftovers", "cannot reconnect to remove this run's domains and overlays: no daemon" },
        { "/run/job[2]/@host", "local" },
        { "/run/job[2]/attempt/@host", "near" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(checks); i++) {
        LG_AUTOFREE char *got = lg_test_xpath_string(doc, checks[i].expr);
        if (strcmp(got, checks[i].want) != 0)
            fail_msg("%s = \"%s\", expected \"%s\"", checks[i].expr, got, checks[i].want);
    }
    xmlFreeDoc(doc);
    LG_AUTOFREE char *summary = summary_of(f);
    assert_line(summary, "host far: drained at its check (no job started there): check failed: connection: Cannot "
                         "recv data: Connection reset by peer");
    assert_line(summary, "host near: drained during the run after 1 job(s) there: connection lost: libvirt at "
                         "qemu:///session did not come back within 60 s; no job started there after it; after the "
                         "run: cannot reconnect to remove this run's domains and overlays: no daemon");
    assert_non_null(strstr(summary, "attempt 1: INFRA_ERROR lost the connection to libvirt (jobs/x/attempt-1/) on "
                                    "host near\n"));
    assert_null(strstr(summary, "host local: drained"));
    LG_AUTOFREE char *html = lg_strdup_printf("%s/report-hosts.html", s->dir);
    assert_int_equal(lg_report_write_html(&f->report, s->dir, html), 0);
    LG_AUTOFREE char *page = NULL;
    assert_int_equal(lg_read_file(html, 1 << 24, &page, NULL), 0);
    assert_non_null(strstr(page, "<dt>Host far</dt><dd>drained at its check (no job started there): check failed"));
    assert_non_null(strstr(page, "<dt>Host near</dt><dd>drained during the run after 1 job(s)"));
    f->results[1].attempts = NULL;
    free(f);
}

/* What a hostile guest can put in a run's strings: escape sequences, a
 * carriage return that would redraw a row, C0 controls, a byte that is not
 * UTF-8. */
#define HOSTILE_TITLE "\x1b[2J\rPASS -\x01 \xff end"
#define HOSTILE_EXCERPT "\x1b]0;owned\x07 panic\r\n\x01\xff\xc0\x80 tail"
#define HOSTILE_SIGNAL "\x1b[1Asignal\x0b\xfe"
#define HOSTILE_STEP "step\x1b[K\x02\xff"
#define HOSTILE_FILE "jobs/x/\x1b[31mcore\x03\xff.log"

static fixture *make_hostile_fixture(lg_signal_note *note, char **files)
{
    fixture *f = make_fixture();
    lg_evidence *ev = &f->results[0].evidence;
    ev->title = (char *)HOSTILE_TITLE;
    ev->console_excerpt = (char *)HOSTILE_EXCERPT;
    *note = (lg_signal_note){ LG_SIGNAL_CONSOLE, LG_VERDICT_CRASH, 12.5, (char *)HOSTILE_SIGNAL };
    ev->signals = note;
    ev->n_signals = 1;
    f->results[0].step = (char *)HOSTILE_STEP;
    files[0] = (char *)HOSTILE_FILE;
    f->results[0].files = files;
    f->results[0].n_files = 1;
    return f;
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *raw)
{
    LG_AUTOFREE char *want = lg_clean_xml(raw);
    LG_AUTOFREE char *got = lg_test_xpath_string(doc, expr);
    if (strcmp(got, want) != 0)
        fail_msg("%s is not the cleaned string", expr);
}

static xmlDocPtr parse_strictly(const char *path)
{
    /* not RECOVER: a document libxml2 has to repair is a broken report */
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!doc)
        fail_msg("%s does not parse", path);
    return doc;
}

static void test_hostile_strings_make_valid_xml(void **state)
{
    const tmpdir_suite *s = *state;
    lg_signal_note note;
    char *files[1];
    fixture *f = make_hostile_fixture(&note, files);
    LG_AUTOFREE char *run_path = lg_strdup_printf("%s/hostile-run.xml", s->dir);
    LG_AUTOFREE char *junit_path = lg_strdup_printf("%s/hostile-junit.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, run_path), 0);
    assert_int_equal(lg_report_write_junit(&f->report, junit_path), 0);

    xmlDocPtr doc = parse_strictly(run_path);
    assert_xpath(doc, "/run/job[@verdict='CRASH']/evidence/@title", HOSTILE_TITLE);
    assert_xpath(doc, "/run/job[@verdict='CRASH']/evidence/console", HOSTILE_EXCERPT);
    assert_xpath(doc, "/run/job[@verdict='CRASH']/evidence/signal/@title", HOSTILE_SIGNAL);
    assert_xpath(doc, "/run/job[@verdict='CRASH']/evidence/@step", HOSTILE_STEP);
    assert_xpath(doc, "/run/job[@verdict='CRASH']/artifact[@kind='file']/@path", HOSTILE_FILE);
    xmlFreeDoc(doc);

    doc = parse_strictly(junit_path);
    assert_xpath(doc, "//testcase/failure/@message", HOSTILE_TITLE);
    assert_xpath(doc, "//testcase[failure]/system-out", HOSTILE_EXCERPT);
    LG_AUTOFREE char *body = lg_test_xpath_string(doc, "//testcase/failure");
    LG_AUTOFREE char *step = lg_clean_xml(HOSTILE_STEP);
    assert_non_null(strstr(body, step));
    xmlFreeDoc(doc);

    /* and back through the reader of compare, verify-release and repro */
    lg_diags diags = { 0 };
    lg_run_record *record = NULL;
    assert_int_equal(lg_run_record_load(run_path, &record, &diags), 0);
    assert_int_equal(diags.n, 0);
    const lg_run_job *crash = NULL;
    for (size_t i = 0; i < record->n_jobs; i++)
        if (record->jobs[i].verdict == LG_VERDICT_CRASH)
            crash = &record->jobs[i];
    assert_non_null(crash);
    LG_AUTOFREE char *title = lg_clean_xml(HOSTILE_TITLE);
    assert_string_equal(crash->title, title);
    lg_run_record_free(record);
    free(f);
}

static void assert_no_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            fail_msg("control byte 0x%02x at offset %zu of the output", *p, (size_t)(p - (const unsigned char *)text));
}

static void test_summary_escapes_hostile_title(void **state)
{
    (void)state;
    lg_signal_note note;
    char *files[1];
    fixture *f = make_hostile_fixture(&note, files);
    char *text = summary_of(f);
    assert_no_control(text);
    /* visible, in the row and in BY CONTENT */
    const char *shown = "\\x1b[2J\\rPASS -\\x01 \\xff end";
    size_t count = 0;
    for (const char *p = strstr(text, shown); p; p = strstr(p + 1, shown))
        count++;
    assert_int_equal(count, 2);
    free(text);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_groups_by_content),
        cmocka_unit_test(test_summary_without_versions_has_no_grouping),
        cmocka_unit_test(test_runxml_evidence_and_timeline),
        cmocka_unit_test(test_runxml_host_images),
        cmocka_unit_test(test_hosts_drained),
        cmocka_unit_test(test_hostile_strings_make_valid_xml),
        cmocka_unit_test(test_baselines_and_host_load),
        cmocka_unit_test(test_summary_escapes_hostile_title),
    };
    return cmocka_run_group_tests_name("reports", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
