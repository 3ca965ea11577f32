/* What a job's cycles show: the failure-rate bound's claim, from the
 * policy, the scenario's plan and what the job counted. */
#include <stddef.h>

#include "model/bound.h"
#include "report.h"

char *lg_report_bound_claim(const lg_policy *policy, const lg_job *job, const lg_job_result *res)
{
    if (!policy->bound_cycles || res->evidence.verdict != LG_VERDICT_PASS)
        return NULL;
    lg_scenario_counts counts;
    lg_scenario_count(job->scenario, &counts);
    /* a job cut short never passes (run/job.c); a result that does not show
     * every cycle (one written before the count existed) claims nothing */
    if (!counts.auto_cycles || res->bound_cycles < counts.auto_cycles)
        return NULL;
    /* a trial is a boot when every cycle booted the guest; otherwise (a
     * repeat of content reloads, say) it is the cycle */
    if (res->bound_boots >= res->bound_cycles)
        return lg_bound_claim(res->bound_boots, "boots", policy->max_failure_rate, policy->confidence);
    return lg_bound_claim(res->bound_cycles, "cycles", policy->max_failure_rate, policy->confidence);
}
