/* report.html on a run built in memory (the fixture html_fixture.c also
 * hands the browser test): the banner, escaping of everything that came
 * from a guest or a matrix, the embedded screenshot, nothing external, one
 * section per job and links to its artifacts. */
#include <dirent.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "lg_test.h"
#include "lg_test_xml.h"

#include "base/json.h"

#define LG_HTML_FIXTURE_NO_MAIN
#include "html_fixture.c"

static size_t count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void assert_has(const char *html, const char *needle)
{
    if (!strstr(html, needle))
        fail_msg("\"%s\" not in report.html", needle);
}

static void assert_lacks(const char *html, const char *needle)
{
    const char *at = strstr(html, needle);
    if (at)
        fail_msg("\"%s\" in report.html: ...%.120s", needle, at > html + 40 ? at - 40 : html);
}

/* Writes the fixture's report (artifacts under dir) and returns its text. */
static char *write_report(html_fixture *f, const char *dir)
{
    LG_AUTOFREE char *path = lg_strdup_printf("%s/report.html", dir);
    if (lg_report_write_html(&f->report, dir, path) != 0)
        fail_msg("lg_report_write_html failed");
    return read_fixture(path, NULL);
}

static void assert_xpath(htmlDocPtr doc, const char *expr, const char *want)
{
    LG_AUTOFREE char *got = lg_test_xpath_string(doc, expr);
    if (strcmp(got, want) != 0)
        fail_msg("%s = \"%s\", expected \"%s\"", expr, got, want);
}

