#include "compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/mem.h"
#include "base/util.h"
#include "model/xmlread.h"

/* run.xml holds console excerpts, not whole logs: this is generous */
#define MAX_RUNXML_BYTES (256u << 20)

/* ------------------------------------------------------------ reading */

void lg_run_record_free(lg_run_record *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_jobs; i++) {
        lg_run_job *j = &r->jobs[i];
        free(j->id);
        free(j->guest);
        free(j->build);
        free(j->content);
        free(j->scenario);
        free(j->title);
    }
    lg_run_input *lists[] = { r->builds, r->contents };
    size_t counts[] = { r->n_builds, r->n_contents };
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            free(lists[l][i].id);
            free(lists[l][i].dir);
            free(lists[l][i].sha256);
            free(lists[l][i].error);
        }
    for (size_t i = 0; i < r->n_images; i++) {
        free(r->images[i].id);
        free(r->images[i].dir);
        free(r->images[i].sha256);
        free(r->images[i].error);
    }
    free(r->images);
    for (size_t i = 0; i < r->n_shard_job_ids; i++)
        free(r->shard_job_ids[i]);
    free(r->shard_job_ids);
    free(r->shard_plan_sha256);
    free(r->started);
    free(r->finished);
    free(r->accel);
    free(r->host);
    free(r->matrix_sha256);
    if (r->builds_by_id)
        g_hash_table_destroy(r->builds_by_id);
    if (r->contents_by_id)
        g_hash_table_destroy(r->contents_by_id);
    free(r->jobs);
    free(r->builds);
    free(r->contents);
    free(r->path);
    free(r->id);
    free(r->outcome);
    free(r->matrix);
    free(r);
}

static bool parse_verdict(const char *name, lg_verdict *out)
{
    return lg_verdict_parse(name, out) == 0;
}

static void *grow(void *items, size_t n, size_t size)
{
    /* room doubles at each power of two: amortized linear, whatever a
     * run.xml holds */
    if ((n & (n - 1)) == 0) /* n is 0 or a power of two: full */
        return lg_realloc_n(items, n ? 2 * n : 1, size);
    return items;
}

/* Duplicate ids are found once every job is read (check_unique_ids). */
static void read_job(lg_run_record *r, size_t *capacity, xmlNodePtr node, lg_diags *diags)
{
    int line = (int)xmlGetLineNo(node);
    LG_AUTOFREE char *id = lg_xml_prop(node, "id");
    if (!id || !*id) {
        lg_diags_add(diags, r->path, line, false, "<job> without an id");
        return;
    }
    lg_run_job job = { .line = line };
    LG_AUTOFREE char *verdict = lg_xml_prop(node, "verdict");
    if (verdict && *verdict) {
        if (!parse_verdict(verdict, &job.verdict)) {
            lg_diags_add(diags, r->path, line, false, "job '%s' has an unknown verdict '%s'", id, verdict);
            return;
        }
        job.has_verdict = true;
    }
    for (xmlNodePtr c = node->children; c; c = c->next)
        if (lg_xml_is_element(c, "evidence") && !job.title)
            job.title = lg_xml_prop(c, "title");
    job.id = LG_STEAL(id);
    job.guest = lg_xml_prop(node, "guest");
    job.build = lg_xml_prop(node, "build");
    job.content = lg_xml_prop(node, "content");
    job.scenario = lg_xml_prop(node, "scenario");
    if (r->n_jobs == *capacity) {
        *capacity = *capacity ? 2 * *capacity : 64;
        r->jobs = lg_realloc_n(r->jobs, *capacity, sizeof(*r->jobs));
    }
    r->jobs[r->n_jobs++] = job;
}

/* Jobs by id, then by position, so that the first of equal ids comes first:
 * lookups in log n where a scan per job made compare and verify-release
 * quadratic (50,000 jobs: 11 s). */
static int cmp_job_by_id(const void *a, const void *b)
{
    const lg_run_job *x = *(const lg_run_job *const *)a, *y = *(const lg_run_job *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x > y) - (x < y);
}

