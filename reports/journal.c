#include "journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "run/runlock.h"

#include "base/buf.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/util.h"
#include "model/xmlread.h"
#include "xmlout.h"

/* an entry holds a console excerpt, not a whole log */
#define MAX_ENTRY_BYTES (16u << 20)
#define MAX_META_BYTES (64u << 20)

void lg_run_meta_free(lg_run_meta *meta)
{
    if (!meta)
        return;
    free(meta->run_id);
    free(meta->matrix);
    free(meta->matrix_sha256);
    free(meta->started);
    for (size_t i = 0; i < meta->n_jobs; i++)
        free(meta->job_ids[i]);
    free(meta->job_ids);
    xmlFreeDoc(meta->inputs);
    free(meta);
}

/* Parses path into *doc: -ENOENT when missing, -EINVAL (diags) when bad. */
static int load_doc(const char *path, size_t max_len, xmlDocPtr *doc, lg_diags *diags)
{
    LG_AUTOFREE char *text = NULL;
    size_t len = 0;
    int rc = lg_read_file(path, max_len, &text, &len);
    if (rc == -ENOENT)
        return rc;
    if (rc < 0) {
        lg_diags_add(diags, path, 0, false, "cannot read: %s", strerror(-rc));
        return rc;
    }
    size_t before = lg_diags_errors(diags);
    lg_xml_errors ctx = { .diags = diags, .file = path };
    xmlSetStructuredErrorFunc(&ctx, lg_xml_error_to_diags);
    rc = lg_xmlread_parse(text, len, path, XML_PARSE_BIG_LINES, diags, doc);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (rc < 0) {
        if (lg_diags_errors(diags) == before)
            lg_diags_add(diags, path, 0, false, "not a well-formed XML document");
        return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------- run meta */

int lg_journal_write_meta(const char *dir, const char *run_id, const char *started, const lg_plan *plan,
                          const char *matrix_sha256, const void *inputs, const lg_shard *shard)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"run-meta");
    xmlDocSetRootElement(doc, root);
    lg_xmlout_set(root, "id", run_id);
    lg_xmlout_set(root, "matrix", plan->matrix->path);
    lg_xmlout_set(root, "matrix-sha256", matrix_sha256);
    lg_xmlout_set(root, "started", started);
    LG_AUTOFREE char *n = lg_strdup_printf("%zu", plan->n_jobs);
    lg_xmlout_set(root, "jobs", n);
    if (shard && shard->count > 0) {
        /* a resumed shard goes on as the same shard */
        LG_AUTOFREE char *which = lg_strdup_printf("%d/%d", shard->index, shard->count);
        lg_xmlout_set(root, "shard", which);
    }
    if (inputs) {
        xmlNodePtr copy = xmlDocCopyNode(xmlDocGetRootElement((xmlDocPtr)inputs), doc, 1);
        if (!copy || !xmlAddChild(root, copy)) {
            xmlFreeNode(copy);
            xmlFreeDoc(doc);
            return -ENOMEM;
        }
    }
    for (size_t i = 0; i < plan->n_jobs; i++) {
        xmlNodePtr j = xmlNewChild(root, NULL, (const xmlChar *)"job", NULL);
        lg_xmlout_set(j, "id", plan->jobs[i].id);
    }
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-meta.xml", dir);
    int rc = lg_report_save_xml(doc, path);
    xmlFreeDoc(doc);
    return rc;
}

/* The plan's 12 lowercase hex digits (model/plan.h). */
static bool job_id_ok(const char *id)
{
    size_t len = strlen(id);
    return len == LG_JOB_ID_LEN && strspn(id, "0123456789abcdef") == len;
}

