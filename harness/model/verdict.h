/* Verdicts, the signals that decide them, and the gate (exit code). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LG_VERDICT_PASS,
    LG_VERDICT_CRASH,
    LG_VERDICT_BOOT_LOOP,
    LG_VERDICT_HANG,
    LG_VERDICT_UNREACHABLE,
    LG_VERDICT_BOOT_TIMEOUT,
    LG_VERDICT_AGENT_FAILURE,
    LG_VERDICT_INFRA_ERROR,
    LG_VERDICT_MAX
} lg_verdict;

typedef enum {
    LG_SIGNAL_NONE,
    LG_SIGNAL_PVPANIC,    /* libvirt lifecycle CRASHED (panic device) */
    LG_SIGNAL_CONSOLE,    /* crash signature on the serial console */
    LG_SIGNAL_STATE,      /* virDomainGetState backstop */
    LG_SIGNAL_REBOOT,     /* resets counted against boot markers */
    LG_SIGNAL_HEARTBEAT,  /* heartbeat over the transport lost */
    LG_SIGNAL_DEADLINE,   /* a step or boot overran its deadline */
    LG_SIGNAL_STEP,       /* a step's command failed while the guest lived */
    LG_SIGNAL_HYPERVISOR, /* harness / libvirt failure */
    LG_SIGNAL_WATCHDOG,   /* the guest's watchdog device fired */
    LG_SIGNAL_PROCESS,    /* a guest process died on the console (segfault, OOM kill) */
    LG_SIGNAL_NETWORK,    /* the network probes failed while the guest lived */
    LG_SIGNAL_LEAK_SCAN,  /* the kernel's leak detector, asked at the end of the job */
    LG_SIGNAL_MAX
} lg_signal;

/* Everything there is to know about a verdict, in one table. */
typedef struct lg_verdict_info {
    const char *name;       /* "BOOT_LOOP": run.xml, JUnit, terminal */
    const char *meaning;    /* for a reader of the report */
    bool blocks;            /* blocks the release */
    int severity;           /* report order: higher is read first (PASS 0) */
    int root_cause_rank;    /* lower explains higher: a crash explains a lost heartbeat */
    const char *css;        /* report class: v-<css>, j-<css> */
    const char *colour;     /* report colour */
} lg_verdict_info;

typedef struct lg_signal_info {
    const char *name;
    const char *meaning;
} lg_signal_info;

enum { LG_EXIT_CLEAR = 0, LG_EXIT_BLOCKED = 1, LG_EXIT_BAD_INPUT = 2, LG_EXIT_INCOMPLETE = 3 };

/* A decision proposed by one signal. */
typedef struct lg_finding {
    lg_verdict verdict;
    lg_signal signal;
    const char *title;
    bool title_is_specific; /* names what failed (console report) rather than only that it did */
} lg_finding;

typedef enum {
    LG_MERGE_KEEP,       /* the current decision stands */
    LG_MERGE_REPLACE,    /* the incoming finding becomes the decision */
    LG_MERGE_TITLE_ONLY, /* same verdict: keep signal and time, take the better title */
} lg_merge;

const lg_verdict_info *lg_verdict_info_of(lg_verdict v);
const lg_signal_info *lg_signal_info_of(lg_signal s);
const char *lg_verdict_name(lg_verdict v);
const char *lg_signal_name(lg_signal s);
/* 0, or -EINVAL (out untouched) */
int lg_verdict_parse(const char *name, lg_verdict *out);
int lg_signal_parse(const char *name, lg_signal *out);
bool lg_verdict_blocks(lg_verdict v);
/* Trouble first, the order a reader scans a report in: CRASH, BOOT_LOOP,
 * HANG, UNREACHABLE, BOOT_TIMEOUT, AGENT_FAILURE, INFRA_ERROR, then PASS (0). */
int lg_verdict_severity(lg_verdict v);
/* Decides how a new finding combines with the current decision.  `current`
 * is NULL before anything was decided; in_grace says the finding arrived
 * within the collection window after the first decision, when a root cause
 * (a crash) may still explain what was seen first (a lost heartbeat). */
lg_merge lg_verdict_merge(const lg_finding *current, const lg_finding *incoming, bool in_grace);
/* 0 all PASS, 1 any blocking verdict, 3 otherwise incomplete (infra). */
int lg_gate_exit_code(const lg_verdict *verdicts, size_t n);
