/* reports/inputs: the <inputs> run.xml records (tree digests of builds and
 * content, per-file digests, image digests), each distinct file read once. */
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "lg_test.h"
#include "lg_test_xml.h"

#include "base/sha256.h"
#include "model/plan.h"
#include "reports/inputs.h"
#include "reports/report.h"

/* Two guests sharing one disk image, two builds, one content set; one build
 * is in the matrix but no job uses it. */
typedef struct fixture {
    lg_profile profile;
    lg_guest guests[2];
    lg_build builds[3];
    lg_content content;
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[4];
    lg_job_result results[4];
    lg_plan plan;
    lg_run_report report;
    char *disk, *kernel;
} fixture;

static fixture *make_fixture(const tmpdir_suite *s)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->disk = lg_strdup_printf("%s/rootfs.qcow2", s->dir);
    f->kernel = lg_strdup_printf("%s/vmlinuz", s->dir);
    /* large enough that reading it twice would show */
    size_t disk_size = 3u << 20;
    char *disk = malloc(disk_size);
    assert_non_null(disk);
    for (size_t i = 0; i < disk_size; i++)
        disk[i] = (char)(i * 7);
    assert_int_equal(lg_write_file(f->disk, disk, disk_size), 0);
    free(disk);
    assert_int_equal(lg_write_file(f->kernel, "kernel", 6), 0);
    f->profile = (lg_profile){ .disk = f->disk, .kernel = f->kernel };
    f->guests[0] = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->guests[1] = (lg_guest){ .id = (char *)"linux-x86_64-strict", .profile = &f->profile };
    f->builds[0] = (lg_build){ .id = (char *)"agent-7.11", .dir = (char *)FIXTURE("runs/builds/agent-7.11") };
    f->builds[1] = (lg_build){ .id = (char *)"agent-7.12", .dir = (char *)FIXTURE("runs/builds/agent-7.12") };
    f->builds[2] = (lg_build){ .id = (char *)"agent-unused", .dir = (char *)"/nonexistent" };
    f->content = (lg_content){ .id = (char *)"c-291", .dir = (char *)FIXTURE("runs/content/c-291") };
    f->scenario = (lg_scenario){ .id = (char *)"boot" };
    f->matrix = (lg_matrix){
        .path = (char *)FIXTURE("runs/release/run.xml"), /* any file: its digest is recorded */
        .name = (char *)"nightly",
        .guests = f->guests, .n_guests = 2, .builds = f->builds, .n_builds = 3,
        .contents = &f->content, .n_contents = 1, .scenarios = &f->scenario, .n_scenarios = 1,
    };
    size_t n = 0;
    for (size_t g = 0; g < 2; g++)
        for (size_t b = 0; b < 2; b++) {
            lg_job *j = &f->jobs[n];
            *j = (lg_job){ .guest = &f->guests[g], .build = &f->builds[b], .content = &f->content,
                           .scenario = &f->scenario };
            lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
            lg_evidence *ev = &f->results[n].evidence;
            ev->panic_time_s = ev->report_time_s = ev->last_answer_s = ev->frozen_time_s = -1;
            n++;
        }
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = n };
    f->report = (lg_run_report){
        .plan = &f->plan, .results = f->results, .run_id = "run-1", .started = "2026-11-24T00:00:00Z",
        .finished = "2026-11-24T00:10:00Z", .accel = "tcg", .exit_code = LG_EXIT_CLEAR,
    };
    return f;
}

static void free_fixture(fixture *f)
{
    free(f->disk);
    free(f->kernel);
    free(f);
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *expected)
{
    LG_AUTOFREE char *got = lg_test_xpath_string(doc, expr);
    if (strcmp(got, expected) != 0)
        fail_msg("%s: got \"%s\", expected \"%s\"", expr, got, expected);
}

static xmlDocPtr write_and_read(const tmpdir_suite *s, fixture *f)
{
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", s->dir);
    assert_int_equal(lg_report_write_runxml(&f->report, path), 0);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    return doc;
}

