#include "job.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/backoff.h"
#include "base/buf.h"
#include "base/clean.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/ports.h"
#include "base/statedir.h"
#include "base/util.h"
#include "guest/oscmd.h"
#include "freeze.h"
#include "heartbeat.h"
#include "leakcheck.h"
#include "netprobe.h"
#include "run/runlock.h"
#include "stress.h"
#include "virt/domxml.h"
#include "virt/pool.h"
#include "watch/monitor.h"
#include "watch/panicinfo.h"

LG_LOG_INIT("job");

#define ATTEMPT_MS 15000
#define REBOOT_COMMAND_MS 10000
/* a hard reset is one monitor command */
#define RESET_MS 30000
/* a cold boot's shutdown, before the guest is destroyed (KVM; TCG scales) */
#define COLD_BOOT_SHUTDOWN_S 30
/* one health check (KVM; TCG scales) */
#define HEALTH_CHECK_S 20
/* a daemon still starting as the boot reached ready gets this long before
 * the second try (KVM; TCG scales) */
#define HEALTH_RETRY_S 2
/* the health command's output in a title */
#define HEALTH_OUTPUT_MAX 240
/* A port taken between our probe and QEMU's bind: a fresh one settles it. */
#define LAUNCH_ATTEMPTS 3

typedef struct job_ctx {
    const lg_job_env *env;
    const lg_job *job;
    const lg_profile *profile;
    const lg_policy *policy;
    const lg_backend_ops *ops;
    lg_monitor *mon;
    lg_heartbeat *heartbeat;
    lg_freezer *freezer;  /* stops the guest at the decision (run/freeze.h) */
    lg_netprobe *netprobe; /* NULL: the profile turned the network probes off */
    lg_vm *vm;
    int port;
    bool port_reserved;   /* base/ports.h's (a backend without guest_port) */
    atomic_bool port_forwarded; /* the backend's (guest_port): released through it */
    int probe_host_port;  /* the guestfwd's port on the host, 0 none (probe_port) */
    lg_session *guest;    /* the steps' session */
    int boot;             /* boot number at the last ready */
    const char *step;     /* current step name */
    const lg_step *cur_step; /* the step running (or the last one run), NULL before the first */
    /* Counts for the failure-rate bound (model/bound.h): boots that reached
     * ready (boot_reached_ready, the one place that counts them), cycles of
     * repeats finished, and of those the count="auto" ones with the boots
     * reached during them. */
    int ready_boots;
    int cycles;
    int bound_cycles;
    int bound_boots;
    char **files;         /* fetched, relative to the results directory */
    size_t n_files;
    int64_t start_ms;
    /* since when the hypervisor connection is down (lg_now_ms), 0: up */
    _Atomic int64_t disconnected_ms;
    unsigned step_epoch;  /* the backend's connection epoch as the step began */
    size_t step_index;    /* the current step's place in the scenario */
    bool agent_installed; /* the build's health command applies */
    /* a cold boot is stopping the domain: its stop events are no failure */
    atomic_bool power_off_expected;
    int power_cut_ms;     /* when the power was cut into a content hook, -1 never */

    char *job_dir;
    char *name;           /* the domain's */
    char *overlay;        /* its path on the host */
    bool overlay_made;
    char *kernel_host;    /* the profile's kernel and initramfs where the host has them */
    char *initrd_host;
} job_ctx;

static void progress(job_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(job_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->env->progress)
        return;
    LG_AUTOBUF msg = LG_BUF_INIT;
    va_list ap;
    /* whatever a step of a repeat is doing, it is doing it in this cycle */
    if (ctx->cur_step && ctx->cur_step->cycles)
        lg_buf_printf(&msg, "cycle %d/%d: ", ctx->cur_step->cycle, ctx->cur_step->cycles);
    va_start(ap, fmt);
    lg_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    ctx->env->progress(ctx->env->progress_opaque, ctx->job, ctx->mon ? lg_monitor_boot(ctx->mon) : 0, msg.data);
}

/* Stop waiting on the guest: a verdict exists, the user pressed Ctrl-C, or
 * the hypervisor connection is gone for good (a dropped one is being opened
 * again meanwhile: the guest runs on, and ssh does not need libvirt). */
static bool cancelled(void *opaque)
{
    job_ctx *ctx = opaque;
    if (ctx->ops->lost(ctx->env->backend))
        lg_monitor_fail(ctx->mon, LG_FAIL_HYPERVISOR_LOST, ctx->ops->uri(ctx->env->backend));
    /* the guest's port rode on the remote host's SSH, which broke: its
     * silence is no guest's verdict */
    if (atomic_load(&ctx->port_forwarded) && ctx->ops->guest_port_lost &&
        ctx->ops->guest_port_lost(ctx->env->backend, ctx->port))
        lg_monitor_fail(ctx->mon, LG_FAIL_HOST_SSH_LOST, ctx->ops->uri(ctx->env->backend));
    return lg_monitor_decided(ctx->mon) || atomic_load(ctx->env->interrupted);
}

static lg_transport_target transport_target(job_ctx *ctx)
{
    const lg_profile *p = ctx->profile;
    return (lg_transport_target){
        .kind = p->transport, .os = p->os,
        .host = "127.0.0.1", .port = ctx->port, .user = p->ssh_user, .key_path = p->ssh_key,
        .host_key_path = p->ssh_host_key,
        .cancel = cancelled, .cancel_opaque = ctx,
    };
}

/* A timeout from the policy, which is written for KVM: software emulation
 * is several times slower at everything. */
static int64_t scaled_ms(job_ctx *ctx, int seconds)
{
    return (int64_t)seconds * 1000 * (ctx->env->kvm ? 1 : ctx->policy->tcg_scale);
}

/* ------------------------------------------------------- events from virt/ */

static void on_console(void *opaque, const char *data, size_t len)
{
    lg_monitor_console(((job_ctx *)opaque)->mon, data, len);
}

/* The event thread's only way in: typed events, turned into failures of the
 * table.  Nothing here needs the domain's handle. */
static void on_event(void *opaque, const lg_domain_event *ev)
{
    job_ctx *ctx = opaque;
    switch (ev->kind) {
    case LG_DOMAIN_EVENT_PANICKED:
        if (!ev->qemu_event) {
            lg_monitor_fail(ctx->mon, ev->crashloaded ? LG_FAIL_PANIC_CRASHLOADED : LG_FAIL_PANIC);
            break;
        }
        lg_monitor_panic_time(ctx->mon, ev->qemu_wall_us);
        if (ev->has_details) {
            /* the guest said why (Windows: the bugcheck) */
            LG_AUTOFREE char *title = lg_panic_info_title(&ev->details);
            LG_AUTOFREE char *params = lg_panic_info_describe(&ev->details);
            LG_INFO("%s: bugcheck %s", ctx->job->id, params);
            lg_monitor_fail(ctx->mon, LG_FAIL_BUGCHECK, title);
        }
        /* a Linux pvpanic: the lifecycle event and console tell the rest */
        break;
    case LG_DOMAIN_EVENT_STOPPED_FAILED:
        lg_monitor_fail(ctx->mon, LG_FAIL_QEMU_FAILED, ev->domain);
        break;
    case LG_DOMAIN_EVENT_POWERED_OFF:
        if (atomic_load(&ctx->power_off_expected))
            break; /* a cold boot's shutdown */
        lg_monitor_fail(ctx->mon, LG_FAIL_POWERED_OFF);
        break;
    case LG_DOMAIN_EVENT_STOPPED:
        if (atomic_load(&ctx->power_off_expected))
            break; /* a cold boot's destroy */
        lg_monitor_fail(ctx->mon, LG_FAIL_STOPPED_OUTSIDE);
        break;
    case LG_DOMAIN_EVENT_REBOOTED:
        lg_monitor_reset_event(ctx->mon);
        break;
    case LG_DOMAIN_EVENT_WATCHDOG:
        lg_monitor_fail(ctx->mon, LG_FAIL_WATCHDOG, ev->watchdog_action);
        break;
    case LG_DOMAIN_EVENT_CONNECTION_LOST: {
        if (ev->final) {
            lg_monitor_fail(ctx->mon, LG_FAIL_HYPERVISOR_LOST, ctx->ops->uri(ctx->env->backend));
            break;
        }
        int64_t none = 0;
        if (atomic_compare_exchange_strong(&ctx->disconnected_ms, &none, lg_now_ms()))
            LG_WARN("%s: lost the connection to libvirt (%s): connecting again", ctx->job->id,
                    ctx->ops->uri(ctx->env->backend));
        break;
    }
    case LG_DOMAIN_EVENT_RECONNECTED: {
        atomic_store(&ctx->disconnected_ms, 0);
        double gap_s = (double)ev->gap_ms / 1000.0;
        /* as loud as the drop was: the run did not go as planned */
        LG_WARN("%s: hypervisor connection lost for %.1f s, reattached", ctx->job->id, gap_s);
        lg_monitor_note(ctx->mon, LG_SIGNAL_HYPERVISOR, "hypervisor connection lost for %.0f s, reattached",
                        gap_s < 1 ? 1 : gap_s);
        break;
    }
    case LG_DOMAIN_EVENT_MAX:
        break;
    }
}