int lg_journal_read_meta(const char *dir, lg_run_meta **out, lg_diags *diags)
{
    LG_AUTOFREE char *path = lg_strdup_printf("%s/run-meta.xml", dir);
    xmlDocPtr doc = NULL;
    int rc = load_doc(path, MAX_META_BYTES, &doc, diags);
    if (rc < 0)
        return rc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    LG_AUTO(lg_run_meta) meta = LG_NEW0(lg_run_meta);
    if (root && lg_xml_is_element(root, "run-meta")) {
        meta->run_id = lg_xml_prop(root, "id");
        meta->matrix = lg_xml_prop(root, "matrix");
        meta->matrix_sha256 = lg_xml_prop(root, "matrix-sha256");
        meta->started = lg_xml_prop(root, "started");
        LG_AUTOFREE char *shard = lg_xml_prop(root, "shard");
        if (shard && lg_shard_parse(shard, &meta->shard) < 0) {
            lg_diags_add(diags, path, (int)xmlGetLineNo(root), false, "shard=\"%s\": %s", shard, lg_error_msg());
            xmlFreeDoc(doc);
            return -EINVAL;
        }
    }
    if (!meta->run_id || !*meta->run_id || !meta->matrix_sha256 || !meta->started) {
        lg_diags_add(diags, path, root ? (int)xmlGetLineNo(root) : 0, false,
                     "expected <run-meta> with id, matrix-sha256 and started (labgate's run metadata)");
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    if (!lg_run_id_ok(meta->run_id)) {
        lg_diags_add(diags, path, (int)xmlGetLineNo(root), false,
                     "run id '%s' is not one labgate makes (up to 64 letters, digits, '-', '_' and '.')",
                     meta->run_id);
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    size_t before = lg_diags_errors(diags);
    size_t capacity = 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (lg_xml_is_element(c, "job")) {
            char *id = lg_xml_prop(c, "id");
            if (!id || !job_id_ok(id)) {
                lg_diags_add(diags, path, (int)xmlGetLineNo(c), false, "<job> without a job id (12 hex digits)%s%s%s",
                             id ? ": '" : "", id ? id : "", id ? "'" : "");
                free(id);
                continue;
            }
            if (meta->n_jobs == capacity) {
                capacity = capacity ? 2 * capacity : 64;
                meta->job_ids = lg_realloc_n(meta->job_ids, capacity, sizeof(*meta->job_ids));
            }
            meta->job_ids[meta->n_jobs++] = id;
        } else if (lg_xml_is_element(c, "inputs") && !meta->inputs) {
            xmlDocPtr inputs = xmlNewDoc((const xmlChar *)"1.0");
            xmlNodePtr copy = xmlDocCopyNode(c, inputs, 1);
            if (!copy) {
                xmlFreeDoc(inputs);
                xmlFreeDoc(doc);
                return -ENOMEM;
            }
            xmlDocSetRootElement(inputs, copy);
            meta->inputs = inputs;
        }
    }
    xmlFreeDoc(doc);
    if (lg_diags_errors(diags) > before)
        return -EINVAL;
    *out = LG_STEAL(meta);
    return 0;
}

char *lg_journal_plan_mismatch(const lg_run_meta *meta, const lg_plan *plan, const char *matrix_sha256)
{
    LG_AUTOBUF why = LG_BUF_INIT;
    if (!matrix_sha256 || strcmp(meta->matrix_sha256, matrix_sha256) != 0)
        lg_buf_printf(&why, "the matrix changed since the run started (sha256 %.12s..., now %.12s...)",
                      meta->matrix_sha256, matrix_sha256 ? matrix_sha256 : "unknown");
    size_t only_run = 0, only_plan = 0;
    LG_AUTOBUF run_ids = LG_BUF_INIT;
    LG_AUTOBUF plan_ids = LG_BUF_INIT;
    /* each side's ids in a hash set: linear in jobs (a scan of the other
     * side per job made a 50,000-job resume quadratic) */
    g_autoptr(GHashTable) in_run = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) in_plan = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < meta->n_jobs; i++)
        g_hash_table_add(in_run, meta->job_ids[i]);
    for (size_t i = 0; i < plan->n_jobs; i++)
        g_hash_table_add(in_plan, (char *)plan->jobs[i].id);
    for (size_t i = 0; i < meta->n_jobs; i++)
        if (!g_hash_table_contains(in_plan, meta->job_ids[i]))
            lg_buf_printf(&run_ids, "%s%s", only_run++ ? ", " : "", meta->job_ids[i]);
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (!g_hash_table_contains(in_run, plan->jobs[i].id))
            lg_buf_printf(&plan_ids, "%s%s", only_plan++ ? ", " : "", plan->jobs[i].id);
    if (only_run)
        lg_buf_printf(&why, "%s%zu job(s) of the run are not in the plan: %s", why.len ? "; " : "", only_run,
                      run_ids.data);
    if (only_plan)
        lg_buf_printf(&why, "%s%zu job(s) of the plan are not in the run: %s", why.len ? "; " : "", only_plan,
                      plan_ids.data);
    return why.len ? lg_buf_steal(&why) : NULL;
}

