#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/proc.h"
#include "progress.h"
#include "virt/accel.h"
#include "virt/conn.h"
#include "model/plan.h"

LG_LOG_INIT("run");

typedef struct sched {
    const lg_plan *plan;
    const lg_sched_opts *opts;
    lg_job_result *results;
    pthread_mutex_t lock;
    size_t *order;         /* plan indexes, longest job first (lg_plan_start_order) */
    size_t next;           /* into order */
    size_t done;
    lg_progress *progress;
    int *running;          /* per host: jobs running now */
    lg_host_load *loads;   /* per host */
    lg_baseline_gate *baselines; /* policy baseline="first", else NULL */
    lg_conn **conns;       /* per host, NULL where it could not be opened */
    struct cpu_sampler *cpu; /* per host */
    int *cpus;             /* per host: its CPUs, 0 unknown */
    struct worker *workers;
    size_t n_workers;
} sched;

/* A host's CPU time, sampled as jobs start: the share between the last
 * two samples at least CPU_SAMPLE_MIN_MS apart. */
typedef struct cpu_sampler {
    lg_cpu_times prev;
    int64_t prev_ms;
    bool have_prev;
    lg_cpu_share last;
    bool have_last;
} cpu_sampler;
#define CPU_SAMPLE_MIN_MS 1000

typedef struct worker {
    sched *s;
    lg_job_env env;
    size_t host;
    bool local;            /* the host is this machine: its load can be read */
    pthread_t thread;
    bool running;
    /* the job (or baseline) it runs now: when it started, its vCPUs (0: none) */
    int64_t job_started_ms;
    int job_vcpus;
} worker;

/* The load average lags by about a minute: guests started within it are
 * counted on their own (lg_host_saturated). */
#define LOAD_LAG_MS 60000

/* vCPUs per CPU of the guests this run started on host h within the last
 * LOAD_LAG_MS and still runs; -1 when the host's CPUs are unknown.  Under
 * s->lock. */
static double started_per_cpu(sched *s, size_t h)
{
    if (s->cpus[h] <= 0)
        return -1;
    int vcpus = 0;
    int64_t now = lg_now_ms();
    for (size_t i = 0; i < s->n_workers; i++) {
        const worker *o = &s->workers[i];
        if (o->host == h && o->job_vcpus > 0 && now - o->job_started_ms < LOAD_LAG_MS)
            vcpus += o->job_vcpus;
    }
    return (double)vcpus / s->cpus[h];
}

static void print_progress(void *opaque, const lg_job *job, int boot, const char *what)
{
    lg_progress_event(((sched *)opaque)->progress, job, boot, what);
}

static void print_progress_until(void *opaque, const lg_job *job, int boot, const char *what, int64_t until_ms)
{
    lg_progress_event_until(((sched *)opaque)->progress, job, boot, what, until_ms);
}

static bool local_uri(const char *uri)
{
    return strcmp(uri, "qemu:///system") == 0 || strcmp(uri, "qemu:///session") == 0;
}

/* Samples host h's CPU time (a local host's /proc/stat, with steal; a
 * remote one's through libvirt); true with *out when a share between two
 * samples is known. */
static bool sample_cpu(sched *s, size_t h, lg_cpu_share *out)
{
    lg_cpu_times now;
    int rc = local_uri(s->plan->matrix->hosts[h].uri) ? lg_cpu_times_read(&now)
             : s->conns && s->conns[h]                ? lg_conn_cpu_times(s->conns[h], &now)
                                                      : -ENOTCONN;
    if (rc < 0)
        LG_DEBUG("host %s: no CPU time: %s", s->plan->matrix->hosts[h].id, lg_error_msg());
    int64_t now_ms = lg_now_ms();
    pthread_mutex_lock(&s->lock);
    cpu_sampler *c = &s->cpu[h];
    lg_cpu_share share;
    if (rc == 0 && (!c->have_prev || now_ms - c->prev_ms >= CPU_SAMPLE_MIN_MS)) {
        if (c->have_prev && lg_cpu_share_between(&c->prev, &now, &share) == 0) {
            c->last = share;
            c->have_last = true;
        }
        c->prev = now;
        c->prev_ms = now_ms;
        c->have_prev = true;
    }
    bool have = c->have_last;
    if (have)
        *out = c->last;
    pthread_mutex_unlock(&s->lock);
    return have;
}

