/* The scheduler over hosts that fail, driven whole through fake hosts (a
 * fake host check and a fake backend per host, run/sched.h's host ops):
 * a host failing its check is drained and its jobs run elsewhere; K
 * INFRA_ERRORs in a row drain a host; an INFRA_ERROR job runs again once
 * on another host and a CRASH never does; a lost connection drains; no
 * host left -> every job left INFRA_ERROR and exit 3. */
#include "lg_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/mem.h"
#include "model/verdict.h"
#include "run/baseline.h"
#include "run/drain.h"
#include "run/sched.h"
#include "virt/conn.h"

/* ------------------------------------------------------ a fake host */

typedef enum { HOST_OK, HOST_LAUNCH_FAILS, HOST_CRASHES, HOST_LOSES_CONNECTION, HOST_NEVER_READY } host_mode;

typedef struct fake_host {
    lg_backend base;
    host_mode mode;
    const char *check_failure; /* the check fails so; NULL: it passes */
    int slots;
    /* what happened */
    atomic_int launches, jobs_passed, destroyed, overlays, overlays_removed;
    atomic_bool lost;
    int leftovers_asked;
    lg_domain_handlers handlers; /* the job running there (one slot) */
} fake_host;

struct lg_vm { fake_host *host; };
struct lg_session { fake_host *host; };

static fake_host *H(lg_backend *be) { return (fake_host *)be; }

