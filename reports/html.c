/* report.html: the sign-off page for QA.  One self-contained file that can be
 * mailed, attached to a ticket or opened from an archive years later: inline
 * CSS, no script, screenshots embedded as data: URIs, artifacts linked by
 * their path relative to the results directory.  A Content-Security-Policy
 * forbids loading anything, so even a mistake here cannot make the page
 * reach the network. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/json.h"
#include "base/util.h"
#include "lg-config.h"
#include "report.h"

/* Screenshots are a few hundred KiB; anything far larger is not one. */
#define SCREENSHOT_EMBED_MAX (16u << 20)

typedef struct html {
    lg_buf buf;
} html;

static void emit(html *h, const char *s)
{
    lg_buf_puts(&h->buf, s);
}

static void emitf(html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emitf(html *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lg_buf_vprintf(&h->buf, fmt, ap);
    va_end(ap);
}

/* Text from the run (ids, titles, console bytes) as HTML text or attribute
 * value.  A guest console is arbitrary bytes: base/clean.h makes it valid
 * UTF-8 as for XML (control characters and broken sequences become U+FFFD,
 * so the page shows that something was there), and so do DEL and the C1
 * controls, which XML allows; carriage returns go. */
static void text(html *h, const char *s)
{
    LG_AUTOFREE char *clean = lg_clean_xml(s);
    if (!clean)
        return;
    for (const char *p = clean; *p;) {
        size_t run = strcspn(p, "&<>\"'\r\x7f\xc2");
        if (run) {
            lg_buf_append(&h->buf, p, run);
            p += run;
            continue;
        }
        /* DEL and the C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f"):
         * XML allows them, HTML calls them parse errors */
        if (*p == '\x7f' || (*p == '\xc2' && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f)) {
            emit(h, "\xef\xbf\xbd"); /* U+FFFD */
            p += *p == '\x7f' ? 1 : 2;
            continue;
        }
        if (*p == '\xc2') { /* another character of that lead byte */
            lg_buf_append(&h->buf, p, 2);
            p += 2;
            continue;
        }
        switch (*p) {
        case '&': emit(h, "&amp;"); break;
        case '<': emit(h, "&lt;"); break;
        case '>': emit(h, "&gt;"); break;
        case '"': emit(h, "&quot;"); break;
        case '\'': emit(h, "&#39;"); break;
        default: break; /* '\r' */
        }
        p++;
    }
}

/* A relative path as an href: everything but unreserved characters and '/'
 * percent-encoded, so no path can become a scheme ("javascript:"), a query
 * or leave the attribute. */
static void href(html *h, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            emitf(h, "%c", *p);
        else
            emitf(h, "%%%02X", *p);
    }
}

static const char *verdict_class(lg_verdict v)
{
    return lg_verdict_info_of(v)->css;
}

static const char *verdict_meaning(lg_verdict v)
{
    return lg_verdict_info_of(v)->meaning;
}

static void badge(html *h, lg_verdict v)
{
    emitf(h, "<span class=\"v v-%s\">%s</span>", verdict_class(v), lg_verdict_name(v));
}

