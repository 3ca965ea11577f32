/* lg_plan_expand: the jobs a run executes, their order, excludes, and ids
 * and seeds that depend only on names. */
#include <ctype.h>
#include <errno.h>

#include "lg_test.h"

#include "model/matrix.h"
#include "model/plan.h"

/* --------------------------------------------- matrices built in memory */

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* The plan reads only ids, excludes and the policy seed; the rest stays empty
 * (lg_matrix_free accepts that). */
static lg_matrix *make_matrix(const char *const *guests, const char *const *builds,
                              const char *const *contents, const char *const *scenarios)
{
    lg_matrix *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->n_guests = count_names(guests);
    m->guests = calloc(m->n_guests + 1, sizeof(*m->guests));
    for (size_t i = 0; i < m->n_guests; i++)
        m->guests[i].id = strdup(guests[i]);
    m->n_builds = count_names(builds);
    m->builds = calloc(m->n_builds + 1, sizeof(*m->builds));
    for (size_t i = 0; i < m->n_builds; i++)
        m->builds[i].id = strdup(builds[i]);
    m->n_contents = count_names(contents);
    m->contents = calloc(m->n_contents + 1, sizeof(*m->contents));
    for (size_t i = 0; i < m->n_contents; i++)
        m->contents[i].id = strdup(contents[i]);
    m->n_scenarios = count_names(scenarios);
    m->scenarios = calloc(m->n_scenarios + 1, sizeof(*m->scenarios));
    for (size_t i = 0; i < m->n_scenarios; i++)
        m->scenarios[i].id = strdup(scenarios[i]);
    return m;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void add_exclude(lg_matrix *m, const char *guest, const char *build, const char *content,
                        const char *scenario)
{
    lg_exclude *grown = realloc(m->excludes, (m->n_excludes + 1) * sizeof(*grown));
    assert_non_null(grown);
    m->excludes = grown;
    m->excludes[m->n_excludes++] = (lg_exclude){
        .guest = dup_or_null(guest),
        .build = dup_or_null(build),
        .content = dup_or_null(content),
        .scenario = dup_or_null(scenario),
    };
}

static const char *const GUESTS[] = { "linux-x86_64", "win11-x86_64", NULL };
static const char *const BUILDS[] = { "agent-1.0", "agent-2.0", NULL };
static const char *const CONTENTS[] = { "good", "faulty", NULL };
static const char *const SCENARIOS[] = { "boot", "reboot3", NULL };

static lg_matrix *make_2x2x2x2(void)
{
    return make_matrix(GUESTS, BUILDS, CONTENTS, SCENARIOS);
}

static lg_plan *expand(const lg_matrix *m)
{
    lg_plan *plan = lg_plan_expand(m);
    assert_non_null(plan);
    assert_ptr_equal(plan->matrix, m);
    return plan;
}

static void assert_job(const lg_job *job, const char *guest, const char *build, const char *content,
                       const char *scenario)
{
    assert_string_equal(job->guest->id, guest);
    assert_string_equal(job->build->id, build);
    assert_string_equal(job->content->id, content);
    assert_string_equal(job->scenario->id, scenario);
}

static bool job_is(const lg_job *job, const char *guest, const char *build, const char *content,
                   const char *scenario)
{
    return (!guest || strcmp(job->guest->id, guest) == 0) && (!build || strcmp(job->build->id, build) == 0) &&
           (!content || strcmp(job->content->id, content) == 0) &&
           (!scenario || strcmp(job->scenario->id, scenario) == 0);
}

/* ------------------------------------------------------------------ tests */

static void test_cross_product_count_and_order(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 16);
    assert_int_equal(plan->n_excluded, 0);

    /* guest slowest, then content (one guest's jobs for one content set sit
     * together), then build, scenario fastest */
    size_t i = 0;
    for (size_t g = 0; g < 2; g++)
        for (size_t c = 0; c < 2; c++)
            for (size_t b = 0; b < 2; b++)
                for (size_t s = 0; s < 2; s++) {
                    const lg_job *job = &plan->jobs[i++];
                    assert_job(job, GUESTS[g], BUILDS[b], CONTENTS[c], SCENARIOS[s]);
                    /* the job points into the matrix, not at copies */
                    assert_ptr_equal(job->guest, &m->guests[g]);
                    assert_ptr_equal(job->build, &m->builds[b]);
                    assert_ptr_equal(job->content, &m->contents[c]);
                    assert_ptr_equal(job->scenario, &m->scenarios[s]);
                }
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_uneven_dimensions(void **state)
{
    (void)state;
    static const char *const guests[] = { "g1", "g2", "g3", NULL };
    static const char *const builds[] = { "b1", NULL };
    static const char *const contents[] = { "c1", "c2", NULL };
    static const char *const scenarios[] = { "s1", "s2", "s3", "s4", NULL };
    lg_matrix *m = make_matrix(guests, builds, contents, scenarios);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 3 * 1 * 2 * 4);
    assert_job(&plan->jobs[0], "g1", "b1", "c1", "s1");
    assert_job(&plan->jobs[3], "g1", "b1", "c1", "s4");
    assert_job(&plan->jobs[4], "g1", "b1", "c2", "s1");
    assert_job(&plan->jobs[8], "g2", "b1", "c1", "s1");
    assert_job(&plan->jobs[23], "g3", "b1", "c2", "s4");
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_empty_dimension_gives_no_jobs(void **state)
{
    (void)state;
    static const char *const none[] = { NULL };
    lg_matrix *m = make_matrix(GUESTS, BUILDS, CONTENTS, none);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 0);
    assert_int_equal(plan->n_excluded, 0);
    assert_int_equal(lg_plan_find(plan, "000000000000"), -1);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_exclude_single_attribute(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    add_exclude(m, NULL, NULL, "faulty", NULL);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 8);
    assert_int_equal(plan->n_excluded, 8);
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_string_equal(plan->jobs[i].content->id, "good");
    /* the order of what remains is unchanged */
    assert_job(&plan->jobs[0], "linux-x86_64", "agent-1.0", "good", "boot");
    assert_job(&plan->jobs[4], "win11-x86_64", "agent-1.0", "good", "boot");
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_exclude_combination(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    /* only the combination: the old agent is not supported on Windows 11 */
    add_exclude(m, "win11-x86_64", "agent-1.0", NULL, NULL);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 12);
    assert_int_equal(plan->n_excluded, 4);
    size_t linux_old = 0, win_new = 0;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *job = &plan->jobs[i];
        assert_false(job_is(job, "win11-x86_64", "agent-1.0", NULL, NULL));
        linux_old += job_is(job, "linux-x86_64", "agent-1.0", NULL, NULL);
        win_new += job_is(job, "win11-x86_64", "agent-2.0", NULL, NULL);
    }
    assert_int_equal(linux_old, 4);
    assert_int_equal(win_new, 4);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_exclude_all_four_names_one_job(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    add_exclude(m, "linux-x86_64", "agent-2.0", "faulty", "reboot3");
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 15);
    assert_int_equal(plan->n_excluded, 1);
    char id[LG_JOB_ID_LEN + 1];
    lg_job_make_id("linux-x86_64", "agent-2.0", "faulty", "reboot3", id);
    assert_int_equal(lg_plan_find(plan, id), -1);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_overlapping_excludes_count_each_job_once(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    add_exclude(m, NULL, NULL, "faulty", NULL);
    add_exclude(m, "win11-x86_64", NULL, NULL, NULL);
    lg_plan *plan = expand(m);
    /* faulty (8) or win11 (8), 4 of them both */
    assert_int_equal(plan->n_jobs, 4);
    assert_int_equal(plan->n_excluded, 12);
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_true(job_is(&plan->jobs[i], "linux-x86_64", NULL, "good", NULL));
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void test_exclude_matching_nothing(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    lg_plan *all = expand(m);
    /* a name the matrix does not have (the loader rejects it; the plan must
     * still not exclude anything because of it) */
    add_exclude(m, "linux-aarch64", NULL, NULL, NULL);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 16);
    assert_int_equal(plan->n_excluded, 0);
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_string_equal(plan->jobs[i].id, all->jobs[i].id);
    lg_plan_free(plan);
    lg_plan_free(all);
    lg_matrix_free(m);
}