static int f_image_check(lg_backend *be, const char *path, char **blocking)
{
    (void)be; (void)path; (void)blocking;
    return 0;
}
static int f_image_stage(lg_backend *be, const char *local_path, const char *run_id, lg_stage_progress_fn progress,
                         void *opaque, char **host_path)
{
    (void)be; (void)run_id; (void)progress; (void)opaque;
    *host_path = lg_strdup_printf("/pool/%s", strrchr(local_path, '/') + 1);
    return 0;
}
static int f_overlay_create(lg_backend *be, const char *base, const char *name, char **path)
{
    (void)base;
    atomic_fetch_add(&H(be)->overlays, 1);
    *path = lg_strdup_printf("/pool/%s", name);
    return 0;
}
static int f_overlay_remove(lg_backend *be, const char *overlay)
{
    (void)overlay;
    atomic_fetch_add(&H(be)->overlays_removed, 1);
    return 0;
}
static int f_launch(lg_backend *be, const char *xml, const lg_domain_handlers *handlers, lg_vm **out)
{
    (void)xml;
    fake_host *h = H(be);
    if (h->mode == HOST_LAUNCH_FAILS) {
        lg_error_set("cannot start the domain: fake host refused");
        return -EIO;
    }
    h->handlers = *handlers;
    atomic_fetch_add(&h->launches, 1);
    lg_vm *vm = lg_calloc(1, sizeof(*vm));
    vm->host = h;
    *out = vm;
    return 0;
}
static const char *f_vm_name(lg_vm *vm) { (void)vm; return "labgate-fake"; }
static int f_vm_crashed(lg_vm *vm, bool *crashed) { (void)vm; *crashed = false; return 0; }
static char *f_screenshot(lg_vm *vm, const char *stem) { (void)vm; (void)stem; lg_error_set("no display"); return NULL; }
static int f_memory_dump(lg_vm *vm, const char *path) { (void)vm; (void)path; lg_error_set("no dump"); return -EIO; }
static int f_reset(lg_vm *vm, int64_t timeout_ms) { (void)vm; (void)timeout_ms; return 0; }
static int f_power_off(lg_vm *vm, int64_t graceful_ms, bool *graceful)
{
    (void)vm; (void)graceful_ms;
    *graceful = true;
    return 0;
}
static int f_power_on(lg_vm *vm) { (void)vm; return 0; }
static int f_suspend(lg_vm *vm, int64_t timeout_ms) { (void)vm; (void)timeout_ms; return 0; }
static int f_destroy(lg_vm *vm)
{
    if (vm) {
        atomic_fetch_add(&vm->host->destroyed, 1);
        free(vm);
    }
    return 0;
}
static void f_release(lg_vm *vm) { free(vm); }
static int f_take_log(lg_backend *be, const char *d, lg_hvlog_kind k, const char *dest)
{
    (void)be; (void)d; (void)k; (void)dest;
    return 0;
}
static bool f_lost(lg_backend *be) { return atomic_load(&H(be)->lost); }
static unsigned f_epoch(lg_backend *be) { return atomic_load(&H(be)->lost) ? 1 : 0; }
static const char *f_uri(lg_backend *be) { (void)be; return "fake:///"; }
static int f_connect(lg_backend *be, lg_vm *vm, const lg_transport_target *t, lg_deadline dl, lg_session **out)
{
    (void)vm; (void)t; (void)dl;
    if (H(be)->mode == HOST_NEVER_READY) {
        lg_error_set("connection refused");
        return -ECONNREFUSED;
    }
    lg_session *s = lg_calloc(1, sizeof(*s));
    s->host = H(be);
    *out = s;
    return 0;
}
static int f_ping(lg_session *s, lg_deadline dl) { (void)s; (void)dl; return 0; }
static int f_exec(lg_session *s, const char *command, const void *input, size_t input_len, lg_deadline dl,
                  lg_buf *output, int *exit_status)
{
    (void)input; (void)input_len;
    fake_host *h = s->host;
    if (strstr(command, "boot-count")) {
        if (output)
            lg_buf_printf(output, "1\n");
        *exit_status = 0;
        return 0;
    }
    if (strstr(command, "run-test") && h->mode == HOST_CRASHES) {
        const char *oops = "[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008\n";
        h->handlers.console(h->handlers.opaque, oops, strlen(oops));
        h->handlers.event(h->handlers.opaque,
                          &(lg_domain_event){ .kind = LG_DOMAIN_EVENT_PANICKED, .domain = "labgate-fake" });
        lg_error_set("connection reset");
        return -ECONNRESET;
    }
    if (strstr(command, "run-test") && h->mode == HOST_LOSES_CONNECTION) {
        /* the daemon went away and never came back */
        atomic_store(&h->lost, true);
        h->handlers.event(h->handlers.opaque, &(lg_domain_event){ .kind = LG_DOMAIN_EVENT_CONNECTION_LOST,
                                                                  .domain = "labgate-fake", .final = true });
        while (!lg_deadline_passed(dl))
            lg_sleep_ms(10);
        lg_error_set("timed out");
        return -ETIMEDOUT;
    }
    if (strstr(command, "run-test"))
        atomic_fetch_add(&h->jobs_passed, 1);
    *exit_status = 0;
    return 0;
}
static int f_upload_dir(lg_session *s, const char *local, const char *remote, lg_deadline dl)
{
    (void)s; (void)local; (void)remote; (void)dl;
    return 0;
}
static int f_fetch_file(lg_session *s, const char *remote, const char *local, uint64_t max, lg_deadline dl,
                        uint64_t *size)
{
    (void)s; (void)remote; (void)local; (void)max; (void)dl; (void)size;
    lg_error_set("no such file");
    return -ENOENT;
}
static void f_session_free(lg_session *s) { free(s); }
static void f_free(lg_backend *be) { (void)be; }

static const lg_backend_ops fake_ops = {
    .image_check = f_image_check, .image_stage = f_image_stage, .overlay_create = f_overlay_create,
    .overlay_remove = f_overlay_remove, .launch = f_launch, .vm_name = f_vm_name, .vm_crashed = f_vm_crashed,
    .screenshot = f_screenshot, .memory_dump = f_memory_dump, .reset = f_reset, .power_off = f_power_off,
    .power_on = f_power_on, .suspend = f_suspend, .destroy = f_destroy, .release = f_release,
    .take_log = f_take_log, .lost = f_lost, .epoch = f_epoch, .uri = f_uri, .connect = f_connect, .ping = f_ping,
    .exec = f_exec, .upload_dir = f_upload_dir, .fetch_file = f_fetch_file, .session_free = f_session_free,
    .free = f_free,
};

/* ------------------------------------------------------ the world */

#define N_HOSTS 2
#define N_JOBS 3

typedef struct world {
    char dir[64];
    lg_profile profile;
    lg_guest guest;
    lg_build build;
    lg_content content;
    lg_step steps[2];
    lg_scenario scenario;
    lg_host hosts[N_HOSTS];
    fake_host fakes[N_HOSTS];
    lg_matrix matrix;
    lg_job jobs[N_JOBS];
    lg_plan plan;
    atomic_bool interrupted;
    lg_job_result results[N_JOBS];
    lg_host_load loads[N_HOSTS];
    lg_sched_host_ops ops;
    int max_parallel;
    lg_baselines *baselines;
} world;

