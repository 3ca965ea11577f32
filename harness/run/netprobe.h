/* The network probes: whatever the transport, the guest's network is part
 * of its health.  Two directions:
 *   host to guest: labgate connects to the port forwarded on 127.0.0.1
 *     (ssh's, or the profile's <network port>) and waits for the guest's
 *     service to speak first (sshd's banner);
 *   guest to host: the guest, told through the transport (ssh exec or
 *     qemu-ga guest-exec), requests a fresh token from labgate's listener
 *     through its own network stack (QEMU's guestfwd at
 *     LG_NETPROBE_GUEST_ADDR, which forwards to a port on 127.0.0.1).
 * Probes run after every boot reaches ready, with the heartbeat, and before
 * a job passes.  A direction that stays down while the guest is known to
 * live (qemu-ga answers, or the console printed its ready line and goes on)
 * is UNREACHABLE (LG_FAIL_UNREACHABLE): the title names the direction, how
 * long it failed and how the guest was known alive.
 *
 * A boot's network may come up late: until the boot timeout after the boot
 * began a failing probe is only pending.  Once a direction was up, it is
 * lost after `lost_ms` without success, as the heartbeat is. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "model/matrix.h"
#include "watch/monitor.h"

/* One direction's probe may take this long on KVM (scaled for TCG). */
#define LG_NETPROBE_TIMEOUT_S 5

typedef enum { LG_NETDIR_HOST_TO_GUEST, LG_NETDIR_GUEST_TO_HOST, LG_NETDIR_MAX } lg_netdir;
typedef enum {
    LG_NETSTATE_PENDING, /* not known up yet, or failing within its allowance */
    LG_NETSTATE_UP,
    LG_NETSTATE_DOWN,    /* failed past its allowance */
} lg_netstate;

const char *lg_netdir_name(lg_netdir d); /* "host to guest", "guest to host" */

/* ------------------------------------------------ the state machine (pure) */

#define LG_NETPROBE_WHY_MAX 160

typedef struct lg_netprobe_sm {
    int64_t settle_ms;     /* a boot's network may come up this long after the boot began */
    int64_t lost_ms;       /* once up, failing this long is down */
    int64_t boot_start_ms; /* 0: no boot yet */
    struct {
        bool up_once;             /* in this boot */
        int64_t last_ok_ms;
        int64_t failing_since_ms; /* 0: not failing */
        char why[LG_NETPROBE_WHY_MAX];
    } dir[LG_NETDIR_MAX];
} lg_netprobe_sm;

void lg_netprobe_sm_init(lg_netprobe_sm *sm, int64_t settle_ms, int64_t lost_ms);
/* A boot began being waited for at boot_start_ms: everything starts over. */
void lg_netprobe_sm_boot(lg_netprobe_sm *sm, int64_t boot_start_ms);
/* A probe of direction d came back ok (or not, why) at now_ms: the
 * direction's state after it. */
lg_netstate lg_netprobe_sm_record(lg_netprobe_sm *sm, lg_netdir d, bool ok, const char *why, int64_t now_ms);
/* The direction's state at now_ms, without a new probe. */
lg_netstate lg_netprobe_sm_state(const lg_netprobe_sm *sm, lg_netdir d, int64_t now_ms);
/* Both directions: DOWN when either is (*failed: the first down one), UP
 * when both are, PENDING otherwise. */
lg_netstate lg_netprobe_sm_overall(const lg_netprobe_sm *sm, int64_t now_ms, lg_netdir *failed);
/* When a failing direction turns DOWN if nothing changes (0: not failing). */
int64_t lg_netprobe_sm_down_at(const lg_netprobe_sm *sm, lg_netdir d);

/* --------------------------------------------------------------- the probe */

typedef struct lg_netprobe lg_netprobe;

typedef struct lg_netprobe_params {
    lg_monitor *mon;
    lg_backend *backend;
    const lg_profile *profile;
    lg_transport_target target; /* the transport's (its cancel function ends a probe early) */
    int64_t timeout_ms;         /* one direction's probe, scaled for the accelerator */
    int64_t settle_ms;          /* the boot timeout, scaled */
    int64_t lost_ms;            /* like the heartbeat's interval x misses */
    int64_t interval_ms;        /* between rounds with the heartbeat */
    const char *job_id;
} lg_netprobe_params;

/* Opens labgate's listener on 127.0.0.1 (a free port of the kernel's
 * choosing, released by lg_netprobe_free). */
int lg_netprobe_new(const lg_netprobe_params *params, lg_netprobe **out);
/* The listener's port, for the domain's guestfwd. */
int lg_netprobe_listen_port(lg_netprobe *np);
/* The domain as started, and its forwarded port on 127.0.0.1. */
void lg_netprobe_attach(lg_netprobe *np, lg_vm *vm, int host_port);
/* A boot began being waited for at boot_start_ms. */
void lg_netprobe_boot(lg_netprobe *np, int64_t boot_start_ms);
/* One round, both directions.  guest: a session to run the guest side
 * through (NULL: that side counts as failed).  A direction DOWN while the
 * guest is known alive is reported (UNREACHABLE).  Serialised: one round
 * at a time per job. */
lg_netstate lg_netprobe_round(lg_netprobe *np, lg_session *guest);
/* A round is due (interval_ms since the last one). */
bool lg_netprobe_due(lg_netprobe *np);
/* Before a job passes: rounds until both directions are up (0) or one is
 * down (-ENETUNREACH, reported when the guest is known alive), or
 * -ECANCELED. */
int lg_netprobe_settle(lg_netprobe *np, lg_session *guest);
/* The guest stopped answering the transport (ssh): if it is known alive
 * by other means and the host cannot reach it, reports UNREACHABLE and
 * returns true (also when a round reported it already); false when
 * nothing shows the guest lives (the caller's
 * HANG or BOOT_TIMEOUT stands).  need_ready_line: the guest must have
 * printed its ready line for its current boot (a boot that never said it
 * was ready is a BOOT_TIMEOUT). */
bool lg_netprobe_explain_silence(lg_netprobe *np, bool need_ready_line);
/* Accepts NULL. */
void lg_netprobe_free(lg_netprobe *np);
