#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/util.h"
#include "inputs.h"
#include "lg-config.h"
#include "report.h"
#include "xmlout.h"

const char *lg_report_outcome(int exit_code)
{
    switch (exit_code) {
    case LG_EXIT_CLEAR: return "clear";
    case LG_EXIT_BLOCKED: return "blocked";
    case LG_EXIT_INCOMPLETE: return "incomplete";
    default: return "error";
    }
}

static void set(xmlNodePtr node, const char *name, const char *value)
{
    lg_xmlout_set(node, name, value);
}

static void setnum(xmlNodePtr node, const char *name, double v, int decimals)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    set(node, name, buf);
}

int lg_report_save_xml(xmlDocPtr doc, const char *path)
{
    xmlChar *text = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
    if (!text) {
        lg_error_set("cannot write %s", path);
        return -EIO;
    }
    int rc = lg_write_file_durable(path, (const char *)text, (size_t)len);
    xmlFree(text);
    return rc;
}

/* What the job counted: boots that reached ready, its repeats' cycles
 * done of those planned, the count="auto" ones (the bound's trials), and
 * the bound's claim when it holds. */
static void add_cycles(xmlNodePtr j, const lg_job *job, const lg_job_result *res)
{
    lg_scenario_counts planned;
    lg_scenario_count(job->scenario, &planned);
    setnum(j, "ready-boots", res->ready_boots, 0);
    if (!planned.cycles)
        return;
    setnum(j, "cycles", res->cycles, 0);
    setnum(j, "cycles-planned", planned.cycles, 0);
    if (!planned.auto_cycles)
        return;
    setnum(j, "bound-cycles", res->bound_cycles, 0);
    setnum(j, "bound-cycles-planned", planned.auto_cycles, 0);
    setnum(j, "bound-boots", res->bound_boots, 0);
}

/* <evidence signal title time-s boot step>: what decided a failed job or
 * baseline (the caller adds the rest) */
static xmlNodePtr add_evidence(xmlNodePtr parent, const lg_job_result *res)
{
    const lg_evidence *ev = &res->evidence;
    xmlNodePtr e = xmlNewChild(parent, NULL, (const xmlChar *)"evidence", NULL);
    set(e, "signal", lg_signal_name(ev->signal));
    set(e, "title", ev->title ? ev->title : lg_verdict_name(ev->verdict));
    setnum(e, "time-s", ev->time_s, 3);
    setnum(e, "boot", ev->boot, 0);
    if (res->step)
        set(e, "step", res->step);
    return e;
}

/* <artifact kind path> for each of a job's or baseline's files */
static void add_artifacts(xmlNodePtr parent, const lg_job_result *res)
{
    lg_artifact artifacts[LG_JOB_ARTIFACT_KINDS];
    size_t n_artifacts = lg_job_artifacts(res, artifacts);
    for (size_t k = 0; k < n_artifacts; k++) {
        xmlNodePtr a = xmlNewChild(parent, NULL, (const xmlChar *)"artifact", NULL);
        set(a, "kind", artifacts[k].kind);
        set(a, "path", artifacts[k].path);
    }
}

/* run.xml's word on the failure-rate bound, for a job with count="auto"
 * steps under a policy with a bound:
 *   <bound max-failure-rate="0.1" confidence="0.95" holds="true">0 failures
 *   in 29 boots: failure rate &lt; 0.1 at confidence 0.95</bound>
 * holds="false" and no text when the job did not pass every cycle.  Not in
 * the journal's entries: it is derived from the counts and the policy. */
static void add_bound(xmlNodePtr j, const lg_policy *policy, const lg_job *job, const lg_job_result *res)
{
    lg_scenario_counts planned;
    lg_scenario_count(job->scenario, &planned);
    if (!policy->bound_cycles || !planned.auto_cycles)
        return;
    LG_AUTOFREE char *claim = lg_report_bound_claim(policy, job, res);
    xmlNodePtr b = claim ? lg_xmlout_text_child(j, "bound", claim)
                         : xmlNewChild(j, NULL, (const xmlChar *)"bound", NULL);
    char num[32];
    snprintf(num, sizeof(num), "%g", policy->max_failure_rate);
    set(b, "max-failure-rate", num);
    snprintf(num, sizeof(num), "%g", policy->confidence);
    set(b, "confidence", num);
    set(b, "holds", claim ? "true" : "false");
}

