/* Readiness without a clock: the profile's ready-line pattern, the monitor
 * noticing the line on the console and waking whoever waits for it, and the
 * backoff that paces polling where a guest prints no such line.  No VM. */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/backoff.h"
#include "base/clock.h"
#include "model/matrix.h"
#include "model/readyline.h"
#include "watch/monitor.h"

#define PATTERN "labgate: ready %d"
/* long enough that a loaded machine never reaches it by accident */
#define LONG_WAIT_MS (60 * 1000)

/* ------------------------------------------------------------- pattern */

static void test_pattern_valid(void **state)
{
    (void)state;
    assert_true(lg_ready_line_valid(PATTERN));
    assert_true(lg_ready_line_valid("%d"));
    assert_true(lg_ready_line_valid("100%% ready at boot %d"));
    assert_false(lg_ready_line_valid("labgate: ready"));
    assert_false(lg_ready_line_valid("boot %d ready %d"));
    assert_false(lg_ready_line_valid("ready %s"));
    assert_false(lg_ready_line_valid("ready %d %n"));
    assert_false(lg_ready_line_valid("ready %d%"));
    assert_false(lg_ready_line_valid(""));
}

static void test_pattern_match(void **state)
{
    (void)state;
    int boot = -1;
    assert_true(lg_ready_line_match(PATTERN, "labgate: ready 1", &boot));
    assert_int_equal(boot, 1);
    assert_true(lg_ready_line_match(PATTERN, "labgate: ready 42 \r", &boot));
    assert_int_equal(boot, 42);
    assert_true(lg_ready_line_match("100%% ready at boot %d", "100% ready at boot 7", &boot));
    assert_int_equal(boot, 7);
    assert_true(lg_ready_line_match("[%d] up", "[3] up", &boot));
    assert_int_equal(boot, 3);

    boot = -1;
    assert_false(lg_ready_line_match(PATTERN, "labgate: boot 1", &boot));
    assert_false(lg_ready_line_match(PATTERN, "labgate: ready", &boot));
    assert_false(lg_ready_line_match(PATTERN, "labgate: ready x", &boot));
    assert_false(lg_ready_line_match(PATTERN, "labgate: ready 1 later", &boot));
    assert_false(lg_ready_line_match(PATTERN, "echo labgate: ready 1", &boot));
    assert_false(lg_ready_line_match(PATTERN, "labgate: ready -1", &boot));
    /* a number no int holds is not a boot number */
    assert_false(lg_ready_line_match(PATTERN, "labgate: ready 12345678901", &boot));
    assert_false(lg_ready_line_match("ready %s", "ready 1", &boot));
    /* nothing written when it does not match */
    assert_int_equal(boot, -1);
}

/* ------------------------------------------------------------- backoff */

static void test_backoff_doubling(void **state)
{
    (void)state;
    lg_backoff b = lg_backoff_doubling(50, 1000);
    const int64_t want[] = { 50, 100, 200, 400, 800, 1000, 1000, 1000 };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(lg_backoff_next(&b), want[i]);
    /* a first wait above the cap is capped */
    b = lg_backoff_doubling(5000, 1000);
    assert_int_equal(lg_backoff_next(&b), 1000);
}

static void test_backoff_linear(void **state)
{
    (void)state;
    lg_backoff b = lg_backoff_linear(1000, 500, 2500);
    const int64_t want[] = { 1000, 1500, 2000, 2500, 2500 };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(lg_backoff_next(&b), want[i]);
}

/* ------------------------------------------------------------- monitor */

static lg_monitor *new_monitor(void)
{
    lg_monitor *mon = NULL;
    assert_int_equal(lg_monitor_new(NULL, 20, &mon), 0);
    return mon;
}

static void feed(lg_monitor *mon, const char *text)
{
    lg_monitor_console(mon, text, strlen(text));
}

static void test_wait_times_out_without_line(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    lg_monitor_set_ready_line(mon, PATTERN);
    feed(mon, "labgate: boot 1\nsomething else\n");
    int64_t t0 = lg_now_ms();
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + 50), 0);
    assert_true(lg_now_ms() - t0 >= 50);
    lg_monitor_free(mon);
}

static void test_line_already_seen(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    lg_monitor_set_ready_line(mon, PATTERN);
    /* stamped kernel lines around it, the line split over two chunks */
    feed(mon, "[    1.000000] Run /init as init process\nlabgate: boot 1\nlabgate: rea");
    feed(mon, "dy 1\r\n");
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + LONG_WAIT_MS), 1);
    /* waiting for the next boot: the old line does not count */
    assert_int_equal(lg_monitor_wait_ready_line(mon, 1, lg_now_ms() + 20), 0);
    feed(mon, "labgate: shutdown\nLinux version 6.1\nlabgate: boot 2\nlabgate: ready 2\n");
    assert_int_equal(lg_monitor_wait_ready_line(mon, 1, lg_now_ms() + LONG_WAIT_MS), 2);
    lg_monitor_free(mon);
}

/* The pattern set after the line came (the first wait starts late): the
 * last console lines are looked at. */
static void test_pattern_set_late(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    feed(mon, "labgate: boot 1\nlabgate: ready 1\n");
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + 20), 0);
    lg_monitor_set_ready_line(mon, PATTERN);
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + LONG_WAIT_MS), 1);
    /* the same pattern again changes nothing */
    lg_monitor_set_ready_line(mon, PATTERN);
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + LONG_WAIT_MS), 1);
    lg_monitor_free(mon);
}

