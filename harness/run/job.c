#include "job.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/backoff.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/ports.h"
#include "base/util.h"
#include "guest/oscmd.h"
#include "guest/transport.h"
#include "run/runlock.h"
#include "virt/domain.h"
#include "virt/domxml.h"
#include "virt/hvlog.h"
#include "virt/overlay.h"
#include "watch/panicinfo.h"

LG_LOG_INIT("job");

#define ATTEMPT_MS 15000
#define REBOOT_COMMAND_MS 10000

typedef struct job_ctx {
    const lg_job_env *env;
    const lg_job *job;
    const lg_profile *profile;
    const lg_policy *policy;
    lg_os os;
    lg_monitor *mon;
    lg_domain *dom;
    int port;
    lg_transport *guest;  /* the steps' session */
    int boot;             /* boot number at the last ready */
    const char *step;     /* current step name */
    char **files;         /* fetched, relative to the results directory */
    size_t n_files;

    /* heartbeat thread */
    pthread_t hb_thread;
    bool hb_started;
    pthread_mutex_t hb_lock;
    pthread_cond_t hb_cond;
    bool hb_stop;
    bool hb_active;       /* guest is ready and not being rebooted */
    int64_t hb_active_ms; /* when it last became ready: the guest answered then */
    bool agent_installed; /* the build's health command applies from now on */
    unsigned hb_generation;
} job_ctx;

static void progress(job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(job_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->env->progress)
        return;
    LG_AUTOBUF msg = LG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lg_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    ctx->env->progress(ctx->env->progress_opaque, ctx->job, ctx->mon ? lg_monitor_boot(ctx->mon) : 0, msg.data);
}

/* Stop waiting on the guest: a verdict exists, the user pressed Ctrl-C, or
 * the hypervisor connection is gone. */
static bool cancelled(void *opaque)
{
    job_ctx *ctx = opaque;
    if (lg_conn_lost(ctx->env->conn))
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                        "lost the connection to libvirt (%s)", lg_conn_uri(ctx->env->conn));
    return lg_monitor_decided(ctx->mon) || atomic_load(ctx->env->interrupted);
}

static lg_transport_target transport_target(job_ctx *ctx)
{
    const lg_profile *p = ctx->profile;
    return (lg_transport_target){
        .kind = strcmp(p->transport, "qemu-ga") == 0 ? LG_TRANSPORT_QGA : LG_TRANSPORT_SSH,
        .host = "127.0.0.1", .port = ctx->port, .user = p->ssh_user, .key_path = p->ssh_key,
        .host_key_path = p->ssh_host_key,
        .dom = ctx->dom ? lg_domain_virt(ctx->dom) : NULL, .windows = strcmp(p->os, "windows") == 0,
        .cancel = cancelled, .cancel_opaque = ctx,
    };
}

/* A timeout from the policy, which is written for KVM: software emulation
 * is several times slower at everything. */
static int64_t scaled_ms(job_ctx *ctx, int seconds)
{
    return (int64_t)seconds * 1000 * (ctx->env->kvm ? 1 : ctx->policy->tcg_scale);
}

/* ------------------------------------------------------------ libvirt events */

static void on_console(void *opaque, const char *data, size_t len)
{
    lg_monitor_console(((job_ctx *)opaque)->mon, data, len);
}

static void on_lifecycle(void *opaque, int event, int detail)
{
    job_ctx *ctx = opaque;
    LG_DEBUG("%s: lifecycle event %d detail %d", ctx->job->id, event, detail);
    switch (event) {
    case VIR_DOMAIN_EVENT_CRASHED:
        lg_monitor_post(ctx->mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "%s",
                        detail == VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED
                            ? "kernel crashed and loaded its crash kernel (pvpanic)"
                            : "kernel panic (pvpanic)");
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        if (detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED)
            lg_monitor_post(ctx->mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, "kernel panic (pvpanic)");
        else if (detail == VIR_DOMAIN_EVENT_STOPPED_FAILED)
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                            "the QEMU process failed (see the libvirt log for %s)", lg_domain_name(ctx->dom));
        else if (detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
            lg_monitor_post(ctx->mon, LG_VERDICT_HANG, LG_SIGNAL_STATE, "guest powered itself off");
        else
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                            "domain stopped from outside labgate (detail %d)", detail);
        break;
    default:
        break;
    }
}