static void test_inputs_recorded(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture(s);
    xmlDocPtr doc = write_and_read(s, f);

    assert_xpath(doc, "/run/inputs/harness/@version", "0.1.0");
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    assert_xpath(doc, "/run/inputs/harness/@host", host);
    char matrix_sha[LG_SHA256_HEX_LEN + 1];
    assert_int_equal(lg_sha256_file(f->matrix.path, matrix_sha), 0);
    assert_xpath(doc, "/run/inputs/matrix/@sha256", matrix_sha);
    /* the run's own attributes stay */
    assert_xpath(doc, "/run/@labgate-version", "0.1.0");
    assert_xpath(doc, "/run/@host", host);

    /* builds used by a job, in matrix order; the unused one is not listed */
    assert_xpath(doc, "count(/run/inputs/build)", "2");
    assert_xpath(doc, "/run/inputs/build[1]/@id", "agent-7.11");
    assert_xpath(doc, "count(/run/inputs/build[@id='agent-unused'])", "0");
    LG_AUTO(lg_tree) tree = NULL;
    assert_int_equal(lg_sha256_tree(f->builds[1].dir, NULL, NULL, &tree), 0);
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.12']/@sha256", tree->sha256);
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.12']/@dir", f->builds[1].dir);
    assert_xpath(doc, "count(/run/inputs/build[@id='agent-7.12']/file)", "4");
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.12']/file[2]/@path", "etc/sampleagentd.conf");
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.12']/file[2]/@sha256", tree->files[1].sha256);
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.12']/file[1]/@size", "7");
    /* the digest sha256sum gives (tests/e2e/cli.sh checks the same with the tool) */
    assert_xpath(doc, "/run/inputs/content[@id='c-291']/@sha256",
                 "ebd3d460756500a883c58b6b5d2967e3504a6757ef497076225aa1f6f706e0b5");
    assert_xpath(doc, "/run/inputs/content[@id='c-291']/@files", "2");

    /* one <image> per guest and kind, the shared disk under both guests */
    assert_xpath(doc, "count(/run/inputs/image)", "4");
    char disk_sha[LG_SHA256_HEX_LEN + 1];
    assert_int_equal(lg_sha256_file(f->disk, disk_sha), 0);
    assert_xpath(doc, "/run/inputs/image[@guest='linux-x86_64-strict' and @kind='disk']/@sha256", disk_sha);
    assert_xpath(doc, "/run/inputs/image[@guest='linux-x86_64' and @kind='disk']/@size", "3145728");
    assert_xpath(doc, "/run/inputs/image[@guest='linux-x86_64' and @kind='kernel']/@path", f->kernel);
    assert_xpath(doc, "count(/run/inputs/image[@kind='initrd'])", "0");
    /* inputs come before the jobs */
    assert_xpath(doc, "name(/run/*[1])", "inputs");
    assert_xpath(doc, "count(/run/job)", "4");
    xmlFreeDoc(doc);
    free_fixture(f);
}

static void test_each_file_hashed_once(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture(s);
    struct stat st;
    assert_int_equal(stat(f->disk, &st), 0);

    uint64_t before = lg_report_inputs_bytes_hashed();
    xmlFreeDoc(write_and_read(s, f));
    uint64_t first = lg_report_inputs_bytes_hashed() - before;
    /* the disk of both guests once, not twice */
    assert_true(first >= (uint64_t)st.st_size);
    assert_true(first < 2 * (uint64_t)st.st_size);

    /* writing run.xml again in the same run reads nothing again */
    before = lg_report_inputs_bytes_hashed();
    xmlFreeDoc(write_and_read(s, f));
    assert_int_equal(lg_report_inputs_bytes_hashed() - before, 0);

    /* a file rewritten (new inode or times) is a new file */
    assert_int_equal(lg_write_file(f->kernel, "kernel 2", 8), 0);
    before = lg_report_inputs_bytes_hashed();
    xmlDocPtr doc = write_and_read(s, f);
    assert_int_equal(lg_report_inputs_bytes_hashed() - before, 8);
    char kernel_sha[LG_SHA256_HEX_LEN + 1];
    lg_sha256_hex("kernel 2", 8, kernel_sha);
    assert_xpath(doc, "/run/inputs/image[@guest='linux-x86_64' and @kind='kernel']/@sha256", kernel_sha);
    xmlFreeDoc(doc);
    free_fixture(f);
}

static void test_unreadable_inputs_are_recorded_not_fatal(void **state)
{
    const tmpdir_suite *s = *state;
    fixture *f = make_fixture(s);
    f->builds[0].dir = (char *)"/nonexistent/agent-7.11";
    char *kernel = f->kernel;
    f->profile.kernel = (char *)"/nonexistent/vmlinuz";
    xmlDocPtr doc = write_and_read(s, f);
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.11']/@sha256", "");
    assert_xpath(doc, "/run/inputs/build[@id='agent-7.11']/@error",
                 "cannot read /nonexistent/agent-7.11: No such file or directory");
    assert_xpath(doc, "/run/inputs/image[@guest='linux-x86_64' and @kind='kernel']/@error",
                 "cannot read /nonexistent/vmlinuz: No such file or directory");
    assert_xpath(doc, "count(/run/inputs/build[@id='agent-7.12']/@sha256)", "1");
    xmlFreeDoc(doc);
    f->kernel = kernel;
    free_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputs_recorded),
        cmocka_unit_test(test_each_file_hashed_once),
        cmocka_unit_test(test_unreadable_inputs_are_recorded_not_fatal),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
