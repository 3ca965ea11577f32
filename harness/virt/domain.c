#include "domain.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "guard.h"
#include "libvirt-priv.h"

LG_LOG_INIT("virt");

/* one monitor command: QEMU answers at once unless it is wedged */
#define RESUME_TIMEOUT_MS (60 * 1000)

/* What libvirt's callbacks point at.  Reference-counted because libvirt may
 * still be inside a callback when we deregister it: its free callbacks drop
 * their references only once it is done with them. */
typedef struct sink {
    pthread_mutex_t lock;
    bool closing;
    lg_domain_handlers handlers;
    char *name;          /* the domain's, for events */
    atomic_int refs;
} sink;

/* A console stream, and whether our callback (holding a sink reference)
 * is registered on it. */
typedef struct console_stream {
    virStreamPtr stream;
    bool cb;
} console_stream;

struct lg_domain {
    lg_conn *conn;
    /* virt, the callback ids and the streams: the reconnect thread replaces
     * them while the job may be using them */
    pthread_mutex_t lock;
    virDomainPtr virt;
    char *name;
    sink *sink;
    int lifecycle_cb;
    int reboot_cb;
    int watchdog_cb;
    int panic_cb;
    console_stream console;
    /* replaced by a reconnect; a caller may still hold one, so they are
     * freed with the domain */
    virDomainPtr *retired;
    size_t n_retired;
    console_stream *old_consoles;
    size_t n_old_consoles;
    bool attached;       /* launched: a reconnect re-attaches it */
    int listener;
};

static sink *sink_ref(sink *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static void sink_unref(void *opaque)
{
    sink *s = opaque;
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        pthread_mutex_destroy(&s->lock);
        free(s->name);
        free(s);
    }
}

static const char *const event_kind_names[] = {
    [LG_DOMAIN_EVENT_PANICKED] = "panicked",
    [LG_DOMAIN_EVENT_STOPPED_FAILED] = "stopped-failed",
    [LG_DOMAIN_EVENT_POWERED_OFF] = "powered-off",
    [LG_DOMAIN_EVENT_STOPPED] = "stopped",
    [LG_DOMAIN_EVENT_REBOOTED] = "rebooted",
    [LG_DOMAIN_EVENT_WATCHDOG] = "watchdog",
    [LG_DOMAIN_EVENT_CONNECTION_LOST] = "connection-lost",
    [LG_DOMAIN_EVENT_RECONNECTED] = "reconnected",
};
_Static_assert(LG_N_ELEMENTS(event_kind_names) == LG_DOMAIN_EVENT_MAX, "a name per event kind");

const char *lg_domain_event_kind_name(lg_domain_event_kind kind)
{
    return (unsigned)kind < LG_DOMAIN_EVENT_MAX ? event_kind_names[kind] : "?";
}