static void on_watchdog(void *opaque, int action)
{
    job_ctx *ctx = opaque;
    static const char *actions[] = { "none", "pause", "reset", "poweroff", "shutdown", "debug", "inject-nmi" };
    lg_monitor_post(ctx->mon, LG_VERDICT_HANG, LG_SIGNAL_WATCHDOG, "watchdog fired (action %s)",
                    action >= 0 && action < (int)LG_N_ELEMENTS(actions) ? actions[action] : "unknown");
}

static void on_panic_details(void *opaque, const char *details, int64_t qemu_wall_us)
{
    job_ctx *ctx = opaque;
    lg_monitor_panic_time(ctx->mon, qemu_wall_us);
    LG_DEBUG("%s: GUEST_PANICKED %s", ctx->job->id, details ? details : "");
    lg_panic_info info;
    if (!lg_panic_info_parse(details, &info))
        return; /* a Linux pvpanic: the lifecycle event and console tell the rest */
    LG_AUTOFREE char *title = lg_panic_info_title(&info);
    LG_AUTOFREE char *params = lg_panic_info_describe(&info);
    LG_INFO("%s: bugcheck %s", ctx->job->id, params ? params : "");
    if (title)
        lg_monitor_post_specific(ctx->mon, LG_VERDICT_CRASH, LG_SIGNAL_PVPANIC, title);
}

static void on_reboot(void *opaque)
{
    lg_monitor_reset_event(((job_ctx *)opaque)->mon);
}

/* Backstop for a missed panic event. */
static void check_state(job_ctx *ctx)
{
    int state, reason;
    if (!ctx->dom || lg_domain_state(ctx->dom, &state, &reason) < 0)
        return;
    if (state == VIR_DOMAIN_CRASHED || (state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_CRASHED) ||
        (state == VIR_DOMAIN_RUNNING && reason == VIR_DOMAIN_RUNNING_CRASHED))
        lg_monitor_post(ctx->mon, LG_VERDICT_CRASH, LG_SIGNAL_STATE, "kernel panic (domain state crashed)");
}

/* The last non-empty line of a command's output (trailing blanks dropped). */
static const char *last_line(lg_buf *out)
{
    if (!out->data)
        return "";
    while (out->len && strchr("\n\r ", out->data[out->len - 1]))
        out->data[--out->len] = '\0';
    char *nl = strrchr(out->data, '\n');
    return nl ? nl + 1 : out->data;
}

/* ----------------------------------------------------------------- heartbeat */

/* Health checks that must fail in a row before the agent counts as dead: one
 * failure can be a restart in progress. */
#define HEALTH_FAILURES 2

static void hb_set_active(job_ctx *ctx, bool active)
{
    pthread_mutex_lock(&ctx->hb_lock);
    ctx->hb_active = active;
    ctx->hb_active_ms = lg_now_ms();
    ctx->hb_generation++;
    pthread_mutex_unlock(&ctx->hb_lock);
    if (active)
        lg_monitor_heartbeat(ctx->mon);
}