static void test_exclude_from_matrix_file(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = NULL;
    assert_int_equal(lg_matrix_load(FIXTURE("matrix/valid.xml"), &m, &diags), 0);
    lg_plan *plan = expand(m);
    /* 2 guests x 3 builds x 2 contents x 2 scenarios, minus aarch64 + agent-1.0 */
    assert_int_equal(plan->n_jobs, 20);
    assert_int_equal(plan->n_excluded, 4);
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_false(job_is(&plan->jobs[i], "linux-aarch64", "agent-1.0", NULL, NULL));
    lg_plan_free(plan);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
}

static void assert_well_formed_id(const char *id)
{
    assert_int_equal(strlen(id), LG_JOB_ID_LEN);
    for (size_t i = 0; i < LG_JOB_ID_LEN; i++)
        assert_true(isdigit((unsigned char)id[i]) || (id[i] >= 'a' && id[i] <= 'f'));
}

static void test_ids_stable_across_loads(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *first = NULL, *second = NULL;
    assert_int_equal(lg_matrix_load(FIXTURE("matrix/valid.xml"), &first, &diags), 0);
    assert_int_equal(lg_matrix_load(FIXTURE("matrix/valid.xml"), &second, &diags), 0);
    lg_plan *a = expand(first);
    lg_plan *b = expand(second);
    assert_int_equal(a->n_jobs, b->n_jobs);
    for (size_t i = 0; i < a->n_jobs; i++) {
        assert_well_formed_id(a->jobs[i].id);
        assert_string_equal(a->jobs[i].id, b->jobs[i].id);
        assert_true(a->jobs[i].seed == b->jobs[i].seed);
        /* unique within the plan */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(a->jobs[i].id, a->jobs[j].id);
    }
    lg_plan_free(a);
    lg_plan_free(b);
    lg_matrix_free(first);
    lg_matrix_free(second);
    lg_diags_clear(&diags);
}

