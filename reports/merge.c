#include "merge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "model/shard.h"

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static const lg_run_input *find(const lg_run_input *list, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0)
            return &list[i];
    return NULL;
}

/* The same ids with the same digests on both sides: the shards were given
 * the same files (their paths may differ from machine to machine). */
static bool inputs_differ(lg_buf *why, const char *kind, const lg_run_input *a, size_t na, const char *dir_a,
                          const lg_run_input *b, size_t nb, const char *dir_b)
{
    for (size_t pass = 0; pass < 2; pass++) {
        const lg_run_input *from = pass ? b : a, *other = pass ? a : b;
        size_t n_from = pass ? nb : na, n_other = pass ? na : nb;
        const char *dir_from = pass ? dir_b : dir_a, *dir_other = pass ? dir_a : dir_b;
        for (size_t i = 0; i < n_from; i++) {
            const lg_run_input *o = find(other, n_other, from[i].id);
            if (!o) {
                lg_buf_printf(why, "%s: %s '%s' is in its inputs but not in those of %s: the shards ran different "
                                   "matrices", dir_from, kind, from[i].id, dir_other);
                return true;
            }
            if (!from[i].sha256 || !o->sha256) {
                lg_buf_printf(why, "%s: %s '%s' has no digest (%s): the shards cannot be shown to have been given "
                                   "the same files", from[i].sha256 ? dir_other : dir_from, kind, from[i].id,
                              from[i].sha256 ? (o->error ? o->error : "none recorded")
                                             : (from[i].error ? from[i].error : "none recorded"));
                return true;
            }
            if (strcmp(from[i].sha256, o->sha256) != 0) {
                lg_buf_printf(why, "%s: %s '%s' has digest %.12s..., but %.12s... in %s: the shards were given "
                                   "different files", dir_from, kind, from[i].id, from[i].sha256, o->sha256, dir_other);
                return true;
            }
        }
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* This shard's own jobs: listed in <shard>, each with a result in run.xml
 * and no other, each of this shard by the split. */
static bool shard_jobs_wrong(lg_buf *why, const lg_run_record *r, const char *dir)
{
    if (r->n_shard_job_ids != r->n_jobs) {
        lg_buf_printf(why, "%s: shard %d/%d lists %zu job(s) but its run.xml has results for %zu", dir,
                      r->shard_index, r->shard_count, r->n_shard_job_ids, r->n_jobs);
        return true;
    }
    for (size_t i = 0; i < r->n_shard_job_ids; i++) {
        const char *id = r->shard_job_ids[i];
        if (!lg_run_record_job(r, id)) {
            lg_buf_printf(why, "%s: shard %d/%d lists job %s but has no result for it", dir, r->shard_index,
                          r->shard_count, id);
            return true;
        }
        int belongs = lg_shard_of(id, r->shard_count);
        if (belongs != r->shard_index) {
            lg_buf_printf(why, "%s: job %s is in shard %d/%d, but it belongs to shard %d/%d (another labgate's "
                               "split?)", dir, id, r->shard_index, r->shard_count, belongs, r->shard_count);
            return true;
        }
    }
    return false;
}

/* true, with the problem in why, when the shards do not make one run */
static bool mismatch(const lg_run_record *const *records, const char *const *dirs, size_t n, lg_buf *why)
{
    if (n == 0) {
        lg_buf_puts(why, "no shard results given");
        return true;
    }
    for (size_t k = 0; k < n; k++)
        if (!records[k]->shard_count) {
            lg_buf_printf(why, "%s: not a shard's results (its run.xml has no <shard>: was it run with --shard "
                                "I/N?)", dirs[k]);
            return true;
        }
    const lg_run_record *first = records[0];
    const char *first_dir = dirs[0];
    for (size_t k = 1; k < n; k++) {
        const lg_run_record *r = records[k];
        if (r->shard_count != first->shard_count) {
            lg_buf_printf(why, "%s is shard %d/%d but %s is shard %d/%d: the shards of one run share N", dirs[k],
                          r->shard_index, r->shard_count, first_dir, first->shard_index, first->shard_count);
            return true;
        }
        if (!same(r->shard_plan_sha256, first->shard_plan_sha256) || r->shard_plan_jobs != first->shard_plan_jobs) {
            lg_buf_printf(why, "%s ran another plan than %s (%zu jobs, digest %.12s..., against %zu jobs, %.12s...): "
                                "the shards ran different matrices", dirs[k], first_dir, r->shard_plan_jobs,
                          r->shard_plan_sha256 ? r->shard_plan_sha256 : "", first->shard_plan_jobs,
                          first->shard_plan_sha256 ? first->shard_plan_sha256 : "");
            return true;
        }
        if (!r->matrix_sha256 || !first->matrix_sha256 || strcmp(r->matrix_sha256, first->matrix_sha256) != 0) {
            lg_buf_printf(why, "%s ran a matrix file with digest %.12s..., %s one with %.12s...: the shards ran "
                                "different matrices", dirs[k], r->matrix_sha256 ? r->matrix_sha256 : "(none)",
                          first_dir, first->matrix_sha256 ? first->matrix_sha256 : "(none)");
            return true;
        }
        if (inputs_differ(why, "build", r->builds, r->n_builds, dirs[k], first->builds, first->n_builds, first_dir) ||
            inputs_differ(why, "content", r->contents, r->n_contents, dirs[k], first->contents, first->n_contents,
                          first_dir) ||
            inputs_differ(why, "image", r->images, r->n_images, dirs[k], first->images, first->n_images, first_dir))
            return true;
    }
    int count = first->shard_count;
    /* each of 1..N exactly once */
    LG_AUTOFREE size_t *given = lg_calloc((size_t)count + 1, sizeof(*given)); /* index -> k + 1 */
    for (size_t k = 0; k < n; k++) {
        int index = records[k]->shard_index;
        if (given[index]) {
            lg_buf_printf(why, "shard %d/%d is given twice: %s and %s", index, count, dirs[given[index] - 1],
                          dirs[k]);
            return true;
        }
        given[index] = k + 1;
    }
    for (int index = 1; index <= count; index++) {
        if (given[index])
            continue;
        lg_buf_printf(why, "shard %d/%d is missing (given:", index, count);
        for (int other = 1; other <= count; other++)
            if (given[other])
                lg_buf_printf(why, " %s is %d/%d;", dirs[given[other] - 1], other, count);
        why->len--; /* the last ';' */
        lg_buf_puts(why, "): the merged run would not cover the plan");
        return true;
    }
    /* the shards' jobs, together, are the plan: no job twice, none missing */
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        if (shard_jobs_wrong(why, records[k], dirs[k]))
            return true;
        total += records[k]->n_shard_job_ids;
    }
    const char **ids = lg_calloc(total + 1, sizeof(*ids));
    size_t at = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < records[k]->n_shard_job_ids; i++)
            ids[at++] = records[k]->shard_job_ids[i];
    qsort(ids, total, sizeof(*ids), cmp_str);
    for (size_t i = 1; i < total; i++)
        if (strcmp(ids[i], ids[i - 1]) == 0) {
            lg_buf_printf(why, "job %s is in two shards' results", ids[i]);
            free(ids);
            return true;
        }
    char digest[LG_SHA256_HEX_LEN + 1];
    lg_job_ids_digest(ids, total, digest);
    free(ids);
    if (total != first->shard_plan_jobs || strcmp(digest, first->shard_plan_sha256) != 0) {
        lg_buf_printf(why, "the shards' %zu job(s) are not the plan's %zu (digest %.12s..., the plan's %.12s...)",
                      total, first->shard_plan_jobs, digest, first->shard_plan_sha256);
        return true;
    }
    return false;
}

int lg_merge_check(const lg_run_record *const *records, const char *const *dirs, size_t n, char **why_out)
{
    LG_AUTOBUF why = LG_BUF_INIT;
    if (!mismatch(records, dirs, n, &why))
        return 0;
    *why_out = lg_buf_steal(&why);
    return -EINVAL;
}
