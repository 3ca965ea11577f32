#include "heartbeat.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

LG_LOG_INIT("heartbeat");

/* Health checks that must fail in a row before the agent counts as dead: one
 * failure can be a restart in progress. */
#define HEALTH_FAILURES 2

struct lg_heartbeat {
    lg_heartbeat_params p;
    char *health_command;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool active;          /* guest is ready and not being rebooted */
    int64_t active_ms;    /* when it last became ready: the guest answered then */
    bool agent_installed;
    unsigned generation;
};

static void *run(void *opaque)
{
    lg_heartbeat *hb = opaque;
    const lg_backend_ops *ops = hb->p.backend->ops;
    /* The guest is lost once it has not answered for interval x misses.  That
     * is a span of time, measured from the last answer, not a count of failed
     * checks: a check that hangs until its deadline must not stretch it.  The
     * interval is a period, not a timeout, so it is not scaled for TCG. */
    const int64_t interval_ms = (int64_t)hb->p.interval_s * 1000;
    const int64_t timeout_ms = interval_ms * hb->p.misses;
    int64_t last_answer_ms = 0;
    int failures = 0;
    int health_failures = 0;
    lg_session *guest = NULL;
    unsigned seen_generation = 0;
    int64_t next_check_ms = lg_now_ms() + interval_ms;
    pthread_mutex_lock(&hb->lock);
    while (!hb->stop) {
        int64_t wait_ms = next_check_ms - lg_now_ms();
        if (wait_ms > 0) {
            lg_cond_wait_until(&hb->cond, &hb->lock, next_check_ms);
            continue; /* woken early (stop, or a state change): look again */
        }
        /* checks start on a fixed period, however long the last one took */
        next_check_ms += interval_ms;
        if (next_check_ms < lg_now_ms())
            next_check_ms = lg_now_ms() + interval_ms;
        if (!hb->active || hb->generation != seen_generation) {
            /* not ready, or rebooted since the last check: start over */
            seen_generation = hb->generation;
            last_answer_ms = hb->active ? hb->active_ms : 0;
            failures = 0;
            if (guest)
                ops->session_free(guest);
            guest = NULL;
            if (!hb->active)
                continue;
        }
        unsigned generation = hb->generation;
        bool check_health = hb->health_command && hb->agent_installed;
        /* the port may change under us (a cold boot's new QEMU): this check's copy */
        lg_transport_target target = hb->p.target;
        pthread_mutex_unlock(&hb->lock);

        /* A check may take until the guest counts as lost, no longer: a slow
         * answer from a busy TCG guest is still an answer. */
        unsigned epoch = ops->epoch(hb->p.backend);
        int64_t left_ms = last_answer_ms + timeout_ms - lg_now_ms();
        lg_deadline dl = lg_deadline_in_ms(left_ms > 1000 ? left_ms : 1000);
        int rc = guest ? 0 : ops->connect(hb->p.backend, hb->p.vm, &target, dl, &guest);
        if (rc == -EKEYREJECTED)
            lg_monitor_fail(hb->p.mon, LG_FAIL_HOST_KEY_MISMATCH, lg_error_msg());
        int health_status = 0;
        LG_AUTOBUF health_out = LG_BUF_INIT;
        if (rc == 0)
            rc = ops->ping(guest, dl);
        bool answered = rc == 0;
        if (answered)
            lg_monitor_heartbeat(hb->p.mon);
        if (answered && check_health)
            rc = ops->exec(guest, hb->health_command, NULL, 0, dl, &health_out, &health_status);
        if (answered && hb->p.netprobe && lg_netprobe_due(hb->p.netprobe))
            lg_netprobe_round(hb->p.netprobe, guest); /* reports UNREACHABLE itself */
        if (rc < 0 && guest) {
            ops->session_free(guest);
            guest = NULL;
        }

        pthread_mutex_lock(&hb->lock);
        if (generation != hb->generation || rc == -ECANCELED)
            continue; /* the guest was rebooted under us: not a miss */
        if (answered) {
            last_answer_ms = lg_now_ms();
            failures = 0;
            if (rc < 0 || !check_health)
                continue; /* the health command itself timed out: asked again next time */
            /* The OS answers; does the agent? */
            health_failures = health_status == 0 ? 0 : health_failures + 1;
            if (health_failures >= HEALTH_FAILURES) {
                lg_monitor_fail(hb->p.mon, LG_FAIL_HEALTH_FAILED, health_status, lg_buf_last_line(&health_out));
                hb->active = false;
            }
            continue;
        }
        if (hb->p.target.kind == LG_TRANSPORT_QGA &&
            (epoch != ops->epoch(hb->p.backend) || (ops->epoch(hb->p.backend) & 1))) {
            /* qemu-ga answers through libvirt, which was away: not the
             * guest's silence.  The span starts again once it is back. */
            last_answer_ms = lg_now_ms();
            failures = 0;
            continue;
        }
        failures++;
        int64_t silent_ms = lg_now_ms() - last_answer_ms;
        LG_DEBUG("%s: no answer (%d in a row, silent %.1f s of %.1f s): %s", hb->p.job_id, failures,
                 (double)silent_ms / 1000.0, (double)timeout_ms / 1000.0, rc < 0 ? lg_error_msg() : "non-zero exit");
        if (silent_ms >= timeout_ms) {
            /* a guest alive by other means whose network is down is
             * unreachable, not hung (the probe decides, unlocked) */
            pthread_mutex_unlock(&hb->lock);
            bool unreachable = hb->p.netprobe && lg_netprobe_explain_silence(hb->p.netprobe, false);
            pthread_mutex_lock(&hb->lock);
            if (!unreachable)
                lg_monitor_fail(hb->p.mon, LG_FAIL_HEARTBEAT_LOST, (int)(timeout_ms / 1000), hb->p.interval_s);
            hb->active = false;
        }
    }
    pthread_mutex_unlock(&hb->lock);
    if (guest)
        ops->session_free(guest);
    return NULL;
}

