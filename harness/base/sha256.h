/* SHA-256 (FIPS 180-4) and the tree digest of a directory: what run.xml
 * records about a run's inputs, so that a release can be matched to the
 * exact files a run tested.  The hashing itself is GLib's GChecksum. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cleanup.h"

#define LG_SHA256_LEN 32
#define LG_SHA256_HEX_LEN 64

struct _GChecksum;
typedef struct lg_sha256 {
    struct _GChecksum *checksum;
} lg_sha256;

/* init allocates; final or clear frees. */
void lg_sha256_init(lg_sha256 *ctx);
void lg_sha256_update(lg_sha256 *ctx, const void *data, size_t len);
/* Writes the digest and frees ctx's state; ctx must be initialised again
 * before reuse. */
void lg_sha256_final(lg_sha256 *ctx, uint8_t digest[LG_SHA256_LEN]);
/* Frees ctx's state without a digest (a hash given up); harmless after
 * final. */
void lg_sha256_clear(lg_sha256 *ctx);
/* Lower-case hex, NUL-terminated. */
void lg_sha256_to_hex(const uint8_t digest[LG_SHA256_LEN], char hex[LG_SHA256_HEX_LEN + 1]);
void lg_sha256_hex(const void *data, size_t len, char hex[LG_SHA256_HEX_LEN + 1]);

/* The digest of a file's contents, read in chunks (images are GBs). */
int lg_sha256_file(const char *path, char hex[LG_SHA256_HEX_LEN + 1]);
/* The same, with the number of bytes hashed (the size the digest is of, even
 * when the file grows meanwhile). */
int lg_sha256_file_sized(const char *path, char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size);

/* ---------------------------------------------------------------- trees
 *
 * The tree digest of a directory DIR covers exactly what labgate uploads
 * into a guest from it (guest/transport.c), which is what a guest ran:
 *
 *  - files: every regular file below DIR, at any depth.  Symbolic links are
 *    followed (the upload reads through them): a link to a file counts as a
 *    file with the link's path and the target's contents; a link to a
 *    directory is descended into.  A cycle of links, or directories nested
 *    more than 64 deep, is an error (-ELOOP).
 *  - skipped, because they never reach a guest: dangling links, FIFOs,
 *    sockets, device nodes, and directories as such (an empty directory adds
 *    nothing).  File modes, owners and times are not covered.
 *  - each file's relative path: its components below DIR joined with '/',
 *    no leading "./".
 *  - the manifest: one line per file, in ascending byte order of the
 *    relative path (strcmp, i.e. LC_ALL=C sort), each line
 *        HEX "  " PATH "\n"
 *    where HEX is the lower-case SHA-256 of the file's contents.  When PATH
 *    contains a backslash, newline or carriage return, the line starts
 *    with "\" and those characters are written as "\\", "\n", "\r".
 *    This is byte for byte what GNU sha256sum (coreutils 9) prints.
 *  - the tree digest: the lower-case SHA-256 of the manifest.  An empty
 *    directory's is the SHA-256 of nothing (e3b0c442...).
 *
 * So, from a shell, with GNU tools:
 *   (cd DIR && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z |
 *    xargs -0 -r sha256sum --) | sha256sum
 */

typedef struct lg_tree_file {
    char *path;    /* relative to the directory */
    uint64_t size; /* bytes the digest covers */
    char sha256[LG_SHA256_HEX_LEN + 1];
} lg_tree_file;

typedef struct lg_tree {
    char sha256[LG_SHA256_HEX_LEN + 1]; /* the tree digest */
    lg_tree_file *files;                /* in manifest order */
    size_t n_files;
    uint64_t total_size;
} lg_tree;

/* Hashes one file of a tree: abs_path is DIR joined with the relative path,
 * st what stat() said of it during the walk.  Lets a caller hash each
 * distinct file once (a cache keyed by st_dev, st_ino and times). */
typedef int (*lg_tree_hasher)(void *opaque, const char *abs_path, const struct stat *st,
                              char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size);

/* Walks dir and digests it as defined above; hasher NULL hashes every file
 * with lg_sha256_file_sized().  -ENOTDIR when dir is not a directory; the
 * errno of the first file or directory that cannot be read otherwise (with
 * lg_error_set naming it). */
int lg_sha256_tree(const char *dir, lg_tree_hasher hasher, void *opaque, lg_tree **out);
void lg_tree_free(lg_tree *tree);

/* The manifest line of one file, as hashed into the tree digest (exposed for
 * tests and tools that print manifests).  Never NULL. */
char *lg_tree_manifest_line(const lg_tree_file *file);

LG_DEFINE_AUTOPTR(lg_tree, lg_tree_free)
