/* One labgate guest domain: defined, started, watched, and always torn down
 * (destroyed and undefined) by lg_domain_free. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#include "model/panicinfo.h"

typedef struct lg_domain lg_domain;

/* What libvirt says about a domain, as typed events: nothing above virt/
 * sees libvirt's constants, JSON or handles. */
typedef enum {
    LG_DOMAIN_EVENT_PANICKED,        /* the guest's panic device fired */
    LG_DOMAIN_EVENT_STOPPED_FAILED,  /* the QEMU process failed */
    LG_DOMAIN_EVENT_POWERED_OFF,     /* the guest shut itself down */
    LG_DOMAIN_EVENT_STOPPED,         /* destroyed or stopped from outside */
    LG_DOMAIN_EVENT_REBOOTED,        /* a guest reset (one reset may emit several) */
    LG_DOMAIN_EVENT_WATCHDOG,        /* the guest's watchdog device fired */
    LG_DOMAIN_EVENT_CONNECTION_LOST, /* the libvirt connection closed (final: for good) */
    LG_DOMAIN_EVENT_RECONNECTED,     /* found again on a new connection, events and console re-attached */
    LG_DOMAIN_EVENT_MAX
} lg_domain_event_kind;

typedef struct lg_domain_event {
    lg_domain_event_kind kind;
    const char *domain;        /* the domain's name */
    /* PANICKED: either libvirt's lifecycle event (crashloaded says the
     * kernel loaded its crash kernel), or QEMU's own GUEST_PANICKED
     * (qemu_event), which carries QEMU's timestamp of it (wall clock,
     * microseconds since the epoch) and, where the guest told it (hyper-v
     * crash MSRs: Windows), the parsed details */
    bool crashloaded;
    bool qemu_event;
    int64_t qemu_wall_us;
    bool has_details;
    lg_panic_info details;
    /* WATCHDOG: the action QEMU took (libvirt's name) */
    const char *watchdog_action;
    /* CONNECTION_LOST: false while labgate is connecting again (a
     * RECONNECTED or a final CONNECTION_LOST follows), true once it gave up
     * or the domain could not be re-attached */
    bool final;
    /* RECONNECTED: how long the connection was down */
    int64_t gap_ms;
} lg_domain_event;

const char *lg_domain_event_kind_name(lg_domain_event_kind kind);

/* Called on libvirt's event thread; never after lg_domain_free returns. */
typedef struct lg_domain_handlers {
    void (*event)(void *opaque, const lg_domain_event *event);
    void (*console)(void *opaque, const char *data, size_t len);
    void *opaque;
} lg_domain_handlers;

/* Defines the domain, registers its events, starts it paused, attaches the
 * serial console stream, then resumes it, so no console byte is missed.
 * When the connection drops and comes back, the domain is looked up again
 * by name on the new one and its events and console re-attached; the
 * handle keeps working (state, screenshots, destroy use the new one). */
/* -EADDRINUSE: QEMU could not bind a forwarded host port (taken since it
 * was probed: try another); -EIO otherwise; the message is set. */
int lg_domain_launch(lg_conn *conn, const char *xml, const lg_domain_handlers *handlers,
                     lg_domain **out);
const char *lg_domain_name(lg_domain *dom);
/* The backstop when an event was missed: does libvirt's domain state say
 * the guest crashed (crashed, paused or running after a crash)?  0 and
 * *crashed, or -EIO with the message set. */
int lg_domain_crashed(lg_domain *dom, bool *crashed);
/* Evidence (virt/evidence.c).  The screenshot needs the display the domain
 * XML gives every guest; it is written to path_stem plus the extension of
 * the format libvirt delivers, and that path returned (NULL on failure).
 * The memory dump is kdump-compressed, memory only. */
char *lg_domain_screenshot(lg_domain *dom, const char *path_stem);
int lg_domain_memory_dump(lg_domain *dom, const char *path);
/* For a host whose files are not this machine's (virt/remote.h): the dump
 * is written into the host's labgate pool, downloaded to path through the
 * pool (virStorageVolDownload, a deadline, a size cap) and deleted. */
struct lg_pool;
int lg_domain_memory_dump_pooled(lg_domain *dom, struct lg_pool *pool, const char *path);
lg_conn *lg_domain_conn(lg_domain *dom);
/* Power.  A hard reset (virDomainReset: no shutdown, the
 * guest's unwritten data is lost), bounded by timeout_ms. */
int lg_domain_reset(lg_domain *dom, int64_t timeout_ms);
/* Asks the guest to shut down (ACPI) and waits up to graceful_ms for it to
 * stop; then destroys it.  The domain stays defined.  *graceful: whether
 * it stopped by itself.  0, or -EIO with the message set. */
int lg_domain_power_off(lg_domain *dom, int64_t graceful_ms, bool *graceful);
/* Starts the stopped domain again from its firmware (the same
 * definition), paused, re-attaches the serial console, then resumes it:
 * no console byte of the new boot is missed.  0, or -EIO. */
int lg_domain_power_on(lg_domain *dom);
/* Stops the guest's vCPUs (virDomainSuspend), bounded by timeout_ms: the
 * guest's state stays as it was at this instant for the evidence.  QEMU's
 * chardevs keep delivering what the guest wrote before; a domain already
 * paused (a panic preserved) is left as it is.  0; -ESRCH when it is not
 * running (nothing to freeze); -EIO; the message set. */
int lg_domain_suspend(lg_domain *dom, int64_t timeout_ms);
/* Detaches handlers, destroys, undefines and frees.  Accepts NULL.  0, or
 * -EIO with the message set (the domain may be left behind: gc). */
int lg_domain_destroy(lg_domain *dom);
/* lg_domain_destroy for cleanup paths: keeps the message being reported. */
void lg_domain_free(lg_domain *dom);
/* Detaches handlers and leaves the domain as it is (crashed, paused or
 * running) for an engineer to attach to.  Accepts NULL. */
void lg_domain_release(lg_domain *dom);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_domain, lg_domain_free)
