/* The per-job monitor driven directly, without a VM: console bytes, posted
 * signals and reset events in, one decision with its evidence out.
 *
 * Grace windows: a test that needs a finding to arrive WITHIN grace uses a
 * window far longer than the test could stall on a loaded machine (nothing
 * waits for it to expire); a test that needs one to arrive AFTER grace uses a
 * tiny window and sleeps well past it.  Either way no assertion depends on
 * how fast the machine is. */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/clock.h"
#include "watch/monitor.h"

#define CONSOLE(name) FIXTURE("console/" name)
#define SAMPLEDRV_TITLE "BUG: kernel NULL pointer dereference in sampledrv_parse_record"
#define BUG_LINE "BUG: kernel NULL pointer dereference, address: 0000000000000000"
#define RIP_LINE "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]"

#define GRACE_NEVER_EXPIRES_MS (10 * 60 * 1000)
#define GRACE_TINY_MS 20
/* the monitor's reset debounce is 3 s; sleep comfortably past it */
#define PAST_DEBOUNCE_MS 3300

static lg_monitor *new_monitor(const tmpdir_suite *s, const char *log_name, int grace_ms)
{
    LG_AUTOFREE char *path = log_name ? lg_strdup_printf("%s/%s", s->dir, log_name) : NULL;
    lg_monitor *mon = NULL;
    assert_int_equal(lg_monitor_new(path, grace_ms, &mon), 0);
    assert_non_null(mon);
    return mon;
}

static void feed_in_chunks(lg_monitor *mon, const char *data, size_t len, size_t chunk)
{
    for (size_t off = 0; off < len; off += chunk)
        lg_monitor_console(mon, data + off, len - off < chunk ? len - off : chunk);
}

static void feed_log(lg_monitor *mon, const char *name, size_t chunk)
{
    size_t len;
    LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", FIXTURE("console"), name);
    char *data = read_fixture(path, &len);
    feed_in_chunks(mon, data, len, chunk ? chunk : len);
    free(data);
}

static void feed_str(lg_monitor *mon, const char *text);

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack ? haystack : "(null)");
}

/* ------------------------------------------------------------- console */

static void test_console_crash_from_real_log(void **state)
{
    const tmpdir_suite *s = *state;
    /* whole, and in serial-sized chunks */
    static const size_t chunks[] = { 0, 64, 1 };
    for (size_t i = 0; i < LG_N_ELEMENTS(chunks); i++) {
        lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
        feed_log(mon, "linux-x86_64-faulty-content-oops.log", chunks[i]);
        assert_true(lg_monitor_decided(mon));
        lg_evidence ev;
        lg_monitor_result(mon, &ev);
        assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
        assert_int_equal(ev.signal, LG_SIGNAL_CONSOLE);
        assert_string_equal(ev.title, SAMPLEDRV_TITLE);
        assert_int_equal(ev.boot, 1);
        /* the report itself, and what led to it */
        assert_contains(ev.console_excerpt, BUG_LINE);
        assert_contains(ev.console_excerpt, RIP_LINE);
        assert_contains(ev.console_excerpt, "sampledrv: loaded channel file: 4 records (active set: 11 records)");
        assert_null(strstr(ev.console_excerpt, "Linux version"));
        assert_null(strchr(ev.console_excerpt, '\r'));
        /* the BUG line comes before the RIP line */
        assert_true(strstr(ev.console_excerpt, BUG_LINE) < strstr(ev.console_excerpt, RIP_LINE));
        lg_evidence_clear(&ev);
        assert_null(ev.title);
        lg_monitor_free(mon);
    }
}