static void *heartbeat(void *opaque)
{
    job_ctx *ctx = opaque;
    /* The guest is lost once it has not answered for interval x misses.  That
     * is a span of time, measured from the last answer, not a count of failed
     * checks: a check that hangs until its deadline must not stretch it.  The
     * interval is a period, not a timeout, so it is not scaled for TCG. */
    const int64_t interval_ms = (int64_t)ctx->policy->heartbeat_interval_s * 1000;
    const int64_t timeout_ms = interval_ms * ctx->policy->heartbeat_misses;
    int64_t last_answer_ms = 0;
    int failures = 0;
    int health_failures = 0;
    LG_AUTOFREE char *health_cmd = ctx->job->build->health
        ? lg_os_in_dir(ctx->os, lg_os_build_dir(ctx->os), ctx->job->build->health) : NULL;
    lg_transport *guest = NULL;
    lg_transport_target target = transport_target(ctx);
    unsigned seen_generation = 0;
    int64_t next_check_ms = lg_now_ms() + interval_ms;
    pthread_mutex_lock(&ctx->hb_lock);
    while (!ctx->hb_stop) {
        int64_t wait_ms = next_check_ms - lg_now_ms();
        if (wait_ms > 0) {
            lg_cond_wait_until(&ctx->hb_cond, &ctx->hb_lock, next_check_ms);
            continue; /* woken early (stop, or a state change): look again */
        }
        /* checks start on a fixed period, however long the last one took */
        next_check_ms += interval_ms;
        if (next_check_ms < lg_now_ms())
            next_check_ms = lg_now_ms() + interval_ms;
        if (!ctx->hb_active || ctx->hb_generation != seen_generation) {
            /* not ready, or rebooted since the last check: start over */
            seen_generation = ctx->hb_generation;
            last_answer_ms = ctx->hb_active ? ctx->hb_active_ms : 0;
            failures = 0;
            lg_transport_free(guest);
            guest = NULL;
            if (!ctx->hb_active)
                continue;
        }
        unsigned generation = ctx->hb_generation;
        bool check_health = health_cmd && ctx->agent_installed;
        pthread_mutex_unlock(&ctx->hb_lock);

        /* A check may take until the guest counts as lost, no longer: a slow
         * answer from a busy TCG guest is still an answer. */
        int64_t left_ms = last_answer_ms + timeout_ms - lg_now_ms();
        lg_deadline dl = lg_deadline_in_ms(left_ms > 1000 ? left_ms : 1000);
        int rc = guest ? 0 : lg_transport_connect(&target, dl, &guest);
        if (rc == -EKEYREJECTED)
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "%s", lg_error_msg());
        int health_status = 0;
        LG_AUTOBUF health_out = LG_BUF_INIT;
        if (rc == 0)
            rc = lg_transport_ping(guest, dl);
        bool answered = rc == 0;
        if (answered)
            lg_monitor_heartbeat(ctx->mon);
        if (answered && check_health)
            rc = lg_transport_exec(guest, health_cmd, NULL, 0, dl, &health_out, &health_status);
        if (rc < 0) {
            lg_transport_free(guest);
            guest = NULL;
        }

        pthread_mutex_lock(&ctx->hb_lock);
        if (generation != ctx->hb_generation || rc == -ECANCELED)
            continue; /* the guest was rebooted under us: not a miss */
        if (answered) {
            last_answer_ms = lg_now_ms();
            failures = 0;
            if (rc < 0 || !check_health)
                continue; /* the health command itself timed out: asked again next time */
            /* The OS answers; does the agent? */
            health_failures = health_status == 0 ? 0 : health_failures + 1;
            if (health_failures >= HEALTH_FAILURES) {
                lg_monitor_post(ctx->mon, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_HEARTBEAT,
                                "agent health check failed (exit %d) while the OS lived: %s", health_status,
                                last_line(&health_out));
                ctx->hb_active = false;
            }
            continue;
        }
        failures++;
        int64_t silent_ms = lg_now_ms() - last_answer_ms;
        LG_DEBUG("%s: no answer (%d in a row, silent %.1f s of %.1f s): %s", ctx->job->id, failures,
                 (double)silent_ms / 1000.0, (double)timeout_ms / 1000.0,
                 rc < 0 ? lg_error_msg() : "non-zero exit");
        if (silent_ms >= timeout_ms) {
            lg_monitor_post(ctx->mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT,
                            "heartbeat lost: guest did not answer for %d s (checks every %d s)",
                            (int)(timeout_ms / 1000), ctx->policy->heartbeat_interval_s);
            ctx->hb_active = false;
        }
    }
    pthread_mutex_unlock(&ctx->hb_lock);
    lg_transport_free(guest);
    return NULL;
}

/* --------------------------------------------------------------------- steps */

/* A transport call failed during a step.  A crash usually explains it and is
 * reported within moments, so give the monitor the grace time first. */
static int transport_failed(job_ctx *ctx, int rc, int timeout_s)
{
    if (rc == -ECANCELED || cancelled(ctx))
        return -ECANCELED;
    LG_AUTOFREE char *why = strdup(lg_error_msg());
    check_state(ctx);
    if (lg_monitor_wait(ctx->mon, scaled_ms(ctx, ctx->policy->crash_grace_s)))
        return -ECANCELED;
    if (rc == -ETIMEDOUT)
        lg_monitor_post(ctx->mon, LG_VERDICT_HANG, LG_SIGNAL_DEADLINE,
                        "step %s overran its deadline of %d s", ctx->step, timeout_s);
    else
        lg_monitor_post(ctx->mon, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT,
                        "lost contact with the guest during step %s: %s", ctx->step, why);
    return rc;
}

/* Polling for readiness without a ready line: the first try soon, then
 * less and less often. */
#define READY_POLL_FIRST_MS 50
#define READY_POLL_MAX_MS 1000
/* With a ready line, a short connection attempt this often anyway: a line
 * lost on the console only slows readiness down.  Short, so that a guest
 * still booting sends the wait back to the console at once. */
