/* Cycles: the failure-rate bound's arithmetic (29 for 10 % at 95 %, 299 for
 * 1 %), the Clopper-Pearson interval against published values, and
 * <repeat>/count="auto" as a user writes them: what the loaded scenario
 * holds (a flat list, each copy knowing its cycle) and the FILE:LINE error
 * for every misuse. */
#include <errno.h>
#include <math.h>

#include "lg_test.h"

#include "base/mem.h"
#include "model/bound.h"
#include "model/diag.h"
#include "model/matrix.h"
#include "model/plan.h"

#define FX FIXTURE("matrix")

/* ------------------------------------------------------------ the bound */

static void test_bound_cycles_known_values(void **state)
{
    (void)state;
    assert_int_equal(lg_bound_cycles(0.1, 0.95), 29);
    assert_int_equal(lg_bound_cycles(0.01, 0.95), 299);
    assert_int_equal(lg_bound_cycles(0.5, 0.9), 4);
    assert_int_equal(lg_bound_cycles(0.05, 0.95), 59);
    assert_int_equal(lg_bound_cycles(0.01, 0.99), 459);
    assert_int_equal(lg_bound_cycles(0.001, 0.95), 2995);
    /* the smallest n with (1 - p)^n <= 1 - c, checked directly */
    static const double ps[] = { 0.3, 0.1, 0.02, 0.01, 0.003, 0.0005 };
    static const double cs[] = { 0.5, 0.8, 0.9, 0.95, 0.99, 0.999 };
    for (size_t i = 0; i < LG_N_ELEMENTS(ps); i++)
        for (size_t k = 0; k < LG_N_ELEMENTS(cs); k++) {
            long n = lg_bound_cycles(ps[i], cs[k]);
            assert_true(n >= 1);
            assert_true(pow(1 - ps[i], (double)n) <= 1 - cs[k] + 1e-12);
            assert_true(n == 1 || pow(1 - ps[i], (double)(n - 1)) > 1 - cs[k]);
        }
}

static void test_bound_cycles_exact_quotient(void **state)
{
    (void)state;
    /* ln(0.25) / ln(0.5) is 2 exactly: floating point must not make it 3 */
    assert_int_equal(lg_bound_cycles(0.5, 0.75), 2);
    assert_int_equal(lg_bound_cycles(0.5, 0.875), 3);
    assert_int_equal(lg_bound_cycles(0.9, 0.99), 2);
    /* one cycle is enough when p >= c */
    assert_int_equal(lg_bound_cycles(0.9, 0.5), 1);
    assert_int_equal(lg_bound_cycles(0.5, 0.5), 1);
}

static void test_bound_cycles_edges(void **state)
{
    (void)state;
    assert_int_equal(lg_bound_cycles(0, 0.95), -EINVAL);
    assert_int_equal(lg_bound_cycles(1, 0.95), -EINVAL);
    assert_int_equal(lg_bound_cycles(0.1, 0), -EINVAL);
    assert_int_equal(lg_bound_cycles(0.1, 1), -EINVAL);
    assert_int_equal(lg_bound_cycles(-0.1, 0.5), -EINVAL);
    assert_int_equal(lg_bound_cycles(NAN, 0.5), -EINVAL);
    assert_int_equal(lg_bound_cycles(0.1, NAN), -EINVAL);
    /* a tiny rate: log1p keeps it exact (1 - 1e-9 would lose digits) */
    long n = lg_bound_cycles(1e-9, 0.95);
    assert_true(n > 2995732000L && n < 2995733000L);
    /* absurd ones are clamped, not overflowed */
    assert_int_equal(lg_bound_cycles(1e-300, 0.999999), 1000000000000L);
    assert_true(lg_bound_cycles(0.0001, 0.99) > LG_BOUND_MAX_CYCLES);
}

static void test_bound_claim_words(void **state)
{
    (void)state;
    LG_AUTOFREE char *a = lg_bound_claim(29, "boots", 0.1, 0.95);
    assert_string_equal(a, "0 failures in 29 boots: failure rate < 0.1 at confidence 0.95");
    LG_AUTOFREE char *b = lg_bound_claim(4, "cycles", 0.5, 0.9);
    assert_string_equal(b, "0 failures in 4 cycles: failure rate < 0.5 at confidence 0.9");
}

/* ------------------------------------------------- the exact interval */

static void assert_near(double got, double want, double tolerance)
{
    if (fabs(got - want) > tolerance)
        fail_msg("got %.6f, want %.6f (+- %g)", got, want, tolerance);
}

