#include "baseline.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "model/baseline.h"
#include "model/failure.h"

LG_LOG_INIT("baseline");

/* nothing of the candidate: no install, no content hook, no health */
static const lg_build no_build = { .id = (char *)"none" };
static const lg_content no_content = { .id = (char *)"none" };

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st; (void)type; (void)ftw;
    return remove(path) < 0 ? -errno : 0;
}

/* "jobs/ID/x" (relative to the baseline's own out_dir) -> "DIR/x" */
static void move_path(char **path, const char *from_prefix, const char *dir)
{
    if (!*path || strncmp(*path, from_prefix, strlen(from_prefix)) != 0)
        return;
    char *moved = lg_strdup_printf("%s/%s", dir, *path + strlen(from_prefix));
    free(*path);
    *path = moved;
}

/* The job's directory (out_dir/baseline/jobs/ID) becomes out_dir/DIR,
 * and its paths follow. */
static int move_results(const char *out_dir, const char *job_id, const char *dir, lg_job_result *res)
{
    LG_AUTOFREE char *from = lg_strdup_printf("%s/baseline/jobs/%s", out_dir, job_id);
    LG_AUTOFREE char *jobs = lg_strdup_printf("%s/baseline/jobs", out_dir);
    LG_AUTOFREE char *to = lg_strdup_printf("%s/%s", out_dir, dir);
    LG_AUTOFREE char *parent = lg_strdup(to);
    *strrchr(parent, '/') = '\0';
    /* a resumed run boots the baseline again: the newer one counts */
    if (access(to, F_OK) == 0)
        nftw(to, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    int rc = lg_mkdir_p(parent, 0755);
    if (rc == 0 && rename(from, to) < 0) {
        rc = -errno;
        lg_error_set("cannot move %s to %s: %s", from, to, strerror(-rc));
    }
    rmdir(jobs);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *prefix = lg_strdup_printf("jobs/%s/", job_id);
    move_path(&res->console_log, prefix, dir);
    move_path(&res->screenshot, prefix, dir);
    move_path(&res->memory_dump, prefix, dir);
    move_path(&res->qemu_log, prefix, dir);
    move_path(&res->swtpm_log, prefix, dir);
    for (size_t i = 0; i < res->n_files; i++)
        move_path(&res->files[i], prefix, dir);
    return 0;
}

void lg_baseline_run(const lg_job_env *env, const lg_plan *plan, const lg_profile *profile, size_t host,
                     lg_baseline *out)
{
    const lg_matrix *m = env->matrix;
    const lg_host *h = &m->hosts[host];
    *out = (lg_baseline){
        .profile = lg_strdup(profile->id), .host = lg_strdup(h->id), .dir = lg_baseline_dir(m, profile, h),
    };
    lg_job_result_init(&out->result);
    LG_AUTO(lg_scenario) scenario = lg_baseline_scenario(plan, profile);
    const lg_guest *guest = NULL;
    for (size_t i = 0; i < plan->n_jobs && !guest; i++)
        if (lg_profile_same(plan->jobs[i].guest->profile, profile))
            guest = plan->jobs[i].guest;
    if (!scenario || !guest) {
        LG_AUTOFREE char *why = lg_strdup_printf("no job of the plan uses profile %s", profile->id);
        lg_job_result_not_run(&out->result, why);
        return;
    }
    lg_scenario_counts counts;
    lg_scenario_count(scenario, &counts);
    out->planned_boots = counts.boots;

    lg_job job = { .guest = guest, .build = &no_build, .content = &no_content, .scenario = scenario };
    lg_job_make_id("baseline", profile->id, h->id, "", job.id);
    LG_AUTOFREE char *own_out = lg_strdup_printf("%s/baseline", env->out_dir);
    lg_job_env own = *env;
    own.out_dir = own_out;
    own.keep_failed = false; /* the jobs' VMs are for engineers, not this one */
    LG_DEBUG("baseline of %s on %s: job %s, %d boot(s)", profile->id, h->id, job.id, counts.boots);
    lg_job_run(&own, &job, &out->result);
    out->interrupted = atomic_load(env->interrupted);
    if (move_results(env->out_dir, job.id, out->dir, &out->result) < 0)
        LG_WARN("baseline of %s: %s", profile->id, lg_error_msg());
}

void lg_baseline_fail_job(const lg_baseline *b, lg_job_result *res)
{
    const lg_evidence *bev = &b->result.evidence;
    lg_job_result_clear(res);
    lg_evidence_clear(&res->evidence);
    lg_evidence_copy(&res->evidence, bev);
    const lg_failure_info *info = lg_failure_info_of(LG_FAIL_BASELINE_FAILED);
    free(res->evidence.title);
    res->evidence.title = lg_failure_title(LG_FAIL_BASELINE_FAILED, lg_verdict_name(bev->verdict),
                                           bev->title ? bev->title : "");
    res->evidence.verdict = info->verdict;
    /* the signal that decided stays the baseline's: it says what the guest did */
    res->evidence.baseline = true;
    res->evidence.baseline_verdict = bev->baseline ? bev->baseline_verdict : bev->verdict;
    const lg_job_result *br = &b->result;
    res->step = lg_strdup_printf("baseline %s", br->step ? br->step : "boot");
    res->console_log = br->console_log ? lg_strdup(br->console_log) : NULL;
    res->screenshot = br->screenshot ? lg_strdup(br->screenshot) : NULL;
    res->memory_dump = br->memory_dump ? lg_strdup(br->memory_dump) : NULL;
    res->qemu_log = br->qemu_log ? lg_strdup(br->qemu_log) : NULL;
    res->swtpm_log = br->swtpm_log ? lg_strdup(br->swtpm_log) : NULL;
    res->duration_s = 0;
    res->boots = 0;
}

void lg_baseline_clear(lg_baseline *b)
{
    if (!b)
        return;
    free(b->profile);
    free(b->host);
    free(b->dir);
    lg_job_result_clear(&b->result);
    memset(b, 0, sizeof(*b));
}

void lg_baselines_clear(lg_baselines *list)
{
    for (size_t i = 0; i < list->n; i++)
        lg_baseline_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* ------------------------------------------------------------------ gate */

typedef enum { GATE_RUNNING, GATE_DONE } gate_state;

typedef struct gate_entry {
    const lg_profile *profile;
    size_t host;
    gate_state state;
    lg_baseline *baseline; /* GATE_DONE */
} gate_entry;

struct lg_baseline_gate {
    lg_baseline_run_fn run;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    gate_entry *entries;
    size_t n_entries;
};

lg_baseline_gate *lg_baseline_gate_new(lg_baseline_run_fn run)
{
    lg_baseline_gate *g = lg_calloc(1, sizeof(*g));
    g->run = run;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->changed, NULL);
    return g;
}

static gate_entry *find(lg_baseline_gate *g, const lg_profile *profile, size_t host)
{
    for (size_t i = 0; i < g->n_entries; i++)
        if (g->entries[i].host == host && lg_profile_same(g->entries[i].profile, profile))
            return &g->entries[i];
    return NULL;
}

/* what a job of a profile whose baseline is done gets; true: run it */
static bool judge(const lg_baseline *b, lg_job_result *res)
{
    if (b->result.evidence.verdict == LG_VERDICT_PASS)
        return true;
    if (b->interrupted) {
        lg_job_result_not_run(res, "not run: interrupted (Ctrl-C)");
        return false;
    }
    lg_baseline_fail_job(b, res);
    return false;
}

bool lg_baseline_gate_pass(lg_baseline_gate *g, const lg_job *job, size_t host, void *caller,
                           atomic_bool *interrupted, lg_job_result *res)
{
    const lg_profile *profile = job->guest->profile;
    pthread_mutex_lock(&g->lock);
    gate_entry *e = find(g, profile, host);
    if (!e) {
        g->entries = lg_realloc_n(g->entries, g->n_entries + 1, sizeof(*g->entries));
        size_t index = g->n_entries++;
        g->entries[index] = (gate_entry){ .profile = profile, .host = host, .state = GATE_RUNNING };
        pthread_mutex_unlock(&g->lock);
        lg_baseline *b = lg_calloc(1, sizeof(*b));
        g->run(caller, job, host, b);
        pthread_mutex_lock(&g->lock);
        e = &g->entries[index]; /* the array may have moved meanwhile */
        e->baseline = b;
        e->state = GATE_DONE;
        pthread_cond_broadcast(&g->changed);
    }
    while (e->state != GATE_DONE) {
        size_t index = (size_t)(e - g->entries);
        pthread_cond_wait(&g->changed, &g->lock);
        e = &g->entries[index];
    }
    bool go = judge(e->baseline, res);
    if (go && atomic_load(interrupted)) {
        lg_job_result_not_run(res, "not run: interrupted (Ctrl-C)");
        go = false;
    }
    pthread_mutex_unlock(&g->lock);
    return go;
}

void lg_baseline_gate_put(lg_baseline_gate *g, const lg_profile *profile, size_t host, lg_baseline *b)
{
    pthread_mutex_lock(&g->lock);
    g->entries = lg_realloc_n(g->entries, g->n_entries + 1, sizeof(*g->entries));
    g->entries[g->n_entries++] = (gate_entry){ .profile = profile, .host = host, .state = GATE_DONE, .baseline = b };
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
}

void lg_baseline_gate_free(lg_baseline_gate *g, lg_baselines *out)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_entries; i++) {
        lg_baseline *b = g->entries[i].baseline;
        if (!b)
            continue;
        if (out) {
            out->items = lg_realloc_n(out->items, out->n + 1, sizeof(*out->items));
            out->items[out->n++] = *b;
        } else {
            lg_baseline_clear(b);
        }
        free(b);
    }
    free(g->entries);
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
