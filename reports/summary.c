#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/cleanup.h"
#include "report.h"

static int width(const char *s, int min)
{
    int n = (int)strlen(s);
    return n > min ? n : min;
}


/* Content is its own axis, crossed with every build in the field: for each
 * content set, how each build fared, so "this content crashes 7.11 but not
 * 7.12" reads off one block. */
static void print_by_content(const lg_run_report *r, FILE *out, int wb)
{
    const lg_plan *plan = r->plan;
    const lg_matrix *m = plan->matrix;
    if (m->n_builds < 2)
        return;
    fprintf(out, "\nBY CONTENT (every build in the field and the candidate)\n");
    for (size_t c = 0; c < m->n_contents; c++) {
        const lg_content *content = &m->contents[c];
        bool any = false;
        for (size_t b = 0; b < m->n_builds; b++) {
            const lg_build *build = &m->builds[b];
            size_t jobs = 0, worst_count = 0;
            const lg_evidence *worst = NULL;
            const lg_job *worst_job = NULL;
            for (size_t i = 0; i < plan->n_jobs; i++) {
                const lg_job *job = &plan->jobs[i];
                if (job->content != content || job->build != build)
                    continue;
                const lg_evidence *ev = &r->results[i].evidence;
                jobs++;
                if (!worst || lg_verdict_severity(ev->verdict) > lg_verdict_severity(worst->verdict)) {
                    worst = ev;
                    worst_job = job;
                    worst_count = 1;
                } else if (ev->verdict == worst->verdict) {
                    worst_count++;
                }
            }
            if (!jobs)
                continue;
            if (!any)
                fprintf(out, "  %s\n", content->id);
            any = true;
            fprintf(out, "    %-*s  %-9s  %-13s %zu/%zu", wb, build->id, build->candidate ? "candidate" : "released",
                    lg_verdict_name(worst->verdict), worst_count, jobs);
            if (worst->verdict != LG_VERDICT_PASS) {
                LG_AUTOFREE char *title = lg_clean_term(worst->title ? worst->title : "");
                fprintf(out, "  %s (%s)", title, worst_job->guest->id);
            }
            fprintf(out, "\n");
        }
    }
}

char *lg_report_host_load_text(const lg_host_load *l)
{
    lg_buf text = LG_BUF_INIT;
    if (l->watched && l->samples)
        lg_buf_printf(&text, "load %.2f per CPU at most as jobs started (%.2f on average)", l->max_per_cpu,
                      l->sum_per_cpu / (double)l->samples);
    if (l->cpu_watched && l->cpu_samples) {
        double n = (double)l->cpu_samples;
        lg_buf_printf(&text, "%sCPUs busy %.0f %% at most (%.0f %% on average)", text.len ? ", " : "",
                      l->max_busy * 100, l->sum_busy / n * 100);
        if (!l->remote)
            lg_buf_printf(&text, ", steal %.1f %% at most (%.1f %% on average)", l->max_steal * 100,
                          l->sum_steal / n * 100);
    }
    return lg_buf_steal(&text);
}

char *lg_report_host_drain_text(const lg_host_load *l)
{
    if (!l->drained)
        return NULL;
    lg_buf text = LG_BUF_INIT;
    if (l->drained_at_check)
        lg_buf_printf(&text, "drained at its check (no job started there): %s", l->drain_reason);
    else
        lg_buf_printf(&text, "drained during the run after %d job(s) there: %s; no job started there after it",
                      l->jobs_ended, l->drain_reason);
    if (l->leftovers)
        lg_buf_printf(&text, "; after the run: %s", l->leftovers);
    else if (l->leftovers_removed)
        lg_buf_printf(&text, "; after the run: %d domain(s) and overlay(s) of this run removed there", l->leftovers_removed);
    return lg_buf_steal(&text);
}