/* Delivers one typed event to the job, unless the domain is closing. */
static void deliver(sink *s, lg_domain_event *ev)
{
    pthread_mutex_lock(&s->lock);
    ev->domain = s->name;
    if (!s->closing && s->handlers.event) {
        LG_DEBUG("%s: %s", s->name, lg_domain_event_kind_name(ev->kind));
        s->handlers.event(s->handlers.opaque, ev);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
    (void)c; (void)d;
    lg_domain_event ev = { .kind = LG_DOMAIN_EVENT_MAX };
    switch (event) {
    case VIR_DOMAIN_EVENT_CRASHED:
        ev.kind = LG_DOMAIN_EVENT_PANICKED;
        ev.crashloaded = detail == VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED;
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        switch (detail) {
        case VIR_DOMAIN_EVENT_STOPPED_CRASHED: ev.kind = LG_DOMAIN_EVENT_PANICKED; break;
        case VIR_DOMAIN_EVENT_STOPPED_FAILED: ev.kind = LG_DOMAIN_EVENT_STOPPED_FAILED; break;
        case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: ev.kind = LG_DOMAIN_EVENT_POWERED_OFF; break;
        default: ev.kind = LG_DOMAIN_EVENT_STOPPED; break;
        }
        break;
    default:
        LG_DEBUG("lifecycle event %d detail %d", event, detail);
        return;
    }
    deliver(opaque, &ev);
}

static void on_reboot(virConnectPtr c, virDomainPtr d, void *opaque)
{
    (void)c; (void)d;
    deliver(opaque, &(lg_domain_event){ .kind = LG_DOMAIN_EVENT_REBOOTED });
}

static void on_watchdog(virConnectPtr c, virDomainPtr d, int action, void *opaque)
{
    (void)c; (void)d;
    static const char *const actions[] = { "none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi" };
    deliver(opaque, &(lg_domain_event){
        .kind = LG_DOMAIN_EVENT_WATCHDOG,
        .watchdog_action = action >= 0 && action < (int)LG_N_ELEMENTS(actions) ? actions[action] : "unknown",
    });
}

static void on_qemu_event(virConnectPtr c, virDomainPtr d, const char *event, long long seconds,
                          unsigned int micros, const char *details, void *opaque)
{
    (void)c; (void)d; (void)event;
    LG_DEBUG("GUEST_PANICKED %s", details ? details : "");
    lg_domain_event ev = {
        .kind = LG_DOMAIN_EVENT_PANICKED, .qemu_event = true,
        .qemu_wall_us = (int64_t)seconds * 1000000 + micros,
    };
    ev.has_details = lg_panic_info_parse(details, &ev.details);
    deliver(opaque, &ev);
}

static void on_connection_dropped(void *opaque)
{
    lg_domain *dom = opaque;
    deliver(dom->sink, &(lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST });
}

static void on_connection_gone(void *opaque)
{
    lg_domain *dom = opaque;
    deliver(dom->sink, &(lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST, .final = true });
}

static void on_console(virStreamPtr st, int events, void *opaque)
{
    sink *s = opaque;
    char buf[4096];
    pthread_mutex_lock(&s->lock);
    while (!s->closing) {
        int n = virStreamRecv(st, buf, sizeof(buf));
        if (n == -2)
            break; /* drained */
        if (n <= 0) {
            /* EOF or error: the console is gone (domain stopped); the
             * lifecycle events tell why.  Stop listening but leave the
             * callback registered: removing it from inside itself makes
             * libvirt drop its free function, leaking our reference. */
            LG_DEBUG("console stream ended (%d, events 0x%x)", n, events);
            virStreamEventUpdateCallback(st, 0);
            break;
        }
        if (s->handlers.console)
            s->handlers.console(s->handlers.opaque, buf, (size_t)n);
    }
    pthread_mutex_unlock(&s->lock);
}

const char *lg_domain_name(lg_domain *dom)
{
    return dom->name;
}

lg_conn *lg_domain_conn(lg_domain *dom)
{
    return dom->conn;
}

virDomainPtr lg_domain_virt(lg_domain *dom)
{
    pthread_mutex_lock(&dom->lock);
    virDomainPtr virt = dom->virt;
    pthread_mutex_unlock(&dom->lock);
    return virt;
}

int lg_domain_crashed(lg_domain *dom, bool *crashed)
{
    lg_error_clear(); /* a stale message never names a later failure */
    int state, reason;
    if (virDomainGetState(lg_domain_virt(dom), &state, &reason, 0) < 0) {
        lg_virt_error("virDomainGetState");
        return -EIO;
    }
    *crashed = state == VIR_DOMAIN_CRASHED || (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_CRASHED) ||
               (state == VIR_DOMAIN_RUNNING && reason == VIR_DOMAIN_RUNNING_CRASHED);
    return 0;
}

/* Registers the domain's events on the connection its handle belongs to.
 * Called with dom->lock held (or before anyone else can see dom). */
static int register_events(lg_domain *dom)
{
    virConnectPtr virt = virDomainGetConnect(dom->virt);
    sink *s = dom->sink;
    dom->lifecycle_cb = virConnectDomainEventRegisterAny(
        virt, dom->virt, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
        sink_ref(s), sink_unref);
    if (dom->lifecycle_cb < 0)
        sink_unref(s);
    dom->reboot_cb = virConnectDomainEventRegisterAny(
        virt, dom->virt, VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot),
        sink_ref(s), sink_unref);
    if (dom->reboot_cb < 0)
        sink_unref(s);
    dom->watchdog_cb = virConnectDomainEventRegisterAny(
        virt, dom->virt, VIR_DOMAIN_EVENT_ID_WATCHDOG, VIR_DOMAIN_EVENT_CALLBACK(on_watchdog),
        sink_ref(s), sink_unref);
    if (dom->watchdog_cb < 0)
        sink_unref(s);
    /* The lifecycle event says that the guest panicked; QEMU's own event
     * also says why, where the guest told it (Windows: bugcheck code). */
    dom->panic_cb = virConnectDomainQemuMonitorEventRegister(virt, dom->virt, "GUEST_PANICKED", on_qemu_event,
                                                            sink_ref(s), sink_unref, 0);
    if (dom->panic_cb < 0)
        sink_unref(s);
    if (dom->lifecycle_cb < 0 || dom->reboot_cb < 0 || dom->watchdog_cb < 0 || dom->panic_cb < 0) {
        lg_virt_error("cannot register domain events");
        return -EIO;
    }
    return 0;
}