/* ------------------------------------------------------------ entries */

char *lg_journal_entry_path(const char *dir, const char *job_id)
{
    return lg_strdup_printf("%s/jobs/%s/result.xml", dir, job_id);
}

int lg_journal_write_job(const char *dir, const lg_job *job, const lg_job_result *res)
{
    LG_AUTOFREE char *job_dir = lg_strdup_printf("%s/jobs/%s", dir, job->id);
    int rc = lg_mkdir_p(job_dir, 0755);
    if (rc < 0)
        return rc;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr holder = xmlNewNode(NULL, (const xmlChar *)"holder");
    xmlNodePtr j = lg_report_job_element(holder, job, res);
    xmlUnlinkNode(j);
    xmlFreeNode(holder);
    xmlDocSetRootElement(doc, j);
    LG_AUTOFREE char *path = lg_journal_entry_path(dir, job->id);
    rc = lg_report_save_xml(doc, path);
    xmlFreeDoc(doc);
    return rc;
}

typedef struct reader {
    const char *path;
    lg_diags *diags;
    bool bad;
} reader;

static void bad(reader *rd, xmlNodePtr node, const char *what, const char *value)
{
    lg_diags_add(rd->diags, rd->path, node ? (int)xmlGetLineNo(node) : 0, false, "%s '%s'", what,
                 value ? value : "(none)");
    rd->bad = true;
}

static double num(reader *rd, xmlNodePtr node, const char *name, double absent)
{
    LG_AUTOFREE char *v = lg_xml_prop(node, name);
    if (!v)
        return absent;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno)
        bad(rd, node, name, v);
    return d;
}

static int whole(reader *rd, xmlNodePtr node, const char *name)
{
    LG_AUTOFREE char *v = lg_xml_prop(node, name);
    int n = 0;
    if (v && lg_parse_int(v, &n) < 0)
        bad(rd, node, name, v);
    return n;
}

static lg_verdict verdict_of(reader *rd, xmlNodePtr node, const char *name)
{
    LG_AUTOFREE char *v = lg_xml_prop(node, name);
    lg_verdict verdict = LG_VERDICT_INFRA_ERROR;
    if (!v || lg_verdict_parse(v, &verdict) < 0)
        bad(rd, node, "unknown verdict", v);
    return verdict;
}

static lg_signal signal_of(reader *rd, xmlNodePtr node, const char *name)
{
    LG_AUTOFREE char *v = lg_xml_prop(node, name);
    lg_signal signal = LG_SIGNAL_NONE;
    if (!v || lg_signal_parse(v, &signal) < 0)
        bad(rd, node, "unknown signal", v);
    return signal;
}

/* Artifact paths are relative to the results directory, and stay in it:
 * the report opens them. */