#define HOLD_POLL_MS 2000
#define HOLD_MAX_MS (5 * 60 * 1000)

static void note_cpu_share(lg_host_load *l, const lg_cpu_share *share, bool remote)
{
    l->cpu_watched = true;
    l->remote = remote;
    l->cpu_samples++;
    l->sum_busy += share->busy;
    l->sum_steal += share->steal;
    if (share->busy > l->max_busy)
        l->max_busy = share->busy;
    if (share->steal > l->max_steal)
        l->max_steal = share->steal;
}

/* Before a job starts on a host: its load, noted; while the host is
 * saturated (lg_host_saturated: the guests we started there within the
 * last minute, or a local host's load average, per CPU less what its own
 * hypervisor steals, above the policy's max-host-load; a remote host's
 * CPUs never idle) and one of our jobs runs there, the job waits (up to
 * HOLD_MAX_MS): guests starved of CPU fail by themselves (crypto
 * self-tests, lockup detectors), and that must not be blamed on the
 * candidate. */
static void wait_for_headroom(worker *w, const lg_job *job)
{
    sched *s = w->s;
    double max_load = s->plan->matrix->policy.max_host_load;
    int64_t start = lg_now_ms();
    bool said = false;
    for (;;) {
        double load = w->local ? lg_load_per_cpu() : -1;
        lg_cpu_share share = { .busy = -1, .steal = -1 };
        bool have_share = sample_cpu(s, w->host, &share);
        pthread_mutex_lock(&s->lock);
        lg_host_load *l = &s->loads[w->host];
        bool busy = s->running[w->host] > 0;
        if (load >= 0 && !said) {
            l->watched = true;
            l->samples++;
            l->sum_per_cpu += load;
            if (load > l->max_per_cpu)
                l->max_per_cpu = load;
        }
        if (have_share && !said)
            note_cpu_share(l, &share, !w->local);
        double steal = have_share && w->local ? share.steal : -1;
        double started = started_per_cpu(s, w->host);
        bool hold = lg_host_saturated(load, steal, share.busy, started, max_load) && busy &&
                    lg_now_ms() - start < HOLD_MAX_MS && !atomic_load(s->opts->interrupted);
        if (!hold) {
            l->held_s += (double)(lg_now_ms() - start) / 1000.0;
            s->running[w->host]++;
            w->job_started_ms = lg_now_ms();
            w->job_vcpus = job->guest->profile->vcpus > 0 ? job->guest->profile->vcpus : 1;
            pthread_mutex_unlock(&s->lock);
            return;
        }
        pthread_mutex_unlock(&s->lock);
        if (!said) {
            LG_AUTOFREE char *note =
                w->local ? lg_strdup_printf("labgate: host %s is loaded (%.2f per CPU, %.2f vCPUs per CPU started "
                                            "in the last minute, %.0f %% stolen by its own hypervisor; "
                                            "max-host-load %.2f): %s waits for it to drop",
                                            s->plan->matrix->hosts[w->host].id, load, started > 0 ? started : 0,
                                            steal > 0 ? steal * 100 : 0, max_load, job->id)
                         : lg_strdup_printf("labgate: host %s is saturated (its CPUs busy %.0f %% of the time, %.2f "
                                            "vCPUs per CPU started in the last minute; max-host-load %.2f): %s "
                                            "waits for it to drop",
                                            s->plan->matrix->hosts[w->host].id, share.busy * 100,
                                            started > 0 ? started : 0, max_load, job->id);
            lg_progress_note(s->progress, note);
            said = true;
        }
        lg_sleep_ms(HOLD_POLL_MS);
    }
}

/* Runs the job; a baseline failure (the guest failed before the candidate
 * was on it) is the image's or the host's, not the candidate's: it runs
 * again, up to the policy's baseline-retries, and the earlier attempts'
 * evidence moves to jobs/ID/attempt-N/. */
