#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "mem.h"

typedef struct walk {
    char *root_real;   /* the root, resolved: what "inside" means */
    lg_tree_plan *plan;
    struct { uint64_t dev, ino; } *seen; /* directories entered */
    size_t n_seen;
} walk;

static lg_tree_entry *add(walk *w, lg_tree_kind kind, const char *rel, const struct stat *st)
{
    lg_tree_plan *p = w->plan;
    p->entries = lg_realloc_n(p->entries, p->n + 1, sizeof(*p->entries));
    lg_tree_entry *e = &p->entries[p->n++];
    *e = (lg_tree_entry){ .kind = kind, .rel = lg_strdup(rel), .mode = (unsigned)(st->st_mode & 07777),
                          .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino };
    return e;
}

static const char *type_name(mode_t mode)
{
    return S_ISFIFO(mode) ? "a fifo" : S_ISSOCK(mode) ? "a socket" : S_ISCHR(mode) ? "a character device"
         : S_ISBLK(mode) ? "a block device" : "of an unknown type";
}

/* inner relative to the tree's root when it is root or below it, else NULL */
static const char *inside(const walk *w, const char *resolved)
{
    size_t n = strlen(w->root_real);
    if (strncmp(resolved, w->root_real, n) != 0)
        return NULL;
    if (resolved[n] == '\0')
        return "";
    if (resolved[n] == '/' || n == 1) /* root "/" ends in its slash */
        return resolved + n + (n == 1 ? 0 : 1);
    return NULL;
}

/* The path from directory from_dir to target, both relative to the root
 * ("" is the root itself): what the link becomes in the guest, so it means
 * the same wherever the tree lands. */
static char *relative_path(const char *from_dir, const char *target)
{
    /* skip the common leading components */
    const char *a = from_dir, *b = target;
    for (;;) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        if (!*a || !*b || la != lb || strncmp(a, b, la) != 0)
            break;
        a += la + (a[la] == '/');
        b += lb + (b[lb] == '/');
    }
    lg_buf out = LG_BUF_INIT;
    while (*a) {
        lg_buf_puts(&out, "../");
        a += strcspn(a, "/");
        a += *a == '/';
    }
    lg_buf_puts(&out, *b ? b : ".");
    if (out.len > 1 && out.data[out.len - 1] == '/')
        out.data[--out.len] = '\0';
    return lg_buf_steal(&out);
}

static int plan_link(walk *w, int dfd, const char *name, const char *rel, const char *dir_rel,
                     const struct stat *st)
{
    char written[PATH_MAX];
    ssize_t n = readlinkat(dfd, name, written, sizeof(written) - 1);
    if (n < 0) {
        int err = errno;
        lg_error_set("cannot read link %s: %s", rel, strerror(err));
        return -err;
    }
    written[n] = '\0';
    LG_AUTOFREE char *full = lg_strdup_printf("%s/%s", w->root_real, rel);
    char resolved[PATH_MAX];
    if (!realpath(full, resolved)) {
        /* a link into nothing cannot be shown to stay inside */
        lg_error_set("link %s points to nothing (%s)", rel, written);
        return -EPERM;
    }
    const char *target = inside(w, resolved);
    if (!target) {
        lg_error_set("link %s points outside the tree (%s)", rel, resolved);
        return -EPERM;
    }
    struct stat tst;
    if (stat(resolved, &tst) == 0 && S_ISDIR(tst.st_mode)) {
        /* a directory at or above the link: every tool that follows links
         * in the guest would walk it forever */
        size_t tl = strlen(target);
        bool ancestor = tl == 0 || (strncmp(dir_rel, target, tl) == 0 && (dir_rel[tl] == '\0' || dir_rel[tl] == '/'));
        if (ancestor) {
            lg_error_set("link %s loops back to its own ancestor %s", rel, *target ? target : ". (the tree's root)");
            return -EPERM;
        }
    }
    lg_tree_entry *e = add(w, LG_TREE_LINK, rel, st);
    e->link_target = relative_path(dir_rel, target);
    w->plan->n_links++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dfd is the open directory rel ("" for the root); closed here. */
static int walk_dir(walk *w, int dfd, const char *rel)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        int err = errno;
        close(dfd);
        lg_error_set("cannot read directory %s: %s", *rel ? rel : ".", strerror(err));
        return -err;
    }
    /* sorted: the same tree gives the same plan */
    char **names = NULL;
    size_t n_names = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names = lg_realloc_n(names, n_names + 1, sizeof(*names));
        names[n_names++] = lg_strdup(de->d_name);
    }
    if (n_names)
        qsort(names, n_names, sizeof(*names), compare_names);
    int rc = 0;
    for (size_t i = 0; i < n_names && rc == 0; i++) {
        LG_AUTOFREE char *child = *rel ? lg_strdup_printf("%s/%s", rel, names[i]) : lg_strdup(names[i]);
        struct stat st;
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = -errno;
            lg_error_set("cannot stat %s: %s", child, strerror(-rc));
        } else if (S_ISREG(st.st_mode)) {
            add(w, LG_TREE_FILE, child, &st);
        } else if (S_ISLNK(st.st_mode)) {
            rc = plan_link(w, dirfd(d), names[i], child, rel, &st);
        } else if (S_ISDIR(st.st_mode)) {
            for (size_t k = 0; k < w->n_seen && rc == 0; k++)
                if (w->seen[k].dev == (uint64_t)st.st_dev && w->seen[k].ino == (uint64_t)st.st_ino) {
                    lg_error_set("directory %s is reached twice (a loop, e.g. a bind mount of a directory above it)",
                                 child);
                    rc = -EPERM;
                }
            if (rc < 0)
                break;
            w->seen = lg_realloc_n(w->seen, w->n_seen + 1, sizeof(*w->seen));
            w->seen[w->n_seen].dev = (uint64_t)st.st_dev;
            w->seen[w->n_seen++].ino = (uint64_t)st.st_ino;
            add(w, LG_TREE_DIR, child, &st);
            int cfd = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) {
                rc = -errno;
                lg_error_set("cannot open directory %s: %s", child, strerror(-rc));
            } else {
                rc = walk_dir(w, cfd, child);
            }
        } else {
            lg_error_set("%s is %s: only regular files, directories and links inside the tree are uploaded", child,
                         type_name(st.st_mode));
            rc = -EPERM;
        }
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int lg_tree_plan_make(const char *root, lg_tree_plan **out)
{
    char real[PATH_MAX];
    if (!realpath(root, real)) {
        int err = errno;
        lg_error_set("cannot read directory %s: %s", root, strerror(err));
        return -err;
    }
    int fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        lg_error_set("cannot read directory %s: %s", root, strerror(err));
        return -err;
    }
    walk w = { .root_real = real, .plan = LG_NEW0(lg_tree_plan) };
    w.seen = lg_malloc0(sizeof(*w.seen));
    w.seen[0].dev = (uint64_t)st.st_dev;
    w.seen[0].ino = (uint64_t)st.st_ino;
    w.n_seen = 1;
    int rc = walk_dir(&w, fd, "");
    free(w.seen);
    if (rc < 0) {
        lg_tree_plan_free(w.plan);
        return rc;
    }
    *out = w.plan;
    return 0;
}

void lg_tree_plan_free(lg_tree_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->entries[i].rel);
        free(plan->entries[i].link_target);
    }
    free(plan->entries);
    free(plan);
}