xmlNodePtr lg_report_job_element(xmlNodePtr parent, const lg_job *job, const lg_job_result *res)
{
    const lg_evidence *ev = &res->evidence;
    xmlNodePtr j = xmlNewChild(parent, NULL, (const xmlChar *)"job", NULL);
    set(j, "id", job->id);
    set(j, "guest", job->guest->id);
    set(j, "build", job->build->id);
    set(j, "content", job->content->id);
    set(j, "scenario", job->scenario->id);
    /* where it ran: the matrix's host id (none for a job that never ran) */
    if (res->host)
        set(j, "host", res->host);
    setnum(j, "seed", (double)job->seed, 0);
    set(j, "verdict", lg_verdict_name(ev->verdict));
    set(j, "blocks", lg_verdict_blocks(ev->verdict) ? "true" : "false");
    setnum(j, "duration-s", res->duration_s, 1);
    setnum(j, "boots", res->boots, 0);
    add_cycles(j, job, res);
    /* <apply-content cut-power-within-ms>: when the power went (repro cuts there too) */
    if (res->power_cut_ms >= 0)
        setnum(j, "power-cut-ms", res->power_cut_ms, 0);
    if (ev->verdict != LG_VERDICT_PASS) {
        xmlNodePtr e = add_evidence(j, res);
        /* the guest failed before the candidate was on it: what it was */
        if (ev->baseline)
            set(e, "baseline", lg_verdict_name(ev->baseline_verdict));
        /* the instants detection latency is measured from */
        if (ev->panic_time_s >= 0)
            setnum(e, "panic-time-s", ev->panic_time_s, 3);
        if (ev->report_time_s >= 0)
            setnum(e, "report-time-s", ev->report_time_s, 3);
        if (ev->last_answer_s >= 0)
            setnum(e, "last-answer-s", ev->last_answer_s, 3);
        /* the guest's vCPUs stopped at the decision: the evidence is of that moment */
        if (ev->frozen_time_s >= 0)
            setnum(e, "frozen-at-s", ev->frozen_time_s, 3);
        for (size_t k = 0; k < ev->n_signals; k++) {
            xmlNodePtr sig = xmlNewChild(e, NULL, (const xmlChar *)"signal", NULL);
            set(sig, "name", lg_signal_name(ev->signals[k].signal));
            set(sig, "verdict", lg_verdict_name(ev->signals[k].verdict));
            setnum(sig, "time-s", ev->signals[k].time_s, 3);
            set(sig, "title", ev->signals[k].title);
        }
        if (ev->console_excerpt && *ev->console_excerpt)
            lg_xmlout_text_child(e, "console", ev->console_excerpt);
    } else {
        /* a job that passed with findings (warnings="report", the OOM
         * killer taking a process that is not the agent's) */
        for (size_t k = 0; k < ev->n_signals; k++) {
            xmlNodePtr f = xmlNewChild(j, NULL, (const xmlChar *)"finding", NULL);
            set(f, "signal", lg_signal_name(ev->signals[k].signal));
            setnum(f, "time-s", ev->signals[k].time_s, 3);
            set(f, "title", ev->signals[k].title);
        }
    }
    for (size_t k = 0; k < res->n_attempts; k++) {
        xmlNodePtr a = xmlNewChild(j, NULL, (const xmlChar *)"attempt", NULL);
        setnum(a, "n", (double)(k + 1), 0);
        set(a, "verdict", lg_verdict_name(res->attempts[k].verdict));
        set(a, "title", res->attempts[k].title);
        set(a, "path", res->attempts[k].dir);
        if (res->attempts[k].host)
            set(a, "host", res->attempts[k].host);
    }
    /* the network probes, and why a profile turned them off */
    const lg_profile *profile = job->guest->profile;
    if (profile) {
        xmlNodePtr net = xmlNewChild(j, NULL, (const xmlChar *)"network", NULL);
        set(net, "probe", profile->net_probe ? "on" : "none");
        if (!profile->net_probe && profile->net_probe_reason)
            set(net, "reason", profile->net_probe_reason);
    }
    for (size_t k = 0; k < res->n_files; k++) {
        xmlNodePtr a = xmlNewChild(j, NULL, (const xmlChar *)"artifact", NULL);
        set(a, "kind", "file");
        set(a, "path", res->files[k]);
    }
    add_artifacts(j, res);
    return j;
}