static const char style[] =
    ":root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;color:var(--ink);background:#fff;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"Noto Sans\",\"DejaVu Sans\",Arial,sans-serif}\n"
    ".wrap{max-width:1100px;margin:0 auto;padding:0 16px}\n"
    "code,pre,.mono{font-family:ui-monospace,\"SFMono-Regular\",\"DejaVu Sans Mono\",Menlo,Consolas,monospace}\n"
    "a{color:#0550ae}\n"
    ".banner{color:#fff;padding:22px 0 18px}\n"
    ".banner h1{margin:0;font-size:30px;letter-spacing:.04em}\n"
    ".banner p{margin:4px 0 0;font-size:16px;opacity:.95}\n"
    ".banner.blocked{background:var(--crash)}\n"
    ".banner.clear{background:var(--pass)}\n"
    ".banner.incomplete{background:var(--infra-error)}\n"
    "h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:16px 0}\n"
    "dl.meta dt{color:var(--muted)}\n"
    "dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    ".counts{margin:10px 0}\n"
    ".counts .v{margin-right:6px}\n"
    ".v{display:inline-block;padding:1px 7px;border-radius:4px;color:#fff;font-weight:600;font-size:12px;"
    "letter-spacing:.03em;white-space:nowrap;font-family:ui-monospace,\"DejaVu Sans Mono\",monospace}\n"

    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse}\n"
    "table.grid th,table.grid td{border:1px solid var(--line);padding:6px 10px;text-align:left;vertical-align:top}\n"
    "table.grid thead th{background:var(--soft);font-weight:600}\n"
    "table.grid th.build{text-align:center}\n"
    "table.grid th .tag{display:block;font-weight:400;font-size:12px;color:var(--muted)}\n"
    "table.grid tbody th{background:var(--soft);white-space:nowrap}\n"
    "table.grid td a{text-decoration:none;display:inline-block;margin:1px 0}\n"
    "table.grid td .scn{color:var(--muted);font-size:12px;margin-right:4px}\n"
    "table.grid td.none{color:var(--muted)}\n"
    "table.grid td.bad{background:#fff1ef}\n"
    "table.grid td.infra{background:#f3f4f6}\n"
    ".job{border:1px solid var(--line);border-left:6px solid var(--infra-error);border-radius:6px;padding:10px 14px;"
    "margin:14px 0}\n"

    ".job h3{margin:2px 0 6px;font-size:17px;line-height:1.35;overflow-wrap:anywhere}\n"
    ".job h3 .v{vertical-align:2px;margin-right:8px}\n"
    ".job .coord{color:var(--muted);font-size:14px;margin:0 0 6px}\n"
    ".nw{white-space:nowrap}\n"
    ".job.compact{padding:6px 14px;margin:8px 0}\n"
    ".job.compact h3{font-size:15px;font-weight:600;margin:2px 0}\n"
    ".job.compact .coord{margin:0;font-size:13px;overflow-wrap:anywhere}\n"
    ".job dl.meta{margin:8px 0}\n"
    ".job h4{margin:12px 0 4px;font-size:14px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}\n"
    "pre.console{background:#0d1117;color:#e6edf3;padding:10px 12px;border-radius:6px;font-size:12.5px;"
    "line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}\n"
    "table.timeline td,table.timeline th{padding:3px 12px 3px 0;text-align:left;vertical-align:top}\n"
    "table.timeline th{color:var(--muted);font-weight:600;font-size:13px}\n"
    "table.timeline td{overflow-wrap:anywhere}\n"
    "table.timeline td.t{text-align:right;white-space:nowrap}\n"
    "figure{margin:0}\n"
    "figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px;display:block}\n"
    "figcaption{color:var(--muted);font-size:13px;margin-top:3px}\n"
    "ul.artifacts{margin:4px 0;padding-left:20px}\n"
    ".note{color:var(--muted)}\n"
    "footer{color:var(--muted);font-size:13px;margin:28px auto 24px}\n"
    "@media (max-width:600px){body{font-size:14px}.wrap{padding:0 10px}.banner h1{font-size:24px}"
    "dl.meta{gap:2px 10px}.job{padding:8px 10px}}\n"
    "@media print{*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font-size:11pt}.wrap{max-width:none;padding:0}.banner{padding:10px 12px}"
    ".scroll{overflow:visible}a{color:inherit;text-decoration:none}"
    ".job,figure,tr{break-inside:avoid}h2,h3,h4{break-after:avoid}"
    "pre.console{background:#f6f8fa;color:#1f2328;border:1px solid var(--line)}}\n";

static void meta_row(html *h, const char *label, const char *value)
{
    emitf(h, "<dt>%s</dt><dd>", label);
    text(h, value && *value ? value : "-");
    emit(h, "</dd>\n");
}