typedef struct feeder {
    lg_monitor *mon;
    int delay_ms;
    const char *text;
    bool post_crash;
} feeder;

static void *feed_later(void *opaque)
{
    feeder *f = opaque;
    lg_sleep_ms(f->delay_ms);
    if (f->post_crash)
        lg_monitor_post(f->mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "kernel panic (pvpanic)");
    else
        feed(f->mon, f->text);
    return NULL;
}

/* The waiter is woken by the line, not by its deadline. */
static void test_line_wakes_waiter(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    lg_monitor_set_ready_line(mon, PATTERN);
    feeder f = { .mon = mon, .delay_ms = 100, .text = "labgate: boot 3\nlabgate: ready 3\n" };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed_later, &f), 0);
    int64_t t0 = lg_now_ms();
    int got = lg_monitor_wait_ready_line(mon, 2, t0 + LONG_WAIT_MS);
    int64_t waited = lg_now_ms() - t0;
    pthread_join(t, NULL);
    assert_int_equal(got, 3);
    assert_true(waited < LONG_WAIT_MS / 2);
    lg_monitor_free(mon);
}

/* A decision (the guest crashed while booting) ends the wait. */
static void test_decision_wakes_waiter(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    lg_monitor_set_ready_line(mon, PATTERN);
    feeder f = { .mon = mon, .delay_ms = 100, .post_crash = true };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed_later, &f), 0);
    int64_t t0 = lg_now_ms();
    int got = lg_monitor_wait_ready_line(mon, 0, t0 + LONG_WAIT_MS);
    int64_t waited = lg_now_ms() - t0;
    pthread_join(t, NULL);
    assert_int_equal(got, -ECANCELED);
    assert_true(waited < LONG_WAIT_MS / 2);
    lg_monitor_free(mon);
}

/* Without a pattern the console is not watched for it. */
static void test_no_pattern_no_line(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor();
    feed(mon, "labgate: ready 1\n");
    assert_int_equal(lg_monitor_wait_ready_line(mon, 0, lg_now_ms() + 20), 0);
    lg_monitor_free(mon);
}

/* ------------------------------------------------------------- profile */

static char *write_profile(const tmpdir_suite *s, const char *name, const char *readiness)
{
    char *path = lg_strdup_printf("%s/%s", s->dir, name);
    LG_AUTOFREE char *xml = lg_strdup_printf(
        "<?xml version=\"1.0\"?>\n"
        "<profile id=\"p\">\n"
        "  <os>linux</os>\n"
        "  <arch>x86_64</arch>\n"
        "  <boot disk=\"rootfs.qcow2\"/>\n"
        "  <transport type=\"ssh\" key=\"id_ecdsa\"/>\n"
        "  %s\n"
        "</profile>\n",
        readiness);
    assert_int_equal(lg_write_file(path, xml, strlen(xml)), 0);
    return path;
}

static void test_profile_ready_line(void **state)
{
    tmpdir_suite *s = *state;
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(FIXTURE("matrix/profiles/linux-x86_64.xml"), &p, &diags), 0);
    assert_string_equal(p->ready_line, PATTERN);
    lg_profile_free(p);
    lg_diags_clear(&diags);

    /* optional: without it, polling */
    p = NULL;
    assert_int_equal(lg_profile_load(FIXTURE("matrix/profiles/linux-aarch64.xml"), &p, &diags), 0);
    assert_null(p->ready_line);
    lg_profile_free(p);
    lg_diags_clear(&diags);

    LG_AUTOFREE char *path = write_profile(s, "ok.xml", "<readiness boot-count-command=\"cat n\" "
                                                        "ready-line=\"up: %d%%\"/>");
    p = NULL;
    assert_int_equal(lg_profile_load(path, &p, &diags), 0);
    assert_string_equal(p->ready_line, "up: %d%%");
    lg_profile_free(p);
    lg_diags_clear(&diags);
}

static void test_profile_bad_ready_line(void **state)
{
    tmpdir_suite *s = *state;
    static const char *bad[] = { "ready", "ready %s", "boot %d ready %d" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        LG_AUTOFREE char *readiness = lg_strdup_printf(
            "<readiness boot-count-command=\"cat n\" ready-line=\"%s\"/>", bad[i]);
        LG_AUTOFREE char *path = write_profile(s, "bad.xml", readiness);
        lg_diags diags = { 0 };
        lg_profile sentinel;
        lg_profile *p = &sentinel;
        assert_int_equal(lg_profile_load(path, &p, &diags), -EINVAL);
        assert_ptr_equal(p, &sentinel);
        bool found = false;
        for (size_t d = 0; d < diags.n; d++)
            if (!diags.items[d].warning && diags.items[d].line == 7 &&
                strstr(diags.items[d].message, "exactly one %d"))
                found = true;
        if (!found) {
            lg_diags_print(&diags, stderr);
            fail_msg("no error at line 7 for ready-line \"%s\"", bad[i]);
        }
        lg_diags_clear(&diags);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_valid),
        cmocka_unit_test(test_pattern_match),
        cmocka_unit_test(test_backoff_doubling),
        cmocka_unit_test(test_backoff_linear),
        cmocka_unit_test(test_wait_times_out_without_line),
        cmocka_unit_test(test_line_already_seen),
        cmocka_unit_test(test_pattern_set_late),
        cmocka_unit_test(test_line_wakes_waiter),
        cmocka_unit_test(test_decision_wakes_waiter),
        cmocka_unit_test(test_no_pattern_no_line),
        cmocka_unit_test(test_profile_ready_line),
        cmocka_unit_test(test_profile_bad_ready_line),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
