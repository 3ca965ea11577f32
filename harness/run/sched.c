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
#include "base/util.h"
#include "drain.h"
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
    size_t *queue;         /* plan indexes not started yet: longest job first
                            * (lg_plan_start_order), a job to run again first of all */
    size_t n_queue;
    size_t busy;           /* jobs taken by a worker and not ended yet (they may come back) */
    pthread_cond_t changed; /* a job ended or came back, a host was drained */
    struct job_state *jobs; /* per plan job */
    lg_drain *drain;
    int *slots;            /* per host: jobs at once (0: it failed its check) */
    int *assigned;         /* per host: workers on it now */
    lg_job_env *envs;      /* per host: what its jobs get (no backend: it failed its check) */
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

/* A job's tries on the hosts (a job that ended INFRA_ERROR runs again on
 * another host, policy infra-retries). */
typedef struct job_state {
    bool *tried;           /* per host */
    int tries;
    lg_attempt *earlier;   /* its earlier attempts, archived (jobs/ID/attempt-N/) */
    size_t n_earlier;
} job_state;

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
/* a job ended INFRA_ERROR with its host's connection down: how long past the
 * reconnect deadline to wait for its outcome, and how often to look */
#define RECONNECT_MARGIN_MS 5000
#define RECONNECT_POLL_MS 100

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
static void run_with_retries(worker *w, const lg_job *job, lg_job_result *res, lg_attempt *earlier, size_t n_earlier)
{
    sched *s = w->s;
    int retries = s->plan->matrix->policy.baseline_retries;
    size_t n_before = n_earlier; /* tries on other hosts: not this host's baseline retries */
    for (;;) {
        lg_job_run(&w->env, job, res);
        if (!res->evidence.baseline || (int)(n_earlier - n_before) >= retries || res->kept_domain ||
            atomic_load(s->opts->interrupted))
            break;
        LG_AUTOFREE char *note = lg_strdup_printf("labgate: %s: %s; running it again (attempt %zu of %d)",
                                                  job->id, res->evidence.title, n_earlier - n_before + 2,
                                                  retries + 1);
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

/* Whether host h takes jobs: it passed its check and is not drained.
 * Under s->lock. */
static bool host_open(const sched *s, size_t h)
{
    return s->envs[h].backend && !lg_drain_is_drained(s->drain, h);
}

/* The first queued job host h may run (one it has not run yet); its
 * index into s->queue, or s->n_queue.  Under s->lock. */
static size_t queued_for(const sched *s, size_t h)
{
    size_t q = 0;
    while (q < s->n_queue && s->jobs[s->queue[q]].tried[h])
        q++;
    return q;
}

static void move_worker(worker *w, size_t h)
{
    sched *s = w->s;
    s->assigned[w->host]--;
    s->assigned[h]++;
    w->host = h;
    w->env = s->envs[h];
    w->local = local_uri(s->plan->matrix->hosts[h].uri);
}

/* Takes the next job for w into *job (false: no more for it), counted as
 * busy.  A worker whose host is drained, or has no job it may run, moves
 * to an open host with a free slot and a job for it; with none it waits
 * while jobs run (one may come back for another host), and ends when
 * nothing does.  Under s->lock. */
static bool next_job(worker *w, size_t *job)
{
    sched *s = w->s;
    for (;;) {
        if (s->n_queue == 0 && s->busy == 0)
            return false;
        if (atomic_load(s->opts->interrupted) && s->n_queue > 0) {
            *job = s->queue[0]; /* it is marked not run */
            memmove(s->queue, s->queue + 1, (s->n_queue - 1) * sizeof(*s->queue));
            s->n_queue--;
            s->busy++;
            return true;
        }
        size_t q = host_open(s, w->host) ? queued_for(s, w->host) : s->n_queue;
        if (q < s->n_queue) {
            *job = s->queue[q];
            memmove(s->queue + q, s->queue + q + 1, (s->n_queue - q - 1) * sizeof(*s->queue));
            s->n_queue--;
            s->busy++;
            return true;
        }
        bool moved = false;
        for (size_t h = 0; h < s->plan->matrix->n_hosts && !moved; h++)
            if (h != w->host && host_open(s, h) && s->assigned[h] < s->slots[h] && queued_for(s, h) < s->n_queue) {
                move_worker(w, h);
                moved = true;
            }
        if (moved)
            continue;
        if (s->busy == 0)
            return false;
        pthread_cond_wait(&s->changed, &s->lock);
    }
}

/* "host a: why; host b: why" for every drained host */
static char *drained_hosts(const sched *s)
{
    LG_AUTOBUF why = LG_BUF_INIT;
    for (size_t h = 0; h < s->plan->matrix->n_hosts; h++)
        if (lg_drain_is_drained(s->drain, h))
            lg_buf_printf(&why, "%shost %s: %s", why.len ? "; " : "", s->plan->matrix->hosts[h].id,
                          lg_drain_reason(s->drain, h));
    return lg_strdup(why.data ? why.data : "no host in the matrix");
}

/* A job that ended INFRA_ERROR while its host's connection is down and
 * being opened again (the job ends at once; the reconnect has seconds to
 * go): whether the host is lost for good decides its drain, so wait for
 * the reconnect's outcome, within its own deadline and a margin. */
static void await_reconnect(sched *s, size_t h)
{
    lg_backend *be = s->envs[h].backend;
    int reconnect_s = s->opts->reconnect_s > 0 ? s->opts->reconnect_s : LG_CONN_RECONNECT_S;
    int64_t until_ms = lg_now_ms() + (int64_t)reconnect_s * 1000 + RECONNECT_MARGIN_MS;
    while ((be->ops->epoch(be) & 1) && !be->ops->lost(be) && lg_now_ms() < until_ms &&
           !atomic_load(s->opts->interrupted))
        usleep(RECONNECT_POLL_MS * 1000);
}

static void drain_host(sched *s, size_t h, const char *why)
{
    pthread_mutex_lock(&s->lock);
    bool newly = lg_drain_host(s->drain, h, why);
    size_t left = lg_drain_hosts_left(s->drain);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    if (!newly)
        return;
    LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s drained: %s; %s", s->plan->matrix->hosts[h].id, why,
                                              left ? "its jobs go to the other hosts" : "no host is left");
    lg_progress_note(s->progress, note);
}

/* A job that ended INFRA_ERROR on the worker's host runs again on
 * another: its files go to jobs/ID/attempt-N/ and it is queued first.
 * false when it is not (no host left for it, the files would not move). */
static bool retry_elsewhere(worker *w, size_t i, lg_job_result *res, bool interrupted)
{
    sched *s = w->s;
    const lg_job *job = &s->plan->jobs[i];
    job_state *js = &s->jobs[i];
    pthread_mutex_lock(&s->lock);
    bool want = lg_drain_retry_wanted(res, js->tries, s->plan->matrix->policy.infra_retries, interrupted);
    bool elsewhere = false;
    for (size_t h = 0; want && h < s->plan->matrix->n_hosts && !elsewhere; h++)
        elsewhere = host_open(s, h) && !js->tried[h];
    pthread_mutex_unlock(&s->lock);
    if (!want || !elsewhere)
        return false;
    /* a job its baseline kept from running left no directory */
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/jobs/%s", s->opts->out_dir, job->id);
    lg_mkdir_p(dir, 0755);
    LG_AUTOFREE char *title = lg_strdup(res->evidence.title ? res->evidence.title : "");
    lg_attempt *earlier = res->attempts;
    size_t n_earlier = res->n_attempts;
    res->attempts = NULL;
    res->n_attempts = 0;
    if (lg_job_archive_attempt(s->opts->out_dir, job, res, &earlier, &n_earlier) < 0) {
        LG_ERROR("%s: not run again elsewhere: %s", job->id, lg_error_msg());
        res->attempts = earlier;
        res->n_attempts = n_earlier;
        return false;
    }
    /* it was tried here (a job its baseline kept from running too) */
    if (!earlier[n_earlier - 1].host)
        earlier[n_earlier - 1].host = lg_strdup(s->plan->matrix->hosts[w->host].id);
    LG_AUTOFREE char *note = lg_strdup_printf(
        "labgate: %s: INFRA_ERROR on host %s (%s); running it again on another host (try %d of %d)", job->id,
        s->plan->matrix->hosts[w->host].id, title, js->tries + 1, 1 + s->plan->matrix->policy.infra_retries);
    lg_progress_note(s->progress, note);
    pthread_mutex_lock(&s->lock);
    js->earlier = earlier;
    js->n_earlier = n_earlier;
    s->queue = lg_realloc_n(s->queue, s->n_queue + 1, sizeof(*s->queue));
    memmove(s->queue + 1, s->queue, s->n_queue * sizeof(*s->queue));
    s->queue[0] = i;
    s->n_queue++;
    s->busy--;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    return true;
}

static void job_finished(sched *s, const lg_job *job, lg_job_result *res, bool journal)
{
    if (journal)
        job_ended(s, job, res);
    pthread_mutex_lock(&s->lock);
    s->busy--;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

static void *work(void *opaque)
{
    worker *w = opaque;
    sched *s = w->s;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&s->lock);
        bool more = next_job(w, &i);
        if (more) {
            s->jobs[i].tried[w->host] = true;
            s->jobs[i].tries++;
        }
        size_t h = w->host;
        pthread_mutex_unlock(&s->lock);
        if (!more)
            break;
        const lg_job *job = &s->plan->jobs[i];
        lg_job_result *res = &s->results[i];
        job_state *js = &s->jobs[i];
        if (atomic_load(s->opts->interrupted)) {
            lg_job_result_not_run(res, "not run: interrupted (Ctrl-C)");
            res->attempts = js->earlier;
            res->n_attempts = js->n_earlier;
            js->earlier = NULL;
            js->n_earlier = 0;
            job_finished(s, job, res, false);
            continue;
        }
        bool gate_failed = false;
        if (s->baselines && !lg_baseline_gate_pass(s->baselines, job, h, w, s->opts->interrupted, res)) {
            /* no host: the job ran nowhere (its baseline's <baseline
             * host> says where that failed) */
            gate_failed = true;
            res->attempts = js->earlier;
            res->n_attempts = js->n_earlier;
        } else {
            wait_for_headroom(w, job);
            run_with_retries(w, job, res, js->earlier, js->n_earlier);
            lg_job_result_set_host(res, s->plan->matrix->hosts[h].id);
            pthread_mutex_lock(&s->lock);
            s->running[h]--;
            w->job_vcpus = 0;
            pthread_mutex_unlock(&s->lock);
        }
        js->earlier = NULL;
        js->n_earlier = 0;
        bool interrupted = atomic_load(s->opts->interrupted);
        if (res->evidence.verdict == LG_VERDICT_INFRA_ERROR && !gate_failed && !interrupted)
            await_reconnect(s, h);
        /* the host: a connection lost for good, or INFRA_ERRORs in a row
         * (not a failed baseline: that is the image's as much as the
         * host's, and its jobs go elsewhere below) */
        pthread_mutex_lock(&s->lock);
        s->loads[h].jobs_ended += !gate_failed;
        bool lost = s->envs[h].backend->ops->lost(s->envs[h].backend);
        bool infra = res->evidence.verdict == LG_VERDICT_INFRA_ERROR;
        LG_AUTOFREE char *count_why = NULL;
        if (!lost && !gate_failed && !interrupted && lg_drain_job_ended(s->drain, h, infra, res->evidence.title)) {
            /* drained here: the note below says it */
            count_why = lg_strdup(lg_drain_reason(s->drain, h));
        }
        pthread_mutex_unlock(&s->lock);
        if (lost) {
            LG_AUTOFREE char *why = lg_strdup_printf("connection lost: libvirt at %s did not come back within %d s",
                                                     s->plan->matrix->hosts[h].uri,
                                                     s->opts->reconnect_s > 0 ? s->opts->reconnect_s
                                                                              : LG_CONN_RECONNECT_S);
            drain_host(s, h, why);
        } else if (count_why) {
            /* lg_drain_job_ended drained it; say so once */
            LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s drained: %s; its jobs go to the other hosts",
                                                      s->plan->matrix->hosts[h].id, count_why);
            lg_progress_note(s->progress, note);
            pthread_mutex_lock(&s->lock);
            pthread_cond_broadcast(&s->changed);
            pthread_mutex_unlock(&s->lock);
        }
        if (retry_elsewhere(w, i, res, interrupted))
            continue;
        job_finished(s, job, res, true);
    }
    return NULL;
}