/* Ids are FNV-1a over the four names with NUL separators, low 48 bits: the
 * same on every machine and every version, so a job id in last night's
 * report still names the same job today. */
static void test_id_known_value(void **state)
{
    (void)state;
    char id[LG_JOB_ID_LEN + 1];
    lg_job_make_id("linux-x86_64", "sample-agent-1.0", "good", "install-content-reboot3", id);
    assert_string_equal(id, "fb2975084651");
    lg_job_make_id("linux-x86_64", "sample-agent-1.0", "faulty", "install-content-reboot3", id);
    assert_string_equal(id, "3ee2b5e9bd4b");
}

static void assert_ids_differ(const char *g1, const char *b1, const char *c1, const char *s1,
                              const char *g2, const char *b2, const char *c2, const char *s2)
{
    char a[LG_JOB_ID_LEN + 1], b[LG_JOB_ID_LEN + 1];
    lg_job_make_id(g1, b1, c1, s1, a);
    lg_job_make_id(g2, b2, c2, s2, b);
    if (strcmp(a, b) == 0)
        fail_msg("(%s,%s,%s,%s) and (%s,%s,%s,%s) share id %s", g1, b1, c1, s1, g2, b2, c2, s2, a);
}

static void test_ids_differ_when_any_name_differs(void **state)
{
    (void)state;
    const char *g = "linux-x86_64", *b = "agent-1.0", *c = "good", *s = "boot";
    assert_ids_differ(g, b, c, s, "linux-aarch64", b, c, s);
    assert_ids_differ(g, b, c, s, g, "agent-1.1", c, s);
    assert_ids_differ(g, b, c, s, g, b, "faulty", s);
    assert_ids_differ(g, b, c, s, g, b, c, "reboot3");
    /* a character moved across a boundary between two names */
    assert_ids_differ("ab", "c", "d", "e", "a", "bc", "d", "e");
    assert_ids_differ("a", "bc", "d", "e", "a", "b", "cd", "e");
    assert_ids_differ("a", "b", "cd", "e", "a", "b", "c", "de");
    /* the same names in other roles */
    assert_ids_differ("x", "y", "z", "w", "y", "x", "z", "w");
    assert_ids_differ("same", "same", "same", "same", "same", "same", "same", "sam");
}