lg_heartbeat *lg_heartbeat_start(const lg_heartbeat_params *params)
{
    lg_heartbeat *hb = LG_NEW0(lg_heartbeat);
    hb->p = *params;
    hb->health_command = lg_strdup(params->health_command);
    hb->p.health_command = NULL;
    pthread_mutex_init(&hb->lock, NULL);
    lg_cond_init_monotonic(&hb->cond);
    int err = pthread_create(&hb->thread, NULL, run, hb);
    hb->started = err == 0;
    if (err)
        LG_DEBUG("%s: no heartbeat thread: %s", params->job_id, strerror(err));
    return hb;
}

void lg_heartbeat_set_port(lg_heartbeat *hb, int port)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->lock);
    hb->p.target.port = port;
    hb->generation++; /* a session to the old port is of no use */
    pthread_mutex_unlock(&hb->lock);
}

void lg_heartbeat_set_ready(lg_heartbeat *hb, bool ready)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->lock);
    hb->active = ready;
    hb->active_ms = lg_now_ms();
    hb->generation++;
    pthread_mutex_unlock(&hb->lock);
    if (ready)
        lg_monitor_heartbeat(hb->p.mon);
}

void lg_heartbeat_agent_installed(lg_heartbeat *hb)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->lock);
    hb->agent_installed = true;
    pthread_mutex_unlock(&hb->lock);
}

void lg_heartbeat_stop(lg_heartbeat *hb)
{
    if (!hb)
        return;
    if (hb->started) {
        pthread_mutex_lock(&hb->lock);
        hb->stop = true;
        pthread_cond_broadcast(&hb->cond);
        pthread_mutex_unlock(&hb->lock);
        pthread_join(hb->thread, NULL);
    }
    pthread_cond_destroy(&hb->cond);
    pthread_mutex_destroy(&hb->lock);
    free(hb->health_command);
    free(hb);
}
