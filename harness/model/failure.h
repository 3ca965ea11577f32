/* Every failure a job can meet, as a kind, and one table that maps each
 * kind to its verdict, the signal that reports it and its title.  Job code
 * says what happened (lg_monitor_fail(mon, LG_FAIL_STEP_DEADLINE, ...));
 * only this table says what verdict that is. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>

#include "verdict.h"

typedef enum {
    /* the guest's kernel */
    LG_FAIL_PANIC,              /* panic device fired */
    LG_FAIL_PANIC_CRASHLOADED,  /* panic device: the kernel loaded its crash kernel */
    LG_FAIL_BUGCHECK,           /* the guest's own panic details: title (%s) */
    LG_FAIL_CONSOLE_REPORT,     /* crash report on the console: title (%s) */
    LG_FAIL_CRASHED_STATE,      /* libvirt's domain state says crashed (backstop) */
    LG_FAIL_BOOT_LOOP,          /* resets in a row (%d) without reaching ready */
    /* the guest stopped answering */
    LG_FAIL_WATCHDOG,           /* watchdog device fired: action (%s) */
    LG_FAIL_HEARTBEAT_LOST,     /* silent for (%d) s, checked every (%d) s */
    LG_FAIL_CONTACT_LOST,       /* during step (%s): why (%s) */
    LG_FAIL_STEP_DEADLINE,      /* step (%s) overran its deadline (%d s) */
    LG_FAIL_POWERED_OFF,        /* the guest powered itself off */
    LG_FAIL_NOT_READY,          /* not ready within (%d) s, boot (%d) */
    /* the guest lives, its network does not */
    LG_FAIL_UNREACHABLE,        /* direction (%s) failed for (%d) s: why (%s); known alive by (%s) */
    /* the agent */
    LG_FAIL_COMMAND_FAILED,     /* what (%s) exited (%d): last output line (%s) */
    LG_FAIL_HEALTH_FAILED,      /* health check exited (%d): last line (%s) */
    LG_FAIL_AGENT_OOM_KILLED,   /* the OOM killer killed agent process (%s): the report's title (%s) */
    LG_FAIL_FETCH_MISSING,      /* fetch of (%s) failed: why (%s) */
    LG_FAIL_STRESS_FAILED,      /* stress (%s: kind) exited (%d): relevant output line (%s) */
    /* the harness and the hypervisor (no verdict on the guest) */
    LG_FAIL_UPLOAD_REFUSED,     /* the input (%s: "build X") holds what must not be uploaded: why (%s) */
    LG_FAIL_STRESS_UNAVAILABLE, /* the stress tool could not run (%s: kind), exit (%d): why (%s) */
    LG_FAIL_KEY_REFUSED,        /* the guest refused key (%s): why (%s) */
    LG_FAIL_HOST_KEY_MISMATCH,  /* not the profile's guest: detail (%s) */
    LG_FAIL_IMAGE_MISSING,      /* file (%s) missing: how to make it (%s) */
    LG_FAIL_IMAGE_UNREADABLE,   /* labgate cannot read (%s): blocking path (%s) */
    LG_FAIL_IMAGE_STAGE,        /* image (%s) could not be put on host (%s): why (%s) */
    LG_FAIL_LAUNCH,             /* the domain could not be defined/started: why (%s) */
    LG_FAIL_QEMU_FAILED,        /* QEMU died: domain (%s) */
    LG_FAIL_STOPPED_OUTSIDE,    /* destroyed/stopped by someone else */
    LG_FAIL_HYPERVISOR_LOST,    /* the libvirt connection (%s) closed */
    LG_FAIL_INTERRUPTED,        /* Ctrl-C */
    LG_FAIL_OUT_OF_RESOURCES,   /* no port, no directory, no disk: why (%s) */
    LG_FAIL_HARNESS,            /* labgate itself failed at something (%s) */
    LG_FAIL_NOT_RUN,            /* the job never started: why (%s) */
    LG_FAIL_BASELINE_FAILED,    /* the profile's baseline boot (policy baseline="first") ended (%s: verdict) (%s: title);
                                 * the job never started.  The evidence's signal is the baseline's own. */
    LG_FAIL_HOST_SSH_LOST,      /* the remote host's SSH connection (%s), which carried the guest's port, broke */
    LG_FAIL_MAX
} lg_failure;

typedef struct lg_failure_info {
    const char *name;      /* for logs and tests */
    lg_verdict verdict;
    lg_signal signal;
    /* printf format; its arguments are the ones the kind's comment above
     * lists, in that order */
    const char *title_format;
    bool specific;         /* the title names what failed, not only that it did */
} lg_failure_info;

const lg_failure_info *lg_failure_info_of(lg_failure kind);
/* The kind's title with its arguments; a new string, never NULL. */
char *lg_failure_title(lg_failure kind, ...);
char *lg_failure_vtitle(lg_failure kind, va_list ap);
