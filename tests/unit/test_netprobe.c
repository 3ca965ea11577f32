/* The network probes' state machine (run/netprobe.h): when a failing
 * direction is only pending (a boot's network coming up late, a blip) and
 * when it is down, and what a down direction while the guest lives
 * becomes (UNREACHABLE, in the failure table). */
#include "lg_test.h"

#include <errno.h>

#include "model/failure.h"
#include "model/verdict.h"
#include "run/netprobe.h"

#define SETTLE 60000 /* the boot timeout */
#define LOST 20000   /* heartbeat interval x misses */

static lg_netprobe_sm booted_at(int64_t t)
{
    lg_netprobe_sm sm;
    lg_netprobe_sm_init(&sm, SETTLE, LOST);
    lg_netprobe_sm_boot(&sm, t);
    return sm;
}

static void test_pending_until_both_up(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(1000);
    assert_int_equal(lg_netprobe_sm_overall(&sm, 1000, NULL), LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, true, NULL, 2000), LG_NETSTATE_UP);
    assert_int_equal(lg_netprobe_sm_overall(&sm, 2000, NULL), LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, true, NULL, 2100), LG_NETSTATE_UP);
    assert_int_equal(lg_netprobe_sm_overall(&sm, 2100, NULL), LG_NETSTATE_UP);
}

/* A network that comes up late is pending until the boot timeout after
 * the boot began, then down. */
static void test_late_network_within_boot_timeout(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(1000);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "nothing arrived", 5000),
                     LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_down_at(&sm, LG_NETDIR_GUEST_TO_HOST), 1000 + SETTLE);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "nothing arrived", 1000 + SETTLE - 1),
                     LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, true, NULL, 1000 + SETTLE - 1),
                     LG_NETSTATE_UP);
    assert_int_equal(lg_netprobe_sm_down_at(&sm, LG_NETDIR_GUEST_TO_HOST), 0);
}

static void test_never_up_is_down_at_boot_timeout(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(1000);
    lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, true, NULL, 2000);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "nothing arrived", 2000),
                     LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "still nothing", 1000 + SETTLE),
                     LG_NETSTATE_DOWN);
    lg_netdir failed = LG_NETDIR_HOST_TO_GUEST;
    assert_int_equal(lg_netprobe_sm_overall(&sm, 1000 + SETTLE, &failed), LG_NETSTATE_DOWN);
    assert_int_equal(failed, LG_NETDIR_GUEST_TO_HOST);
    /* the latest reason, and since when it fails */
    assert_string_equal(sm.dir[LG_NETDIR_GUEST_TO_HOST].why, "still nothing");
    assert_int_equal(sm.dir[LG_NETDIR_GUEST_TO_HOST].failing_since_ms, 2000);
}

/* Once up, a direction is lost after LOST without success: a blip is not. */
static void test_up_then_lost(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(0);
    lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, true, NULL, 10000);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, false, "no banner", 15000),
                     LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, true, NULL, 20000), LG_NETSTATE_UP);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, false, "no banner", 25000),
                     LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_down_at(&sm, LG_NETDIR_HOST_TO_GUEST), 20000 + LOST);
    assert_int_equal(lg_netprobe_sm_state(&sm, LG_NETDIR_HOST_TO_GUEST, 20000 + LOST - 1), LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_state(&sm, LG_NETDIR_HOST_TO_GUEST, 20000 + LOST), LG_NETSTATE_DOWN);
    /* well before the boot timeout: once up, the boot's allowance is gone */
    assert_true(20000 + LOST < SETTLE);
}

/* A new boot starts over: what the last boot's network did counts no more. */
static void test_boot_starts_over(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(0);
    lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, true, NULL, 1000);
    lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "x", 2000);
    assert_int_equal(lg_netprobe_sm_state(&sm, LG_NETDIR_GUEST_TO_HOST, 1000 + LOST), LG_NETSTATE_DOWN);
    lg_netprobe_sm_boot(&sm, 30000);
    assert_int_equal(lg_netprobe_sm_state(&sm, LG_NETDIR_GUEST_TO_HOST, 30000), LG_NETSTATE_PENDING);
    assert_int_equal(lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "x", 31000 + LOST),
                     LG_NETSTATE_PENDING);
    assert_int_equal(sm.settle_ms, SETTLE);
    assert_int_equal(sm.lost_ms, LOST);
}

