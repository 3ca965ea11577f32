/* Which image volumes of a host's labgate pool recent runs used, and when:
 * a small index per host URI in the state directory
 * (images-<digest of the URI>.index, one "VOLUME UNIX-SECONDS RUN" line per
 * volume), written by every run that uses an image and read by `labgate gc`
 * to remove the images nobody used for a while. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lg_image_use {
    char *volume;
    int64_t last_used_s; /* Unix time */
    char *run_id;        /* the run that used it last */
} lg_image_use;

/* $state/images-HEX.index for uri (a new string). */
char *lg_image_index_path(const char *uri);
/* Notes that run_id used volume on uri at now_s (the state directory
 * checked, the file rewritten durably under a lock). */
int lg_image_index_touch(const char *uri, const char *volume, const char *run_id, int64_t now_s);
/* Drops volume from uri's index (gc removed it). */
int lg_image_index_forget(const char *uri, const char *volume);
/* The index; a missing one is empty. */
int lg_image_index_read(const char *uri, lg_image_use **out, size_t *n);
void lg_image_uses_free(lg_image_use *uses, size_t n);
/* Parses an index's text (bounded, malformed lines skipped). */
void lg_image_index_parse(const char *text, lg_image_use **out, size_t *n);
const lg_image_use *lg_image_use_find(const lg_image_use *uses, size_t n, const char *volume);

/* Serialises uploads to uri's pool among the runs of this state directory
 * (flock on $state/images-HEX.upload.lock), waiting up to timeout_ms: the
 * fd, or -errno (-ETIMEDOUT). */
int lg_image_upload_lock(const char *uri, int64_t timeout_ms);
void lg_image_upload_unlock(int fd);

/* Whether gc removes an image volume: not used within older_than_days by
 * any run this state directory knows of (use NULL: none recorded, so its
 * upload time, volume_mtime_s, counts), and its last run not live. */
bool lg_image_gc_due(const lg_image_use *use, int64_t volume_mtime_s, int64_t now_s, int older_than_days,
                     bool last_run_live);
