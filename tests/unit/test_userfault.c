/* Console lines of a user process's death (watch/userfault.h), and the
 * monitor's timeline note naming the agent's processes. */
#include "lg_test.h"

#include "watch/monitor.h"
#include "watch/userfault.h"

static void expect(const char *line, lg_userfault_kind kind, const char *name, int pid)
{
    lg_userfault f;
    if (!lg_userfault_parse(line, &f))
        fail_msg("not recognised: %s", line);
    assert_int_equal(f.kind, kind);
    assert_string_equal(f.name, name);
    assert_int_equal(f.pid, pid);
}

static void test_recognised(void **state)
{
    (void)state;
    expect("sampleagentd[231]: segfault at 0 ip 000055d0c0a1b2c3 sp 00007ffc1a2b3c40 error 4 in sampleagentd[55d0c0a1a000+2000]",
           LG_USERFAULT_SEGFAULT, "sampleagentd", 231);
    expect("a b[c][7]: segfault at 10 ip 0 sp 0 error 6", LG_USERFAULT_SEGFAULT, "a b[c]", 7);
    expect("agentd[88]: unhandled level 3 translation fault (11) at 0x0, esr 0x92000046, in agentd[400000+1000]",
           LG_USERFAULT_SEGFAULT, "agentd", 88);
    expect("traps: agentd[412] general protection fault ip:7f1e2d3c4b5a sp:7ffd0 error:0 in libc.so.6[7f1e+155000]",
           LG_USERFAULT_GENERAL_PROTECTION, "agentd", 412);
    expect("traps: agentd[413] trap divide error ip:401136 sp:7ffe5 error:0 in agentd[401000+1000]",
           LG_USERFAULT_TRAP, "agentd", 413);
    expect("Out of memory: Killed process 977 (sampleagentd) total-vm:123456kB, anon-rss:100000kB, file-rss:0kB",
           LG_USERFAULT_OOM_KILL, "sampleagentd", 977);
    expect("Memory cgroup out of memory: Killed process 12 (worker) total-vm:1kB", LG_USERFAULT_OOM_KILL, "worker", 12);
    expect("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
           "task=stress-ng-vm,pid=301,uid=0",
           LG_USERFAULT_OOM_KILL, "stress-ng-vm", 301);
}

static void test_not_recognised(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "", "segfault at 0", "[231]: segfault at 0", "x[]: segfault at 0", "x[12a]: segfault at 0",
        "a-name-longer-than-15[1]: segfault at 0 ip 0", "x[1]: unhandled signal 11", "traps: x[1] something else",
        "traps: [1] general protection fault", "Out of memory: Killed process abc (x)",
        "Out of memory: Killed process 12 (unterminated", "oom-kill:task=x", "oom-kill:constraint=X,task=x,pid=,uid=0",
        "x[12345678901]: segfault at 0", "BUG: kernel NULL pointer dereference, address: 0000000000000000",
        "sampleagentd: fatal: option heartbeat-interval '30s'; exiting",
    };
    lg_userfault f;
    for (size_t i = 0; i < LG_N_ELEMENTS(lines); i++)
        if (lg_userfault_parse(lines[i], &f))
            fail_msg("recognised: '%s' as %s[%d]", lines[i], f.name, f.pid);
    assert_false(lg_userfault_parse(NULL, &f));
}

static const lg_signal_note *process_note(const lg_evidence *ev)
{
    for (size_t i = 0; i < ev->n_signals; i++)
        if (ev->signals[i].signal == LG_SIGNAL_PROCESS)
            return &ev->signals[i];
    return NULL;
}

/* The monitor: a note under signal process, decided nothing; the agent's
 * own process is named so, and another process after it does not replace
 * it. */
static void test_monitor_notes_agent_process(void **state)
{
    (void)state;
    lg_monitor *mon = NULL;
    assert_int_equal(lg_monitor_new(NULL, 100, &mon), 0);
    char *names[] = { (char *)"helperd", (char *)"sampleagentd" };
    lg_monitor_set_agent_processes(mon, names, 2);
    const char *text = "[    3.000000] labgate: boot 2\n"
                       "[    5.123456] cat[90]: segfault at 0 ip 0 sp 0 error 4 in cat[400000+1000]\n"
                       "[    6.123456] sampleagentd[231]: segfault at 8 ip 0 sp 0 error 4\n"
                       "[    7.123456] ls[91]: segfault at 0 ip 0 sp 0 error 4\n";
    lg_monitor_console(mon, text, strlen(text));
    assert_false(lg_monitor_decided(mon));
    lg_evidence ev;
    lg_monitor_result(mon, &ev);
    assert_int_equal(ev.verdict, LG_VERDICT_PASS);
    const lg_signal_note *note = process_note(&ev);
    assert_non_null(note);
    assert_int_equal(note->verdict, LG_VERDICT_PASS);
    assert_string_equal(note->title, "agent process sampleagentd[231]: segfault (boot 2)");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);

    /* no process names: noted as a process, not the agent's */
    assert_int_equal(lg_monitor_new(NULL, 100, &mon), 0);
    text = "[   11.000000] Out of memory: Killed process 977 (sampleagentd) total-vm:1kB\n";
    lg_monitor_console(mon, text, strlen(text));
    lg_monitor_result(mon, &ev);
    note = process_note(&ev);
    assert_non_null(note);
    assert_string_equal(note->title, "process sampleagentd[977]: killed by the OOM killer (boot 0)");
    lg_evidence_clear(&ev);
    lg_monitor_free(mon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recognised),
        cmocka_unit_test(test_not_recognised),
        cmocka_unit_test(test_monitor_notes_agent_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