/* Deregisters them (on a closed connection this only forgets them). */
static void deregister_events(lg_domain *dom)
{
    virConnectPtr virt = dom->virt ? virDomainGetConnect(dom->virt) : NULL;
    if (!virt)
        return;
    if (dom->lifecycle_cb >= 0)
        virConnectDomainEventDeregisterAny(virt, dom->lifecycle_cb);
    if (dom->reboot_cb >= 0)
        virConnectDomainEventDeregisterAny(virt, dom->reboot_cb);
    if (dom->watchdog_cb >= 0)
        virConnectDomainEventDeregisterAny(virt, dom->watchdog_cb);
    if (dom->panic_cb >= 0)
        virConnectDomainQemuMonitorEventDeregister(virt, dom->panic_cb);
    dom->lifecycle_cb = dom->reboot_cb = dom->watchdog_cb = dom->panic_cb = -1;
}

/* Opens the serial console into dom->console (FORCE: a console left open
 * by a daemon that died is taken over).  Called with dom->lock held. */
static int open_console(lg_domain *dom)
{
    dom->console.stream = virStreamNew(virDomainGetConnect(dom->virt), VIR_STREAM_NONBLOCK);
    if (!dom->console.stream ||
        virDomainOpenConsole(dom->virt, NULL, dom->console.stream, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
        lg_virt_error("cannot open the serial console");
        return -EIO;
    }
    /* No free function here: libvirt 9.0's remote streams do not reliably
     * call it.  detach() drops this reference itself once the event loop
     * has moved past any dispatch in flight. */
    if (virStreamEventAddCallback(dom->console.stream,
                                  VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP,
                                  on_console, sink_ref(dom->sink), NULL) < 0) {
        sink_unref(dom->sink);
        lg_virt_error("cannot watch the serial console");
        return -EIO;
    }
    dom->console.cb = true;
    return 0;
}

/* What libvirt's state of a domain found again says happened while nobody
 * listened: LG_DOMAIN_EVENT_MAX when it still runs. */
static lg_domain_event_kind state_event(int state, int reason)
{
    switch (state) {
    case VIR_DOMAIN_SHUTOFF:
        switch (reason) {
        case VIR_DOMAIN_SHUTOFF_CRASHED: return LG_DOMAIN_EVENT_PANICKED;
        case VIR_DOMAIN_SHUTOFF_FAILED: return LG_DOMAIN_EVENT_STOPPED_FAILED;
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN: return LG_DOMAIN_EVENT_POWERED_OFF;
        default: return LG_DOMAIN_EVENT_STOPPED;
        }
    case VIR_DOMAIN_CRASHED:
        return LG_DOMAIN_EVENT_PANICKED;
    case VIR_DOMAIN_PAUSED:
        return reason == VIR_DOMAIN_PAUSED_CRASHED ? LG_DOMAIN_EVENT_PANICKED : LG_DOMAIN_EVENT_MAX;
    case VIR_DOMAIN_RUNNING:
        return reason == VIR_DOMAIN_RUNNING_CRASHED ? LG_DOMAIN_EVENT_PANICKED : LG_DOMAIN_EVENT_MAX;
    default:
        return LG_DOMAIN_EVENT_MAX;
    }
}

/* On the reconnect thread, the new connection up: find the domain again by
 * name, move events and console over, and tell the job. */
static void on_connection_reattach(void *opaque, int64_t gap_ms)
{
    lg_domain *dom = opaque;
    lg_domain_event ev = { .kind = LG_DOMAIN_EVENT_RECONNECTED, .gap_ms = gap_ms };
    lg_domain_event_kind after = LG_DOMAIN_EVENT_MAX;
    pthread_mutex_lock(&dom->lock);
    if (!dom->attached) {
        /* still launching: the launch fails on the old connection */
        pthread_mutex_unlock(&dom->lock);
        return;
    }
    virDomainPtr found = virDomainLookupByName(lg_conn_virt(dom->conn), dom->name);
    if (!found) {
        LG_DEBUG("%s: not found again: %s", dom->name, virGetLastErrorMessage());
        ev = (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST, .final = true };
        goto out;
    }
    deregister_events(dom);
    dom->retired = lg_realloc_n(dom->retired, dom->n_retired + 1, sizeof(*dom->retired));
    dom->retired[dom->n_retired++] = dom->virt;
    dom->virt = found;
    if (dom->console.stream) {
        dom->old_consoles = lg_realloc_n(dom->old_consoles, dom->n_old_consoles + 1, sizeof(*dom->old_consoles));
        dom->old_consoles[dom->n_old_consoles++] = dom->console;
        dom->console = (console_stream){ NULL, false };
    }
    if (register_events(dom) < 0) {
        LG_DEBUG("%s: %s", dom->name, lg_error_msg());
        ev = (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST, .final = true };
        goto out;
    }
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    if (virDomainGetState(found, &state, &reason, 0) < 0)
        LG_DEBUG("%s: no state: %s", dom->name, virGetLastErrorMessage());
    after = state_event(state, reason);
    if (state != VIR_DOMAIN_SHUTOFF && open_console(dom) < 0) {
        /* the guest runs on; the console is one signal of several */
        LG_DEBUG("%s: %s", dom->name, lg_error_msg());
    }
out:
    pthread_mutex_unlock(&dom->lock);
    deliver(dom->sink, &ev);
    if (ev.kind == LG_DOMAIN_EVENT_RECONNECTED && after != LG_DOMAIN_EVENT_MAX)
        deliver(dom->sink, &(lg_domain_event){ .kind = after });
}

int lg_domain_launch(lg_conn *conn, const char *xml, const lg_domain_handlers *handlers, lg_domain **out)
{
    lg_error_clear();
    virConnectPtr virt = lg_conn_virt(conn);
    lg_domain *dom = LG_NEW0(lg_domain);
    sink *s = LG_NEW0(sink);
    pthread_mutex_init(&s->lock, NULL);
    s->handlers = *handlers;
    atomic_store(&s->refs, 1);
    pthread_mutex_init(&dom->lock, NULL);
    dom->sink = s;
    dom->conn = conn;
    dom->lifecycle_cb = dom->reboot_cb = dom->watchdog_cb = dom->panic_cb = dom->listener = -1;

    dom->virt = virDomainDefineXML(virt, xml);
    if (!dom->virt) {
        lg_virt_error("cannot define the domain");
        lg_domain_free(dom);
        return -EIO;
    }
    const char *name = virDomainGetName(dom->virt);
    dom->name = lg_strdup(name ? name : "?");
    /* before any callback can run: an event always names its domain */
    s->name = lg_strdup(dom->name);
    dom->listener = lg_conn_listen(conn, &(lg_conn_listener){
        .dropped = on_connection_dropped, .reattach = on_connection_reattach, .gone = on_connection_gone,
        .opaque = dom,
    });

    if (register_events(dom) < 0) {
        lg_domain_free(dom);
        return -EIO;
    }

    if (virDomainCreateWithFlags(dom->virt, VIR_DOMAIN_START_PAUSED) < 0) {
        /* QEMU's own words are all libvirt passes on: a host port taken
         * between our probe and QEMU's bind is worth a code of its own */
        const char *msg = virGetLastErrorMessage();
        int rc = msg && strstr(msg, "forward") ? -EADDRINUSE : -EIO;
        lg_virt_error("cannot start the domain");
        lg_domain_free(dom);
        return rc;
    }

    if (open_console(dom) < 0) {
        lg_domain_free(dom);
        return -EIO;
    }

    lg_guard *guard = lg_guard_arm(dom->virt, RESUME_TIMEOUT_MS, LG_GUARD_GRACE_MS, "resume");
    int rc = virDomainResume(dom->virt);
    if (rc < 0)
        lg_virt_error("cannot resume the domain");
    if (lg_guard_disarm(guard)) {
        lg_error_set("cannot resume the domain: QEMU did not answer within %d s", RESUME_TIMEOUT_MS / 1000);
        rc = -1;
    }
    if (rc < 0) {
        lg_domain_free(dom);
        return -EIO;
    }
    pthread_mutex_lock(&dom->lock);
    dom->attached = true;
    pthread_mutex_unlock(&dom->lock);
    *out = dom;
    return 0;
}

/* Stops every callback into the job; the domain itself stays as it is. */
static void detach(lg_domain *dom)
{
    /* first: a reconnect under way finishes re-attaching before this returns */
    if (dom->listener >= 0)
        lg_conn_unlisten(dom->conn, dom->listener);
    if (dom->sink) {
        pthread_mutex_lock(&dom->sink->lock);
        dom->sink->closing = true;
        pthread_mutex_unlock(&dom->sink->lock);
    }
    pthread_mutex_lock(&dom->lock);
    dom->attached = false;
    if (dom->console.stream) {
        dom->old_consoles = lg_realloc_n(dom->old_consoles, dom->n_old_consoles + 1, sizeof(*dom->old_consoles));
        dom->old_consoles[dom->n_old_consoles++] = dom->console;
        dom->console = (console_stream){ NULL, false };
    }
    size_t callbacks = 0;
    for (size_t i = 0; i < dom->n_old_consoles; i++)
        if (dom->old_consoles[i].cb) {
            virStreamEventRemoveCallback(dom->old_consoles[i].stream);
            callbacks++;
        }
    /* If the loop is stuck, leaking the references beats freeing memory a
     * callback may still use. */
    if (callbacks && lg_virt_event_barrier(5000) == 0)
        for (size_t i = 0; i < callbacks; i++)
            sink_unref(dom->sink);
    for (size_t i = 0; i < dom->n_old_consoles; i++) {
        virStreamAbort(dom->old_consoles[i].stream);
        virStreamFree(dom->old_consoles[i].stream);
    }
    free(dom->old_consoles);
    dom->old_consoles = NULL;
    dom->n_old_consoles = 0;
    deregister_events(dom);
    pthread_mutex_unlock(&dom->lock);
}

/* What detach leaves: the handles, the sink, the domain's memory. */
static void free_domain(lg_domain *dom)
{
    if (dom->virt)
        virDomainFree(dom->virt);
    for (size_t i = 0; i < dom->n_retired; i++)
        virDomainFree(dom->retired[i]);
    free(dom->retired);
    sink_unref(dom->sink);
    pthread_mutex_destroy(&dom->lock);
    free(dom->name);
    free(dom);
}

int lg_virt_domain_remove(virDomainPtr dom)
{
    int rc = 0;
    int state = VIR_DOMAIN_NOSTATE;
    if (virDomainGetState(dom, &state, NULL, 0) == 0 && state != VIR_DOMAIN_SHUTOFF && virDomainDestroy(dom) < 0) {
        /* it stopped in between (a daemon that just started found its
         * QEMU gone): what is left is to undefine it */
        if (virDomainGetState(dom, &state, NULL, 0) == 0 && state == VIR_DOMAIN_SHUTOFF) {
            LG_DEBUG("destroy: the domain stopped by itself meanwhile");
        } else {
            lg_virt_error("cannot destroy the domain");
            rc = -EIO;
        }
    }
    /* with its UEFI varstore and TPM state, which libvirt keeps otherwise */
    if (rc == 0 && virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM |
                                                   VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                                   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0 &&
        virDomainIsPersistent(dom) == 1) { /* a transient domain is gone once destroyed */
        lg_virt_error("cannot undefine the domain");
        rc = -EIO;
    }
    return rc;
}

int lg_domain_destroy(lg_domain *dom)
{
    if (!dom)
        return 0;
    detach(dom);
    int rc = dom->virt ? lg_virt_domain_remove(dom->virt) : 0;
    free_domain(dom);
    return rc;
}

void lg_domain_free(lg_domain *dom)
{
    LG_ERROR_PRESERVE;
    if (lg_domain_destroy(dom) < 0)
        LG_DEBUG("%s", lg_error_msg());
}

void lg_domain_release(lg_domain *dom)
{
    if (!dom)
        return;
    LG_ERROR_PRESERVE;
    detach(dom);
    free_domain(dom);
}

/* ------------------------------------------------------------------- power */

#define POWER_POLL_MS 100

int lg_domain_reset(lg_domain *dom, int64_t timeout_ms)
{
    lg_error_clear();
    virDomainPtr virt = lg_domain_virt(dom);
    lg_guard *guard = lg_guard_arm(virt, timeout_ms, LG_GUARD_GRACE_MS, "reset");
    int rc = virDomainReset(virt, 0);
    if (rc < 0)
        lg_virt_error("cannot reset the domain");
    if (lg_guard_disarm(guard)) {
        lg_error_set("cannot reset the domain: QEMU did not answer within %lld s", (long long)timeout_ms / 1000);
        rc = -1;
    }
    return rc < 0 ? -EIO : 0;
}

int lg_domain_suspend(lg_domain *dom, int64_t timeout_ms)
{
    lg_error_clear();
    virDomainPtr virt = lg_domain_virt(dom);
    int state = VIR_DOMAIN_NOSTATE;
    if (virDomainGetState(virt, &state, NULL, 0) == 0) {
        /* a panicked guest QEMU paused already (on_crash preserve) */
        if (state == VIR_DOMAIN_PAUSED)
            return 0;
        if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_SHUTDOWN) {
            lg_error_set("the domain is not running");
            return -ESRCH;
        }
    }
    lg_guard *guard = lg_guard_arm(virt, timeout_ms, LG_GUARD_GRACE_MS, "suspend");
    int rc = virDomainSuspend(virt);
    if (rc < 0) {
        lg_virt_error("cannot suspend the domain");
        /* it panicked (and QEMU paused it) meanwhile: frozen all the same */
        if (virDomainGetState(virt, &state, NULL, 0) == 0 && state == VIR_DOMAIN_PAUSED) {
            lg_error_clear();
            rc = 0;
        }
    }
    if (lg_guard_disarm(guard)) {
        lg_error_set("cannot suspend the domain: QEMU did not answer within %lld s", (long long)timeout_ms / 1000);
        rc = -1;
    }
    return rc < 0 ? -EIO : 0;
}

