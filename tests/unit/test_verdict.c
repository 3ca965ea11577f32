/* Verdicts: how findings from several signals combine into one decision per
 * job, and how the verdicts of a run become the gate's exit code. */
#include "lg_test.h"

#include <errno.h>

#include "model/failure.h"
#include "model/kinds.h"
#include "model/verdict.h"

static const lg_verdict ALL_VERDICTS[] = {
    LG_VERDICT_PASS, LG_VERDICT_CRASH, LG_VERDICT_BOOT_LOOP, LG_VERDICT_HANG, LG_VERDICT_UNREACHABLE,
    LG_VERDICT_BOOT_TIMEOUT, LG_VERDICT_AGENT_FAILURE, LG_VERDICT_INFRA_ERROR,
};
static const lg_verdict GUEST_FAILURES[] = {
    LG_VERDICT_CRASH, LG_VERDICT_BOOT_LOOP, LG_VERDICT_HANG, LG_VERDICT_UNREACHABLE, LG_VERDICT_BOOT_TIMEOUT,
    LG_VERDICT_AGENT_FAILURE,
};

static lg_finding finding(lg_verdict v, lg_signal s, const char *title, bool specific)
{
    return (lg_finding){ .verdict = v, .signal = s, .title = title, .title_is_specific = specific };
}

static const lg_finding CONSOLE_CRASH = {
    LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE,
    "BUG: kernel NULL pointer dereference in sampledrv_parse_record", true,
};
static const lg_finding PVPANIC_CRASH = { LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "guest kernel panicked (pvpanic)", false };
static const lg_finding HEARTBEAT_HANG = { LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost: 4 missed", false };
static const lg_finding INFRA = { LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "libvirt connection lost", false };

/* ------------------------------------------------------------------ merge */

static void test_first_finding_decides(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(ALL_VERDICTS); i++) {
        if (ALL_VERDICTS[i] == LG_VERDICT_PASS)
            continue;
        lg_finding f = finding(ALL_VERDICTS[i], LG_SIGNAL_STEP, "x", false);
        assert_int_equal(lg_verdict_merge(NULL, &f, false), LG_MERGE_REPLACE);
        assert_int_equal(lg_verdict_merge(NULL, &f, true), LG_MERGE_REPLACE);
    }
    /* a current PASS is no decision yet */
    lg_finding pass = finding(LG_VERDICT_PASS, LG_SIGNAL_NONE, "", false);
    assert_int_equal(lg_verdict_merge(&pass, &HEARTBEAT_HANG, false), LG_MERGE_REPLACE);
}

static void test_pass_findings_ignored(void **state)
{
    (void)state;
    lg_finding pass = finding(LG_VERDICT_PASS, LG_SIGNAL_STEP, "step done", true);
    assert_int_equal(lg_verdict_merge(NULL, &pass, false), LG_MERGE_KEEP);
    assert_int_equal(lg_verdict_merge(&HEARTBEAT_HANG, &pass, true), LG_MERGE_KEEP);
    assert_int_equal(lg_verdict_merge(&PVPANIC_CRASH, &pass, true), LG_MERGE_KEEP);
}

static void test_same_verdict_more_specific_title(void **state)
{
    (void)state;
    /* pvpanic first (fast, says only that it crashed), then the console
     * report names the function: keep the signal, take the title */
    assert_int_equal(lg_verdict_merge(&PVPANIC_CRASH, &CONSOLE_CRASH, true), LG_MERGE_TITLE_ONLY);
    assert_int_equal(lg_verdict_merge(&PVPANIC_CRASH, &CONSOLE_CRASH, false), LG_MERGE_TITLE_ONLY);
    /* the reverse: a vaguer title never replaces a specific one */
    assert_int_equal(lg_verdict_merge(&CONSOLE_CRASH, &PVPANIC_CRASH, true), LG_MERGE_KEEP);
    /* equally specific: the first stands */
    lg_finding other = finding(LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "general protection fault in list_del", true);
    assert_int_equal(lg_verdict_merge(&CONSOLE_CRASH, &other, true), LG_MERGE_KEEP);
    lg_finding vague = finding(LG_VERDICT_HANG, LG_SIGNAL_DEADLINE, "step overran", false);
    assert_int_equal(lg_verdict_merge(&HEARTBEAT_HANG, &vague, true), LG_MERGE_KEEP);
}

