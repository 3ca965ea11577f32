#include "baseline.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

bool lg_step_is_restart(lg_step_kind kind)
{
    /* no default: a new step kind says here whether a baseline keeps it */
    switch (kind) {
    case LG_STEP_REBOOT:
    case LG_STEP_POWER_CYCLE:
    case LG_STEP_COLD_BOOT: return true;
    case LG_STEP_WAIT_READY:
    case LG_STEP_INSTALL:
    case LG_STEP_APPLY_CONTENT: /* a power cut mid-update needs the content */
    case LG_STEP_CONTENT_RELOAD:
    case LG_STEP_EXEC:
    case LG_STEP_FETCH:
    case LG_STEP_STRESS: return false;
    }
    return false;
}

bool lg_profile_same(const lg_profile *a, const lg_profile *b)
{
    return a == b || strcmp(a->id, b->id) == 0;
}

static int restart_boots(const lg_scenario *sc)
{
    int boots = 0;
    for (size_t i = 0; i < sc->n_steps; i++)
        if (lg_step_is_restart(sc->steps[i].kind))
            boots += lg_step_boots(&sc->steps[i]);
    return boots;
}

lg_scenario *lg_baseline_scenario(const lg_plan *plan, const lg_profile *profile)
{
    const lg_scenario *from = NULL;
    int most = -1;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *job = &plan->jobs[i];
        if (!lg_profile_same(job->guest->profile, profile))
            continue;
        int boots = restart_boots(job->scenario);
        if (boots > most) {
            most = boots;
            from = job->scenario;
        }
    }
    if (!from)
        return NULL;
    lg_scenario *sc = lg_calloc(1, sizeof(*sc));
    sc->id = lg_strdup("baseline");
    sc->line = from->line;
    sc->steps = lg_calloc(from->n_steps + 1, sizeof(*sc->steps));
    sc->steps[sc->n_steps++] = (lg_step){ .kind = LG_STEP_WAIT_READY, .line = from->line };
    for (size_t i = 0; i < from->n_steps; i++)
        if (lg_step_is_restart(from->steps[i].kind))
            lg_step_copy(&sc->steps[sc->n_steps++], &from->steps[i]);
    return sc;
}

void lg_baseline_scenario_free(lg_scenario *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n_steps; i++)
        free(sc->steps[i].command);
    free(sc->steps);
    free(sc->id);
    free(sc);
}

const lg_profile **lg_plan_profiles(const lg_plan *plan, size_t *n)
{
    const lg_profile **out = lg_calloc(plan->n_jobs ? plan->n_jobs : 1, sizeof(*out));
    size_t count = 0;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_profile *p = plan->jobs[i].guest->profile;
        size_t k = 0;
        while (k < count && !lg_profile_same(out[k], p))
            k++;
        if (k == count)
            out[count++] = p;
    }
    *n = count;
    return out;
}

char *lg_baseline_dir(const lg_matrix *m, const lg_profile *profile, const lg_host *host)
{
    if (m->n_hosts > 1)
        return lg_strdup_printf("baseline/%s/%s", profile->id, host->id);
    return lg_strdup_printf("baseline/%s", profile->id);
}
