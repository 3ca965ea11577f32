#include "conn.h"
#include "libvirt-priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

LG_LOG_INIT("virt");

struct lg_conn {
    virConnectPtr virt;
    char *uri;
    atomic_bool lost;
    pthread_mutex_t watch_lock;
    struct close_watch { lg_conn_close_fn fn; void *opaque; } *watches;
    size_t n_watches;
};

static lg_virt_notice_fn _Atomic notice_fn;

void lg_virt_set_notice_fn(lg_virt_notice_fn fn)
{
    atomic_store(&notice_fn, fn);
}

void lg_virt_notify(lg_virt_notice notice, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    lg_virt_notice_fn fn = atomic_load(&notice_fn);
    if (fn)
        fn(notice, message);
    else
        LG_DEBUG("%s", message);
}

static pthread_t loop_thread;
static atomic_bool loop_running;
static atomic_bool loop_stop;
static int wakeup_timer = -1;

static void silence_libvirt(void *opaque, virErrorPtr err)
{
    (void)opaque;
    /* The wrapper that sees the failure reports it once, in context. */
    LG_DEBUG("libvirt: %s", err && err->message ? err->message : "?");
}

static void on_wakeup(int timer, void *opaque)
{
    (void)timer; (void)opaque;
}

static void *event_loop(void *arg)
{
    (void)arg;
    while (!atomic_load(&loop_stop)) {
        if (virEventRunDefaultImpl() < 0) {
            lg_virt_error("libvirt event loop");
            lg_virt_notify(LG_VIRT_NOTICE_LOOP_FAILED, "%s", lg_error_msg());
            break;
        }
    }
    return NULL;
}

int lg_virt_init(void)
{
    if (atomic_load(&loop_running))
        return 0;
    virSetErrorFunc(NULL, silence_libvirt);
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
        lg_virt_error("cannot initialise libvirt");
        return -EIO;
    }
    /* A periodic timer makes the loop return regularly so it can be stopped. */
    wakeup_timer = virEventAddTimeout(200, on_wakeup, NULL, NULL);
    if (pthread_create(&loop_thread, NULL, event_loop, NULL) != 0) {
        lg_error_set("cannot start the libvirt event thread");
        return -EAGAIN;
    }
    atomic_store(&loop_running, true);
    return 0;
}

void lg_virt_shutdown(void)
{
    if (!atomic_load(&loop_running))
        return;
    atomic_store(&loop_stop, true);
    pthread_join(loop_thread, NULL);
    if (wakeup_timer >= 0)
        virEventRemoveTimeout(wakeup_timer);
    atomic_store(&loop_running, false);
}

/* Shared by the waiter and libvirt's timer: whichever lets go last frees it
 * (the waiter may give up before the timer fires; libvirt may free the timer
 * before the woken waiter has re-taken the lock). */
typedef struct barrier {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool passed;
    atomic_int refs;
} barrier;