#define READY_LINE_BACKSTOP_MS 10000
#define READY_LINE_BACKSTOP_ATTEMPT_MS 2000
/* how often a wait for the ready line looks at Ctrl-C and the connection */
#define READY_LINE_SLICE_MS 250
/* Once the ready line came the guest listens: an ssh connection is not
 * abandoned for want of a banner this soon (a guest just booted under TCG
 * answers in about a second; an abandoned attempt costs it a fork). */
#define READY_LINE_BANNER_MS 5000

/* Waits until the guest answers with a boot number above after_boot.  With
 * a ready line in the profile it connects when the console shows it;
 * otherwise, or when that connection fails, it polls with a backoff. */
static int wait_ready(job_ctx *ctx, int after_boot)
{
    const int timeout_s = (int)(scaled_ms(ctx, ctx->policy->boot_timeout_s) / 1000);
    lg_deadline dl = lg_deadline_in_ms((int64_t)timeout_s * 1000);
    lg_transport_target target = transport_target(ctx);
    lg_transport_free(ctx->guest);
    ctx->guest = NULL;
    lg_backoff poll = lg_backoff_doubling(READY_POLL_FIRST_MS, READY_POLL_MAX_MS);
    bool wait_line = ctx->profile->ready_line != NULL;
    if (wait_line)
        lg_monitor_set_ready_line(ctx->mon, ctx->profile->ready_line);
    int64_t backstop_ms = lg_now_ms() + READY_LINE_BACKSTOP_MS;
    while (!lg_deadline_passed(dl)) {
        if (cancelled(ctx))
            return -ECANCELED;
        check_state(ctx);
        if (wait_line) {
            int64_t until = lg_now_ms() + READY_LINE_SLICE_MS;
            until = until < backstop_ms ? until : backstop_ms;
            until = until < dl.at_ms ? until : dl.at_ms;
            int seen = lg_monitor_wait_ready_line(ctx->mon, after_boot, until);
            if (seen == -ECANCELED)
                continue;
            if (seen > 0) {
                LG_DEBUG("%s: ready line for boot %d: connecting", ctx->job->id, seen);
                wait_line = false; /* from here on, poll until it answers */
                target.banner_ms = READY_LINE_BANNER_MS;
            } else if (lg_now_ms() < backstop_ms) {
                continue;
            } else {
                backstop_ms = lg_now_ms() + READY_LINE_BACKSTOP_MS;
            }
        }
        lg_deadline attempt =
            lg_deadline_min(dl, lg_deadline_in_ms(wait_line ? READY_LINE_BACKSTOP_ATTEMPT_MS : ATTEMPT_MS));
        lg_transport *guest = NULL;
        int rc = lg_transport_connect(&target, attempt, &guest);
        if (rc == -EACCES) {
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                            "guest refused the profile's ssh key %s: %s", ctx->profile->ssh_key, lg_error_msg());
            return rc;
        }
        if (rc == -EKEYREJECTED) {
            /* another image than the profile's, or not our guest at all */
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "%s", lg_error_msg());
            return rc;
        }
        if (rc == 0) {
            LG_AUTOBUF out = LG_BUF_INIT;
            int status = -1;
            rc = lg_transport_exec(guest, ctx->profile->boot_count_command, NULL, 0, attempt, &out, &status);
            int boot = rc == 0 && status == 0 && out.data ? atoi(out.data) : 0;
            if (boot > after_boot) {
                LG_DEBUG("%s: ready in boot %d", ctx->job->id, boot);
                ctx->guest = guest;
                ctx->boot = boot;
                lg_monitor_ready(ctx->mon, boot);
                hb_set_active(ctx, true);
                return 0;
            }
            lg_transport_free(guest);
        }
        if (wait_line)
            continue; /* a backstop attempt: back to the console */
        int64_t pause = lg_backoff_next(&poll);
        lg_sleep_ms(lg_deadline_left_ms(dl) < pause ? lg_deadline_left_ms(dl) : pause);
    }
    if (cancelled(ctx))
        return -ECANCELED;
    lg_monitor_post(ctx->mon, LG_VERDICT_BOOT_TIMEOUT, LG_SIGNAL_DEADLINE,
                    "guest did not become ready within %d s (boot %d)", timeout_s, after_boot + 1);
    return -ETIMEDOUT;
}

static int step_timeout_s(job_ctx *ctx, const lg_step *step)
{
    return step->timeout_s ? step->timeout_s : ctx->policy->step_timeout_s;
}

