/* libvirt connections, the event-loop thread, and error translation.
 * libvirt RPCs have no per-call timeout; keepalive (every 5 s, 3 misses) is
 * what bounds them: a daemon that stops answering fails the call and closes
 * the connection.  QEMU outlives its daemon, so a closed connection is
 * opened again (with a backoff, for up to LG_CONN_RECONNECT_S) and every
 * listener re-attached to it; only a daemon that stays away is lost. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/proc.h"

typedef struct lg_conn lg_conn;

/* Registers libvirt's default event loop and runs it on a thread.  Must be
 * called before the first lg_conn_open(); idempotent. */
int lg_virt_init(void);
void lg_virt_shutdown(void);

/* What virt/ has to tell a user outside any call that could return it as an
 * error: a probe under way, a fallback taken, a deadline that fired, the
 * event loop gone.  Library layers log at debug level only, so the command
 * that decides how loud each one is installs the handler; without one they
 * go to the debug log.  The handler may run on any thread. */
typedef enum {
    LG_VIRT_NOTICE_KVM_PROBE,      /* proving KVM by booting a guest under it */
    LG_VIRT_NOTICE_KVM_BROKEN,     /* /dev/kvm is there but no guest booted: TCG */
    LG_VIRT_NOTICE_GUARD_FIRED,    /* a guarded call overran: aborting, destroying */
    LG_VIRT_NOTICE_UNGUARDED,      /* a call runs without its deadline */
    LG_VIRT_NOTICE_LOOP_FAILED,    /* libvirt's event loop stopped: no more events */
} lg_virt_notice;
typedef void (*lg_virt_notice_fn)(lg_virt_notice notice, const char *message);
void lg_virt_set_notice_fn(lg_virt_notice_fn fn);
/* Hands a notice to the handler (virt/ internal). */
void lg_virt_notify(lg_virt_notice notice, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How long a closed connection is tried again before it counts as lost: a
 * daemon restart takes seconds; the guests run on meanwhile.  Not scaled
 * for TCG: it is the daemon's time, not the guest's. */
#define LG_CONN_RECONNECT_S 60

int lg_conn_open(const char *uri, lg_conn **out);
/* Stops a reconnect under way (its listeners hear "gone") and closes. */
void lg_conn_free(lg_conn *conn);
/* True once the connection closed and could not be opened again within the
 * reconnect deadline: for good. */
bool lg_conn_lost(lg_conn *conn);
/* Counts drops and re-attachments: odd while the connection is down (and
 * being opened again), even while it is up.  A change between two reads
 * means the daemon went away in between. */
unsigned lg_conn_epoch(lg_conn *conn);
const char *lg_conn_uri(lg_conn *conn);
/* The reconnect deadline of this connection (tests shorten it). */
void lg_conn_set_reconnect_ms(lg_conn *conn, int64_t ms);
/* What libvirt's close callback does: marks the connection down and starts
 * reconnecting.  Tests call it to play a daemon restart on test:///. */
void lg_conn_closed(lg_conn *conn);

/* Who hears about a connection's drops.  dropped: on the event thread, when
 * it closes (a reconnect starts).  reattach: on the reconnect thread, once
 * the new connection is up: re-register events, re-open streams, re-find
 * domains (lg_conn's calls already use the new connection).  gone: the
 * reconnect gave up (or the lg_conn is being freed while down).  Any may be
 * NULL.  After lg_conn_unlisten returns none of them is called. */
typedef struct lg_conn_listener {
    void (*dropped)(void *opaque);
    void (*reattach)(void *opaque, int64_t gap_ms);
    void (*gone)(void *opaque);
    void *opaque;
} lg_conn_listener;
int lg_conn_listen(lg_conn *conn, const lg_conn_listener *listener);
void lg_conn_unlisten(lg_conn *conn, int id);
/* Waits (up to timeout_ms) until the event-loop thread has run one more
 * iteration: a callback that was being dispatched when it was removed has
 * then returned.  Returns 0, or -ETIMEDOUT. */
int lg_virt_event_barrier(int timeout_ms);
/* The host's CPUs and the memory it could give guests (free + buffers +
 * page cache), in MiB.  Returns 0 or a negative errno (message set). */
int lg_conn_node_capacity(lg_conn *conn, int *cpus, long long *available_mib);
/* The host's CPU time so far, all CPUs (virNodeGetCPUStats: kernel,
 * user, idle, iowait in ns; no steal, no load average).  0 or a negative
 * errno (message set). */
int lg_conn_cpu_times(lg_conn *conn, lg_cpu_times *out);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_conn, lg_conn_free)
