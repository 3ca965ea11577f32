/* The matrix: what to test on what.  Plain data, parsed from the matrix files and
 * the guest profiles, validated against matrix/schema.rng (embedded) and
 * then checked for meaning (unique ids, references, files that must exist).
 * All paths in the structures are absolute. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "hardening.h"
#include "kinds.h"

typedef enum { LG_ACCEL_AUTO, LG_ACCEL_KVM, LG_ACCEL_TCG } lg_accel;

typedef struct lg_profile {
    char *id;
    char *path;        /* the profile file */
    lg_os os;
    lg_arch arch;
    char *machine;     /* pc, q35, virt */
    int memory_mib;
    int vcpus;
    char *cpu_model;   /* or NULL: QEMU's default for the machine */
    bool cpu_maximum;  /* every feature the accelerator has */
    bool efi;          /* UEFI firmware (libvirt picks it from the descriptors) */
    bool secure_boot;  /* with Microsoft's keys enrolled */
    bool tpm;          /* TPM 2.0 (swtpm) */
    unsigned hyperv;   /* LG_HV_* bits */
    char *disk;        /* base image (qcow2) */
    char *kernel;      /* direct kernel boot, or NULL */
    char *initrd;
    char *cmdline;
    lg_transport_kind transport;
    char *ssh_user;
    char *ssh_key;     /* private key file (ssh) */
    char *ssh_host_key; /* the guest's public host key file (ssh), or NULL: not checked */
    int ssh_port;      /* guest port forwarded from 127.0.0.1 */
    char *boot_count_command;
    char *ready_line;  /* console line printed once ready ("labgate: ready %d"), or NULL */
    lg_panic_model panic_model;
    bool panic_hyperv; /* also the Hyper-V crash MSRs (Windows stop codes) */
    char *watchdog_model;  /* i6300esb | ib700, or NULL for none */
    char *watchdog_action; /* what QEMU does when it fires (libvirt's names) */
    /* <network>: the network probes (run/netprobe.h) */
    bool net_probe;        /* on unless probe="none" */
    char *net_probe_reason; /* why they are off (required with probe="none") */
    int net_probe_port;    /* guest port the host probe reaches: the transport's ssh port unless named */
    /* <leak-scan>: a command whose output is the kernel leak detector's
     * report (kmemleak's debugfs file), run at the end of every job that
     * is still running; its leaks are findings.  NULL: no leak scan. */
    char *leak_scan_command;
    int leak_scan_timeout_s;
} lg_profile;

/* Hyper-V enlightenments, in the order of LG_HV_NAMES. */
enum {
    LG_HV_RELAXED = 1 << 0, LG_HV_VAPIC = 1 << 1, LG_HV_SPINLOCKS = 1 << 2, LG_HV_RUNTIME = 1 << 3,
    LG_HV_RESET = 1 << 4, LG_HV_FREQUENCIES = 1 << 5, LG_HV_VPINDEX = 1 << 6, LG_HV_SYNIC = 1 << 7,
    LG_HV_STIMER = 1 << 8, LG_HV_TLBFLUSH = 1 << 9, LG_HV_IPI = 1 << 10,
};
#define LG_HV_COUNT 11
/* Those QEMU refuses without KVM ("kernel doesn't allow setting HyperV
 * VP_INDEX"): vpindex and everything built on it. */
#define LG_HV_KVM_ONLY (LG_HV_VPINDEX | LG_HV_SYNIC | LG_HV_STIMER | LG_HV_TLBFLUSH | LG_HV_IPI)
extern const char *const LG_HV_NAMES[LG_HV_COUNT];

typedef struct lg_host {
    char *id;
    char *uri;
    int slots;  /* jobs at once; 0 = auto (the host's CPUs and free memory) */
    char *pool_dir; /* where the host's labgate storage pool goes when it has
                     * none yet (a path on the host); NULL: labgate chooses */
    int line;
} lg_host;

typedef struct lg_guest {
    char *id;
    lg_profile *profile;
    int line;
} lg_guest;

/* the kernel's process name (comm) is at most this long */
#define LG_PROCESS_NAME_MAX 15

