/* What uploading a local directory tree means, decided before a byte leaves
 * the host: the walk that turns a build or content directory into a list of
 * actions (make a directory, copy a file, recreate a link), refusing what a
 * candidate's input must not smuggle into a guest or out of the host.
 *
 * Rules: regular files and directories are sent; a symbolic link is kept as
 * a link when what it resolves to stays inside the tree, and refused when it
 * leaves the tree, points to nothing, or loops back to a directory above
 * it; fifos, sockets and devices are refused; a directory reached twice
 * (same device and inode: a bind mount) is a loop and refused.  Nothing is
 * followed to decide a type (lstat semantics), so a link never makes the
 * walk leave the tree.  Pure: no guest involved, so tests walk temp trees. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LG_TREE_DIR,
    LG_TREE_FILE,
    LG_TREE_LINK,
} lg_tree_kind;

typedef struct lg_tree_entry {
    lg_tree_kind kind;
    char *rel;          /* '/'-separated, relative to the root; parents come first */
    unsigned mode;      /* permission bits (directory, file) */
    uint64_t dev, ino;  /* a file's identity at walk time: checked again when it is opened */
    char *link_target;  /* link: relative to the link's directory, never leaving the tree */
} lg_tree_entry;

typedef struct lg_tree_plan {
    lg_tree_entry *entries;
    size_t n;
    size_t n_links;
} lg_tree_plan;

/* Walks root.  0 and *out; -EPERM with the message set (lg_error) naming
 * the refused entry and why ("link bin/y points outside the tree
 * (/etc/shadow)"); another -errno when root cannot be read. */
int lg_tree_plan_make(const char *root, lg_tree_plan **out);
void lg_tree_plan_free(lg_tree_plan *plan);

#include "cleanup.h"
LG_DEFINE_AUTOPTR(lg_tree_plan, lg_tree_plan_free)
