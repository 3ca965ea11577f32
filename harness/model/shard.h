/* CI shards: `labgate run MATRIX --shard I/N` runs the jobs of shard I of
 * N, and `labgate merge` puts the shards' results back together.
 *
 * A job's shard depends on its own id and N alone (a hash of the id mod
 * N), never on the other jobs of the plan: adding, removing or renaming
 * jobs never moves another job to another shard, so shard I of last
 * night's run and of tonight's hold the same jobs where the matrix kept
 * them, and a shard re-run after a matrix change repeats what it ran.
 * Splitting by the plan's order would balance exactly but move every job
 * after an insertion.  The price is that balance is statistical: with M
 * jobs a shard holds M/N give or take about sqrt(M/N) (tens of jobs per
 * shard: within a few; a handful of jobs may well leave a shard empty,
 * which runs nothing and passes; `labgate plan --shard` shows the split). */
#pragma once
#include <stddef.h>

#include "base/sha256.h"
#include "plan.h"

#define LG_SHARD_MAX 1000

typedef struct lg_shard {
    int index; /* 1..count */
    int count; /* 0: not sharded */
} lg_shard;

/* "I/N" with 1 <= I <= N <= LG_SHARD_MAX.  0, or -EINVAL with the
 * problem in lg_error_msg(); *out untouched then. */
int lg_shard_parse(const char *text, lg_shard *out);
/* The shard (1..count) job_id belongs to; count >= 1. */
int lg_shard_of(const char *job_id, int count);
/* Keeps the plan's jobs of shard (in plan order); returns how many.  A
 * shard with count 0 keeps every job. */
size_t lg_plan_keep_shard(lg_plan *plan, lg_shard shard);
/* The digest of a set of job ids (order does not matter): SHA-256 of the
 * ids sorted, one per line.  What the shards of one plan share. */
void lg_job_ids_digest(const char *const *ids, size_t n, char hex[LG_SHA256_HEX_LEN + 1]);
/* lg_job_ids_digest of the plan's job ids. */
void lg_plan_digest(const lg_plan *plan, char hex[LG_SHA256_HEX_LEN + 1]);