static char *artifact_path(reader *rd, xmlNodePtr node)
{
    char *p = lg_xml_prop(node, "path");
    bool inside = p && *p && p[0] != '/';
    for (const char *c = p; inside && c && *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
        if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
            inside = false;
    if (!inside) {
        bad(rd, node, "artifact path outside the results directory", p);
        free(p);
        return NULL;
    }
    return p;
}

static void read_evidence(reader *rd, xmlNodePtr e, lg_job_result *res)
{
    lg_evidence *ev = &res->evidence;
    ev->signal = signal_of(rd, e, "signal");
    ev->title = lg_xml_prop(e, "title");
    ev->time_s = num(rd, e, "time-s", 0);
    ev->boot = whole(rd, e, "boot");
    res->step = lg_xml_prop(e, "step");
    ev->panic_time_s = num(rd, e, "panic-time-s", -1);
    ev->report_time_s = num(rd, e, "report-time-s", -1);
    ev->last_answer_s = num(rd, e, "last-answer-s", -1);
    ev->frozen_time_s = num(rd, e, "frozen-at-s", -1);
    if (xmlHasProp(e, (const xmlChar *)"baseline")) {
        ev->baseline = true;
        ev->baseline_verdict = verdict_of(rd, e, "baseline");
    }
    for (xmlNodePtr c = e->children; c; c = c->next) {
        if (lg_xml_is_element(c, "signal")) {
            ev->signals = lg_realloc_n(ev->signals, ev->n_signals + 1, sizeof(*ev->signals));
            ev->signals[ev->n_signals++] = (lg_signal_note){
                .signal = signal_of(rd, c, "name"),
                .verdict = verdict_of(rd, c, "verdict"),
                .time_s = num(rd, c, "time-s", 0),
                .title = lg_xml_prop(c, "title"),
            };
        } else if (lg_xml_is_element(c, "console") && !ev->console_excerpt) {
            xmlChar *text = xmlNodeGetContent(c);
            ev->console_excerpt = lg_strdup(text ? (const char *)text : "");
            xmlFree(text);
        }
    }
}

static void read_artifact(reader *rd, xmlNodePtr a, lg_job_result *res)
{
    LG_AUTOFREE char *kind = lg_xml_prop(a, "kind");
    char **slot = NULL;
    if (!kind) {
        bad(rd, a, "artifact kind", kind);
        return;
    }
    if (strcmp(kind, "console") == 0)
        slot = &res->console_log;
    else if (strcmp(kind, "screenshot") == 0)
        slot = &res->screenshot;
    else if (strcmp(kind, "memory-dump") == 0)
        slot = &res->memory_dump;
    else if (strcmp(kind, "qemu-log") == 0)
        slot = &res->qemu_log;
    else if (strcmp(kind, "swtpm-log") == 0)
        slot = &res->swtpm_log;
    else if (strcmp(kind, "file") != 0) {
        bad(rd, a, "unknown artifact kind", kind);
        return;
    }
    char *path = artifact_path(rd, a);
    if (!path)
        return;
    if (slot) {
        free(*slot);
        *slot = path;
        return;
    }
    res->files = lg_realloc_n(res->files, res->n_files + 1, sizeof(*res->files));
    res->files[res->n_files++] = path;
}

static void read_finding(reader *rd, xmlNodePtr f, lg_evidence *ev)
{
    ev->signals = lg_realloc_n(ev->signals, ev->n_signals + 1, sizeof(*ev->signals));
    ev->signals[ev->n_signals++] = (lg_signal_note){
        .signal = signal_of(rd, f, "signal"),
        .verdict = LG_VERDICT_PASS,
        .time_s = num(rd, f, "time-s", 0),
        .title = lg_xml_prop(f, "title"),
    };
}

static void read_attempt(reader *rd, xmlNodePtr a, lg_job_result *res)
{
    char *dir = artifact_path(rd, a);
    if (!dir)
        return;
    res->attempts = lg_realloc_n(res->attempts, res->n_attempts + 1, sizeof(*res->attempts));
    res->attempts[res->n_attempts++] = (lg_attempt){
        .verdict = verdict_of(rd, a, "verdict"),
        .title = lg_xml_prop(a, "title"),
        .dir = dir,
        .host = lg_xml_prop(a, "host"),
    };
}

/* A <job> element (a journal entry's root or one of run.xml's) read into
 * *out; -EINVAL with the problems in diags, *out untouched. */
static int read_job_element(const char *path, xmlNodePtr j, lg_job_result *out, lg_diags *diags)
{
    reader rd = { .path = path, .diags = diags };
    lg_job_result res;
    lg_job_result_init(&res);
    res.evidence.verdict = verdict_of(&rd, j, "verdict");
    res.host = lg_xml_prop(j, "host");
    res.duration_s = num(&rd, j, "duration-s", 0);
    res.boots = whole(&rd, j, "boots");
    /* 0 in an entry from before they were counted: such a job claims no bound */
    res.ready_boots = whole(&rd, j, "ready-boots");
    res.cycles = whole(&rd, j, "cycles");
    res.bound_cycles = whole(&rd, j, "bound-cycles");
    res.bound_boots = whole(&rd, j, "bound-boots");
    LG_AUTOFREE char *cut = lg_xml_prop(j, "power-cut-ms");
    if (cut)
        res.power_cut_ms = whole(&rd, j, "power-cut-ms");
    bool evidence_seen = false;
    for (xmlNodePtr c = j->children; c; c = c->next) {
        if (lg_xml_is_element(c, "evidence") && evidence_seen) {
            LG_AUTOFREE char *id = lg_xml_prop(j, "id");
            bad(&rd, c, "a second <evidence> in the entry of job", id); /* labgate writes one */
        }
        else if (lg_xml_is_element(c, "evidence")) {
            read_evidence(&rd, c, &res);
            evidence_seen = true;
        }
        else if (lg_xml_is_element(c, "artifact"))
            read_artifact(&rd, c, &res);
        else if (lg_xml_is_element(c, "attempt"))
            read_attempt(&rd, c, &res);
        else if (lg_xml_is_element(c, "finding"))
            read_finding(&rd, c, &res.evidence);
    }
    if (rd.bad) {
        lg_job_result_clear(&res);
        return -EINVAL;
    }
    *out = res;
    return 0;
}

int lg_journal_read_job(const char *dir, const lg_job *job, lg_job_result *out, lg_diags *diags)
{
    LG_AUTOFREE char *path = lg_journal_entry_path(dir, job->id);
    xmlDocPtr doc = NULL;
    int rc = load_doc(path, MAX_ENTRY_BYTES, &doc, diags);
    if (rc < 0)
        return rc;
    xmlNodePtr j = xmlDocGetRootElement(doc);
    LG_AUTOFREE char *id = j && lg_xml_is_element(j, "job") ? lg_xml_prop(j, "id") : NULL;
    if (!id || strcmp(id, job->id) != 0) {
        reader rd = { .path = path, .diags = diags };
        bad(&rd, j, "expected the <job> entry of job " , job->id);
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    rc = read_job_element(path, j, out, diags);
    xmlFreeDoc(doc);
    return rc;
}

int lg_journal_read_runxml_jobs(const char *path, const lg_plan *plan, lg_job_result *results, bool *found,
                                void **inputs, lg_diags *diags)
{
    xmlDocPtr doc = NULL;
    int rc = load_doc(path, MAX_META_BYTES, &doc, diags);
    if (rc == -ENOENT)
        lg_diags_add(diags, path, 0, false, "cannot read: %s", strerror(ENOENT));
    if (rc < 0)
        return rc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || !lg_xml_is_element(root, "run")) {
        lg_diags_add(diags, path, root ? (int)xmlGetLineNo(root) : 0, false,
                     "expected a <run> document (labgate's run.xml)");
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    rc = 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (inputs && !*inputs && lg_xml_is_element(c, "inputs")) {
            xmlDocPtr copy_doc = xmlNewDoc((const xmlChar *)"1.0");
            xmlNodePtr copy = xmlDocCopyNode(c, copy_doc, 1);
            if (!copy) {
                xmlFreeDoc(copy_doc);
                xmlFreeDoc(doc);
                return -ENOMEM;
            }
            xmlDocSetRootElement(copy_doc, copy);
            *inputs = copy_doc;
        }
        if (!lg_xml_is_element(c, "job"))
            continue;
        LG_AUTOFREE char *id = lg_xml_prop(c, "id");
        long i = id ? lg_plan_find(plan, id) : -1;
        if (i < 0) {
            lg_diags_add(diags, path, (int)xmlGetLineNo(c), false, "job '%s' is not in the plan",
                         id ? id : "(no id)");
            rc = -EINVAL;
            continue;
        }
        if (found[i]) {
            lg_diags_add(diags, path, (int)xmlGetLineNo(c), false, "job '%s' has a result already", id);
            rc = -EINVAL;
            continue;
        }
        if (read_job_element(path, c, &results[i], diags) < 0) {
            rc = -EINVAL;
            continue;
        }
        found[i] = true;
    }
    xmlFreeDoc(doc);
    return rc;
}

size_t lg_journal_select_resume(const bool *has_result, const lg_verdict *verdicts, size_t n, bool retry_infra,
                                bool *run)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        run[i] = !has_result[i] || (retry_infra && verdicts[i] == LG_VERDICT_INFRA_ERROR);
        count += run[i];
    }
    return count;
}