/* Runs command in the guest; non-zero exit is an agent failure. */
static int guest_command(job_ctx *ctx, const char *command, const char *what, int timeout_s, lg_deadline dl)
{
    if (!command) {
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_STEP, "%s: out of memory", what);
        return -ENOMEM;
    }
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int rc = lg_transport_exec(ctx->guest, command, NULL, 0, dl, &out, &status);
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: %s exited %d: %s", ctx->job->id, what, status, out.data ? out.data : "");
    if (status != 0) {
        /* the last line of output usually says why */
        const char *why = last_line(&out);
        lg_monitor_post(ctx->mon, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "%s failed (exit %d)%s%s", what,
                        status, *why ? ": " : "", why);
        return -EIO;
    }
    return 0;
}

static int upload(job_ctx *ctx, const char *local, const char *remote, int timeout_s, lg_deadline dl)
{
    int rc = lg_transport_upload_dir(ctx->guest, local, remote, dl);
    if (rc == -EIO && !cancelled(ctx)) {
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_STEP, "%s", lg_error_msg());
        return rc;
    }
    return rc < 0 ? transport_failed(ctx, rc, timeout_s) : 0;
}

/* Guest files larger than this are not fetched (a complete memory dump of a
 * big guest is better taken by the host: policy memory-dump). */
#define FETCH_MAX_BYTES (64ULL << 30)

static int fetch(job_ctx *ctx, const char *path, int timeout_s, lg_deadline dl)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_STEP, "fetch: '%s' names no file", path);
        return -EINVAL;
    }
    LG_AUTOFREE char *rel = lg_strdup_printf("jobs/%s/files/%s", ctx->job->id, base);
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/jobs/%s/files", ctx->env->out_dir, ctx->job->id);
    LG_AUTOFREE char *local = lg_strdup_printf("%s/%s", ctx->env->out_dir, rel);
    uint64_t size = 0;
    int rc = lg_mkdir_p(dir, 0755);
    if (rc == 0)
        rc = lg_transport_fetch_file(ctx->guest, path, local, FETCH_MAX_BYTES, dl, &size);
    if (rc == -ENOTSUP || rc == -EINVAL || rc == -EIO) {
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_STEP, "%s", lg_error_msg());
        return rc;
    }
    /* the guest lives but the file is not there (or too big): the scenario
     * expected something the agent did not produce */
    if (rc == -ENOENT || rc == -EFBIG) {
        lg_monitor_post(ctx->mon, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "fetch %s failed: %s", path,
                        lg_error_msg());
        return rc;
    }
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: fetched %s (%llu bytes)", ctx->job->id, path, (unsigned long long)size);
    char **grown = realloc(ctx->files, (ctx->n_files + 1) * sizeof(*grown));
    if (grown) {
        ctx->files = grown;
        ctx->files[ctx->n_files++] = strdup(rel);
    }
    return 0;
}