static void test_seed_changes_with_policy_seed_not_ids(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    lg_plan *seed0 = expand(m);
    m->policy.seed = 42;
    lg_plan *seed42 = expand(m);
    assert_int_equal(seed0->n_jobs, seed42->n_jobs);
    for (size_t i = 0; i < seed0->n_jobs; i++) {
        assert_string_equal(seed0->jobs[i].id, seed42->jobs[i].id);
        assert_true(seed0->jobs[i].seed != seed42->jobs[i].seed);
        assert_true(seed0->jobs[i].seed <= UINT32_MAX);
        /* different jobs get different seeds */
        for (size_t j = 0; j < i; j++)
            assert_true(seed0->jobs[i].seed != seed0->jobs[j].seed);
    }
    lg_plan_free(seed0);
    lg_plan_free(seed42);
    lg_matrix_free(m);
}

static void test_seed_known_value(void **state)
{
    (void)state;
    static const char *const g[] = { "linux-x86_64", NULL };
    static const char *const b[] = { "sample-agent-1.0", NULL };
    static const char *const c[] = { "good", NULL };
    static const char *const s[] = { "install-content-reboot3", NULL };
    lg_matrix *m = make_matrix(g, b, c, s);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 1);
    assert_string_equal(plan->jobs[0].id, "fb2975084651");
    assert_int_equal(plan->jobs[0].seed, 2429537800u);
    lg_plan_free(plan);
    m->policy.seed = 42;
    plan = expand(m);
    assert_int_equal(plan->jobs[0].seed, 979010294u);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

/* <apply-content cut-power-within-ms="W"/>: the moment depends on the
 * job's seed and the step's place, always in [0, W), and is the same for
 * the same job (repro expands the same plan). */
static void test_cut_power_moment(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    lg_plan *a = expand(m);
    lg_plan *b = expand(m);
    size_t distinct = 0;
    int first = lg_plan_cut_ms(&a->jobs[0], 2, 5000);
    for (size_t i = 0; i < a->n_jobs; i++) {
        for (int within = 1; within <= 100000; within *= 7) {
            int ms = lg_plan_cut_ms(&a->jobs[i], 2, within);
            assert_in_range(ms, 0, within - 1);
            assert_int_equal(ms, lg_plan_cut_ms(&b->jobs[i], 2, within));
        }
        if (lg_plan_cut_ms(&a->jobs[i], 2, 5000) != first)
            distinct++;
    }
    /* the seed and the step choose it: jobs, steps and seeds differ */
    assert_true(distinct > 0);
    bool step_differs = false;
    for (size_t k = 0; k < 8 && !step_differs; k++)
        step_differs = lg_plan_cut_ms(&a->jobs[0], k, 100000) != lg_plan_cut_ms(&a->jobs[0], 0, 100000);
    assert_true(step_differs);
    m->policy.seed = 7;
    lg_plan *c = expand(m);
    bool seed_differs = false;
    for (size_t i = 0; i < c->n_jobs; i++)
        seed_differs |= lg_plan_cut_ms(&c->jobs[i], 2, 100000) != lg_plan_cut_ms(&a->jobs[i], 2, 100000);
    assert_true(seed_differs);
    /* no window, no cut */
    assert_int_equal(lg_plan_cut_ms(&a->jobs[0], 2, 0), 0);
    assert_int_equal(lg_plan_cut_ms(&a->jobs[0], 2, -5), 0);
    /* a known value: a change of the derivation is a change of every repro */
    lg_job job = { .seed = 2429537800u };
    assert_int_equal(lg_plan_cut_ms(&job, 2, 6000), lg_plan_cut_ms(&job, 2, 6000));
    lg_plan_free(a);
    lg_plan_free(b);
    lg_plan_free(c);
    lg_matrix_free(m);
}