static const lg_run_job **jobs_by_id(const lg_run_job *jobs, size_t n)
{
    const lg_run_job **by_id = lg_calloc(n + 1, sizeof(*by_id));
    for (size_t i = 0; i < n; i++)
        by_id[i] = &jobs[i];
    qsort(by_id, n, sizeof(*by_id), cmp_job_by_id);
    return by_id;
}

/* The first job (in run order) with this id, or NULL. */
static const lg_run_job *find_by_id(const lg_run_job *const *by_id, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(by_id[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(by_id[lo]->id, id) == 0 ? by_id[lo] : NULL;
}

static void check_unique_ids(const lg_run_record *r, lg_diags *diags)
{
    LG_AUTOFREE const lg_run_job **by_id = jobs_by_id(r->jobs, r->n_jobs);
    LG_AUTOFREE bool *repeated = lg_calloc(r->n_jobs + 1, sizeof(*repeated));
    LG_AUTOFREE const lg_run_job **first = lg_calloc(r->n_jobs + 1, sizeof(*first));
    for (size_t i = 1; i < r->n_jobs; i++)
        if (strcmp(by_id[i]->id, by_id[i - 1]->id) == 0) {
            size_t at = (size_t)(by_id[i] - r->jobs);
            repeated[at] = true;
            first[at] = first[by_id[i - 1] - r->jobs] ? first[by_id[i - 1] - r->jobs] : by_id[i - 1];
        }
    /* in the order of the file, as a reader fixes them */
    for (size_t i = 0; i < r->n_jobs; i++)
        if (repeated[i])
            lg_diags_add(diags, r->path, r->jobs[i].line, false, "job id '%s' appears twice (first on line %d)",
                         r->jobs[i].id, first[i]->line);
}

static void read_input(lg_run_record *r, xmlNodePtr node, lg_run_input **list, size_t *n, lg_diags *diags)
{
    int line = (int)xmlGetLineNo(node);
    lg_run_input in = { .line = line, .id = lg_xml_prop(node, "id") };
    if (!in.id || !*in.id) {
        lg_diags_add(diags, r->path, line, false, "<%s> in <inputs> without an id", (const char *)node->name);
        free(in.id);
        return;
    }
    in.dir = lg_xml_prop(node, "dir");
    in.sha256 = lg_xml_prop(node, "sha256");
    in.error = lg_xml_prop(node, "error");
    if (in.sha256 && strlen(in.sha256) != 64) {
        lg_diags_add(diags, r->path, line, false, "<%s id=\"%s\"> has a sha256 that is not 64 hex digits",
                     (const char *)node->name, in.id);
        free(in.sha256);
        in.sha256 = NULL;
    }
    *list = grow(*list, *n, sizeof(**list));
    (*list)[(*n)++] = in;
}

/* <image guest="G" kind="K" path sha256/>: an input named "G/K" */
static void read_image(lg_run_record *r, xmlNodePtr node, lg_diags *diags)
{
    LG_AUTOFREE char *guest = lg_xml_prop(node, "guest");
    LG_AUTOFREE char *kind = lg_xml_prop(node, "kind");
    int line = (int)xmlGetLineNo(node);
    if (!guest || !kind) {
        lg_diags_add(diags, r->path, line, false, "<image> in <inputs> without guest and kind");
        return;
    }
    lg_run_input in = {
        .line = line, .id = lg_strdup_printf("%s/%s", guest, kind), .dir = lg_xml_prop(node, "path"),
        .sha256 = lg_xml_prop(node, "sha256"), .error = lg_xml_prop(node, "error"),
    };
    r->images = grow(r->images, r->n_images, sizeof(*r->images));
    r->images[r->n_images++] = in;
}

static int shard_number(lg_run_record *r, xmlNodePtr node, const char *name, int max, lg_diags *diags)
{
    LG_AUTOFREE char *v = lg_xml_prop(node, name);
    int n = 0;
    if (!v || lg_parse_int(v, &n) < 0 || n < 1 || n > max) {
        lg_diags_add(diags, r->path, (int)xmlGetLineNo(node), false, "<shard> %s='%s' is not a number from 1 to %d",
                     name, v ? v : "", max);
        return 0;
    }
    return n;
}

/* <shard index count plan-jobs plan-sha256> <job id/>... </shard> */
static void read_shard(lg_run_record *r, xmlNodePtr node, lg_diags *diags)
{
    if (r->shard_count) {
        lg_diags_add(diags, r->path, (int)xmlGetLineNo(node), false, "a second <shard> (first on line %d)",
                     r->shard_line);
        return;
    }
    r->shard_line = (int)xmlGetLineNo(node);
    int count = shard_number(r, node, "count", 1000000, diags);
    int index = shard_number(r, node, "index", count ? count : 1, diags);
    int plan_jobs = shard_number(r, node, "plan-jobs", 100000000, diags);
    r->shard_plan_sha256 = lg_xml_prop(node, "plan-sha256");
    if (!r->shard_plan_sha256 || strlen(r->shard_plan_sha256) != 64)
        lg_diags_add(diags, r->path, r->shard_line, false, "<shard> without a plan-sha256 of 64 hex digits");
    if (!count || !index || !plan_jobs)
        return;
    r->shard_count = count;
    r->shard_index = index;
    r->shard_plan_jobs = (size_t)plan_jobs;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "job"))
            continue;
        char *id = lg_xml_prop(c, "id");
        if (!id || !*id) {
            lg_diags_add(diags, r->path, (int)xmlGetLineNo(c), false, "<shard><job> without an id");
            free(id);
            continue;
        }
        r->shard_job_ids = grow(r->shard_job_ids, r->n_shard_job_ids, sizeof(*r->shard_job_ids));
        r->shard_job_ids[r->n_shard_job_ids++] = id;
    }
}

