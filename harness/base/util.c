#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <glib.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

uint64_t lg_hash64(const void *data, size_t len, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t lg_hash64_str(const char *s, uint64_t seed)
{
    return lg_hash64(s, strlen(s), seed);
}

int lg_parse_int(const char *s, int *out)
{
    if (!s)
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno == ERANGE || v < INT_MIN || v > INT_MAX)
        return -EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

size_t lg_next_word(const char **cursor, const char **word)
{
    const char *p = *cursor;
    while (isspace((unsigned char)*p))
        p++;
    const char *start = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    *word = start;
    *cursor = p;
    return (size_t)(p - start);
}

int lg_mkdir_p(const char *path, unsigned mode)
{
    if (!*path) {
        lg_error_set("cannot create a directory with an empty name");
        return -ENOENT;
    }
    /* each component: made, or already a directory (ENOTDIR when a file is in the way) */
    if (g_mkdir_with_parents(path, (int)mode) < 0) {
        int err = errno;
        lg_error_set("cannot create directory %s: %s", path, strerror(err));
        return -err;
    }
    return 0;
}

FILE *lg_fopen_write_nofollow(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd);
        errno = err;
    }
    return f;
}

int lg_read_file(const char *path, size_t max_len, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        lg_error_set("cannot open %s: %s", path, strerror(err));
        return -err;
    }
    lg_buf buf = LG_BUF_INIT;
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf.len + n > max_len) {
            lg_error_set("%s is larger than %zu bytes", path, max_len);
            rc = -EFBIG;
            break;
        }
        lg_buf_append(&buf, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        lg_error_set("cannot read %s", path);
        rc = -EIO;
    }
    fclose(f);
    if (rc < 0) {
        lg_buf_free(&buf);
        return rc;
    }
    if (out_len)
        *out_len = buf.len;
    *out = lg_buf_steal(&buf);
    return 0;
}

static int file_error_to_errno(const GError *err)
{
    if (err->domain != G_FILE_ERROR)
        return EIO;
    switch (err->code) {
    case G_FILE_ERROR_NOENT: return ENOENT;
    case G_FILE_ERROR_ACCES: return EACCES;
    case G_FILE_ERROR_PERM: return EPERM;
    case G_FILE_ERROR_NOSPC: return ENOSPC;
    case G_FILE_ERROR_NOTDIR: return ENOTDIR;
    case G_FILE_ERROR_ISDIR: return EISDIR;
    case G_FILE_ERROR_ROFS: return EROFS;
    case G_FILE_ERROR_LOOP: return ELOOP;
    case G_FILE_ERROR_NAMETOOLONG: return ENAMETOOLONG;
    default: return EIO;
    }
}

static int write_file(const char *path, const char *data, size_t len, bool durable)
{
    /* GLib's atomic write: a private temporary name opened O_CREAT|O_EXCL
     * (nobody can plant a symlink at it), renamed over path, which replaces
     * whatever path is, link or not, without following it.  Durable: the
     * data is fsync'd before the rename, so a power loss leaves the old
     * file or the whole new one */
    g_autoptr(GError) err = NULL;
    GFileSetContentsFlags flags = G_FILE_SET_CONTENTS_CONSISTENT | (durable ? G_FILE_SET_CONTENTS_DURABLE : 0);
    if (!g_file_set_contents_full(path, data, (gssize)len, flags, 0644, &err)) {
        lg_error_set("cannot write %s: %s", path, err->message);
        return -file_error_to_errno(err);
    }
    if (durable) {
        /* and the rename itself survives (GLib syncs the file, not its
         * directory) */
        LG_AUTOFREE char *dir = lg_path_dirname(path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = dfd < 0 || fsync(dfd) < 0 ? -errno : 0;
        if (dfd >= 0)
            close(dfd);
        if (rc < 0) {
            lg_error_set("cannot sync directory %s: %s", dir, strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int lg_write_file(const char *path, const char *data, size_t len)
{
    return write_file(path, data, len, false);
}

int lg_write_file_durable(const char *path, const char *data, size_t len)
{
    return write_file(path, data, len, true);
}

int lg_open_dir_nofollow(const char *path)
{
    if (path[0] != '/') {
        lg_error_set("%s is not an absolute path", path);
        return -EINVAL;
    }
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    LG_AUTOFREE char *copy = lg_strdup(path);
    char *save = NULL;
    for (char *name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        close(fd);
        if (next < 0) {
            lg_error_set("cannot open %s without following a symlink (at %s): %s", path, name,
                         strerror(err == ELOOP ? ENOTDIR : err));
            return -(err == ELOOP ? ENOTDIR : err);
        }
        fd = next;
    }
    return fd;
}

bool lg_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool lg_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *lg_path_join(const char *base_dir, const char *rel)
{
    if (rel[0] == '/' || !base_dir || !*base_dir)
        return lg_strdup(rel);
    /* "dir/" + "x" is "dir/x", and "/" + "x" is "/x" (not "//x", which
     * POSIX leaves implementation-defined) */
    size_t len = strlen(base_dir);
    while (len > 1 && base_dir[len - 1] == '/')
        len--;
    return lg_strdup_printf("%.*s%s%s", (int)len, base_dir, base_dir[len - 1] == '/' ? "" : "/", rel);
}

char *lg_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return lg_strdup(".");
    if (slash == path)
        return lg_strdup("/");
    return lg_strndup(path, (size_t)(slash - path));
}

bool lg_path_world_readable(const char *path, char **blocking_dir)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return false;
    struct stat st;
    if (stat(real, &st) < 0 || !(st.st_mode & S_IROTH)) {
        if (blocking_dir)
            *blocking_dir = lg_strdup(real);
        return false;
    }
    for (char *slash = strrchr(real, '/'); slash && slash != real; slash = strrchr(real, '/')) {
        *slash = '\0';
        if (stat(real, &st) < 0 || !(st.st_mode & S_IXOTH)) {
            if (blocking_dir)
                *blocking_dir = lg_strdup(real);
            return false;
        }
    }
    return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

int lg_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

static uint64_t room_of(const struct statvfs *vfs)
{
    uint64_t avail = (uint64_t)vfs->f_bavail * (uint64_t)vfs->f_frsize;
    return avail > LG_FS_RESERVE_BYTES ? avail - LG_FS_RESERVE_BYTES : 0;
}

int lg_fs_room(const char *path, uint64_t *room)
{
    struct statvfs vfs;
    if (statvfs(path, &vfs) < 0)
        return -errno;
    *room = room_of(&vfs);
    return 0;
}

int lg_fs_room_fd(int fd, uint64_t *room)
{
    struct statvfs vfs;
    if (fstatvfs(fd, &vfs) < 0)
        return -errno;
    *room = room_of(&vfs);
    return 0;
}