static void test_crash_in_grace_replaces_symptoms(void **state)
{
    (void)state;
    static const lg_finding symptoms[] = {
        { LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost", false },
        { LG_VERDICT_HANG, LG_SIGNAL_DEADLINE, "step overran its deadline", false },
        { LG_VERDICT_BOOT_TIMEOUT, LG_SIGNAL_DEADLINE, "not ready after 180 s", false },
        { LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "install.sh exited 1", false },
        { LG_VERDICT_BOOT_LOOP, LG_SIGNAL_REBOOT, "boot loop", false },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(symptoms); i++) {
        /* the crash explains what was seen first */
        assert_int_equal(lg_verdict_merge(&symptoms[i], &CONSOLE_CRASH, true), LG_MERGE_REPLACE);
        assert_int_equal(lg_verdict_merge(&symptoms[i], &PVPANIC_CRASH, true), LG_MERGE_REPLACE);
        /* outside the grace window it is a later, separate event */
        assert_int_equal(lg_verdict_merge(&symptoms[i], &CONSOLE_CRASH, false), LG_MERGE_KEEP);
        assert_int_equal(lg_verdict_merge(&symptoms[i], &PVPANIC_CRASH, false), LG_MERGE_KEEP);
    }
}

static void test_symptom_never_replaces_crash(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(GUEST_FAILURES); i++) {
        if (GUEST_FAILURES[i] == LG_VERDICT_CRASH)
            continue;
        lg_finding f = finding(GUEST_FAILURES[i], LG_SIGNAL_HEARTBEAT, "after the crash", true);
        assert_int_equal(lg_verdict_merge(&CONSOLE_CRASH, &f, true), LG_MERGE_KEEP);
        assert_int_equal(lg_verdict_merge(&PVPANIC_CRASH, &f, true), LG_MERGE_KEEP);
    }
    /* a boot loop explains a lost heartbeat, not the other way round */
    lg_finding loop = finding(LG_VERDICT_BOOT_LOOP, LG_SIGNAL_REBOOT, "boot loop", false);
    assert_int_equal(lg_verdict_merge(&HEARTBEAT_HANG, &loop, true), LG_MERGE_REPLACE);
    assert_int_equal(lg_verdict_merge(&loop, &HEARTBEAT_HANG, true), LG_MERGE_KEEP);
}

static void test_infra_error_never_replaced_never_replacing(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(GUEST_FAILURES); i++) {
        lg_finding guest = finding(GUEST_FAILURES[i], LG_SIGNAL_CONSOLE, "guest failure", true);
        for (int in_grace = 0; in_grace <= 1; in_grace++) {
            /* once the harness failed, nothing it saw afterwards is trusted */
            assert_int_equal(lg_verdict_merge(&INFRA, &guest, in_grace), LG_MERGE_KEEP);
            /* and a harness failure does not erase a guest verdict */
            assert_int_equal(lg_verdict_merge(&guest, &INFRA, in_grace), LG_MERGE_KEEP);
        }
    }
    /* not even a better title */
    lg_finding infra2 = finding(LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "virDomainCreate: image missing", true);
    assert_int_equal(lg_verdict_merge(&INFRA, &infra2, true), LG_MERGE_KEEP);
    /* but it is a decision when it comes first */
    assert_int_equal(lg_verdict_merge(NULL, &INFRA, false), LG_MERGE_REPLACE);
}

/* ------------------------------------------------------------------- gate */

static void test_gate_all_pass(void **state)
{
    (void)state;
    lg_verdict v[] = { LG_VERDICT_PASS, LG_VERDICT_PASS, LG_VERDICT_PASS };
    assert_int_equal(lg_gate_exit_code(v, LG_N_ELEMENTS(v)), LG_EXIT_CLEAR);
    assert_int_equal(LG_EXIT_CLEAR, 0);
}