static void fake_check(void *opaque, const lg_plan *plan, lg_accel accel, lg_host_ready *out)
{
    (void)accel;
    world *w = opaque;
    for (size_t h = 0; h < plan->matrix->n_hosts; h++) {
        const fake_host *f = &w->fakes[h];
        out[h] = (lg_host_ready){ .passed = !f->check_failure, .kvm = true, .cpus = 2, .slots = f->slots };
        if (f->check_failure)
            out[h].failure = lg_strdup(f->check_failure);
    }
}
static lg_backend *fake_backend(void *opaque, size_t host, lg_host_ready *ready)
{
    (void)ready;
    return &((world *)opaque)->fakes[host].base;
}
static char *fake_leftovers(void *opaque, size_t host, int *removed)
{
    world *w = opaque;
    w->fakes[host].leftovers_asked++;
    *removed = 0;
    return lg_strdup("cannot reconnect to remove this run's domains and overlays: fake daemon gone");
}

static world *world_new(void)
{
    world *w = lg_calloc(1, sizeof(*w));
    snprintf(w->dir, sizeof(w->dir), "/tmp/lg-sched-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    w->profile = (lg_profile){
        .id = "fake-linux", .os = LG_OS_LINUX, .arch = LG_ARCH_X86_64, .machine = "pc", .memory_mib = 256,
        .vcpus = 1, .disk = "/images/root.qcow2", .kernel = "/images/vmlinuz", .cmdline = "",
        .transport = LG_TRANSPORT_SSH, .ssh_user = "root", .ssh_port = 22,
        .boot_count_command = "cat /var/lib/labgate/boot-count", .panic_model = LG_PANIC_ISA,
    };
    w->guest = (lg_guest){ .id = "fake-linux", .profile = &w->profile };
    w->build = (lg_build){ .id = "agent-1", .dir = w->dir };
    w->content = (lg_content){ .id = "c-1", .dir = w->dir };
    w->steps[0] = (lg_step){ .kind = LG_STEP_WAIT_READY };
    w->steps[1] = (lg_step){ .kind = LG_STEP_EXEC, .command = "run-test" };
    w->scenario = (lg_scenario){ .id = "boot", .steps = w->steps, .n_steps = 2 };
    w->hosts[0] = (lg_host){ .id = "a", .uri = "fake:///a" };
    w->hosts[1] = (lg_host){ .id = "b", .uri = "fake:///b" };
    for (size_t h = 0; h < N_HOSTS; h++)
        w->fakes[h] = (fake_host){ .base = { &fake_ops }, .slots = 1 };
    w->matrix.hosts = w->hosts;
    w->matrix.n_hosts = N_HOSTS;
    w->matrix.policy = (lg_policy){
        .boot_timeout_s = 1, .step_timeout_s = 1, .heartbeat_interval_s = 1, .heartbeat_misses = 2,
        .crash_grace_s = 0, .tcg_scale = 1, .strict = true, .infra_retries = 1, .host_drain_after = 2,
    };
    for (size_t i = 0; i < N_JOBS; i++) {
        w->jobs[i] = (lg_job){ .guest = &w->guest, .build = &w->build, .content = &w->content,
                               .scenario = &w->scenario };
        snprintf(w->jobs[i].id, sizeof(w->jobs[i].id), "00000000000%zu", i);
    }
    w->plan = (lg_plan){ .matrix = &w->matrix, .jobs = w->jobs, .n_jobs = N_JOBS };
    w->ops = (lg_sched_host_ops){ .check = fake_check, .backend = fake_backend, .leftovers = fake_leftovers,
                                  .opaque = w };
    return w;
}

