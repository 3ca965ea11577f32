#include "progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/clock.h"
#include "base/mem.h"

typedef struct job_state {
    bool running, finished;
    int boot;
    char what[96];
    int64_t started_ms;
    int64_t until_ms; /* what counts down to this (lg_now_ms); 0: no countdown */
} job_state;

struct lg_progress {
    const lg_plan *plan;
    FILE *out;
    bool live, quiet;
    int64_t start_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t ticker;
    bool ticking, stop;
    job_state *jobs;
    size_t done;
    size_t verdicts[LG_VERDICT_MAX];
    int drawn_lines; /* of the table, to erase before the next draw */
};

static void clock_text(char *buf, size_t len, int64_t ms)
{
    int64_t t = ms / 1000;
    snprintf(buf, len, "%lld:%02lld", (long long)(t / 60), (long long)(t % 60));
}

static void job_name(const lg_job *job, lg_buf *out)
{
    lg_buf_printf(out, "%s/%s/%s/%s", job->guest->id, job->build->id, job->content->id, job->scenario->id);
}

/* Lock held. */
static void erase(lg_progress *p)
{
    if (p->drawn_lines > 0)
        fprintf(p->out, "\033[%dA\033[J", p->drawn_lines);
    p->drawn_lines = 0;
}

/* Lock held. */
static void draw(lg_progress *p)
{
    int64_t now = lg_now_ms();
    char elapsed[48];
    clock_text(elapsed, sizeof(elapsed), now - p->start_ms);
    LG_AUTOBUF head = LG_BUF_INIT;
    lg_buf_printf(&head, "labgate %s  %zu/%zu done", elapsed, p->done, p->plan->n_jobs);
    for (int v = 0; v < LG_VERDICT_MAX; v++)
        if (p->verdicts[v])
            lg_buf_printf(&head, "  %zu %s", p->verdicts[v], lg_verdict_name((lg_verdict)v));
    fprintf(p->out, "\033[1m%s\033[0m\n", head.data);
    int lines = 1;
    for (size_t i = 0; i < p->plan->n_jobs; i++) {
        const job_state *j = &p->jobs[i];
        if (!j->running)
            continue;
        LG_AUTOBUF name = LG_BUF_INIT;
        job_name(&p->plan->jobs[i], &name);
        char job_elapsed[48];
        clock_text(job_elapsed, sizeof(job_elapsed), now - j->started_ms);
        char left[32] = "";
        if (j->until_ms)
            snprintf(left, sizeof(left), " %lld s left",
                     (long long)((j->until_ms > now ? j->until_ms - now + 999 : 0) / 1000));
        fprintf(p->out, "  %-12s %-40.40s  boot %-2d %6s  %.60s%s\n", p->plan->jobs[i].id, name.data, j->boot,
                job_elapsed, j->what, left);
        lines++;
    }
    p->drawn_lines = lines;
    fflush(p->out);
}

static void *tick(void *opaque)
{
    lg_progress *p = opaque;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        lg_cond_wait_until(&p->cond, &p->lock, lg_now_ms() + 1000);
        if (p->stop)
            break;
        erase(p);
        draw(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

lg_progress *lg_progress_new(const lg_plan *plan, FILE *out, bool live, bool quiet)
{
    lg_progress *p = LG_NEW0(lg_progress);
    p->jobs = lg_calloc(plan->n_jobs ? plan->n_jobs : 1, sizeof(*p->jobs));
    p->plan = plan;
    p->out = out;
    p->live = live && !quiet;
    p->quiet = quiet;
    p->start_ms = lg_now_ms();
    pthread_mutex_init(&p->lock, NULL);
    lg_cond_init_monotonic(&p->cond);
    if (p->live)
        p->ticking = pthread_create(&p->ticker, NULL, tick, p) == 0;
    return p;
}

/* A permanent line: above the table on a terminal, timestamped otherwise.
 * Lock held. */
static void emit(lg_progress *p, const char *line)
{
    if (p->quiet)
        return;
    if (p->live) {
        erase(p);
        fprintf(p->out, "%s\n", line);
        draw(p);
    } else {
        char t[48];
        clock_text(t, sizeof(t), lg_now_ms() - p->start_ms);
        fprintf(p->out, "[%6s] %s\n", t, line);
        fflush(p->out);
    }
}

static void event(lg_progress *p, const lg_job *job, int boot, const char *what, int64_t until_ms)
{
    size_t i = (size_t)(job - p->plan->jobs);
    pthread_mutex_lock(&p->lock);
    job_state *j = &p->jobs[i];
    j->until_ms = until_ms;
    if (!j->running) {
        j->running = true;
        j->started_ms = lg_now_ms();
    }
    j->boot = boot;
    /* what may quote the guest (a command's output): never a control byte on
     * the terminal, where one could redraw the table */
    LG_AUTOFREE char *clean_what = lg_clean_term(what ? what : "");
    snprintf(j->what, sizeof(j->what), "%s", clean_what);
    if (p->live) {
        erase(p);
        draw(p);
    } else {
        LG_AUTOBUF line = LG_BUF_INIT;
        lg_buf_printf(&line, "%s ", job->id);
        job_name(job, &line);
        lg_buf_printf(&line, ": %s", clean_what);
        if (until_ms) {
            int64_t left_ms = until_ms - lg_now_ms();
            lg_buf_printf(&line, ": %lld s", (long long)((left_ms > 0 ? left_ms + 999 : 0) / 1000));
        }
        emit(p, line.data);
    }
    pthread_mutex_unlock(&p->lock);
}

void lg_progress_event(lg_progress *p, const lg_job *job, int boot, const char *what)
{
    event(p, job, boot, what, 0);
}

void lg_progress_event_until(lg_progress *p, const lg_job *job, int boot, const char *what, int64_t until_ms)
{
    event(p, job, boot, what, until_ms);
}

void lg_progress_done(lg_progress *p, const lg_job *job, const lg_job_result *res, size_t done)
{
    size_t i = (size_t)(job - p->plan->jobs);
    pthread_mutex_lock(&p->lock);
    p->jobs[i].running = false;
    p->jobs[i].finished = true;
    p->done = done;
    p->verdicts[res->evidence.verdict]++;
    LG_AUTOBUF line = LG_BUF_INIT;
    lg_buf_printf(&line, "%s ", job->id);
    job_name(job, &line);
    lg_buf_printf(&line, ": %s (%zu/%zu done, %.0f s)", lg_verdict_name(res->evidence.verdict), done,
                  p->plan->n_jobs, res->duration_s);
    if (res->evidence.title) {
        /* a guest's title must not be able to redraw a row ("\rPASS -") */
        lg_buf_puts(&line, ": ");
        lg_clean_term_append(&line, res->evidence.title);
    }
    emit(p, line.data);
    pthread_mutex_unlock(&p->lock);
}

void lg_progress_note(lg_progress *p, const char *text)
{
    LG_AUTOFREE char *clean = lg_clean_term(text ? text : "");
    pthread_mutex_lock(&p->lock);
    emit(p, clean);
    pthread_mutex_unlock(&p->lock);
}

void lg_progress_free(lg_progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (p->ticking)
        pthread_join(p->ticker, NULL);
    if (p->live) {
        erase(p);
        fflush(p->out);
    }
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->jobs);
    free(p);
}