static void test_beta_inc_known_values(void **state)
{
    (void)state;
    /* I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b */
    assert_near(lg_beta_inc(1, 1, 0.3), 0.3, 1e-12);
    assert_near(lg_beta_inc(3, 1, 0.5), 0.125, 1e-12);
    assert_near(lg_beta_inc(1, 29, 0.1), 1 - pow(0.9, 29), 1e-12);
    /* symmetry I_x(a, b) = 1 - I_{1-x}(b, a), on both branches */
    assert_near(lg_beta_inc(5, 16, 0.3) + lg_beta_inc(16, 5, 0.7), 1, 1e-12);
    /* the binomial tail: P(X >= 5), X ~ Bin(20, 0.25) = 0.5851585 */
    assert_near(lg_beta_inc(5, 16, 0.25), 0.5851585, 1e-6);
    /* large arguments stay finite and in range */
    double v = lg_beta_inc(3000, 7000, 0.3);
    assert_true(v > 0.5 && v < 0.6);
    assert_true(isnan(lg_beta_inc(0, 1, 0.5)));
    assert_true(isnan(lg_beta_inc(1, 1, 1.5)));
    assert_near(lg_beta_inc(2, 3, 0), 0, 0);
    assert_near(lg_beta_inc(2, 3, 1), 1, 0);
}

static void test_clopper_pearson_known_values(void **state)
{
    (void)state;
    double lo = -1, hi = -1;
    /* zero failures: the upper end is 1 - (alpha/2)^(1/n) */
    assert_int_equal(lg_clopper_pearson(0, 29, 0.95, &lo, &hi), 0);
    assert_near(lo, 0, 0);
    assert_near(hi, 1 - pow(0.025, 1.0 / 29), 1e-9);
    assert_near(hi, 0.1194, 5e-5);
    assert_int_equal(lg_clopper_pearson(0, 299, 0.95, &lo, &hi), 0);
    assert_near(hi, 1 - pow(0.025, 1.0 / 299), 1e-9);
    assert_near(hi, 0.01226, 5e-6);
    /* the textbook case: 5 in 20 */
    assert_int_equal(lg_clopper_pearson(5, 20, 0.95, &lo, &hi), 0);
    assert_near(lo, 0.0866, 5e-5);
    assert_near(hi, 0.4910, 5e-5);
    /* all failures mirror none */
    assert_int_equal(lg_clopper_pearson(29, 29, 0.95, &lo, &hi), 0);
    assert_near(lo, pow(0.025, 1.0 / 29), 1e-9);
    assert_near(hi, 1, 0);
    /* one in one, 90 %: [0.05, 1] */
    assert_int_equal(lg_clopper_pearson(1, 1, 0.9, &lo, &hi), 0);
    assert_near(lo, 0.05, 1e-9);
    /* 1 failure in 7 runs (repro stopping at the first), 95 %: [0.0036, 0.5787] */
    assert_int_equal(lg_clopper_pearson(1, 7, 0.95, &lo, &hi), 0);
    assert_near(lo, 0.0036, 5e-5);
    assert_near(hi, 0.5787, 5e-5);
    /* a wider confidence, a wider interval */
    double lo99, hi99;
    assert_int_equal(lg_clopper_pearson(5, 20, 0.99, &lo99, &hi99), 0);
    assert_true(lo99 < 0.0866 && hi99 > 0.4910);
}

static void test_clopper_pearson_refuses_nonsense(void **state)
{
    (void)state;
    double lo = 7, hi = 7;
    assert_int_equal(lg_clopper_pearson(1, 0, 0.95, &lo, &hi), -EINVAL);
    assert_int_equal(lg_clopper_pearson(-1, 5, 0.95, &lo, &hi), -EINVAL);
    assert_int_equal(lg_clopper_pearson(6, 5, 0.95, &lo, &hi), -EINVAL);
    assert_int_equal(lg_clopper_pearson(1, 5, 1, &lo, &hi), -EINVAL);
    assert_int_equal(lg_clopper_pearson(1, 5, 0, &lo, &hi), -EINVAL);
    /* nothing written on failure */
    assert_near(lo, 7, 0);
    assert_near(hi, 7, 0);
}

/* ----------------------------------------------- matrices with cycles */

typedef struct scratch {
    char dir[64];
    char path[128];
} scratch;

/* A matrix in a scratch directory around the given scenario body and
 * policy attributes; the rest points at the fixtures.  The scenario starts
 * on line 8: line N of body is line 7 + N of the file. */