/* Runs the plan; every domain launched was destroyed, every overlay removed. */
static int run(world *w)
{
    lg_sched_opts opts = {
        .max_parallel = w->max_parallel, .accel = LG_ACCEL_KVM, .out_dir = w->dir, .run_id = "test", .quiet = true,
        .interrupted = &w->interrupted, .host_loads = w->loads, .host_ops = &w->ops, .baselines = w->baselines,
    };
    const char *accel = NULL;
    lg_sched_run(&w->plan, &opts, w->results, &accel);
    for (size_t h = 0; h < N_HOSTS; h++) {
        assert_int_equal(atomic_load(&w->fakes[h].destroyed), atomic_load(&w->fakes[h].launches));
        assert_int_equal(atomic_load(&w->fakes[h].overlays_removed), atomic_load(&w->fakes[h].overlays));
    }
    lg_verdict verdicts[N_JOBS];
    for (size_t i = 0; i < N_JOBS; i++)
        verdicts[i] = w->results[i].evidence.verdict;
    return lg_gate_exit_code(verdicts, N_JOBS);
}

static void world_free(world *w)
{
    for (size_t i = 0; i < N_JOBS; i++)
        lg_job_result_clear(&w->results[i]);
    lg_host_loads_clear(w->loads, N_HOSTS);
    LG_AUTOFREE char *cmd = lg_strdup_printf("rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w);
}

static void assert_contains(const char *text, const char *part)
{
    if (!text || !strstr(text, part))
        fail_msg("'%s' does not contain '%s'", text ? text : "(null)", part);
}

static void assert_ran_on(world *w, size_t i, lg_verdict verdict, const char *host)
{
    const lg_job_result *r = &w->results[i];
    if (r->evidence.verdict != verdict)
        fail_msg("job %zu: %s '%s', want %s", i, lg_verdict_name(r->evidence.verdict),
                 r->evidence.title ? r->evidence.title : "", lg_verdict_name(verdict));
    if (host)
        assert_string_equal(r->host, host);
    else
        assert_null(r->host);
}

/* ------------------------------------------------------------ tests */

/* The drain bookkeeping on its own: K in a row, a guest verdict between
 * starts the count again, the first reason is kept. */
static void test_drain_counts(void **state)
{
    (void)state;
    lg_drain *d = lg_drain_new(2, 2);
    assert_false(lg_drain_job_ended(d, 0, true, "launch failed"));
    assert_false(lg_drain_job_ended(d, 0, false, NULL)); /* a PASS or a CRASH: again from 0 */
    assert_false(lg_drain_job_ended(d, 0, true, "launch failed"));
    assert_true(lg_drain_job_ended(d, 0, true, "overlay failed"));
    assert_true(lg_drain_is_drained(d, 0));
    assert_contains(lg_drain_reason(d, 0), "2 job(s) in a row ended INFRA_ERROR (the last: overlay failed)");
    assert_false(lg_drain_host(d, 0, "again"));
    assert_contains(lg_drain_reason(d, 0), "in a row");
    assert_int_equal(lg_drain_hosts_left(d), 1);
    assert_false(lg_drain_is_drained(d, 1));
    /* the last host left is not drained by the count */
    assert_false(lg_drain_job_ended(d, 1, true, "x"));
    assert_false(lg_drain_job_ended(d, 1, true, "x"));
    assert_false(lg_drain_job_ended(d, 1, true, "x"));
    assert_false(lg_drain_is_drained(d, 1));
    assert_true(lg_drain_host(d, 1, "connection lost")); /* a lost connection is */
    assert_int_equal(lg_drain_hosts_left(d), 0);
    lg_drain_free(d);

    lg_job_result res;
    lg_job_result_init(&res);
    res.evidence.verdict = LG_VERDICT_INFRA_ERROR;
    assert_true(lg_drain_retry_wanted(&res, 1, 1, false));
    assert_false(lg_drain_retry_wanted(&res, 2, 1, false)); /* once */
    assert_false(lg_drain_retry_wanted(&res, 1, 0, false)); /* infra-retries="0" */
    assert_false(lg_drain_retry_wanted(&res, 1, 1, true));  /* Ctrl-C */
    res.evidence.verdict = LG_VERDICT_CRASH;
    assert_false(lg_drain_retry_wanted(&res, 1, 5, false)); /* a guest verdict: never */
    res.evidence.verdict = LG_VERDICT_PASS;
    assert_false(lg_drain_retry_wanted(&res, 1, 5, false));
}

/* Host a fails its check: drained before any job, every job on b. */
static void test_failed_check_drains(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].check_failure = "connection: Failed to connect socket to '/run/fake': Connection refused";
    assert_int_equal(run(w), 0);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_PASS, "b");
        assert_int_equal(w->results[i].n_attempts, 0);
    }
    assert_int_equal(atomic_load(&w->fakes[0].launches), 0);
    assert_int_equal(atomic_load(&w->fakes[1].jobs_passed), N_JOBS);
    assert_true(w->loads[0].checked);
    assert_true(w->loads[0].drained);
    assert_true(w->loads[0].drained_at_check);
    assert_contains(w->loads[0].drain_reason, "check failed: connection: Failed to connect socket");
    assert_false(w->loads[1].drained);
    assert_int_equal(w->loads[1].slots, 1);
    assert_int_equal(w->loads[1].jobs_ended, N_JOBS);
    world_free(w);
}