static void test_crash_at_boot_records_boot_number(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    feed_log(mon, "linux-x86_64-faulty-at-boot.log", 0);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    /* "labgate: boot 2" preceded the crash */
    assert_int_equal(ev.boot, 2);
    assert_contains(ev.console_excerpt, RIP_LINE);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_clean_log_decides_nothing(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    feed_log(mon, "linux-x86_64-clean-boot.log", 100);
    assert_false(lg_monitor_decided(mon));
    assert_int_equal(lg_monitor_boot(mon), 2);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_PASS);
    assert_int_equal(ev.signal, LG_SIGNAL_NONE);
    assert_null(ev.title);
    assert_null(ev.console_excerpt);
    assert_int_equal(ev.boot, 2);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_pvpanic_then_console_title(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "guest kernel panicked (%s)", "pvpanic");
    assert_true(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_string_equal(ev.title, "guest kernel panicked (pvpanic)");
    lg_evidence_clear(&ev);

    feed_log(mon, "linux-x86_64-faulty-content-panic.log", 512);
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    /* the first, strongest signal stays; the console names the function */
    assert_int_equal(ev.signal, LG_SIGNAL_PVPANIC);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    assert_contains(ev.console_excerpt, BUG_LINE);
    assert_contains(ev.console_excerpt, "Kernel panic - not syncing: Fatal exception");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_hang_then_crash_within_grace(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_post(mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost: %d missed", 4);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_HANG);
    lg_evidence_clear(&ev);

    /* the console shows why the heartbeat stopped */
    feed_log(mon, "linux-x86_64-faulty-content-oops.log", 0);
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_int_equal(ev.signal, LG_SIGNAL_CONSOLE);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_hang_then_crash_after_grace(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    lg_monitor_post(mon, LG_VERDICT_HANG, LG_SIGNAL_DEADLINE, "step 'reboot' overran its deadline");
    lg_sleep_ms(GRACE_TINY_MS * 10);
    feed_log(mon, "linux-x86_64-faulty-content-oops.log", 0);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    /* a separate, later event: the first decision stands */
    assert_int_equal(ev.verdict, LG_VERDICT_HANG);
    assert_int_equal(ev.signal, LG_SIGNAL_DEADLINE);
    assert_string_equal(ev.title, "step 'reboot' overran its deadline");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_infra_error_is_final(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_post(mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "libvirt connection lost");
    feed_log(mon, "linux-x86_64-faulty-content-oops.log", 0);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_INFRA_ERROR);
    assert_string_equal(ev.title, "libvirt connection lost");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_excerpt_without_console_report(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    for (int i = 1; i <= 100; i++) {
        LG_AUTOFREE char *line = lg_strdup_printf("[  %3d.000000] stress: iteration %d\r\n", i, i);
        lg_monitor_console(mon, line, strlen(line));
    }
    lg_monitor_post(mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    /* the last thing the guest printed is the evidence */
    assert_contains(ev.console_excerpt, "stress: iteration 100\n");
    assert_contains(ev.console_excerpt, "stress: iteration 99\n");
    assert_null(strstr(ev.console_excerpt, "stress: iteration 1\n"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_excerpt_when_the_console_was_silent(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    lg_monitor_post(mon, LG_VERDICT_BOOT_TIMEOUT, LG_SIGNAL_DEADLINE, "not ready after %d s", 180);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_TIMEOUT);
    assert_string_equal(ev.title, "not ready after 180 s");
    /* nothing printed: an empty excerpt, not garbage */
    assert_non_null(ev.console_excerpt);
    assert_string_equal(ev.console_excerpt, "");
    assert_int_equal(ev.boot, 0);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* ----------------------------------------------------------- boot markers */

static void test_boot_markers(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    assert_int_equal(lg_monitor_boot(mon), 0);
    const char *boot1 = "labgate: boot 1\r\n";
    lg_monitor_console(mon, boot1, strlen(boot1));
    assert_int_equal(lg_monitor_boot(mon), 1);
    /* with a printk timestamp, split across two chunks */
    lg_monitor_console(mon, "[    1.5] labgate: bo", 21);
    assert_int_equal(lg_monitor_boot(mon), 1);
    lg_monitor_console(mon, "ot 2\r\n", 6);
    assert_int_equal(lg_monitor_boot(mon), 2);
    /* a look-alike in the middle of a line is not a marker */
    const char *other = "echo labgate: boot 9\r\n";
    lg_monitor_console(mon, other, strlen(other));
    assert_int_equal(lg_monitor_boot(mon), 2);
    /* readiness can move the count on, never back */
    lg_monitor_ready(mon, 3);
    assert_int_equal(lg_monitor_boot(mon), 3);
    lg_monitor_ready(mon, 1);
    assert_int_equal(lg_monitor_boot(mon), 3);

    /* the decision records the boot it happened in */
    lg_monitor_post(mon, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "health.sh exited 1");
    const char *boot4 = "labgate: boot 4\n";
    lg_monitor_console(mon, boot4, strlen(boot4));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.boot, 3);
    assert_int_equal(lg_monitor_boot(mon), 4);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* ------------------------------------------------------------------ resets */

static void test_two_unexpected_resets_are_a_boot_loop(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    /* one guest reset emits a burst of events: it counts once */
    int64_t before = lg_now_ms();
    lg_monitor_reset_event(mon);
    lg_monitor_reset_event(mon);
    lg_monitor_reset_event(mon);
    bool burst_was_quick = lg_now_ms() - before < 2000;
    if (burst_was_quick)
        assert_false(lg_monitor_decided(mon));
    else
        print_message("# the machine stalled during the burst; not judging the debounce\n");

    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_true(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_int_equal(ev.signal, LG_SIGNAL_REBOOT);
    assert_non_null(ev.title);
    assert_contains(ev.title, "boot loop: guest reset 2 times in a row");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* The boot loop of July 2024: the reboot we ask for is fine, but the guest
 * then never comes back and resets again and again. */
static void test_resets_after_a_requested_reboot_are_a_boot_loop(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    lg_monitor_expect_reboot(mon);
    lg_monitor_reset_event(mon);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_false(lg_monitor_decided(mon));
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_string_equal(ev.title, "boot loop: guest reset 2 times in a row without reaching ready");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* A boot loop's evidence is what the guest printed before it reset, not the
 * banner of the boot that followed. */
static void test_boot_loop_excerpt_ends_at_the_reset(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    static const char boot2[] = "labgate: boot 2\nsampledrv: boot watchdog expired: first time\n";
    static const char boot3[] = "Linux version 6.1.0\nlabgate: boot 3\n"
                                "sampledrv: boot watchdog expired: restarting the machine\n";
    static const char boot4[] = "Linux version 6.1.0 of the next boot\n";
    lg_monitor_console(mon, boot2, strlen(boot2));
    lg_monitor_reset_event(mon);
    lg_monitor_console(mon, boot3, strlen(boot3));
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_monitor_console(mon, boot4, strlen(boot4));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_non_null(ev.console_excerpt);
    assert_contains(ev.console_excerpt, "boot watchdog expired: restarting the machine");
    assert_null(strstr(ev.console_excerpt, "of the next boot"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* The reset event overtakes the boot's last console lines (they come the
 * long way: serial port, pty, libvirtd): the excerpt still holds them,
 * taken again when the next boot starts printing. */
static void test_boot_loop_excerpt_waits_for_late_console_lines(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    static const char boot2[] = "labgate: boot 2\n";
    static const char late2[] = "sampledrv: boot watchdog expired: first time\n";
    static const char boot3[] = "Linux version 6.1.0\nlabgate: boot 3\n";
    static const char late3[] = "sampledrv: boot watchdog expired: restarting the machine\n";
    static const char boot4[] = "[    0.000000] Linux version 6.1.0 of the next boot\n";
    lg_monitor_console(mon, boot2, strlen(boot2));
    lg_monitor_reset_event(mon);
    lg_monitor_console(mon, late2, strlen(late2));
    lg_monitor_console(mon, boot3, strlen(boot3));
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_monitor_console(mon, late3, strlen(late3));
    lg_monitor_console(mon, boot4, strlen(boot4));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_contains(ev.console_excerpt, "boot watchdog expired: restarting the machine");
    assert_null(strstr(ev.console_excerpt, "of the next boot"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* ...or the console runs ahead: the next boot is already printing when the
 * reset event that ended the last one comes.  Either way the evidence is
 * the tail of a boot in the loop, not the start of the next. */
static void test_boot_loop_excerpt_when_the_console_runs_ahead(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    static const char boot2[] = "[    0.000000] Linux version 6.1.0\nlabgate: boot 2\n"
                                "[    3.000000] sampledrv: boot watchdog expired: restarting the machine\n";
    static const char boot3[] = "[    0.000000] Linux version 6.1.0\n[    0.100000] early line of boot 3\n";
    static const char boot4[] = "[    0.000000] Linux version 6.1.0\n[    0.100000] early line of boot 4\n";
    lg_monitor_console(mon, boot2, strlen(boot2));
    lg_monitor_console(mon, boot3, strlen(boot3));
    lg_monitor_reset_event(mon); /* the reset that ended boot 2, late */
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_console(mon, boot4, strlen(boot4));
    lg_monitor_reset_event(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_null(strstr(ev.console_excerpt, "early line of boot 4"));
    /* the tail of a boot in the loop */
    assert_contains(ev.console_excerpt, "restarting the machine");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* The console a whole boot behind (a loaded host): both resets of the loop
 * have come while it still shows the boot the requested reboot started.
 * That boot reached ready, so its tail (the reboot's shutdown) is not the
 * evidence; the wait for evidence holds until the console shows a boot that
 * ended unready. */
typedef struct late_feed {
    lg_monitor *mon;
    const char *text;
} late_feed;

static void *feed_later(void *opaque)
{
    late_feed *f = opaque;
    lg_sleep_ms(300);
    lg_monitor_console(f->mon, f->text, strlen(f->text));
    return NULL;
}

static void test_boot_loop_evidence_when_the_console_is_a_boot_behind(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    static const char boot1[] = "[    0.000000] Linux version 6.1.0\n[    2.000000] labgate: boot 1\n";
    static const char shutdown1[] = "[   30.000000] reboot: Restarting system\n";
    static const char boot2[] = "[    0.000000] Linux version 6.1.0\n[    2.000000] labgate: boot 2\n"
                                "[    2.100000] sampledrv: loading content\n";
    static const char late[] = "[    2.200000] sampledrv: boot watchdog expired: restarting the machine\n"
                               "[    0.000000] Linux version 6.1.0 of boot 3\n";
    feed_str(mon, boot1);
    lg_monitor_ready(mon, 1);
    feed_str(mon, shutdown1);
    lg_monitor_expect_reboot(mon);
    lg_monitor_reset_event(mon); /* the reboot asked for */
    feed_str(mon, boot2);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon); /* ended boot 2 */
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon); /* ended boot 3, whose lines have not come */
    assert_true(lg_monitor_decided(mon));

    late_feed f = { .mon = mon, .text = late };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, feed_later, &f), 0);
    lg_monitor_wait_evidence(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev); /* as a job does: at once */
    pthread_join(thread, NULL);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_contains(ev.console_excerpt, "boot watchdog expired: restarting the machine");
    assert_null(strstr(ev.console_excerpt, "of boot 3"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* A reset cuts the last line short: the next boot's banner ends up behind
 * it on one line and still starts a boot. */
static void test_boot_loop_banner_behind_a_cut_line(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    static const char boot1[] = "labgate: boot 1\nsampledrv: boot watchdog expired: restarting the machine\n"
                                "ACPI: \\_SB_.LN[    0.000000] Linux version 6.1.0\nlabgate: boot 2\n";
    feed_str(mon, boot1);
    lg_monitor_reset_event(mon);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    assert_contains(ev.console_excerpt, "restarting the machine");
    assert_null(strstr(ev.console_excerpt, "labgate: boot 2"));
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_expected_reboots_are_not_a_boot_loop(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    lg_monitor_expect_reboot(mon);
    lg_monitor_reset_event(mon);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_false(lg_monitor_decided(mon));

    /* once the guest is ready again, resets are unexpected again */
    lg_monitor_ready(mon, 2);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_ready_resets_the_count(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    lg_monitor_reset_event(mon);
    lg_monitor_ready(mon, 1); /* the guest came back: that reset was survived */
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_false(lg_monitor_decided(mon));
    /* ... but this one was not followed by ready */
    lg_sleep_ms(PAST_DEBOUNCE_MS);
    lg_monitor_reset_event(mon);
    assert_true(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_BOOT_LOOP);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* --------------------------------------------------------------- waiting */

typedef struct poster {
    lg_monitor *mon;
} poster;

static void *post_later(void *opaque)
{
    poster *p = opaque;
    lg_sleep_ms(50);
    lg_monitor_post(p->mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost");
    return NULL;
}

static void test_wait_wakes_on_decision(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_TINY_MS);
    /* nothing happens: the wait ends at its timeout */
    assert_false(lg_monitor_wait(mon, 30));
    /* a decision from another thread ends it (the timeout is only a bound) */
    poster p = { .mon = mon };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, post_later, &p), 0);
    assert_true(lg_monitor_wait(mon, 5 * 60 * 1000));
    pthread_join(thread, NULL);
    assert_true(lg_monitor_wait(mon, 0));
    lg_monitor_free(mon);
}

static void test_wait_evidence_is_bounded(void **state)
{
    const tmpdir_suite *s = *state;
    /* nothing decided: returns at once */
    lg_monitor *mon = new_monitor(s, NULL, 200);
    lg_monitor_wait_evidence(mon);
    lg_monitor_free(mon);

    /* decided: returns after at most the grace window, evidence complete */
    mon = new_monitor(s, NULL, 200);
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "guest kernel panicked");
    feed_log(mon, "linux-x86_64-faulty-content-panic.log", 0);
    lg_monitor_wait_evidence(mon);
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    assert_int_equal(ev.signal, LG_SIGNAL_PVPANIC);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* ------------------------------------------------------------- console log */

/* ------------------------------------------------------------- timeline */

static void feed_str(lg_monitor *mon, const char *text)
{
    lg_monitor_console(mon, text, strlen(text));
}

/* The OOM killer at work, taking process COMM (a user page fault allocating) */
static char *oom_report(const char *comm)
{
    return lg_strdup_printf(
        "[   41.100000] %s invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0\n"
        "[   41.100100] CPU: 0 PID: 311 Comm: %s Not tainted 6.1.0-27-cloud-amd64 #1  Debian 6.1.115-1\n"
        "[   41.100300] Call Trace:\n"
        "[   41.100400]  <TASK>\n"
        "[   41.100500]  dump_stack_lvl+0x44/0x5c\n"
        "[   41.100800]  out_of_memory+0x1fd/0x4d0\n"
        "[   41.101000]  __alloc_pages+0x305/0x330\n"
        "[   41.101300]  handle_mm_fault+0xdb/0x2d0\n"
        "[   41.101500]  exc_page_fault+0x70/0x170\n"
        "[   41.101700]  </TASK>\n"
        "[   41.102300] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),global_oom,task=%s,pid=311,uid=0\n"
        "[   41.102400] Out of memory: Killed process 311 (%s) total-vm:480000kB, anon-rss:440000kB\n",
        comm, comm, comm, comm);
}

/* The OOM killer taking some process is a finding (the guest carries on);
 * taking the agent's is AGENT_FAILURE; the guest going down after it is a
 * CRASH titled by the OOM report. */
static void test_oom_kill(void **state)
{
    const tmpdir_suite *s = *state;
    static char *const agent[] = { (char *)"sampleagentd" };
    LG_AUTOFREE char *other = oom_report("stress-ng-vm");
    LG_AUTOFREE char *theirs = oom_report("sampleagentd");

    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_set_agent_processes(mon, agent, 1);
    feed_str(mon, other);
    assert_false(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_PASS);
    /* in the timeline: the console's OOM report (and the killed process) */
    const lg_signal_note *oom = NULL;
    for (size_t k = 0; k < ev.n_signals; k++)
        if (ev.signals[k].signal == LG_SIGNAL_CONSOLE)
            oom = &ev.signals[k];
    assert_non_null(oom);
    assert_int_equal(oom->verdict, LG_VERDICT_PASS);
    assert_contains(oom->title, "killed stress-ng-vm");
    lg_evidence_clear(&ev);
    /* then the kernel gives up: the panic is titled by the OOM report */
    feed_str(mon, "[   42.000000] Kernel panic - not syncing: System is deadlocked on memory\n");
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "guest kernel panicked (pvpanic)");
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_contains(ev.title, "killed stress-ng-vm");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);

    mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_set_agent_processes(mon, agent, 1);
    feed_str(mon, theirs);
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_AGENT_FAILURE);
    assert_int_equal(ev.signal, LG_SIGNAL_CONSOLE);
    assert_contains(ev.title, "the OOM killer killed the agent's process sampleagentd");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);

    /* a process nobody named the agent's: a finding still */
    mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    feed_str(mon, theirs);
    assert_false(lg_monitor_decided(mon));
    lg_monitor_free(mon);
}

/* warnings="report": a WARNING is a finding; an oops after it is still the
 * crash, by its own title.  The default blocks on a WARNING. */
static void test_warnings_policy(void **state)
{
    const tmpdir_suite *s = *state;
    static const char warning[] =
        "[   10.000000] ------------[ cut here ]------------\n"
        "[   10.000100] WARNING: CPU: 0 PID: 200 at drivers/sample/sampledrv.c:321 sampledrv_check_rule+0x5d/0x70 [sampledrv]\n"
        "[   10.000200] Modules linked in: sampledrv(O)\n"
        "[   10.000300] RIP: 0010:sampledrv_check_rule+0x5d/0x70 [sampledrv]\n"
        "[   10.000400] ---[ end trace 0000000000000000 ]---\n";
    static const char oops[] = "[   20.000000] " BUG_LINE "\n[   20.000100] " RIP_LINE "\n";

    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_set_warnings_report(mon, true);
    feed_str(mon, warning);
    assert_false(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_PASS);
    assert_int_equal(ev.n_signals, 1);
    assert_string_equal(ev.signals[0].title, "WARNING in sampledrv_check_rule");
    lg_evidence_clear(&ev);
    feed_str(mon, oops);
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);

    mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    feed_str(mon, warning);
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_string_equal(ev.title, "WARNING in sampledrv_check_rule");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* A leak detector's report (kmemleak printing its objects to the console)
 * is a finding under either warnings policy: the kernel carries on, and
 * the debug guest's leak scan at the end of the job reports the leaks. */
static void test_leak_is_a_finding(void **state)
{
    const tmpdir_suite *s = *state;
    static const char leak[] =
        "[   42.000000] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)\n"
        "[   42.000100] kmemleak: unreferenced object 0xffff88800a3f4e00 (size 64):\n"
        "[   42.000200] kmemleak:   comm \"sh\", pid 245, jiffies 4294901822 (age 12.500s)\n"
        "[   42.000300] kmemleak:   backtrace:\n"
        "[   42.000400] kmemleak:     [<ffffffff812b71b4>] kmalloc_trace+0x24/0x90\n"
        "[   42.000500] kmemleak:     [<ffffffffc00021a3>] sac_cache_rule+0xd3/0x1f0 [sampledrv]\n";
    for (int report = 0; report < 2; report++) {
        lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
        lg_monitor_set_warnings_report(mon, report);
        feed_str(mon, leak);
        assert_false(lg_monitor_decided(mon));
        lg_evidence ev;
        lg_monitor_result(mon, &ev);
        assert_int_equal(ev.verdict, LG_VERDICT_PASS);
        assert_int_equal(ev.n_signals, 1);
        assert_string_equal(ev.signals[0].title, "memory leak in sac_cache_rule");
        lg_evidence_clear(&ev);
        /* and a crash after it is still the crash */
        feed_str(mon, "[   50.000000] " BUG_LINE "\n[   50.000100] " RIP_LINE "\n");
        lg_monitor_result(mon, &ev);
        assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
        assert_string_equal(ev.title, SAMPLEDRV_TITLE);
        lg_evidence_clear(&ev);
        lg_monitor_free(mon);
    }
}

static void test_every_signal_is_noted_once_in_order(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    lg_monitor_post(mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost");
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "kernel panic (pvpanic)");
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "kernel panic (pvpanic), again");
    feed_str(mon, BUG_LINE "\n" RIP_LINE "\n");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    /* the crash took over as the root cause; the timeline keeps all three */
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_int_equal(ev.n_signals, 3);
    assert_int_equal(ev.signals[0].signal, LG_SIGNAL_HEARTBEAT);
    assert_int_equal(ev.signals[0].verdict, LG_VERDICT_HANG);
    assert_string_equal(ev.signals[0].title, "heartbeat lost");
    assert_int_equal(ev.signals[1].signal, LG_SIGNAL_PVPANIC);
    assert_string_equal(ev.signals[1].title, "kernel panic (pvpanic)");
    assert_int_equal(ev.signals[2].signal, LG_SIGNAL_CONSOLE);
    /* refined when the call trace named the function */
    assert_string_equal(ev.signals[2].title, SAMPLEDRV_TITLE);
    assert_true(ev.signals[0].time_s <= ev.signals[1].time_s);
    assert_true(ev.signals[1].time_s <= ev.signals[2].time_s);
    /* the decision is as old as the first signal */
    assert_true(ev.time_s == ev.signals[0].time_s);
    /* no QEMU timestamp, no printk stamps, no heartbeat answer */
    assert_true(ev.panic_time_s < 0);
    assert_true(ev.report_time_s < 0);
    assert_true(ev.last_answer_s < 0);
    lg_evidence_clear(&ev);
    assert_null(ev.signals);
    lg_monitor_free(mon);
}

static double since(int64_t from_us, int64_t to_us)
{
    return (double)(to_us - from_us) / 1e6;
}

/* The report line arrives late; an earlier line of the same boot arrived
 * promptly and fixes the guest's clock, so the estimate is that line's
 * arrival plus the guest time between the two (0.3 s).  Sleeps only make
 * later lines later, so the bounds hold however slow the machine is. */
static void test_report_time_from_printk_stamps(void **state)
{
    const tmpdir_suite *s = *state;
    int64_t start_lo = lg_now_us();
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    int64_t start_hi = lg_now_us();
    /* an earlier boot whose clock must not count */
    feed_str(mon, "[   50.000000] previous boot\n");
    lg_sleep_ms(20);
    int64_t a_lo = lg_now_us();
    feed_str(mon, "[    1.000000] labgate: boot 2\n");
    int64_t a_hi = lg_now_us();
    lg_sleep_ms(200);
    feed_str(mon, "[    1.200000] sampledrv: loaded channel file\n");
    lg_sleep_ms(250);
    feed_str(mon, "[    1.300000] " BUG_LINE "\n[    1.300100] " RIP_LINE "\n");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    double lo = since(start_hi, a_lo) + 0.3, hi = since(start_lo, a_hi) + 0.3;
    if (ev.report_time_s < lo - 1e-6 || ev.report_time_s > hi + 1e-6)
        fail_msg("report time %.6f not in [%.6f, %.6f]", ev.report_time_s, lo, hi);
    /* decided when the late line arrived, after the guest printed it */
    assert_true(ev.time_s >= ev.report_time_s);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_report_without_stamps_has_no_time(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    feed_str(mon, "[    1.000000] stamped\n" BUG_LINE "\n" RIP_LINE "\n");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_true(ev.report_time_s < 0);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

/* A guest's printk stamp is untrusted: twenty digits of seconds (or of
 * microseconds) are no stamp, and reading them must not overflow (the
 * sanitizer builds stop on signed overflow). */
static void test_oversized_printk_stamps_have_no_time(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    feed_str(mon, "[12345678901234567890.000000] labgate: boot 1\n"
                  "[    1.12345678901234567890] sampledrv: loaded\n"
                  /* short enough for the scanner to take it for a stamp */
                  "[9999999999999999999.0] " BUG_LINE "\n" RIP_LINE "\n");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_CRASH);
    assert_string_equal(ev.title, SAMPLEDRV_TITLE);
    assert_true(ev.report_time_s < 0);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_panic_time_and_last_answer(void **state)
{
    const tmpdir_suite *s = *state;
    int64_t start_lo = lg_now_us();
    lg_monitor *mon = new_monitor(s, NULL, GRACE_NEVER_EXPIRES_MS);
    int64_t start_hi = lg_now_us();
    lg_sleep_ms(50);
    int64_t answer_lo = lg_now_us();
    lg_monitor_heartbeat(mon);
    int64_t answer_hi = lg_now_us();
    /* QEMU stamped the panic 20 ms before we heard of it */
    struct timespec wall;
    int64_t panic_lo = lg_now_us();
    clock_gettime(CLOCK_REALTIME, &wall);
    lg_monitor_panic_time(mon, (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000 - 20000);
    int64_t panic_hi = lg_now_us();
    lg_monitor_post(mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "kernel panic (pvpanic)");
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_true(ev.last_answer_s >= since(start_hi, answer_lo) && ev.last_answer_s <= since(start_lo, answer_hi));
    /* 1 ms of slack: the wall and monotonic clocks are read a moment apart */
    double lo = since(start_hi, panic_lo) - 0.020 - 0.001, hi = since(start_lo, panic_hi) - 0.020 + 0.001;
    if (ev.panic_time_s < lo || ev.panic_time_s > hi)
        fail_msg("panic time %.6f not in [%.6f, %.6f]", ev.panic_time_s, lo, hi);
    assert_true(ev.time_s >= ev.panic_time_s);
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

static void test_console_log_receives_every_byte(void **state)
{
    const tmpdir_suite *s = *state;
    lg_monitor *mon = new_monitor(s, "console.log", GRACE_TINY_MS);
    size_t len;
    const char *path = CONSOLE("linux-x86_64-faulty-content-panic.log");
    char *data = read_fixture(path, &len);
    /* plus bytes the scanner drops: NULs, bare CRs, an unfinished line */
    lg_buf all = LG_BUF_INIT;
    lg_buf_append(&all, data, len);
    lg_buf_append(&all, "\0\r\0\rtail without newline", 24);
    free(data);
    feed_in_chunks(mon, all.data, all.len, 333);

    LG_AUTOFREE char *log_path = lg_strdup_printf("%s/console.log", s->dir);
    size_t got_len;
    char *got = read_fixture(log_path, &got_len);
    assert_int_equal(got_len, all.len);
    assert_memory_equal(got, all.data, all.len);
    free(got);
    lg_buf_free(&all);
    lg_monitor_free(mon);
}

static void test_console_log_path_must_be_writable(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *path = lg_strdup_printf("%s/no-such-dir/console.log", s->dir);
    static char sentinel;
    lg_monitor *mon = (lg_monitor *)&sentinel;
    assert_int_equal(lg_monitor_new(path, GRACE_TINY_MS, &mon), -ENOENT);
    /* nothing written on failure */
    assert_ptr_equal(mon, (lg_monitor *)&sentinel);
}

/* Job ids are predictable, so a results directory others could write may
 * hold a link at jobs/ID/console.log: it is not followed (the log would
 * have truncated and overwritten the link's target). */
static void test_console_log_follows_no_symlink(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *target = lg_strdup_printf("%s/precious", s->dir);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/planted-console.log", s->dir);
    assert_int_equal(lg_write_file(target, "keep\n", 5), 0);
    assert_int_equal(symlink(target, path), 0);
    lg_monitor *mon = NULL;
    assert_int_equal(lg_monitor_new(path, GRACE_TINY_MS, &mon), -ELOOP);
    assert_null(mon);
    char *data = NULL;
    assert_int_equal(lg_read_file(target, 64, &data, NULL), 0);
    assert_string_equal(data, "keep\n");
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_crash_from_real_log),
        cmocka_unit_test(test_crash_at_boot_records_boot_number),
        cmocka_unit_test(test_clean_log_decides_nothing),
        cmocka_unit_test(test_pvpanic_then_console_title),
        cmocka_unit_test(test_hang_then_crash_within_grace),
        cmocka_unit_test(test_hang_then_crash_after_grace),
        cmocka_unit_test(test_infra_error_is_final),
        cmocka_unit_test(test_excerpt_without_console_report),
        cmocka_unit_test(test_excerpt_when_the_console_was_silent),
        cmocka_unit_test(test_boot_markers),
        cmocka_unit_test(test_two_unexpected_resets_are_a_boot_loop),
        cmocka_unit_test(test_expected_reboots_are_not_a_boot_loop),
        cmocka_unit_test(test_resets_after_a_requested_reboot_are_a_boot_loop),
        cmocka_unit_test(test_boot_loop_excerpt_ends_at_the_reset),
        cmocka_unit_test(test_boot_loop_excerpt_waits_for_late_console_lines),
        cmocka_unit_test(test_boot_loop_excerpt_when_the_console_runs_ahead),
        cmocka_unit_test(test_boot_loop_evidence_when_the_console_is_a_boot_behind),
        cmocka_unit_test(test_boot_loop_banner_behind_a_cut_line),
        cmocka_unit_test(test_ready_resets_the_count),
        cmocka_unit_test(test_wait_wakes_on_decision),
        cmocka_unit_test(test_wait_evidence_is_bounded),
        cmocka_unit_test(test_every_signal_is_noted_once_in_order),
        cmocka_unit_test(test_report_time_from_printk_stamps),
        cmocka_unit_test(test_report_without_stamps_has_no_time),
        cmocka_unit_test(test_oversized_printk_stamps_have_no_time),
        cmocka_unit_test(test_panic_time_and_last_answer),
        cmocka_unit_test(test_console_log_receives_every_byte),
        cmocka_unit_test(test_oom_kill),
        cmocka_unit_test(test_warnings_policy),
        cmocka_unit_test(test_leak_is_a_finding),
        cmocka_unit_test(test_console_log_path_must_be_writable),
        cmocka_unit_test(test_console_log_follows_no_symlink),
    };
    return cmocka_run_group_tests_name("monitor", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