static void write_matrix(scratch *s, const char *body, const char *policy)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/lg-cycles-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof(s->path), "%s/m.xml", s->dir);
    LG_AUTOFREE char *text = lg_strdup_printf(
        "<?xml version=\"1.0\"?>\n"
        "<matrix name=\"cycles\">\n"
        "  <hosts><host id=\"local\" uri=\"qemu:///session\"/></hosts>\n"
        "  <guests><guest id=\"g\" profile=\"" FX "/profiles/linux-x86_64.xml\"/></guests>\n"
        "  <builds><build id=\"b\" dir=\"" FX "/builds/agent-1.0\" status=\"candidate\"/></builds>\n"
        "  <contents><content id=\"c\" dir=\"" FX "/content/good\"/></contents>\n"
        "  <scenarios><scenario id=\"s\">\n"
        "%s\n"
        "  </scenario></scenarios>\n"
        "  %s\n"
        "</matrix>\n",
        body, policy ? policy : "");
    assert_int_equal(lg_write_file(s->path, text, strlen(text)), 0);
}

static void scratch_done(scratch *s)
{
    lg_remove_tree(s->dir);
}

static void dump(const lg_diags *diags)
{
    for (size_t i = 0; i < diags->n; i++)
        print_message("#   %s:%d: %s%s\n", diags->items[i].file, diags->items[i].line,
                      diags->items[i].warning ? "warning: " : "", diags->items[i].message);
}

/* The diagnostics other than the fixture profile's (its images are never
 * built: a warning each). */
static size_t own_diags(const lg_diags *diags, const char *path)
{
    size_t n = 0;
    for (size_t i = 0; i < diags->n; i++)
        n += strcmp(diags->items[i].file, path) == 0;
    return n;
}

static const lg_diag *own_diag(const lg_diags *diags, const char *path)
{
    for (size_t i = 0; i < diags->n; i++)
        if (strcmp(diags->items[i].file, path) == 0)
            return &diags->items[i];
    return NULL;
}

static lg_matrix *load_ok(scratch *s, const char *body, const char *policy, lg_diags *diags)
{
    write_matrix(s, body, policy);
    lg_matrix *m = NULL;
    int rc = lg_matrix_load(s->path, &m, diags);
    if (rc != 0 || lg_diags_errors(diags))
        dump(diags);
    assert_int_equal(rc, 0);
    return m;
}

/* The matrix is refused with an error at line `line` of the file saying
 * `needle`. */