/* Backstop for a missed panic event. */
static void check_state(job_ctx *ctx)
{
    bool crashed = false;
    if (ctx->vm && ctx->ops->vm_crashed(ctx->vm, &crashed) == 0 && crashed)
        lg_monitor_fail(ctx->mon, LG_FAIL_CRASHED_STATE);
}

static void drop_session(job_ctx *ctx)
{
    if (ctx->guest)
        ctx->ops->session_free(ctx->guest);
    ctx->guest = NULL;
}

/* --------------------------------------------------------------------- steps */

/* A transport call failed during a step.  A crash usually explains it and is
 * reported within moments, so give the monitor the grace time first. */
static int transport_failed(job_ctx *ctx, int rc, int timeout_s)
{
    if (rc == -ECANCELED || cancelled(ctx))
        return -ECANCELED;
    if (ctx->profile->transport == LG_TRANSPORT_QGA && ctx->ops->epoch(ctx->env->backend) != ctx->step_epoch) {
        /* qemu-ga goes through libvirt: the daemon went away under the
         * step, not the guest */
        lg_monitor_fail(ctx->mon, LG_FAIL_HYPERVISOR_LOST, ctx->ops->uri(ctx->env->backend));
        return rc;
    }
    LG_AUTOFREE char *why = lg_strdup(lg_error_msg());
    check_state(ctx);
    if (lg_monitor_wait(ctx->mon, scaled_ms(ctx, ctx->policy->crash_grace_s)))
        return -ECANCELED;
    /* alive, but its network carries nothing: not a hang */
    if (ctx->netprobe && lg_netprobe_explain_silence(ctx->netprobe, false))
        return rc;
    if (rc == -ETIMEDOUT)
        lg_monitor_fail(ctx->mon, LG_FAIL_STEP_DEADLINE, ctx->step, timeout_s);
    else
        lg_monitor_fail(ctx->mon, LG_FAIL_CONTACT_LOST, ctx->step, why);
    return rc;
}

/* Parses the boot counter's answer: a positive number and nothing else but
 * blanks; 0 when it is not one. */
static int parse_boot_count(const char *text)
{
    int n = 0;
    return text && lg_parse_int(text, &n) == 0 && n > 0 ? n : 0;
}

/* A boot reached ready: every boot a step causes (reboot, or any other way
 * of restarting the guest) ends in wait_ready, which calls this, so each is
 * counted once whatever the step. */
static void boot_reached_ready(job_ctx *ctx)
{
    ctx->ready_boots++;
    if (ctx->cur_step && ctx->cur_step->auto_cycles)
        ctx->bound_boots++;
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
    int64_t boot_start_ms = lg_now_ms();
    lg_transport_target target = transport_target(ctx);
    drop_session(ctx);
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
        lg_session *guest = NULL;
        int rc = ctx->ops->connect(ctx->env->backend, ctx->vm, &target, attempt, &guest);
        if (rc == -EACCES) {
            lg_monitor_fail(ctx->mon, LG_FAIL_KEY_REFUSED, ctx->profile->ssh_key, lg_error_msg());
            return rc;
        }
        if (rc == -EKEYREJECTED) {
            /* another image than the profile's, or not our guest at all */
            lg_monitor_fail(ctx->mon, LG_FAIL_HOST_KEY_MISMATCH, lg_error_msg());
            return rc;
        }
        if (rc == 0) {
            LG_AUTOBUF out = LG_BUF_INIT;
            int status = -1;
            rc = ctx->ops->exec(guest, ctx->profile->boot_count_command, NULL, 0, attempt, &out, &status);
            int boot = rc == 0 && status == 0 ? parse_boot_count(out.data) : 0;
            if (boot > after_boot) {
                LG_DEBUG("%s: ready in boot %d", ctx->job->id, boot);
                ctx->guest = guest;
                ctx->boot = boot;
                boot_reached_ready(ctx);
                lg_monitor_ready(ctx->mon, boot);
                lg_heartbeat_set_ready(ctx->heartbeat, true);
                /* A network still coming up is pending, not down, within
                 * the boot timeout.  The first round is the heartbeat
                 * thread's (due at once): run here it cost every boot a
                 * guest command and two connections on the job's path. */
                if (ctx->netprobe)
                    lg_netprobe_boot(ctx->netprobe, boot_start_ms);
                return 0;
            }
            ctx->ops->session_free(guest);
        }
        if (wait_line)
            continue; /* a backstop attempt: back to the console */
        int64_t pause = lg_backoff_next(&poll);
        lg_sleep_ms(lg_deadline_left_ms(dl) < pause ? lg_deadline_left_ms(dl) : pause);
    }
    if (cancelled(ctx))
        return -ECANCELED;
    /* it said it was ready and lives, but ssh never got through */
    if (ctx->netprobe && lg_netprobe_explain_silence(ctx->netprobe, true))
        return -ENETUNREACH;
    lg_monitor_fail(ctx->mon, LG_FAIL_NOT_READY, timeout_s, after_boot + 1);
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
        /* a builder refused an argument the guest's shell cannot carry */
        LG_AUTOFREE char *why = lg_strdup_printf("%s: the command cannot be given to the guest's shell safely", what);
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, why);
        return -EINVAL;
    }
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int rc = ctx->ops->exec(ctx->guest, command, NULL, 0, dl, &out, &status);
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: %s exited %d: %s", ctx->job->id, what, status, out.data ? out.data : "");
    if (status != 0) {
        /* the last line of output usually says why */
        const char *why = lg_buf_last_line(&out);
        lg_monitor_fail(ctx->mon, LG_FAIL_COMMAND_FAILED, what, status, *why ? ": " : "", why);
        return -EIO;
    }
    return 0;
}

/* what: "build X" or "content Y", for the title of a refusal */
static int upload(job_ctx *ctx, const char *what, const char *local, const char *remote, int timeout_s,
                  lg_deadline dl)
{
    int rc = ctx->ops->upload_dir(ctx->guest, local, remote, dl);
    if (rc == -EPERM && !cancelled(ctx)) {
        /* a link out of the tree, a fifo, a loop: refused before anything
         * reached the guest */
        lg_monitor_fail(ctx->mon, LG_FAIL_UPLOAD_REFUSED, what, lg_error_msg());
        return rc;
    }
    if (rc == -EIO && !cancelled(ctx)) {
        /* a local file labgate could not read: the harness's failure */
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, lg_error_msg());
        return rc;
    }
    return rc < 0 ? transport_failed(ctx, rc, timeout_s) : 0;
}

