/* The check of each host when a run starts, before any job: its libvirt
 * connection, its labgate storage pool (created or refreshed), its
 * capabilities (every guest architecture and machine type of the plan's
 * jobs, under domain type kvm or qemu as the accelerator says), and its
 * free memory for the largest guest.  A host that fails is drained
 * (run/drain.h): its jobs run on the others.  All hosts are checked at
 * once, each on its own thread, within one deadline. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "model/plan.h"
#include "virt/conn.h"

/* The check of one host, as it ended. */
typedef struct lg_host_ready {
    lg_conn *conn;          /* open when it passed (the caller's to free) */
    bool passed;
    bool kvm;
    int cpus;
    long long available_mib;
    int slots;              /* jobs at once: the matrix's slots, or what the host can run */
    bool slots_auto;        /* slots were worked out from the host */
    char *failure;          /* why it failed, or NULL */
    double seconds;         /* how long the check took */
} lg_host_ready;
void lg_host_ready_clear(lg_host_ready *r);

/* Connections, pools and capabilities answer in seconds; a KVM probe
 * (accel auto, not yet cached) boots a guest. */
#define LG_HOST_CHECK_S 180

/* Checks host (its index in plan's matrix) here and now. */
void lg_host_check(const lg_plan *plan, size_t host, lg_accel accel, lg_host_ready *out);

/* The checks under way: every host's at once. */
typedef struct lg_host_checks lg_host_checks;
/* Starts them and waits up to deadline_ms; out (one per host) is filled:
 * a host whose check has not ended by then failed ("no answer within N
 * s").  The checks keep plan: free them before it. */
lg_host_checks *lg_host_checks_run(const lg_plan *plan, lg_accel accel, int64_t deadline_ms, lg_host_ready *out);
/* Waits up to wait_ms for checks that overran (they are cut off by
 * libvirt's keepalive) and frees; one still running then is left to end
 * by itself. */
void lg_host_checks_free(lg_host_checks *c, int64_t wait_ms);

/* After the run, for a host drained on a lost connection: one reconnect,
 * and this run's domains and overlay volumes there removed.  NULL when
 * there was nothing left (or all of it was removed: *removed says how
 * many); otherwise what could not be done (a new string). */
char *lg_host_leftovers_remove(const char *uri, const char *run_id, int *removed);