static int run_step(job_ctx *ctx, const lg_step *step)
{
    const lg_build *build = ctx->job->build;
    int timeout_s = (int)(scaled_ms(ctx, step_timeout_s(ctx, step)) / 1000);
    lg_deadline dl = lg_deadline_in_ms((int64_t)timeout_s * 1000);
    ctx->step = lg_step_kind_name(step->kind);
    if (!ctx->guest && step->kind != LG_STEP_WAIT_READY) {
        int rc = wait_ready(ctx, ctx->boot);
        if (rc < 0)
            return rc;
    }
    switch (step->kind) {
    case LG_STEP_WAIT_READY:
        return ctx->guest ? 0 : wait_ready(ctx, ctx->boot);
    case LG_STEP_INSTALL: {
        int rc = upload(ctx, build->dir, lg_os_build_dir(ctx->os), timeout_s, dl);
        if (rc < 0)
            return rc;
        LG_AUTOFREE char *cmd = lg_os_in_dir(ctx->os, lg_os_build_dir(ctx->os), build->install);
        LG_AUTOFREE char *what = lg_strdup_printf("install of build %s", build->id);
        rc = guest_command(ctx, cmd, what, timeout_s, dl);
        if (rc == 0) {
            pthread_mutex_lock(&ctx->hb_lock);
            ctx->agent_installed = true;
            pthread_mutex_unlock(&ctx->hb_lock);
        }
        return rc;
    }
    case LG_STEP_APPLY_CONTENT: {
        int rc = upload(ctx, ctx->job->content->dir, lg_os_content_dir(ctx->os), timeout_s, dl);
        if (rc < 0)
            return rc;
        LG_AUTOFREE char *hook = lg_strdup_printf("%s %s", build->content_hook, lg_os_content_dir(ctx->os));
        LG_AUTOFREE char *cmd = lg_os_in_dir(ctx->os, lg_os_build_dir(ctx->os), hook);
        LG_AUTOFREE char *what = lg_strdup_printf("content hook for %s", ctx->job->content->id);
        return guest_command(ctx, cmd, what, timeout_s, dl);
    }
    case LG_STEP_REBOOT:
        for (int i = 0; i < step->count; i++) {
            progress(ctx, "reboot %d/%d (boot %d)", i + 1, step->count, ctx->boot);
            int before = ctx->boot;
            hb_set_active(ctx, false);
            lg_monitor_expect_reboot(ctx->mon);
            /* The session dies with the guest; the command's own result
             * does not matter, only that the guest comes back. */
            /* qemu-ga would wait for the exit status of a command that
             * takes the agent down with it: there, reboot detached */
            lg_transport_exec(ctx->guest,
                              lg_os_reboot_command(ctx->os, strcmp(ctx->profile->transport, "qemu-ga") == 0),
                              NULL, 0, lg_deadline_in_ms(REBOOT_COMMAND_MS), NULL, NULL);
            int rc = wait_ready(ctx, before);
            if (rc < 0)
                return rc;
        }
        return 0;
    case LG_STEP_EXEC: {
        LG_AUTOFREE char *what = lg_strdup_printf("exec '%s'", step->command);
        return guest_command(ctx, step->command, what, timeout_s, dl);
    }
    case LG_STEP_FETCH:
        return fetch(ctx, step->command, timeout_s, dl);
    }
    return -EINVAL;
}

/* ------------------------------------------------------------------- the job */

static int check_guest_files(job_ctx *ctx)
{
    const char *files[] = { ctx->profile->disk, ctx->profile->kernel, ctx->profile->initrd };
    for (size_t i = 0; i < LG_N_ELEMENTS(files); i++) {
        if (!files[i])
            continue;
        if (!lg_is_file(files[i])) {
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                            "guest image %s is missing (build it: guests/linux/build-image.sh)", files[i]);
            return -ENOENT;
        }
        LG_AUTOFREE char *blocking = NULL;
        if (ctx->env->system_uri && !lg_path_world_readable(files[i], &blocking)) {
            lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                            "QEMU runs unprivileged under qemu:///system and cannot read %s (%s is not "
                            "world-readable/searchable); move the checkout or chmod o+rx it",
                            files[i], blocking ? blocking : files[i]);
            return -EACCES;
        }
    }
    if (ctx->profile->ssh_key && !lg_is_file(ctx->profile->ssh_key)) {
        lg_monitor_post(ctx->mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR,
                        "ssh key %s is missing (build it: guests/linux/build-image.sh)", ctx->profile->ssh_key);
        return -ENOENT;
    }
    return 0;
}

/* The screen and, on a crash when the policy asks, guest memory: taken while
 * the domain still exists (a panicked guest is kept paused for this). */
static void collect_artifacts(job_ctx *ctx, const char *job_dir, lg_job_result *result)
{
    lg_verdict verdict = lg_monitor_verdict(ctx->mon);
    if (!ctx->dom || verdict == LG_VERDICT_PASS || verdict == LG_VERDICT_INFRA_ERROR)
        return;
    LG_AUTOFREE char *stem = lg_strdup_printf("%s/screenshot", job_dir);
    LG_AUTOFREE char *shot = lg_domain_screenshot(ctx->dom, stem);
    if (shot)
        result->screenshot = lg_strdup_printf("jobs/%s/%s", ctx->job->id, strrchr(shot, '/') + 1);
    else
        LG_WARN("%s: no screenshot: %s", ctx->job->id, lg_error_msg());
    if (verdict != LG_VERDICT_CRASH || !ctx->policy->memory_dump_on_crash)
        return;
    progress(ctx, "saving guest memory dump");
    LG_AUTOFREE char *dump = lg_strdup_printf("%s/memory.kdump", job_dir);
    if (lg_domain_memory_dump(ctx->dom, dump) == 0)
        result->memory_dump = lg_strdup_printf("jobs/%s/memory.kdump", ctx->job->id);
    else
        LG_WARN("%s: no memory dump: %s", ctx->job->id, lg_error_msg());
}

