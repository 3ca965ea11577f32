/* The freeze at the decision, as the monitor rules it (watch/monitor.h):
 * when a decision's guest is to be frozen, what a frozen guest's silence
 * may no longer decide, and the evidence of a frozen boot loop.  The
 * thread that suspends the guest is tested with the job (test_job.c). */
#include <errno.h>

#include "lg_test.h"

#include "base/clock.h"
#include "model/failure.h"
#include "watch/monitor.h"

#define GRACE_LONG_MS (10 * 60 * 1000)
#define GRACE_TINY_MS 20
/* the monitor's reset debounce is 3 s; sleep comfortably past it */
#define PAST_DEBOUNCE_MS 3300
#define BUG_LINE "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"

static lg_monitor *new_monitor(int grace_ms)
{
    lg_monitor *mon = NULL;
    assert_int_equal(lg_monitor_new(NULL, grace_ms, &mon), 0);
    return mon;
}

static void feed(lg_monitor *mon, const char *text)
{
    lg_monitor_console(mon, text, strlen(text));
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack ? haystack : "(null)");
}

/* Two resets in a row without ready: the boot loop, decided. */
static void boot_loop(lg_monitor *mon)
{
    lg_monitor_reset_event(mon);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_int_equal(lg_monitor_verdict(mon), LG_VERDICT_BOOT_LOOP);
}

static void test_nothing_decided_freezes_nothing(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(GRACE_LONG_MS);
    assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 50), 0);
    lg_monitor_free(mon);
}

/* The harness failed: no guest evidence worth stopping it for. */
static void test_infra_error_freezes_nothing(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(GRACE_LONG_MS);
    lg_monitor_fail(mon, LG_FAIL_HARNESS, "the harness broke");
    assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 5000), -ECANCELED);
    lg_monitor_free(mon);
}

/* The deciding reset of a boot loop, a hang, a panic device: at once. */
static void test_boot_loop_hang_and_panic_freeze_at_once(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(GRACE_LONG_MS);
    boot_loop(mon);
    int64_t start = lg_now_ms();
    assert_int_equal(lg_monitor_wait_freeze(mon, start + 60000), 1);
    assert_true(lg_now_ms() - start < 1000);
    lg_monitor_free(mon);

    mon = new_monitor(GRACE_LONG_MS);
    lg_monitor_fail(mon, LG_FAIL_HEARTBEAT_LOST, 30, 10);
    assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 60000), 1);
    lg_monitor_free(mon);

    /* the console's report first, then the panic device: the kernel has
     * printed all it will */
    mon = new_monitor(GRACE_LONG_MS);
    feed(mon, BUG_LINE);
    lg_monitor_fail(mon, LG_FAIL_PANIC);
    start = lg_now_ms();
    assert_int_equal(lg_monitor_wait_freeze(mon, start + 60000), 1);
    assert_true(lg_now_ms() - start < 1000);
    lg_monitor_free(mon);
}

/* An oops the guest survives: its call trace is still coming, so the
 * freeze waits for the console to go quiet, not for the grace time. */
static void test_console_report_freezes_once_quiet(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(GRACE_LONG_MS);
    feed(mon, BUG_LINE);
    assert_int_equal(lg_monitor_verdict(mon), LG_VERDICT_CRASH);
    assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 200), 0);
    /* the trace keeps coming: not yet */
    feed(mon, "[   12.345700] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n");
    int64_t last_line = lg_now_ms();
    assert_int_equal(lg_monitor_wait_freeze(mon, last_line + 60000), 1);
    int64_t quiet = lg_now_ms() - last_line;
    assert_true(quiet >= 1500);
    assert_true(quiet < 30000);
    lg_monitor_free(mon);
}