static void test_blocked_run(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, s->dir), 0);
    LG_AUTOFREE char *html = write_report(&f, s->dir);

    assert_true(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
    assert_has(html, "<h1>RELEASE BLOCKED</h1>");
    assert_lacks(html, "RELEASE CLEAR");
    assert_has(html, "20261124-020000-4242");
    assert_has(html, "<dd>nightly</dd>");
    assert_has(html, "<dd>tcg</dd>");
    assert_has(html, "<dd>2026-11-24T02:09:41Z</dd>");

    /* console text and titles are text, never markup */
    assert_has(html, "sampledrv: channel file C-00000291 &lt;rule 7&gt; len=4096 &gt; max=512 &amp; flags=0x80\n");
    assert_lacks(html, "<rule 7>");
    assert_lacks(html, "& flags");
    assert_has(html, "heartbeat lost: no answer to &quot;true&quot; for 20 s, guest&#39;s console silent");
    assert_has(html, HTML_FIXTURE_CRASH_TITLE);

    /* the screenshot travels inside the page */
    LG_AUTOFREE char *b64 = lg_base64_encode(html_fixture_png, sizeof(html_fixture_png));
    LG_AUTOFREE char *uri = lg_strdup_printf("src=\"data:image/png;base64,%s\"", b64);
    assert_has(html, uri);

    /* nothing outside the file: no URL, no script, no stylesheet or font */
    assert_lacks(html, "http://");
    assert_lacks(html, "https://");
    assert_lacks(html, "<script");
    assert_lacks(html, "<link");
    assert_lacks(html, "url(");
    assert_lacks(html, "@import");
    assert_int_equal(count(html, "src=\""), count(html, "src=\"data:"));
    assert_int_equal(count(html, "src=\"data:"), 1);

    /* one section per job, each reached from the grid once */
    assert_int_equal(count(html, "<section class=\"job "), 8);
    for (size_t i = 0; i < 8; i++) {
        const char *id = f.jobs[i].id;
        LG_AUTOFREE char *anchor = lg_strdup_printf("id=\"job-%s\"", id);
        LG_AUTOFREE char *link = lg_strdup_printf("href=\"#job-%s\"", id);
        LG_AUTOFREE char *log = lg_strdup_printf("href=\"jobs/%s/console.log\"", id);
        assert_int_equal(count(html, anchor), 1);
        assert_int_equal(count(html, link), 1);
        assert_int_equal(count(html, log), 1);
    }
    const char *crash_id = f.jobs[html_fixture_index(0, 0, 0)].id;
    LG_AUTOFREE char *shot = lg_strdup_printf("href=\"jobs/%s/screenshot.png\"", crash_id);
    LG_AUTOFREE char *dump = lg_strdup_printf("href=\"jobs/%s/memory.kdump\"", crash_id);
    LG_AUTOFREE char *qlog = lg_strdup_printf("<li>QEMU log: <a href=\"jobs/%s/qemu.log\">", crash_id);
    assert_has(html, shot);
    assert_has(html, dump);
    assert_has(html, qlog);
    /* trouble first: the crash's section comes before every other */
    LG_AUTOFREE char *crash_anchor = lg_strdup_printf("<section class=\"job j-crash\" id=\"job-%s\"", crash_id);
    assert_ptr_equal(strstr(html, crash_anchor), strstr(html, "<section class=\"job "));

    /* the same, as a browser's parser sees the page */
    LG_AUTOFREE char *path = lg_strdup_printf("%s/report.html", s->dir);
    htmlDocPtr doc = htmlReadFile(path, "UTF-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    assert_non_null(doc);
    assert_xpath(doc, "//h1", "RELEASE BLOCKED");
    assert_xpath(doc, "count(//section[starts-with(@class,'job ')])", "8");
    assert_xpath(doc, "count(//table[@class='grid']//td//a[starts-with(@href,'#job-')])", "8");
    assert_xpath(doc, "count(//table[@class='grid']//td//span[.='PASS'])", "5");
    assert_xpath(doc, "count(//table[@class='grid']//td[@class='bad']//span[.='CRASH'])", "1");
    assert_xpath(doc, "count(//table[@class='grid']//td[@class='bad']//span[.='HANG'])", "1");
    assert_xpath(doc, "count(//table[@class='grid']//td[@class='infra']//span[.='INFRA_ERROR'])", "1");
    assert_xpath(doc, "count(//img[not(starts-with(@src,'data:image/png;base64,'))])", "0");
    assert_xpath(doc, "count(//*[@href and not(starts-with(@href,'#job-') or starts-with(@href,'jobs/'))])", "0");
    assert_xpath(doc, "count(//script|//link|//iframe|//object|//embed)", "0");
    LG_AUTOFREE char *crash_section = lg_strdup_printf("//section[@id='job-%s']", crash_id);
    LG_AUTOFREE char *console = lg_strdup_printf("%s//pre", crash_section);
    LG_AUTOFREE char *got = lg_test_xpath_string(doc, console);
    assert_string_equal(got, html_fixture_console);
    /* a power cut's moment, on the job that had one only */
    assert_has(html, "<dt>Power cut</dt><dd>4740 ms into the content hook</dd>");
    assert_int_equal(count(html, "<dt>Power cut</dt>"), 1);
    /* the guest frozen at the decision: said once per job that was */
    assert_has(html, "<dt>Frozen</dt><dd>guest frozen at the decision, 12.6 s after job start");
    assert_int_equal(count(html, "<dt>Frozen</dt>"), 2);
    LG_AUTOFREE char *timeline = lg_strdup_printf("count(%s//table[@class='timeline']//tr)", crash_section);
    assert_xpath(doc, timeline, "3");
    xmlFreeDoc(doc);

    /* written atomically: no temporary file is left beside it */
    DIR *d = opendir(s->dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "report.html.", 12) == 0) /* GLib's temporary name */
            fail_msg("%s left in %s", e->d_name, s->dir);
    closedir(d);
}

static void test_banners(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, s->dir), 0);
    struct { int exit_code; const char *banner; } cases[] = {
        { LG_EXIT_CLEAR, "<h1>RELEASE CLEAR</h1>" },
        { LG_EXIT_BLOCKED, "<h1>RELEASE BLOCKED</h1>" },
        { LG_EXIT_INCOMPLETE, "<h1>RUN INCOMPLETE</h1>" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        f.report.exit_code = cases[i].exit_code;
        LG_AUTOFREE char *html = write_report(&f, s->dir);
        assert_has(html, cases[i].banner);
        assert_int_equal(count(html, "<h1>"), 1);
    }
}

/* baseline="first" and the hosts' load: in the run's facts at the top,
 * the baseline with a link to its console log, a hostile title escaped. */
