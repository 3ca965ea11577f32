/* The job runner driven whole, in milliseconds, through fakes of its
 * backend (run/backend.h): each failure kind gives its verdict, a crash
 * during each step kind, reboot counting, Ctrl-C mid-step, and teardown
 * releasing everything, whatever happened. */
#include "lg_test.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "guest/oscmd.h"
#include "model/failure.h"
#include "model/baseline.h"
#include "run/baseline.h"
#include "run/job.h"

/* ---------------------------------------------------------------- the fake */

typedef enum { ACT_NONE, ACT_FAIL, ACT_CRASH, ACT_HANG, ACT_DROP, ACT_INTERRUPT, ACT_QEMU_DIES, ACT_POWER_OFF,
               ACT_WATCHDOG, ACT_BUGCHECK, ACT_LOSE_HYPERVISOR, ACT_DAEMON_RESTART,
               ACT_DAEMON_RESTART_AFTER } action;

typedef struct fake {
    lg_backend base;
    /* what the fake does */
    int image_rc;          /* image_check's answer for every image */
    int overlay_rc;
    int stage_rc;          /* image_stage's answer for every image */
    int launch_rc;         /* every launch attempt */
    bool event_in_launch;  /* fire STOPPED_FAILED before launch returns */
    int connect_rc;        /* every connect */
    int ping_rc;
    const char *trigger;   /* a command containing this ... */
    int trigger_skip;      /* (after this many such commands went well) */
    action act;            /* ... does this */
    int fail_status;
    const char *fail_output;
    int health_status;     /* the health command's exit */
    const char *health_output; /* and what it prints, when not the default */
    bool fetch_missing;
    bool upload_refused;   /* the build's tree holds a link out of it */
    bool fetch_endless;    /* the fetched file never ends (/dev/zero) */
    int fetch_ms_per_mib;  /* how fast it comes */
    uint64_t fetch_max;    /* the cap the job gave the last fetch */
    int installs;          /* install commands that reached the guest */
    bool crash_on_boot;    /* a reset or a start from the firmware crashes the boot */
    bool ignores_shutdown; /* a cold boot's shutdown: the guest never stops */
    int hooks, health_checks, resets, power_offs, power_ons, destroyed_in_power_off;
    /* what happened */
    int boot;              /* the guest's boot counter */
    int launches, destroyed, released, overlays, overlays_removed, sessions, sessions_freed;
    int staged, upload_reports;
    char *launched_xml;    /* the last domain XML launched */
    lg_domain_handlers handlers;
    atomic_bool *interrupted;
    atomic_bool lost;
    atomic_uint epoch;     /* odd while the connection is down */
    pthread_t reconnector; /* ACT_DAEMON_RESTART_AFTER's */
    bool reconnector_started;
    int destroyed_while_down;
    /* the freeze at the decision: suspends, and the order of the calls
     * (suspend, screenshot) that the evidence depends on */
    atomic_int suspends;
    atomic_bool suspended;
    atomic_int seq;
    int suspend_seq, screenshot_seq;
    bool loops_after_reboot; /* the boot after a reboot resets, and every boot after it */
    /* Driver Verifier: the command the guest got, and its settings after the reboot */
    char verifier_command[160];
    int verifier_boot;     /* the boot it was set in */
    bool verifier_ignored; /* the settings never take */
    pthread_t looper;
    bool looper_started;
    /* a remote host's forwards (guest_port, probe_port) */
    int guest_ports, guest_ports_released, probe_ports, probe_ports_released;
    int last_connect_port;
    atomic_bool ssh_lost;  /* the host's SSH that carried the port broke */
    pthread_mutex_t lock;
} fake;

struct lg_vm { int unused; };
static struct lg_vm the_vm;
struct lg_session { fake *f; lg_transport_target target; };

static fake *F(lg_backend *be) { return (fake *)be; }

static int f_image_check(lg_backend *be, const char *path, char **blocking)
{
    (void)path;
    if (blocking && F(be)->image_rc == -EACCES)
        *blocking = strdup("/srv/private");
    return F(be)->image_rc;
}

/* The host has each image at /pool/<its file name>. */
static int f_image_stage(lg_backend *be, const char *local_path, const char *run_id, lg_stage_progress_fn progress,
                         void *opaque, char **host_path)
{
    (void)run_id;
    fake *f = F(be);
    if (f->stage_rc < 0) {
        lg_error_set("cannot create volume: pool is full");
        return f->stage_rc;
    }
    if (progress) {
        progress(opaque, local_path, 0, 3u << 20);
        progress(opaque, local_path, 3u << 20, 3u << 20);
        f->upload_reports += 2;
    }
    pthread_mutex_lock(&f->lock);
    f->staged++;
    pthread_mutex_unlock(&f->lock);
    *host_path = lg_strdup_printf("/pool/%s", strrchr(local_path, '/') + 1);
    return 0;
}

static int f_overlay_create(lg_backend *be, const char *base, const char *name, char **path)
{
    if (F(be)->overlay_rc < 0) {
        lg_error_set("qemu-img: no space left on device");
        return F(be)->overlay_rc;
    }
    F(be)->overlays++;
    *path = lg_strdup_printf("/pool/%s", name);
    (void)base;
    return 0;
}

static int f_overlay_remove(lg_backend *be, const char *overlay)
{
    (void)overlay;
    F(be)->overlays_removed++;
    return 0;
}

static void fire(fake *f, lg_domain_event ev)
{
    ev.domain = "labgate-fake";
    f->handlers.event(f->handlers.opaque, &ev);
}

static void console(fake *f, const char *text)
{
    f->handlers.console(f->handlers.opaque, text, strlen(text));
}

static int f_launch(lg_backend *be, const char *xml, const lg_domain_handlers *handlers, lg_vm **out)
{
    fake *f = F(be);
    assert_non_null(xml);
    f->handlers = *handlers;
    free(f->launched_xml);
    f->launched_xml = lg_strdup(xml);
    if (f->event_in_launch)
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_STOPPED_FAILED });
    if (f->launch_rc < 0) {
        lg_error_set("cannot start the domain: fake refused");
        return f->launch_rc;
    }
    f->launches++;
    *out = &the_vm;
    return 0;
}

static const char *f_vm_name(lg_vm *vm) { (void)vm; return "labgate-fake"; }
static int f_vm_crashed(lg_vm *vm, bool *crashed) { (void)vm; *crashed = false; return 0; }
static fake *the_fake;
static char *f_screenshot(lg_vm *vm, const char *stem)
{
    (void)vm; (void)stem;
    the_fake->screenshot_seq = atomic_fetch_add(&the_fake->seq, 1) + 1;
    lg_error_set("no display");
    return NULL;
}
static int f_suspend(lg_vm *vm, int64_t timeout_ms)
{
    (void)vm;
    assert_true(timeout_ms > 0);
    the_fake->suspend_seq = atomic_fetch_add(&the_fake->seq, 1) + 1;
    atomic_fetch_add(&the_fake->suspends, 1);
    atomic_store(&the_fake->suspended, true);
    return 0;
}
static int f_memory_dump(lg_vm *vm, const char *path) { (void)vm; (void)path; lg_error_set("no dump"); return -EIO; }
static int f_destroy(lg_vm *vm)
{
    (void)vm;
    the_fake->destroyed++;
    if (atomic_load(&the_fake->epoch) & 1)
        the_fake->destroyed_while_down++;
    return 0;
}
/* The boot after a reset or a start: the counter moves, or the boot
 * crashes (a torn file the driver trusts). */
static void next_boot(fake *f)
{
    f->boot++;
    if (f->crash_on_boot) {
        console(f, "[    2.345678] BUG: unable to handle page fault for address: ffffc90000a4d000\n"
                   "[    2.345680] RIP: 0010:fakedrv_index+0x2c/0x90 [fakedrv]\n");
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED });
    }
}
static int f_reset(lg_vm *vm, int64_t timeout_ms)
{
    (void)vm;
    assert_true(timeout_ms > 0);
    the_fake->resets++;
    fire(the_fake, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_REBOOTED });
    next_boot(the_fake);
    return 0;
}
static int f_power_off(lg_vm *vm, int64_t graceful_ms, bool *graceful)
{
    (void)vm;
    assert_true(graceful_ms > 0);
    the_fake->power_offs++;
    *graceful = !the_fake->ignores_shutdown;
    /* what libvirt says as the guest stops: shut down, or destroyed */
    fire(the_fake, (lg_domain_event){ .kind = *graceful ? LG_DOMAIN_EVENT_POWERED_OFF : LG_DOMAIN_EVENT_STOPPED });
    return 0;
}
static int f_power_on(lg_vm *vm)
{
    (void)vm;
    the_fake->power_ons++;
    next_boot(the_fake);
    return 0;
}
static void f_release(lg_vm *vm) { (void)vm; the_fake->released++; }
static int f_take_log(lg_backend *be, const char *d, lg_hvlog_kind k, const char *dest)
{
    (void)be; (void)d; (void)k; (void)dest;
    return 0;
}
static bool f_lost(lg_backend *be) { return atomic_load(&F(be)->lost); }
static unsigned f_epoch(lg_backend *be) { return atomic_load(&F(be)->epoch); }
static const char *f_uri(lg_backend *be) { (void)be; return "fake:///"; }

static int f_connect(lg_backend *be, lg_vm *vm, const lg_transport_target *t, lg_deadline dl, lg_session **out)
{
    (void)vm; (void)dl;
    fake *f = F(be);
    if (f->connect_rc < 0) {
        lg_error_set("fake connect: %s", strerror(-f->connect_rc));
        return f->connect_rc;
    }
    pthread_mutex_lock(&f->lock);
    f->sessions++;
    f->last_connect_port = t->port;
    pthread_mutex_unlock(&f->lock);
    lg_session *s = calloc(1, sizeof(*s));
    s->f = f;
    s->target = *t;
    *out = s;
    return 0;
}