/* policy baseline="first", part of the host check: every host that passed
 * the rest boots the profile of the job that starts first, all at once,
 * before any job (run/baseline.h; the gate keeps the results, so no worker
 * boots them again).  A host whose boot fails where another host's passed
 * is drained: the image is good, that host is not.  When it failed
 * everywhere it is the image's, and the profile's jobs are marked as
 * before (INFRA_ERROR "baseline failed"). */
typedef struct known_good {
    sched *s;
    size_t host;
    const lg_profile *profile;
    lg_baseline *baseline;
    pthread_t thread;
    bool started;
} known_good;

static void *known_good_boot(void *opaque)
{
    known_good *k = opaque;
    sched *s = k->s;
    LG_AUTOFREE char *start = lg_strdup_printf(
        "labgate: baseline of profile %s on host %s: booting it with nothing installed before its jobs (the host's "
        "known-good boot)",
        k->profile->id, s->plan->matrix->hosts[k->host].id);
    lg_progress_note(s->progress, start);
    lg_job_env env = s->envs[k->host];
    env.progress = baseline_progress;
    env.progress_until = NULL;
    env.progress_opaque = s;
    lg_baseline_run(&env, s->plan, k->profile, k->host, k->baseline);
    return NULL;
}

static void known_good_boots(sched *s)
{
    const lg_matrix *m = s->plan->matrix;
    if (!s->baselines || s->n_queue == 0)
        return;
    const lg_profile *profile = s->plan->jobs[s->queue[0]].guest->profile;
    known_good *boots = lg_calloc(m->n_hosts ? m->n_hosts : 1, sizeof(*boots));
    for (size_t h = 0; h < m->n_hosts; h++) {
        if (!host_open(s, h))
            continue;
        boots[h] = (known_good){ .s = s, .host = h, .profile = profile, .baseline = lg_calloc(1, sizeof(lg_baseline)) };
        boots[h].started = pthread_create(&boots[h].thread, NULL, known_good_boot, &boots[h]) == 0;
        if (!boots[h].started)
            known_good_boot(&boots[h]);
    }
    bool passed_somewhere = false;
    for (size_t h = 0; h < m->n_hosts; h++) {
        if (boots[h].started)
            pthread_join(boots[h].thread, NULL);
        passed_somewhere = passed_somewhere ||
                           (boots[h].baseline && boots[h].baseline->result.evidence.verdict == LG_VERDICT_PASS);
    }
    for (size_t h = 0; h < m->n_hosts; h++) {
        lg_baseline *b = boots[h].baseline;
        if (!b)
            continue;
        const lg_evidence *ev = &b->result.evidence;
        LG_AUTOFREE char *title = lg_clean_term(ev->title ? ev->title : "");
        LG_AUTOFREE char *end =
            ev->verdict == LG_VERDICT_PASS
                ? lg_strdup_printf("labgate: baseline of profile %s on host %s: PASS in %.1f s (%d boot(s)); its jobs run",
                                   profile->id, m->hosts[h].id, b->result.duration_s, b->result.ready_boots)
                : lg_strdup_printf("labgate: baseline of profile %s on host %s: %s %s (%s/)%s", profile->id,
                                   m->hosts[h].id, lg_verdict_name(ev->verdict), title, b->dir,
                                   passed_somewhere && !b->interrupted ? "" : ": its jobs are not run");
        lg_progress_note(s->progress, end);
        if (ev->verdict != LG_VERDICT_PASS && passed_somewhere && !b->interrupted) {
            LG_AUTOFREE char *why =
                lg_strdup_printf("check failed: known-good boot: %s %s (profile %s passed on another host; evidence "
                                 "in %s/)",
                                 lg_verdict_name(ev->verdict), title, profile->id, b->dir);
            drain_host(s, h, why);
        }
        lg_baseline_gate_put(s->baselines, profile, h, b);
    }
    free(boots);
}