static void test_baseline_and_load(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, s->dir), 0);
    lg_baseline b = { .profile = (char *)"linux-x86_64", .host = (char *)"local",
                      .dir = (char *)"baseline/linux-x86_64", .planned_boots = 1 };
    lg_job_result_init(&b.result);
    b.result.evidence.verdict = LG_VERDICT_CRASH;
    b.result.evidence.title = (char *)"Kernel panic <script>x</script>";
    b.result.duration_s = 9;
    b.result.console_log = (char *)"baseline/linux-x86_64/console.log";
    lg_baselines list = { &b, 1 };
    f.report.baselines = &list;
    lg_host_load load = { .watched = true, .max_per_cpu = 3, .sum_per_cpu = 3, .samples = 1, .cpu_watched = true,
                          .max_steal = 0.2, .sum_steal = 0.2, .max_busy = 0.9, .sum_busy = 0.9, .cpu_samples = 1 };
    f.report.host_loads = &load;
    lg_host host = { .id = (char *)"local", .uri = (char *)"qemu:///system" };
    f.matrix.hosts = &host;
    f.matrix.n_hosts = 1;
    LG_AUTOFREE char *html = write_report(&f, s->dir);
    assert_has(html, "<dt>Baseline</dt><dd>profile linux-x86_64 on host local: CRASH Kernel panic &lt;script&gt;");
    assert_has(html, "<a href=\"baseline/linux-x86_64/console.log\">");
    assert_lacks(html, "<script>x");
    assert_has(html, "steal 20.0 % at most");
    assert_has(html, "<dt>Load of host local</dt>");
    f.report.baselines = NULL;
    f.report.host_loads = NULL;
    f.matrix.hosts = NULL;
    f.matrix.n_hosts = 0;
}

/* Ids come from a matrix file and titles and console text from a guest:
 * neither may inject markup, a script or a link target. */
static void test_hostile_text(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, NULL), 0);
    f.guests[0].id = (char *)"<script>alert(1)</script>";
    f.matrix.name = (char *)"n\"ightly<b>";
    lg_evidence *ev = &f.results[0].evidence;
    ev->title = (char *)"\"><img src=x onerror=alert(1)>\x7f\xc2\x9b[2J \xc2\xa9";
    ev->console_excerpt = (char *)"\x1b[31mred\x1b[0m\r\nbad byte \xff, fine \xc3\xa9 \xe2\x82\xac\n</pre><h1>x</h1>";
    f.results[0].screenshot = (char *)"javascript:alert(1)";
    f.results[0].memory_dump = (char *)"jobs/a b/\"dump\".kdump";
    LG_AUTOFREE char *html = write_report(&f, s->dir);
    assert_lacks(html, "<script");
    assert_lacks(html, "<img src=x");
    assert_lacks(html, "<b>");
    assert_lacks(html, "\x1b");
    assert_lacks(html, "\r");
    assert_lacks(html, "\xff");
    assert_lacks(html, "\x7f");     /* DEL */
    assert_lacks(html, "\xc2\x9b"); /* U+009B, the C1 CSI */
    assert_has(html, "onerror=alert(1)&gt;\xef\xbf\xbd\xef\xbf\xbd[2J \xc2\xa9"); /* (c) kept */
    assert_lacks(html, "href=\"javascript:");
    assert_int_equal(count(html, "<h1>"), 1);
    assert_int_equal(count(html, "</pre>"), 1);
    assert_has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_has(html, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_has(html, "\xef\xbf\xbd[31mred\xef\xbf\xbd[0m\nbad byte \xef\xbf\xbd, fine \xc3\xa9 \xe2\x82\xac\n&lt;/pre&gt;");
    assert_has(html, "href=\"javascript%3Aalert%281%29\"");
    assert_has(html, "href=\"jobs/a%20b/%22dump%22.kdump\"");
    /* the screenshot could not be read: said so, nothing embedded */
    assert_has(html, "The screenshot could not be read");
    assert_lacks(html, "data:image");
}

/* QEMU before 7.1 hands out PPM, which no browser shows: linked only. */
static void test_ppm_screenshot_is_linked(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, s->dir), 0);
    LG_AUTOFREE char *ppm = lg_strdup_printf("%s/%s", s->dir, f.screenshot);
    static const char image[] = "P6\n1 1\n255\n\xff\x00\x00";
    assert_int_equal(lg_write_file(ppm, image, sizeof(image) - 1), 0);
    LG_AUTOFREE char *html = write_report(&f, s->dir);
    assert_lacks(html, "<img");
    assert_has(html, "not a PNG");
    LG_AUTOFREE char *link = lg_strdup_printf("href=\"%s\"", f.screenshot);
    assert_has(html, link);
}

