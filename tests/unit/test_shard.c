/* CI shards (model/shard.h): --shard I/N parsed strictly, every job in
 * exactly one shard, a job's shard unmoved when other jobs come or go,
 * shards balanced within reason, and the plan digest that ties shards of
 * one plan together. */
#include <errno.h>

#include "lg_test.h"

#include "base/error.h"
#include "model/plan.h"
#include "model/shard.h"

static void test_parse(void **state)
{
    (void)state;
    lg_shard s = { 7, 7 };
    assert_int_equal(lg_shard_parse("1/2", &s), 0);
    assert_int_equal(s.index, 1);
    assert_int_equal(s.count, 2);
    assert_int_equal(lg_shard_parse("1/1", &s), 0);
    assert_int_equal(lg_shard_parse("1000/1000", &s), 0);
    assert_int_equal(s.index, 1000);
    static const char *const bad[] = { "0/2", "3/2", "1/0", "0/0", "x", "", "1", "1/", "/2", "-1/2", "1/-2",
                                       "1/2/3", " 1/2", "1/2 ", "1.0/2", "1/1001", "99999999/99999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lg_shard before = { 5, 9 }, got = before;
        if (lg_shard_parse(bad[i], &got) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        /* untouched on failure, and the message names the value */
        assert_int_equal(got.index, 5);
        assert_int_equal(got.count, 9);
        assert_non_null(strstr(lg_error_msg(), bad[i]));
    }
    assert_int_equal(lg_shard_parse(NULL, &s), -EINVAL);
    lg_shard_parse("3/2", &s);
    assert_non_null(strstr(lg_error_msg(), "from 1 to N"));
    lg_shard_parse("1/0", &s);
    assert_non_null(strstr(lg_error_msg(), "N must be from 1"));
}

/* A plan of n jobs built from names alone, as lg_plan_expand makes ids. */
typedef struct plan_fixture {
    lg_job *jobs;
    lg_plan plan;
} plan_fixture;

static void make_plan(plan_fixture *f, size_t n, size_t first)
{
    f->jobs = calloc(n + 1, sizeof(*f->jobs));
    assert_non_null(f->jobs);
    for (size_t i = 0; i < n; i++) {
        char content[32];
        snprintf(content, sizeof(content), "content-%zu", first + i);
        lg_job_make_id("linux-x86_64", "agent-7.12", content, "reboot3", f->jobs[i].id);
    }
    f->plan = (lg_plan){ .jobs = f->jobs, .n_jobs = n };
}

static void test_every_job_in_exactly_one_shard(void **state)
{
    (void)state;
    plan_fixture f;
    make_plan(&f, 200, 0);
    for (int count = 1; count <= 7; count++) {
        size_t total = 0;
        size_t *hits = calloc(200, sizeof(*hits));
        assert_non_null(hits);
        for (int index = 1; index <= count; index++) {
            lg_job kept[200];
            memcpy(kept, f.jobs, sizeof(kept));
            lg_plan part = { .jobs = kept, .n_jobs = 200 };
            size_t n = lg_plan_keep_shard(&part, (lg_shard){ index, count });
            assert_int_equal(n, part.n_jobs);
            total += n;
            size_t last = 0;
            for (size_t k = 0; k < n; k++) {
                size_t at = (size_t)-1;
                for (size_t i = 0; i < 200; i++)
                    if (strcmp(f.jobs[i].id, kept[k].id) == 0)
                        at = i;
                assert_true(at != (size_t)-1);
                /* plan order kept */
                assert_true(k == 0 || at > last);
                last = at;
                hits[at]++;
                assert_int_equal(lg_shard_of(kept[k].id, count), index);
            }
        }
        assert_int_equal(total, 200);
        for (size_t i = 0; i < 200; i++)
            assert_int_equal(hits[i], 1);
        free(hits);
    }
    /* not sharded: every job */
    assert_int_equal(lg_plan_keep_shard(&f.plan, (lg_shard){ 0, 0 }), 200);
    free(f.jobs);
}

static void test_stable_when_jobs_come_and_go(void **state)
{
    (void)state;
    plan_fixture before, after;
    make_plan(&before, 100, 0);
    /* one job more (a new content set), and the first ten gone */
    make_plan(&after, 91, 10);
    for (int count = 2; count <= 5; count++)
        for (size_t i = 10; i < 100; i++) {
            const char *id = before.jobs[i].id;
            assert_string_equal(id, after.jobs[i - 10].id);
            assert_int_equal(lg_shard_of(id, count), lg_shard_of(after.jobs[i - 10].id, count));
        }
    /* and the same answer every time, on every machine: a fixed id's shard */
    char id[LG_JOB_ID_LEN + 1];
    lg_job_make_id("linux-x86_64", "sample-agent-1.0", "good", "install-content-reboot3", id);
    assert_string_equal(id, "fb2975084651");
    assert_int_equal(lg_shard_of(id, 2), 2);
    assert_int_equal(lg_shard_of(id, 1), 1);
    free(before.jobs);
    free(after.jobs);
}

static void test_balanced_within_reason(void **state)
{
    (void)state;
    plan_fixture f;
    make_plan(&f, 1000, 0);
    for (int count = 2; count <= 10; count++) {
        size_t sizes[11] = { 0 };
        for (size_t i = 0; i < 1000; i++)
            sizes[lg_shard_of(f.jobs[i].id, count)]++;
        double mean = 1000.0 / count;
        for (int index = 1; index <= count; index++)
            /* binomial: sd = sqrt(mean (1 - 1/N)) < 23; 4 sd is never met by chance here */
            if (sizes[index] < mean - 4 * 23 || sizes[index] > mean + 4 * 23)
                fail_msg("shard %d of %d has %zu jobs, the mean is %.0f", index, count, sizes[index], mean);
    }
    free(f.jobs);
}

static void test_plan_digest(void **state)
{
    (void)state;
    plan_fixture f;
    make_plan(&f, 5, 0);
    char whole[LG_SHA256_HEX_LEN + 1], reversed[LG_SHA256_HEX_LEN + 1], fewer[LG_SHA256_HEX_LEN + 1];
    lg_plan_digest(&f.plan, whole);
    assert_int_equal(strlen(whole), 64);
    /* a set: the order of the ids does not matter */
    const char *ids[5];
    for (size_t i = 0; i < 5; i++)
        ids[i] = f.jobs[4 - i].id;
    lg_job_ids_digest(ids, 5, reversed);
    assert_string_equal(whole, reversed);
    lg_job_ids_digest(ids, 4, fewer);
    assert_string_not_equal(whole, fewer);
    free(f.jobs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_every_job_in_exactly_one_shard),
        cmocka_unit_test(test_stable_when_jobs_come_and_go),
        cmocka_unit_test(test_balanced_within_reason),
        cmocka_unit_test(test_plan_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
