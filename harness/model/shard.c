#include "shard.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"

static int parse_number(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 6)
        return -EINVAL;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        n = n * 10 + (s[i] - '0');
    }
    *out = n;
    return 0;
}

int lg_shard_parse(const char *text, lg_shard *out)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    int index = 0, count = 0;
    if (!slash || parse_number(text, (size_t)(slash - text), &index) < 0 ||
        parse_number(slash + 1, strlen(slash + 1), &count) < 0) {
        lg_error_set("wants I/N (shard I of N, e.g. 1/4), not '%s'", text ? text : "");
        return -EINVAL;
    }
    if (count < 1 || count > LG_SHARD_MAX) {
        lg_error_set("'%s': N must be from 1 to %d", text, LG_SHARD_MAX);
        return -EINVAL;
    }
    if (index < 1 || index > count) {
        lg_error_set("'%s': I must be from 1 to N (%d); shards are numbered from 1", text, count);
        return -EINVAL;
    }
    *out = (lg_shard){ .index = index, .count = count };
    return 0;
}

int lg_shard_of(const char *job_id, int count)
{
    /* SHA-256 rather than the id's own bits: how ids are made may change,
     * the spread of a cryptographic hash does not; the modulo's bias over
     * 64 bits is nil for N <= 1000 */
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256 ctx;
    lg_sha256_init(&ctx);
    lg_sha256_update(&ctx, "labgate-shard:", 14);
    lg_sha256_update(&ctx, job_id, strlen(job_id));
    lg_sha256_final(&ctx, digest);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | digest[i];
    return (int)(h % (uint64_t)count) + 1;
}

size_t lg_plan_keep_shard(lg_plan *plan, lg_shard shard)
{
    if (shard.count <= 0)
        return plan->n_jobs;
    size_t kept = 0;
    for (size_t i = 0; i < plan->n_jobs; i++)
        if (lg_shard_of(plan->jobs[i].id, shard.count) == shard.index)
            plan->jobs[kept++] = plan->jobs[i];
    plan->n_jobs = kept;
    return kept;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void lg_job_ids_digest(const char *const *ids, size_t n, char hex[LG_SHA256_HEX_LEN + 1])
{
    const char **sorted = lg_calloc(n + 1, sizeof(*sorted));
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_str);
    lg_sha256 ctx;
    lg_sha256_init(&ctx);
    for (size_t i = 0; i < n; i++) {
        lg_sha256_update(&ctx, sorted[i], strlen(sorted[i]));
        lg_sha256_update(&ctx, "\n", 1);
    }
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256_final(&ctx, digest);
    lg_sha256_to_hex(digest, hex);
    free(sorted);
}

void lg_plan_digest(const lg_plan *plan, char hex[LG_SHA256_HEX_LEN + 1])
{
    const char **ids = lg_calloc(plan->n_jobs + 1, sizeof(*ids));
    for (size_t i = 0; i < plan->n_jobs; i++)
        ids[i] = plan->jobs[i].id;
    lg_job_ids_digest(ids, plan->n_jobs, hex);
    free(ids);
}