/* The first direction down names the failure; host to guest first. */
static void test_overall_names_first_down(void **state)
{
    (void)state;
    lg_netprobe_sm sm = booted_at(1);
    lg_netprobe_sm_record(&sm, LG_NETDIR_HOST_TO_GUEST, false, "a", 100);
    lg_netprobe_sm_record(&sm, LG_NETDIR_GUEST_TO_HOST, false, "b", 100);
    lg_netdir failed = LG_NETDIR_GUEST_TO_HOST;
    assert_int_equal(lg_netprobe_sm_overall(&sm, 1 + SETTLE, &failed), LG_NETSTATE_DOWN);
    assert_int_equal(failed, LG_NETDIR_HOST_TO_GUEST);
    assert_string_equal(lg_netdir_name(LG_NETDIR_HOST_TO_GUEST), "host to guest");
    assert_string_equal(lg_netdir_name(LG_NETDIR_GUEST_TO_HOST), "guest to host");
}

/* What the probes report: UNREACHABLE, blocking, from the network signal,
 * with the direction, the time and how the guest was known alive. */
static void test_unreachable_verdict(void **state)
{
    (void)state;
    const lg_failure_info *info = lg_failure_info_of(LG_FAIL_UNREACHABLE);
    assert_int_equal(info->verdict, LG_VERDICT_UNREACHABLE);
    assert_int_equal(info->signal, LG_SIGNAL_NETWORK);
    assert_true(lg_verdict_blocks(LG_VERDICT_UNREACHABLE));
    lg_verdict v[] = { LG_VERDICT_PASS, LG_VERDICT_UNREACHABLE };
    assert_int_equal(lg_gate_exit_code(v, 2), LG_EXIT_BLOCKED);
    LG_AUTOFREE char *title = lg_failure_title(LG_FAIL_UNREACHABLE, "guest to host", 42, "nothing arrived",
                                               "qemu-ga answers");
    assert_string_equal(title,
                        "guest unreachable: guest to host failed for 42 s (nothing arrived) while it lived (qemu-ga answers)");
    assert_string_equal(lg_verdict_name(LG_VERDICT_UNREACHABLE), "UNREACHABLE");
    assert_string_equal(lg_signal_name(LG_SIGNAL_NETWORK), "network");
    /* a hung or crashed guest is unreachable too: those explain it */
    lg_finding unreachable = { LG_VERDICT_UNREACHABLE, LG_SIGNAL_NETWORK, title, false };
    lg_finding hang = { LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost", false };
    lg_finding crash = { LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG", true };
    assert_int_equal(lg_verdict_merge(&unreachable, &hang, true), LG_MERGE_REPLACE);
    assert_int_equal(lg_verdict_merge(&unreachable, &crash, true), LG_MERGE_REPLACE);
    assert_int_equal(lg_verdict_merge(&hang, &unreachable, true), LG_MERGE_KEEP);
    /* ... and it explains an agent that failed because of it */
    lg_finding agent = { LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "exec failed", false };
    assert_int_equal(lg_verdict_merge(&agent, &unreachable, true), LG_MERGE_REPLACE);
    /* read between HANG and BOOT_TIMEOUT */
    assert_true(lg_verdict_severity(LG_VERDICT_HANG) > lg_verdict_severity(LG_VERDICT_UNREACHABLE));
    assert_true(lg_verdict_severity(LG_VERDICT_UNREACHABLE) > lg_verdict_severity(LG_VERDICT_BOOT_TIMEOUT));
}

/* The listener is labgate's own, on 127.0.0.1, on a port nobody else holds
 * until it is freed. */
static void test_listener(void **state)
{
    (void)state;
    lg_profile profile = { .transport = LG_TRANSPORT_QGA, .ssh_port = 22, .net_probe = true, .net_probe_port = 22 };
    lg_netprobe_params params = { .profile = &profile, .timeout_ms = 1000, .settle_ms = SETTLE, .lost_ms = LOST,
                                  .interval_ms = LOST / 2, .job_id = "t" };
    lg_netprobe *np = NULL;
    assert_int_equal(lg_netprobe_new(&params, &np), 0);
    int port = lg_netprobe_listen_port(np);
    assert_true(port > 0 && port < 65536);
    lg_netprobe *other = NULL;
    assert_int_equal(lg_netprobe_new(&params, &other), 0);
    assert_int_not_equal(lg_netprobe_listen_port(other), port);
    assert_true(lg_netprobe_due(np));
    lg_netprobe_free(other);
    lg_netprobe_free(np);
    lg_netprobe_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_until_both_up),
        cmocka_unit_test(test_late_network_within_boot_timeout),
        cmocka_unit_test(test_never_up_is_down_at_boot_timeout),
        cmocka_unit_test(test_up_then_lost),
        cmocka_unit_test(test_boot_starts_over),
        cmocka_unit_test(test_overall_names_first_down),
        cmocka_unit_test(test_unreachable_verdict),
        cmocka_unit_test(test_listener),
    };
    return cmocka_run_group_tests_name("netprobe", tests, NULL, NULL);
}