/* id -> the first input of that id (as a scan finds it) */
static GHashTable *index_inputs(lg_run_input *list, size_t n)
{
    GHashTable *by_id = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++)
        if (!g_hash_table_contains(by_id, list[i].id))
            g_hash_table_insert(by_id, list[i].id, &list[i]);
    return by_id;
}

int lg_run_record_load(const char *path, lg_run_record **out, lg_diags *diags)
{
    size_t before = lg_diags_errors(diags);
    LG_AUTOFREE char *text = NULL;
    size_t text_len = 0;
    int rc = lg_read_file(path, MAX_RUNXML_BYTES, &text, &text_len);
    if (rc < 0) {
        lg_diags_add(diags, path, 0, false, "cannot read: %s", strerror(-rc));
        return rc;
    }
    lg_xml_errors ctx = { .diags = diags, .file = path };
    xmlSetStructuredErrorFunc(&ctx, lg_xml_error_to_diags);
    xmlDocPtr doc = NULL;
    rc = lg_xmlread_parse(text, text_len, path, XML_PARSE_BIG_LINES, diags, &doc);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (rc < 0) {
        if (lg_diags_errors(diags) == before)
            lg_diags_add(diags, path, 0, false, "not a well-formed XML document");
        return -EINVAL;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || !lg_xml_is_element(root, "run")) {
        lg_diags_add(diags, path, root ? (int)xmlGetLineNo(root) : 0, false,
                     "expected a <run> document (labgate's run.xml), found <%s>",
                     root ? (const char *)root->name : "nothing");
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    LG_AUTO(lg_run_record) r = LG_NEW0(lg_run_record);
    r->path = lg_strdup(path);
    r->id = lg_xml_prop(root, "id");
    r->outcome = lg_xml_prop(root, "outcome");
    r->matrix = lg_xml_prop(root, "matrix");
    r->started = lg_xml_prop(root, "started");
    r->finished = lg_xml_prop(root, "finished");
    r->accel = lg_xml_prop(root, "accel");
    r->host = lg_xml_prop(root, "host");
    size_t jobs_capacity = 0;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (lg_xml_is_element(n, "job"))
            read_job(r, &jobs_capacity, n, diags);
        if (lg_xml_is_element(n, "shard"))
            read_shard(r, n, diags);
        if (!lg_xml_is_element(n, "inputs"))
            continue;
        r->has_inputs = true;
        for (xmlNodePtr i = n->children; i; i = i->next) {
            if (lg_xml_is_element(i, "build"))
                read_input(r, i, &r->builds, &r->n_builds, diags);
            else if (lg_xml_is_element(i, "content"))
                read_input(r, i, &r->contents, &r->n_contents, diags);
            else if (lg_xml_is_element(i, "image"))
                read_image(r, i, diags);
            else if (lg_xml_is_element(i, "matrix") && !r->matrix_sha256)
                r->matrix_sha256 = lg_xml_prop(i, "sha256");
        }
    }
    xmlFreeDoc(doc);
    check_unique_ids(r, diags);
    r->builds_by_id = index_inputs(r->builds, r->n_builds);
    r->contents_by_id = index_inputs(r->contents, r->n_contents);
    if (lg_diags_errors(diags) > before)
        return -EINVAL;
    *out = LG_STEAL(r);
    return 0;
}

