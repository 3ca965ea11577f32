#include "failure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define V(x) LG_VERDICT_##x
#define S(x) LG_SIGNAL_##x
static const lg_failure_info failure_table[] = {
    [LG_FAIL_PANIC] = { "panic", V(CRASH), S(PVPANIC), "kernel panic (pvpanic)", false },
    [LG_FAIL_PANIC_CRASHLOADED] = { "panic-crashloaded", V(CRASH), S(PVPANIC),
                                    "kernel crashed and loaded its crash kernel (pvpanic)", false },
    [LG_FAIL_BUGCHECK] = { "bugcheck", V(CRASH), S(PVPANIC), "%s", true },
    [LG_FAIL_CONSOLE_REPORT] = { "console-report", V(CRASH), S(CONSOLE), "%s", true },
    [LG_FAIL_CRASHED_STATE] = { "crashed-state", V(CRASH), S(STATE), "kernel panic (domain state crashed)", false },
    [LG_FAIL_BOOT_LOOP] = { "boot-loop", V(BOOT_LOOP), S(REBOOT),
                            "boot loop: guest reset %d times in a row without reaching ready", false },
    [LG_FAIL_WATCHDOG] = { "watchdog", V(HANG), S(WATCHDOG), "watchdog fired (action %s)", false },
    [LG_FAIL_HEARTBEAT_LOST] = { "heartbeat-lost", V(HANG), S(HEARTBEAT),
                                 "heartbeat lost: guest did not answer for %d s (checks every %d s)", false },
    [LG_FAIL_CONTACT_LOST] = { "contact-lost", V(HANG), S(HEARTBEAT),
                               "lost contact with the guest during step %s: %s", false },
    [LG_FAIL_STEP_DEADLINE] = { "step-deadline", V(HANG), S(DEADLINE), "step %s overran its deadline of %d s",
                                false },
    [LG_FAIL_POWERED_OFF] = { "powered-off", V(HANG), S(STATE), "guest powered itself off", false },
    [LG_FAIL_NOT_READY] = { "not-ready", V(BOOT_TIMEOUT), S(DEADLINE),
                            "guest did not become ready within %d s (boot %d)", false },
    [LG_FAIL_UNREACHABLE] = { "unreachable", V(UNREACHABLE), S(NETWORK),
                              "guest unreachable: %s failed for %d s (%s) while it lived (%s)", false },
    [LG_FAIL_COMMAND_FAILED] = { "command-failed", V(AGENT_FAILURE), S(STEP), "%s failed (exit %d)%s%s", false },
    [LG_FAIL_HEALTH_FAILED] = { "health-failed", V(AGENT_FAILURE), S(HEARTBEAT),
                                "agent health check failed (exit %d) while the OS lived: %s", false },
    [LG_FAIL_AGENT_OOM_KILLED] = { "agent-oom-killed", V(AGENT_FAILURE), S(CONSOLE),
                                   "the OOM killer killed the agent's process %s: %s", true },
    [LG_FAIL_FETCH_MISSING] = { "fetch-missing", V(AGENT_FAILURE), S(STEP), "fetch %s failed: %s", false },
    /* the load ran and its tool reported a failure while the guest lived */
    [LG_FAIL_STRESS_FAILED] = { "stress-failed", V(AGENT_FAILURE), S(STEP), "stress %s failed (exit %d): %s", false },
    /* the candidate's input, not the guest: no verdict on the agent, and
     * the guest received none of it */
    [LG_FAIL_UPLOAD_REFUSED] = { "upload-refused", V(INFRA_ERROR), S(STEP), "upload refused: %s: %s", true },
    /* no load at all (the tool is missing or refused its options): the
     * guest image's or labgate's problem, not the agent's */
    [LG_FAIL_STRESS_UNAVAILABLE] = { "stress-unavailable", V(INFRA_ERROR), S(STEP),
                                     "stress %s could not run (exit %d): %s", false },
    [LG_FAIL_KEY_REFUSED] = { "key-refused", V(INFRA_ERROR), S(HYPERVISOR),
                              "guest refused the profile's ssh key %s: %s", false },
    [LG_FAIL_HOST_KEY_MISMATCH] = { "host-key-mismatch", V(INFRA_ERROR), S(HYPERVISOR), "%s", false },
    [LG_FAIL_IMAGE_MISSING] = { "image-missing", V(INFRA_ERROR), S(HYPERVISOR), "%s is missing (%s)", false },
    /* QEMU reads the copy labgate uploads into the host's storage pool:
     * only labgate has to read the profile's files */
    [LG_FAIL_IMAGE_UNREADABLE] = { "image-unreadable", V(INFRA_ERROR), S(HYPERVISOR),
                                   "labgate cannot read %s (blocked at %s)", false },
    [LG_FAIL_IMAGE_STAGE] = { "image-stage", V(INFRA_ERROR), S(HYPERVISOR),
                              "cannot put %s into the labgate storage pool of %s: %s", false },
    [LG_FAIL_LAUNCH] = { "launch", V(INFRA_ERROR), S(HYPERVISOR), "%s", false },
    [LG_FAIL_QEMU_FAILED] = { "qemu-failed", V(INFRA_ERROR), S(HYPERVISOR),
                              "the QEMU process failed (see the libvirt log for %s)", false },
    [LG_FAIL_STOPPED_OUTSIDE] = { "stopped-outside", V(INFRA_ERROR), S(HYPERVISOR),
                                  "domain stopped from outside labgate", false },
    [LG_FAIL_HYPERVISOR_LOST] = { "hypervisor-lost", V(INFRA_ERROR), S(HYPERVISOR),
                                  "lost the connection to libvirt (%s)", false },
    [LG_FAIL_INTERRUPTED] = { "interrupted", V(INFRA_ERROR), S(HYPERVISOR), "interrupted (Ctrl-C)", false },
    [LG_FAIL_OUT_OF_RESOURCES] = { "out-of-resources", V(INFRA_ERROR), S(HYPERVISOR), "%s", false },
    [LG_FAIL_HARNESS] = { "harness", V(INFRA_ERROR), S(STEP), "%s", false },
    [LG_FAIL_NOT_RUN] = { "not-run", V(INFRA_ERROR), S(HYPERVISOR), "%s", false },
    /* the guest image (or its host) failed with nothing of the candidate on
     * it: no verdict on the candidate, and its jobs were not run */
    [LG_FAIL_BASELINE_FAILED] = { "baseline-failed", V(INFRA_ERROR), S(HYPERVISOR), "baseline failed: %s %s", true },
    [LG_FAIL_HOST_SSH_LOST] = { "host-ssh-lost", V(INFRA_ERROR), S(HYPERVISOR),
                                "lost the SSH connection to the host (%s) that carried the guest's port", false },
};
#undef V
#undef S
_Static_assert(sizeof(failure_table) / sizeof(failure_table[0]) == LG_FAIL_MAX, "a row per failure kind");

const lg_failure_info *lg_failure_info_of(lg_failure kind)
{
    return &failure_table[(unsigned)kind < LG_FAIL_MAX ? kind : LG_FAIL_HARNESS];
}

char *lg_failure_vtitle(lg_failure kind, va_list ap)
{
    lg_buf title = LG_BUF_INIT;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    lg_buf_vprintf(&title, lg_failure_info_of(kind)->title_format, ap);
#pragma GCC diagnostic pop
    return lg_buf_steal(&title); /* "" when the format printed nothing */
}

char *lg_failure_title(lg_failure kind, ...)
{
    va_list ap;
    va_start(ap, kind);
    char *title = lg_failure_vtitle(kind, ap);
    va_end(ap);
    return title;
}
