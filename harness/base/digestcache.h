/* SHA-256 digests of files, computed once per process: a file is the same
 * file while its device, inode, size and modification and change times
 * are.  The run's input record (reports/inputs.c) and the staging of guest
 * images on each host (run/backend.c) share it, so a multi-GB image is read
 * once for both. */
#pragma once
#include <stdint.h>
#include <sys/stat.h>

#include "sha256.h"

/* The digest and size of path; st: its stat if the caller has it (NULL:
 * taken here).  0, or a negative errno with the message set. */
int lg_sha256_file_cached(const char *path, const struct stat *st, char hex[LG_SHA256_HEX_LEN + 1],
                          uint64_t *size);
/* Bytes actually read to compute digests so far (cache misses). */
uint64_t lg_sha256_cached_bytes_hashed(void);