typedef struct lg_build {
    char *id;
    char *dir;
    bool candidate;     /* status="candidate"; otherwise released (in the field) */
    char *install;      /* guest command, cwd = uploaded build dir */
    char *content_hook; /* guest command; gets the uploaded content dir as $1 */
    char *health;       /* guest command, or NULL */
    /* processes="a b": the agent's process names (the kernel's comm, up to
     * 15 bytes), so that console reports of a process crash name the agent */
    char **processes;
    size_t n_processes;
    /* drivers="a.sys b.sys": the agent's Windows kernel drivers, what
     * <policy driver-verifier> verifies */
    char **drivers;
    size_t n_drivers;
    int line;
} lg_build;

typedef struct lg_content {
    char *id;
    char *dir;
    int line;
} lg_content;

typedef enum {
    LG_STEP_WAIT_READY,
    LG_STEP_INSTALL,
    LG_STEP_APPLY_CONTENT,
    LG_STEP_REBOOT,
    LG_STEP_EXEC,
    LG_STEP_FETCH,
    LG_STEP_CONTENT_RELOAD, /* the content hook count times in a row */
    LG_STEP_POWER_CYCLE,    /* hard reset, no shutdown */
    LG_STEP_COLD_BOOT,      /* shut down (then destroy), start from the firmware */
    LG_STEP_STRESS,
} lg_step_kind;

typedef struct lg_step {
    lg_step_kind kind;
    int count;      /* reboot: how many times */
    char *command;  /* exec: the command; fetch: the guest path */
    int timeout_s;  /* 0 = policy default */
    /* apply-content: cut the power at a moment in [0, this) ms after the
     * hook starts (lg_plan_cut_ms); 0 = no power cut */
    int cut_power_within_ms;
    int line;
    /* stress: the load, how long (s) and how many workers (0: the kind's default) */
    lg_stress_kind stress_kind;
    int stress_seconds;
    int stress_workers;
    /* Cycles.  Inside a <repeat> (a count="auto" reboot is a repeat of one
     * reboot): `repeat` numbers the repeat within its scenario (1, 2, ...;
     * 0 outside any), repeat_line is its line.  The loaded scenario is
     * flat: each step of a repeat is there once per cycle, this copy in
     * cycle `cycle` of `cycles` (1-based; 0 of 0 outside any repeat), and
     * cycle_last marks the step that ends its cycle. */
    int repeat;
    int repeat_line;
    int cycle, cycles;
    bool cycle_last;
    bool auto_cycles; /* cycles is the policy's failure-rate bound */
} lg_step;

/* Copies a step: every field, the strings duplicated.  A step kind that
 * adds an owned string to lg_step duplicates it here. */
void lg_step_copy(lg_step *dst, const lg_step *src);
/* How many boots the step makes the guest go through (reboot: count). */
int lg_step_boots(const lg_step *step);

/* Bounds of <stress>, in the schema too. */
#define LG_STRESS_MAX_SECONDS 3600
#define LG_STRESS_MAX_WORKERS 256

typedef struct lg_scenario {
    char *id;
    lg_step *steps;   /* flat: repeats expanded, see lg_step */
    size_t n_steps;
    int line;
} lg_scenario;

/* A scenario expands to at most this many steps (repeats multiplied out). */
#define LG_SCENARIO_MAX_STEPS 100000
/* and all the matrix's scenarios together to about this many */
#define LG_MATRIX_MAX_STEPS 1000000

/* Expands the scenario's repeats in place: the steps of each repeat are
 * copied once per cycle, in order, each copy knowing its cycle.  count="auto"
 * repeats run auto_cycles cycles (lg_bound_cycles of the policy; 0 when
 * the policy has no bound, which makes them an error).  -EINVAL with
 * FILE:LINE problems in diags (file names the matrix); the scenario is
 * left as it was then. */
int lg_scenario_expand(lg_scenario *sc, long auto_cycles, const char *file, lg_diags *diags);