static int fetch(job_ctx *ctx, const char *path, int timeout_s, lg_deadline dl)
{
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        LG_AUTOFREE char *why = lg_strdup_printf("fetch: '%s' names no file", path);
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, why);
        return -EINVAL;
    }
    LG_AUTOFREE char *rel = lg_strdup_printf("jobs/%s/files/%s", ctx->job->id, base);
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/jobs/%s/files", ctx->env->out_dir, ctx->job->id);
    LG_AUTOFREE char *local = lg_strdup_printf("%s/%s", ctx->env->out_dir, rel);
    uint64_t size = 0;
    int rc = lg_mkdir_p(dir, 0755);
    /* The policy's cap, and never more than the results' file system can
     * take (less a reserve; the transports check again as they write).  A
     * guest file bigger than that (a log gone wild, /dev/zero) ends the
     * job at the cap, not at the step deadline. */
    int max_mib = ctx->policy->fetch_max_mib > 0 ? ctx->policy->fetch_max_mib : LG_FETCH_MAX_MIB_DEFAULT;
    uint64_t cap = (uint64_t)max_mib << 20, room = 0;
    bool cap_is_room = false;
    if (rc == 0 && lg_fs_room(dir, &room) == 0 && room < cap) {
        cap = room;
        cap_is_room = true;
    }
    if (rc == 0 && cap == 0) {
        LG_AUTOFREE char *why = lg_strdup_printf("fetch %s: the results file system %s has less than %llu MiB free",
                                                 path, ctx->env->out_dir,
                                                 (unsigned long long)(LG_FS_RESERVE_BYTES >> 20));
        lg_monitor_fail(ctx->mon, LG_FAIL_OUT_OF_RESOURCES, why);
        return -ENOSPC;
    }
    if (rc == 0)
        rc = ctx->ops->fetch_file(ctx->guest, path, local, cap, dl, &size);
    if (rc == -ENOTSUP || rc == -EINVAL || rc == -EIO) {
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, lg_error_msg());
        return rc;
    }
    if (rc == -ENOSPC) {
        LG_AUTOFREE char *why = lg_strdup_printf("fetch %s: %s", path, lg_error_msg());
        lg_monitor_fail(ctx->mon, LG_FAIL_OUT_OF_RESOURCES, why);
        return rc;
    }
    if (rc == -EFBIG) {
        LG_AUTOFREE char *why = lg_strdup_printf("file too large (over %llu MiB%s)", (unsigned long long)(cap >> 20),
                                                 cap_is_room ? ", the room left on the results file system" : "");
        lg_monitor_fail(ctx->mon, LG_FAIL_FETCH_MISSING, path, why);
        return rc;
    }
    /* the guest lives but the file is not there, or it kept sending past
     * the deadline: the scenario expected something the agent did not
     * produce (a guest that kept answering is not a hang) */
    if (rc == -ENOENT || rc == -ETIME) {
        lg_monitor_fail(ctx->mon, LG_FAIL_FETCH_MISSING, path, lg_error_msg());
        return rc;
    }
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: fetched %s (%llu bytes)", ctx->job->id, path, (unsigned long long)size);
    ctx->files = lg_realloc_n(ctx->files, ctx->n_files + 1, sizeof(*ctx->files));
    ctx->files[ctx->n_files++] = LG_STEAL(rel);
    return 0;
}

static int back_ready(job_ctx *ctx, int before, const char *after);

static int reboot(job_ctx *ctx, int count)
{
    lg_os os = ctx->profile->os;
    /* qemu-ga would wait for the exit status of a command that takes the
     * agent down with it: there, the reboot is detached */
    const char *command =
        lg_os_reboot_command(os, lg_transport_kind_info_of(ctx->profile->transport)->reboot_detached);
    for (int i = 0; i < count; i++) {
        progress(ctx, "reboot %d/%d (boot %d)", i + 1, count, ctx->boot);
        int before = ctx->boot;
        lg_heartbeat_set_ready(ctx->heartbeat, false);
        lg_monitor_expect_reboot(ctx->mon);
        /* The session dies with the guest; the command's own result does
         * not matter, only that the guest comes back. */
        ctx->ops->exec(ctx->guest, command, NULL, 0, lg_deadline_in_ms(REBOOT_COMMAND_MS), NULL, NULL);
        LG_AUTOFREE char *after = lg_strdup_printf("reboot %d/%d", i + 1, count);
        int rc = back_ready(ctx, before, after);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* <policy driver-verifier> on a Windows guest, after the install: Driver
 * Verifier for the build's drivers, the reboot it takes effect at, and its
 * settings confirmed (verifier /querysettings) before any content comes.
 * verifier.exe's own exit status is not trusted either way (it asks for the
 * reboot); the settings after the reboot are.  Not confirmed: the table's
 * COMMAND_FAILED (AGENT_FAILURE), saying what is missing. */
static int driver_verifier(job_ctx *ctx, int timeout_s)
{
    const lg_build *build = ctx->job->build;
    lg_driver_verifier mode = ctx->policy->driver_verifier;
    LG_AUTOFREE char *what = lg_strdup_printf("Driver Verifier (%s) for build %s", lg_driver_verifier_name(mode),
                                              build->id);
    LG_AUTOFREE char *cmd = lg_win_verifier_command(mode, build->drivers, build->n_drivers);
    if (!cmd)
        return guest_command(ctx, NULL, what, timeout_s, lg_deadline_in_ms((int64_t)timeout_s * 1000));
    progress(ctx, "%s: %zu driver(s)", what, build->n_drivers);
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int rc = ctx->ops->exec(ctx->guest, cmd, NULL, 0, lg_deadline_in_ms((int64_t)timeout_s * 1000), &out, &status);
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: %s exited %d: %s", ctx->job->id, cmd, status, out.data ? out.data : "");
    if ((rc = reboot(ctx, 1)) < 0)
        return rc;
    lg_buf_clear(&out);
    rc = ctx->ops->exec(ctx->guest, LG_WIN_VERIFIER_QUERY_COMMAND, NULL, 0,
                        lg_deadline_in_ms((int64_t)timeout_s * 1000), &out, &status);
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    lg_win_verifier_settings settings;
    LG_AUTOFREE char *problem = NULL;
    if (lg_win_verifier_settings_parse(out.data, &settings) < 0) {
        /* from the guest: one line, bounded, no control bytes */
        const char *last = lg_buf_last_line(&out);
        LG_AUTOFREE char *bounded = lg_strndup(last, strlen(last) > HEALTH_OUTPUT_MAX ? HEALTH_OUTPUT_MAX : strlen(last));
        LG_AUTOFREE char *clean = lg_clean_term(bounded);
        problem = lg_strdup_printf("no settings in its answer: %s", *clean ? clean : "no output");
    } else {
        problem = lg_win_verifier_problem(&settings, mode, build->drivers, build->n_drivers);
        lg_win_verifier_settings_clear(&settings);
    }
    if (problem) {
        lg_monitor_fail(ctx->mon, LG_FAIL_COMMAND_FAILED, what, status, ": ", problem);
        return -EIO;
    }
    progress(ctx, "%s: on (boot %d)", what, ctx->boot);
    return 0;
}

/* The build's health command, once the agent is installed: after every
 * boot that reached ready and before the job can pass.  A failure twice in
 * a row (a daemon still starting gets a second chance) is the table's
 * HEALTH_FAILED (AGENT_FAILURE) with the command's last line; after: what
 * came before, for the title ("reboot 2/3", "cold-boot"). */
static int check_agent_health(job_ctx *ctx, const char *after)
{
    const lg_build *build = ctx->job->build;
    if (!build->health || !ctx->agent_installed)
        return 0;
    if (!ctx->guest) {
        int rc = wait_ready(ctx, ctx->boot - 1);
        if (rc < 0)
            return rc;
    }
    lg_os os = ctx->profile->os;
    LG_AUTOFREE char *cmd = lg_os_in_dir(os, lg_os_build_dir(os), build->health);
    int timeout_s = (int)(scaled_ms(ctx, HEALTH_CHECK_S) / 1000);
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt) {
            if (lg_monitor_wait(ctx->mon, scaled_ms(ctx, HEALTH_RETRY_S)) || cancelled(ctx))
                return -ECANCELED;
        }
        progress(ctx, "agent health after %s", after);
        lg_buf_clear(&out);
        int rc = ctx->ops->exec(ctx->guest, cmd, NULL, 0, lg_deadline_in_ms((int64_t)timeout_s * 1000), &out,
                                &status);
        if (rc < 0)
            return transport_failed(ctx, rc, timeout_s);
        LG_DEBUG("%s: health after %s: exit %d: %s", ctx->job->id, after, status, out.data ? out.data : "");
        if (status == 0)
            return 0;
    }
    /* from the guest: one line, bounded, no control bytes */
    const char *last = lg_buf_last_line(&out);
    size_t len = strlen(last);
    LG_AUTOFREE char *bounded = lg_strndup(last, len > HEALTH_OUTPUT_MAX ? HEALTH_OUTPUT_MAX : len);
    LG_AUTOFREE char *clean = lg_clean_term(bounded);
    LG_AUTOFREE char *why = lg_strdup_printf("after %s (boot %d): %s", after, ctx->boot, *clean ? clean : "no output");
    lg_monitor_fail(ctx->mon, LG_FAIL_HEALTH_FAILED, status, why);
    return -EIO;
}