/* ...and a console that never stops is frozen at the end of the grace time. */
static void test_console_report_freezes_at_the_end_of_grace(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(300);
    feed(mon, BUG_LINE);
    int64_t until = lg_now_ms() + 60000;
    int rc = 0;
    while (rc == 0 && lg_now_ms() < until) {
        feed(mon, "[   12.400000] the guest goes on printing\n");
        rc = lg_monitor_wait_freeze(mon, lg_now_ms() + 50);
    }
    assert_int_equal(rc, 1);
    lg_monitor_free(mon);
}

/* A frozen guest stops answering because labgate stopped it: its lost
 * heartbeat does not turn an agent failure into a hang.  The same signal
 * without the freeze does (a hang explains an agent that does not answer). */
static void test_frozen_guest_silence_decides_nothing(void **state)
{
    (void)state;
    for (int frozen = 0; frozen < 2; frozen++) {
        lg_monitor *mon = new_monitor(GRACE_LONG_MS);
        lg_monitor_fail(mon, LG_FAIL_HEALTH_FAILED, 1, "sampleagentd is not running");
        if (frozen) {
            assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 5000), 1);
            lg_monitor_frozen(mon);
            assert_true(lg_monitor_is_frozen(mon));
        }
        lg_monitor_fail(mon, LG_FAIL_HEARTBEAT_LOST, 30, 10);
        lg_monitor_fail(mon, LG_FAIL_STEP_DEADLINE, "exec", 60);
        assert_int_equal(lg_monitor_verdict(mon), frozen ? LG_VERDICT_AGENT_FAILURE : LG_VERDICT_HANG);
        lg_evidence ev;
        lg_monitor_result(mon, &ev);
        assert_true(frozen ? ev.frozen_time_s >= ev.time_s : ev.frozen_time_s < 0);
        lg_evidence_clear(&ev);
        lg_monitor_free(mon);
    }
}

/* Frozen at the deciding reset: the deciding boot's own last lines are the
 * evidence, and its boot number the count, also when they reach the
 * console only after the freeze (drained from QEMU and libvirtd). */
static void test_frozen_boot_loop_evidence_is_the_deciding_boot(void **state)
{
    (void)state;
    lg_monitor *mon = new_monitor(GRACE_TINY_MS);
    feed(mon, "[    0.000000] Linux version 6.1.0\nlabgate: boot 2\n"
              "[    3.000000] sampledrv: boot watchdog expired: boot 2 restarts\n");
    lg_monitor_reset_event(mon);
    feed(mon, "[    0.000000] Linux version 6.1.0\nlabgate: boot 3\n");
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_int_equal(lg_monitor_wait_freeze(mon, lg_now_ms() + 5000), 1);
    lg_monitor_frozen(mon);
    /* written before the freeze, delivered after it */
    feed(mon, "[    3.100000] sampledrv: boot watchdog expired: boot 3 restarts\n");
    int64_t start = lg_now_ms();
    lg_monitor_wait_evidence(mon);
    /* the drain, not the 20 s wait for a next boot an unfrozen loop has */
    assert_true(lg_now_ms() - start < 10000);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_int_equal(ev.boot, 3);
    assert_true(ev.frozen_time_s >= ev.time_s);
    assert_contains(ev.console_excerpt, "labgate: boot 3");
    assert_contains(ev.console_excerpt, "boot 3 restarts");
    assert_null(strstr(ev.console_excerpt, "boot 2 restarts"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_decided_freezes_nothing),
        cmocka_unit_test(test_infra_error_freezes_nothing),
        cmocka_unit_test(test_boot_loop_hang_and_panic_freeze_at_once),
        cmocka_unit_test(test_console_report_freezes_once_quiet),
        cmocka_unit_test(test_console_report_freezes_at_the_end_of_grace),
        cmocka_unit_test(test_frozen_guest_silence_decides_nothing),
        cmocka_unit_test(test_frozen_boot_loop_evidence_is_the_deciding_boot),
    };
    return cmocka_run_group_tests_name("monitor_freeze", tests, NULL, NULL);
}