static int f_ping(lg_session *s, lg_deadline dl)
{
    (void)dl;
    if (s->f->ping_rc < 0)
        lg_error_set("no answer");
    return s->f->ping_rc;
}

/* Waits out the deadline (a guest that never answers), unless the job
 * cancels the call, as the real transports let it. */
static int hang_until(lg_session *s, lg_deadline dl)
{
    while (!lg_deadline_passed(dl)) {
        if (s->target.cancel && s->target.cancel(s->target.cancel_opaque)) {
            lg_error_set("cancelled");
            return -ECANCELED;
        }
        lg_sleep_ms(5);
    }
    lg_error_set("timed out");
    return -ETIMEDOUT;
}

static void *reconnect_later(void *opaque)
{
    fake *f = opaque;
    lg_sleep_ms(400);
    /* as lg_conn does: the domains re-attached, then the connection up */
    if (f->launches)
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_RECONNECTED, .gap_ms = 400 });
    atomic_fetch_add(&f->epoch, 1);
    return NULL;
}

/* A boot loop as the sample agent's boot watchdog makes one: each boot
 * prints its banner and number, resets a few seconds later (past the
 * monitor's reset debounce), and the next boot starts printing a moment
 * after the reset, unless the guest was frozen by then. */
static void *loop_boots(void *opaque)
{
    fake *f = opaque;
    for (int i = 0; i < 6 && !atomic_load(&f->suspended); i++) {
        char lines[160];
        snprintf(lines, sizeof(lines), "Linux version 6.1.0-fake\nlabgate: boot %d\n"
                                       "sampledrv: boot watchdog expired: boot %d restarts\n", f->boot, f->boot);
        console(f, lines);
        lg_sleep_ms(3300);
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_REBOOTED });
        lg_sleep_ms(100); /* firmware, kernel decompression */
        f->boot++;
    }
    return NULL;
}

static int f_exec(lg_session *s, const char *command, const void *input, size_t input_len, lg_deadline dl,
                  lg_buf *output, int *exit_status)
{
    (void)input; (void)input_len;
    fake *f = s->f;
    bool triggered = f->trigger && strstr(command, f->trigger) && f->trigger_skip-- <= 0;
    if (strstr(command, "boot-count") && !triggered) {
        if (output)
            lg_buf_printf(output, "%d\n", f->boot);
        *exit_status = 0;
        return 0;
    }
    if (strncmp(command, "verifier /querysettings", 23) == 0) {
        /* on from the boot after the one it was set in */
        bool on = f->verifier_command[0] && f->boot > f->verifier_boot && !f->verifier_ignored;
        if (output)
            lg_buf_printf(output, "Special pool: %s\r\nPool tracking: Enabled\r\n\r\nVerified drivers:\r\n\r\n%s\r\n",
                          on ? "Enabled" : "Disabled", on ? "SampleDrv.sys" : "None");
        *exit_status = 0;
        return 0;
    }
    if (strncmp(command, "verifier /", 10) == 0) {
        snprintf(f->verifier_command, sizeof(f->verifier_command), "%s", command);
        f->verifier_boot = f->boot;
        *exit_status = 2; /* it asks for a reboot */
        return 0;
    }
    if (strcmp(command, lg_os_reboot_command(LG_OS_LINUX, false)) == 0 ||
        strcmp(command, lg_os_reboot_command(LG_OS_WINDOWS, false)) == 0) {
        f->boot++;
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_REBOOTED });
        if (f->loops_after_reboot && !f->looper_started) {
            f->connect_rc = -ECONNREFUSED; /* no boot gets as far as sshd */
            f->looper_started = pthread_create(&f->looper, NULL, loop_boots, f) == 0;
        }
        lg_error_set("connection closed");
        return -ECONNRESET;
    }
    if (strcmp(command, lg_os_poweroff_command(LG_OS_LINUX, false)) == 0) {
        lg_error_set("connection closed");
        return -ECONNRESET;
    }
    if (strstr(command, "install.sh"))
        f->installs++;
    if (strstr(command, "hook.sh"))
        f->hooks++;
    if (strstr(command, "health.sh")) {
        f->health_checks++;
        *exit_status = f->health_status;
        if (output)
            lg_buf_puts(output, f->health_output  ? f->health_output
                                : f->health_status ? "sampleagentd is not running\n" : "ok\n");
        return 0;
    }
    if (triggered) {
        switch (f->act) {
        case ACT_FAIL:
            *exit_status = f->fail_status;
            if (output)
                lg_buf_puts(output, f->fail_output);
            return 0;
        case ACT_CRASH:
            console(f, "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
                       "[   12.345680] RIP: 0010:fakedrv_parse+0x1c/0x80 [fakedrv]\n");
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED });
            lg_error_set("connection reset");
            return -ECONNRESET;
        case ACT_BUGCHECK:
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED, .qemu_event = true,
                                       .qemu_wall_us = lg_now_us() + 0, .has_details = true,
                                       .details = { .hyperv = true, .arg = { 0x50, 1, 2, 3, 4 } } });
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED });
            lg_error_set("connection reset");
            return -ECONNRESET;
        case ACT_HANG:
            return hang_until(s, dl);
        case ACT_DROP:
            lg_error_set("connection reset by peer");
            return -ECONNRESET;
        case ACT_INTERRUPT:
            atomic_store(f->interrupted, true);
            lg_error_set("cancelled");
            return -ECANCELED;
        case ACT_QEMU_DIES:
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_STOPPED_FAILED });
            return -ECONNRESET;
        case ACT_POWER_OFF:
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_POWERED_OFF });
            return -ECONNRESET;
        case ACT_WATCHDOG:
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_WATCHDOG, .watchdog_action = "reset" });
            return hang_until(s, dl);
        case ACT_LOSE_HYPERVISOR:
            /* the daemon never comes back: the connection gives up */
            atomic_fetch_add(&f->epoch, 1);
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST });
            lg_sleep_ms(50);
            atomic_store(&f->lost, true);
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST, .final = true });
            return hang_until(s, dl);
        case ACT_DAEMON_RESTART:
            /* the daemon restarts while the step's command runs (over ssh,
             * which does not need it): the command ends well */
            atomic_fetch_add(&f->epoch, 1);
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST });
            lg_sleep_ms(300);
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_RECONNECTED, .gap_ms = 2400 });
            atomic_fetch_add(&f->epoch, 1);
            break;
        case ACT_DAEMON_RESTART_AFTER:
            /* the daemon goes away and is back only after the last step */
            atomic_fetch_add(&f->epoch, 1);
            fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST });
            f->reconnector_started = pthread_create(&f->reconnector, NULL, reconnect_later, f) == 0;
            break;
        case ACT_NONE:
            break;
        }
    }
    *exit_status = 0;
    return 0;
}

static int f_upload_dir(lg_session *s, const char *local, const char *remote, lg_deadline dl)
{
    (void)local; (void)dl;
    if (s->f->upload_refused && strstr(remote, "build")) {
        lg_error_set("link bin/y points outside the tree (/etc/shadow)");
        return -EPERM;
    }
    return 0;
}

static int f_fetch_file(lg_session *s, const char *remote, const char *local, uint64_t max, lg_deadline dl,
                        uint64_t *size)
{
    fake *f = s->f;
    f->fetch_max = max;
    if (f->fetch_endless) {
        /* a guest that answers and never stops sending, as a transport
         * meets it: stopped at the cap, else at the deadline while data
         * still flows */
        for (uint64_t sent = 0;; sent += 1 << 20) {
            if (sent + (1 << 20) > max) {
                lg_error_set("%s in the guest is larger than %llu bytes", remote, (unsigned long long)max);
                return -EFBIG;
            }
            if (lg_deadline_passed(dl)) {
                lg_error_set("still streaming at the deadline (%llu MiB so far)", (unsigned long long)(sent >> 20));
                return -ETIME;
            }
            lg_sleep_ms(f->fetch_ms_per_mib);
        }
    }
    if (f->trigger && strstr(remote, f->trigger) && f->act == ACT_CRASH) {
        console(f, "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008\n");
        fire(f, (lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED });
        return -ECONNRESET;
    }
    if (f->trigger && strstr(remote, f->trigger) && f->act == ACT_HANG)
        return hang_until(s, dl);
    if (f->fetch_missing) {
        lg_error_set("%s: No such file or directory", remote);
        return -ENOENT;
    }
    FILE *out = fopen(local, "w");
    assert_non_null(out);
    fputs("fetched\n", out);
    fclose(out);
    *size = 8;
    return 0;
}

static void f_session_free(lg_session *s)
{
    pthread_mutex_lock(&s->f->lock);
    s->f->sessions_freed++;
    pthread_mutex_unlock(&s->f->lock);
    free(s);
}

static void f_free(lg_backend *be) { (void)be; }

static const lg_backend_ops fake_ops = {
    .image_check = f_image_check, .image_stage = f_image_stage, .overlay_create = f_overlay_create, .overlay_remove = f_overlay_remove,
    .launch = f_launch, .vm_name = f_vm_name, .vm_crashed = f_vm_crashed, .screenshot = f_screenshot,
    .memory_dump = f_memory_dump, .reset = f_reset, .power_off = f_power_off, .power_on = f_power_on,
    .suspend = f_suspend, .destroy = f_destroy, .release = f_release, .take_log = f_take_log,
    .lost = f_lost, .epoch = f_epoch, .uri = f_uri, .connect = f_connect, .ping = f_ping, .exec = f_exec,
    .upload_dir = f_upload_dir, .fetch_file = f_fetch_file, .session_free = f_session_free, .free = f_free,
};

/* a remote host's backend: QEMU's port read back and forwarded to a local one */
#define FAKE_LOCAL_PORT 40022
#define FAKE_HOST_PROBE_PORT 41234
static int f_guest_port(lg_backend *be, lg_vm *vm, int guest, int64_t timeout_ms, int *local_port)
{
    (void)vm; (void)timeout_ms;
    assert_int_equal(guest, 22);
    F(be)->guest_ports++;
    *local_port = FAKE_LOCAL_PORT;
    return 0;
}