static void test_auto_slots(void **state)
{
    (void)state;
    lg_profile small = { .vcpus = 1, .memory_mib = 512 }, big = { .vcpus = 2, .memory_mib = 4096 };
    lg_guest guests[2] = { { .id = (char *)"small", .profile = &small }, { .id = (char *)"big", .profile = &big } };
    lg_matrix m = { .guests = guests, .n_guests = 1 };
    /* CPU-bound: 2 CPUs, plenty of memory */
    assert_int_equal(lg_plan_auto_slots(&m, 2, 24 * 1024), 2);
    /* memory-bound: 1024 reserved, 768 per guest */
    assert_int_equal(lg_plan_auto_slots(&m, 64, 1024 + 3 * 768 + 100), 3);
    /* the largest guest is the measure */
    m.n_guests = 2;
    assert_int_equal(lg_plan_auto_slots(&m, 8, 64 * 1024), 4);
    assert_int_equal(lg_plan_auto_slots(&m, 64, 1024 + 2 * (4096 + 256)), 2);
    /* never zero: a small host runs jobs one at a time */
    assert_int_equal(lg_plan_auto_slots(&m, 1, 512), 1);
}

/* Explicit slots beyond the host: an error on the host's line, or a
 * warning when the policy allows overcommit. */
static void test_check_slots(void **state)
{
    (void)state;
    lg_profile small = { .vcpus = 1, .memory_mib = 512 };
    lg_guest guest = { .id = (char *)"small", .profile = &small };
    lg_matrix m = { .path = (char *)"/m.xml", .guests = &guest, .n_guests = 1 };
    lg_host host = { .id = (char *)"local", .slots = 2, .line = 7 };
    lg_diags diags = { 0 };
    assert_int_equal(lg_plan_check_slots(&m, &host, 2, 24 * 1024, &diags), 0);
    assert_int_equal(diags.n, 0);
    host.slots = 12;
    assert_int_equal(lg_plan_check_slots(&m, &host, 2, 24 * 1024, &diags), -EINVAL);
    assert_int_equal(diags.n, 1);
    assert_false(diags.items[0].warning);
    assert_int_equal(diags.items[0].line, 7);
    assert_non_null(strstr(diags.items[0].message, "slots=\"12\" but it can run 2 guest(s)"));
    lg_diags_clear(&diags);
    m.policy.overcommit = true;
    assert_int_equal(lg_plan_check_slots(&m, &host, 2, 24 * 1024, &diags), 0);
    assert_int_equal(diags.n, 1);
    assert_true(diags.items[0].warning);
    lg_diags_clear(&diags);
}