/* The guest was reset or started again: ready in a later boot, then the
 * agent's health. */
static int back_ready(job_ctx *ctx, int before, const char *after)
{
    int rc = wait_ready(ctx, before);
    if (rc == 0)
        atomic_store(&ctx->power_off_expected, false);
    return rc < 0 ? rc : check_agent_health(ctx, after);
}

/* A hard reset: no shutdown, whatever the guest had not written is lost. */
static int hard_reset(job_ctx *ctx, const char *what)
{
    lg_heartbeat_set_ready(ctx->heartbeat, false);
    drop_session(ctx);
    lg_monitor_expect_reboot(ctx->mon);
    int rc = ctx->ops->reset(ctx->vm, RESET_MS);
    if (rc < 0 && !cancelled(ctx)) {
        LG_AUTOFREE char *why = lg_strdup_printf("%s: %s", what, lg_error_msg());
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, why);
    }
    return rc;
}

static int power_cycle(job_ctx *ctx)
{
    int before = ctx->boot;
    progress(ctx, "power-cycle (hard reset, boot %d)", before);
    int rc = hard_reset(ctx, "power-cycle");
    return rc < 0 ? rc : back_ready(ctx, before, "power-cycle");
}

/* Shut down (the OS asked, then ACPI; destroyed past the deadline), then
 * the same domain started again from its firmware. */
/* A new QEMU (the cold boot's start from the firmware) picked a new
 * forwarded port: read it back, and point the steps, the heartbeat and the
 * network probes at it.  A reserved port (a backend without guest_port) is
 * in the domain XML and stays. */
static int forward_port_again(job_ctx *ctx)
{
    if (!atomic_load(&ctx->port_forwarded) || !ctx->ops->guest_port)
        return 0;
    int guest = lg_domxml_forwarded_port(ctx->profile);
    int port = -1;
    int rc = ctx->ops->guest_port(ctx->env->backend, ctx->vm, guest, scaled_ms(ctx, LG_NETPROBE_TIMEOUT_S), &port);
    if (rc < 0) {
        LG_AUTOFREE char *why = lg_strdup(lg_error_msg());
        lg_error_set("the guest's forwarded port %d after the start: %s", guest, why);
        return rc;
    }
    if (port != ctx->port) {
        if (ctx->ops->guest_port_release)
            ctx->ops->guest_port_release(ctx->env->backend, ctx->port);
        ctx->port = port;
        progress(ctx, "%s: ssh on 127.0.0.1:%d", ctx->name, ctx->port);
    }
    lg_heartbeat_set_port(ctx->heartbeat, ctx->port);
    if (ctx->netprobe)
        lg_netprobe_attach(ctx->netprobe, ctx->vm, ctx->port);
    return 0;
}

static int cold_boot(job_ctx *ctx)
{
    int before = ctx->boot;
    int64_t graceful_ms = scaled_ms(ctx, COLD_BOOT_SHUTDOWN_S);
    progress(ctx, "cold-boot: shutting down (boot %d)", before);
    lg_heartbeat_set_ready(ctx->heartbeat, false);
    atomic_store(&ctx->power_off_expected, true);
    const char *command =
        lg_os_poweroff_command(ctx->profile->os, lg_transport_kind_info_of(ctx->profile->transport)->reboot_detached);
    /* the session dies with the guest: only whether it stops matters */
    ctx->ops->exec(ctx->guest, command, NULL, 0, lg_deadline_in_ms(REBOOT_COMMAND_MS), NULL, NULL);
    drop_session(ctx);
    bool graceful = false;
    int rc = ctx->ops->power_off(ctx->vm, graceful_ms, &graceful);
    if (rc == 0) {
        if (!graceful)
            LG_INFO("%s: cold-boot: the guest did not stop within %lld s: destroyed", ctx->job->id,
                    (long long)graceful_ms / 1000);
        progress(ctx, "cold-boot: starting from the firmware");
        rc = ctx->ops->power_on(ctx->vm);
        if (rc == 0)
            rc = forward_port_again(ctx);
    }
    if (rc < 0) {
        if (!cancelled(ctx)) {
            LG_AUTOFREE char *why = lg_strdup_printf("cold-boot: %s", lg_error_msg());
            lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, why);
        }
        return rc;
    }
    return back_ready(ctx, before, "cold-boot");
}

/* The job's content uploaded, then the build's content hook count times,
 * or once with the power cut cut_ms into it (cut_ms < 0: no cut). */
static int apply_content(job_ctx *ctx, int count, int cut_ms, int timeout_s)
{
    const lg_build *build = ctx->job->build;
    lg_os os = ctx->profile->os;
    lg_deadline dl = lg_deadline_in_ms((int64_t)timeout_s * 1000);
    LG_AUTOFREE char *input = lg_strdup_printf("content %s", ctx->job->content->id);
    int rc = upload(ctx, input, ctx->job->content->dir, lg_os_content_dir(os), timeout_s, dl);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *hook = lg_strdup_printf("%s %s", build->content_hook, lg_os_content_dir(os));
    LG_AUTOFREE char *cmd = lg_os_in_dir(os, lg_os_build_dir(os), hook);
    LG_AUTOFREE char *what = lg_strdup_printf("content hook for %s", ctx->job->content->id);
    if (cut_ms < 0) {
        for (int i = 0; i < count && rc == 0; i++) {
            if (count > 1) {
                progress(ctx, "content reload %d/%d", i + 1, count);
                dl = lg_deadline_in_ms((int64_t)timeout_s * 1000);
            }
            rc = guest_command(ctx, cmd, what, timeout_s, dl);
        }
        return rc;
    }
    /* the power goes at cut_ms, whether the hook is done or not */
    ctx->power_cut_ms = cut_ms;
    progress(ctx, "content hook, power cut at %d ms", cut_ms);
    int before = ctx->boot;
    int64_t start = lg_now_ms();
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    rc = ctx->ops->exec(ctx->guest, cmd, NULL, 0, lg_deadline_in_ms(cut_ms), &out, &status);
    if (rc == 0 && status != 0) {
        /* it failed before the power went */
        const char *why = lg_buf_last_line(&out);
        lg_monitor_fail(ctx->mon, LG_FAIL_COMMAND_FAILED, what, status, *why ? ": " : "", why);
        return -EIO;
    }
    if (rc < 0 && rc != -ETIMEDOUT)
        return transport_failed(ctx, rc, timeout_s);
    int64_t left = start + cut_ms - lg_now_ms();
    if (left > 0 && lg_monitor_wait(ctx->mon, left))
        return -ECANCELED;
    if (cancelled(ctx))
        return -ECANCELED;
    LG_INFO("%s: power cut %d ms into the content hook (%s)", ctx->job->id, cut_ms,
            rc == 0 ? "it had finished" : "it was running");
    lg_monitor_note(ctx->mon, LG_SIGNAL_REBOOT, "power cut %d ms into the content hook", cut_ms);
    rc = hard_reset(ctx, "power cut");
    return rc < 0 ? rc : back_ready(ctx, before, "the power cut");
}