/* Where each job ran and how many tries it took (issue 13: hosts that
 * fail), and which shard of a CI run the page is, or that it was merged. */
static void test_hosts_tries_and_shards(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, s->dir), 0);
    f.results[html_fixture_index(0, 0, 0)].host = (char *)"lab-a";
    lg_job_result *infra = &f.results[html_fixture_index(1, 1, 1)];
    infra->host = (char *)"lab-b<i>";
    lg_attempt earlier[1] = { { LG_VERDICT_INFRA_ERROR, (char *)"baseline: BOOT_TIMEOUT", (char *)"jobs/x/attempt-1",
                                (char *)"lab-c" } };
    infra->attempts = earlier;
    infra->n_attempts = 1;
    /* a pass on a host, and a pass after an earlier try: not folded away */
    lg_job_result *pass = &f.results[html_fixture_index(0, 1, 1)];
    pass->host = (char *)"lab-a";
    LG_AUTOFREE char *html = write_report(&f, s->dir);
    assert_has(html, "<dt>Host</dt><dd>lab-a</dd>");
    assert_has(html, "<dt>Host</dt><dd>lab-b&lt;i&gt;</dd>");
    assert_has(html, "<dt>Tries</dt><dd>2: 1 earlier attempt, then the one that gave the verdict</dd>");
    assert_has(html, "<dt>Attempt 1</dt><dd>on host lab-c: INFRA_ERROR: baseline: BOOT_TIMEOUT");
    assert_has(html, "<dt>Tries</dt><dd>1</dd>");
    assert_has(html, " &middot; host <span class=\"nw\">lab-a</span>");
    /* a job that never ran says so */
    f.results[html_fixture_index(1, 0, 0)].host = NULL;
    LG_AUTOFREE char *again = write_report(&f, s->dir);
    assert_has(again, "<dt>Host</dt><dd>none (the job never ran)</dd>");
    assert_lacks(again, "<dt>Host</dt><dd>none (the job never ran)</dd>\n<dt>Tries");
    assert_lacks(again, "<dt>Shard");

    lg_report_shard shard = { .index = 2, .count = 4, .plan_jobs = 31 };
    f.report.shard = &shard;
    LG_AUTOFREE char *sharded = write_report(&f, s->dir);
    assert_has(sharded, "<dt>Shard</dt><dd>shard 2 of 4 (8 of 31 jobs)</dd>");
    f.report.shard = NULL;
    lg_report_merged_shard from[2] = {
        { .index = 1, .run_id = "r1", .dir = "results/shard-1", .host = "ci-7", .jobs = 5 },
        { .index = 2, .run_id = "r2", .dir = "results/shard-2", .host = "ci-9", .jobs = 3 },
    };
    lg_report_merge merged = { .count = 2, .shards = from };
    f.report.merged = &merged;
    LG_AUTOFREE char *joined = write_report(&f, s->dir);
    assert_has(joined, "<dt>Shards</dt><dd>merged from 2 shards (8 jobs)</dd>");
    assert_has(joined, "<dt>Shard 2 of 2</dt><dd>3 jobs, run r2 on ci-9, from results/shard-2</dd>");

    /* the terminal summary says it too */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    f.report.merged = NULL;
    f.report.shard = &shard;
    lg_report_print_summary(&f.report, out);
    fclose(out);
    assert_non_null(strstr(text, "shard 2 of 4 (8 of 31 jobs)"));
    assert_non_null(strstr(text, "this shard's gate; `labgate merge` the shards' results for the release's"));
    free(text);
    f.report.shard = NULL;
}

static void test_unwritable_path_fails(void **state)
{
    const tmpdir_suite *s = *state;
    static html_fixture f;
    assert_int_equal(html_fixture_make(&f, NULL), 0);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/no/such/dir/report.html", s->dir);
    assert_true(lg_report_write_html(&f.report, s->dir, path) < 0);
    assert_false(lg_is_file(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_run),
        cmocka_unit_test(test_banners),
        cmocka_unit_test(test_baseline_and_load),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_ppm_screenshot_is_linked),
        cmocka_unit_test(test_unwritable_path_fails),
        cmocka_unit_test(test_hosts_tries_and_shards),
    };
    return cmocka_run_group_tests_name("html", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