/* libvirt's logs of the domain, once it is gone: into the job's results */
static void take_hypervisor_logs(job_ctx *ctx, const char *name, const char *job_dir, lg_job_result *result)
{
    const char *uri = lg_conn_uri(ctx->env->conn);
    static const struct { lg_hvlog_kind kind; const char *file; } logs[] = {
        { LG_HVLOG_QEMU, "qemu.log" },
        { LG_HVLOG_SWTPM, "swtpm.log" },
    };
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        LG_AUTOFREE char *dest = lg_strdup_printf("%s/%s", job_dir, logs[i].file);
        int rc = lg_hvlog_move(uri, name, logs[i].kind, dest);
        if (rc < 0) {
            LG_WARN("%s: %s", ctx->job->id, lg_error_msg());
            continue;
        }
        if (rc == 0)
            continue;
        char *rel = lg_strdup_printf("jobs/%s/%s", ctx->job->id, logs[i].file);
        if (logs[i].kind == LG_HVLOG_QEMU)
            result->qemu_log = rel;
        else
            result->swtpm_log = rel;
    }
}

size_t lg_job_artifacts(const lg_job_result *result, lg_artifact out[LG_JOB_ARTIFACT_KINDS])
{
    const lg_artifact all[LG_JOB_ARTIFACT_KINDS] = {
        { "console", "console log", result->console_log },
        { "screenshot", "screenshot", result->screenshot },
        { "memory-dump", "memory dump", result->memory_dump },
        { "qemu-log", "QEMU log", result->qemu_log },
        { "swtpm-log", "swtpm log", result->swtpm_log },
    };
    size_t n = 0;
    for (size_t i = 0; i < LG_JOB_ARTIFACT_KINDS; i++)
        if (all[i].path)
            out[n++] = all[i];
    return n;
}

void lg_job_result_clear(lg_job_result *result)
{
    lg_evidence_clear(&result->evidence);
    free(result->step);
    free(result->console_log);
    free(result->screenshot);
    free(result->memory_dump);
    free(result->qemu_log);
    free(result->swtpm_log);
    for (size_t i = 0; i < result->n_files; i++)
        free(result->files[i]);
    free(result->files);
    free(result->kept_domain);
    free(result->kept_overlay);
    memset(result, 0, sizeof(*result));
}