static void test_gate_any_blocking(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(GUEST_FAILURES); i++) {
        lg_verdict one[] = { LG_VERDICT_PASS, GUEST_FAILURES[i], LG_VERDICT_PASS };
        assert_int_equal(lg_gate_exit_code(one, LG_N_ELEMENTS(one)), 1);
        /* a known blocker decides even in an incomplete run, wherever it is */
        lg_verdict with_infra[] = { LG_VERDICT_INFRA_ERROR, LG_VERDICT_PASS, GUEST_FAILURES[i] };
        assert_int_equal(lg_gate_exit_code(with_infra, LG_N_ELEMENTS(with_infra)), LG_EXIT_BLOCKED);
        lg_verdict infra_after[] = { GUEST_FAILURES[i], LG_VERDICT_INFRA_ERROR };
        assert_int_equal(lg_gate_exit_code(infra_after, LG_N_ELEMENTS(infra_after)), LG_EXIT_BLOCKED);
    }
}

static void test_gate_infra_only(void **state)
{
    (void)state;
    lg_verdict v[] = { LG_VERDICT_PASS, LG_VERDICT_INFRA_ERROR, LG_VERDICT_PASS };
    assert_int_equal(lg_gate_exit_code(v, LG_N_ELEMENTS(v)), 3);
    lg_verdict all_infra[] = { LG_VERDICT_INFRA_ERROR, LG_VERDICT_INFRA_ERROR };
    assert_int_equal(lg_gate_exit_code(all_infra, LG_N_ELEMENTS(all_infra)), LG_EXIT_INCOMPLETE);
}

static void test_gate_empty(void **state)
{
    (void)state;
    assert_int_equal(lg_gate_exit_code(NULL, 0), 0);
}

static void test_blocks(void **state)
{
    (void)state;
    assert_false(lg_verdict_blocks(LG_VERDICT_PASS));
    assert_false(lg_verdict_blocks(LG_VERDICT_INFRA_ERROR));
    for (size_t i = 0; i < LG_N_ELEMENTS(GUEST_FAILURES); i++)
        assert_true(lg_verdict_blocks(GUEST_FAILURES[i]));
}

/* ------------------------------------------------------------------ names */

