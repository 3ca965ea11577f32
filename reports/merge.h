/* `labgate merge`: the results of a run's CI shards (labgate run --shard
 * I/N, each on its own machine) checked to belong together, before they
 * are written out as one run.  It fails closed: whatever cannot be shown
 * to be shards 1..N of one plan, given the same inputs, is refused. */
#pragma once
#include <stddef.h>

#include "compare.h"

/* The shards' run.xml records (dirs[k] is where records[k] came from, for
 * messages): each is a shard's (<shard>), all of the same count, plan
 * digest, matrix digest and input digests (builds, contents, images, by
 * id); shards 1..N each given exactly once; each shard's job ids are the
 * ones its run.xml has results for, belong to that shard (model/shard.h),
 * and together are the plan (as many, the same digest).  0, or -EINVAL
 * with *why a new message naming the problem and the directory. */
int lg_merge_check(const lg_run_record *const *records, const char *const *dirs, size_t n, char **why);