/* Whether the domain is shut off; false when its state cannot be read. */
static bool is_off(virDomainPtr virt)
{
    int state = VIR_DOMAIN_NOSTATE;
    return virDomainGetState(virt, &state, NULL, 0) == 0 && state == VIR_DOMAIN_SHUTOFF;
}

int lg_domain_power_off(lg_domain *dom, int64_t graceful_ms, bool *graceful)
{
    lg_error_clear();
    virDomainPtr virt = lg_domain_virt(dom);
    *graceful = false;
    /* ACPI: a guest without a power button handler ignores it (the caller
     * may have asked the guest's OS already) */
    if (!is_off(virt) && virDomainShutdown(virt) < 0)
        LG_DEBUG("%s: virDomainShutdown: %s", dom->name, virGetLastErrorMessage());
    int64_t until = lg_now_ms() + graceful_ms;
    while (!is_off(virt) && lg_now_ms() < until)
        lg_sleep_ms(POWER_POLL_MS);
    if (is_off(virt)) {
        *graceful = true;
        return 0;
    }
    LG_DEBUG("%s: not off after %lld ms: destroying", dom->name, (long long)graceful_ms);
    if (virDomainDestroy(virt) < 0 && !is_off(virt)) {
        lg_virt_error("cannot destroy the domain");
        return -EIO;
    }
    return 0;
}

