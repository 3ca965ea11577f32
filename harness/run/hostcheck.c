#include "hostcheck.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "virt/accel.h"
#include "virt/caps.h"
#include "virt/leftovers.h"
#include "virt/pool.h"

LG_LOG_INIT("hostcheck");

void lg_host_ready_clear(lg_host_ready *r)
{
    if (!r)
        return;
    lg_conn_free(r->conn);
    free(r->failure);
    memset(r, 0, sizeof(*r));
}

static void fail(lg_host_ready *out, const char *what)
{
    out->passed = false;
    out->failure = lg_strdup_printf("%s: %s", what, lg_error_msg());
    lg_conn_free(out->conn);
    out->conn = NULL;
}

/* every guest architecture and machine type the plan's jobs need */
static int check_caps(lg_conn *conn, const lg_plan *plan, bool kvm)
{
    const char *type = kvm ? "kvm" : "qemu";
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_profile *p = plan->jobs[i].guest->profile;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            const lg_profile *q = plan->jobs[k].guest->profile;
            seen = q->arch == p->arch && strcmp(q->machine ? q->machine : "", p->machine ? p->machine : "") == 0;
        }
        if (seen)
            continue;
        int rc = lg_conn_guest_check(conn, lg_arch_info_of(p->arch)->name, p->machine, type);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* the largest guest of the plan must fit the host's available memory */
static int check_memory(const lg_plan *plan, long long available_mib)
{
    long long need = 0;
    const char *which = NULL;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_profile *p = plan->jobs[i].guest->profile;
        if (p->memory_mib + LG_GUEST_OVERHEAD_MIB > need) {
            need = p->memory_mib + LG_GUEST_OVERHEAD_MIB;
            which = p->id;
        }
    }
    if (need == 0 || available_mib - LG_HOST_RESERVE_MIB >= need)
        return 0;
    lg_error_set("%lld MiB available, %lld MiB kept for the host itself: no room for a guest of profile %s "
                 "(%lld MiB with QEMU's own)",
                 available_mib, (long long)LG_HOST_RESERVE_MIB, which, need);
    return -ENOMEM;
}

void lg_host_check(const lg_plan *plan, size_t host, lg_accel accel, lg_host_ready *out)
{
    const lg_matrix *m = plan->matrix;
    const lg_host *h = &m->hosts[host];
    int64_t start = lg_now_ms();
    *out = (lg_host_ready){ 0 };
    lg_pool *pool = NULL;
    if (lg_conn_open(h->uri, &out->conn) < 0) {
        fail(out, "connection");
    } else if (lg_accel_resolve(out->conn, accel, m, &out->kvm) < 0) {
        fail(out, "accelerator");
    } else if (lg_pool_open(out->conn, h->pool_dir, &pool) < 0) {
        fail(out, "storage pool");
    } else if (check_caps(out->conn, plan, out->kvm) < 0) {
        fail(out, "capabilities");
    } else if (lg_conn_node_capacity(out->conn, &out->cpus, &out->available_mib) < 0) {
        fail(out, "capacity");
    } else if (check_memory(plan, out->available_mib) < 0) {
        fail(out, "memory");
    } else {
        out->passed = true;
        out->slots = h->slots;
        out->slots_auto = h->slots == 0;
        if (out->slots == 0)
            out->slots = lg_plan_auto_slots(m, out->cpus, out->available_mib);
    }
    lg_pool_free(pool);
    out->seconds = (double)(lg_now_ms() - start) / 1000.0;
    LG_DEBUG("host %s: %s in %.1f s", h->id, out->passed ? "passed" : out->failure, out->seconds);
}

/* ------------------------------------------------------- all at once */

typedef struct check_task {
    struct lg_host_checks *all;
    size_t host;
    pthread_t thread;
    bool started;
    bool done;
    bool abandoned;        /* its deadline passed: the result is dropped */
    lg_host_ready ready;
} check_task;

struct lg_host_checks {
    const lg_plan *plan;
    lg_accel accel;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    check_task *tasks;
    size_t n_tasks;
};

static void *check_thread(void *opaque)
{
    check_task *t = opaque;
    lg_host_ready ready;
    lg_host_check(t->all->plan, t->host, t->all->accel, &ready);
    pthread_mutex_lock(&t->all->lock);
    t->ready = ready;
    t->done = true;
    pthread_cond_broadcast(&t->all->changed);
    pthread_mutex_unlock(&t->all->lock);
    return NULL;
}