/* Host a fails every launch: its first two jobs end INFRA_ERROR there, it
 * is drained, and both run again on b with their first try kept. */
static void test_infra_errors_in_a_row_drain_and_retry(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LAUNCH_FAILS;
    w->max_parallel = 1; /* one worker, starting on a: the order is known */
    assert_int_equal(run(w), 0);
    size_t retried = 0;
    for (size_t i = 0; i < N_JOBS; i++) {
        const lg_job_result *r = &w->results[i];
        assert_ran_on(w, i, LG_VERDICT_PASS, "b");
        if (r->n_attempts == 0)
            continue;
        retried++;
        assert_int_equal(r->n_attempts, 1);
        assert_int_equal(r->attempts[0].verdict, LG_VERDICT_INFRA_ERROR);
        assert_string_equal(r->attempts[0].host, "a");
        assert_contains(r->attempts[0].title, "fake host refused");
        LG_AUTOFREE char *dir = lg_strdup_printf("jobs/%s/attempt-1", w->jobs[i].id);
        assert_string_equal(r->attempts[0].dir, dir);
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", w->dir, dir);
        assert_int_equal(access(path, F_OK), 0);
    }
    assert_int_equal(retried, 2);
    assert_true(w->loads[0].drained);
    assert_false(w->loads[0].drained_at_check);
    assert_contains(w->loads[0].drain_reason, "2 job(s) in a row ended INFRA_ERROR");
    assert_int_equal(w->loads[0].jobs_ended, 2);
    assert_int_equal(atomic_load(&w->fakes[1].jobs_passed), N_JOBS);
    world_free(w);
}

/* infra-retries="0": the INFRA_ERRORs stay, the host still drains, the
 * rest run on b. */
static void test_no_infra_retries(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LAUNCH_FAILS;
    w->matrix.policy.infra_retries = 0;
    w->max_parallel = 1;
    assert_int_equal(run(w), LG_EXIT_INCOMPLETE);
    size_t on_a = 0;
    for (size_t i = 0; i < N_JOBS; i++) {
        const lg_job_result *r = &w->results[i];
        assert_int_equal(r->n_attempts, 0);
        if (r->evidence.verdict == LG_VERDICT_INFRA_ERROR) {
            assert_ran_on(w, i, LG_VERDICT_INFRA_ERROR, "a");
            on_a++;
        } else {
            assert_ran_on(w, i, LG_VERDICT_PASS, "b");
        }
    }
    assert_int_equal(on_a, 2);
    assert_true(w->loads[0].drained);
    world_free(w);
}

/* A guest verdict is the candidate's: a CRASH never runs again, and does
 * not drain its host. */
static void test_crash_not_retried(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_CRASHES;
    w->max_parallel = 1;
    assert_int_equal(run(w), LG_EXIT_BLOCKED);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_CRASH, "a");
        assert_int_equal(w->results[i].n_attempts, 0);
    }
    assert_false(w->loads[0].drained);
    assert_int_equal(atomic_load(&w->fakes[1].launches), 0);
    world_free(w);
}

/* Host a's daemon goes away for good mid-job: INFRA_ERROR, a drained at
 * once, the job runs again on b, and a is reconnected to at the end for
 * its leftovers (which the summary reports when they stay). */
