#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

void lg_sha256_init(lg_sha256 *ctx)
{
    ctx->checksum = g_checksum_new(G_CHECKSUM_SHA256);
}

void lg_sha256_update(lg_sha256 *ctx, const void *data, size_t len)
{
    /* g_checksum_update takes a gssize */
    for (const uint8_t *p = data; len; ) {
        size_t n = len < G_MAXSSIZE ? len : G_MAXSSIZE;
        g_checksum_update(ctx->checksum, p, (gssize)n);
        p += n;
        len -= n;
    }
}

void lg_sha256_final(lg_sha256 *ctx, uint8_t digest[LG_SHA256_LEN])
{
    gsize len = LG_SHA256_LEN;
    g_checksum_get_digest(ctx->checksum, digest, &len);
    g_checksum_free(ctx->checksum);
    ctx->checksum = NULL;
}

void lg_sha256_clear(lg_sha256 *ctx)
{
    g_clear_pointer(&ctx->checksum, g_checksum_free);
}

void lg_sha256_to_hex(const uint8_t digest[LG_SHA256_LEN], char hex[LG_SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < LG_SHA256_LEN; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    hex[LG_SHA256_HEX_LEN] = '\0';
}

void lg_sha256_hex(const void *data, size_t len, char hex[LG_SHA256_HEX_LEN + 1])
{
    g_autofree char *s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
    memcpy(hex, s, LG_SHA256_HEX_LEN + 1);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

int lg_sha256_file_sized(const char *path, char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size)
{
    __attribute__((cleanup(close_fd))) int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot open %s: %s", path, strerror(err));
        return -err;
    }
    /* large reads: a disk image is gigabytes, and syscalls are not free */
    enum { CHUNK = 1 << 20 };
    LG_AUTOFREE uint8_t *buf = lg_malloc0(CHUNK);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    lg_sha256 ctx;
    lg_sha256_init(&ctx);
    uint64_t hashed = 0;
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            lg_error_set("cannot read %s: %s", path, strerror(err));
            lg_sha256_clear(&ctx);
            return -err;
        }
        lg_sha256_update(&ctx, buf, (size_t)n);
        hashed += (uint64_t)n;
    }
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256_final(&ctx, digest);
    lg_sha256_to_hex(digest, hex);
    if (size)
        *size = hashed;
    return 0;
}

int lg_sha256_file(const char *path, char hex[LG_SHA256_HEX_LEN + 1])
{
    return lg_sha256_file_sized(path, hex, NULL);
}

/* ---------------------------------------------------------------- trees */

typedef struct walk_entry {
    char *rel;
    char *abs;
    struct stat st;
} walk_entry;

typedef struct walk {
    walk_entry *entries;
    size_t n, cap;
    /* the directories being walked, outermost first: a link back to one is a cycle */
    struct { dev_t dev; ino_t ino; } ancestors[64];
    size_t depth;
} walk;

static void walk_add(walk *w, char *rel, char *abs, const struct stat *st)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->entries = lg_realloc_n(w->entries, w->cap, sizeof(*w->entries));
    }
    w->entries[w->n++] = (walk_entry){ .rel = rel, .abs = abs, .st = *st };
}

static int walk_dir(walk *w, const char *abs_dir, const char *rel_dir, const struct stat *dir_st)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->ancestors[i].dev == dir_st->st_dev && w->ancestors[i].ino == dir_st->st_ino) {
            lg_error_set("%s: symbolic links form a cycle", abs_dir);
            return -ELOOP;
        }
    if (w->depth == LG_N_ELEMENTS(w->ancestors)) {
        lg_error_set("%s: directories nested deeper than %zu levels", abs_dir, LG_N_ELEMENTS(w->ancestors));
        return -ELOOP;
    }
    DIR *d = opendir(abs_dir);
    if (!d) {
        int err = errno;
        lg_error_set("cannot read directory %s: %s", abs_dir, strerror(err));
        return -err;
    }
    w->ancestors[w->depth].dev = dir_st->st_dev;
    w->ancestors[w->depth].ino = dir_st->st_ino;
    w->depth++;
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *abs = lg_strdup_printf("%s/%s", abs_dir, e->d_name);
        char *rel = *rel_dir ? lg_strdup_printf("%s/%s", rel_dir, e->d_name) : lg_strdup(e->d_name);
        struct stat st;
        if (stat(abs, &st) < 0) {
            /* a dangling link (or a loop of links) is never uploaded */
            struct stat lst;
            int err = errno;
            if (lstat(abs, &lst) == 0 && S_ISLNK(lst.st_mode) && (err == ENOENT || err == ELOOP)) {
                rc = 0;
            } else {
                lg_error_set("cannot stat %s: %s", abs, strerror(err));
                rc = -err;
            }
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, abs, rel, &st);
        } else if (S_ISREG(st.st_mode)) {
            walk_add(w, rel, abs, &st);
            rel = abs = NULL; /* owned by the entry now */
        }
        free(abs);
        free(rel);
        errno = 0;
    }
    if (rc == 0 && errno) {
        int err = errno;
        lg_error_set("cannot read directory %s: %s", abs_dir, strerror(err));
        rc = -err;
    }
    closedir(d);
    w->depth--;
    return rc;
}