bool lg_run_job_has_result(const lg_run_job *job)
{
    return job->has_verdict && job->verdict != LG_VERDICT_INFRA_ERROR;
}

bool lg_run_job_failed(const lg_run_job *job)
{
    return lg_run_job_has_result(job) && job->verdict != LG_VERDICT_PASS;
}

/* By the record's index when it has one: verify-release looks up every
 * job's build and content, compare every input of the new run, so a scan
 * here made both quadratic in a run.xml with many inputs. */
static const lg_run_input *find_input(const lg_run_input *list, size_t n, void *by_id, const char *id)
{
    if (!id)
        return NULL;
    if (by_id)
        return g_hash_table_lookup(by_id, id);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0)
            return &list[i];
    return NULL;
}

const lg_run_input *lg_run_record_build(const lg_run_record *r, const char *id)
{
    return find_input(r->builds, r->n_builds, r->builds_by_id, id);
}

const lg_run_input *lg_run_record_content(const lg_run_record *r, const char *id)
{
    return find_input(r->contents, r->n_contents, r->contents_by_id, id);
}

/* --------------------------------------------------------- comparing */

const char *lg_change_name(lg_change change)
{
    switch (change) {
    case LG_CHANGE_NEW_FAILURE: return "NEW FAILURES";
    case LG_CHANGE_STILL_FAILING: return "STILL FAILING";
    case LG_CHANGE_FIXED: return "FIXED";
    case LG_CHANGE_INCOMPLETE: return "INCOMPLETE (no verdict: harness or hypervisor failure)";
    case LG_CHANGE_ONLY_OLD: return "ONLY IN OLD RUN";
    case LG_CHANGE_ONLY_NEW: return "ONLY IN NEW RUN";
    case LG_CHANGE_SAME_PASS: return "PASS IN BOTH";
    case LG_CHANGE_COUNT: break;
    }
    return "?";
}

const lg_run_job *lg_run_record_job(const lg_run_record *r, const char *id)
{
    for (size_t i = 0; i < r->n_jobs; i++)
        if (strcmp(r->jobs[i].id, id) == 0)
            return &r->jobs[i];
    return NULL;
}

static bool same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static lg_change classify(const lg_run_job *old_job, const lg_run_job *new_job)
{
    if (!new_job)
        return LG_CHANGE_ONLY_OLD;
    /* a guest failure now, where there was none to see before: a regression
     * even when the old run had no verdict for it */
    if (lg_run_job_failed(new_job) && (!old_job || !lg_run_job_failed(old_job)))
        return LG_CHANGE_NEW_FAILURE;
    if (!lg_run_job_has_result(new_job))
        return LG_CHANGE_INCOMPLETE;
    if (!old_job)
        return LG_CHANGE_ONLY_NEW;
    if (!lg_run_job_has_result(old_job))
        return LG_CHANGE_INCOMPLETE;
    if (lg_run_job_failed(old_job))
        return lg_run_job_failed(new_job) ? LG_CHANGE_STILL_FAILING : LG_CHANGE_FIXED;
    return LG_CHANGE_SAME_PASS;
}

void lg_comparison_free(lg_comparison *c)
{
    if (!c)
        return;
    free(c->jobs);
    free(c->inputs);
    free(c);
}