static void f_guest_port_release(lg_backend *be, int local_port)
{
    assert_int_equal(local_port, FAKE_LOCAL_PORT);
    F(be)->guest_ports_released++;
}

static bool f_guest_port_lost(lg_backend *be, int local_port)
{
    (void)local_port;
    return atomic_load(&F(be)->ssh_lost);
}

static int f_probe_port(lg_backend *be, int local_port, int64_t timeout_ms, int *host_port)
{
    (void)timeout_ms;
    assert_true(local_port > 0);
    F(be)->probe_ports++;
    *host_port = FAKE_HOST_PROBE_PORT;
    return 0;
}

static void f_probe_port_release(lg_backend *be, int host_port)
{
    assert_int_equal(host_port, FAKE_HOST_PROBE_PORT);
    F(be)->probe_ports_released++;
}

static lg_backend_ops remote_ops;

/* ------------------------------------------------------------- the job */

typedef struct world {
    char dir[64];
    lg_profile profile;
    lg_guest guest;
    lg_build build;
    lg_content content;
    lg_step steps[8];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job job;
    atomic_bool interrupted;
    fake f;
    lg_job_env env;
    lg_job_result result;
} world;

static void add_step(world *w, lg_step_kind kind, int count, const char *command)
{
    w->steps[w->scenario.n_steps++] = (lg_step){ .kind = kind, .count = count, .command = (char *)command };
}

static world *world_new(void)
{
    world *w = calloc(1, sizeof(*w));
    snprintf(w->dir, sizeof(w->dir), "/tmp/lg-job-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    w->profile = (lg_profile){
        .id = "fake-linux", .os = LG_OS_LINUX, .arch = LG_ARCH_X86_64, .machine = "pc", .memory_mib = 256,
        .vcpus = 1, .disk = "/images/root.qcow2", .kernel = "/images/vmlinuz", .cmdline = "",
        .transport = LG_TRANSPORT_SSH, .ssh_user = "root", .ssh_port = 22,
        .boot_count_command = "cat /var/lib/labgate/boot-count", .panic_model = LG_PANIC_ISA,
    };
    w->guest = (lg_guest){ .id = "fake-linux", .profile = &w->profile };
    w->build = (lg_build){ .id = "agent-1", .dir = w->dir, .install = "sh install.sh", .content_hook = "sh hook.sh",
                           .health = "sh health.sh" };
    w->content = (lg_content){ .id = "c-1", .dir = w->dir };
    w->scenario = (lg_scenario){ .id = "boot", .steps = w->steps };
    w->matrix.policy = (lg_policy){
        .boot_timeout_s = 1, .step_timeout_s = 1, .heartbeat_interval_s = 1, .heartbeat_misses = 2,
        .crash_grace_s = 0, .tcg_scale = 1, .strict = true,
    };
    w->job = (lg_job){ .id = "0123456789ab", .guest = &w->guest, .build = &w->build, .content = &w->content,
                       .scenario = &w->scenario };
    w->f = (fake){ .base = { &fake_ops }, .boot = 1, .interrupted = &w->interrupted };
    pthread_mutex_init(&w->f.lock, NULL);
    the_fake = &w->f;
    w->env = (lg_job_env){ .matrix = &w->matrix, .backend = &w->f.base, .out_dir = w->dir, .run_id = "test",
                           .kvm = true, .interrupted = &w->interrupted };
    return w;
}

/* Runs the job, then checks what every job must leave: no session, no
 * domain, no overlay. */
static void run(world *w)
{
    lg_job_run(&w->env, &w->job, &w->result);
    assert_int_equal(w->f.sessions, w->f.sessions_freed);
    assert_int_equal(w->f.destroyed + w->f.released, w->f.launches);
    assert_int_equal(w->f.overlays_removed, w->f.overlays);
    assert_true(w->result.duration_s >= 0);
}

static void world_free(world *w)
{
    if (w->f.reconnector_started)
        pthread_join(w->f.reconnector, NULL);
    if (w->f.looper_started)
        pthread_join(w->f.looper, NULL);
    lg_job_result_clear(&w->result);
    LG_AUTOFREE char *cmd = lg_strdup_printf("rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&w->f.lock);
    free(w->f.launched_xml);
    free(w);
}

static void assert_verdict(world *w, lg_verdict verdict, lg_signal signal, const char *title_part)
{
    const lg_evidence *ev = &w->result.evidence;
    if (ev->verdict != verdict || !ev->title || !strstr(ev->title, title_part))
        fail_msg("got %s via %s: '%s'; want %s with '%s'", lg_verdict_name(ev->verdict),
                 lg_signal_name(ev->signal), ev->title ? ev->title : "(none)", lg_verdict_name(verdict), title_part);
    assert_int_equal(ev->signal, signal);
}

static void full_scenario(world *w)
{
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
    add_step(w, LG_STEP_REBOOT, 2, NULL);
    add_step(w, LG_STEP_EXEC, 0, "run-test");
    add_step(w, LG_STEP_FETCH, 0, "/var/log/agent.log");
}

/* ----------------------------------------------------------------- tests */

/* A host whose forwards the backend makes: the domain asks QEMU for port 0
 * and the job reaches the guest on the local port the backend gives back,
 * released at the end. */
static void test_remote_forwards(void **state)
{
    (void)state;
    world *w = world_new();
    remote_ops = fake_ops;
    remote_ops.guest_port = f_guest_port;
    remote_ops.guest_port_release = f_guest_port_release;
    remote_ops.guest_port_lost = f_guest_port_lost;
    remote_ops.probe_port = f_probe_port;
    remote_ops.probe_port_release = f_probe_port_release;
    w->f.base.ops = &remote_ops;
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_EXEC, 0, "run-test");
    run(w);
    assert_non_null(strstr(w->f.launched_xml, "hostfwd=tcp:127.0.0.1:0-:22"));
    assert_int_equal(w->f.last_connect_port, FAKE_LOCAL_PORT);
    assert_int_equal(w->f.guest_ports, 1);
    assert_int_equal(w->f.guest_ports_released, 1);
    /* the fake profile has the network probes off: no reverse forward */
    assert_int_equal(w->f.probe_ports, 0);
    world_free(w);

    /* the host's SSH broke under the job: never a guest verdict */
    w = world_new();
    w->f.base.ops = &remote_ops;
    atomic_store(&w->f.ssh_lost, true);
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_EXEC, 0, "run-test");
    run(w);
    assert_verdict(w, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_HYPERVISOR, "lost the SSH connection to the host");
    assert_int_equal(w->f.guest_ports_released, 1);
    world_free(w);
}

static void test_pass_counts_reboots(void **state)
{
    (void)state;
    world *w = world_new();
    full_scenario(w);
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_null(w->result.evidence.title);
    assert_int_equal(w->result.boots, 3); /* first boot and two reboots */
    assert_int_equal(w->f.destroyed, 1);
    assert_int_equal(w->result.n_files, 1);
    assert_string_equal(w->result.files[0], "jobs/0123456789ab/files/agent.log");
    assert_null(w->result.step);
    /* times nobody measured stay unknown */
    assert_true(w->result.evidence.panic_time_s < 0);
    assert_true(w->result.evidence.report_time_s < 0);
    assert_true(w->result.evidence.last_answer_s >= 0);
    /* a guest that passed is never frozen */
    assert_int_equal(atomic_load(&w->f.suspends), 0);
    assert_true(w->result.evidence.frozen_time_s < 0);
    world_free(w);
}

/* driver-verifier on a Windows guest: after the install, verifier for the
 * build's drivers, a reboot, the settings confirmed; settings that never
 * took are the agent's failure, saying which driver is not verified. */
static void test_driver_verifier(void **state)
{
    (void)state;
    for (int ignored = 0; ignored < 2; ignored++) {
        world *w = world_new();
        w->profile.os = LG_OS_WINDOWS;
        char *drivers[] = { (char *)"sampledrv.sys" };
        w->build.drivers = drivers;
        w->build.n_drivers = 1;
        w->matrix.policy.driver_verifier = LG_VERIFIER_SPECIAL_POOL;
        w->f.verifier_ignored = ignored;
        add_step(w, LG_STEP_WAIT_READY, 0, NULL);
        add_step(w, LG_STEP_INSTALL, 0, NULL);
        add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
        run(w);
        assert_string_equal(w->f.verifier_command, "verifier /flags 0x1 /driver sampledrv.sys");
        assert_int_equal(w->f.verifier_boot, 1);
        if (!ignored) {
            assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
            assert_int_equal(w->result.boots, 2); /* the reboot it takes effect at */
            assert_int_equal(w->f.hooks, 1);
        } else {
            assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP,
                           "Driver Verifier (special-pool) for build agent-1 failed (exit 0): sampledrv.sys is not "
                           "among the verified drivers");
            assert_string_equal(w->result.step, "install");
            assert_int_equal(w->f.hooks, 0); /* no content without the verifier */
        }
        world_free(w);
    }
}

/* A boot loop is frozen at its deciding reset: the boot count and the
 * excerpt are the deciding boot's, and the boot after it never prints. */
static void test_boot_loop_frozen_at_the_deciding_reset(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
    add_step(w, LG_STEP_REBOOT, 1, NULL);
    w->matrix.policy.boot_timeout_s = 60;
    w->f.loops_after_reboot = true;
    run(w);
    assert_verdict(w, LG_VERDICT_BOOT_LOOP, LG_SIGNAL_REBOOT, "boot loop: guest reset 2 times");
    assert_int_equal(atomic_load(&w->f.suspends), 1);
    assert_true(w->f.suspend_seq < w->f.screenshot_seq);
    /* boot 2 (the reboot's) reset, boot 3 reset: boot 3 decided */
    assert_int_equal(w->result.boots, 3);
    assert_int_equal(w->result.evidence.boot, 3);
    const char *excerpt = w->result.evidence.console_excerpt;
    assert_non_null(excerpt);
    assert_non_null(strstr(excerpt, "labgate: boot 3"));
    assert_non_null(strstr(excerpt, "boot 3 restarts"));
    assert_null(strstr(excerpt, "labgate: boot 4"));
    assert_true(w->result.evidence.frozen_time_s >= w->result.evidence.time_s);
    world_free(w);
}

