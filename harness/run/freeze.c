#include "freeze.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

LG_LOG_INIT("freeze");

/* how often the thread looks whether it is told to stop */
#define FREEZE_SLICE_MS 100

struct lg_freezer {
    lg_monitor *mon;
    lg_backend *backend;
    lg_vm *vm;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool done;
    int rc;          /* as lg_freezer_finish returns it */
    char *why;
};

static void *run(void *opaque)
{
    lg_freezer *fz = opaque;
    int rc = 0;
    char *why = NULL;
    for (;;) {
        pthread_mutex_lock(&fz->lock);
        bool stop = fz->stop;
        pthread_mutex_unlock(&fz->lock);
        if (stop)
            break;
        int due = lg_monitor_wait_freeze(fz->mon, lg_now_ms() + FREEZE_SLICE_MS);
        if (due < 0)
            break;
        if (due == 0)
            continue;
        int64_t start_ms = lg_now_ms();
        if (!fz->backend->ops->suspend) {
            why = lg_strdup("the backend cannot suspend a guest");
            rc = -ENOTSUP;
        } else if ((rc = fz->backend->ops->suspend(fz->vm, LG_FREEZE_SUSPEND_MS)) == 0) {
            lg_monitor_frozen(fz->mon);
            LG_DEBUG("suspended in %lld ms", (long long)(lg_now_ms() - start_ms));
            rc = 1;
        } else if (rc == -ESRCH) {
            /* it powered off or QEMU ended: nothing runs on to change the evidence */
            LG_DEBUG("not frozen: %s", lg_error_msg());
            rc = 0;
        } else {
            why = lg_strdup(lg_error_msg());
            LG_DEBUG("not frozen: %s", why);
            rc = -EIO;
        }
        break;
    }
    pthread_mutex_lock(&fz->lock);
    fz->done = true;
    fz->rc = rc;
    fz->why = why;
    pthread_cond_broadcast(&fz->cond);
    pthread_mutex_unlock(&fz->lock);
    return NULL;
}

lg_freezer *lg_freezer_start(lg_monitor *mon, lg_backend *backend, lg_vm *vm)
{
    lg_freezer *fz = LG_NEW0(lg_freezer);
    *fz = (lg_freezer){ .mon = mon, .backend = backend, .vm = vm };
    pthread_mutex_init(&fz->lock, NULL);
    lg_cond_init_monotonic(&fz->cond);
    int err = pthread_create(&fz->thread, NULL, run, fz);
    if (err) {
        LG_DEBUG("no freeze thread: %s", strerror(err));
        pthread_cond_destroy(&fz->cond);
        pthread_mutex_destroy(&fz->lock);
        free(fz);
        return NULL;
    }
    return fz;
}

int lg_freezer_finish(lg_freezer *fz, int64_t until_ms, char **why)
{
    if (!fz)
        return 0;
    pthread_mutex_lock(&fz->lock);
    while (!fz->done && lg_now_ms() < until_ms)
        lg_cond_wait_until(&fz->cond, &fz->lock, until_ms);
    fz->stop = true;
    pthread_mutex_unlock(&fz->lock);
    /* a suspend under way ends within its own deadline */
    pthread_join(fz->thread, NULL);
    int rc = fz->rc;
    if (rc < 0 && why)
        *why = fz->why;
    else
        free(fz->why);
    pthread_cond_destroy(&fz->cond);
    pthread_mutex_destroy(&fz->lock);
    free(fz);
    return rc;
}
