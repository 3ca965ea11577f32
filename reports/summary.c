#include <string.h>

#include "report.h"

static int width(const char *s, int min)
{
    int n = (int)strlen(s);
    return n > min ? n : min;
}

void lg_report_print_summary(const lg_run_report *r, FILE *out)
{
    const lg_plan *plan = r->plan;
    int wg = 5, wb = 5, wc = 7, ws = 8;
    for (size_t i = 0; i < plan->n_jobs; i++) {
        wg = width(plan->jobs[i].guest->id, wg);
        wb = width(plan->jobs[i].build->id, wb);
        wc = width(plan->jobs[i].content->id, wc);
        ws = width(plan->jobs[i].scenario->id, ws);
    }
    fprintf(out, "\n%-12s  %-*s  %-*s  %-*s  %-*s  %-13s  %s\n", "JOB", wg, "GUEST", wb, "BUILD", wc, "CONTENT",
            ws, "SCENARIO", "VERDICT", "EVIDENCE");
    size_t counts[LG_VERDICT_INFRA_ERROR + 1] = { 0 };
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *job = &plan->jobs[i];
        const lg_evidence *ev = &r->results[i].evidence;
        counts[ev->verdict]++;
        fprintf(out, "%-12s  %-*s  %-*s  %-*s  %-*s  %-13s  ", job->id, wg, job->guest->id, wb, job->build->id,
                wc, job->content->id, ws, job->scenario->id, lg_verdict_name(ev->verdict));
        if (ev->verdict == LG_VERDICT_PASS)
            fprintf(out, "-\n");
        else
            fprintf(out, "%s [%s, %.1f s, boot %d]\n", ev->title ? ev->title : "", lg_signal_name(ev->signal),
                    ev->time_s, ev->boot);
    }
    fprintf(out, "\n");
    for (int v = LG_VERDICT_PASS; v <= LG_VERDICT_INFRA_ERROR; v++)
        if (counts[v])
            fprintf(out, "%zu %s  ", counts[v], lg_verdict_name((lg_verdict)v));
    fprintf(out, "\n");
    switch (r->exit_code) {
    case LG_EXIT_CLEAR:
        fprintf(out, "RELEASE CLEAR: every job passed.\n");
        break;
    case LG_EXIT_BLOCKED:
        fprintf(out, "RELEASE BLOCKED: at least one guest crashed, looped, hung or lost its agent.\n");
        break;
    default:
        fprintf(out, "RUN INCOMPLETE: the harness or hypervisor failed; no release decision.\n");
        break;
    }
}
