/* `labgate merge`'s checks (reports/merge.h) on run.xml files the writers
 * make: shards 1..N of one plan merge; a missing shard, a shard given
 * twice, another N, another plan, other inputs, a job in the wrong shard
 * or a run that is no shard are refused, naming the problem and the
 * directory.  And the shards' run.xml read back (journal.h) gives every
 * job's result as it was. */
#include <errno.h>

#include <libxml/tree.h>

#include "lg_test.h"

#include "model/plan.h"
#include "model/shard.h"
#include "reports/compare.h"
#include "reports/journal.h"
#include "reports/merge.h"
#include "reports/report.h"

#define N_JOBS 6

typedef struct fixture {
    char dir[64];
    lg_profile profile;
    lg_guest guest;
    lg_build build;
    lg_content contents[N_JOBS];
    char content_ids[N_JOBS][16];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[N_JOBS];
    lg_job_result results[N_JOBS];
    lg_plan plan;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/lg-unit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->guest = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->build = (lg_build){ .id = (char *)"agent-7.12", .candidate = true };
    f->scenario = (lg_scenario){ .id = (char *)"boot" };
    for (size_t i = 0; i < N_JOBS; i++) {
        snprintf(f->content_ids[i], sizeof(f->content_ids[i]), "content-%zu", i);
        f->contents[i] = (lg_content){ .id = f->content_ids[i] };
        lg_job *j = &f->jobs[i];
        *j = (lg_job){ .guest = &f->guest, .build = &f->build, .content = &f->contents[i], .scenario = &f->scenario,
                       .seed = 100 + i };
        lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
        lg_job_result_init(&f->results[i]);
        f->results[i].host = (char *)(i % 2 ? "lab-b" : "lab-a");
        f->results[i].duration_s = 10 + (double)i;
        f->results[i].boots = 1;
        if (i == 1) {
            f->results[i].evidence.verdict = LG_VERDICT_CRASH;
            f->results[i].evidence.signal = LG_SIGNAL_PVPANIC;
            f->results[i].evidence.title = (char *)"BUG: kernel NULL pointer dereference";
        }
    }
    f->matrix = (lg_matrix){
        .path = (char *)"/m.xml", .name = (char *)"nightly", .guests = &f->guest, .n_guests = 1,
        .builds = &f->build, .n_builds = 1, .contents = f->contents, .n_contents = N_JOBS,
        .scenarios = &f->scenario, .n_scenarios = 1,
    };
    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = N_JOBS };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    lg_remove_tree(f->dir);
    free(f);
    return 0;
}

/* <inputs> as a run records them: the matrix's digest and a build's */
static void *inputs_doc(const char *matrix_sha, const char *build_sha)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr inputs = xmlNewNode(NULL, (const xmlChar *)"inputs");
    xmlDocSetRootElement(doc, inputs);
    xmlNodePtr m = xmlNewChild(inputs, NULL, (const xmlChar *)"matrix", NULL);
    xmlNewProp(m, (const xmlChar *)"path", (const xmlChar *)"/m.xml");
    xmlNewProp(m, (const xmlChar *)"sha256", (const xmlChar *)matrix_sha);
    xmlNodePtr b = xmlNewChild(inputs, NULL, (const xmlChar *)"build", NULL);
    xmlNewProp(b, (const xmlChar *)"id", (const xmlChar *)"agent-7.12");
    xmlNewProp(b, (const xmlChar *)"dir", (const xmlChar *)"/builds/7.12");
    xmlNewProp(b, (const xmlChar *)"sha256", (const xmlChar *)build_sha);
    xmlNodePtr img = xmlNewChild(inputs, NULL, (const xmlChar *)"image", NULL);
    xmlNewProp(img, (const xmlChar *)"guest", (const xmlChar *)"linux-x86_64");
    xmlNewProp(img, (const xmlChar *)"kind", (const xmlChar *)"disk");
    xmlNewProp(img, (const xmlChar *)"path", (const xmlChar *)"/images/disk.qcow2");
    xmlNewProp(img, (const xmlChar *)"sha256", (const xmlChar *)build_sha);
    return doc;
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct shard_spec {
    int index, count;
    bool whole_plan;            /* all jobs, not only the shard's */
    const char *plan_sha;       /* NULL: the plan's */
    const char *build_sha;      /* NULL: SHA_A */
    bool no_shard;              /* an unsharded run */
} shard_spec;