char *lg_report_baseline_line(const lg_baseline *b)
{
    const lg_evidence *ev = &b->result.evidence;
    if (ev->verdict == LG_VERDICT_PASS)
        return lg_strdup_printf("profile %s on host %s: PASS in %.1f s (%d boot%s, nothing installed)", b->profile,
                                b->host, b->result.duration_s, b->result.ready_boots,
                                b->result.ready_boots == 1 ? "" : "s");
    LG_AUTOFREE char *title = lg_clean_term(ev->title ? ev->title : "");
    return lg_strdup_printf("profile %s on host %s: %s %s after %.1f s (evidence in %s/); its jobs were not run",
                            b->profile, b->host, lg_verdict_name(ev->verdict), title, b->result.duration_s, b->dir);
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
    size_t counts[LG_VERDICT_MAX] = { 0 };
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *job = &plan->jobs[i];
        const lg_evidence *ev = &r->results[i].evidence;
        counts[ev->verdict]++;
        fprintf(out, "%-12s  %-*s  %-*s  %-*s  %-*s  %-13s  ", job->id, wg, job->guest->id, wb, job->build->id,
                wc, job->content->id, ws, job->scenario->id, lg_verdict_name(ev->verdict));
        if (ev->verdict == LG_VERDICT_PASS) {
            LG_AUTOFREE char *claim = lg_report_bound_claim(&plan->matrix->policy, job, &r->results[i]);
            fprintf(out, "%s\n", claim ? claim : "-");
        } else {
            /* a guest's title: it must not be able to redraw the row ("\rPASS -") */
            LG_AUTOFREE char *title = lg_clean_term(ev->title ? ev->title : "");
            fprintf(out, "%s [%s, %.1f s, boot %d]\n", title, lg_signal_name(ev->signal), ev->time_s, ev->boot);
        }
        /* earlier tries: a baseline failure run again, an INFRA_ERROR run
         * again on another host (a PASS may have them too) */
        for (size_t k = 0; k < r->results[i].n_attempts; k++) {
            const lg_attempt *a = &r->results[i].attempts[k];
            LG_AUTOFREE char *earlier = lg_clean_term(a->title ? a->title : "");
            LG_AUTOFREE char *where = a->host ? lg_clean_term(a->host) : NULL;
            fprintf(out, "%-12s  attempt %zu: %s %s (%s/)%s%s\n", "", k + 1, lg_verdict_name(a->verdict), earlier,
                    a->dir, where ? " on host " : "", where ? where : "");
        }
    }
    print_by_content(r, out, wb);
    for (size_t k = 0; r->baselines && k < r->baselines->n; k++) {
        LG_AUTOFREE char *line = lg_report_baseline_line(&r->baselines->items[k]);
        fprintf(out, "%sbaseline of %s\n", k ? "" : "\n", line);
    }
    for (size_t h = 0; r->host_loads && h < plan->matrix->n_hosts; h++) {
        const lg_host_load *l = &r->host_loads[h];
        if ((!l->watched || !l->samples) && !l->cpu_watched)
            continue;
        LG_AUTOFREE char *load = lg_report_host_load_text(l);
        fprintf(out, "host %s: %s", plan->matrix->hosts[h].id, load);
        if (l->held_s >= 1)
            fprintf(out, "; new jobs waited %.0f s for it to drop", l->held_s);
        fprintf(out, "\n");
    }
    /* the hosts drained: at their check or during the run */
    for (size_t h = 0; r->host_loads && h < plan->matrix->n_hosts; h++) {
        LG_AUTOFREE char *drained = lg_report_host_drain_text(&r->host_loads[h]);
        LG_AUTOFREE char *clean = drained ? lg_clean_term(drained) : NULL;
        if (clean)
            fprintf(out, "host %s: %s\n", plan->matrix->hosts[h].id, clean);
    }
    /* what the hosts' storage pools cost this run */
    for (size_t h = 0; r->host_loads && h < plan->matrix->n_hosts; h++) {
        const lg_host_load *l = &r->host_loads[h];
        size_t uploaded = 0;
        uint64_t bytes = 0;
        double seconds = 0;
        for (size_t k = 0; k < l->n_images; k++)
            if (l->images[k].uploaded) {
                uploaded++;
                bytes += l->images[k].size;
                seconds += l->images[k].seconds;
            }
        if (l->n_images)
            fprintf(out, "host %s: %zu image(s) uploaded (%.1f MiB in %.1f s), %zu reused from its storage pool\n",
                    plan->matrix->hosts[h].id, uploaded, (double)bytes / (1 << 20), seconds, l->n_images - uploaded);
    }
    fprintf(out, "\n");
    LG_AUTOFREE char *shard = lg_report_shard_line(r);
    if (shard && r->shard)
        fprintf(out, "%s: this shard's gate; `labgate merge` the shards' results for the release's\n", shard);
    else if (shard)
        fprintf(out, "%s\n", shard);
    for (int v = 0; v < LG_VERDICT_MAX; v++)
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
