#include "copytree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "error.h"
#include "mem.h"
#include "util.h"

/* a results tree is jobs/ID/attempt-N/files/...: a few levels */
#define MAX_DEPTH 16

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st, const char *where)
{
    int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        int err = errno;
        lg_error_set("cannot open %s/%s: %s", where, name, strerror(err));
        return -err;
    }
    int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 0777);
    if (out < 0) {
        int err = errno;
        close(in);
        lg_error_set("cannot create %s in the output: %s", name, strerror(err));
        return -err;
    }
    char buf[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                break;
            }
            done += w;
        }
        if (rc < 0)
            break;
    }
    if (rc < 0)
        lg_error_set("cannot copy %s/%s: %s", where, name, strerror(-rc));
    close(in);
    if (close(out) < 0 && rc == 0) {
        rc = -errno;
        lg_error_set("cannot write %s in the output: %s", name, strerror(-rc));
    }
    return rc;
}

static int copy_dir(int src_dir, int dst_dir, const char *where, int depth, lg_copy_stats *stats)
{
    if (depth > MAX_DEPTH) {
        lg_error_set("%s: deeper than %d directories", where, MAX_DEPTH);
        return -ELOOP;
    }
    int list_fd = dup(src_dir);
    DIR *dir = list_fd >= 0 ? fdopendir(list_fd) : NULL;
    if (!dir) {
        int err = errno;
        if (list_fd >= 0)
            close(list_fd);
        lg_error_set("cannot read %s: %s", where, strerror(err));
        return -err;
    }
    int rc = 0;
    for (struct dirent *d; rc == 0 && (d = readdir(dir));) {
        const char *name = d->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = -errno;
            lg_error_set("cannot stat %s/%s: %s", where, name, strerror(-rc));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(dst_dir, name, 0755) < 0 && errno != EEXIST) {
                rc = -errno;
                lg_error_set("cannot create %s in the output: %s", name, strerror(-rc));
                break;
            }
            int sub_src = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int sub_dst = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_src < 0 || sub_dst < 0) {
                rc = -errno;
                lg_error_set("cannot open %s/%s: %s", where, name, strerror(-rc));
            } else {
                LG_AUTOFREE char *sub_where = lg_strdup_printf("%s/%s", where, name);
                rc = copy_dir(sub_src, sub_dst, sub_where, depth + 1, stats);
            }
            if (sub_src >= 0)
                close(sub_src);
            if (sub_dst >= 0)
                close(sub_dst);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            stats->skipped++;
            continue;
        }
        if (linkat(src_dir, name, dst_dir, name, 0) == 0) {
            stats->files++;
            stats->linked++;
            continue;
        }
        /* another file system, or hard links refused (protected_hardlinks) */
        rc = copy_file(src_dir, dst_dir, name, &st, where);
        if (rc == 0)
            stats->files++;
    }
    closedir(dir);
    return rc;
}

int lg_copy_tree(const char *src, const char *dst, lg_copy_stats *stats)
{
    int rc = lg_mkdir_p(dst, 0755);
    if (rc < 0)
        return rc;
    int src_fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src_fd < 0) {
        rc = -errno;
        lg_error_set("cannot open %s: %s", src, strerror(-rc));
        return rc;
    }
    int dst_fd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst_fd < 0) {
        rc = -errno;
        close(src_fd);
        lg_error_set("cannot open %s: %s", dst, strerror(-rc));
        return rc;
    }
    rc = copy_dir(src_fd, dst_fd, src, 0, stats);
    close(src_fd);
    close(dst_fd);
    return rc;
}