static void run_with_retries(worker *w, const lg_job *job, lg_job_result *res)
{
    sched *s = w->s;
    lg_attempt *earlier = NULL;
    size_t n_earlier = 0;
    int retries = s->plan->matrix->policy.baseline_retries;
    for (;;) {
        lg_job_run(&w->env, job, res);
        if (!res->evidence.baseline || (int)n_earlier >= retries || res->kept_domain ||
            atomic_load(s->opts->interrupted))
            break;
        LG_AUTOFREE char *note = lg_strdup_printf("labgate: %s: %s; running it again (attempt %zu of %d)",
                                                  job->id, res->evidence.title, n_earlier + 2, retries + 1);
        if (lg_job_archive_attempt(s->opts->out_dir, job, res, &earlier, &n_earlier) < 0) {
            LG_ERROR("%s: not run again: %s", job->id, lg_error_msg());
            break;
        }
        lg_progress_note(s->progress, note);
    }
    res->attempts = earlier;
    res->n_attempts = n_earlier;
}

/* A baseline's progress: it is no job of the plan, so its lines go above
 * the table. */
static void baseline_progress(void *opaque, const lg_job *job, int boot, const char *what)
{
    LG_AUTOFREE char *line = lg_strdup_printf("labgate: baseline of %s (%s): boot %d: %s", job->guest->profile->id,
                                              job->id, boot, what);
    lg_progress_note(((sched *)opaque)->progress, line);
}

/* The baseline of job's profile on this worker's host, counted as one of
 * the host's jobs (it waits for headroom like them). */
static void run_baseline(void *caller, const lg_job *job, size_t host, lg_baseline *out)
{
    worker *w = caller;
    sched *s = w->s;
    const lg_profile *profile = job->guest->profile;
    const lg_host *h = &s->plan->matrix->hosts[host];
    wait_for_headroom(w, job);
    LG_AUTOFREE char *start = lg_strdup_printf(
        "labgate: baseline of profile %s on host %s: booting it with nothing installed before its jobs", profile->id,
        h->id);
    lg_progress_note(s->progress, start);
    lg_job_env env = w->env;
    env.progress = baseline_progress;
    env.progress_until = NULL;
    env.progress_opaque = s;
    lg_baseline_run(&env, s->plan, profile, host, out);
    pthread_mutex_lock(&s->lock);
    s->running[w->host]--;
    w->job_vcpus = 0;
    pthread_mutex_unlock(&s->lock);
    const lg_evidence *ev = &out->result.evidence;
    LG_AUTOFREE char *title = lg_clean_term(ev->title ? ev->title : "");
    LG_AUTOFREE char *end =
        ev->verdict == LG_VERDICT_PASS
            ? lg_strdup_printf("labgate: baseline of profile %s on host %s: PASS in %.1f s (%d boot(s)); its jobs run",
                               profile->id, h->id, out->result.duration_s, out->result.ready_boots)
            : lg_strdup_printf("labgate: baseline of profile %s on host %s: %s %s (%s/): its jobs are not run",
                               profile->id, h->id, lg_verdict_name(ev->verdict), title, out->dir);
    lg_progress_note(s->progress, end);
}

/* A job has ended (or was settled without running, when its profile's
 * baseline failed): the journal, the count, the progress. */
static void job_ended(sched *s, const lg_job *job, lg_job_result *res)
{
    if (s->opts->job_done)
        s->opts->job_done(s->opts->job_done_opaque, job, res);
    pthread_mutex_lock(&s->lock);
    s->done++;
    size_t done = s->done;
    pthread_mutex_unlock(&s->lock);
    lg_progress_done(s->progress, job, res, done);
}

static void *work(void *opaque)
{
    worker *w = opaque;
    sched *s = w->s;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        size_t i = s->next < s->plan->n_jobs ? s->order[s->next++] : s->plan->n_jobs;
        pthread_mutex_unlock(&s->lock);
        if (i >= s->plan->n_jobs)
            break;
        const lg_job *job = &s->plan->jobs[i];
        lg_job_result *res = &s->results[i];
        if (atomic_load(s->opts->interrupted)) {
            lg_job_result_not_run(res, "not run: interrupted (Ctrl-C)");
            continue;
        }
        if (s->baselines && !lg_baseline_gate_pass(s->baselines, job, w->host, w, s->opts->interrupted, res)) {
            /* no host: the job ran nowhere (its baseline's <baseline
             * host> says where that failed) */
            job_ended(s, job, res);
            continue;
        }
        wait_for_headroom(w, job);
        run_with_retries(w, job, res);
        lg_job_result_set_host(res, s->plan->matrix->hosts[w->host].id);
        pthread_mutex_lock(&s->lock);
        s->running[w->host]--;
        w->job_vcpus = 0;
        pthread_mutex_unlock(&s->lock);
        job_ended(s, job, res);
    }
    return NULL;
}