/* <stress>: the load runs in the guest over the step's session while the
 * monitor (console, events) and the heartbeat (its own session) keep
 * watching; a crash or hang meanwhile cancels the command.  Then the
 * agent's health. */
static int stress(job_ctx *ctx, const lg_step *step)
{
    lg_os os = ctx->profile->os;
    const char *kind = lg_stress_kind_name(step->stress_kind);
    int64_t deadline_ms = lg_stress_deadline_ms(step->stress_seconds, scaled_ms(ctx, LG_STRESS_MARGIN_S));
    int timeout_s = (int)(deadline_ms / 1000);
    lg_deadline dl = lg_deadline_in_ms(deadline_ms);
    LG_AUTOFREE char *cmd = lg_os_stress_command(os, step->stress_kind, step->stress_seconds, step->stress_workers);
    LG_AUTOFREE char *what = lg_strdup_printf("stress %s", kind);
    int64_t until_ms = lg_now_ms() + (int64_t)lg_stress_run_seconds(step->stress_seconds) * 1000;
    if (ctx->env->progress_until)
        ctx->env->progress_until(ctx->env->progress_opaque, ctx->job, lg_monitor_boot(ctx->mon), what, until_ms);
    else
        progress(ctx, "%s %d s", what, step->stress_seconds);
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int64_t started_ms = lg_now_ms();
    int rc = ctx->ops->exec(ctx->guest, cmd, NULL, 0, dl, &out, &status);
    if (rc < 0)
        return transport_failed(ctx, rc, timeout_s);
    LG_DEBUG("%s: %s exited %d after %.1f s: %s", ctx->job->id, what, status,
             (double)(lg_now_ms() - started_ms) / 1000.0, out.data ? out.data : "");
    if (status != 0) {
        lg_monitor_fail(ctx->mon, lg_stress_unavailable(status) ? LG_FAIL_STRESS_UNAVAILABLE : LG_FAIL_STRESS_FAILED,
                        kind, status, lg_stress_why(&out));
        return -EIO;
    }
    progress(ctx, "health check after %s", what);
    return check_agent_health(ctx, what);
}

static int run_step(job_ctx *ctx, const lg_step *step)
{
    const lg_build *build = ctx->job->build;
    lg_os os = ctx->profile->os;
    int timeout_s = (int)(scaled_ms(ctx, step_timeout_s(ctx, step)) / 1000);
    lg_deadline dl = lg_deadline_in_ms((int64_t)timeout_s * 1000);
    ctx->step = lg_step_kind_name(step->kind);
    ctx->step_epoch = ctx->ops->epoch(ctx->env->backend);
    if (!ctx->guest) {
        int rc = wait_ready(ctx, ctx->boot);
        if (rc < 0 || step->kind == LG_STEP_WAIT_READY)
            return rc;
    }
    if (lg_step_puts_candidate(step->kind))
        lg_monitor_candidate_pending(ctx->mon, false);
    switch (step->kind) {
    case LG_STEP_WAIT_READY:
        return 0;
    case LG_STEP_INSTALL: {
        LG_AUTOFREE char *input = lg_strdup_printf("build %s", build->id);
        int rc = upload(ctx, input, build->dir, lg_os_build_dir(os), timeout_s, dl);
        if (rc < 0)
            return rc;
        LG_AUTOFREE char *cmd = lg_os_in_dir(os, lg_os_build_dir(os), build->install);
        LG_AUTOFREE char *what = lg_strdup_printf("install of build %s", build->id);
        rc = guest_command(ctx, cmd, what, timeout_s, dl);
        if (rc == 0) {
            lg_heartbeat_agent_installed(ctx->heartbeat);
            ctx->agent_installed = true;
        }
        if (rc == 0 && ctx->policy->driver_verifier != LG_VERIFIER_NONE && os == LG_OS_WINDOWS)
            rc = driver_verifier(ctx, timeout_s);
        return rc;
    }
    case LG_STEP_APPLY_CONTENT:
        return apply_content(ctx, 1,
                             step->cut_power_within_ms > 0
                                 ? lg_plan_cut_ms(ctx->job, ctx->step_index, step->cut_power_within_ms) : -1,
                             timeout_s);
    case LG_STEP_CONTENT_RELOAD:
        return apply_content(ctx, step->count, -1, timeout_s);
    case LG_STEP_POWER_CYCLE:
        return power_cycle(ctx);
    case LG_STEP_COLD_BOOT:
        return cold_boot(ctx);
    case LG_STEP_REBOOT:
        return reboot(ctx, step->count);
    case LG_STEP_EXEC: {
        LG_AUTOFREE char *what = lg_strdup_printf("exec '%s'", step->command);
        return guest_command(ctx, step->command, what, timeout_s, dl);
    }
    case LG_STEP_FETCH:
        return fetch(ctx, step->command, timeout_s, dl);
    case LG_STEP_STRESS:
        return stress(ctx, step);
    }
    return -EINVAL;
}

/* ------------------------------------------------------------------ phases */

static int check_image(job_ctx *ctx, const char *path, const char *what)
{
    if (!path)
        return 0;
    LG_AUTOFREE char *blocking = NULL;
    int rc = ctx->ops->image_check(ctx->env->backend, path, &blocking);
    if (rc == -ENOENT) {
        LG_AUTOFREE char *subject = lg_strdup_printf("%s %s", what, path);
        lg_monitor_fail(ctx->mon, LG_FAIL_IMAGE_MISSING, subject, "build it: guests/linux/build-image.sh");
    } else if (rc == -EACCES) {
        lg_monitor_fail(ctx->mon, LG_FAIL_IMAGE_UNREADABLE, path, blocking ? blocking : path);
    } else if (rc < 0) {
        lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, lg_error_msg());
    }
    return rc;
}

static void on_upload(void *opaque, const char *image, uint64_t done, uint64_t total)
{
    job_ctx *ctx = opaque;
    progress(ctx, "uploading %s to %s: %llu MiB of %llu", image, ctx->ops->uri(ctx->env->backend),
             (unsigned long long)(done >> 20), (unsigned long long)((total + (1u << 20) - 1) >> 20));
}

/* The profile's disk, kernel and initramfs where the host's QEMU reads
 * them (uploaded into its pool by the first job that needs them). */
static int stage_images(job_ctx *ctx)
{
    const lg_profile *p = ctx->profile;
    const char *images[] = { p->disk, p->kernel, p->initrd };
    LG_AUTOFREE char *disk_host = NULL;
    char **host[] = { &disk_host, &ctx->kernel_host, &ctx->initrd_host };
    for (size_t i = 0; i < LG_N_ELEMENTS(images); i++) {
        if (!images[i])
            continue;
        int rc = ctx->ops->image_stage(ctx->env->backend, images[i], ctx->env->run_id, on_upload, ctx, host[i]);
        if (rc < 0) {
            lg_monitor_fail(ctx->mon, LG_FAIL_IMAGE_STAGE, images[i], ctx->ops->uri(ctx->env->backend),
                            lg_error_msg());
            return rc;
        }
    }
    return 0;
}

/* The job's directory, its monitor, the guest's files checked and staged
 * on the host, and the overlay disk. */
