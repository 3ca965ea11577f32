#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "libvirt-priv.h"
#include "base/log.h"
#include "base/util.h"
#include "base/clock.h"
#include "base/mem.h"
#include "domain.h"
#include "pool.h"
#include "guard.h"

LG_LOG_INIT("virt");

#define SCREENSHOT_MAX (32u << 20)
/* deadlines (virt/guard.h): a screenshot is one monitor command and a few
 * MiB; a kdump-compressed dump of a 4 GiB guest takes about a minute */
#define SCREENSHOT_TIMEOUT_MS (60 * 1000)
#define MEMORY_DUMP_TIMEOUT_MS (10 * 60 * 1000)
/* a remote host's dump is downloaded up to this size */
#define MEMORY_DUMP_MAX (16ull << 30)

/* virStreamRecvAll sink: returns how many bytes it took (libvirt offers the
 * rest again), or -1 for a screenshot too large. */
static int collect(virStreamPtr st, const char *data, size_t n, void *opaque)
{
    (void)st;
    lg_buf *buf = opaque;
    if (buf->len + n > SCREENSHOT_MAX)
        return -1;
    lg_buf_append(buf, data, n);
    return (int)n;
}

char *lg_domain_screenshot(lg_domain *dom, const char *path_stem)
{
    lg_error_clear(); /* a stale message never names a later failure */
    virStreamPtr st = virStreamNew(lg_conn_virt(lg_domain_conn(dom)), 0);
    if (!st) {
        lg_virt_error("screenshot");
        return NULL;
    }
    lg_buf image = LG_BUF_INIT;
    lg_guard *guard = lg_guard_arm(lg_domain_virt(dom), SCREENSHOT_TIMEOUT_MS, LG_GUARD_GRACE_MS, "screenshot");
    char *mime = virDomainScreenshot(lg_domain_virt(dom), st, 0, 0);
    char *path = NULL;
    bool ok = mime && virStreamRecvAll(st, collect, &image) == 0 && virStreamFinish(st) == 0;
    if (!ok)
        lg_virt_error("screenshot");
    if (lg_guard_disarm(guard)) {
        lg_error_set("screenshot: QEMU did not deliver it within %d s", SCREENSHOT_TIMEOUT_MS / 1000);
        ok = false;
    }
    if (!ok) {
        virStreamAbort(st);
    } else {
        /* QEMU 7.1 and later hand libvirt a PNG; older ones a PPM */
        const char *ext = strcmp(mime, "image/png") == 0 ? "png"
                        : strcmp(mime, "image/x-portable-pixmap") == 0 ? "ppm" : "img";
        path = lg_strdup_printf("%s.%s", path_stem, ext);
        if (lg_write_file(path, image.data, image.len) < 0) {
            free(path);
            path = NULL;
        }
    }
    virStreamFree(st);
    LG_DEBUG("screenshot (%s, %zu bytes) -> %s", mime ? mime : "?", image.len, path ? path : "none");
    free(mime);
    lg_buf_free(&image);
    return path;
}

/* The dump to path on the domain's host, under the deadline: 0 or -1 (the
 * error set).  kdump-compressed, memory only: what crash(8) reads, a
 * fraction of RAM. */
static int core_dump(lg_domain *dom, const char *path)
{
    lg_guard *guard = lg_guard_arm(lg_domain_virt(dom), MEMORY_DUMP_TIMEOUT_MS, LG_GUARD_GRACE_MS, "memory dump");
    int rc = virDomainCoreDumpWithFormat(lg_domain_virt(dom), path, VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB,
                                         VIR_DUMP_MEMORY_ONLY);
    if (rc < 0)
        lg_virt_error("memory dump");
    if (lg_guard_disarm(guard)) {
        lg_error_set("memory dump: not finished within %d s; aborted", MEMORY_DUMP_TIMEOUT_MS / 1000);
        rc = -1;
    }
    return rc < 0 ? -1 : 0;
}

int lg_domain_memory_dump(lg_domain *dom, const char *path)
{
    lg_error_clear(); /* a stale message never names a later failure */
    int rc = core_dump(dom, path);
    if (rc < 0) {
        remove(path); /* a partial dump is no evidence */
        return -EIO;
    }
    return 0;
}

/* A remote host's dump: written into its labgate pool, downloaded, deleted */
int lg_domain_memory_dump_pooled(lg_domain *dom, lg_pool *pool, const char *path)
{
    lg_error_clear();
    LG_AUTOFREE char *name = lg_strdup_printf("%s.kdump", lg_domain_name(dom));
    LG_AUTOFREE char *host_path = lg_strdup_printf("%s/%s", lg_pool_target(pool), name);
    int64_t start = lg_now_ms();
    int rc = core_dump(dom, host_path);
    int fetched = -EIO;
    if (rc == 0) {
        int64_t left = MEMORY_DUMP_TIMEOUT_MS - (lg_now_ms() - start);
        fetched = lg_pool_volume_fetch(pool, name, path, MEMORY_DUMP_MAX, left > 60000 ? left : 60000);
    }
    /* whatever arrived, nothing stays on the host */
    LG_AUTOFREE char *err = lg_strdup(lg_error_msg());
    if (lg_pool_volume_delete(pool, name) < 0)
        LG_DEBUG("%s stays on the host: %s", host_path, lg_error_msg());
    lg_error_set("%s", err);
    return rc < 0 ? -EIO : fetched;
}