static void test_plan_find(void **state)
{
    (void)state;
    lg_matrix *m = make_2x2x2x2();
    add_exclude(m, NULL, "agent-2.0", "faulty", NULL);
    lg_plan *plan = expand(m);
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_int_equal(lg_plan_find(plan, plan->jobs[i].id), (long)i);

    char id[LG_JOB_ID_LEN + 1];
    lg_job_make_id("win11-x86_64", "agent-1.0", "faulty", "reboot3", id);
    long found = lg_plan_find(plan, id);
    assert_true(found >= 0);
    assert_job(&plan->jobs[found], "win11-x86_64", "agent-1.0", "faulty", "reboot3");

    /* excluded, unknown, truncated, empty */
    lg_job_make_id("win11-x86_64", "agent-2.0", "faulty", "reboot3", id);
    assert_int_equal(lg_plan_find(plan, id), -1);
    assert_int_equal(lg_plan_find(plan, "000000000000"), -1);
    char prefix[LG_JOB_ID_LEN];
    memcpy(prefix, plan->jobs[0].id, LG_JOB_ID_LEN - 1);
    prefix[LG_JOB_ID_LEN - 1] = '\0';
    assert_int_equal(lg_plan_find(plan, prefix), -1);
    assert_int_equal(lg_plan_find(plan, ""), -1);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

static void give_steps(lg_scenario *sc, const lg_step *steps, size_t n)
{
    sc->steps = calloc(n + 1, sizeof(*sc->steps));
    assert_non_null(sc->steps);
    memcpy(sc->steps, steps, n * sizeof(*steps));
    sc->n_steps = n;
}

/* Jobs start longest first (boots, stress seconds, other steps), so that a
 * long job started last does not keep the run going on one slot; equal
 * costs keep the plan's order. */
static void test_start_order_longest_first(void **state)
{
    (void)state;
    lg_matrix *m = make_matrix((const char *const[]){ "g", NULL }, (const char *const[]){ "b", NULL },
                               (const char *const[]){ "c", NULL },
                               (const char *const[]){ "quick", "reboot3", "stress", "exec", "quick2", NULL });
    const lg_step reboot3[] = { { .kind = LG_STEP_INSTALL }, { .kind = LG_STEP_REBOOT, .count = 3 } };
    const lg_step stress[] = { { .kind = LG_STEP_STRESS, .stress_seconds = 60 } };
    const lg_step exec[] = { { .kind = LG_STEP_EXEC } };
    give_steps(&m->scenarios[1], reboot3, 2);
    give_steps(&m->scenarios[2], stress, 1);
    give_steps(&m->scenarios[3], exec, 1);
    lg_plan *plan = expand(m);
    assert_int_equal(plan->n_jobs, 5);
    assert_int_equal(lg_job_cost_s(&plan->jobs[0]), LG_JOB_BOOT_COST_S);
    assert_int_equal(lg_job_cost_s(&plan->jobs[1]), 4 * LG_JOB_BOOT_COST_S + LG_JOB_STEP_COST_S);
    assert_int_equal(lg_job_cost_s(&plan->jobs[2]), LG_JOB_BOOT_COST_S + 60);
    assert_int_equal(lg_job_cost_s(&plan->jobs[3]), LG_JOB_BOOT_COST_S + LG_JOB_STEP_COST_S);
    size_t *order = lg_plan_start_order(plan);
    const char *want[] = { "stress", "reboot3", "exec", "quick", "quick2" };
    for (size_t i = 0; i < plan->n_jobs; i++)
        assert_string_equal(plan->jobs[order[i]].scenario->id, want[i]);
    free(order);
    lg_plan_free(plan);
    lg_matrix_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_product_count_and_order),
        cmocka_unit_test(test_auto_slots),
        cmocka_unit_test(test_check_slots),
        cmocka_unit_test(test_uneven_dimensions),
        cmocka_unit_test(test_empty_dimension_gives_no_jobs),
        cmocka_unit_test(test_exclude_single_attribute),
        cmocka_unit_test(test_exclude_combination),
        cmocka_unit_test(test_exclude_all_four_names_one_job),
        cmocka_unit_test(test_overlapping_excludes_count_each_job_once),
        cmocka_unit_test(test_exclude_matching_nothing),
        cmocka_unit_test(test_exclude_from_matrix_file),
        cmocka_unit_test(test_ids_stable_across_loads),
        cmocka_unit_test(test_id_known_value),
        cmocka_unit_test(test_ids_differ_when_any_name_differs),
        cmocka_unit_test(test_seed_changes_with_policy_seed_not_ids),
        cmocka_unit_test(test_seed_known_value),
        cmocka_unit_test(test_plan_find),
        cmocka_unit_test(test_start_order_longest_first),
        cmocka_unit_test(test_cut_power_moment),
    };
    return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