static int prepare(job_ctx *ctx)
{
    const lg_job_env *env = ctx->env;
    ctx->job_dir = lg_strdup_printf("%s/jobs/%s", env->out_dir, ctx->job->id);
    ctx->name = lg_strdup_printf("labgate-%s-%s", env->run_id, ctx->job->id);
    LG_AUTOFREE char *console_path = lg_strdup_printf("%s/console.log", ctx->job_dir);
    int grace_ms = (int)scaled_ms(ctx, ctx->policy->crash_grace_s);

    int rc = lg_mkdir_p(ctx->job_dir, 0755);
    if (rc == 0)
        rc = lg_monitor_new(console_path, grace_ms, &ctx->mon);
    if (rc == 0)
        lg_monitor_set_agent_processes(ctx->mon, ctx->job->build->processes, ctx->job->build->n_processes);
    if (rc < 0) {
        /* a monitor without a console log, to carry the failure */
        if (!ctx->mon && lg_monitor_new(NULL, grace_ms, &ctx->mon) < 0)
            abort();
        LG_AUTOFREE char *why = lg_strdup_printf("cannot create %s: %s", ctx->job_dir, strerror(-rc));
        lg_monitor_fail(ctx->mon, LG_FAIL_OUT_OF_RESOURCES, why);
        return rc;
    }
    lg_monitor_candidate_pending(ctx->mon, lg_scenario_puts_candidate(ctx->job->scenario));
    lg_monitor_set_warnings_report(ctx->mon, ctx->policy->warnings_report && !ctx->policy->strict);

    const lg_profile *p = ctx->profile;
    if ((rc = check_image(ctx, p->disk, "guest image")) < 0 || (rc = check_image(ctx, p->kernel, "guest image")) < 0 ||
        (rc = check_image(ctx, p->initrd, "guest image")) < 0)
        return rc;
    if (p->ssh_key && ctx->ops->image_check(env->backend, p->ssh_key, NULL) == -ENOENT) {
        LG_AUTOFREE char *subject = lg_strdup_printf("ssh key %s", p->ssh_key);
        lg_monitor_fail(ctx->mon, LG_FAIL_IMAGE_MISSING, subject, "build it: guests/linux/build-image.sh");
        return -ENOENT;
    }

    if ((rc = stage_images(ctx)) < 0)
        return rc;
    progress(ctx, "creating overlay");
    LG_AUTOFREE char *overlay_name = lg_volume_overlay_name(env->run_id, ctx->job->id);
    rc = ctx->ops->overlay_create(env->backend, p->disk, overlay_name, &ctx->overlay);
    if (rc < 0) {
        lg_monitor_fail(ctx->mon, LG_FAIL_LAUNCH, lg_error_msg());
        return rc;
    }
    ctx->overlay_made = true;
    return 0;
}

/* The hypervisor connection is down (libvirtd restarting): a launch, the
 * evidence and the teardown need it, so wait for it to come back (the
 * connection gives up on its own deadline; this one is a backstop).
 * -ECONNRESET when it did not (decided: HYPERVISOR_LOST). */
static int wait_hypervisor(job_ctx *ctx)
{
    const lg_backend_ops *ops = ctx->ops;
    lg_deadline dl = lg_deadline_in_ms((int64_t)LG_CONN_RECONNECT_S * 1000 + 10000);
    if (!(ops->epoch(ctx->env->backend) & 1))
        return 0;
    progress(ctx, "waiting for libvirt to come back");
    while ((ops->epoch(ctx->env->backend) & 1) && !ops->lost(ctx->env->backend) &&
           !atomic_load(ctx->env->interrupted) && !lg_deadline_passed(dl))
        lg_sleep_ms(100);
    if (ops->lost(ctx->env->backend) || (ops->epoch(ctx->env->backend) & 1)) {
        lg_monitor_fail(ctx->mon, LG_FAIL_HYPERVISOR_LOST, ops->uri(ctx->env->backend));
        return -ECONNRESET;
    }
    return 0;
}

/* The network probes' listener, before the domain (QEMU connects its
 * guestfwd to it as it starts); none when the profile turned them off. */
static int open_netprobe(job_ctx *ctx)
{
    if (!ctx->profile->net_probe)
        return 0;
    const lg_policy *pol = ctx->policy;
    int64_t lost_ms = (int64_t)pol->heartbeat_interval_s * 1000 * pol->heartbeat_misses;
    lg_netprobe_params np = {
        .mon = ctx->mon, .backend = ctx->env->backend, .profile = ctx->profile, .target = transport_target(ctx),
        .timeout_ms = scaled_ms(ctx, LG_NETPROBE_TIMEOUT_S), .settle_ms = scaled_ms(ctx, pol->boot_timeout_s),
        .lost_ms = lost_ms, .interval_ms = lost_ms, .job_id = ctx->job->id,
    };
    int rc = lg_netprobe_new(&np, &ctx->netprobe);
    if (rc < 0)
        lg_monitor_fail(ctx->mon, LG_FAIL_OUT_OF_RESOURCES, lg_error_msg());
    return rc;
}

/* Defines and starts the domain with its events and console attached, then
 * the heartbeat (idle until the guest is ready). */
static int launch(job_ctx *ctx)
{
    const lg_job_env *env = ctx->env;
    lg_domain_handlers handlers = { .event = on_event, .console = on_console, .opaque = ctx };
    LG_AUTOFREE char *run_lock = lg_run_lock_path(env->run_id);
    int rc = wait_hypervisor(ctx);
    if (rc < 0)
        return rc;
    if ((rc = open_netprobe(ctx)) < 0)
        return rc;
    /* QEMU binds the forward's host side itself where the backend can
     * read it back: no port race, and a remote host's port is its own */
    bool auto_port = ctx->ops->guest_port != NULL;
    int probe_port = ctx->netprobe ? lg_netprobe_listen_port(ctx->netprobe) : 0;
    if (ctx->netprobe && ctx->ops->probe_port) {
        rc = ctx->ops->probe_port(env->backend, probe_port, scaled_ms(ctx, LG_NETPROBE_TIMEOUT_S), &probe_port);
        if (rc < 0) {
            lg_monitor_fail(ctx->mon, LG_FAIL_LAUNCH, lg_error_msg());
            return rc;
        }
        ctx->probe_host_port = probe_port;
    }
    rc = -EADDRINUSE;
    for (int attempt = 0; attempt < LAUNCH_ATTEMPTS && rc == -EADDRINUSE; attempt++) {
        if (!auto_port) {
            if (ctx->port_reserved)
                lg_port_release(ctx->port);
            ctx->port_reserved = false;
            ctx->port = lg_port_reserve();
            if (ctx->port < 0) {
                LG_AUTOFREE char *why = lg_strdup_printf("no free port on 127.0.0.1: %s", strerror(-ctx->port));
                lg_monitor_fail(ctx->mon, LG_FAIL_OUT_OF_RESOURCES, why);
                return ctx->port;
            }
            ctx->port_reserved = true;
        }
        lg_domxml_params params = {
            .profile = ctx->profile, .name = ctx->name, .overlay_path = ctx->overlay, .ssh_host_port = ctx->port,
            .ssh_port_auto = auto_port,
            .kernel_path = ctx->kernel_host, .initrd_path = ctx->initrd_host,
            .kvm = env->kvm, .strict = ctx->policy->strict, .hardening = ctx->policy->hardening, .run_id = env->run_id, .job_id = ctx->job->id,
            .run_lock = run_lock,
            .probe_listen_port = probe_port,
        };
        LG_AUTOFREE char *xml = lg_domxml_build(&params);
        if (auto_port)
            progress(ctx, "starting %s", ctx->name);
        else
            progress(ctx, "starting %s (ssh on 127.0.0.1:%d)", ctx->name, ctx->port);
        rc = ctx->ops->launch(env->backend, xml, &handlers, &ctx->vm);
        if (rc < 0)
            LG_DEBUG("%s: launch attempt %d failed: %s", ctx->job->id, attempt + 1, lg_error_msg());
    }
    if (rc < 0) {
        lg_monitor_fail(ctx->mon, LG_FAIL_LAUNCH, lg_error_msg());
        return rc;
    }
    if (auto_port) {
        int guest = lg_domxml_forwarded_port(ctx->profile);
        rc = ctx->ops->guest_port(env->backend, ctx->vm, guest, scaled_ms(ctx, LG_NETPROBE_TIMEOUT_S), &ctx->port);
        if (rc < 0) {
            LG_AUTOFREE char *why = lg_strdup_printf("the guest's forwarded port %d: %s", guest, lg_error_msg());
            lg_monitor_fail(ctx->mon, LG_FAIL_LAUNCH, why);
            return rc;
        }
        atomic_store(&ctx->port_forwarded, true);
        progress(ctx, "%s: ssh on 127.0.0.1:%d", ctx->name, ctx->port);
    }
    if (ctx->netprobe)
        lg_netprobe_attach(ctx->netprobe, ctx->vm, ctx->port);
    LG_AUTOFREE char *health = ctx->job->build->health
        ? lg_os_in_dir(ctx->profile->os, lg_os_build_dir(ctx->profile->os), ctx->job->build->health) : NULL;
    lg_heartbeat_params hb = {
        .mon = ctx->mon, .backend = env->backend, .vm = ctx->vm, .target = transport_target(ctx),
        .interval_s = ctx->policy->heartbeat_interval_s, .misses = ctx->policy->heartbeat_misses,
        .health_command = health, .job_id = ctx->job->id, .netprobe = ctx->netprobe,
    };
    ctx->heartbeat = lg_heartbeat_start(&hb);
    ctx->freezer = lg_freezer_start(ctx->mon, env->backend, ctx->vm);
    return 0;
}