static void fail_host_jobs(sched *s, const char *why)
{
    for (size_t i = 0; i < s->plan->n_jobs; i++) {
        lg_job_result *res = &s->results[i];
        if (res->evidence.title)
            continue;
        lg_job_result_not_run(res, why);
    }
}

int lg_sched_check_hosts(const lg_matrix *m, lg_diags *diags)
{
    int result = 0;
    bool explicit_slots = false;
    for (size_t h = 0; h < m->n_hosts; h++)
        explicit_slots = explicit_slots || m->hosts[h].slots > 0;
    if (explicit_slots && lg_virt_init() < 0) {
        lg_diags_add(diags, m->path, 0, true, "slots not checked: %s", lg_error_msg());
        return 0;
    }
    for (size_t h = 0; h < m->n_hosts; h++) {
        const lg_host *host = &m->hosts[h];
        if (host->slots == 0)
            continue; /* worked out from the host itself */
        lg_conn *conn = NULL;
        int cpus = 0;
        long long available_mib = 0;
        int rc = lg_conn_open(host->uri, &conn);
        if (rc == 0)
            rc = lg_conn_node_capacity(conn, &cpus, &available_mib);
        lg_conn_free(conn);
        if (rc < 0) {
            lg_diags_add(diags, m->path, host->line, true, "host %s: slots not checked: %s", host->id,
                         lg_error_msg());
            continue;
        }
        if (lg_plan_check_slots(m, host, cpus, available_mib, diags) < 0)
            result = -EINVAL;
    }
    return result;
}