/* What a scenario makes a job do, counted from its (expanded) steps. */
typedef struct lg_scenario_counts {
    int cycles;        /* cycles of every repeat */
    int auto_cycles;   /* those of count="auto" repeats: the bound's trials */
    int boots;         /* boots that reach ready when every step passes: the first and each the steps make */
} lg_scenario_counts;
void lg_scenario_count(const lg_scenario *sc, lg_scenario_counts *out);

typedef struct lg_exclude {
    char *guest, *build, *content, *scenario; /* NULL = any */
    int line;
} lg_exclude;

typedef struct lg_policy {
    int boot_timeout_s;
    int step_timeout_s;
    int heartbeat_interval_s;
    int heartbeat_misses;
    int crash_grace_s;
    int tcg_scale;      /* timeouts are for KVM; TCG multiplies them by this */
    lg_accel accel;
    bool strict;
    bool memory_dump_on_crash;
    uint64_t seed;
    int fetch_max_mib;  /* a <fetch>ed file larger than this fails the job; 0 = LG_FETCH_MAX_MIB_DEFAULT */
    /* a job whose guest failed before the candidate was on it (baseline) runs
     * again this many times */
    int baseline_retries;
    /* a job that ended INFRA_ERROR runs again this many times, each on a
     * host it has not run on yet (0: never); a guest verdict never does */
    int infra_retries;
    /* a host whose jobs end INFRA_ERROR this many times in a row is
     * drained: no new job starts there (run/drain.h) */
    int host_drain_after;
    /* warnings="report": a WARNING (or a kmemleak leak) is a finding in the
     * job's timeline and does not block; "block" (the default, and what
     * strict implies): it is a CRASH */
    bool warnings_report;
    /* overcommit="allow": explicit slots beyond a host's CPUs or memory are
     * a warning, not an error */
    bool overcommit;
    /* a local host whose load average per CPU is above this takes no new
     * job while one of ours runs on it (0: never hold back) */
    double max_host_load;
    /* hardening="slub": Linux guests boot with the stock kernel's heap
     * checks (model/hardening.h); driver-verifier: Windows guests run the
     * build's drivers under Driver Verifier */
    lg_hardening hardening;
    lg_driver_verifier driver_verifier;
    /* baseline="first": each guest profile boots once on each host, with
     * nothing installed and its jobs' reboots, before any of its jobs
     * (model/baseline.h); a failure there marks them all INFRA_ERROR */
    bool baseline_first;
    /* The failure-rate bound (both or neither; 0 = none): count="auto"
     * runs bound_cycles cycles (model/bound.h). */
    double max_failure_rate;
    double confidence;
    long bound_cycles;
} lg_policy;

#define LG_FETCH_MAX_MIB_DEFAULT 1024

typedef struct lg_matrix {
    char *path;
    char *name;
    lg_host *hosts;         size_t n_hosts;
    lg_guest *guests;       size_t n_guests;
    lg_build *builds;       size_t n_builds;
    lg_content *contents;   size_t n_contents;
    lg_scenario *scenarios; size_t n_scenarios;
    lg_exclude *excludes;   size_t n_excludes;
    lg_policy policy;
} lg_matrix;

/* Parses and validates.  Returns 0 and *out, or -EINVAL with every problem in
 * diags (warnings may be added on success too). */
int lg_matrix_load(const char *path, lg_matrix **out, lg_diags *diags);
void lg_matrix_free(lg_matrix *m);

/* A guest profile on its own (used by the matrix and by tooling). */
int lg_profile_load(const char *path, lg_profile **out, lg_diags *diags);
void lg_profile_free(lg_profile *p);

const char *lg_step_kind_name(lg_step_kind kind);
/* The step puts the candidate (the build or its content) on the guest. */
bool lg_step_puts_candidate(lg_step_kind kind);
/* The scenario has such a step.  One that has none tests the image as it
 * is (an agent baked into it): every failure counts against the candidate. */
bool lg_scenario_puts_candidate(const lg_scenario *scenario);
const char *lg_accel_name(lg_accel accel);
/* "auto" | "kvm" | "tcg"; -EINVAL otherwise. */
int lg_accel_parse(const char *s, lg_accel *out);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_matrix, lg_matrix_free)
LG_DEFINE_AUTOPTR(lg_profile, lg_profile_free)