/* Writes DIR/NAME/run.xml as `labgate run --shard` does and loads its record. */
static lg_run_record *write_shard(const fixture *f, const char *name, shard_spec spec)
{
    lg_job part_jobs[N_JOBS];
    lg_job_result part_results[N_JOBS];
    lg_plan part = f->plan;
    part.jobs = part_jobs;
    part.n_jobs = 0;
    for (size_t i = 0; i < N_JOBS; i++)
        if (spec.whole_plan || spec.no_shard || lg_shard_of(f->jobs[i].id, spec.count) == spec.index) {
            part_results[part.n_jobs] = f->results[i];
            part_jobs[part.n_jobs++] = f->jobs[i];
        }
    lg_report_shard shard = { .index = spec.index, .count = spec.count, .plan_jobs = N_JOBS };
    lg_plan_digest(&f->plan, shard.plan_sha256);
    if (spec.plan_sha)
        snprintf(shard.plan_sha256, sizeof(shard.plan_sha256), "%s", spec.plan_sha);
    void *inputs = inputs_doc(SHA_A, spec.build_sha ? spec.build_sha : SHA_A);
    lg_run_report r = {
        .plan = &part, .results = part_results, .run_id = name, .started = "2026-12-04T00:00:00Z",
        .finished = "2026-12-04T00:10:00Z", .accel = "tcg", .exit_code = 0, .inputs = inputs,
        .shard = spec.no_shard ? NULL : &shard,
    };
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/%s", f->dir, name);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run.xml", dir);
    assert_int_equal(lg_report_write_runxml(&r, path), 0);
    lg_report_inputs_free(inputs);
    lg_run_record *record = NULL;
    lg_diags diags = { 0 };
    assert_int_equal(lg_run_record_load(path, &record, &diags), 0);
    assert_int_equal(diags.n, 0);
    return record;
}

/* lg_merge_check over the records; returns its message (or NULL) */
static char *check(lg_run_record **records, const char **dirs, size_t n, int want_rc)
{
    char *why = NULL;
    assert_int_equal(lg_merge_check((const lg_run_record *const *)records, dirs, n, &why), want_rc);
    if (want_rc == 0)
        assert_null(why);
    else
        assert_non_null(why);
    for (size_t k = 0; k < n; k++)
        lg_run_record_free(records[k]);
    return why;
}

static void assert_says(char *why, const char *needle)
{
    if (!strstr(why, needle))
        fail_msg("'%s' not in: %s", needle, why);
    free(why);
}

static void test_shards_of_one_plan_merge(void **state)
{
    fixture *f = *state;
    for (int count = 1; count <= 3; count++) {
        lg_run_record *records[3];
        const char *dirs[3] = { "s1", "s2", "s3" };
        /* in any order */
        for (int k = 0; k < count; k++)
            records[k] = write_shard(f, dirs[k], (shard_spec){ .index = count - k, .count = count });
        assert_null(check(records, dirs, (size_t)count, 0));
    }
}

static void test_missing_shard(void **state)
{
    fixture *f = *state;
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 3 }), write_shard(f, "c", (shard_spec){ .index = 3, .count = 3 }) };
    const char *dirs[2] = { "results/a", "results/c" };
    assert_says(check(records, dirs, 2, -EINVAL),
                "shard 2/3 is missing (given: results/a is 1/3; results/c is 3/3): the merged run would not cover "
                "the plan");
}

static void test_duplicate_shard(void **state)
{
    fixture *f = *state;
    lg_run_record *records[3] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2 }), write_shard(f, "b", (shard_spec){ .index = 2, .count = 2 }),
                                  write_shard(f, "b2", (shard_spec){ .index = 2, .count = 2 }) };
    const char *dirs[3] = { "results/a", "results/b", "results/b-again" };
    assert_says(check(records, dirs, 3, -EINVAL), "shard 2/2 is given twice: results/b and results/b-again");
}