static void header(html *h, const lg_run_report *r)
{
    const char *banner, *cls, *why;
    switch (r->exit_code) {
    case LG_EXIT_CLEAR:
        banner = "RELEASE CLEAR", cls = "clear", why = "Every job passed.";
        break;
    case LG_EXIT_BLOCKED:
        banner = "RELEASE BLOCKED", cls = "blocked",
        why = "At least one guest crashed, looped, hung or lost its agent.";
        break;
    default:
        banner = "RUN INCOMPLETE", cls = "incomplete",
        why = "The harness or hypervisor failed; no release decision.";
        break;
    }
    const lg_matrix *m = r->plan->matrix;
    emit(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">\n<meta name=\"generator\" content=\"labgate " LG_VERSION "\">\n<title>");
    emitf(h, "%s: ", banner);
    text(h, m->name);
    emit(h, " ");
    text(h, r->run_id);
    emitf(h, "</title>\n<style>\n%s", style);
    /* each verdict's colour, from the verdict table */
    emit(h, ":root{");
    for (int v = 0; v < LG_VERDICT_MAX; v++)
        emitf(h, "--%s:%s;", lg_verdict_info_of((lg_verdict)v)->css, lg_verdict_info_of((lg_verdict)v)->colour);
    emit(h, "}\n");
    for (int v = 0; v < LG_VERDICT_MAX; v++)
        emitf(h, ".v-%1$s{background:var(--%1$s)}.job.j-%1$s{border-left-color:var(--%1$s)}\n",
              lg_verdict_info_of((lg_verdict)v)->css);
    emit(h, "</style>\n</head>\n<body>\n");
    emitf(h, "<header class=\"banner %s\"><div class=\"wrap\"><h1>%s</h1><p>%s</p></div></header>\n", cls, banner,
          why);

    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    emit(h, "<main class=\"wrap\">\n<section id=\"run\">\n<dl class=\"meta\">\n");
    meta_row(h, "Run", r->run_id);
    meta_row(h, "Matrix", m->name);
    meta_row(h, "Matrix file", m->path);
    meta_row(h, "Started", r->started);
    meta_row(h, "Finished", r->finished);
    meta_row(h, "Accelerator", r->accel);
    meta_row(h, "Host", host);
    LG_AUTOFREE char *shard = lg_report_shard_line(r);
    if (shard)
        meta_row(h, r->merged ? "Shards" : "Shard", shard);
    for (int k = 0; r->merged && k < r->merged->count; k++) {
        const lg_report_merged_shard *ms = &r->merged->shards[k];
        LG_AUTOFREE char *label = lg_strdup_printf("Shard %d of %d", ms->index, r->merged->count);
        LG_AUTOFREE char *what = lg_strdup_printf("%zu job%s, run %s on %s, from %s", ms->jobs,
                                                  ms->jobs == 1 ? "" : "s", ms->run_id ? ms->run_id : "-",
                                                  ms->host && *ms->host ? ms->host : "-", ms->dir ? ms->dir : "-");
        meta_row(h, label, what);
    }
    for (size_t k = 0; r->host_loads && k < m->n_hosts; k++) {
        LG_AUTOFREE char *drained = lg_report_host_drain_text(&r->host_loads[k]);
        if (!drained)
            continue;
        LG_AUTOFREE char *label = lg_strdup_printf("Host %s", m->hosts[k].id);
        emit(h, "<dt>");
        text(h, label);
        emit(h, "</dt><dd>");
        text(h, drained);
        emit(h, "</dd>\n");
    }
    for (size_t k = 0; r->host_loads && k < m->n_hosts; k++) {
        const lg_host_load *l = &r->host_loads[k];
        if ((!l->watched || !l->samples) && !l->cpu_watched)
            continue;
        LG_AUTOFREE char *words = lg_report_host_load_text(l);
        LG_AUTOFREE char *load = lg_strdup_printf("%s; new jobs waited %.0f s for it to drop", words, l->held_s);
        LG_AUTOFREE char *label = lg_strdup_printf("Load of host %s", m->hosts[k].id);
        emit(h, "<dt>");
        text(h, label);
        emit(h, "</dt><dd>");
        text(h, load);
        emit(h, "</dd>\n");
    }
    for (size_t k = 0; r->baselines && k < r->baselines->n; k++) {
        const lg_baseline *b = &r->baselines->items[k];
        LG_AUTOFREE char *line = lg_report_baseline_line(b);
        emit(h, "<dt>Baseline</dt><dd>");
        text(h, line);
        if (b->result.console_log) {
            emit(h, " &middot; console log <a href=\"");
            href(h, b->result.console_log);
            emit(h, "\">");
            text(h, b->result.console_log);
            emit(h, "</a>");
        }
        emit(h, "</dd>\n");
    }
    emitf(h, "<dt>Exit code</dt><dd>%d (%s)</dd>\n", r->exit_code, lg_report_outcome(r->exit_code));
    emit(h, "</dl>\n");

    size_t counts[LG_VERDICT_MAX] = { 0 };
    for (size_t i = 0; i < r->plan->n_jobs; i++)
        counts[r->results[i].evidence.verdict]++;
    emitf(h, "<p class=\"counts\">%zu job%s: ", r->plan->n_jobs, r->plan->n_jobs == 1 ? "" : "s");
    for (int sev = LG_VERDICT_MAX - 1; sev >= 0; sev--) /* severities are 0..MAX-1 */
        for (int v = 0; v < LG_VERDICT_MAX; v++)
            if (lg_verdict_severity((lg_verdict)v) == sev && counts[v])
                emitf(h, "<span class=\"v v-%s\">%zu %s</span>", verdict_class((lg_verdict)v), counts[v],
                      lg_verdict_name((lg_verdict)v));
    emit(h, "</p>\n</section>\n");
}

