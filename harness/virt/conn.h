/* libvirt connections, the event-loop thread, and error translation.
 * libvirt RPCs have no per-call timeout; keepalive (every 5 s, 3 misses) is
 * what bounds them: a daemon that stops answering fails the call and closes
 * the connection, which we report as INFRA_ERROR. */
#pragma once
#include <stdbool.h>

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

int lg_conn_open(const char *uri, lg_conn **out);
void lg_conn_free(lg_conn *conn);
/* True once libvirt reported the connection closed (daemon died, keepalive). */
bool lg_conn_lost(lg_conn *conn);
const char *lg_conn_uri(lg_conn *conn);
/* Calls fn(opaque) on the event thread when the connection closes; returns
 * an id for lg_conn_unwatch_close.  After unwatch returns, fn is not called. */
typedef void (*lg_conn_close_fn)(void *opaque);
int lg_conn_watch_close(lg_conn *conn, lg_conn_close_fn fn, void *opaque);
void lg_conn_unwatch_close(lg_conn *conn, int id);
/* Waits (up to timeout_ms) until the event-loop thread has run one more
 * iteration: a callback that was being dispatched when it was removed has
 * then returned.  Returns 0, or -ETIMEDOUT. */
int lg_virt_event_barrier(int timeout_ms);
/* The host's CPUs and the memory it could give guests (free + buffers +
 * page cache), in MiB.  Returns 0 or a negative errno (message set). */
int lg_conn_node_capacity(lg_conn *conn, int *cpus, long long *available_mib);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_conn, lg_conn_free)