/* One failure each, as the job meets it, and the verdict the table gives. */
typedef struct failure_case {
    const char *name;
    void (*arrange)(world *w);
    lg_failure kind;
    const char *title_part;
} failure_case;

static void image_missing(world *w) { w->f.image_rc = -ENOENT; }
static void image_unreadable(world *w) { w->f.image_rc = -EACCES; }
static void overlay_fails(world *w) { w->f.overlay_rc = -ENOSPC; }
static void stage_fails(world *w) { w->f.stage_rc = -EIO; }
static void launch_fails(world *w) { w->f.launch_rc = -EIO; }
static void port_taken(world *w) { w->f.launch_rc = -EADDRINUSE; }
static void key_refused(world *w) { w->f.connect_rc = -EACCES; }
static void host_key_mismatch(world *w) { w->f.connect_rc = -EKEYREJECTED; }
static void never_ready(world *w) { w->f.connect_rc = -ECONNREFUSED; }
static void install_fails(world *w)
{
    w->f.trigger = "install.sh"; w->f.act = ACT_FAIL; w->f.fail_status = 3;
    w->f.fail_output = "checking\nsampleagent: kernel 6.1 not supported\n";
}
static void exec_hangs(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_HANG; }
static void exec_drops(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_DROP; }
static void fetch_missing(world *w) { w->f.fetch_missing = true; }
static void upload_refused(world *w) { w->f.upload_refused = true; }
static void qemu_dies(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_QEMU_DIES; }
static void qemu_dies_in_launch(world *w) { w->f.event_in_launch = true; }
static void powers_off(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_POWER_OFF; }
static void watchdog(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_WATCHDOG; }
static void hypervisor_lost(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_LOSE_HYPERVISOR; }
static void interrupted(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_INTERRUPT; }
static void panics(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_CRASH; }
static void bugchecks(world *w) { w->f.trigger = "run-test"; w->f.act = ACT_BUGCHECK; }
static void agent_unhealthy(world *w)
{
    w->f.health_status = 1;
    w->steps[w->scenario.n_steps - 2] = (lg_step){ .kind = LG_STEP_EXEC, .command = "run-test", .timeout_s = 10 };
    w->f.trigger = "run-test"; w->f.act = ACT_HANG;
}
static void guest_silent(world *w)
{
    w->f.ping_rc = -ETIMEDOUT;
    w->steps[w->scenario.n_steps - 2] = (lg_step){ .kind = LG_STEP_EXEC, .command = "run-test", .timeout_s = 10 };
    w->f.trigger = "run-test"; w->f.act = ACT_HANG;
}

static const failure_case failure_cases[] = {
    { "image missing", image_missing, LG_FAIL_IMAGE_MISSING, "guest image /images/root.qcow2 is missing" },
    { "image unreadable", image_unreadable, LG_FAIL_IMAGE_UNREADABLE, "cannot read /images/root.qcow2 (blocked at /srv/private)" },
    { "image not staged", stage_fails, LG_FAIL_IMAGE_STAGE,
      "cannot put /images/root.qcow2 into the labgate storage pool of fake:///: cannot create volume: pool is full" },
    { "overlay fails", overlay_fails, LG_FAIL_LAUNCH, "no space left on device" },
    { "launch fails", launch_fails, LG_FAIL_LAUNCH, "fake refused" },
    { "port taken on every attempt", port_taken, LG_FAIL_LAUNCH, "fake refused" },
    { "key refused", key_refused, LG_FAIL_KEY_REFUSED, "refused the profile's ssh key" },
    { "host key mismatch", host_key_mismatch, LG_FAIL_HOST_KEY_MISMATCH, "fake connect" },
    { "never ready", never_ready, LG_FAIL_NOT_READY, "did not become ready within 1 s (boot 1)" },
    { "install fails", install_fails, LG_FAIL_COMMAND_FAILED,
      "install of build agent-1 failed (exit 3): sampleagent: kernel 6.1 not supported" },
    { "step overruns", exec_hangs, LG_FAIL_STEP_DEADLINE, "step exec overran its deadline of 1 s" },
    { "contact lost", exec_drops, LG_FAIL_CONTACT_LOST, "lost contact with the guest during step exec" },
    { "fetch missing", fetch_missing, LG_FAIL_FETCH_MISSING, "fetch /var/log/agent.log failed" },
    { "upload refused", upload_refused, LG_FAIL_UPLOAD_REFUSED,
      "upload refused: build agent-1: link bin/y points outside the tree (/etc/shadow)" },
    { "QEMU dies", qemu_dies, LG_FAIL_QEMU_FAILED, "see the libvirt log for labgate-fake" },
    { "QEMU dies during launch", qemu_dies_in_launch, LG_FAIL_QEMU_FAILED, "labgate-fake" },
    { "guest powers off", powers_off, LG_FAIL_POWERED_OFF, "powered itself off" },
    { "watchdog", watchdog, LG_FAIL_WATCHDOG, "watchdog fired (action reset)" },
    { "hypervisor lost", hypervisor_lost, LG_FAIL_HYPERVISOR_LOST, "lost the connection to libvirt (fake:///)" },
    { "Ctrl-C mid-step", interrupted, LG_FAIL_INTERRUPTED, "interrupted (Ctrl-C)" },
    { "kernel panic", panics, LG_FAIL_CONSOLE_REPORT, "BUG: kernel NULL pointer dereference" },
    { "bugcheck", bugchecks, LG_FAIL_BUGCHECK, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA" },
    { "agent unhealthy", agent_unhealthy, LG_FAIL_HEALTH_FAILED, "agent health check failed (exit 1)" },
    { "guest silent", guest_silent, LG_FAIL_HEARTBEAT_LOST, "heartbeat lost: guest did not answer for 2 s" },
};

static void test_each_failure_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(failure_cases); i++) {
        const failure_case *c = &failure_cases[i];
        world *w = world_new();
        full_scenario(w);
        c->arrange(w);
        int64_t t0 = lg_now_ms();
        run(w);
        print_message("# %s: %s in %lld ms\n", c->name, lg_verdict_name(w->result.evidence.verdict),
                      (long long)(lg_now_ms() - t0));
        const lg_failure_info *info = lg_failure_info_of(c->kind);
        /* before the install step began, a guest failure is the image's:
         * INFRA_ERROR "baseline", with what the guest did */
        bool before_candidate = w->result.step && strcmp(w->result.step, "wait-ready") == 0;
        if (before_candidate && lg_verdict_blocks(info->verdict)) {
            assert_verdict(w, LG_VERDICT_INFRA_ERROR, info->signal, c->title_part);
            assert_true(w->result.evidence.baseline);
            assert_int_equal(w->result.evidence.baseline_verdict, info->verdict);
            assert_non_null(strstr(w->result.evidence.title, "baseline: "));
        } else {
            assert_verdict(w, info->verdict, info->signal, c->title_part);
            assert_false(w->result.evidence.baseline);
        }
        /* a decided job always says where it was; times stay honest */
        if (w->f.launches && !w->f.event_in_launch)
            assert_non_null(w->result.step);
        if (c->kind != LG_FAIL_BUGCHECK)
            assert_true(w->result.evidence.panic_time_s < 0);
        /* a guest that failed was frozen at the decision, once, before its
         * screenshot; nothing is frozen for a harness failure */
        bool guest_failed = w->f.launches && lg_verdict_blocks(info->verdict);
        assert_int_equal(atomic_load(&w->f.suspends), guest_failed ? 1 : 0);
        if (guest_failed) {
            assert_true(w->f.suspend_seq < w->f.screenshot_seq);
            assert_true(w->result.evidence.frozen_time_s >= w->result.evidence.time_s);
        } else {
            assert_true(w->result.evidence.frozen_time_s < 0);
        }
        /* a refused build never reaches the guest's installer */
        if (c->kind == LG_FAIL_UPLOAD_REFUSED) {
            assert_int_equal(w->f.installs, 0);
            assert_string_equal(w->result.step, "install");
        }
        world_free(w);
    }
}

/* A crash while each kind of step runs is CRASH, in that step. */
static void test_crash_during_each_step(void **state)
{
    (void)state;
    static const struct { lg_step_kind kind; const char *trigger; const char *step; } cases[] = {
        { LG_STEP_INSTALL, "install.sh", "install" },
        { LG_STEP_APPLY_CONTENT, "hook.sh", "apply-content" },
        { LG_STEP_EXEC, "run-test", "exec" },
        { LG_STEP_FETCH, "agent.log", "fetch" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        world *w = world_new();
        full_scenario(w);
        w->f.trigger = cases[i].trigger;
        w->f.act = ACT_CRASH;
        run(w);
        assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG: kernel NULL pointer dereference");
        assert_string_equal(w->result.step, cases[i].step);
        world_free(w);
    }
}

/* A guest that crashes before the install step began failed by itself (its
 * image, its host): INFRA_ERROR "baseline", never the candidate's CRASH.
 * Once the install began, the same crash is the candidate's.  A scenario
 * that never puts a candidate on the guest tests the image as it is. */
static void test_baseline_failure(void **state)
{
    (void)state;
    world *w = world_new();
    full_scenario(w);
    w->f.trigger = "boot-count";
    w->f.act = ACT_CRASH;
    run(w);
    assert_verdict(w, LG_VERDICT_INFRA_ERROR, LG_SIGNAL_CONSOLE,
                   "baseline: the guest image failed before the candidate was installed: CRASH BUG: kernel NULL");
    assert_true(w->result.evidence.baseline);
    assert_int_equal(w->result.evidence.baseline_verdict, LG_VERDICT_CRASH);
    assert_int_equal(w->f.installs, 0);
    world_free(w);

    w = world_new();
    full_scenario(w);
    w->f.trigger = "install.sh";
    w->f.act = ACT_CRASH;
    run(w);
    assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG: kernel NULL pointer dereference");
    assert_false(w->result.evidence.baseline);
    world_free(w);

    w = world_new();
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_EXEC, 0, "run-test");
    w->f.trigger = "boot-count";
    w->f.act = ACT_CRASH;
    run(w);
    assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG: kernel NULL pointer dereference");
    assert_false(w->result.evidence.baseline);
    world_free(w);
}

