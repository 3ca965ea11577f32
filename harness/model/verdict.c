#include "verdict.h"

#include <errno.h>

#include "kinds.h"

/* Trouble first in severity; lower root-cause rank is closer to the root
 * cause: a crash explains a boot loop, a boot loop a lost heartbeat. */
static const lg_verdict_info verdict_table[] = {
    [LG_VERDICT_PASS] = { "PASS", "every step done, no signal fired", false, 0, 7, "pass", "#1a7f37" },
    [LG_VERDICT_CRASH] = { "CRASH", "the guest kernel crashed", true, 7, 0, "crash", "#b42318" },
    [LG_VERDICT_BOOT_LOOP] = { "BOOT_LOOP", "crashed or reset again on consecutive boots without reaching ready",
                               true, 6, 1, "boot-loop", "#c0360c" },
    [LG_VERDICT_HANG] = { "HANG", "the guest stopped responding", true, 5, 2, "hang", "#c4520a" },
    /* a hung guest is unreachable too: HANG explains it */
    [LG_VERDICT_UNREACHABLE] = { "UNREACHABLE", "the guest lived but its network did not carry traffic", true, 4, 3,
                                 "unreachable", "#9a3412" },
    [LG_VERDICT_BOOT_TIMEOUT] = { "BOOT_TIMEOUT", "never became ready after start or reboot", true, 3, 4,
                                  "boot-timeout", "#b86200" },
    [LG_VERDICT_AGENT_FAILURE] = { "AGENT_FAILURE", "the agent failed while the OS lived", true, 2, 5,
                                   "agent-failure", "#a15c07" },
    [LG_VERDICT_INFRA_ERROR] = { "INFRA_ERROR", "the harness or hypervisor failed: no verdict on the guest", false,
                                 1, 6, "infra-error", "#6e7781" },
};
LG_ENUM_DEFINE(lg_verdict, verdict_table, LG_VERDICT_MAX)

static const lg_signal_info signal_table[] = {
    [LG_SIGNAL_NONE] = { "none", "no signal fired" },
    [LG_SIGNAL_PVPANIC] = { "pvpanic", "the guest's panic device (libvirt lifecycle CRASHED)" },
    [LG_SIGNAL_CONSOLE] = { "console", "a crash report on the serial console" },
    [LG_SIGNAL_STATE] = { "state", "the domain's state, read from libvirt" },
    [LG_SIGNAL_REBOOT] = { "reboot", "guest resets counted against boot markers" },
    [LG_SIGNAL_HEARTBEAT] = { "heartbeat", "the guest stopped answering over its transport" },
    [LG_SIGNAL_DEADLINE] = { "deadline", "a step or boot overran its deadline" },
    [LG_SIGNAL_STEP] = { "step", "a step's command failed while the guest lived" },
    [LG_SIGNAL_HYPERVISOR] = { "hypervisor", "the harness or libvirt failed" },
    [LG_SIGNAL_WATCHDOG] = { "watchdog", "the guest's watchdog device fired" },
    [LG_SIGNAL_PROCESS] = { "process", "a process in the guest died, as its kernel told the console" },
    [LG_SIGNAL_NETWORK] = { "network", "the network probes (host to guest, guest to host) failed" },
    [LG_SIGNAL_LEAK_SCAN] = { "leak-scan", "the kernel's leak detector (kmemleak), asked at the end of the job" },
};
LG_ENUM_DEFINE(lg_signal, signal_table, LG_SIGNAL_MAX)

const lg_verdict_info *lg_verdict_info_of(lg_verdict v)
{
    return &verdict_table[(unsigned)v < LG_VERDICT_MAX ? v : LG_VERDICT_INFRA_ERROR];
}

const lg_signal_info *lg_signal_info_of(lg_signal s)
{
    return &signal_table[(unsigned)s < LG_SIGNAL_MAX ? s : LG_SIGNAL_NONE];
}

bool lg_verdict_blocks(lg_verdict v)
{
    return lg_verdict_info_of(v)->blocks;
}

int lg_verdict_severity(lg_verdict v)
{
    return lg_verdict_info_of(v)->severity;
}

lg_merge lg_verdict_merge(const lg_finding *current, const lg_finding *incoming, bool in_grace)
{
    if (incoming->verdict == LG_VERDICT_PASS)
        return LG_MERGE_KEEP;
    if (!current || current->verdict == LG_VERDICT_PASS)
        return LG_MERGE_REPLACE;
    /* Once the harness has failed, nothing it saw afterwards is trustworthy;
     * and a harness failure after a guest verdict does not erase the verdict. */
    if (current->verdict == LG_VERDICT_INFRA_ERROR || incoming->verdict == LG_VERDICT_INFRA_ERROR)
        return LG_MERGE_KEEP;
    if (incoming->verdict == current->verdict)
        return incoming->title_is_specific && !current->title_is_specific ? LG_MERGE_TITLE_ONLY
                                                                          : LG_MERGE_KEEP;
    if (in_grace && lg_verdict_info_of(incoming->verdict)->root_cause_rank <
                        lg_verdict_info_of(current->verdict)->root_cause_rank)
        return LG_MERGE_REPLACE;
    return LG_MERGE_KEEP;
}

int lg_gate_exit_code(const lg_verdict *verdicts, size_t n)
{
    bool incomplete = false;
    for (size_t i = 0; i < n; i++) {
        if (lg_verdict_blocks(verdicts[i]))
            return LG_EXIT_BLOCKED; /* a known blocker decides, even in an incomplete run */
        incomplete = incomplete || verdicts[i] == LG_VERDICT_INFRA_ERROR;
    }
    return incomplete ? LG_EXIT_INCOMPLETE : LG_EXIT_CLEAR;
}