/* <baseline profile host verdict seconds boots planned-boots path>: a
 * profile's boot with nothing installed (policy baseline="first"), with
 * its evidence when it failed and its artifacts. */
static void add_baseline(xmlNodePtr run, const lg_baseline *b)
{
    const lg_job_result *res = &b->result;
    const lg_evidence *ev = &res->evidence;
    xmlNodePtr e = xmlNewChild(run, NULL, (const xmlChar *)"baseline", NULL);
    set(e, "profile", b->profile);
    set(e, "host", b->host);
    set(e, "verdict", lg_verdict_name(ev->verdict));
    setnum(e, "seconds", res->duration_s, 1);
    setnum(e, "boots", res->ready_boots, 0);
    setnum(e, "planned-boots", b->planned_boots, 0);
    set(e, "path", b->dir);
    if (ev->verdict != LG_VERDICT_PASS) {
        xmlNodePtr x = add_evidence(e, res);
        if (ev->console_excerpt && *ev->console_excerpt)
            lg_xmlout_text_child(x, "console", ev->console_excerpt);
    }
    add_artifacts(e, res);
}

char *lg_report_shard_line(const lg_run_report *r)
{
    if (r->shard)
        return lg_strdup_printf("shard %d of %d (%zu of %zu jobs)", r->shard->index, r->shard->count,
                                r->plan->n_jobs, r->shard->plan_jobs);
    if (r->merged)
        return lg_strdup_printf("merged from %d shard%s (%zu jobs)", r->merged->count,
                                r->merged->count == 1 ? "" : "s", r->plan->n_jobs);
    return NULL;
}

/* A shard's run:
 *   <shard index="1" count="2" plan-jobs="5" plan-sha256="HEX" jobs="3">
 *     <job id="ID"/>...                the shard's jobs, in plan order
 *   </shard>
 * a merged run:
 *   <merged shards="2" plan-jobs="5" plan-sha256="HEX">
 *     <shard index="1" run="RUN_ID" dir="DIR" host="MACHINE" jobs="3"/>...
 *   </merged> */
static void add_shard(xmlNodePtr run, const lg_run_report *r)
{
    if (r->shard) {
        xmlNodePtr s = xmlNewChild(run, NULL, (const xmlChar *)"shard", NULL);
        setnum(s, "index", r->shard->index, 0);
        setnum(s, "count", r->shard->count, 0);
        setnum(s, "plan-jobs", (double)r->shard->plan_jobs, 0);
        set(s, "plan-sha256", r->shard->plan_sha256);
        setnum(s, "jobs", (double)r->plan->n_jobs, 0);
        for (size_t i = 0; i < r->plan->n_jobs; i++)
            set(xmlNewChild(s, NULL, (const xmlChar *)"job", NULL), "id", r->plan->jobs[i].id);
    }
    if (r->merged) {
        xmlNodePtr mg = xmlNewChild(run, NULL, (const xmlChar *)"merged", NULL);
        setnum(mg, "shards", r->merged->count, 0);
        setnum(mg, "plan-jobs", (double)r->plan->n_jobs, 0);
        set(mg, "plan-sha256", r->merged->plan_sha256);
        for (int k = 0; k < r->merged->count; k++) {
            const lg_report_merged_shard *ms = &r->merged->shards[k];
            xmlNodePtr s = xmlNewChild(mg, NULL, (const xmlChar *)"shard", NULL);
            setnum(s, "index", ms->index, 0);
            set(s, "run", ms->run_id);
            set(s, "dir", ms->dir);
            set(s, "host", ms->host);
            setnum(s, "jobs", (double)ms->jobs, 0);
        }
    }
}