static void on_barrier(int timer, void *opaque)
{
    barrier *b = opaque;
    virEventRemoveTimeout(timer);
    pthread_mutex_lock(&b->lock);
    b->passed = true;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

static void barrier_unref(void *opaque)
{
    barrier *b = opaque;
    if (atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

int lg_virt_event_barrier(int timeout_ms)
{
    if (!atomic_load(&loop_running))
        return 0;
    barrier *b = LG_NEW0(barrier);
    pthread_mutex_init(&b->lock, NULL);
    lg_cond_init_monotonic(&b->cond);
    atomic_store(&b->refs, 2);
    if (virEventAddTimeout(0, on_barrier, b, barrier_unref) < 0) {
        atomic_store(&b->refs, 1);
        barrier_unref(b);
        return -EIO;
    }
    int64_t until_ms = lg_now_ms() + timeout_ms;
    pthread_mutex_lock(&b->lock);
    while (!b->passed && lg_now_ms() < until_ms)
        lg_cond_wait_until(&b->cond, &b->lock, until_ms);
    bool passed = b->passed;
    pthread_mutex_unlock(&b->lock);
    barrier_unref(b);
    return passed ? 0 : -ETIMEDOUT;
}

void lg_virt_error(const char *what)
{
    const char *msg = virGetLastErrorMessage();
    lg_error_set("%s: %s", what, msg && *msg ? msg : "unknown libvirt error");
}

static void on_close(virConnectPtr virt, int reason, void *opaque)
{
    (void)virt;
    lg_conn *conn = opaque;
    atomic_store(&conn->lost, true);
    pthread_mutex_lock(&conn->watch_lock);
    for (size_t i = 0; i < conn->n_watches; i++)
        if (conn->watches[i].fn)
            conn->watches[i].fn(conn->watches[i].opaque);
    pthread_mutex_unlock(&conn->watch_lock);
    static const char *reasons[] = { "error", "end of file", "keepalive timeout", "client closed" };
    LG_DEBUG("connection to %s closed: %s", conn->uri,
             reason >= 0 && reason < 4 ? reasons[reason] : "unknown");
}

int lg_conn_open(const char *uri, lg_conn **out)
{
    lg_error_clear(); /* a stale message never names a later failure */
    lg_conn *conn = LG_NEW0(lg_conn);
    conn->uri = lg_strdup(uri);
    pthread_mutex_init(&conn->watch_lock, NULL);
    conn->virt = virConnectOpen(uri);
    if (!conn->virt) {
        lg_virt_error(uri);
        lg_conn_free(conn);
        return -ECONNREFUSED;
    }
    /* Local drivers (test:///, qemu:///system through the socket) differ in
     * keepalive support; failing to enable it is not fatal. */
    if (virConnectSetKeepAlive(conn->virt, 5, 3) < 0)
        LG_DEBUG("keepalive not available on %s", uri);
    if (virConnectRegisterCloseCallback(conn->virt, on_close, conn, NULL) < 0)
        LG_DEBUG("close callback not available on %s", uri);
    *out = conn;
    return 0;
}

void lg_conn_free(lg_conn *conn)
{
    if (!conn)
        return;
    if (conn->virt) {
        virConnectUnregisterCloseCallback(conn->virt, on_close);
        virConnectClose(conn->virt);
    }
    free(conn->uri);
    free(conn->watches);
    pthread_mutex_destroy(&conn->watch_lock);
    free(conn);
}

int lg_conn_watch_close(lg_conn *conn, lg_conn_close_fn fn, void *opaque)
{
    pthread_mutex_lock(&conn->watch_lock);
    size_t id = 0;
    while (id < conn->n_watches && conn->watches[id].fn)
        id++;
    if (id == conn->n_watches) {
        conn->watches = lg_realloc_n(conn->watches, conn->n_watches + 1, sizeof(*conn->watches));
        conn->n_watches++;
    }
    conn->watches[id] = (struct close_watch){ fn, opaque };
    pthread_mutex_unlock(&conn->watch_lock);
    return (int)id;
}

void lg_conn_unwatch_close(lg_conn *conn, int id)
{
    pthread_mutex_lock(&conn->watch_lock);
    if (id >= 0 && (size_t)id < conn->n_watches)
        conn->watches[id] = (struct close_watch){ NULL, NULL };
    pthread_mutex_unlock(&conn->watch_lock);
}

bool lg_conn_lost(lg_conn *conn)
{
    return atomic_load(&conn->lost);
}

const char *lg_conn_uri(lg_conn *conn)
{
    return conn->uri;
}

virConnectPtr lg_conn_virt(lg_conn *conn)
{
    return conn->virt;
}

int lg_conn_node_capacity(lg_conn *conn, int *cpus, long long *available_mib)
{
    lg_error_clear(); /* a stale message never names a later failure */
    virNodeInfo info;
    if (virNodeGetInfo(lg_conn_virt(conn), &info) < 0) {
        lg_virt_error("cannot read the host's CPU count");
        return -EIO;
    }
    int n = 0;
    if (virNodeGetMemoryStats(lg_conn_virt(conn), VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) < 0 || n <= 0) {
        lg_virt_error("cannot read the host's memory");
        return -EIO;
    }
    virNodeMemoryStatsPtr stats = lg_calloc((size_t)n, sizeof(*stats));
    if (virNodeGetMemoryStats(lg_conn_virt(conn), VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) < 0) {
        free(stats);
        lg_virt_error("cannot read the host's memory");
        return -EIO;
    }
    unsigned long long kib = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_FREE) == 0 ||
            strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_BUFFERS) == 0 ||
            strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_CACHED) == 0)
            kib += stats[i].value;
    free(stats);
    *cpus = (int)info.cpus;
    *available_mib = (long long)(kib / 1024);
    return 0;
}