static void test_other_count(void **state)
{
    fixture *f = *state;
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2 }), write_shard(f, "b", (shard_spec){ .index = 2, .count = 3 }) };
    const char *dirs[2] = { "results/a", "results/b" };
    assert_says(check(records, dirs, 2, -EINVAL), "results/b is shard 2/3 but results/a is shard 1/2");
}

static void test_other_plan(void **state)
{
    fixture *f = *state;
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2 }),
                                  write_shard(f, "b", (shard_spec){ .index = 2, .count = 2, .plan_sha = SHA_B }) };
    const char *dirs[2] = { "results/a", "results/b" };
    assert_says(check(records, dirs, 2, -EINVAL), "results/b ran another plan than results/a");
}

static void test_other_inputs(void **state)
{
    fixture *f = *state;
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2 }),
                                  write_shard(f, "b", (shard_spec){ .index = 2, .count = 2, .build_sha = SHA_B }) };
    const char *dirs[2] = { "results/a", "results/b" };
    assert_says(check(records, dirs, 2, -EINVAL),
                "results/b: build 'agent-7.12' has digest bbbbbbbbbbbb..., but aaaaaaaaaaaa... in results/a: the "
                "shards were given different files");
}

static void test_not_a_shard(void **state)
{
    fixture *f = *state;
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2 }),
                                  write_shard(f, "full", (shard_spec){ .index = 0, .count = 0, .no_shard = true }) };
    const char *dirs[2] = { "results/a", "results/full" };
    assert_says(check(records, dirs, 2, -EINVAL), "results/full: not a shard's results");
}

static void test_jobs_of_another_shard(void **state)
{
    fixture *f = *state;
    /* shard 1 claims every job of the plan: some are shard 2's */
    lg_run_record *records[2] = { write_shard(f, "a", (shard_spec){ .index = 1, .count = 2, .whole_plan = true }),
                                  write_shard(f, "b", (shard_spec){ .index = 2, .count = 2 }) };
    const char *dirs[2] = { "results/a", "results/b" };
    char *why = check(records, dirs, 2, -EINVAL);
    assert_says(why, "but it belongs to shard 2/2");
}

/* The merged results: each job's result read from its shard's run.xml is
 * the result the shard wrote, host included. */
static void test_results_read_back(void **state)
{
    fixture *f = *state;
    lg_run_record_free(write_shard(f, "r1", (shard_spec){ .index = 1, .count = 2 }));
    lg_run_record_free(write_shard(f, "r2", (shard_spec){ .index = 2, .count = 2 }));
    lg_job_result results[N_JOBS];
    bool found[N_JOBS] = { false };
    void *inputs = NULL;
    for (int k = 1; k <= 2; k++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s/r%d/run.xml", f->dir, k);
        lg_diags diags = { 0 };
        assert_int_equal(lg_journal_read_runxml_jobs(path, &f->plan, results, found, &inputs, &diags), 0);
        assert_int_equal(diags.n, 0);
    }
    assert_non_null(inputs);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_true(found[i]);
        assert_int_equal(results[i].evidence.verdict, f->results[i].evidence.verdict);
        assert_string_equal(results[i].host, f->results[i].host);
        assert_true(results[i].duration_s == f->results[i].duration_s);
        lg_job_result_clear(&results[i]);
    }
    /* a shard read twice: its jobs have results already */
    memset(found, 0, sizeof(found));
    LG_AUTOFREE char *path = lg_strdup_printf("%s/r1/run.xml", f->dir);
    lg_diags diags = { 0 };
    for (int twice = 0; twice < 2; twice++)
        lg_journal_read_runxml_jobs(path, &f->plan, results, found, NULL, &diags);
    assert_true(lg_diags_errors(&diags) > 0);
    assert_non_null(strstr(diags.items[0].message, "has a result already"));
    lg_diags_clear(&diags);
    for (size_t i = 0; i < N_JOBS; i++)
        if (found[i])
            lg_job_result_clear(&results[i]);
    lg_report_inputs_free(inputs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shards_of_one_plan_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_of_another_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_read_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