lg_host_checks *lg_host_checks_run(const lg_plan *plan, lg_accel accel, int64_t deadline_ms, lg_host_ready *out)
{
    const lg_matrix *m = plan->matrix;
    lg_host_checks *c = lg_calloc(1, sizeof(*c));
    c->plan = plan;
    c->accel = accel;
    c->n_tasks = m->n_hosts;
    c->tasks = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*c->tasks));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    for (size_t h = 0; h < m->n_hosts; h++) {
        check_task *t = &c->tasks[h];
        t->all = c;
        t->host = h;
        t->started = pthread_create(&t->thread, NULL, check_thread, t) == 0;
        if (!t->started) /* no thread to be had: here, one by one */
            check_thread(t);
    }
    int64_t until = lg_now_ms() + deadline_ms;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        bool all_done = true;
        for (size_t h = 0; h < c->n_tasks; h++)
            all_done = all_done && c->tasks[h].done;
        int64_t left = until - lg_now_ms();
        if (all_done || left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t wait = left < 1000 ? left : 1000;
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->changed, &c->lock, &ts);
    }
    for (size_t h = 0; h < c->n_tasks; h++) {
        check_task *t = &c->tasks[h];
        if (t->done) {
            out[h] = t->ready;
            memset(&t->ready, 0, sizeof(t->ready));
        } else {
            t->abandoned = true;
            out[h] = (lg_host_ready){
                .failure = lg_strdup_printf("no answer within %lld s (connection, storage pool, capabilities)",
                                            (long long)(deadline_ms / 1000)),
                .seconds = (double)deadline_ms / 1000.0,
            };
        }
    }
    pthread_mutex_unlock(&c->lock);
    return c;
}

void lg_host_checks_free(lg_host_checks *c, int64_t wait_ms)
{
    if (!c)
        return;
    int64_t until = lg_now_ms() + wait_ms;
    bool stragglers = false;
    for (size_t h = 0; h < c->n_tasks; h++) {
        check_task *t = &c->tasks[h];
        if (!t->started)
            continue;
        for (;;) {
            pthread_mutex_lock(&c->lock);
            bool done = t->done;
            pthread_mutex_unlock(&c->lock);
            if (done || lg_now_ms() >= until)
                break;
            lg_sleep_ms(100);
        }
        pthread_mutex_lock(&c->lock);
        bool done = t->done;
        pthread_mutex_unlock(&c->lock);
        if (done) {
            pthread_join(t->thread, NULL);
            lg_host_ready_clear(&t->ready);
        } else {
            pthread_detach(t->thread);
            stragglers = true;
        }
    }
    if (stragglers) {
        /* a check still inside libvirt owns its task: leave the lot to the
         * process's end rather than free what it will write */
        LG_DEBUG("host checks still running after %lld ms: left to end by themselves", (long long)wait_ms);
        return;
    }
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c->tasks);
    free(c);
}

/* ------------------------------------------------------- leftovers */

char *lg_host_leftovers_remove(const char *uri, const char *run_id, int *removed)
{
    *removed = 0;
    lg_conn *conn = NULL;
    if (lg_conn_open(uri, &conn) < 0)
        return lg_strdup_printf("cannot reconnect to remove this run's domains and overlays: %s", lg_error_msg());
    LG_AUTOBUF problems = LG_BUF_INIT;
    lg_labgate_domain *doms = NULL;
    size_t n = 0;
    if (lg_labgate_domains(conn, &doms, &n) < 0) {
        lg_buf_printf(&problems, "cannot list its domains: %s", lg_error_msg());
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!doms[i].run_id || strcmp(doms[i].run_id, run_id) != 0)
            continue;
        if (lg_labgate_domain_remove(conn, doms[i].name) == 0)
            (*removed)++;
        else
            lg_buf_printf(&problems, "%sdomain %s left: %s", problems.len ? "; " : "", doms[i].name, lg_error_msg());
    }
    lg_labgate_domains_free(doms, n);
    lg_pool *pool = NULL;
    lg_pool_volume *vols = NULL;
    size_t n_vols = 0;
    if (lg_pool_lookup(conn, &pool) == 0 && lg_pool_volumes(pool, &vols, &n_vols) == 0) {
        for (size_t i = 0; i < n_vols; i++) {
            LG_AUTOFREE char *owner = lg_volume_overlay_run_id(vols[i].name);
            if (!owner || strcmp(owner, run_id) != 0)
                continue;
            if (lg_pool_volume_delete(pool, vols[i].name) == 0)
                (*removed)++;
            else
                lg_buf_printf(&problems, "%soverlay %s left: %s", problems.len ? "; " : "", vols[i].name,
                              lg_error_msg());
        }
    }
    lg_pool_volumes_free(vols, n_vols);
    lg_pool_free(pool);
    lg_conn_free(conn);
    return problems.len ? lg_strdup(problems.data) : NULL;
}