static bool column_used(const lg_plan *plan, const lg_build *b, const lg_content *c)
{
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (plan->jobs[i].build == b && plan->jobs[i].content == c)
            return true;
    return false;
}

static bool row_used(const lg_plan *plan, const lg_guest *g)
{
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (plan->jobs[i].guest == g)
            return true;
    return false;
}

/* Guests down, (build, content) across: content is an axis of its own,
 * crossed with every build in the field, so a content file that crashes
 * only old builds shows as a column of red under them. */
static void grid(html *h, const lg_run_report *r)
{
    const lg_plan *plan = r->plan;
    const lg_matrix *m = plan->matrix;
    emit(h, "<section id=\"grid\">\n<h2>Guests &times; builds and contents</h2>\n<div class=\"scroll\">\n"
            "<table class=\"grid\">\n<thead>\n<tr><th rowspan=\"2\">guest</th>");
    for (size_t b = 0; b < m->n_builds; b++) {
        size_t span = 0;
        for (size_t c = 0; c < m->n_contents; c++)
            span += column_used(plan, &m->builds[b], &m->contents[c]);
        if (!span)
            continue;
        emitf(h, "<th class=\"build\" colspan=\"%zu\">build ", span);
        text(h, m->builds[b].id);
        emitf(h, "<span class=\"tag\">%s</span></th>", m->builds[b].candidate ? "candidate" : "released");
    }
    emit(h, "</tr>\n<tr>");
    for (size_t b = 0; b < m->n_builds; b++)
        for (size_t c = 0; c < m->n_contents; c++)
            if (column_used(plan, &m->builds[b], &m->contents[c])) {
                emit(h, "<th>content ");
                text(h, m->contents[c].id);
                emit(h, "</th>");
            }
    emit(h, "</tr>\n</thead>\n<tbody>\n");
    for (size_t g = 0; g < m->n_guests; g++) {
        const lg_guest *guest = &m->guests[g];
        if (!row_used(plan, guest))
            continue;
        emit(h, "<tr><th scope=\"row\">");
        text(h, guest->id);
        emit(h, "</th>");
        for (size_t b = 0; b < m->n_builds; b++)
            for (size_t c = 0; c < m->n_contents; c++) {
                const lg_build *build = &m->builds[b];
                const lg_content *content = &m->contents[c];
                if (!column_used(plan, build, content))
                    continue;
                int worst = -1;
                for (size_t i = 0; i < plan->n_jobs; i++) {
                    const lg_job *job = &plan->jobs[i];
                    if (job->guest == guest && job->build == build && job->content == content &&
                        lg_verdict_severity(r->results[i].evidence.verdict) > worst)
                        worst = lg_verdict_severity(r->results[i].evidence.verdict);
                }
                if (worst < 0) {
                    emit(h, "<td class=\"none\">excluded</td>");
                    continue;
                }
                emitf(h, "<td%s>", worst > 1 ? " class=\"bad\"" : worst == 1 ? " class=\"infra\"" : "");
                bool first = true;
                for (size_t i = 0; i < plan->n_jobs; i++) {
                    const lg_job *job = &plan->jobs[i];
                    if (job->guest != guest || job->build != build || job->content != content)
                        continue;
                    const lg_evidence *ev = &r->results[i].evidence;
                    emit(h, first ? "" : "<br>");
                    first = false;
                    emit(h, "<a href=\"#job-");
                    text(h, job->id);
                    emit(h, "\" title=\"");
                    text(h, ev->verdict == LG_VERDICT_PASS ? job->id : ev->title);
                    emit(h, "\">");
                    if (m->n_scenarios > 1) {
                        emit(h, "<span class=\"scn\">");
                        text(h, job->scenario->id);
                        emit(h, "</span>");
                    }
                    badge(h, ev->verdict);
                    emit(h, "</a>");
                }
                emit(h, "</td>");
            }
        emit(h, "</tr>\n");
    }
    emit(h, "</tbody>\n</table>\n</div>\n</section>\n");
}

