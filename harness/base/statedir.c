#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "error.h"
#include "mem.h"
#include "util.h"

char *lg_state_dir(void)
{
    const char *env = getenv("LABGATE_STATE_DIR");
    if (env && *env)
        return lg_strdup(env);
    if (geteuid() == 0)
        return lg_strdup("/var/lib/labgate");
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/') /* the spec: a relative value is invalid, ignore it */
        return lg_strdup_printf("%s/labgate", xdg);
    const char *home = getenv("HOME");
    return lg_strdup_printf("%s/.local/state/labgate", home && *home ? home : "");
}

/* Every directory from / down to real (resolved, so no symlinks) must be one
 * that only root or we could change: otherwise its owner could rename the
 * state directory away and put a symlink in its place. */
static int check_ancestors(const char *dir, const char *real)
{
    LG_AUTOFREE char *prefix = lg_strdup(real);
    uid_t me = geteuid();
    size_t len = strlen(real);
    for (size_t i = 0; i <= len; i++) {
        if (i > 0 && real[i] != '/' && real[i] != '\0')
            continue;
        prefix[i == 0 ? 1 : i] = '\0'; /* "/" first, then each deeper one */
        struct stat st;
        if (lstat(prefix, &st) < 0) {
            int err = errno;
            lg_error_set("state directory %s: cannot check %s: %s", dir, prefix, strerror(err));
            return -err;
        }
        bool others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX);
        if ((st.st_uid != 0 && st.st_uid != me) || others_write) {
            lg_error_set("state directory %s is not safe: %s above it is %s (set LABGATE_STATE_DIR to a "
                         "directory only you can change)", dir, prefix,
                         others_write ? "writable by others" : "owned by another user");
            return -EPERM;
        }
        memcpy(prefix, real, len + 1);
        if (len == 1)
            break; /* real is "/" */
    }
    return 0;
}

int lg_state_dir_check(const char *dir)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (!dir || !*dir) {
        lg_error_set("no state directory (set LABGATE_STATE_DIR or HOME)");
        return -ENOENT;
    }
    struct stat st;
    if (lstat(dir, &st) < 0 && errno == ENOENT) {
        LG_AUTOFREE char *parent = lg_path_dirname(dir);
        int rc = lg_mkdir_p(parent, 0755);
        if (rc < 0)
            return rc;
        if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
            int err = errno;
            lg_error_set("cannot create state directory %s: %s", dir, strerror(err));
            return -err;
        }
        /* whatever the umask: QEMU's user must be able to search it */
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            struct stat made;
            if (fstat(fd, &made) == 0 && made.st_uid == geteuid())
                fchmod(fd, 0711);
            close(fd);
        }
    }
    if (lstat(dir, &st) < 0) {
        int err = errno;
        lg_error_set("state directory %s: %s", dir, strerror(err));
        return -err;
    }
    if (S_ISLNK(st.st_mode)) {
        lg_error_set("state directory %s is a symbolic link; refusing it (use the directory itself)", dir);
        return -ENOTDIR;
    }
    if (!S_ISDIR(st.st_mode)) {
        lg_error_set("state directory %s is not a directory", dir);
        return -ENOTDIR;
    }
    if (st.st_uid != geteuid()) {
        lg_error_set("state directory %s is owned by uid %u, not by uid %u that runs labgate; refusing it",
                     dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return -EPERM;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        lg_error_set("state directory %s is writable by %s (mode %04o); refusing it (chmod 0711 it)", dir,
                     st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        int err = errno;
        lg_error_set("state directory %s: %s", dir, strerror(err));
        return -err;
    }
    LG_AUTOFREE char *parent = lg_path_dirname(real);
    return check_ancestors(dir, parent);
}

int lg_state_file_create(const char *path, unsigned mode)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot create %s: %s", path,
                     err == EEXIST ? "something of that name is already there" : strerror(err));
        return -err;
    }
    fchmod(fd, (mode_t)mode); /* exactly mode, whatever the umask */
    return fd;
}
