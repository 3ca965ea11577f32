#include "verdict.h"

const char *lg_verdict_name(lg_verdict v)
{
    switch (v) {
    case LG_VERDICT_PASS: return "PASS";
    case LG_VERDICT_CRASH: return "CRASH";
    case LG_VERDICT_BOOT_LOOP: return "BOOT_LOOP";
    case LG_VERDICT_HANG: return "HANG";
    case LG_VERDICT_BOOT_TIMEOUT: return "BOOT_TIMEOUT";
    case LG_VERDICT_AGENT_FAILURE: return "AGENT_FAILURE";
    case LG_VERDICT_INFRA_ERROR: return "INFRA_ERROR";
    }
    return "?";
}

const char *lg_signal_name(lg_signal s)
{
    switch (s) {
    case LG_SIGNAL_NONE: return "none";
    case LG_SIGNAL_PVPANIC: return "pvpanic";
    case LG_SIGNAL_CONSOLE: return "console";
    case LG_SIGNAL_STATE: return "state";
    case LG_SIGNAL_REBOOT: return "reboot";
    case LG_SIGNAL_HEARTBEAT: return "heartbeat";
    case LG_SIGNAL_DEADLINE: return "deadline";
    case LG_SIGNAL_STEP: return "step";
    case LG_SIGNAL_HYPERVISOR: return "hypervisor";
    case LG_SIGNAL_WATCHDOG: return "watchdog";
    }
    return "?";
}

bool lg_verdict_blocks(lg_verdict v)
{
    return v != LG_VERDICT_PASS && v != LG_VERDICT_INFRA_ERROR;
}

/* Lower is closer to the root cause: a crash explains a boot loop, a boot loop
 * explains a lost heartbeat, and so on. */
static int root_cause_rank(lg_verdict v)
{
    switch (v) {
    case LG_VERDICT_CRASH: return 0;
    case LG_VERDICT_BOOT_LOOP: return 1;
    case LG_VERDICT_HANG: return 2;
    case LG_VERDICT_BOOT_TIMEOUT: return 3;
    case LG_VERDICT_AGENT_FAILURE: return 4;
    default: return 5;
    }
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
    if (in_grace && root_cause_rank(incoming->verdict) < root_cause_rank(current->verdict))
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

int lg_verdict_severity(lg_verdict v)
{
    switch (v) {
    case LG_VERDICT_CRASH: return 6;
    case LG_VERDICT_BOOT_LOOP: return 5;
    case LG_VERDICT_HANG: return 4;
    case LG_VERDICT_BOOT_TIMEOUT: return 3;
    case LG_VERDICT_AGENT_FAILURE: return 2;
    case LG_VERDICT_INFRA_ERROR: return 1;
    default: return 0;
    }
}
