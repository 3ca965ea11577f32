#include "overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/statedir.h"
#include "base/util.h"

LG_LOG_INIT("virt");

int lg_overlay_create(const char *base, const char *path)
{
    lg_error_clear(); /* a stale message never names a later failure */
    LG_AUTOFREE char *dir = lg_path_dirname(path);
    int rc = lg_state_dir_check(dir);
    if (rc < 0)
        return rc;
    /* ours alone (0600, root's under qemu:///system) before qemu-img writes
     * it, at a name that did not exist: libvirt's DAC driver hands it to
     * QEMU's user while the domain runs and back afterwards */
    int fd = lg_state_file_create(path, 0600);
    if (fd < 0)
        return fd;
    close(fd);
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

int lg_overlay_check_leftover(const char *path, const char *run_id)
{
    lg_error_clear(); /* a stale message never names a later failure */
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    LG_AUTOFREE char *prefix = lg_strdup_printf("labgate-%s-", run_id ? run_id : "");
    size_t len = strlen(name), plen = strlen(prefix), slen = strlen(".qcow2");
    if (!run_id || !*run_id || path[0] != '/' || len <= plen + slen || strncmp(name, prefix, plen) != 0 ||
        strcmp(name + len - slen, ".qcow2") != 0) {
        lg_error_set("%s is not an overlay name of run %s (labgate-%s-JOB.qcow2); not removing it", path,
                     run_id ? run_id : "?", run_id ? run_id : "?");
        return -EPERM;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        int err = errno;
        if (err == ENOENT)
            return -ENOENT;
        lg_error_set("overlay %s: %s", path, strerror(err));
        return -err;
    }
    /* (its owner says nothing: while the domain runs, libvirt has handed it
     * to QEMU's user; the directory check says who could have put it there) */
    if (!S_ISREG(st.st_mode)) {
        lg_error_set("overlay %s is not a regular file (a link?); not removing it", path);
        return -EPERM;
    }
    LG_AUTOFREE char *dir = lg_path_dirname(path);
    return lg_state_dir_check(dir);
}