/* The scenario's steps, until one fails or a signal decides. */
/* The profile's leak scan, once every step is done and the guest still runs
 * (run/leakcheck.h): leaks are findings, a guest that stops answering
 * during it is the transport's failure like any other command's. */
static void leak_scan(job_ctx *ctx)
{
    if (!ctx->profile->leak_scan_command || lg_monitor_decided(ctx->mon) || cancelled(ctx))
        return;
    ctx->step = "leak scan";
    progress(ctx, "leak scan");
    if (!ctx->guest && wait_ready(ctx, ctx->boot - 1) < 0)
        return;
    int timeout_s = ctx->profile->leak_scan_timeout_s;
    char *file = NULL;
    int rc = lg_leakcheck_run(ctx->ops, ctx->guest, ctx->profile, ctx->mon, ctx->env->out_dir, ctx->job->id,
                              lg_deadline_in_ms(scaled_ms(ctx, timeout_s)), &file);
    if (file) {
        ctx->files = lg_realloc_n(ctx->files, ctx->n_files + 1, sizeof(*ctx->files));
        ctx->files[ctx->n_files++] = file;
    }
    if (rc < 0)
        transport_failed(ctx, rc, timeout_s);
}

static void run_steps(job_ctx *ctx)
{
    const lg_scenario *scenario = ctx->job->scenario;
    size_t done = 0;
    for (size_t i = 0; i < scenario->n_steps && !cancelled(ctx); i++) {
        const lg_step *step = &scenario->steps[i];
        ctx->cur_step = step;
        progress(ctx, "step %zu/%zu %s", i + 1, scenario->n_steps, lg_step_kind_name(step->kind));
        ctx->step_index = i;
        if (run_step(ctx, step) < 0)
            break;
        done++;
        if (step->cycle_last) {
            ctx->cycles++;
            ctx->bound_cycles += step->auto_cycles;
        }
    }
    /* PASS means every step (every cycle) done: a step that gave up
     * without a decision is the harness's failure, never a pass */
    if (done < scenario->n_steps) {
        if (!cancelled(ctx) && !lg_monitor_decided(ctx->mon)) {
            LG_AUTOFREE char *why = lg_strdup_printf("step %zu of %zu (%s) ended without a verdict", done + 1,
                                                     scenario->n_steps, lg_step_kind_name(ctx->cur_step->kind));
            lg_monitor_fail(ctx->mon, LG_FAIL_HARNESS, why);
        }
    } else if (!cancelled(ctx)) {
        /* no job passes with an unhealthy agent */
        ctx->step = "health";
        if (check_agent_health(ctx, "the last step") == 0)
            leak_scan(ctx);
    }
}

/* The freeze at the decision done (wait: a decision exists whose freeze may
 * still be due, at the latest at the end of the grace time) or called off. */
static void finish_freeze(job_ctx *ctx, bool wait)
{
    if (!ctx->freezer)
        return;
    int64_t until_ms = wait ? lg_now_ms() + scaled_ms(ctx, ctx->policy->crash_grace_s) + LG_FREEZE_SUSPEND_MS
                            : lg_now_ms();
    LG_AUTOFREE char *why = NULL;
    int rc = lg_freezer_finish(ctx->freezer, until_ms, &why);
    ctx->freezer = NULL;
    if (rc > 0)
        progress(ctx, "guest frozen at the decision");
    else if (rc < 0)
        LG_WARN("%s: the guest was not frozen at the decision: %s", ctx->job->id, why);
}

/* The decision's evidence, taken while the domain still exists (a panicked
 * guest is kept paused for this): the rest of the report, the screen and,
 * on a crash when the policy asks, guest memory. */
static void collect_evidence(job_ctx *ctx, lg_job_result *result)
{
    bool interrupted = atomic_load(ctx->env->interrupted);
    if (!lg_monitor_decided(ctx->mon)) {
        if (interrupted)
            lg_monitor_fail(ctx->mon, LG_FAIL_INTERRUPTED);
        else
            check_state(ctx);
    }
    finish_freeze(ctx, lg_monitor_decided(ctx->mon) && !interrupted);
    if (lg_monitor_decided(ctx->mon) && !interrupted) {
        progress(ctx, "collecting evidence");
        lg_monitor_wait_evidence(ctx->mon);
    }
    lg_verdict verdict = lg_monitor_verdict(ctx->mon);
    if (!ctx->vm || !lg_verdict_blocks(verdict))
        return;
    LG_AUTOFREE char *stem = lg_strdup_printf("%s/screenshot", ctx->job_dir);
    LG_AUTOFREE char *shot = ctx->ops->screenshot(ctx->vm, stem);
    if (shot)
        result->screenshot = lg_strdup_printf("jobs/%s/%s", ctx->job->id, strrchr(shot, '/') + 1);
    else
        LG_WARN("%s: no screenshot: %s", ctx->job->id, lg_error_msg());
    if (verdict != LG_VERDICT_CRASH || !ctx->policy->memory_dump_on_crash)
        return;
    progress(ctx, "saving guest memory dump");
    LG_AUTOFREE char *dump = lg_strdup_printf("%s/memory.kdump", ctx->job_dir);
    if (ctx->ops->memory_dump(ctx->vm, dump) == 0)
        result->memory_dump = lg_strdup_printf("jobs/%s/memory.kdump", ctx->job->id);
    else
        LG_WARN("%s: no memory dump: %s", ctx->job->id, lg_error_msg());
}