static void compare_inputs(lg_comparison *c, const char *kind, const lg_run_input *old_list, size_t n_old,
                           void *old_by_id, const lg_run_input *new_list, size_t n_new)
{
    for (size_t i = 0; i < n_new; i++) {
        const lg_run_input *o = find_input(old_list, n_old, old_by_id, new_list[i].id);
        if (!o || !o->sha256 || !new_list[i].sha256 || strcmp(o->sha256, new_list[i].sha256) == 0)
            continue;
        c->inputs[c->n_inputs++] = (lg_input_change){ .kind = kind, .old_input = o, .new_input = &new_list[i] };
    }
}

lg_comparison *lg_compare_runs(const lg_run_record *old_run, const lg_run_record *new_run)
{
    lg_comparison *c = LG_NEW0(lg_comparison);
    c->jobs = lg_calloc(old_run->n_jobs + new_run->n_jobs + 1, sizeof(*c->jobs));
    c->inputs = lg_calloc(new_run->n_builds + new_run->n_contents + 1, sizeof(*c->inputs));
    LG_AUTOFREE const lg_run_job **old_by_id = jobs_by_id(old_run->jobs, old_run->n_jobs);
    LG_AUTOFREE const lg_run_job **new_by_id = jobs_by_id(new_run->jobs, new_run->n_jobs);
    for (size_t i = 0; i < new_run->n_jobs; i++) {
        const lg_run_job *n = &new_run->jobs[i];
        const lg_run_job *o = find_by_id(old_by_id, old_run->n_jobs, n->id);
        lg_job_change *ch = &c->jobs[c->n_jobs++];
        *ch = (lg_job_change){ .change = classify(o, n), .old_job = o, .new_job = n };
        if (ch->change == LG_CHANGE_STILL_FAILING)
            ch->title_changed = o->verdict != n->verdict || !same_text(o->title, n->title);
    }
    for (size_t i = 0; i < old_run->n_jobs; i++) {
        const lg_run_job *o = &old_run->jobs[i];
        if (!find_by_id(new_by_id, new_run->n_jobs, o->id))
            c->jobs[c->n_jobs++] = (lg_job_change){ .change = LG_CHANGE_ONLY_OLD, .old_job = o };
    }
    for (size_t i = 0; i < c->n_jobs; i++)
        c->count[c->jobs[i].change]++;
    compare_inputs(c, "build", old_run->builds, old_run->n_builds, old_run->builds_by_id, new_run->builds,
                   new_run->n_builds);
    compare_inputs(c, "content", old_run->contents, old_run->n_contents, old_run->contents_by_id, new_run->contents,
                   new_run->n_contents);
    return c;
}

int lg_compare_exit_code(const lg_comparison *c)
{
    return c->count[LG_CHANGE_NEW_FAILURE] ? LG_EXIT_BLOCKED : LG_EXIT_CLEAR;
}

/* Everything printed from a run.xml is the run's, and so possibly a guest's:
 * it reaches the terminal through lg_clean_term only. */