static bool is_png(const char *data, size_t len)
{
    return len > 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/* The screenshot inline, when it is a PNG the page can carry: QEMU before
 * 7.1 hands out PPM, which no browser shows, so that one is only linked. */
static void screenshot(html *h, const char *out_dir, const lg_job *job, const char *rel)
{
    emit(h, "<h4>Screen</h4>\n");
    LG_AUTOFREE char *path = out_dir ? lg_path_join(out_dir, rel) : NULL;
    LG_AUTOFREE char *data = NULL;
    size_t len = 0;
    if (!path || lg_read_file(path, SCREENSHOT_EMBED_MAX, &data, &len) < 0) {
        emit(h, "<p class=\"note\">The screenshot could not be read: ");
        text(h, rel);
        emit(h, "</p>\n");
        return;
    }
    if (!is_png(data, len)) {
        emit(h, "<p class=\"note\">The screenshot is not a PNG and is only linked below.</p>\n");
        return;
    }
    LG_AUTOFREE char *b64 = lg_base64_encode(data, len);
    emit(h, "<figure><img alt=\"screen of guest ");
    text(h, job->guest->id);
    emit(h, " when the verdict came\" src=\"data:image/png;base64,");
    emit(h, b64);
    emit(h, "\"><figcaption>");
    text(h, rel);
    emit(h, "</figcaption></figure>\n");
}

static void artifact_link(html *h, const char *label, const char *rel)
{
    emitf(h, "<li>%s: <a href=\"", label);
    href(h, rel);
    emit(h, "\"><code>");
    text(h, rel);
    emit(h, "</code></a></li>\n");
}

static void seconds_row(html *h, const char *label, double s)
{
    if (s >= 0)
        emitf(h, "<dt>%s</dt><dd>%.3f s after job start</dd>\n", label, s);
}

/* Where a job ran: guest, build, content, scenario. */
static void coordinates(html *h, const lg_job *job)
{
    emit(h, "<span class=\"nw\">");
    text(h, job->guest->id);
    emit(h, "</span> &middot; <span class=\"nw\">build ");
    text(h, job->build->id);
    emit(h, "</span> &middot; <span class=\"nw\">content ");
    text(h, job->content->id);
    emit(h, "</span> &middot; <span class=\"nw\">scenario ");
    text(h, job->scenario->id);
    emit(h, "</span>");
}

/* " · 0 failures in 29 boots: failure rate < 0.1 at confidence 0.95" on a
 * passed job's line, when the policy's bound holds for it */
static void bound_claim(html *h, const lg_run_report *r, const lg_job *job, const lg_job_result *res)
{
    LG_AUTOFREE char *claim = lg_report_bound_claim(&r->plan->matrix->policy, job, res);
    if (!claim)
        return;
    emit(h, " &middot; <strong class=\"bound\">");
    text(h, claim);
    emit(h, "</strong>");
}

/* A job with repeats: its cycles done of those planned, and the bound's
 * claim when it holds (a job cut short claims none). */
static void cycles_row(html *h, const lg_run_report *r, const lg_job *job, const lg_job_result *res)
{
    lg_scenario_counts planned;
    lg_scenario_count(job->scenario, &planned);
    if (!planned.cycles)
        return;
    emitf(h, "<dt>Cycles</dt><dd>%d of %d", res->cycles, planned.cycles);
    if (planned.auto_cycles)
        emitf(h, " (%d of %d count=&quot;auto&quot;)", res->bound_cycles, planned.auto_cycles);
    bound_claim(h, r, job, res);
    emit(h, "</dd>\n");
}

/* Where the job ran and how many times it was run: the earlier tries are
 * listed after this (Attempt N), the last one is the verdict above. */
static void host_and_tries(html *h, const lg_job_result *res)
{
    emit(h, "<dt>Host</dt><dd>");
    text(h, res->host ? res->host : "none (the job never ran)");
    emit(h, "</dd>\n");
    if (res->n_attempts)
        emitf(h, "<dt>Tries</dt><dd>%zu: %zu earlier attempt%s, then the one that gave the verdict</dd>\n",
              res->n_attempts + 1, res->n_attempts, res->n_attempts == 1 ? "" : "s");
    else if (res->host)
        emit(h, "<dt>Tries</dt><dd>1</dd>\n");
}

static void job_section(html *h, const lg_run_report *r, const char *out_dir, size_t i)
{
    const lg_job *job = &r->plan->jobs[i];
    const lg_job_result *res = &r->results[i];
    const lg_evidence *ev = &res->evidence;
    bool pass = ev->verdict == LG_VERDICT_PASS;

    /* a pass has nothing to show but where it ran: one block of two lines,
     * so a large matrix's passes do not bury its failures */
    if (pass && !ev->n_signals && !ev->console_excerpt && !res->screenshot && !res->memory_dump &&
        !res->n_attempts) {
        emit(h, "<section class=\"job j-pass compact\" id=\"job-");
        text(h, job->id);
        emit(h, "\">\n<h3>");
        badge(h, ev->verdict);
        coordinates(h, job);
        emit(h, "</h3>\n<p class=\"coord\">job <span class=\"mono\">");
        text(h, job->id);
        emitf(h, "</span> &middot; %.1f s, %d boot%s &middot; seed %llu", res->duration_s, res->boots,
              res->boots == 1 ? "" : "s", (unsigned long long)job->seed);
        if (res->host) {
            emit(h, " &middot; host <span class=\"nw\">");
            text(h, res->host);
            emit(h, "</span>");
        }
        bound_claim(h, r, job, res);
        if (res->console_log) {
            emit(h, " &middot; console log <a href=\"");
            href(h, res->console_log);
            emit(h, "\"><code>");
            text(h, res->console_log);
            emit(h, "</code></a>");
        }
        emit(h, "</p>\n</section>\n");
        return;
    }

    emitf(h, "<section class=\"job j-%s\" id=\"job-", verdict_class(ev->verdict));
    text(h, job->id);
    emit(h, "\">\n<h3>");
    badge(h, ev->verdict);
    text(h, pass || !ev->title || !*ev->title ? verdict_meaning(ev->verdict) : ev->title);
    emit(h, "</h3>\n<p class=\"coord\">");
    coordinates(h, job);
    emit(h, "</p>\n<dl class=\"meta\">\n");
    emit(h, "<dt>Job</dt><dd class=\"mono\">");
    text(h, job->id);
    emitf(h, "</dd>\n<dt>Verdict</dt><dd>%s: %s</dd>\n", lg_verdict_name(ev->verdict),
          verdict_meaning(ev->verdict));
    if (!pass) {
        emitf(h, "<dt>Signal</dt><dd>%s</dd>\n", lg_signal_name(ev->signal));
        emitf(h, "<dt>Decided</dt><dd>%.1f s after job start, boot %d</dd>\n", ev->time_s, ev->boot);
        if (res->step) {
            emit(h, "<dt>Step</dt><dd>");
            text(h, res->step);
            emit(h, "</dd>\n");
        }
        seconds_row(h, "Kernel panic", ev->panic_time_s);
        seconds_row(h, "Crash report", ev->report_time_s);
        seconds_row(h, "Last answer", ev->last_answer_s);
        if (ev->frozen_time_s >= 0)
            emitf(h, "<dt>Frozen</dt><dd>guest frozen at the decision, %.1f s after job start: the console, "
                     "screenshot and memory dump show that moment</dd>\n", ev->frozen_time_s);
        if (ev->baseline)
            emitf(h, "<dt>Baseline</dt><dd>the guest failed (%s) before the candidate was put on it: "
                     "the image or the host, not the candidate</dd>\n", lg_verdict_name(ev->baseline_verdict));
    }
    host_and_tries(h, res);
    for (size_t k = 0; k < res->n_attempts; k++) {
        emitf(h, "<dt>Attempt %zu</dt><dd>", k + 1);
        if (res->attempts[k].host) {
            emit(h, "on host ");
            text(h, res->attempts[k].host);
            emit(h, ": ");
        }
        emitf(h, "%s: ", lg_verdict_name(res->attempts[k].verdict));
        text(h, res->attempts[k].title);
        emit(h, " (evidence in <a href=\"");
        href(h, res->attempts[k].dir);
        emit(h, "/\"><code>");
        text(h, res->attempts[k].dir);
        emit(h, "/</code></a>)</dd>\n");
    }
    emitf(h, "<dt>Duration</dt><dd>%.1f s, %d boot%s</dd>\n", res->duration_s, res->boots,
          res->boots == 1 ? "" : "s");
    emitf(h, "<dt>Seed</dt><dd class=\"mono\">%llu</dd>\n", (unsigned long long)job->seed);
    cycles_row(h, r, job, res);
    if (res->power_cut_ms >= 0)
        emitf(h, "<dt>Power cut</dt><dd>%d ms into the content hook</dd>\n", res->power_cut_ms);
    emit(h, "</dl>\n");

    if (ev->n_signals) {
        emit(h, "<h4>Signal timeline</h4>\n<div class=\"scroll\"><table class=\"timeline\">\n"
                "<tr><th>time</th><th>signal</th><th>verdict</th><th>title</th></tr>\n");
        for (size_t k = 0; k < ev->n_signals; k++) {
            const lg_signal_note *note = &ev->signals[k];
            emitf(h, "<tr><td class=\"t\">%.3f s</td><td class=\"nw\">%s</td><td class=\"nw\">", note->time_s,
              lg_signal_name(note->signal));
            badge(h, note->verdict);
            emit(h, "</td><td>");
            text(h, note->title);
            emit(h, "</td></tr>\n");
        }
        emit(h, "</table></div>\n");
    }
    if (ev->console_excerpt && *ev->console_excerpt) {
        emit(h, "<h4>Console</h4>\n<pre class=\"console\">");
        text(h, ev->console_excerpt);
        emit(h, "</pre>\n");
    }
    if (res->screenshot)
        screenshot(h, out_dir, job, res->screenshot);
    lg_artifact artifacts[LG_JOB_ARTIFACT_KINDS];
    size_t n_artifacts = lg_job_artifacts(res, artifacts);
    if (n_artifacts) {
        emit(h, "<h4>Artifacts</h4>\n<ul class=\"artifacts\">\n");
        for (size_t k = 0; k < n_artifacts; k++)
            artifact_link(h, artifacts[k].label, artifacts[k].path);
        emit(h, "</ul>\n");
    }
    emit(h, "</section>\n");
}

int lg_report_write_html(const lg_run_report *r, const char *out_dir, const char *path)
{
    html h = { .buf = LG_BUF_INIT };
    header(&h, r);
    grid(&h, r);
    emit(&h, "<section id=\"jobs\">\n<h2>Jobs</h2>\n");
    /* failures first, each group in plan order */
    for (int sev = LG_VERDICT_MAX - 1; sev >= 0; sev--) /* severities are 0..MAX-1 */
        for (size_t i = 0; i < r->plan->n_jobs; i++)
            if (lg_verdict_severity(r->results[i].evidence.verdict) == sev)
                job_section(&h, r, out_dir, i);
    emit(&h, "</section>\n</main>\n<footer class=\"wrap\">labgate " LG_VERSION ", run ");
    text(&h, r->run_id);
    emit(&h, ". Artifact links are relative to the results directory; run.xml there is the canonical record."
             "</footer>\n</body>\n</html>\n");
    int rc = lg_write_file(path, h.buf.data, h.buf.len);
    lg_buf_free(&h.buf);
    return rc;
}