static void test_connection_lost_drains(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LOSES_CONNECTION;
    w->matrix.policy.host_drain_after = 5; /* the lost connection alone drains */
    w->max_parallel = 1;
    assert_int_equal(run(w), 0);
    size_t retried = 0;
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_PASS, "b");
        if (w->results[i].n_attempts) {
            retried++;
            assert_string_equal(w->results[i].attempts[0].host, "a");
            assert_int_equal(w->results[i].attempts[0].verdict, LG_VERDICT_INFRA_ERROR);
        }
    }
    assert_int_equal(retried, 1);
    assert_true(w->loads[0].drained);
    assert_contains(w->loads[0].drain_reason, "connection lost: libvirt at fake:///a did not come back");
    assert_int_equal(w->fakes[0].leftovers_asked, 1);
    assert_contains(w->loads[0].leftovers, "cannot reconnect");
    assert_int_equal(w->fakes[1].leftovers_asked, 0);
    world_free(w);
}

/* Both hosts fail their check: every job INFRA_ERROR "no host left"
 * naming each host's reason, exit 3. */
static void test_no_host_at_the_check(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].check_failure = "connection: refused";
    w->fakes[1].check_failure = "capabilities: it runs no x86_64 guests (no QEMU for them)";
    assert_int_equal(run(w), LG_EXIT_INCOMPLETE);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_INFRA_ERROR, NULL);
        assert_contains(w->results[i].evidence.title, "no host left: host a: check failed: connection: refused; "
                                                      "host b: check failed: capabilities: it runs no x86_64");
    }
    world_free(w);
}

/* Every launch fails everywhere (host-drain-after="1"): a is drained, b,
 * the last host, is not: each job gets its own INFRA_ERROR there. */
static void test_last_host_not_drained_by_count(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LAUNCH_FAILS;
    w->fakes[1].mode = HOST_LAUNCH_FAILS;
    w->matrix.policy.host_drain_after = 1;
    w->max_parallel = 1;
    assert_int_equal(run(w), LG_EXIT_INCOMPLETE);
    size_t retried = 0;
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_INFRA_ERROR, "b");
        assert_contains(w->results[i].evidence.title, "fake host refused");
        retried += w->results[i].n_attempts;
    }
    assert_int_equal(retried, 1); /* the one that began on a */
    assert_true(w->loads[0].drained);
    assert_false(w->loads[1].drained);
    world_free(w);
}

/* a drained by its INFRA_ERRORs, then b's connection lost: the first job
 * failed on both, and what is left never starts: INFRA_ERROR "no host
 * left", exit 3. */
static void test_no_host_left_mid_run(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LAUNCH_FAILS;
    w->fakes[1].mode = HOST_LOSES_CONNECTION;
    w->matrix.policy.host_drain_after = 1;
    w->max_parallel = 1;
    assert_int_equal(run(w), LG_EXIT_INCOMPLETE);
    size_t tried_twice = 0, never = 0;
    for (size_t i = 0; i < N_JOBS; i++) {
        const lg_job_result *r = &w->results[i];
        assert_int_equal(r->evidence.verdict, LG_VERDICT_INFRA_ERROR);
        if (r->host) {
            /* a, then b */
            tried_twice++;
            assert_string_equal(r->host, "b");
            assert_int_equal(r->n_attempts, 1);
            assert_string_equal(r->attempts[0].host, "a");
        } else {
            never++;
            assert_contains(r->evidence.title, "no host left: host a: 1 job(s) in a row");
        }
    }
    assert_int_equal(tried_twice, 1);
    assert_int_equal(never, 2);
    assert_true(w->loads[0].drained && w->loads[1].drained);
    world_free(w);
}

/* Two workers, one per host: a fails its launches, b takes its jobs; every
 * job ends PASS on b whatever the order. */
static void test_parallel_hosts(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_LAUNCH_FAILS;
    assert_int_equal(run(w), 0);
    for (size_t i = 0; i < N_JOBS; i++)
        assert_ran_on(w, i, LG_VERDICT_PASS, "b");
    assert_true(w->loads[0].drained || atomic_load(&w->fakes[1].jobs_passed) == N_JOBS);
    world_free(w);
}

/* baseline="first": the known-good boot is part of the check.  Host a's
 * guests never become ready while b's do: a is drained before any job, and
 * every job runs on b; nothing boots twice. */