static int by_rel_path(const void *a, const void *b)
{
    return strcmp(((const walk_entry *)a)->rel, ((const walk_entry *)b)->rel);
}

char *lg_tree_manifest_line(const lg_tree_file *file)
{
    bool escape = strpbrk(file->path, "\\\n\r") != NULL;
    LG_AUTOBUF line = LG_BUF_INIT;
    lg_buf_printf(&line, "%s%s  ", escape ? "\\" : "", file->sha256);
    for (const char *p = file->path; *p; p++) {
        switch (*p) {
        case '\\':
            if (escape)
                lg_buf_puts(&line, "\\\\");
            break;
        case '\n': lg_buf_puts(&line, "\\n"); break;
        case '\r': lg_buf_puts(&line, "\\r"); break;
        default: lg_buf_append(&line, p, 1); break;
        }
    }
    lg_buf_puts(&line, "\n");
    return lg_buf_steal(&line);
}

static int hash_plain(void *opaque, const char *abs_path, const struct stat *st,
                      char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size)
{
    (void)opaque;
    (void)st;
    return lg_sha256_file_sized(abs_path, hex, size);
}

void lg_tree_free(lg_tree *tree)
{
    if (!tree)
        return;
    for (size_t i = 0; i < tree->n_files; i++)
        free(tree->files[i].path);
    free(tree->files);
    free(tree);
}

int lg_sha256_tree(const char *dir, lg_tree_hasher hasher, void *opaque, lg_tree **out)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        int err = errno;
        lg_error_set("cannot read %s: %s", dir, strerror(err));
        return -err;
    }
    if (!S_ISDIR(st.st_mode)) {
        lg_error_set("%s is not a directory", dir);
        return -ENOTDIR;
    }
    if (!hasher)
        hasher = hash_plain;
    /* a trailing slash would double in every path below */
    LG_AUTOFREE char *root = lg_strdup(dir);
    for (size_t len = strlen(root); len > 1 && root[len - 1] == '/'; len--)
        root[len - 1] = '\0';

    walk w = { 0 };
    int rc = walk_dir(&w, root, "", &st);
    LG_AUTO(lg_tree) tree = NULL;
    if (rc == 0) {
        tree = LG_NEW0(lg_tree);
        if (w.n)
            tree->files = lg_calloc(w.n, sizeof(*tree->files));
    }
    if (rc == 0) {
        if (w.n) /* qsort may not be handed NULL, even for nothing */
            qsort(w.entries, w.n, sizeof(*w.entries), by_rel_path);
        lg_sha256 manifest;
        lg_sha256_init(&manifest);
        for (size_t i = 0; rc == 0 && i < w.n; i++) {
            lg_tree_file *f = &tree->files[i];
            rc = hasher(opaque, w.entries[i].abs, &w.entries[i].st, f->sha256, &f->size);
            if (rc < 0)
                break;
            f->path = LG_STEAL(w.entries[i].rel);
            tree->n_files++;
            tree->total_size += f->size;
            LG_AUTOFREE char *line = lg_tree_manifest_line(f);
            lg_sha256_update(&manifest, line, strlen(line));
        }
        if (rc == 0) {
            uint8_t digest[LG_SHA256_LEN];
            lg_sha256_final(&manifest, digest);
            lg_sha256_to_hex(digest, tree->sha256);
        }
        lg_sha256_clear(&manifest);
    }
    for (size_t i = 0; i < w.n; i++) {
        free(w.entries[i].rel);
        free(w.entries[i].abs);
    }
    free(w.entries);
    if (rc < 0)
        return rc;
    *out = LG_STEAL(tree);
    return 0;
}