int lg_domain_power_on(lg_domain *dom)
{
    lg_error_clear();
    pthread_mutex_lock(&dom->lock);
    /* the stopped domain's console stream ended: kept until detach, like a
     * stream a reconnect replaced */
    if (dom->console.stream) {
        dom->old_consoles = lg_realloc_n(dom->old_consoles, dom->n_old_consoles + 1, sizeof(*dom->old_consoles));
        dom->old_consoles[dom->n_old_consoles++] = dom->console;
        dom->console = (console_stream){ NULL, false };
    }
    int rc = 0;
    if (virDomainCreateWithFlags(dom->virt, VIR_DOMAIN_START_PAUSED) < 0) {
        lg_virt_error("cannot start the domain again");
        rc = -EIO;
    } else if (open_console(dom) < 0) {
        rc = -EIO;
    }
    virDomainPtr virt = dom->virt;
    pthread_mutex_unlock(&dom->lock);
    if (rc < 0)
        return rc;
    lg_guard *guard = lg_guard_arm(virt, RESUME_TIMEOUT_MS, LG_GUARD_GRACE_MS, "resume");
    rc = virDomainResume(virt);
    if (rc < 0)
        lg_virt_error("cannot resume the domain");
    if (lg_guard_disarm(guard)) {
        lg_error_set("cannot resume the domain: QEMU did not answer within %d s", RESUME_TIMEOUT_MS / 1000);
        rc = -1;
    }
    return rc < 0 ? -EIO : 0;
}