int lg_report_write_runxml(const lg_run_report *r, const char *path)
{
    const lg_matrix *m = r->plan->matrix;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr run = xmlNewNode(NULL, (const xmlChar *)"run");
    xmlDocSetRootElement(doc, run);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    set(run, "id", r->run_id);
    set(run, "matrix", m->path);
    set(run, "matrix-name", m->name);
    set(run, "started", r->started);
    set(run, "finished", r->finished);
    set(run, "host", host);
    set(run, "labgate-version", LG_VERSION);
    set(run, "accel", r->accel);
    /* the guests' kernels ran with heap checks: what they were */
    if (m->policy.hardening != LG_HARDENING_NONE) {
        set(run, "hardening", lg_hardening_name(m->policy.hardening));
        set(run, "hardening-cmdline", lg_hardening_info_of(m->policy.hardening)->linux_cmdline);
    }
    if (m->policy.driver_verifier != LG_VERIFIER_NONE)
        set(run, "driver-verifier", lg_driver_verifier_name(m->policy.driver_verifier));
    set(run, "outcome", lg_report_outcome(r->exit_code));
    setnum(run, "exit-code", r->exit_code, 0);
    if (r->inputs) {
        xmlNodePtr copy = xmlDocCopyNode(xmlDocGetRootElement((xmlDocPtr)r->inputs), doc, 1);
        if (!copy || !xmlAddChild(run, copy)) {
            xmlFreeNode(copy);
            xmlFreeDoc(doc);
            return -ENOMEM;
        }
    } else if (lg_report_add_inputs(run, r->plan) < 0) {
        xmlFreeDoc(doc);
        return -ENOMEM;
    }

    add_shard(run, r);
    /* each host the run checked: ok, or drained (at its check or during the
     * run) and why; what the reconnect after the run left on it */
    for (size_t h = 0; r->host_loads && h < m->n_hosts; h++) {
        const lg_host_load *l = &r->host_loads[h];
        if (!l->checked)
            continue;
        xmlNodePtr he = xmlNewChild(run, NULL, (const xmlChar *)"host", NULL);
        set(he, "id", m->hosts[h].id);
        set(he, "uri", m->hosts[h].uri);
        set(he, "state", l->drained ? "drained" : "ok");
        if (l->drained) {
            set(he, "drained-at", l->drained_at_check ? "check" : "run");
            set(he, "reason", l->drain_reason);
        }
        setnum(he, "slots", l->slots, 0);
        setnum(he, "jobs", l->jobs_ended, 0);
        if (l->leftovers_removed)
            setnum(he, "leftovers-removed", l->leftovers_removed, 0);
        if (l->leftovers)
            set(he, "leftovers", l->leftovers);
    }
    for (size_t h = 0; r->host_loads && h < m->n_hosts; h++) {
        const lg_host_load *l = &r->host_loads[h];
        if (!l->watched && !l->cpu_watched)
            continue;
        xmlNodePtr hl = xmlNewChild(run, NULL, (const xmlChar *)"host-load", NULL);
        set(hl, "host", m->hosts[h].id);
        if (l->watched) {
            setnum(hl, "max-per-cpu", l->max_per_cpu, 2);
            setnum(hl, "mean-per-cpu", l->samples ? l->sum_per_cpu / (double)l->samples : 0, 2);
            setnum(hl, "samples", (double)l->samples, 0);
        }
        setnum(hl, "held-s", l->held_s, 1);
        /* CPU time between samples: busy on every host (a remote host's
         * only measure), steal where the host is itself a VM (local) */
        if (l->cpu_watched) {
            double n = (double)l->cpu_samples;
            setnum(hl, "max-busy", l->max_busy, 3);
            setnum(hl, "mean-busy", l->sum_busy / n, 3);
            if (!l->remote) {
                setnum(hl, "max-steal", l->max_steal, 3);
                setnum(hl, "mean-steal", l->sum_steal / n, 3);
            }
            setnum(hl, "cpu-samples", n, 0);
        }
    }
    /* per host: the images its pool gave this run, uploaded now or reused */
    for (size_t h = 0; r->host_loads && h < m->n_hosts; h++) {
        const lg_host_load *l = &r->host_loads[h];
        if (!l->n_images)
            continue;
        xmlNodePtr hi = xmlNewChild(run, NULL, (const xmlChar *)"host-images", NULL);
        set(hi, "host", m->hosts[h].id);
        set(hi, "uri", m->hosts[h].uri);
        if (l->pool_target)
            set(hi, "pool-target", l->pool_target);
        for (size_t k = 0; k < l->n_images; k++) {
            const lg_staged_image *img = &l->images[k];
            xmlNodePtr e = xmlNewChild(hi, NULL, (const xmlChar *)"image", NULL);
            set(e, "volume", img->volume);
            set(e, "source", img->source);
            set(e, "action", img->uploaded ? "uploaded" : "reused");
            setnum(e, "size", (double)img->size, 0);
            setnum(e, "seconds", img->seconds, 1);
        }
    }
    for (size_t k = 0; r->baselines && k < r->baselines->n; k++)
        add_baseline(run, &r->baselines->items[k]);
    for (size_t i = 0; i < r->plan->n_jobs; i++)
        add_bound(lg_report_job_element(run, &r->plan->jobs[i], &r->results[i]), &m->policy, &r->plan->jobs[i],
                  &r->results[i]);
    int rc = lg_report_save_xml(doc, path);
    xmlFreeDoc(doc);
    return rc;
}

