#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

/* FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void lg_sha256_init(lg_sha256 *ctx)
{
    static const uint32_t H0[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(ctx->state, H0, sizeof(H0));
    ctx->total_len = 0;
    ctx->used = 0;
}

void lg_sha256_update(lg_sha256 *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    ctx->total_len += len;
    if (ctx->used) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used < 64)
            return;
        compress(ctx->state, ctx->block);
        ctx->used = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        compress(ctx->state, p);
    memcpy(ctx->block, p, len);
    ctx->used = len;
}

void lg_sha256_final(lg_sha256 *ctx, uint8_t digest[LG_SHA256_LEN])
{
    uint64_t bits = ctx->total_len * 8;
    /* 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, the length in bits (big-endian) */
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        compress(ctx->state, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (int i = 0; i < 8; i++)
        ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->state, ctx->block);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)ctx->state[i];
    }
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
    lg_sha256 ctx;
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256_init(&ctx);
    lg_sha256_update(&ctx, data, len);
    lg_sha256_final(&ctx, digest);
    lg_sha256_to_hex(digest, hex);
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
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            lg_error_set("cannot read %s: %s", path, strerror(err));
            return -err;
        }
        lg_sha256_update(&ctx, buf, (size_t)n);
    }
    uint8_t digest[LG_SHA256_LEN];
    uint64_t hashed = ctx.total_len;
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
