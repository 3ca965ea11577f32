#include "overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"

LG_LOG_INIT("virt");

const char *lg_overlay_dir(void)
{
    const char *dir = getenv("LABGATE_STATE_DIR");
    return dir && *dir ? dir : "/var/tmp/labgate";
}

int lg_overlay_create(const char *base, const char *path)
{
    lg_error_clear(); /* a stale message never names a later failure */
    LG_AUTOFREE char *dir = lg_path_dirname(path);
    int rc = lg_mkdir_p(dir, 0755);
    if (rc < 0)
        return rc;
    chmod(dir, 0755);
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, path, NULL };
    LG_AUTOBUF out = LG_BUF_INIT;
    rc = lg_proc_run(argv, lg_deadline_in_ms(60000), &out);
    if (rc != 0) {
        if (rc > 0)
            lg_error_set("qemu-img create %s failed: %s", path, out.data ? out.data : "");
        unlink(path);
        return rc > 0 ? -EIO : rc;
    }
    LG_DEBUG("overlay %s on %s", path, base);
    return 0;
}

int lg_overlay_remove(const char *path)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (unlink(path) < 0 && errno != ENOENT) {
        lg_error_set("cannot remove overlay %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}