void lg_job_run(const lg_job_env *env, const lg_job *job, lg_job_result *result)
{
    int64_t start = lg_now_ms();
    memset(result, 0, sizeof(*result));
    job_ctx ctx = {
        .env = env, .job = job, .profile = job->guest->profile, .policy = &env->matrix->policy, .port = -1,
        .os = lg_os_from_name(job->guest->profile->os),
    };
    pthread_mutex_init(&ctx.hb_lock, NULL);
    lg_cond_init_monotonic(&ctx.hb_cond);

    LG_AUTOFREE char *job_dir = lg_strdup_printf("%s/jobs/%s", env->out_dir, job->id);
    LG_AUTOFREE char *console_path = lg_strdup_printf("%s/console.log", job_dir);
    LG_AUTOFREE char *name = lg_strdup_printf("labgate-%s-%s", env->run_id, job->id);
    LG_AUTOFREE char *overlay = lg_strdup_printf("%s/%s.qcow2", lg_overlay_dir(), name);
    bool overlay_made = false;
    result->console_log = lg_strdup_printf("jobs/%s/console.log", job->id);

    int rc = lg_mkdir_p(job_dir, 0755);
    if (rc == 0)
        rc = lg_monitor_new(console_path, (int)scaled_ms(&ctx, env->matrix->policy.crash_grace_s), &ctx.mon);
    if (rc < 0) {
        result->evidence = (lg_evidence){
            .verdict = LG_VERDICT_INFRA_ERROR, .signal = LG_SIGNAL_HYPERVISOR,
            .title = lg_strdup_printf("cannot create %s: %s", job_dir, strerror(-rc)),
            .panic_time_s = -1, .report_time_s = -1, .last_answer_s = -1,
        };
        goto out;
    }

    if (check_guest_files(&ctx) < 0)
        goto teardown;
    progress(&ctx, "creating overlay");
    if (lg_overlay_create(ctx.profile->disk, overlay) < 0) {
        lg_monitor_post(ctx.mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "%s", lg_error_msg());
        goto teardown;
    }
    overlay_made = true;

    lg_domain_handlers handlers = {
        .console = on_console, .lifecycle = on_lifecycle, .reboot = on_reboot, .watchdog = on_watchdog,
        .panic_details = on_panic_details, .opaque = &ctx,
    };
    /* The port may be taken by someone else between our probe and QEMU's
     * bind; a fresh port on a second attempt settles it. */
    for (int attempt = 0; attempt < 3 && !ctx.dom; attempt++) {
        if (ctx.port > 0)
            lg_port_release(ctx.port);
        ctx.port = lg_port_reserve();
        if (ctx.port < 0)
            break;
        LG_AUTOFREE char *run_lock = lg_run_lock_path(env->run_id);
        lg_domxml_params params = {
            .profile = ctx.profile, .name = name, .overlay_path = overlay, .ssh_host_port = ctx.port,
            .kvm = env->kvm, .strict = env->matrix->policy.strict, .run_id = env->run_id, .job_id = job->id,
            .run_lock = run_lock,
        };
        LG_AUTOFREE char *xml = lg_domxml_build(&params);
        progress(&ctx, "starting %s (ssh on 127.0.0.1:%d)", name, ctx.port);
        rc = xml ? lg_domain_launch(env->conn, xml, &handlers, &ctx.dom) : -ENOMEM;
        if (rc < 0)
            LG_DEBUG("%s: launch attempt %d failed: %s", job->id, attempt + 1, lg_error_msg());
        if (rc < 0 && !strstr(lg_error_msg(), "forward"))
            break;
    }
    if (!ctx.dom) {
        lg_monitor_post(ctx.mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "%s", lg_error_msg());
        goto teardown;
    }

    if (pthread_create(&ctx.hb_thread, NULL, heartbeat, &ctx) == 0)
        ctx.hb_started = true;

    for (size_t i = 0; i < job->scenario->n_steps && !cancelled(&ctx); i++) {
        const lg_step *step = &job->scenario->steps[i];
        progress(&ctx, "step %zu/%zu %s", i + 1, job->scenario->n_steps, lg_step_kind_name(step->kind));
        if (run_step(&ctx, step) < 0)
            break;
    }
    if (!lg_monitor_decided(ctx.mon)) {
        if (atomic_load(env->interrupted))
            lg_monitor_post(ctx.mon, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "interrupted (Ctrl-C)");
        else
            check_state(&ctx);
    }
    if (lg_monitor_decided(ctx.mon) && !atomic_load(env->interrupted)) {
        progress(&ctx, "collecting evidence");
        lg_monitor_wait_evidence(ctx.mon);
    }

    collect_artifacts(&ctx, job_dir, result);

teardown:
    if (ctx.hb_started) {
        pthread_mutex_lock(&ctx.hb_lock);
        ctx.hb_stop = true;
        pthread_cond_broadcast(&ctx.hb_cond);
        pthread_mutex_unlock(&ctx.hb_lock);
        pthread_join(ctx.hb_thread, NULL);
    }
    result->step = lg_monitor_decided(ctx.mon) && ctx.step ? strdup(ctx.step) : NULL;
    result->files = ctx.files;
    result->n_files = ctx.n_files;
    lg_transport_free(ctx.guest);
    lg_verdict verdict = lg_monitor_verdict(ctx.mon);
    if (env->keep_failed && ctx.dom && verdict != LG_VERDICT_PASS && verdict != LG_VERDICT_INFRA_ERROR) {
        /* for an engineer to attach to: `labgate gc` removes it once this
         * run's lock is gone */
        result->kept_domain = strdup(lg_domain_name(ctx.dom));
        result->kept_overlay = strdup(overlay);
        result->kept_port = ctx.port;
        lg_domain_release(ctx.dom);
        overlay_made = false;
    } else {
        lg_domain_free(ctx.dom); /* after this no event reaches the monitor */
        /* also when the domain never started: QEMU's or swtpm's log says why */
        take_hypervisor_logs(&ctx, name, job_dir, result);
    }
    if (overlay_made && lg_overlay_remove(overlay) < 0)
        LG_WARN("%s", lg_error_msg());
    if (ctx.port > 0)
        lg_port_release(ctx.port);
    lg_monitor_result(ctx.mon, &result->evidence);
    result->boots = lg_monitor_boot(ctx.mon);
    lg_monitor_free(ctx.mon);
out:
    result->duration_s = (double)(lg_now_ms() - start) / 1000.0;
    pthread_cond_destroy(&ctx.hb_cond);
    pthread_mutex_destroy(&ctx.hb_lock);
}