/* A baseline failure run again: the first attempt's files move to
 * jobs/ID/attempt-1/, its verdict and title are kept, the result is clear
 * for the next attempt. */
static void test_archive_attempt(void **state)
{
    (void)state;
    world *w = world_new();
    full_scenario(w);
    w->f.trigger = "boot-count";
    w->f.act = ACT_CRASH;
    run(w);
    lg_attempt *earlier = NULL;
    size_t n_earlier = 0;
    assert_int_equal(lg_job_archive_attempt(w->dir, &w->job, &w->result, &earlier, &n_earlier), 0);
    assert_int_equal(n_earlier, 1);
    assert_int_equal(earlier[0].verdict, LG_VERDICT_INFRA_ERROR);
    assert_non_null(strstr(earlier[0].title, "baseline: "));
    assert_string_equal(earlier[0].dir, "jobs/0123456789ab/attempt-1");
    assert_null(w->result.evidence.title);
    LG_AUTOFREE char *moved = lg_strdup_printf("%s/jobs/0123456789ab/attempt-1/console.log", w->dir);
    LG_AUTOFREE char *left = lg_strdup_printf("%s/jobs/0123456789ab/console.log", w->dir);
    assert_int_equal(access(moved, F_OK), 0);
    assert_int_not_equal(access(left, F_OK), 0);
    /* the second attempt's files go beside it, the first stay put */
    run(w);
    assert_int_equal(lg_job_archive_attempt(w->dir, &w->job, &w->result, &earlier, &n_earlier), 0);
    assert_int_equal(n_earlier, 2);
    assert_string_equal(earlier[1].dir, "jobs/0123456789ab/attempt-2");
    assert_int_equal(access(moved, F_OK), 0);
    w->result.attempts = earlier;
    w->result.n_attempts = n_earlier;
    world_free(w);
}

/* A reboot step on its own: the boot counter moves, nothing fires. */
static void test_one_reboot(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_REBOOT, 1, NULL);
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->result.boots, 2);
    world_free(w);
}

/* A job that never ran (Ctrl-C before it started, a dead host): INFRA_ERROR
 * with no time anybody measured. */
static void test_not_run_times_unknown(void **state)
{
    (void)state;
    lg_job_result r;
    lg_job_result_init(&r);
    lg_job_result_not_run(&r, "not run: interrupted (Ctrl-C)");
    assert_int_equal(r.evidence.verdict, LG_VERDICT_INFRA_ERROR);
    assert_true(r.evidence.panic_time_s < 0);
    assert_true(r.evidence.report_time_s < 0);
    assert_true(r.evidence.last_answer_s < 0);
    lg_job_result_clear(&r);
}

/* <fetch path="/dev/zero"/>: stopped at the policy's cap, AGENT_FAILURE
 * "file too large" long before the step deadline (it used to run into the
 * deadline and be called a HANG while the guest kept sending). */
static void test_fetch_cap(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_FETCH, 0, "/dev/zero");
    w->matrix.policy.fetch_max_mib = 8;
    w->f.fetch_endless = true;
    w->f.fetch_ms_per_mib = 2;
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "fetch /dev/zero failed: file too large (over 8 MiB)");
    assert_true(w->f.fetch_max == 8u << 20);
    assert_string_equal(w->result.step, "fetch");
    assert_true(w->result.duration_s < 0.8); /* the step deadline is 1 s */
    assert_int_equal(w->result.n_files, 0);
    world_free(w);

    /* no policy value: 1024 MiB */
    w = world_new();
    add_step(w, LG_STEP_FETCH, 0, "/dev/zero");
    w->f.fetch_endless = true;
    run(w);
    assert_true(w->f.fetch_max == 1024u << 20);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "file too large (over 1024 MiB)");
    world_free(w);

    /* still sending at the deadline: slow, not silent, so not a HANG */
    w = world_new();
    add_step(w, LG_STEP_FETCH, 0, "/dev/zero");
    w->f.fetch_endless = true;
    w->f.fetch_ms_per_mib = 5;
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "fetch /dev/zero failed: still streaming at the deadline");
    world_free(w);
}

/* A cap beyond the room left on the results' file system: the room is the
 * cap (less labgate's reserve), and the title says which limit it was. */
static void test_fetch_cap_is_the_room_left(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_FETCH, 0, "/dev/zero");
    w->matrix.policy.fetch_max_mib = INT_MAX; /* 2 PiB: more than any disk here */
    w->f.fetch_endless = true;
    uint64_t room_before = 0;
    assert_int_equal(lg_fs_room(w->dir, &room_before), 0);
    run(w);
    assert_true(w->f.fetch_max < (uint64_t)INT_MAX << 20);
    /* what the file system had when the step ran (others write there too) */
    uint64_t slack = 256ULL << 20;
    assert_true(w->f.fetch_max + slack >= room_before && w->f.fetch_max <= room_before + slack);
    LG_AUTOFREE char *title = lg_strdup_printf("fetch /dev/zero failed: file too large (over %llu MiB, the room left "
                                               "on the results file system)",
                                               (unsigned long long)(w->f.fetch_max >> 20));
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, title);
    world_free(w);
}

/* libvirtd restarts while a step runs: the guest ran on, so does the job,
 * and the gap is in its timeline. */
static void test_daemon_restart_mid_step(void **state)
{
    (void)state;
    world *w = world_new();
    full_scenario(w);
    w->f.trigger = "run-test";
    w->f.act = ACT_DAEMON_RESTART;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_null(w->result.evidence.title);
    assert_int_equal(w->result.n_files, 1); /* the steps after it ran */
    assert_int_equal(w->result.evidence.n_signals, 1);
    const lg_signal_note *note = &w->result.evidence.signals[0];
    assert_int_equal(note->signal, LG_SIGNAL_HYPERVISOR);
    assert_int_equal(note->verdict, LG_VERDICT_PASS);
    assert_string_equal(note->title, "hypervisor connection lost for 2 s, reattached");
    assert_int_equal(w->f.destroyed_while_down, 0);
    world_free(w);
}

/* The steps end while libvirtd is away: the job waits for it before it
 * tears the domain down through it. */
static void test_daemon_back_after_steps(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_EXEC, 0, "run-test");
    w->f.trigger = "run-test";
    w->f.act = ACT_DAEMON_RESTART_AFTER;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.destroyed, 1);
    assert_int_equal(w->f.destroyed_while_down, 0);
    assert_int_equal(w->result.evidence.n_signals, 1);
    assert_string_equal(w->result.evidence.signals[0].title, "hypervisor connection lost for 1 s, reattached");
    world_free(w);
}

/* A job that starts while libvirtd is away waits for it, then launches. */
static void test_launch_waits_for_the_daemon(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    atomic_store(&w->f.epoch, 1);
    w->f.reconnector_started = pthread_create(&w->f.reconnector, NULL, reconnect_later, &w->f) == 0;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.launches, 1);
    world_free(w);
}

/* --keep leaves the failed VM and the overlay for an engineer. */
static void test_keep_failed(void **state)
{
    (void)state;
    world *w = world_new();
    full_scenario(w);
    panics(w);
    w->env.keep_failed = true;
    lg_job_run(&w->env, &w->job, &w->result);
    assert_int_equal(w->f.released, 1);
    assert_int_equal(w->f.destroyed, 0);
    assert_int_equal(w->f.overlays_removed, 0);
    assert_string_equal(w->result.kept_domain, "labgate-fake");
    assert_true(w->result.kept_port > 0);
    assert_int_equal(w->f.sessions, w->f.sessions_freed);
    world_free(w);
}

/* ------------------------------------------------------------------ stress */

static void stress_scenario(world *w, lg_stress_kind kind)
{
    add_step(w, LG_STEP_WAIT_READY, 0, NULL);
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    w->steps[w->scenario.n_steps++] =
        (lg_step){ .kind = LG_STEP_STRESS, .stress_kind = kind, .stress_seconds = 1 };
}

typedef struct countdown {
    int calls;
    char what[64];
    int64_t left_ms;
} countdown;

static void record_until(void *opaque, const lg_job *job, int boot, const char *what, int64_t until_ms)
{
    (void)job; (void)boot;
    countdown *c = opaque;
    c->calls++;
    snprintf(c->what, sizeof(c->what), "%s", what);
    c->left_ms = until_ms - lg_now_ms();
}

/* The load runs in the guest (stress-ng on Linux), the display counts down
 * to its end, the agent's health is asked after it, and the job passes. */
static void test_stress_passes(void **state)
{
    (void)state;
    world *w = world_new();
    stress_scenario(w, LG_STRESS_PROCESS);
    countdown c = { 0 };
    w->env.progress_until = record_until;
    w->env.progress_opaque = &c;
    w->f.trigger = "stress-ng --fork 2";
    w->f.act = ACT_NONE;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.what, "stress process");
    assert_true(c.left_ms > 0 && c.left_ms <= 1000);
    world_free(w);
}

/* What the stress command's exit says, and the verdict the table gives:
 * a missing tool is no verdict on the agent, a failed load is. */
