#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "conn.h"

struct lg_guard {
    virDomainPtr dom;
    int64_t timeout_ms, grace_ms;
    char *what;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;  /* disarmed: the call returned */
    bool fired;
};

/* Waits until disarmed or until_ms; lock held.  True when disarmed. */
static bool wait_done(lg_guard *g, int64_t until_ms)
{
    while (!g->done && lg_now_ms() < until_ms)
        lg_cond_wait_until(&g->cond, &g->lock, until_ms);
    return g->done;
}

static void *guard_main(void *opaque)
{
    lg_guard *g = opaque;
    pthread_mutex_lock(&g->lock);
    if (!wait_done(g, lg_now_ms() + g->timeout_ms)) {
        g->fired = true;
        pthread_mutex_unlock(&g->lock);
        lg_virt_notify(LG_VIRT_NOTICE_GUARD_FIRED, "%s: no answer from QEMU within %.1f s: aborting it", g->what,
                       (double)g->timeout_ms / 1000.0);
        virDomainAbortJob(g->dom); /* fails when there is no job: fine */
        pthread_mutex_lock(&g->lock);
        if (!wait_done(g, lg_now_ms() + g->grace_ms)) {
            pthread_mutex_unlock(&g->lock);
            lg_virt_notify(LG_VIRT_NOTICE_GUARD_FIRED, "%s: still no answer: destroying the domain", g->what);
            virDomainDestroy(g->dom);
            pthread_mutex_lock(&g->lock);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

lg_guard *lg_guard_arm(virDomainPtr dom, int64_t timeout_ms, int64_t grace_ms, const char *what)
{
    lg_guard *g = LG_NEW0(lg_guard);
    g->dom = dom;
    g->timeout_ms = timeout_ms;
    g->grace_ms = grace_ms;
    g->what = lg_strdup(what ? what : "libvirt call");
    pthread_mutex_init(&g->lock, NULL);
    lg_cond_init_monotonic(&g->cond);
    virDomainRef(dom);
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        lg_virt_notify(LG_VIRT_NOTICE_UNGUARDED, "%s runs without a deadline: cannot start its guard", what);
        virDomainFree(dom);
        pthread_cond_destroy(&g->cond);
        pthread_mutex_destroy(&g->lock);
        free(g->what);
        free(g);
        return NULL;
    }
    return g;
}

bool lg_guard_fired(lg_guard *g)
{
    if (!g)
        return false;
    pthread_mutex_lock(&g->lock);
    bool fired = g->fired;
    pthread_mutex_unlock(&g->lock);
    return fired;
}

bool lg_guard_disarm(lg_guard *g)
{
    if (!g)
        return false;
    pthread_mutex_lock(&g->lock);
    g->done = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    bool fired = g->fired;
    virDomainFree(g->dom);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g->what);
    free(g);
    return fired;
}