static void test_known_good_boot_drains(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_NEVER_READY;
    w->matrix.policy.baseline_first = true;
    lg_baselines baselines = { 0 };
    w->baselines = &baselines;
    assert_int_equal(run(w), 0);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_ran_on(w, i, LG_VERDICT_PASS, "b");
        assert_int_equal(w->results[i].n_attempts, 0);
    }
    assert_true(w->loads[0].drained);
    assert_true(w->loads[0].drained_at_check);
    assert_contains(w->loads[0].drain_reason, "check failed: known-good boot: BOOT_TIMEOUT");
    assert_contains(w->loads[0].drain_reason, "passed on another host");
    assert_false(w->loads[1].drained);
    assert_int_equal(baselines.n, 2); /* one per host, none again */
    assert_int_equal(atomic_load(&w->fakes[0].launches), 1);
    assert_int_equal(atomic_load(&w->fakes[1].launches), 1 + N_JOBS);
    lg_baselines_clear(&baselines);
    world_free(w);
}

/* The known-good boot failing on every host is the image's: no host is
 * drained, and the profile's jobs are INFRA_ERROR "baseline failed" (each
 * tried on both hosts' failed baselines, never booted). */
static void test_known_good_boot_fails_everywhere(void **state)
{
    (void)state;
    world *w = world_new();
    w->fakes[0].mode = HOST_NEVER_READY;
    w->fakes[1].mode = HOST_NEVER_READY;
    w->matrix.policy.baseline_first = true;
    lg_baselines baselines = { 0 };
    w->baselines = &baselines;
    assert_int_equal(run(w), LG_EXIT_INCOMPLETE);
    for (size_t i = 0; i < N_JOBS; i++) {
        assert_int_equal(w->results[i].evidence.verdict, LG_VERDICT_INFRA_ERROR);
        assert_contains(w->results[i].evidence.title, "baseline failed: BOOT_TIMEOUT");
    }
    assert_false(w->loads[0].drained);
    assert_false(w->loads[1].drained);
    assert_int_equal(baselines.n, 2);
    assert_int_equal(atomic_load(&w->fakes[0].launches) + atomic_load(&w->fakes[1].launches), 2);
    lg_baselines_clear(&baselines);
    world_free(w);
}

/* The real checks (run/hostcheck.h), all at once, on libvirt's test
 * driver: a host whose URI names no driver file fails at the connection; a
 * test:/// host is reached, has a pool made, and fails at the
 * capabilities (it runs i686 "test" guests only), each saying so. */
static void test_libvirt_checks(void **state)
{
    (void)state;
    assert_int_equal(lg_virt_init(), 0);
    world *w = world_new();
    w->hosts[0] = (lg_host){ .id = "gone", .uri = "test:///nonexistent/labgate-no-such-driver-file.xml" };
    LG_AUTOFREE char *pool_dir = lg_strdup_printf("%s/pool", w->dir);
    w->hosts[1] = (lg_host){ .id = "test", .uri = "test:///default", .pool_dir = pool_dir };
    lg_host_ready ready[N_HOSTS];
    lg_host_checks *checks = lg_host_checks_run(&w->plan, LG_ACCEL_TCG, 60000, ready);
    assert_false(ready[0].passed);
    assert_null(ready[0].conn);
    assert_contains(ready[0].failure, "connection: ");
    assert_false(ready[1].passed);
    assert_contains(ready[1].failure, "capabilities: it runs no x86_64 guests");
    assert_true(ready[1].seconds < 60);
    for (size_t h = 0; h < N_HOSTS; h++)
        lg_host_ready_clear(&ready[h]);
    lg_host_checks_free(checks, 1000);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_counts),
        cmocka_unit_test(test_failed_check_drains),
        cmocka_unit_test(test_infra_errors_in_a_row_drain_and_retry),
        cmocka_unit_test(test_no_infra_retries),
        cmocka_unit_test(test_crash_not_retried),
        cmocka_unit_test(test_connection_lost_drains),
        cmocka_unit_test(test_no_host_at_the_check),
        cmocka_unit_test(test_last_host_not_drained_by_count),
        cmocka_unit_test(test_no_host_left_mid_run),
        cmocka_unit_test(test_parallel_hosts),
        cmocka_unit_test(test_known_good_boot_drains),
        cmocka_unit_test(test_known_good_boot_fails_everywhere),
        cmocka_unit_test(test_libvirt_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
