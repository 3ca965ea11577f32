#include "digestcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "mem.h"

LG_LOG_INIT("digest");

/* Digests already computed in this process.  A file is the same file while
 * its device, inode, size and modification and change times are: a multi-GB
 * image shared by several guests, or a file hard-linked into several builds,
 * is read once. */
typedef struct digest_entry {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    char sha256[LG_SHA256_HEX_LEN + 1];
} digest_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static digest_entry *cache;
static size_t cache_n, cache_cap;
static uint64_t bytes_hashed;

static digest_entry entry_of(const struct stat *st)
{
    return (digest_entry){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
                           .mtime = st->st_mtim, .ctime = st->st_ctim };
}

static bool same_file(const digest_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static bool cache_lookup(const struct stat *st, char hex[LG_SHA256_HEX_LEN + 1])
{
    bool found = false;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_n && !found; i++)
        if (same_file(&cache[i], st)) {
            memcpy(hex, cache[i].sha256, LG_SHA256_HEX_LEN + 1);
            found = true;
        }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static void cache_store(const struct stat *st, const char hex[LG_SHA256_HEX_LEN + 1])
{
    pthread_mutex_lock(&cache_lock);
    if (cache_n == cache_cap) {
        cache_cap = cache_cap ? 2 * cache_cap : 64;
        cache = lg_realloc_n(cache, cache_cap, sizeof(*cache));
    }
    digest_entry *e = &cache[cache_n++];
    *e = entry_of(st);
    memcpy(e->sha256, hex, LG_SHA256_HEX_LEN + 1);
    pthread_mutex_unlock(&cache_lock);
}

int lg_sha256_file_cached(const char *path, const struct stat *given, char hex[LG_SHA256_HEX_LEN + 1],
                          uint64_t *size)
{
    struct stat own;
    const struct stat *st = given;
    if (!st) {
        if (stat(path, &own) < 0) {
            int err = errno;
            lg_error_set("cannot read %s: %s", path, strerror(err));
            return -err;
        }
        st = &own;
    }
    if (cache_lookup(st, hex)) {
        *size = (uint64_t)st->st_size;
        return 0;
    }
    LG_DEBUG("sha256 of %s (%lld bytes)", path, (long long)st->st_size);
    int rc = lg_sha256_file_sized(path, hex, size);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&cache_lock);
    bytes_hashed += *size;
    pthread_mutex_unlock(&cache_lock);
    /* a file written while it was read has no one digest: do not remember it */
    struct stat after;
    digest_entry before = entry_of(st);
    if (*size == (uint64_t)st->st_size && stat(path, &after) == 0 && same_file(&before, &after))
        cache_store(st, hex);
    return 0;
}

uint64_t lg_sha256_cached_bytes_hashed(void)
{
    pthread_mutex_lock(&cache_lock);
    uint64_t n = bytes_hashed;
    pthread_mutex_unlock(&cache_lock);
    return n;
}
