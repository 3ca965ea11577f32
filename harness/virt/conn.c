#include "conn.h"
#include "libvirt-priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

LG_LOG_INIT("virt");

/* A closed connection is tried again this often, growing (ms). */
#define RECONNECT_FIRST_MS 250
#define RECONNECT_MAX_MS 5000

typedef enum { CONN_UP, CONN_DOWN, CONN_LOST } conn_state;

struct lg_conn {
    char *uri;
    pthread_mutex_t lock;      /* virt, retired, the state below */
    virConnectPtr virt;
    /* connections replaced by a reconnect: handles taken from them may
     * still be in use, so they are closed with this lg_conn */
    virConnectPtr *retired;
    size_t n_retired;
    conn_state state;
    atomic_uint epoch;         /* odd while down */
    int64_t dropped_ms;
    bool reattaching;          /* the new connection is in, listeners re-attach */
    bool dropped_again;        /* the new connection closed meanwhile */
    int64_t reconnect_ms;
    pthread_t reconnect_thread;
    bool reconnecting;         /* the thread runs */
    bool thread_joinable;
    atomic_bool stopping;
    pthread_mutex_t watch_lock;
    lg_conn_listener *watches; /* a slot with every function NULL is free */
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

static void on_close(virConnectPtr virt, int reason, void *opaque);

static bool listener_free(const lg_conn_listener *l)
{
    return !l->dropped && !l->reattach && !l->gone;
}

static void notify_dropped(lg_conn *conn)
{
    pthread_mutex_lock(&conn->watch_lock);
    for (size_t i = 0; i < conn->n_watches; i++)
        if (conn->watches[i].dropped)
            conn->watches[i].dropped(conn->watches[i].opaque);
    pthread_mutex_unlock(&conn->watch_lock);
}

static void notify_reattach(lg_conn *conn, int64_t gap_ms)
{
    pthread_mutex_lock(&conn->watch_lock);
    for (size_t i = 0; i < conn->n_watches; i++)
        if (conn->watches[i].reattach)
            conn->watches[i].reattach(conn->watches[i].opaque, gap_ms);
    pthread_mutex_unlock(&conn->watch_lock);
}

static void notify_gone(lg_conn *conn)
{
    pthread_mutex_lock(&conn->watch_lock);
    for (size_t i = 0; i < conn->n_watches; i++)
        if (conn->watches[i].gone)
            conn->watches[i].gone(conn->watches[i].opaque);
    pthread_mutex_unlock(&conn->watch_lock);
}

/* keepalive and the close callback, on a connection just opened */
static void arm(lg_conn *conn, virConnectPtr virt)
{
    /* Local drivers (test:///, qemu:///system through the socket) differ in
     * keepalive support; failing to enable it is not fatal. */
    if (virConnectSetKeepAlive(virt, 5, 3) < 0)
        LG_DEBUG("keepalive not available on %s", conn->uri);
    if (virConnectRegisterCloseCallback(virt, on_close, conn, NULL) < 0)
        LG_DEBUG("close callback not available on %s", conn->uri);
}

typedef struct reopen {
    lg_conn *conn;
    virConnectPtr virt;
} reopen;

static int try_open(void *opaque)
{
    reopen *r = opaque;
    r->virt = virConnectOpen(r->conn->uri);
    if (!r->virt)
        LG_DEBUG("reconnecting to %s: %s", r->conn->uri, virGetLastErrorMessage());
    return r->virt ? 0 : -ECONNREFUSED;
}

static bool stop_reopen(void *opaque)
{
    return atomic_load(&((reopen *)opaque)->conn->stopping);
}

/* The reconnect thread: opens the connection again, swaps it in, and has
 * every listener re-attach; again if it closed meanwhile. */
static void *reconnect_main(void *opaque)
{
    lg_conn *conn = opaque;
    for (;;) {
        pthread_mutex_lock(&conn->lock);
        int64_t dropped_ms = conn->dropped_ms;
        int64_t within_ms = conn->dropped_ms + conn->reconnect_ms - lg_now_ms();
        pthread_mutex_unlock(&conn->lock);
        reopen r = { .conn = conn };
        lg_backoff backoff = lg_backoff_doubling(RECONNECT_FIRST_MS, RECONNECT_MAX_MS);
        int tries = 0;
        int rc = lg_backoff_retry(&backoff, within_ms > 0 ? within_ms : 0, try_open, stop_reopen, &r, &tries);
        if (rc < 0) {
            LG_DEBUG("%s: no connection after %d tries in %.1f s: lost", conn->uri, tries,
                     (double)(lg_now_ms() - dropped_ms) / 1000.0);
            pthread_mutex_lock(&conn->lock);
            conn->state = CONN_LOST;
            conn->reconnecting = false;
            pthread_mutex_unlock(&conn->lock);
            notify_gone(conn);
            return NULL;
        }
        arm(conn, r.virt);
        pthread_mutex_lock(&conn->lock);
        conn->retired = lg_realloc_n(conn->retired, conn->n_retired + 1, sizeof(*conn->retired));
        conn->retired[conn->n_retired++] = conn->virt;
        conn->virt = r.virt;
        conn->reattaching = true;
        pthread_mutex_unlock(&conn->lock);
        int64_t gap_ms = lg_now_ms() - dropped_ms;
        LG_DEBUG("%s: connected again after %.1f s (%d tries): re-attaching", conn->uri, (double)gap_ms / 1000.0,
                 tries);
        notify_reattach(conn, gap_ms);
        pthread_mutex_lock(&conn->lock);
        conn->reattaching = false;
        if (conn->dropped_again && !atomic_load(&conn->stopping)) {
            conn->dropped_again = false;
            conn->dropped_ms = lg_now_ms();
            pthread_mutex_unlock(&conn->lock);
            continue;
        }
        conn->state = CONN_UP;
        atomic_fetch_add(&conn->epoch, 1);
        conn->reconnecting = false;
        pthread_mutex_unlock(&conn->lock);
        return NULL;
    }
}

void lg_conn_closed(lg_conn *conn)
{
    bool notify = false;
    pthread_mutex_lock(&conn->lock);
    if (conn->state == CONN_UP) {
        conn->state = CONN_DOWN;
        atomic_fetch_add(&conn->epoch, 1);
        conn->dropped_ms = lg_now_ms();
        notify = true;
    }
    if (conn->reconnecting) {
        /* before the swap the reconnect is still to come; after it, the
         * new connection closed too: once more */
        if (conn->reattaching)
            conn->dropped_again = true;
    } else if (conn->state == CONN_DOWN && !atomic_load(&conn->stopping)) {
        if (conn->thread_joinable) /* the last one has returned, or is about to */
            pthread_join(conn->reconnect_thread, NULL);
        conn->thread_joinable = false;
        int err = pthread_create(&conn->reconnect_thread, NULL, reconnect_main, conn);
        if (err == 0) {
            conn->reconnecting = conn->thread_joinable = true;
        } else {
            LG_DEBUG("%s: no reconnect thread: %s", conn->uri, strerror(err));
            conn->state = CONN_LOST;
        }
    }
    bool lost = conn->state == CONN_LOST;
    pthread_mutex_unlock(&conn->lock);
    if (notify)
        notify_dropped(conn);
    if (lost && notify)
        notify_gone(conn);
}

static void on_close(virConnectPtr virt, int reason, void *opaque)
{
    lg_conn *conn = opaque;
    static const char *reasons[] = { "error", "end of file", "keepalive timeout", "client closed" };
    LG_DEBUG("connection to %s closed: %s", conn->uri,
             reason >= 0 && reason < 4 ? reasons[reason] : "unknown");
    pthread_mutex_lock(&conn->lock);
    bool current = virt == conn->virt;
    pthread_mutex_unlock(&conn->lock);
    if (current) /* not a connection already replaced */
        lg_conn_closed(conn);
}

int lg_conn_open(const char *uri, lg_conn **out)
{
    lg_error_clear(); /* a stale message never names a later failure */
    lg_conn *conn = LG_NEW0(lg_conn);
    conn->uri = lg_strdup(uri);
    conn->reconnect_ms = (int64_t)LG_CONN_RECONNECT_S * 1000;
    pthread_mutex_init(&conn->lock, NULL);
    pthread_mutex_init(&conn->watch_lock, NULL);
    conn->virt = virConnectOpen(uri);
    if (!conn->virt) {
        lg_virt_error(uri);
        lg_conn_free(conn);
        return -ECONNREFUSED;
    }
    arm(conn, conn->virt);
    *out = conn;
    return 0;
}

void lg_conn_free(lg_conn *conn)
{
    if (!conn)
        return;
    atomic_store(&conn->stopping, true);
    pthread_mutex_lock(&conn->lock);
    bool joinable = conn->thread_joinable;
    conn->thread_joinable = false;
    pthread_mutex_unlock(&conn->lock);
    if (joinable)
        pthread_join(conn->reconnect_thread, NULL);
    if (conn->virt) {
        virConnectUnregisterCloseCallback(conn->virt, on_close);
        virConnectClose(conn->virt);
    }
    for (size_t i = 0; i < conn->n_retired; i++) {
        virConnectUnregisterCloseCallback(conn->retired[i], on_close);
        virConnectClose(conn->retired[i]);
    }
    free(conn->retired);
    free(conn->uri);
    free(conn->watches);
    pthread_mutex_destroy(&conn->watch_lock);
    pthread_mutex_destroy(&conn->lock);
    free(conn);
}

int lg_conn_listen(lg_conn *conn, const lg_conn_listener *listener)
{
    pthread_mutex_lock(&conn->watch_lock);
    size_t id = 0;
    while (id < conn->n_watches && !listener_free(&conn->watches[id]))
        id++;
    if (id == conn->n_watches) {
        conn->watches = lg_realloc_n(conn->watches, conn->n_watches + 1, sizeof(*conn->watches));
        conn->n_watches++;
    }
    conn->watches[id] = *listener;
    pthread_mutex_unlock(&conn->watch_lock);
    return (int)id;
}

void lg_conn_unlisten(lg_conn *conn, int id)
{
    pthread_mutex_lock(&conn->watch_lock);
    if (id >= 0 && (size_t)id < conn->n_watches)
        conn->watches[id] = (lg_conn_listener){ 0 };
    pthread_mutex_unlock(&conn->watch_lock);
}

unsigned lg_conn_epoch(lg_conn *conn)
{
    return atomic_load(&conn->epoch);
}

void lg_conn_set_reconnect_ms(lg_conn *conn, int64_t ms)
{
    pthread_mutex_lock(&conn->lock);
    conn->reconnect_ms = ms;
    pthread_mutex_unlock(&conn->lock);
}

bool lg_conn_lost(lg_conn *conn)
{
    pthread_mutex_lock(&conn->lock);
    bool lost = conn->state == CONN_LOST;
    pthread_mutex_unlock(&conn->lock);
    return lost;
}

const char *lg_conn_uri(lg_conn *conn)
{
    return conn->uri;
}

virConnectPtr lg_conn_virt(lg_conn *conn)
{
    pthread_mutex_lock(&conn->lock);
    virConnectPtr virt = conn->virt;
    pthread_mutex_unlock(&conn->lock);
    return virt;
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

int lg_conn_cpu_times(lg_conn *conn, lg_cpu_times *out)
{
    lg_error_clear();
    int n = 0;
    virConnectPtr virt = lg_conn_virt(conn);
    if (virNodeGetCPUStats(virt, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) < 0 || n <= 0) {
        lg_virt_error("cannot read the host's CPU time");
        return -EIO;
    }
    virNodeCPUStatsPtr stats = lg_calloc((size_t)n, sizeof(*stats));
    if (virNodeGetCPUStats(virt, VIR_NODE_CPU_STATS_ALL_CPUS, stats, &n, 0) < 0) {
        free(stats);
        lg_virt_error("cannot read the host's CPU time");
        return -EIO;
    }
    lg_cpu_times t = { 0 };
    for (int i = 0; i < n; i++) {
        unsigned long long v = stats[i].value;
        if (strcmp(stats[i].field, VIR_NODE_CPU_STATS_KERNEL) == 0)
            t.system = v;
        else if (strcmp(stats[i].field, VIR_NODE_CPU_STATS_USER) == 0)
            t.user = v;
        else if (strcmp(stats[i].field, VIR_NODE_CPU_STATS_IDLE) == 0)
            t.idle = v;
        else if (strcmp(stats[i].field, VIR_NODE_CPU_STATS_IOWAIT) == 0)
            t.iowait = v;
    }
    free(stats);
    *out = t;
    return 0;
}
