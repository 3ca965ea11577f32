#include "imageuse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/sha256.h"
#include "base/statedir.h"
#include "base/util.h"

LG_LOG_INIT("imageuse");

/* an index is a few lines per image: anything larger is not ours */
#define INDEX_MAX_BYTES (1u << 20)
#define FIELD_MAX 200

char *lg_image_index_path(const char *uri)
{
    char hex[LG_SHA256_HEX_LEN + 1];
    lg_sha256_hex(uri, strlen(uri), hex);
    hex[16] = '\0';
    LG_AUTOFREE char *state = lg_state_dir();
    return lg_strdup_printf("%s/images-%s.index", state, hex);
}

void lg_image_uses_free(lg_image_use *uses, size_t n)
{
    for (size_t i = 0; uses && i < n; i++) {
        free(uses[i].volume);
        free(uses[i].run_id);
    }
    free(uses);
}

static bool plain_word(const char *w, size_t len)
{
    if (len == 0 || len > FIELD_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (w[i] <= ' ' || w[i] > '~')
            return false;
    return true;
}

void lg_image_index_parse(const char *text, lg_image_use **out, size_t *n)
{
    lg_image_use *list = NULL;
    size_t count = 0, cap = 0;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        LG_AUTOFREE char *copy = lg_strndup(line, len);
        line = end ? end + 1 : line + len;
        char *save = NULL;
        char *volume = strtok_r(copy, " ", &save);
        char *when = volume ? strtok_r(NULL, " ", &save) : NULL;
        char *run = when ? strtok_r(NULL, " ", &save) : NULL;
        if (!run || volume[0] == '#' || strtok_r(NULL, " ", &save) || !plain_word(volume, strlen(volume)) ||
            !plain_word(run, strlen(run)))
            continue;
        char *stop = NULL;
        errno = 0;
        long long s = strtoll(when, &stop, 10);
        if (errno || *stop || s < 0)
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            list = lg_realloc_n(list, cap, sizeof(*list));
        }
        list[count++] = (lg_image_use){ .volume = lg_strdup(volume), .last_used_s = s, .run_id = lg_strdup(run) };
    }
    *out = list;
    *n = count;
}

const lg_image_use *lg_image_use_find(const lg_image_use *uses, size_t n, const char *volume)
{
    const lg_image_use *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(uses[i].volume, volume) == 0 && (!found || uses[i].last_used_s > found->last_used_s))
            found = &uses[i];
    return found;
}

static int read_index(const char *path, lg_image_use **out, size_t *n)
{
    LG_AUTOFREE char *text = NULL;
    size_t len = 0;
    int rc = lg_read_file(path, INDEX_MAX_BYTES, &text, &len);
    if (rc == -ENOENT) {
        *out = NULL;
        *n = 0;
        return 0;
    }
    if (rc < 0)
        return rc;
    lg_image_index_parse(text, out, n);
    return 0;
}

int lg_image_index_read(const char *uri, lg_image_use **out, size_t *n)
{
    LG_AUTOFREE char *path = lg_image_index_path(uri);
    return read_index(path, out, n);
}

/* Rewrites uri's index with volume set to (now_s, run_id), or dropped
 * when run_id is NULL; under the index's lock, so concurrent runs (and
 * workers) lose no line. */
static int update(const char *uri, const char *volume, const char *run_id, int64_t now_s)
{
    if (!plain_word(volume, strlen(volume)) || (run_id && !plain_word(run_id, strlen(run_id)))) {
        lg_error_set("not a volume or run name for the image index: %s %s", volume, run_id ? run_id : "");
        return -EINVAL;
    }
    LG_AUTOFREE char *path = lg_image_index_path(uri);
    LG_AUTOFREE char *dir = lg_path_dirname(path);
    int rc = lg_state_dir_check(dir);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *lock_path = lg_strdup_printf("%s.lock", path);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lock < 0) {
        int err = errno;
        lg_error_set("cannot open %s: %s", lock_path, strerror(err));
        return -err;
    }
    if (flock(lock, LOCK_EX) < 0) {
        int err = errno;
        close(lock);
        lg_error_set("cannot lock %s: %s", lock_path, strerror(err));
        return -err;
    }
    lg_image_use *uses = NULL;
    size_t n = 0;
    rc = read_index(path, &uses, &n);
    if (rc == 0) {
        LG_AUTOBUF text = LG_BUF_INIT;
        lg_buf_puts(&text, "# labgate image volumes used on one host: VOLUME LAST-USED RUN\n");
        for (size_t i = 0; i < n; i++)
            if (strcmp(uses[i].volume, volume) != 0)
                lg_buf_printf(&text, "%s %lld %s\n", uses[i].volume, (long long)uses[i].last_used_s,
                              uses[i].run_id);
        if (run_id)
            lg_buf_printf(&text, "%s %lld %s\n", volume, (long long)now_s, run_id);
        rc = lg_write_file_durable(path, text.data, text.len);
        /* the state directory's files are its owner's alone */
        if (rc == 0 && chmod(path, 0600) < 0)
            rc = -errno;
    }
    lg_image_uses_free(uses, n);
    flock(lock, LOCK_UN);
    close(lock);
    return rc;
}

int lg_image_index_touch(const char *uri, const char *volume, const char *run_id, int64_t now_s)
{
    return update(uri, volume, run_id, now_s);
}

int lg_image_index_forget(const char *uri, const char *volume)
{
    return update(uri, volume, NULL, 0);
}

int lg_image_upload_lock(const char *uri, int64_t timeout_ms)
{
    LG_AUTOFREE char *index = lg_image_index_path(uri);
    LG_AUTOFREE char *dir = lg_path_dirname(index);
    int rc = lg_state_dir_check(dir);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *path = lg_strdup_printf("%.*s.upload.lock", (int)(strlen(index) - strlen(".index")), index);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot open %s: %s", path, strerror(err));
        return -err;
    }
    lg_deadline dl = lg_deadline_in_ms(timeout_ms);
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if ((err != EWOULDBLOCK && err != EINTR) || lg_deadline_passed(dl)) {
            close(fd);
            lg_error_set("cannot lock %s: %s", path,
                         err == EWOULDBLOCK ? "another run has been uploading to this host for too long" : strerror(err));
            return err == EWOULDBLOCK ? -ETIMEDOUT : -err;
        }
        lg_sleep_ms(200);
    }
    return fd;
}

void lg_image_upload_unlock(int fd)
{
    if (fd < 0)
        return;
    flock(fd, LOCK_UN);
    close(fd);
}

bool lg_image_gc_due(const lg_image_use *use, int64_t volume_mtime_s, int64_t now_s, int older_than_days,
                     bool last_run_live)
{
    if (last_run_live)
        return false;
    int64_t last = use ? use->last_used_s : volume_mtime_s;
    if (use && volume_mtime_s > last)
        last = volume_mtime_s; /* uploaded again since (by another state directory) */
    return now_s - last >= (int64_t)older_than_days * 86400;
}