/* libvirt's logs of the domain, once it is gone: into the job's results */
static void take_hypervisor_logs(job_ctx *ctx, lg_job_result *result)
{
    static const struct { lg_hvlog_kind kind; const char *file; } logs[] = {
        { LG_HVLOG_QEMU, "qemu.log" },
        { LG_HVLOG_SWTPM, "swtpm.log" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(logs); i++) {
        LG_AUTOFREE char *dest = lg_strdup_printf("%s/%s", ctx->job_dir, logs[i].file);
        int rc = ctx->ops->take_log(ctx->env->backend, ctx->name, logs[i].kind, dest);
        if (rc < 0)
            LG_WARN("%s: %s", ctx->job->id, lg_error_msg());
        if (rc <= 0)
            continue;
        char *rel = lg_strdup_printf("jobs/%s/%s", ctx->job->id, logs[i].file);
        if (logs[i].kind == LG_HVLOG_QEMU)
            result->qemu_log = rel;
        else
            result->swtpm_log = rel;
    }
}

/* Always runs, whatever happened before: the heartbeat stopped, the domain
 * destroyed (or kept for an engineer), the overlay and port released, and
 * the monitor's decision written into result. */
static void teardown(job_ctx *ctx, lg_job_result *result)
{
    finish_freeze(ctx, false);
    lg_heartbeat_stop(ctx->heartbeat);
    ctx->heartbeat = NULL;
    lg_netprobe_free(ctx->netprobe);
    ctx->netprobe = NULL;
    bool decided = lg_monitor_decided(ctx->mon);
    if (decided && ctx->step && ctx->cur_step && ctx->cur_step->cycles)
        result->step = lg_strdup_printf("%s (cycle %d/%d)", ctx->step, ctx->cur_step->cycle, ctx->cur_step->cycles);
    else
        result->step = decided && ctx->step ? lg_strdup(ctx->step) : NULL;
    result->ready_boots = ctx->ready_boots;
    result->cycles = ctx->cycles;
    result->bound_cycles = ctx->bound_cycles;
    result->bound_boots = ctx->bound_boots;
    result->files = ctx->files;
    result->n_files = ctx->n_files;
    ctx->files = NULL;
    drop_session(ctx);
    lg_verdict verdict = lg_monitor_verdict(ctx->mon);
    if (ctx->env->keep_failed && ctx->vm && lg_verdict_blocks(verdict)) {
        /* for an engineer to attach to: `labgate gc` removes it once this
         * run's lock is gone */
        result->kept_domain = lg_strdup(ctx->ops->vm_name(ctx->vm));
        result->kept_overlay = lg_strdup(ctx->overlay);
        result->kept_port = ctx->port;
        ctx->ops->release(ctx->vm);
        ctx->overlay_made = false;
    } else {
        /* after this no event reaches the monitor */
        if (ctx->vm && ctx->ops->destroy(ctx->vm) < 0)
            LG_WARN("%s: %s (labgate gc removes it)", ctx->job->id, lg_error_msg());
        /* also when the domain never started: QEMU's or swtpm's log says why */
        if (ctx->mon && ctx->job_dir)
            take_hypervisor_logs(ctx, result);
    }
    ctx->vm = NULL;
    if (ctx->overlay_made && ctx->ops->overlay_remove(ctx->env->backend, ctx->overlay) < 0)
        LG_WARN("%s", lg_error_msg());
    if (ctx->port_reserved)
        lg_port_release(ctx->port);
    if (atomic_exchange(&ctx->port_forwarded, false) && ctx->ops->guest_port_release && !result->kept_domain)
        ctx->ops->guest_port_release(ctx->env->backend, ctx->port);
    if (ctx->probe_host_port > 0 && ctx->ops->probe_port_release)
        ctx->ops->probe_port_release(ctx->env->backend, ctx->probe_host_port);
    lg_evidence_clear(&result->evidence);
    lg_monitor_result(ctx->mon, &result->evidence);
    result->boots = lg_monitor_boot(ctx->mon);
    result->power_cut_ms = ctx->power_cut_ms;
    lg_monitor_free(ctx->mon);
    free(ctx->job_dir);
    free(ctx->name);
    free(ctx->overlay);
    free(ctx->kernel_host);
    free(ctx->initrd_host);
    result->duration_s = (double)(lg_now_ms() - ctx->start_ms) / 1000.0;
}

void lg_job_run(const lg_job_env *env, const lg_job *job, lg_job_result *result)
{
    lg_job_result_init(result);
    job_ctx ctx = {
        .env = env, .job = job, .profile = job->guest->profile, .policy = &env->matrix->policy,
        .ops = env->backend->ops, .port = -1, .start_ms = lg_now_ms(), .power_cut_ms = -1,
    };
    result->console_log = lg_strdup_printf("jobs/%s/console.log", job->id);

    if (prepare(&ctx) < 0 || launch(&ctx) < 0)
        goto teardown;
    run_steps(&ctx);
    /* no job passes with its network down */
    if (ctx.netprobe && ctx.guest && !cancelled(&ctx))
        lg_netprobe_settle(ctx.netprobe, ctx.guest);
    wait_hypervisor(&ctx);
    collect_evidence(&ctx, result);
teardown:
    teardown(&ctx, result);
}

/* ---------------------------------------------------------------- results */

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

void lg_job_result_init(lg_job_result *result)
{
    memset(result, 0, sizeof(*result));
    result->power_cut_ms = -1;
    lg_evidence_init(&result->evidence);
}

void lg_job_result_not_run(lg_job_result *result, const char *why)
{
    lg_job_result_clear(result);
    const lg_failure_info *info = lg_failure_info_of(LG_FAIL_NOT_RUN);
    result->evidence.verdict = info->verdict;
    result->evidence.signal = info->signal;
    result->evidence.title = lg_failure_title(LG_FAIL_NOT_RUN, why);
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
    for (size_t i = 0; i < result->n_attempts; i++) {
        free(result->attempts[i].title);
        free(result->attempts[i].dir);
        free(result->attempts[i].host);
    }
    free(result->attempts);
    free(result->host);
    lg_job_result_init(result);
}

void lg_job_result_set_host(lg_job_result *result, const char *host_id)
{
    free(result->host);
    result->host = lg_strdup(host_id);
    for (size_t i = 0; i < result->n_attempts; i++)
        if (!result->attempts[i].host)
            result->attempts[i].host = lg_strdup(host_id);
}

int lg_job_archive_attempt(const char *out_dir, const lg_job *job, lg_job_result *result, lg_attempt **earlier,
                           size_t *n_earlier)
{
    size_t number = *n_earlier + 1;
    LG_AUTOFREE char *job_dir = lg_strdup_printf("%s/jobs/%s", out_dir, job->id);
    LG_AUTOFREE char *rel = lg_strdup_printf("jobs/%s/attempt-%zu", job->id, number);
    LG_AUTOFREE char *dest = lg_strdup_printf("%s/%s", out_dir, rel);
    if (mkdir(dest, 0755) < 0 && errno != EEXIST) {
        int err = errno;
        lg_error_set("cannot create %s: %s", dest, strerror(err));
        return -err;
    }
    DIR *dir = opendir(job_dir);
    if (!dir) {
        int err = errno;
        lg_error_set("cannot read %s: %s", job_dir, strerror(err));
        return -err;
    }
    /* names first: renaming while reading a directory may skip entries */
    char **names = NULL;
    size_t n_names = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 || strncmp(d->d_name, "attempt-", 8) == 0)
            continue;
        names = lg_realloc_n(names, n_names + 1, sizeof(*names));
        names[n_names++] = lg_strdup(d->d_name);
    }
    closedir(dir);
    int rc = 0;
    for (size_t i = 0; i < n_names; i++) {
        LG_AUTOFREE char *from = lg_strdup_printf("%s/%s", job_dir, names[i]);
        LG_AUTOFREE char *to = lg_strdup_printf("%s/%s", dest, names[i]);
        if (rc == 0 && rename(from, to) < 0) {
            rc = -errno;
            lg_error_set("cannot move %s to %s: %s", from, dest, strerror(-rc));
        }
        free(names[i]);
    }
    free(names);
    if (rc < 0)
        return rc;
    *earlier = lg_realloc_n(*earlier, number, sizeof(**earlier));
    (*earlier)[number - 1] = (lg_attempt){
        .verdict = result->evidence.verdict,
        .title = lg_strdup(result->evidence.title ? result->evidence.title : ""),
        .dir = lg_strdup(rel),
    };
    *n_earlier = number;
    lg_job_result_clear(result);
    return 0;
}