static void test_stress_fails_clearly(void **state)
{
    (void)state;
    static const struct { int status; const char *output; lg_failure kind; const char *title; } cases[] = {
        { 127, "stress-ng is not installed in the guest\n", LG_FAIL_STRESS_UNAVAILABLE,
          "stress io could not run (exit 127): stress-ng is not installed in the guest" },
        { 1, "stress-ng: unrecognized option '--hdd-opts'\n", LG_FAIL_STRESS_UNAVAILABLE,
          "stress io could not run (exit 1): stress-ng: unrecognized option '--hdd-opts'" },
        { 2, "stress-ng: fail:  [99] hdd: write failed, errno=5 (Input/output error)\nstress-ng: info:  [98] "
             "unsuccessful run completed in 4.01s\n",
          LG_FAIL_STRESS_FAILED, "stress io failed (exit 2): stress-ng: fail:  [99] hdd: write failed" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        world *w = world_new();
        stress_scenario(w, LG_STRESS_IO);
        w->f.trigger = "stress-ng";
        w->f.act = ACT_FAIL;
        w->f.fail_status = cases[i].status;
        w->f.fail_output = cases[i].output;
        run(w);
        const lg_failure_info *info = lg_failure_info_of(cases[i].kind);
        assert_verdict(w, info->verdict, info->signal, cases[i].title);
        assert_string_equal(w->result.step, "stress");
        world_free(w);
    }
}

/* A crash under the load is CRASH in the stress step; a guest that stops
 * answering under it is HANG (the heartbeat's), not a long wait. */
static void test_stress_crash_and_hang(void **state)
{
    (void)state;
    world *w = world_new();
    stress_scenario(w, LG_STRESS_PROCESS);
    w->f.trigger = "stress-ng";
    w->f.act = ACT_CRASH;
    run(w);
    assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG: kernel NULL pointer dereference");
    assert_string_equal(w->result.step, "stress");
    world_free(w);

    w = world_new();
    stress_scenario(w, LG_STRESS_MEMORY);
    w->f.trigger = "stress-ng";
    w->f.act = ACT_HANG;
    w->f.ping_rc = -ETIMEDOUT;
    int64_t t0 = lg_now_ms();
    run(w);
    assert_verdict(w, LG_VERDICT_HANG, LG_SIGNAL_HEARTBEAT, "heartbeat lost");
    assert_string_equal(w->result.step, "stress");
    /* decided by the heartbeat (2 s), long before the step's deadline (31 s) */
    assert_true(lg_now_ms() - t0 < 20000);
    world_free(w);
}

/* The profile's leak scan (the debug guest's kmemleak) at the end of a job
 * that passed its steps: each leak is a finding, the job still passes, the
 * report is one of the job's files; a job decided before the end scans
 * nothing; a guest without the detector says so in a note. */
static void test_leak_scan_findings(void **state)
{
    static const char report[] =
        "unreferenced object 0xffff88800a3f4e00 (size 8):\n"
        "  comm \"cat\", pid 231, jiffies 4294901822 (age 12.500s)\n"
        "  backtrace:\n"
        "    [<ffffffff812b71b4>] kmalloc_trace+0x24/0x90\n"
        "    [<ffffffffc00021a3>] fakedrv_cache_rule+0xd3/0x1f0 [fakedrv]\n";
    world *w = world_new();
    full_scenario(w);
    w->profile.leak_scan_command = "labgate-kmemleak-scan";
    w->profile.leak_scan_timeout_s = 5;
    w->f.trigger = "labgate-kmemleak-scan";
    w->f.act = ACT_FAIL;
    w->f.fail_status = 0;
    w->f.fail_output = report;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    const lg_evidence *ev = &w->result.evidence;
    bool found = false;
    for (size_t i = 0; i < ev->n_signals; i++)
        if (ev->signals[i].signal == LG_SIGNAL_LEAK_SCAN) {
            assert_string_equal(ev->signals[i].title,
                                "kmemleak: 1 unreferenced object: memory leak in fakedrv_cache_rule");
            found = true;
        }
    assert_true(found);
    assert_int_equal(w->result.n_files, 2);
    assert_string_equal(w->result.files[1], "jobs/0123456789ab/files/leak-scan.txt");
    LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", w->dir, w->result.files[1]);
    size_t len = 0;
    LG_AUTOFREE char *kept = NULL;
    assert_int_equal(lg_read_file(path, 1 << 20, &kept, &len), 0);
    assert_string_equal(kept, report);
    world_free(w);

    /* the detector is missing: not checked, said so */
    w = world_new();
    full_scenario(w);
    w->profile.leak_scan_command = "labgate-kmemleak-scan";
    w->profile.leak_scan_timeout_s = 5;
    w->f.trigger = "labgate-kmemleak-scan";
    w->f.act = ACT_FAIL;
    w->f.fail_status = 2;
    w->f.fail_output = "labgate-kmemleak-scan: this kernel has no kmemleak\n";
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->result.evidence.n_signals, 1);
    assert_int_equal(w->result.evidence.signals[0].signal, LG_SIGNAL_LEAK_SCAN);
    assert_string_equal(w->result.evidence.signals[0].title,
                        "leak scan not done: the command exited 2 (see leak-scan.txt)");
    world_free(w);

    /* a crash decided the job: no scan of a dead guest */
    w = world_new();
    full_scenario(w);
    w->profile.leak_scan_command = "labgate-kmemleak-scan";
    w->f.trigger = "run-test";
    w->f.act = ACT_CRASH;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_CRASH);
    for (size_t i = 0; i < w->result.n_files; i++)
        assert_null(strstr(w->result.files[i], "leak-scan"));
    world_free(w);
}

/* The agent's health after the load: a failure there is AGENT_FAILURE with
 * the health command's output. */
static void test_stress_then_health(void **state)
{
    (void)state;
    world *w = world_new();
    stress_scenario(w, LG_STRESS_CPU);
    w->f.health_status = 1;
    w->matrix.policy.heartbeat_interval_s = 60; /* only the step asks */
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_HEARTBEAT,
                   "agent health check failed (exit 1) while the OS lived: after stress cpu (boot 1): "
                   "sampleagentd is not running");
    assert_string_equal(w->result.step, "stress");
    world_free(w);
}

/* ---------------------------------------------------------------- cycles */

typedef struct progress_log {
    lg_buf lines;
    pthread_mutex_t lock;
} progress_log;

static void log_progress(void *opaque, const lg_job *job, int boot, const char *what)
{
    (void)job; (void)boot;
    progress_log *log = opaque;
    pthread_mutex_lock(&log->lock);
    lg_buf_printf(&log->lines, "%s\n", what);
    pthread_mutex_unlock(&log->lock);
}

/* The world's scenario as matrix.c loads it: wait-ready, then a repeat of
 * (reboot, exec check) three times, then count="auto" reboots (4, as for
 * max-failure-rate 0.5 at confidence 0.9). */
static lg_scenario *cycles_scenario(world *w, progress_log *log)
{
    lg_scenario *sc = calloc(1, sizeof(*sc));
    sc->id = (char *)"cycles";
    sc->steps = lg_calloc(8, sizeof(*sc->steps));
    sc->steps[sc->n_steps++] = (lg_step){ .kind = LG_STEP_WAIT_READY, .count = 1 };
    sc->steps[sc->n_steps++] = (lg_step){ .kind = LG_STEP_REBOOT, .count = 1, .repeat = 1, .cycles = 3 };
    sc->steps[sc->n_steps++] =
        (lg_step){ .kind = LG_STEP_EXEC, .count = 1, .command = lg_strdup("check"), .repeat = 1, .cycles = 3 };
    sc->steps[sc->n_steps++] = (lg_step){ .kind = LG_STEP_REBOOT, .count = 1, .repeat = 2, .auto_cycles = true };
    lg_diags diags = { 0 };
    assert_int_equal(lg_scenario_expand(sc, 4, "m.xml", &diags), 0);
    assert_int_equal(sc->n_steps, 1 + 6 + 4);
    w->job.scenario = sc;
    w->matrix.policy.max_failure_rate = 0.5;
    w->matrix.policy.confidence = 0.9;
    w->matrix.policy.bound_cycles = 4;
    memset(log, 0, sizeof(*log));
    pthread_mutex_init(&log->lock, NULL);
    w->env.progress = log_progress;
    w->env.progress_opaque = log;
    return sc;
}

static void cycles_done(lg_scenario *sc, progress_log *log)
{
    for (size_t i = 0; i < sc->n_steps; i++)
        free(sc->steps[i].command);
    free(sc->steps);
    free(sc);
    lg_buf_free(&log->lines);
    pthread_mutex_destroy(&log->lock);
}

static void test_cycles_counted(void **state)
{
    (void)state;
    world *w = world_new();
    progress_log log;
    lg_scenario *sc = cycles_scenario(w, &log);
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    /* the first boot, 3 in the repeat, 4 in the auto cycles */
    assert_int_equal(w->result.ready_boots, 8);
    assert_int_equal(w->result.boots, 8);
    assert_int_equal(w->result.cycles, 7);
    assert_int_equal(w->result.bound_cycles, 4);
    assert_int_equal(w->result.bound_boots, 4);
    /* the progress line says the cycle, also while the reboot waits */
    assert_non_null(strstr(log.lines.data, "cycle 2/3: step 4/11 reboot\n"));
    assert_non_null(strstr(log.lines.data, "cycle 3/3: step 7/11 exec\n"));
    assert_non_null(strstr(log.lines.data, "cycle 4/4: step 11/11 reboot\n"));
    assert_non_null(strstr(log.lines.data, "cycle 4/4: reboot 1/1"));
    assert_null(strstr(log.lines.data, "cycle 0"));
    assert_non_null(strstr(log.lines.data, "\nstep 1/11 wait-ready\n"));
    cycles_done(sc, &log);
    world_free(w);
}

/* A failure in the second cycle: the failure's own verdict, the cycle it
 * came in, the cycles before it counted, and no auto cycle at all. */
static void test_cycle_failure_stops_the_cycles(void **state)
{
    (void)state;
    world *w = world_new();
    progress_log log;
    lg_scenario *sc = cycles_scenario(w, &log);
    w->f.trigger = "check";
    w->f.trigger_skip = 1;
    w->f.act = ACT_FAIL;
    w->f.fail_status = 2;
    w->f.fail_output = "sampleagentd: table full\n";
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_STEP, "exec 'check' failed (exit 2): sampleagentd: table full");
    assert_string_equal(w->result.step, "exec (cycle 2/3)");
    assert_int_equal(w->result.cycles, 1);
    assert_int_equal(w->result.bound_cycles, 0);
    assert_int_equal(w->result.ready_boots, 3);
    cycles_done(sc, &log);
    world_free(w);
}