int lg_report_write_junit(const lg_run_report *r, const char *path)
{
    const lg_matrix *m = r->plan->matrix;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr suites = xmlNewNode(NULL, (const xmlChar *)"testsuites");
    xmlDocSetRootElement(doc, suites);
    xmlNodePtr suite = xmlNewChild(suites, NULL, (const xmlChar *)"testsuite", NULL);
    size_t failures = 0, errors = 0;
    double total = 0;
    for (size_t i = 0; i < r->plan->n_jobs; i++) {
        const lg_job *job = &r->plan->jobs[i];
        const lg_job_result *res = &r->results[i];
        const lg_evidence *ev = &res->evidence;
        xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *)"testcase", NULL);
        char name[512];
        snprintf(name, sizeof(name), "%s/%s/%s", job->build->id, job->content->id, job->scenario->id);
        set(tc, "classname", job->guest->id);
        set(tc, "name", name);
        setnum(tc, "time", res->duration_s, 1);
        total += res->duration_s;
        if (ev->verdict == LG_VERDICT_PASS) {
            /* findings that did not block: in the test's output */
            LG_AUTOBUF out = LG_BUF_INIT;
            for (size_t k = 0; k < ev->n_signals; k++)
                lg_buf_printf(&out, "finding (%s, %.1f s): %s\n", lg_signal_name(ev->signals[k].signal),
                              ev->signals[k].time_s, ev->signals[k].title ? ev->signals[k].title : "");
            if (out.len)
                lg_xmlout_text_child(tc, "system-out", out.data);
            continue;
        }
        bool infra = ev->verdict == LG_VERDICT_INFRA_ERROR;
        failures += !infra;
        errors += infra;
        /* message: the title, what a CI page lists; type: the verdict;
         * body: how it was decided; the console report in system-out */
        char body[1024];
        snprintf(body, sizeof(body), "%s via %s at %.1f s (boot %d%s%s)\njob %s: see jobs/%s/ in the results",
                 lg_verdict_name(ev->verdict), lg_signal_name(ev->signal), ev->time_s, ev->boot,
                 res->step ? ", step " : "", res->step ? res->step : "", job->id, job->id);
        xmlNodePtr f = lg_xmlout_text_child(tc, infra ? "error" : "failure", body);
        set(f, "message", ev->title && *ev->title ? ev->title : lg_verdict_name(ev->verdict));
        set(f, "type", lg_verdict_name(ev->verdict));
        if (ev->console_excerpt)
            lg_xmlout_text_child(tc, "system-out", ev->console_excerpt);
    }
    set(suite, "name", m->name);
    setnum(suite, "tests", (double)r->plan->n_jobs, 0);
    setnum(suite, "failures", (double)failures, 0);
    setnum(suite, "errors", (double)errors, 0);
    set(suite, "skipped", "0");
    setnum(suite, "time", total, 1);
    set(suite, "timestamp", r->started);
    set(suites, "name", "labgate");
    setnum(suites, "tests", (double)r->plan->n_jobs, 0);
    setnum(suites, "failures", (double)failures, 0);
    setnum(suites, "errors", (double)errors, 0);
    int rc = lg_report_save_xml(doc, path);
    xmlFreeDoc(doc);
    return rc;
}

void *lg_report_inputs_snapshot(const lg_plan *plan)
{
    /* a document whose root is the <inputs> element */
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr holder = xmlNewNode(NULL, (const xmlChar *)"holder");
    if (!doc || !holder || lg_report_add_inputs(holder, plan) < 0 || !holder->children) {
        xmlFreeNode(holder);
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlNodePtr inputs = holder->children;
    xmlUnlinkNode(inputs);
    xmlFreeNode(holder);
    xmlDocSetRootElement(doc, inputs);
    return doc;
}

void lg_report_inputs_free(void *snapshot)
{
    xmlFreeDoc(snapshot);
}