static void load_refused(const char *body, const char *policy, int line, const char *needle)
{
    scratch s;
    write_matrix(&s, body, policy);
    lg_diags diags = { 0 };
    lg_matrix sentinel, *m = &sentinel;
    assert_int_equal(lg_matrix_load(s.path, &m, &diags), -EINVAL);
    assert_ptr_equal(m, &sentinel);
    bool found = false;
    for (size_t i = 0; i < diags.n; i++)
        found = found || (!diags.items[i].warning && strcmp(diags.items[i].file, s.path) == 0 &&
                          diags.items[i].line == line && strstr(diags.items[i].message, needle));
    if (!found) {
        dump(&diags);
        fail_msg("expected an error at %s:%d containing \"%s\"", s.path, line, needle);
    }
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_repeat_expands_in_order(void **state)
{
    (void)state;
    scratch s;
    lg_diags diags = { 0 };
    lg_matrix *m = load_ok(&s,
                           "    <wait-ready/>\n"                      /* 8 */
                           "    <repeat count=\"3\">\n"               /* 9 */
                           "      <reboot timeout-s=\"60\"/>\n"       /* 10 */
                           "      <exec command=\"sh check.sh\"/>\n"  /* 11 */
                           "    </repeat>\n"
                           "    <fetch path=\"/var/log/agent.log\"/>",
                           NULL, &diags);
    const lg_scenario *sc = &m->scenarios[0];
    assert_int_equal(sc->n_steps, 1 + 3 * 2 + 1);
    assert_int_equal(sc->steps[0].kind, LG_STEP_WAIT_READY);
    assert_int_equal(sc->steps[0].cycles, 0);
    assert_int_equal(sc->steps[0].repeat, 0);
    for (int cycle = 1; cycle <= 3; cycle++) {
        const lg_step *reboot = &sc->steps[1 + (cycle - 1) * 2];
        const lg_step *exec = reboot + 1;
        assert_int_equal(reboot->kind, LG_STEP_REBOOT);
        assert_int_equal(reboot->count, 1);
        assert_int_equal(reboot->timeout_s, 60);
        assert_int_equal(reboot->line, 10);
        assert_int_equal(reboot->cycle, cycle);
        assert_int_equal(reboot->cycles, 3);
        assert_false(reboot->cycle_last);
        assert_int_equal(exec->kind, LG_STEP_EXEC);
        assert_string_equal(exec->command, "sh check.sh");
        assert_int_equal(exec->line, 11);
        assert_int_equal(exec->repeat, 1);
        assert_int_equal(exec->repeat_line, 9);
        assert_int_equal(exec->cycle, cycle);
        assert_true(exec->cycle_last);
        assert_false(exec->auto_cycles);
    }
    /* each copy owns its string */
    assert_ptr_not_equal(sc->steps[2].command, sc->steps[4].command);
    assert_int_equal(sc->steps[7].kind, LG_STEP_FETCH);
    assert_int_equal(sc->steps[7].cycle, 0);

    lg_scenario_counts counts;
    lg_scenario_count(sc, &counts);
    assert_int_equal(counts.cycles, 3);
    assert_int_equal(counts.auto_cycles, 0);
    assert_int_equal(counts.boots, 4);
    assert_int_equal(m->policy.bound_cycles, 0);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_two_repeats_are_numbered_apart(void **state)
{
    (void)state;
    scratch s;
    lg_diags diags = { 0 };
    lg_matrix *m = load_ok(&s,
                           "    <repeat count=\"2\"><exec command=\"a\"/></repeat>\n"
                           "    <repeat count=\"2\"><exec command=\"b\"/></repeat>",
                           NULL, &diags);
    const lg_scenario *sc = &m->scenarios[0];
    assert_int_equal(sc->n_steps, 4);
    static const char *const commands[] = { "a", "a", "b", "b" };
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(sc->steps[i].command, commands[i]);
        assert_int_equal(sc->steps[i].repeat, (int)i / 2 + 1);
        assert_int_equal(sc->steps[i].cycle, (int)i % 2 + 1);
        assert_true(sc->steps[i].cycle_last);
    }
    lg_scenario_counts counts;
    lg_scenario_count(sc, &counts);
    assert_int_equal(counts.cycles, 4);
    assert_int_equal(counts.boots, 1);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_auto_reboot_runs_the_bound(void **state)
{
    (void)state;
    scratch s;
    lg_diags diags = { 0 };
    lg_matrix *m = load_ok(&s,
                           "    <wait-ready/><install/><apply-content/>\n"
                           "    <reboot count=\"auto\"/>",
                           "<policy max-failure-rate=\"0.1\" confidence=\"0.95\"/>", &diags);
    assert_int_equal(own_diags(&diags, s.path), 0);
    assert_int_equal(m->policy.bound_cycles, 29);
    assert_true(fabs(m->policy.max_failure_rate - 0.1) < 1e-12);
    assert_true(fabs(m->policy.confidence - 0.95) < 1e-12);
    const lg_scenario *sc = &m->scenarios[0];
    assert_int_equal(sc->n_steps, 3 + 29);
    for (size_t i = 3; i < sc->n_steps; i++) {
        assert_int_equal(sc->steps[i].kind, LG_STEP_REBOOT);
        assert_int_equal(sc->steps[i].count, 1);
        assert_true(sc->steps[i].auto_cycles);
        assert_int_equal(sc->steps[i].cycle, (int)i - 2);
        assert_int_equal(sc->steps[i].cycles, 29);
        assert_int_equal(sc->steps[i].repeat_line, 9);
    }
    lg_scenario_counts counts;
    lg_scenario_count(sc, &counts);
    assert_int_equal(counts.cycles, 29);
    assert_int_equal(counts.auto_cycles, 29);
    assert_int_equal(counts.boots, 30);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_auto_repeat_and_counted_repeat(void **state)
{
    (void)state;
    scratch s;
    lg_diags diags = { 0 };
    lg_matrix *m = load_ok(&s,
                           "    <repeat count=\"auto\"><apply-content/><reboot count=\"2\"/></repeat>\n"
                           "    <repeat count=\"2\"><exec command=\"x\"/></repeat>",
                           "<policy max-failure-rate=\"0.01\" confidence=\"0.95\"/>", &diags);
    const lg_scenario *sc = &m->scenarios[0];
    assert_int_equal(sc->n_steps, 299 * 2 + 2);
    lg_scenario_counts counts;
    lg_scenario_count(sc, &counts);
    assert_int_equal(counts.cycles, 301);
    assert_int_equal(counts.auto_cycles, 299);
    assert_int_equal(counts.boots, 1 + 299 * 2);
    assert_int_equal(sc->steps[597].cycle, 299);
    assert_true(sc->steps[597].cycle_last && sc->steps[597].auto_cycles);
    assert_false(sc->steps[598].auto_cycles);

    /* the plan keeps the scenario: every job sees the flat list */
    LG_AUTO(lg_plan) plan = lg_plan_expand(m);
    assert_int_equal(plan->n_jobs, 1);
    assert_ptr_equal(plan->jobs[0].scenario, sc);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_bound_without_auto_is_a_warning(void **state)
{
    (void)state;
    scratch s;
    lg_diags diags = { 0 };
    lg_matrix *m = load_ok(&s, "    <reboot count=\"3\"/>",
                           "<policy max-failure-rate=\"0.1\" confidence=\"0.95\"/>", &diags);
    assert_int_equal(own_diags(&diags, s.path), 1);
    const lg_diag *d = own_diag(&diags, s.path);
    assert_true(d->warning);
    assert_int_equal(d->line, 10);
    assert_non_null(strstr(d->message, "no scenario has count=\"auto\""));
    /* a counted reboot stays one step, outside any cycle */
    assert_int_equal(m->scenarios[0].n_steps, 1);
    assert_int_equal(m->scenarios[0].steps[0].count, 3);
    assert_int_equal(m->scenarios[0].steps[0].cycles, 0);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    scratch_done(&s);
}

static void test_step_copy_duplicates_strings(void **state)
{
    (void)state;
    lg_step src = { .kind = LG_STEP_EXEC, .count = 1, .command = lg_strdup("sh x.sh"), .timeout_s = 9, .line = 4,
                    .repeat = 2, .repeat_line = 3, .cycle = 1, .cycles = 5, .cycle_last = true, .auto_cycles = true };
    lg_step dst;
    lg_step_copy(&dst, &src);
    assert_ptr_not_equal(dst.command, src.command);
    assert_string_equal(dst.command, "sh x.sh");
    free(dst.command);
    /* everything else as it was */
    assert_int_equal(dst.kind, src.kind);
    assert_int_equal(dst.count, 1);
    assert_int_equal(dst.timeout_s, 9);
    assert_int_equal(dst.line, 4);
    assert_int_equal(dst.repeat, 2);
    assert_int_equal(dst.repeat_line, 3);
    assert_int_equal(dst.cycle, 1);
    assert_int_equal(dst.cycles, 5);
    assert_true(dst.cycle_last && dst.auto_cycles);
    free(src.command);
}

/* --------------------------------------------------------------- errors */

static void test_auto_without_policy(void **state)
{
    (void)state;
    load_refused("    <wait-ready/>\n    <reboot count=\"auto\"/>", NULL, 9, "count=\"auto\" needs the failure-rate bound");
    load_refused("    <repeat count=\"auto\">\n      <reboot/>\n    </repeat>", NULL, 8,
                 "give <policy> max-failure-rate=\"P\" and confidence=\"C\"");
    load_refused("    <repeat count=\"auto\"><reboot/></repeat>", "<policy tcg-scale=\"2\"/>", 8,
                 "count=\"auto\" needs the failure-rate bound");
}

static void test_policy_needs_both_attributes(void **state)
{
    (void)state;
    load_refused("    <reboot count=\"auto\"/>", "<policy max-failure-rate=\"0.1\"/>", 10,
                 "max-failure-rate without confidence");
    load_refused("    <reboot/>", "<policy confidence=\"0.9\"/>", 10, "confidence without max-failure-rate");
}

static void test_policy_probabilities_in_range(void **state)
{
    (void)state;
    /* the schema: strictly between 0 and 1, a decimal */
    load_refused("    <reboot count=\"auto\"/>", "<policy max-failure-rate=\"0\" confidence=\"0.9\"/>", 10,
                 "max-failure-rate");
    load_refused("    <reboot count=\"auto\"/>", "<policy max-failure-rate=\"0.1\" confidence=\"1\"/>", 10,
                 "confidence");
    load_refused("    <reboot count=\"auto\"/>", "<policy max-failure-rate=\"10%\" confidence=\"0.9\"/>", 10,
                 "max-failure-rate");
}

static void test_bound_too_many_cycles(void **state)
{
    (void)state;
    load_refused("    <reboot count=\"auto\"/>", "<policy max-failure-rate=\"0.0001\" confidence=\"0.99\"/>", 10,
                 "needs 46050 cycles for every count=\"auto\", more than labgate runs (10000)");
}

static void test_repeats_do_not_nest(void **state)
{
    (void)state;
    load_refused("    <repeat count=\"2\">\n"
                 "      <repeat count=\"2\"><reboot/></repeat>\n"
                 "    </repeat>",
                 NULL, 8, "Did not expect element repeat there");
    load_refused("    <repeat count=\"2\">\n"
                 "      <exec command=\"x\"/>\n"
                 "      <reboot count=\"auto\"/>\n"
                 "    </repeat>",
                 "<policy max-failure-rate=\"0.5\" confidence=\"0.9\"/>", 10,
                 "<reboot count=\"auto\"> inside <repeat> (line 8): repeats do not nest");
}

static void test_repeat_count_checked(void **state)
{
    (void)state;
    load_refused("    <repeat count=\"0\"><reboot/></repeat>", NULL, 8, "repeat");
    load_refused("    <repeat count=\"10001\"><reboot/></repeat>", NULL, 8, "repeat");
    load_refused("    <repeat count=\"two\"><reboot/></repeat>", NULL, 8, "repeat");
    load_refused("    <repeat><reboot/></repeat>", NULL, 8, "repeat");
    load_refused("    <repeat count=\"2\"></repeat>", NULL, 8, "repeat");
    load_refused("    <reboot count=\"sometimes\"/>", NULL, 8, "reboot");
}

static void test_too_many_steps(void **state)
{
    (void)state;
    /* 10000 cycles of 11 steps */
    load_refused("    <repeat count=\"10000\">\n"
                 "      <exec command=\"1\"/><exec command=\"2\"/><exec command=\"3\"/><exec command=\"4\"/>\n"
                 "      <exec command=\"5\"/><exec command=\"6\"/><exec command=\"7\"/><exec command=\"8\"/>\n"
                 "      <exec command=\"9\"/><exec command=\"10\"/><exec command=\"11\"/>\n"
                 "    </repeat>",
                 NULL, 8, "10000 cycles of 11 step(s) make more than 100000 steps");
}

static void test_too_many_steps_in_all(void **state)
{
    (void)state;
    /* eleven scenarios of 100000 steps each: each one allowed, not all */
    lg_buf body = LG_BUF_INIT;
    for (int i = 1; i <= 11; i++)
        lg_buf_printf(&body, "    <repeat count=\"10000\"><exec command=\"%d\"/><exec command=\"x\"/><exec "
                             "command=\"x\"/><exec command=\"x\"/><exec command=\"x\"/><exec command=\"x\"/>"
                             "<exec command=\"x\"/><exec command=\"x\"/><exec command=\"x\"/><exec "
                             "command=\"x\"/></repeat>\n  </scenario><scenario id=\"s%d\">\n",
                      i, i);
    lg_buf_puts(&body, "    <wait-ready/>");
    /* scenarios s and s1 to s9 make 1000000 steps, s10 goes past: the
     * last one, s11 (line 7 + 2 * 11), is not expanded any more */
    load_refused(body.data, NULL, 29, "the scenarios before it expand to more than 1000000 steps in all");
    lg_buf_free(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_cycles_known_values),
        cmocka_unit_test(test_bound_cycles_exact_quotient),
        cmocka_unit_test(test_bound_cycles_edges),
        cmocka_unit_test(test_bound_claim_words),
        cmocka_unit_test(test_beta_inc_known_values),
        cmocka_unit_test(test_clopper_pearson_known_values),
        cmocka_unit_test(test_clopper_pearson_refuses_nonsense),
        cmocka_unit_test(test_repeat_expands_in_order),
        cmocka_unit_test(test_two_repeats_are_numbered_apart),
        cmocka_unit_test(test_auto_reboot_runs_the_bound),
        cmocka_unit_test(test_auto_repeat_and_counted_repeat),
        cmocka_unit_test(test_bound_without_auto_is_a_warning),
        cmocka_unit_test(test_step_copy_duplicates_strings),
        cmocka_unit_test(test_auto_without_policy),
        cmocka_unit_test(test_policy_needs_both_attributes),
        cmocka_unit_test(test_policy_probabilities_in_range),
        cmocka_unit_test(test_bound_too_many_cycles),
        cmocka_unit_test(test_repeats_do_not_nest),
        cmocka_unit_test(test_repeat_count_checked),
        cmocka_unit_test(test_too_many_steps),
        cmocka_unit_test(test_too_many_steps_in_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