/* Ctrl-C in the middle of the auto cycles: not a pass, and the count says
 * how far it got. */
static void test_cycles_interrupted(void **state)
{
    (void)state;
    world *w = world_new();
    progress_log log;
    lg_scenario *sc = cycles_scenario(w, &log);
    /* the second auto cycle runs a command the user interrupts */
    lg_step *second = &sc->steps[sc->n_steps - 3];
    assert_int_equal(second->cycle, 2);
    assert_true(second->auto_cycles);
    second->kind = LG_STEP_EXEC;
    second->command = lg_strdup("stop-here");
    w->f.trigger = "stop-here";
    w->f.act = ACT_INTERRUPT;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_INFRA_ERROR);
    assert_non_null(strstr(w->result.evidence.title, "interrupted"));
    assert_int_equal(w->result.bound_cycles, 1);
    assert_int_equal(w->result.cycles, 4);
    cycles_done(sc, &log);
    world_free(w);
}

/* ------------------------------------------------ power, reloads, health */

/* power-cycle and cold-boot: the guest comes back in a later boot, the
 * agent's health is asked after each, and the stop a cold boot makes
 * (shut down, or destroyed when the guest ignores it) is no failure. */
static void test_power_cycle_and_cold_boot(void **state)
{
    (void)state;
    for (int ignores = 0; ignores < 2; ignores++) {
        world *w = world_new();
        add_step(w, LG_STEP_INSTALL, 0, NULL);
        add_step(w, LG_STEP_POWER_CYCLE, 0, NULL);
        add_step(w, LG_STEP_COLD_BOOT, 0, NULL);
        add_step(w, LG_STEP_COLD_BOOT, 0, NULL);
        w->f.ignores_shutdown = ignores;
        run(w);
        assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
        assert_null(w->result.evidence.title);
        assert_int_equal(w->result.boots, 4);
        assert_int_equal(w->f.resets, 1);
        assert_int_equal(w->f.power_offs, 2);
        assert_int_equal(w->f.power_ons, 2);
        /* after each of the three boots, and once more at the end */
        assert_int_equal(w->f.health_checks, 4);
        assert_int_equal(w->result.power_cut_ms, -1);
        world_free(w);
    }
}

/* A crash as the guest boots again after a power-cycle or cold-boot: CRASH
 * in that step. */
static void test_crash_during_power_steps(void **state)
{
    (void)state;
    static const lg_step_kind kinds[] = { LG_STEP_POWER_CYCLE, LG_STEP_COLD_BOOT };
    for (size_t i = 0; i < LG_N_ELEMENTS(kinds); i++) {
        world *w = world_new();
        add_step(w, LG_STEP_INSTALL, 0, NULL);
        add_step(w, kinds[i], 0, NULL);
        add_step(w, LG_STEP_EXEC, 0, "run-test");
        w->f.crash_on_boot = true;
        run(w);
        assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "fakedrv_index");
        assert_string_equal(w->result.step, lg_step_kind_name(kinds[i]));
        assert_int_equal(w->f.health_checks, 0);
        world_free(w);
    }
}

/* An unhealthy agent and no exec step: the health gate after a reboot,
 * or at the end, makes it AGENT_FAILURE with the command's output. */
static void test_health_gate(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
    add_step(w, LG_STEP_REBOOT, 1, NULL);
    w->matrix.policy.heartbeat_interval_s = 60; /* not the heartbeat: the gate */
    w->f.health_status = 1;
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_HEARTBEAT,
                   "exit 1) while the OS lived: after reboot 1/1 (boot 2): sampleagentd is not running");
    assert_string_equal(w->result.step, "reboot");
    assert_int_equal(w->f.health_checks, 2); /* a second chance */
    world_free(w);

    /* no reboot: the check before the job passes */
    w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    w->matrix.policy.heartbeat_interval_s = 60;
    w->f.health_status = 1;
    run(w);
    assert_verdict(w, LG_VERDICT_AGENT_FAILURE, LG_SIGNAL_HEARTBEAT, "after the last step (boot 1)");
    assert_string_equal(w->result.step, "health");
    world_free(w);

    /* not installed, or no health command: nothing to ask */
    w = world_new();
    add_step(w, LG_STEP_REBOOT, 1, NULL);
    w->f.health_status = 1;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.health_checks, 0);
    world_free(w);
    w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_REBOOT, 1, NULL);
    w->build.health = NULL;
    w->f.health_status = 1;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.health_checks, 0);
    world_free(w);
}

/* The health command's output is the guest's: one line, bounded, no
 * control bytes in the title. */
static void test_health_output_cleaned(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    w->matrix.policy.heartbeat_interval_s = 60;
    w->f.health_status = 2;
    char loud[2048];
    memset(loud, 'x', sizeof(loud) - 1);
    loud[sizeof(loud) - 1] = '\0';
    memcpy(loud, "\x1b[31mred", 9);
    w->f.health_output = loud;
    run(w);
    const char *title = w->result.evidence.title;
    assert_non_null(title);
    assert_null(strchr(title, '\x1b'));
    assert_non_null(strstr(title, "\\x1b[31mred"));
    assert_true(strlen(title) < 400);
    world_free(w);
}

/* <content-reload count="N"/>: the hook N times; a crash in the third
 * is CRASH in content-reload. */
static void test_content_reload(void **state)
{
    (void)state;
    world *w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_CONTENT_RELOAD, 5, NULL);
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.hooks, 5);
    world_free(w);

    w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_CONTENT_RELOAD, 5, NULL);
    w->f.trigger = "hook.sh";
    w->f.act = ACT_CRASH;
    w->f.trigger_skip = 2;
    run(w);
    assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "BUG: kernel NULL pointer dereference");
    assert_string_equal(w->result.step, "content-reload");
    assert_int_equal(w->f.hooks, 3);
    world_free(w);
}

/* <apply-content cut-power-within-ms="W"/>: the power goes at the seed's
 * moment, whether the hook still runs or not; the guest must come back
 * healthy; a boot that then crashes (a torn file) is CRASH. */
static void test_power_cut(void **state)
{
    (void)state;
    for (int hangs = 0; hangs < 2; hangs++) {
        world *w = world_new();
        add_step(w, LG_STEP_INSTALL, 0, NULL);
        add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
        w->steps[1].cut_power_within_ms = 300;
        w->job.seed = 12345;
        if (hangs) {
            w->f.trigger = "hook.sh";
            w->f.act = ACT_HANG; /* still running when the power goes */
        }
        int64_t t0 = lg_now_ms();
        run(w);
        int want = lg_plan_cut_ms(&w->job, 1, 300);
        assert_in_range(want, 0, 299);
        assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
        assert_int_equal(w->result.power_cut_ms, want);
        assert_true(lg_now_ms() - t0 >= want);
        assert_int_equal(w->f.resets, 1);
        assert_int_equal(w->result.boots, 2);
        assert_int_equal(w->f.health_checks, 2); /* after the cut, at the end */
        world_free(w);
    }

    world *w = world_new();
    add_step(w, LG_STEP_INSTALL, 0, NULL);
    add_step(w, LG_STEP_APPLY_CONTENT, 0, NULL);
    w->steps[1].cut_power_within_ms = 100;
    w->f.crash_on_boot = true;
    run(w);
    assert_verdict(w, LG_VERDICT_CRASH, LG_SIGNAL_CONSOLE, "fakedrv_index");
    assert_string_equal(w->result.step, "apply-content");
    assert_int_equal(w->result.power_cut_ms, lg_plan_cut_ms(&w->job, 1, 100));
    world_free(w);
}

/* The guest's images go where the host has them before the domain is
 * built: the domain boots the staged kernel from an overlay the backend
 * made on the host, and the user sees the upload. */
static void test_images_staged_on_the_host(void **state)
{
    (void)state;
    world *w = world_new();
    progress_log log;
    memset(&log, 0, sizeof(log));
    pthread_mutex_init(&log.lock, NULL);
    w->env.progress = log_progress;
    w->env.progress_opaque = &log;
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.staged, 2); /* disk and kernel: this profile has no initramfs */
    assert_int_equal(w->f.overlays, 1);
    assert_non_null(w->f.launched_xml);
    assert_non_null(strstr(w->f.launched_xml, "<kernel>/pool/vmlinuz</kernel>"));
    assert_non_null(strstr(w->f.launched_xml, "<source file=\"/pool/labgate-test-0123456789ab.qcow2\"/>"));
    assert_null(strstr(w->f.launched_xml, "/images/"));
    assert_non_null(strstr(log.lines.data, "uploading /images/vmlinuz to fake:///: 3 MiB of 3\n"));
    lg_buf_free(&log.lines);
    pthread_mutex_destroy(&log.lock);
    world_free(w);
}

/* ------------------------------------------------- baseline="first" */

static lg_host the_host = { .id = "local", .uri = "fake:///" };

/* the world's job as a plan of one host, with a second job of the same
 * profile */
typedef struct baseline_world {
    world *w;
    lg_job jobs[2];
    lg_plan plan;
    int baseline_runs;
    pthread_mutex_t lock;
} baseline_world;

static void baseline_world_init(baseline_world *bw)
{
    *bw = (baseline_world){ .w = world_new() };
    full_scenario(bw->w);
    bw->w->matrix.hosts = &the_host;
    bw->w->matrix.n_hosts = 1;
    bw->jobs[0] = bw->w->job;
    bw->jobs[1] = bw->w->job;
    memcpy(bw->jobs[1].id, "0123456789cd", LG_JOB_ID_LEN + 1);
    bw->plan = (lg_plan){ .matrix = &bw->w->matrix, .jobs = bw->jobs, .n_jobs = 2 };
    pthread_mutex_init(&bw->lock, NULL);
}