static void test_names(void **state)
{
    (void)state;
    static const char *const verdicts[] = {
        "PASS", "CRASH", "BOOT_LOOP", "HANG", "UNREACHABLE", "BOOT_TIMEOUT", "AGENT_FAILURE", "INFRA_ERROR",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(ALL_VERDICTS); i++)
        assert_string_equal(lg_verdict_name(ALL_VERDICTS[i]), verdicts[i]);
    static const struct { lg_signal s; const char *name; } signals[] = {
        { LG_SIGNAL_NONE, "none" }, { LG_SIGNAL_PVPANIC, "pvpanic" }, { LG_SIGNAL_CONSOLE, "console" },
        { LG_SIGNAL_STATE, "state" }, { LG_SIGNAL_REBOOT, "reboot" }, { LG_SIGNAL_HEARTBEAT, "heartbeat" },
        { LG_SIGNAL_DEADLINE, "deadline" }, { LG_SIGNAL_STEP, "step" }, { LG_SIGNAL_HYPERVISOR, "hypervisor" }, { LG_SIGNAL_WATCHDOG, "watchdog" },
        { LG_SIGNAL_PROCESS, "process" },
        { LG_SIGNAL_NETWORK, "network" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(signals); i++)
        assert_string_equal(lg_signal_name(signals[i].s), signals[i].name);
    assert_string_equal(lg_verdict_name((lg_verdict)99), "?");
    assert_string_equal(lg_signal_name((lg_signal)99), "?");
}

/* Every value of every enum has a name in its table, and the name parses
 * back to the value; unknown names are refused with out untouched. */
static void test_enum_tables_round_trip(void **state)
{
    (void)state;
#define ROUND_TRIP(type, max)                                                      \
    for (int v = 0; v < (max); v++) {                                              \
        type parsed = (type)(max);                                                 \
        assert_string_not_equal(type##_name((type)v), "?");                        \
        assert_int_equal(type##_parse(type##_name((type)v), &parsed), 0);          \
        assert_int_equal(parsed, v);                                               \
    }                                                                              \
    {                                                                              \
        type untouched = (type)(max);                                              \
        assert_int_equal(type##_parse("no-such-name", &untouched), -EINVAL);       \
        assert_int_equal(type##_parse(NULL, &untouched), -EINVAL);                 \
        assert_int_equal(untouched, (max));                                        \
    }
    ROUND_TRIP(lg_verdict, LG_VERDICT_MAX)
    ROUND_TRIP(lg_signal, LG_SIGNAL_MAX)
    ROUND_TRIP(lg_os, LG_OS_MAX)
    ROUND_TRIP(lg_arch, LG_ARCH_MAX)
    ROUND_TRIP(lg_transport_kind, LG_TRANSPORT_MAX)
    ROUND_TRIP(lg_panic_model, LG_PANIC_MAX)
#undef ROUND_TRIP
    assert_string_equal(lg_verdict_name(LG_VERDICT_MAX), "?");
}

/* The verdict table orders what a reader sees and what explains what. */
static void test_verdict_table(void **state)
{
    (void)state;
    for (int v = 0; v < LG_VERDICT_MAX; v++) {
        const lg_verdict_info *info = lg_verdict_info_of((lg_verdict)v);
        assert_non_null(info->meaning);
        assert_non_null(info->css);
        assert_true(info->colour[0] == '#');
        for (int w = 0; w < v; w++) {
            /* severities and root-cause ranks are each a strict order */
            assert_int_not_equal(info->severity, lg_verdict_info_of((lg_verdict)w)->severity);
            assert_int_not_equal(info->root_cause_rank, lg_verdict_info_of((lg_verdict)w)->root_cause_rank);
        }
    }
    assert_true(lg_verdict_info_of(LG_VERDICT_CRASH)->root_cause_rank <
                lg_verdict_info_of(LG_VERDICT_HANG)->root_cause_rank);
    assert_int_equal(lg_verdict_severity(LG_VERDICT_PASS), 0);
}

/* Every failure kind has a row: a name, a verdict, a signal and a title. */
static void test_failure_table(void **state)
{
    (void)state;
    for (int k = 0; k < LG_FAIL_MAX; k++) {
        const lg_failure_info *info = lg_failure_info_of((lg_failure)k);
        assert_non_null(info->name);
        assert_non_null(info->title_format);
        assert_true(info->verdict != LG_VERDICT_PASS && info->verdict < LG_VERDICT_MAX);
        assert_true(info->signal != LG_SIGNAL_NONE && info->signal < LG_SIGNAL_MAX);
        for (int j = 0; j < k; j++)
            assert_string_not_equal(info->name, lg_failure_info_of((lg_failure)j)->name);
    }
    char *title = lg_failure_title(LG_FAIL_STEP_DEADLINE, "exec", 30);
    assert_string_equal(title, "step exec overran its deadline of 30 s");
    free(title);
    title = lg_failure_title(LG_FAIL_NOT_READY, 60, 2);
    assert_string_equal(title, "guest did not become ready within 60 s (boot 2)");
    free(title);
    /* the harness's own failures never block a release */
    assert_false(lg_verdict_blocks(lg_failure_info_of(LG_FAIL_INTERRUPTED)->verdict));
    assert_true(lg_verdict_blocks(lg_failure_info_of(LG_FAIL_HEALTH_FAILED)->verdict));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_finding_decides),
        cmocka_unit_test(test_pass_findings_ignored),
        cmocka_unit_test(test_same_verdict_more_specific_title),
        cmocka_unit_test(test_crash_in_grace_replaces_symptoms),
        cmocka_unit_test(test_symptom_never_replaces_crash),
        cmocka_unit_test(test_infra_error_never_replaced_never_replacing),
        cmocka_unit_test(test_gate_all_pass),
        cmocka_unit_test(test_gate_any_blocking),
        cmocka_unit_test(test_gate_infra_only),
        cmocka_unit_test(test_gate_empty),
        cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_enum_tables_round_trip),
        cmocka_unit_test(test_verdict_table),
        cmocka_unit_test(test_failure_table),
    };
    return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