/* After the run: the jobs no host took ("no host left: ..."), with their
 * earlier attempts. */
static void settle_left_jobs(sched *s)
{
    if (s->n_queue == 0)
        return;
    LG_AUTOFREE char *hosts = drained_hosts(s);
    LG_AUTOFREE char *why = lg_strdup_printf("no host left: %s", hosts);
    for (size_t q = 0; q < s->n_queue; q++) {
        size_t i = s->queue[q];
        lg_job_result *res = &s->results[i];
        job_state *js = &s->jobs[i];
        lg_job_result_not_run(res, atomic_load(s->opts->interrupted) ? "not run: interrupted (Ctrl-C)" : why);
        res->attempts = js->earlier;
        res->n_attempts = js->n_earlier;
        js->earlier = NULL;
        js->n_earlier = 0;
    }
    LG_AUTOFREE char *note = lg_strdup_printf("labgate: %zu job(s) not run: %s", s->n_queue, why);
    lg_progress_note(s->progress, note);
    s->n_queue = 0;
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

/* ------------------------------------------ hosts through libvirt */

typedef struct libvirt_hosts {
    lg_host_checks *checks;
    const lg_plan *plan;
    const char *run_id;
} libvirt_hosts;

static void libvirt_check(void *opaque, const lg_plan *plan, lg_accel accel, lg_host_ready *out)
{
    libvirt_hosts *lh = opaque;
    lh->checks = lg_host_checks_run(plan, accel, (int64_t)LG_HOST_CHECK_S * 1000, out);
}

static lg_backend *libvirt_backend(void *opaque, size_t host, lg_host_ready *ready)
{
    libvirt_hosts *lh = opaque;
    lg_backend *be = lg_backend_libvirt_new(ready->conn);
    lg_backend_libvirt_set_pool_dir(be, lh->plan->matrix->hosts[host].pool_dir);
    return be;
}

static char *libvirt_leftovers(void *opaque, size_t host, int *removed)
{
    libvirt_hosts *lh = opaque;
    return lg_host_leftovers_remove(lh->plan->matrix->hosts[host].uri, lh->run_id, removed);
}

void lg_sched_run(const lg_plan *plan, const lg_sched_opts *opts, lg_job_result *results, const char **accel_used)
{
    const lg_matrix *m = plan->matrix;
    size_t n_hosts = m->n_hosts ? m->n_hosts : 1;
    sched s = { .plan = plan, .opts = opts, .results = results };
    s.running = lg_calloc(n_hosts, sizeof(*s.running));
    s.queue = lg_plan_start_order(plan);
    s.n_queue = plan->n_jobs;
    s.jobs = lg_calloc(plan->n_jobs ? plan->n_jobs : 1, sizeof(*s.jobs));
    for (size_t i = 0; i < plan->n_jobs; i++)
        s.jobs[i].tried = lg_calloc(n_hosts, sizeof(bool));
    s.drain = lg_drain_new(m->n_hosts, m->policy.host_drain_after);
    s.slots = lg_calloc(n_hosts, sizeof(*s.slots));
    s.assigned = lg_calloc(n_hosts, sizeof(*s.assigned));
    s.envs = lg_calloc(n_hosts, sizeof(*s.envs));
    s.cpu = lg_calloc(n_hosts, sizeof(*s.cpu));
    s.loads = opts->host_loads ? opts->host_loads : lg_calloc(n_hosts, sizeof(*s.loads));
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.changed, NULL);
    if (m->policy.baseline_first)
        s.baselines = lg_baseline_gate_new(run_baseline);
    s.progress = lg_progress_new(plan, stderr, isatty(STDERR_FILENO) == 1, opts->quiet);
    *accel_used = "none";
    /* a job that never runs (Ctrl-C, a dead host) reads as such, with no
     * time anybody measured */
    for (size_t i = 0; i < plan->n_jobs; i++)
        lg_job_result_init(&results[i]);

    libvirt_hosts lh = { .plan = plan, .run_id = opts->run_id };
    const lg_sched_host_ops libvirt_ops = {
        .check = libvirt_check, .backend = libvirt_backend, .leftovers = libvirt_leftovers, .opaque = &lh,
    };
    const lg_sched_host_ops *ops = opts->host_ops ? opts->host_ops : &libvirt_ops;

    /* Every host checked at once, before any job; one connection per
     * host, shared by its workers (libvirt connections are thread-safe). */
    size_t n_workers = 0;
    lg_host_ready *ready = lg_calloc(n_hosts, sizeof(*ready));
    lg_conn **conns = lg_calloc(n_hosts, sizeof(*conns));
    worker *workers = NULL;
    ops->check(ops->opaque, plan, opts->accel, ready);

    size_t total_slots = 0;
    for (size_t h = 0; h < m->n_hosts; h++) {
        const lg_host *host = &m->hosts[h];
        lg_host_load *l = &s.loads[h];
        l->checked = true;
        if (!ready[h].passed) {
            LG_AUTOFREE char *why =
                lg_strdup_printf("check failed: %s", ready[h].failure ? ready[h].failure : "no reason given");
            LG_ERROR("host %s: %s", host->id, why);
            lg_drain_host(s.drain, h, why);
            continue;
        }
        *accel_used = ready[h].kvm ? "kvm" : "tcg";
        s.slots[h] = ready[h].slots > 0 ? ready[h].slots : 1;
        l->slots = s.slots[h];
        if (ready[h].slots_auto) {
            LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s: %d slot(s) (%d CPUs, %lld MiB available)",
                                                      host->id, s.slots[h], ready[h].cpus, ready[h].available_mib);
            lg_progress_note(s.progress, note);
        }
        total_slots += (size_t)s.slots[h];
        s.envs[h] = (lg_job_env){
            .matrix = m, .backend = ops->backend(ops->opaque, h, &ready[h]), .out_dir = opts->out_dir,
            .run_id = opts->run_id, .kvm = ready[h].kvm,
            .interrupted = opts->interrupted, .progress = print_progress, .progress_opaque = &s,
            .progress_until = print_progress_until,
            .keep_failed = opts->keep_failed,
        };
        /* the backend borrows the connection: the run owns it from here */
        conns[h] = ready[h].conn;
        ready[h].conn = NULL;
        if (conns[h] && opts->reconnect_s > 0)
            lg_conn_set_reconnect_ms(conns[h], (int64_t)opts->reconnect_s * 1000);
    }
    for (size_t h = 0; h < m->n_hosts; h++)
        if (lg_drain_is_drained(s.drain, h)) {
            LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s drained: %s", m->hosts[h].id,
                                                      lg_drain_reason(s.drain, h));
            lg_progress_note(s.progress, note);
        }
    /* the first CPU-time sample of each host: shares are measured from
     * here; and its CPUs, for the guests the load average has not seen */
    s.conns = conns;
    s.cpus = lg_calloc(n_hosts, sizeof(*s.cpus));
    for (size_t h = 0; h < m->n_hosts; h++) {
        lg_cpu_share ignored;
        if (!s.envs[h].backend)
            continue;
        sample_cpu(&s, h, &ignored);
        s.cpus[h] = local_uri(m->hosts[h].uri) ? (int)sysconf(_SC_NPROCESSORS_ONLN) : ready[h].cpus;
    }
    size_t cap = opts->max_parallel > 0 ? (size_t)opts->max_parallel : total_slots;
    if (cap > plan->n_jobs)
        cap = plan->n_jobs;
    workers = lg_calloc(cap ? cap : 1, sizeof(*workers));
    /* fill hosts in matrix order */
    for (size_t h = 0; h < m->n_hosts && n_workers < cap; h++) {
        for (int k = 0; s.envs[h].backend && k < s.slots[h] && n_workers < cap; k++) {
            worker *w = &workers[n_workers++];
            w->s = &s;
            w->host = h;
            w->local = local_uri(m->hosts[h].uri);
            w->env = s.envs[h];
            s.assigned[h]++;
        }
    }
    s.workers = workers;
    s.n_workers = n_workers;
    if (n_workers > 0)
        known_good_boots(&s);
    /* what is drained now was drained by its check */
    for (size_t h = 0; h < m->n_hosts; h++)
        s.loads[h].drained_at_check = lg_drain_is_drained(s.drain, h);
    if (n_workers > 0) {
        LG_AUTOFREE char *note = lg_strdup_printf(
            "labgate: %zu job(s) on %zu worker(s), accelerator %s, results in %s", plan->n_jobs, n_workers,
            *accel_used, opts->out_dir);
        lg_progress_note(s.progress, note);
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
    }
    settle_left_jobs(&s);

    for (size_t h = 0; h < m->n_hosts; h++) {
        lg_host_load *l = &s.loads[h];
        l->drained = lg_drain_is_drained(s.drain, h);
        free(l->drain_reason);
        l->drain_reason = l->drained ? lg_strdup(lg_drain_reason(s.drain, h)) : NULL;
        if (s.envs[h].backend && !opts->host_ops)
            lg_backend_libvirt_images(s.envs[h].backend, &l->images, &l->n_images, &l->pool_target);
        /* QEMU outlives its daemon: a host whose connection was lost may
         * still run this run's guests */
        bool lost = s.envs[h].backend && s.envs[h].backend->ops->lost(s.envs[h].backend);
        lg_backend_free(s.envs[h].backend);
        lg_conn_free(conns[h]);
        if (lost && ops->leftovers) {
            free(l->leftovers);
            l->leftovers = ops->leftovers(ops->opaque, h, &l->leftovers_removed);
            if (l->leftovers) {
                LG_AUTOFREE char *note = lg_strdup_printf("labgate: host %s: %s", m->hosts[h].id, l->leftovers);
                lg_progress_note(s.progress, note);
            }
        }
    }
    lg_host_checks_free(lh.checks, 30000);
    for (size_t h = 0; h < m->n_hosts; h++)
        lg_host_ready_clear(&ready[h]);
    free(ready);
    free(conns);
    free(workers);
    free(s.running);
    free(s.queue);
    for (size_t i = 0; i < plan->n_jobs; i++) {
        free(s.jobs[i].tried);
        free(s.jobs[i].earlier); /* handed to a result already when the run ended */
    }
    free(s.jobs);
    lg_drain_free(s.drain);
    free(s.slots);
    free(s.assigned);
    free(s.envs);
    free(s.cpu);
    free(s.cpus);
    if (s.loads != opts->host_loads) {
        lg_host_loads_clear(s.loads, m->n_hosts);
        free(s.loads);
    }
    lg_baseline_gate_free(s.baselines, opts->baselines);
    lg_progress_free(s.progress);
    pthread_cond_destroy(&s.changed);
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
        free(loads[h].drain_reason);
        free(loads[h].leftovers);
        loads[h].drain_reason = NULL;
        loads[h].leftovers = NULL;
    }
}