static void run_baseline_fn(void *caller, const lg_job *job, size_t host, lg_baseline *out)
{
    baseline_world *bw = caller;
    pthread_mutex_lock(&bw->lock);
    bw->baseline_runs++;
    pthread_mutex_unlock(&bw->lock);
    lg_sleep_ms(50); /* long enough for the other workers to arrive and wait */
    lg_baseline_run(&bw->w->env, &bw->plan, job->guest->profile, host, out);
}

/* The baseline boots the profile with nothing installed: its first boot and
 * the scenario's reboots, no install, no content hook, no exec. */
static void test_baseline_scenario(void **state)
{
    (void)state;
    baseline_world bw;
    baseline_world_init(&bw);
    LG_AUTO(lg_scenario) sc = lg_baseline_scenario(&bw.plan, &bw.w->profile);
    assert_non_null(sc);
    assert_int_equal(sc->n_steps, 2);
    assert_int_equal(sc->steps[0].kind, LG_STEP_WAIT_READY);
    assert_int_equal(sc->steps[1].kind, LG_STEP_REBOOT);
    assert_int_equal(sc->steps[1].count, 2);
    for (size_t i = 0; i < sc->n_steps; i++)
        assert_false(lg_step_puts_candidate(sc->steps[i].kind));
    lg_profile other = bw.w->profile;
    other.id = "other";
    assert_null(lg_baseline_scenario(&bw.plan, &other));
    LG_AUTOFREE char *dir = lg_baseline_dir(&bw.w->matrix, &bw.w->profile, &the_host);
    assert_string_equal(dir, "baseline/fake-linux");
    pthread_mutex_destroy(&bw.lock);
    world_free(bw.w);
}

/* A baseline that passes: recorded with its boots, its files under
 * baseline/PROFILE/, and the profile's jobs run. */
static void test_baseline_passes(void **state)
{
    (void)state;
    baseline_world bw;
    baseline_world_init(&bw);
    world *w = bw.w;
    lg_baseline_gate *gate = lg_baseline_gate_new(run_baseline_fn);
    lg_job_result res;
    lg_job_result_init(&res);
    assert_true(lg_baseline_gate_pass(gate, &bw.jobs[0], 0, &bw, &w->interrupted, &res));
    assert_int_equal(w->f.installs, 0);
    assert_int_equal(w->f.hooks, 0);
    assert_true(lg_baseline_gate_pass(gate, &bw.jobs[1], 0, &bw, &w->interrupted, &res));
    assert_int_equal(bw.baseline_runs, 1); /* once per profile and host */
    assert_null(res.evidence.title);
    /* the job then runs as ever */
    run(w);
    assert_int_equal(w->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(w->f.installs, 1);
    lg_baselines list = { 0 };
    lg_baseline_gate_free(gate, &list);
    assert_int_equal(list.n, 1);
    const lg_baseline *b = &list.items[0];
    assert_string_equal(b->profile, "fake-linux");
    assert_string_equal(b->host, "local");
    assert_int_equal(b->result.evidence.verdict, LG_VERDICT_PASS);
    assert_int_equal(b->result.ready_boots, 3); /* the first boot and two reboots */
    assert_int_equal(b->planned_boots, 3);
    assert_string_equal(b->result.console_log, "baseline/fake-linux/console.log");
    LG_AUTOFREE char *console = lg_strdup_printf("%s/baseline/fake-linux/console.log", w->dir);
    assert_int_equal(access(console, F_OK), 0);
    LG_AUTOFREE char *jobs = lg_strdup_printf("%s/baseline/jobs", w->dir);
    assert_int_not_equal(access(jobs, F_OK), 0);
    lg_baselines_clear(&list);
    lg_job_result_clear(&res);
    pthread_mutex_destroy(&bw.lock);
    world_free(w);
}

typedef struct gate_caller {
    baseline_world *bw;
    lg_baseline_gate *gate;
    const lg_job *job;
    lg_job_result res;
    bool go;
} gate_caller;

static void *pass_gate(void *opaque)
{
    gate_caller *c = opaque;
    c->go = lg_baseline_gate_pass(c->gate, c->job, 0, c->bw, &c->bw->w->interrupted, &c->res);
    return NULL;
}

/* A baseline that crashes (in its second boot, nothing of the candidate on
 * the guest): every job of the profile, on every worker, is INFRA_ERROR
 * "baseline failed: CRASH ..." with the baseline's evidence and console
 * log, and none of them runs. */
static void test_baseline_fails(void **state)
{
    (void)state;
    baseline_world bw;
    baseline_world_init(&bw);
    world *w = bw.w;
    w->f.trigger = "boot-count";
    w->f.trigger_skip = 1; /* the first boot comes up; the one after the first reboot crashes */
    w->f.act = ACT_CRASH;
    lg_baseline_gate *gate = lg_baseline_gate_new(run_baseline_fn);
    gate_caller callers[3];
    pthread_t threads[3];
    for (size_t i = 0; i < 3; i++) {
        callers[i] = (gate_caller){ .bw = &bw, .gate = gate, .job = &bw.jobs[i % 2] };
        lg_job_result_init(&callers[i].res);
        assert_int_equal(pthread_create(&threads[i], NULL, pass_gate, &callers[i]), 0);
    }
    for (size_t i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(bw.baseline_runs, 1);
    assert_int_equal(w->f.installs, 0);
    assert_int_equal(w->f.hooks, 0);
    for (size_t i = 0; i < 3; i++) {
        lg_job_result *res = &callers[i].res;
        assert_false(callers[i].go);
        assert_int_equal(res->evidence.verdict, lg_failure_info_of(LG_FAIL_BASELINE_FAILED)->verdict);
        assert_false(lg_verdict_blocks(res->evidence.verdict));
        assert_non_null(strstr(res->evidence.title, "baseline failed: CRASH BUG: kernel NULL pointer dereference"));
        assert_int_equal(res->evidence.signal, LG_SIGNAL_CONSOLE);
        assert_true(res->evidence.baseline);
        assert_int_equal(res->evidence.baseline_verdict, LG_VERDICT_CRASH);
        assert_non_null(res->evidence.console_excerpt);
        assert_string_equal(res->console_log, "baseline/fake-linux/console.log");
        assert_string_equal(res->step, "baseline reboot");
        assert_int_equal(res->boots, 0);
        lg_job_result_clear(res);
    }
    LG_AUTOFREE char *console = lg_strdup_printf("%s/baseline/fake-linux/console.log", w->dir);
    assert_int_equal(access(console, F_OK), 0);
    /* the jobs never ran: no directory of their own */
    LG_AUTOFREE char *job_dir = lg_strdup_printf("%s/jobs/0123456789ab", w->dir);
    assert_int_not_equal(access(job_dir, F_OK), 0);
    lg_baselines list = { 0 };
    lg_baseline_gate_free(gate, &list);
    assert_int_equal(list.n, 1);
    assert_int_equal(list.items[0].result.evidence.verdict, LG_VERDICT_CRASH);
    assert_string_equal(list.items[0].result.step, "reboot");
    lg_baselines_clear(&list);
    pthread_mutex_destroy(&bw.lock);
    world_free(w);
}

/* Ctrl-C during the baseline: its jobs are not run, and not blamed on the
 * image either. */
static void test_baseline_interrupted(void **state)
{
    (void)state;
    baseline_world bw;
    baseline_world_init(&bw);
    world *w = bw.w;
    atomic_store(&w->interrupted, true);
    lg_baseline_gate *gate = lg_baseline_gate_new(run_baseline_fn);
    lg_job_result res;
    lg_job_result_init(&res);
    assert_false(lg_baseline_gate_pass(gate, &bw.jobs[0], 0, &bw, &w->interrupted, &res));
    assert_int_equal(res.evidence.verdict, LG_VERDICT_INFRA_ERROR);
    assert_string_equal(res.evidence.title, "not run: interrupted (Ctrl-C)");
    assert_false(res.evidence.baseline);
    lg_job_result_clear(&res);
    lg_baseline_gate_free(gate, NULL);
    pthread_mutex_destroy(&bw.lock);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_counts_reboots),
        cmocka_unit_test(test_remote_forwards),
        cmocka_unit_test(test_boot_loop_frozen_at_the_deciding_reset),
        cmocka_unit_test(test_driver_verifier),
        cmocka_unit_test(test_each_failure_kind),
        cmocka_unit_test(test_crash_during_each_step),
        cmocka_unit_test(test_one_reboot),
        cmocka_unit_test(test_baseline_failure),
        cmocka_unit_test(test_archive_attempt),
        cmocka_unit_test(test_not_run_times_unknown),
        cmocka_unit_test(test_keep_failed),
        cmocka_unit_test(test_fetch_cap),
        cmocka_unit_test(test_fetch_cap_is_the_room_left),
        cmocka_unit_test(test_daemon_restart_mid_step),
        cmocka_unit_test(test_daemon_back_after_steps),
        cmocka_unit_test(test_launch_waits_for_the_daemon),
        cmocka_unit_test(test_stress_passes),
        cmocka_unit_test(test_stress_fails_clearly),
        cmocka_unit_test(test_stress_crash_and_hang),
        cmocka_unit_test(test_stress_then_health),
        cmocka_unit_test(test_leak_scan_findings),
        cmocka_unit_test(test_cycles_counted),
        cmocka_unit_test(test_cycle_failure_stops_the_cycles),
        cmocka_unit_test(test_cycles_interrupted),
        cmocka_unit_test(test_power_cycle_and_cold_boot),
        cmocka_unit_test(test_crash_during_power_steps),
        cmocka_unit_test(test_health_gate),
        cmocka_unit_test(test_health_output_cleaned),
        cmocka_unit_test(test_content_reload),
        cmocka_unit_test(test_power_cut),
        cmocka_unit_test(test_images_staged_on_the_host),
        cmocka_unit_test(test_baseline_scenario),
        cmocka_unit_test(test_baseline_passes),
        cmocka_unit_test(test_baseline_fails),
        cmocka_unit_test(test_baseline_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