void lg_sched_run(const lg_plan *plan, const lg_sched_opts *opts, lg_job_result *results, const char **accel_used)
{
    const lg_matrix *m = plan->matrix;
    sched s = { .plan = plan, .opts = opts, .results = results };
    s.running = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*s.running));
    s.order = lg_plan_start_order(plan);
    s.cpu = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*s.cpu));
    s.loads = opts->host_loads ? opts->host_loads : lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*s.loads));
    pthread_mutex_init(&s.lock, NULL);
    if (m->policy.baseline_first)
        s.baselines = lg_baseline_gate_new(run_baseline);
    s.progress = lg_progress_new(plan, stderr, isatty(STDERR_FILENO) == 1, opts->quiet);
    *accel_used = "none";
    /* a job that never runs (Ctrl-C, a dead host) reads as such, with no
     * time anybody measured */
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_init(&results[i]);
    LG_AUTOBUF errors = LG_BUF_INIT;

    /* One connection per host, shared by its workers (libvirt connections
     * are thread-safe). */
    size_t n_workers = 0;
    lg_conn **conns = lg_calloc(m->n_hosts, sizeof(*conns));
    lg_backend **backends = lg_calloc(m->n_hosts, sizeof(*backends));
    int *slots = lg_calloc(m->n_hosts, sizeof(*slots));
    bool *kvm = lg_calloc(m->n_hosts, sizeof(*kvm));
    worker *workers = NULL;

    size_t total_slots = 0;
    for (size_t h = 0; h < m->n_hosts; h++) {
        const lg_host *host = &m->hosts[h];
        int cpus = 0;
        long long available_mib = 0;
        int rc = lg_conn_open(host->uri, &conns[h]);
        if (rc == 0)
            rc = lg_accel_resolve(conns[h], opts->accel, m, &kvm[h]);
        if (rc == 0 && host->slots == 0)
            rc = lg_conn_node_capacity(conns[h], &cpus, &available_mib);
        if (rc < 0) {
            LG_ERROR("host %s: %s", host->id, lg_error_msg());
            lg_buf_printf(&errors, "%shost %s: %s", errors.len ? "; " : "", host->id, lg_error_msg());
            lg_conn_free(conns[h]);
            conns[h] = NULL;
            continue;
        }
        *accel_used = kvm[h] ? "kvm" : "tcg";
        slots[h] = host->slots;
        if (slots[h] == 0) {
            slots[h] = lg_plan_auto_slots(m, cpus, available_mib);
            LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s: %d slot(s) (%d CPUs, %lld MiB available)",
                                                      host->id, slots[h], cpus, available_mib);
            lg_progress_note(s.progress, note);
        }
        total_slots += (size_t)slots[h];
    }
    /* the first CPU-time sample of each host: shares are measured from
     * here; and its CPUs, for the guests the load average has not seen */
    s.conns = conns;
    s.cpus = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*s.cpus));
    for (size_t h = 0; h < m->n_hosts; h++) {
        lg_cpu_share ignored;
        long long ignored_mib = 0;
        if (!conns[h])
            continue;
        sample_cpu(&s, h, &ignored);
        if (local_uri(m->hosts[h].uri))
            s.cpus[h] = (int)sysconf(_SC_NPROCESSORS_ONLN);
        else if (lg_conn_node_capacity(conns[h], &s.cpus[h], &ignored_mib) < 0)
            s.cpus[h] = 0;
    }
    size_t cap = opts->max_parallel > 0 ? (size_t)opts->max_parallel : total_slots;
    if (cap > plan->n_jobs)
        cap = plan->n_jobs;
    workers = lg_calloc(cap ? cap : 1, sizeof(*workers));
    /* fill hosts in matrix order */
    for (size_t h = 0; h < m->n_hosts && n_workers < cap; h++) {
        const lg_host *host = &m->hosts[h];
        if (conns[h]) {
            backends[h] = lg_backend_libvirt_new(conns[h]);
            lg_backend_libvirt_set_pool_dir(backends[h], host->pool_dir);
        }
        for (int k = 0; conns[h] && k < slots[h] && n_workers < cap; k++) {
            worker *w = &workers[n_workers++];
            w->s = &s;
            w->host = h;
            w->local = strcmp(host->uri, "qemu:///system") == 0 || strcmp(host->uri, "qemu:///session") == 0;
            w->env = (lg_job_env){
                .matrix = m, .backend = backends[h], .out_dir = opts->out_dir, .run_id = opts->run_id,
                .kvm = kvm[h],
                .interrupted = opts->interrupted, .progress = print_progress, .progress_opaque = &s,
                .progress_until = print_progress_until,
                .keep_failed = opts->keep_failed,
            };
        }
    }
    s.workers = workers;
    s.n_workers = n_workers;
    if (n_workers == 0) {
        fail_host_jobs(&s, errors.data ? errors.data : "no host could run jobs");
        goto out;
    }
    {
        LG_AUTOFREE char *note = lg_strdup_printf(
            "labgate: %zu job(s) on %zu worker(s), accelerator %s, results in %s", plan->n_jobs, n_workers,
            *accel_used, opts->out_dir);
        lg_progress_note(s.progress, note);
    }
    size_t started = 0;
    for (size_t i = 0; i < n_workers; i++) {
        workers[i].running = pthread_create(&workers[i].thread, NULL, work, &workers[i]) == 0;
        started += workers[i].running;
    }
    if (started == 0)
        work(&workers[0]); /* no threads to be had: run the jobs here, one by one */
    for (size_t i = 0; i < n_workers; i++)
        if (workers[i].running)
            pthread_join(workers[i].thread, NULL);

out:
    for (size_t h = 0; h < m->n_hosts; h++) {
        if (backends[h])
            lg_backend_libvirt_images(backends[h], &s.loads[h].images, &s.loads[h].n_images,
                                      &s.loads[h].pool_target);
        lg_backend_free(backends[h]);
        lg_conn_free(conns[h]);
    }
    free(backends);
    free(conns);
    free(slots);
    free(kvm);
    free(workers);
    free(s.running);
    free(s.order);
    free(s.cpu);
    free(s.cpus);
    if (s.loads != opts->host_loads) {
        lg_host_loads_clear(s.loads, m->n_hosts);
        free(s.loads);
    }
    lg_baseline_gate_free(s.baselines, opts->baselines);
    lg_progress_free(s.progress);
    pthread_mutex_destroy(&s.lock);
}

void lg_host_loads_clear(lg_host_load *loads, size_t n)
{
    for (size_t h = 0; loads && h < n; h++) {
        lg_staged_images_free(loads[h].images, loads[h].n_images);
        free(loads[h].pool_target);
        loads[h].images = NULL;
        loads[h].n_images = 0;
        loads[h].pool_target = NULL;
    }
}