static void put(lg_buf *b, const char *s)
{
    lg_clean_term_append(b, s);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* "CRASH: title", "PASS", "INFRA_ERROR: title", "no verdict", "absent" */
static void describe(lg_buf *b, const lg_run_job *job, bool with_title)
{
    if (!job) {
        lg_buf_puts(b, "absent");
        return;
    }
    if (!job->has_verdict) {
        lg_buf_puts(b, "no verdict");
        return;
    }
    lg_buf_puts(b, lg_verdict_name(job->verdict));
    if (with_title && job->verdict != LG_VERDICT_PASS && job->title && *job->title) {
        lg_buf_puts(b, ": ");
        put(b, job->title);
    }
}

static void print_change(const lg_job_change *ch, FILE *out)
{
    const lg_run_job *o = ch->old_job, *n = ch->new_job;
    const lg_run_job *any = n ? n : o;
    LG_AUTOBUF line = LG_BUF_INIT;
    lg_buf_puts(&line, "  ");
    put(&line, any->id);
    lg_buf_puts(&line, "  ");
    put(&line, or_dash(any->guest));
    lg_buf_puts(&line, "/");
    put(&line, or_dash(any->build));
    lg_buf_puts(&line, "/");
    put(&line, or_dash(any->content));
    lg_buf_puts(&line, "/");
    put(&line, or_dash(any->scenario));
    lg_buf_puts(&line, ": ");
    switch (ch->change) {
    case LG_CHANGE_NEW_FAILURE:
        describe(&line, o, false);
        lg_buf_puts(&line, " -> ");
        describe(&line, n, true);
        break;
    case LG_CHANGE_FIXED:
        describe(&line, o, true);
        lg_buf_puts(&line, " -> PASS");
        break;
    case LG_CHANGE_STILL_FAILING:
        describe(&line, n, true);
        if (ch->title_changed) {
            lg_buf_puts(&line, " (changed; was ");
            describe(&line, o, true);
            lg_buf_puts(&line, ")");
        }
        break;
    case LG_CHANGE_INCOMPLETE:
        describe(&line, o, true);
        lg_buf_puts(&line, " -> ");
        describe(&line, n, true);
        break;
    case LG_CHANGE_ONLY_OLD:
        describe(&line, o, true);
        break;
    case LG_CHANGE_ONLY_NEW:
    case LG_CHANGE_SAME_PASS:
        describe(&line, n, true);
        break;
    case LG_CHANGE_COUNT:
        break;
    }
    fprintf(out, "%s\n", line.data ? line.data : "");
}

static void print_run(const char *label, const lg_run_record *r, FILE *out)
{
    LG_AUTOBUF line = LG_BUF_INIT;
    lg_buf_printf(&line, "%s: ", label);
    put(&line, r->path);
    lg_buf_puts(&line, " (run ");
    put(&line, or_dash(r->id));
    lg_buf_puts(&line, ", outcome ");
    put(&line, or_dash(r->outcome));
    lg_buf_printf(&line, ", %zu job%s)", r->n_jobs, r->n_jobs == 1 ? "" : "s");
    fprintf(out, "%s\n", line.data);
}

void lg_compare_print(const lg_comparison *c, const lg_run_record *old_run,
                      const lg_run_record *new_run, FILE *out)
{
    print_run("old", old_run, out);
    print_run("new", new_run, out);
    /* what a reader acts on first; passing-in-both is only counted */
    static const lg_change shown[] = {
        LG_CHANGE_NEW_FAILURE, LG_CHANGE_STILL_FAILING, LG_CHANGE_FIXED, LG_CHANGE_INCOMPLETE,
        LG_CHANGE_ONLY_OLD, LG_CHANGE_ONLY_NEW,
    };
    for (size_t s = 0; s < LG_N_ELEMENTS(shown); s++) {
        if (!c->count[shown[s]])
            continue;
        fprintf(out, "\n%s (%zu)\n", lg_change_name(shown[s]), c->count[shown[s]]);
        for (size_t i = 0; i < c->n_jobs; i++)
            if (c->jobs[i].change == shown[s])
                print_change(&c->jobs[i], out);
    }
    if (c->n_inputs) {
        fprintf(out, "\nINPUTS CHANGED (%zu)\n", c->n_inputs);
        for (size_t i = 0; i < c->n_inputs; i++) {
            LG_AUTOBUF line = LG_BUF_INIT;
            lg_buf_printf(&line, "  %s ", c->inputs[i].kind);
            put(&line, c->inputs[i].new_input->id);
            lg_buf_puts(&line, ": sha256 ");
            put(&line, c->inputs[i].old_input->sha256);
            lg_buf_puts(&line, " -> ");
            put(&line, c->inputs[i].new_input->sha256);
            fprintf(out, "%s\n", line.data);
        }
    }
    fprintf(out, "\n%zu new failure%s, %zu still failing, %zu fixed, %zu incomplete, %zu passing in both, "
                 "%zu only in old, %zu only in new\n",
            c->count[LG_CHANGE_NEW_FAILURE], c->count[LG_CHANGE_NEW_FAILURE] == 1 ? "" : "s",
            c->count[LG_CHANGE_STILL_FAILING], c->count[LG_CHANGE_FIXED], c->count[LG_CHANGE_INCOMPLETE],
            c->count[LG_CHANGE_SAME_PASS], c->count[LG_CHANGE_ONLY_OLD], c->count[LG_CHANGE_ONLY_NEW]);
    fprintf(out, "%s\n", c->count[LG_CHANGE_NEW_FAILURE] ? "REGRESSION: the new run fails where the old did not"
                                                         : "no new failures");
}
