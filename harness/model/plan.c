#include "plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/util.h"

void lg_job_make_id(const char *guest, const char *build, const char *content,
                    const char *scenario, char out[LG_JOB_ID_LEN + 1])
{
    /* NUL separators keep ("ab","c") and ("a","bc") apart. */
    uint64_t h = 0;
    const char *parts[] = { guest, build, content, scenario };
    for (size_t i = 0; i < LG_N_ELEMENTS(parts); i++)
        h = lg_hash64(parts[i], strlen(parts[i]) + 1, h);
    snprintf(out, LG_JOB_ID_LEN + 1, "%012" PRIx64, (uint64_t)(h & 0xffffffffffffULL));
}

static bool field_matches(const char *rule, const char *id)
{
    return !rule || strcmp(rule, id) == 0;
}

static bool excluded(const lg_matrix *m, const lg_job *job)
{
    for (size_t i = 0; i < m->n_excludes; i++) {
        const lg_exclude *e = &m->excludes[i];
        if (field_matches(e->guest, job->guest->id) && field_matches(e->build, job->build->id) &&
            field_matches(e->content, job->content->id) && field_matches(e->scenario, job->scenario->id))
            return true;
    }
    return false;
}

lg_plan *lg_plan_expand(const lg_matrix *m)
{
    size_t total = m->n_guests * m->n_builds * m->n_contents * m->n_scenarios;
    lg_plan *plan = LG_NEW0(lg_plan);
    plan->matrix = m;
    plan->jobs = lg_calloc(total ? total : 1, sizeof(*plan->jobs));
    /* Content varies slowest after the guest so that one guest's jobs for one
     * content set sit together in the plan and the report. */
    for (size_t g = 0; g < m->n_guests; g++)
        for (size_t c = 0; c < m->n_contents; c++)
            for (size_t b = 0; b < m->n_builds; b++)
                for (size_t s = 0; s < m->n_scenarios; s++) {
                    lg_job job = {
                        .guest = &m->guests[g],
                        .build = &m->builds[b],
                        .content = &m->contents[c],
                        .scenario = &m->scenarios[s],
                    };
                    if (excluded(m, &job)) {
                        plan->n_excluded++;
                        continue;
                    }
                    lg_job_make_id(job.guest->id, job.build->id, job.content->id, job.scenario->id, job.id);
                    job.seed = lg_hash64_str(job.id, m->policy.seed) & 0xffffffffULL;
                    plan->jobs[plan->n_jobs++] = job;
                }
    return plan;
}

int lg_plan_cut_ms(const lg_job *job, size_t step_index, int within_ms)
{
    if (within_ms <= 0)
        return 0;
    char key[48];
    snprintf(key, sizeof(key), "cut-power:%zu", step_index);
    return (int)(lg_hash64_str(key, job->seed) % (uint64_t)within_ms);
}

long lg_job_cost_s(const lg_job *job)
{
    long cost = 0;
    lg_scenario_counts counts;
    lg_scenario_count(job->scenario, &counts);
    cost += (long)counts.boots * LG_JOB_BOOT_COST_S;
    for (size_t i = 0; i < job->scenario->n_steps; i++) {
        const lg_step *st = &job->scenario->steps[i];
        if (st->kind == LG_STEP_STRESS)
            cost += st->stress_seconds;
        else if (lg_step_boots(st) == 0)
            cost += LG_JOB_STEP_COST_S;
    }
    return cost;
}

typedef struct job_cost {
    size_t index;
    long cost_s;
} job_cost;

static int longest_first(const void *a, const void *b)
{
    const job_cost *x = a, *y = b;
    if (x->cost_s != y->cost_s)
        return x->cost_s > y->cost_s ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* qsort is not stable: the plan's order */
}

size_t *lg_plan_start_order(const lg_plan *plan)
{
    job_cost *costs = lg_calloc(plan->n_jobs + 1, sizeof(*costs));
    for (size_t i = 0; i < plan->n_jobs; i++)
        costs[i] = (job_cost){ .index = i, .cost_s = lg_job_cost_s(&plan->jobs[i]) };
    qsort(costs, plan->n_jobs, sizeof(*costs), longest_first);
    size_t *order = lg_calloc(plan->n_jobs + 1, sizeof(*order));
    for (size_t i = 0; i < plan->n_jobs; i++)
        order[i] = costs[i].index;
    free(costs);
    return order;
}

void lg_plan_free(lg_plan *plan)
{
    if (!plan)
        return;
    free(plan->jobs);
    free(plan);
}

long lg_plan_find(const lg_plan *plan, const char *job_id)
{
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (strcmp(plan->jobs[i].id, job_id) == 0)
            return (long)i;
    return -1;
}

int lg_plan_auto_slots(const lg_matrix *m, int host_cpus, long long host_available_mib)
{
    int vcpus = 1;
    long long mib = 1;
    for (size_t i = 0; i < m->n_guests; i++) {
        const lg_profile *p = m->guests[i].profile;
        if (p && p->vcpus > vcpus)
            vcpus = p->vcpus;
        if (p && p->memory_mib + LG_GUEST_OVERHEAD_MIB > mib)
            mib = p->memory_mib + LG_GUEST_OVERHEAD_MIB;
    }
    long long by_cpu = host_cpus / vcpus;
    long long by_mem = (host_available_mib - LG_HOST_RESERVE_MIB) / mib;
    long long slots = by_cpu < by_mem ? by_cpu : by_mem;
    if (slots < 1)
        slots = 1;
    if (slots > 256)
        slots = 256;
    return (int)slots;
}

int lg_plan_check_slots(const lg_matrix *m, const lg_host *host, int host_cpus, long long host_available_mib,
                        lg_diags *diags)
{
    int capacity = lg_plan_auto_slots(m, host_cpus, host_available_mib);
    if (host->slots <= capacity)
        return 0;
    bool allowed = m->policy.overcommit;
    lg_diags_add(diags, m->path, host->line, allowed,
                 "host %s: slots=\"%d\" but it can run %d guest(s) of this matrix at once (%d CPUs, %lld MiB "
                 "available): overloaded guests fail by themselves (crypto self-tests, lockup detectors), "
                 "and those failures would be blamed on the candidate%s",
                 host->id, host->slots, capacity, host_cpus, host_available_mib,
                 allowed ? "" : "; lower slots, or set <policy overcommit=\"allow\"/>");
    return allowed ? 0 : -EINVAL;
}
