#include "hvlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/uri.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/util.h"

/* The directory libvirt's QEMU driver logs to (its logDir and swtpmLogDir,
 * src/qemu/qemu_conf.c), for qemu:///system and qemu:///session with any
 * local transport; NULL otherwise. */
static char *log_dir(const char *uri, lg_hvlog_kind kind)
{
    xmlURIPtr u = uri ? xmlParseURI(uri) : NULL;
    if (!u)
        return NULL;
    bool local = u->scheme && (strcmp(u->scheme, "qemu") == 0 || strcmp(u->scheme, "qemu+unix") == 0) &&
                 (!u->server || !*u->server) && u->path;
    char *dir = NULL;
    if (local && strcmp(u->path, "/system") == 0) {
        dir = lg_strdup(kind == LG_HVLOG_SWTPM ? "/var/log/swtpm/libvirt/qemu" : "/var/log/libvirt/qemu");
    } else if (local && strcmp(u->path, "/session") == 0) {
        const char *cache = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (cache && *cache)
            dir = lg_strdup_printf("%s/libvirt/qemu/log", cache);
        else if (home && *home)
            dir = lg_strdup_printf("%s/.cache/libvirt/qemu/log", home);
    }
    xmlFreeURI(u);
    return dir;
}

char *lg_hvlog_path(const char *uri, const char *domain, lg_hvlog_kind kind)
{
    LG_AUTOFREE char *dir = log_dir(uri, kind);
    if (!dir)
        return NULL;
    return lg_strdup_printf("%s/%s%s.log", dir, domain, kind == LG_HVLOG_SWTPM ? "-swtpm" : "");
}

/* libvirt's logs of one domain are small (QEMU's command line and a few
 * lines); a larger one is refused and stays where it is */
#define HVLOG_MAX (64u << 20)

static int copy_file(const char *from, const char *to)
{
    char *data = NULL;
    size_t len = 0;
    int rc = lg_read_file(from, HVLOG_MAX, &data, &len);
    if (rc == 0)
        rc = lg_write_file(to, data, len);
    free(data);
    return rc;
}

int lg_hvlog_move(const char *uri, const char *domain, lg_hvlog_kind kind, const char *dest)
{
    lg_error_clear(); /* a stale message never names a later failure */
    LG_AUTOFREE char *path = lg_hvlog_path(uri, domain, kind);
    if (!path || access(path, F_OK) < 0)
        return 0;
    if (rename(path, dest) == 0)
        return 1;
    int rc = errno == EXDEV ? copy_file(path, dest) : -errno;
    if (rc == 0 && unlink(path) < 0)
        rc = -errno;
    if (rc < 0) {
        lg_error_set("cannot move %s to %s: %s", path, dest, strerror(-rc));
        return rc;
    }
    return 1;
}

int lg_hvlog_remove(const char *uri, const char *domain, lg_hvlog_kind kind)
{
    lg_error_clear(); /* a stale message never names a later failure */
    LG_AUTOFREE char *path = lg_hvlog_path(uri, domain, kind);
    if (!path)
        return 0;
    if (unlink(path) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    int err = errno;
    lg_error_set("cannot remove %s: %s", path, strerror(err));
    return -err;
}
