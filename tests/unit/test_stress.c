/* The <stress> step's pieces without a guest (run/stress.c): its deadline,
 * and which exit statuses and output lines explain a failure. */
#include "lg_test.h"

#include "run/stress.h"

static void test_deadline(void **state)
{
    (void)state;
    /* the load's seconds unscaled, the margin as given (scaled by the job) */
    assert_int_equal(lg_stress_deadline_ms(10, 30000), 40000);
    assert_int_equal(lg_stress_deadline_ms(600, 120000), 720000);
}

static void test_unavailable(void **state)
{
    (void)state;
    assert_true(lg_stress_unavailable(127));  /* not installed */
    assert_true(lg_stress_unavailable(126));  /* not executable */
    assert_true(lg_stress_unavailable(1));    /* an option it does not know */
    assert_false(lg_stress_unavailable(2));   /* a stressor failed */
    assert_false(lg_stress_unavailable(3));   /* no resource */
    assert_false(lg_stress_unavailable(137)); /* killed */
}

static const char *why_of(const char *text, lg_buf *buf)
{
    lg_buf_clear(buf);
    lg_buf_puts(buf, text);
    return lg_stress_why(buf);
}

static void test_why(void **state)
{
    (void)state;
    LG_AUTOBUF buf = LG_BUF_INIT;
    assert_string_equal(why_of("", &buf), "");
    assert_string_equal(why_of("stress-ng is not installed in the guest\n", &buf),
                        "stress-ng is not installed in the guest");
    assert_string_equal(why_of("stress-ng: unrecognized option '--dirmany-filsize'\nSee 'stress-ng --help'\n", &buf),
                        "stress-ng: unrecognized option '--dirmany-filsize'");
    /* the failing stressor, not the summary after it; "failed: 0" says nothing */
    assert_string_equal(why_of("stress-ng: info:  [201] dispatching hogs: 2 fork, 2 exec\n"
                               "stress-ng: fail:  [207] exec: execve failed, errno=12 (Out of memory)\n"
                               "stress-ng: info:  [201] skipped: 0\n"
                               "stress-ng: info:  [201] failed: 0\n"
                               "stress-ng: info:  [201] unsuccessful run completed in 9.12s\n",
                               &buf),
                        "stress-ng: fail:  [207] exec: execve failed, errno=12 (Out of memory)");
    /* nothing that names an error: the last line */
    assert_string_equal(why_of("one\ntwo\nKilled\n\n", &buf), "Killed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_why),
    };
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
