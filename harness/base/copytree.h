/* Copying a results tree (a job's artifacts) into another results
 * directory: what `labgate merge` does with each shard's jobs/ID/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct lg_copy_stats {
    size_t files;       /* regular files placed */
    size_t linked;      /* of those, hard links (same file system) */
    size_t skipped;     /* symlinks, fifos, sockets, devices: not copied */
} lg_copy_stats;

/* Recreates the directory tree src at dst (created with its parents; an
 * existing dst is filled).  Regular files are hard-linked where src and dst
 * share a file system (nothing is copied: results are never rewritten in
 * place), copied with their mode otherwise; nothing is followed: symbolic
 * links and special files are skipped and counted.  0, or -errno with the
 * message set (the part copied stays). */
int lg_copy_tree(const char *src, const char *dst, lg_copy_stats *stats);
