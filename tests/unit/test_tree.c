/* The upload walk (base/tree.h) on temp trees: what a guest would receive,
 * and every refusal with the words a user sees. */
#include "lg_test.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/tree.h"

static char *tree_new(void)
{
    char *dir = lg_strdup("/tmp/lg-tree-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void tree_free(char *dir)
{
    LG_AUTOFREE char *cmd = lg_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void sh(const char *dir, const char *script)
{
    LG_AUTOFREE char *cmd = lg_strdup_printf("cd '%s' && %s", dir, script);
    assert_int_equal(system(cmd), 0);
}

static const lg_tree_entry *find(const lg_tree_plan *p, const char *rel)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->entries[i].rel, rel) == 0)
            return &p->entries[i];
    fail_msg("%s not in the plan", rel);
    return NULL;
}

static void assert_refused(const char *dir, const char *message)
{
    lg_tree_plan *plan = NULL;
    int rc = lg_tree_plan_make(dir, &plan);
    if (rc != -EPERM || !strstr(lg_error_msg(), message))
        fail_msg("got %d '%s'; want -EPERM with '%s'", rc, lg_error_msg(), message);
    assert_null(plan);
}

/* Files and directories, parents first; links inside the tree stay links,
 * rewritten relative to their own directory. */
static void test_inside_links_kept(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "mkdir -p bin lib/sub && echo x > lib/libx.so.1 && chmod 750 lib/libx.so.1 && echo y > bin/tool && "
            "ln -s ../lib/libx.so.1 bin/libx.so && ln -s \"$PWD/lib/sub\" bin/sub && ln -s libx.so.1 lib/libx.so && "
            "ln -s bin/libx.so top");
    LG_AUTO(lg_tree_plan) plan = NULL;
    assert_int_equal(lg_tree_plan_make(dir, &plan), 0);
    assert_int_equal(plan->n, 9);
    assert_int_equal(plan->n_links, 4);
    assert_string_equal(plan->entries[0].rel, "bin");
    assert_int_equal(plan->entries[0].kind, LG_TREE_DIR);
    assert_string_equal(plan->entries[1].rel, "bin/libx.so");
    const lg_tree_entry *e = find(plan, "lib/libx.so.1");
    assert_int_equal(e->kind, LG_TREE_FILE);
    assert_int_equal(e->mode, 0750);
    e = find(plan, "bin/libx.so");
    assert_int_equal(e->kind, LG_TREE_LINK);
    assert_string_equal(e->link_target, "../lib/libx.so.1");
    /* an absolute host path into the tree means nothing in the guest */
    assert_string_equal(find(plan, "bin/sub")->link_target, "../lib/sub");
    assert_string_equal(find(plan, "lib/libx.so")->link_target, "libx.so.1");
    /* through another link: straight to the file */
    assert_string_equal(find(plan, "top")->link_target, "lib/libx.so.1");
    assert_int_equal(find(plan, "lib/sub")->kind, LG_TREE_DIR);
    tree_free(dir);
}

static void test_outside_link_refused(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "mkdir bin && echo ok > bin/a && ln -s /etc/shadow bin/y");
    assert_refused(dir, "link bin/y points outside the tree (/etc/shadow)");
    tree_free(dir);
    /* relative, climbing out */
    dir = tree_new();
    sh(dir, "mkdir -p deep/er && ln -s ../../../../../../../../etc/passwd deep/er/p");
    assert_refused(dir, "link deep/er/p points outside the tree (/etc/passwd)");
    tree_free(dir);
    /* to the tree's parent directory */
    dir = tree_new();
    sh(dir, "ln -s .. up");
    assert_refused(dir, "link up points outside the tree (/tmp)");
    tree_free(dir);
}

static void test_dangling_link_refused(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "ln -s no-such-file ghost");
    assert_refused(dir, "link ghost points to nothing (no-such-file)");
    tree_free(dir);
}

static void test_special_files_refused(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "mkdir d && mkfifo d/pipe");
    assert_refused(dir, "d/pipe is a fifo: only regular files, directories and links inside the tree are uploaded");
    tree_free(dir);
    if (getuid() == 0) {
        dir = tree_new();
        sh(dir, "mknod null c 1 3");
        assert_refused(dir, "null is a character device");
        tree_free(dir);
    }
}

/* Inside the tree, but to a directory above the link: a loop for anything
 * in the guest that follows links. */
static void test_link_to_ancestor_refused(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "mkdir -p a/b && ln -s .. a/b/up");
    assert_refused(dir, "link a/b/up loops back to its own ancestor a");
    tree_free(dir);
    dir = tree_new();
    sh(dir, "mkdir -p a && ln -s \"$PWD\" a/root");
    assert_refused(dir, "link a/root loops back to its own ancestor . (the tree's root)");
    tree_free(dir);
}

/* The same directory twice (a bind mount of an ancestor): refused, not
 * walked forever.  Needs mount privileges; skipped without them. */
static void test_bind_mount_loop_refused(void **state)
{
    (void)state;
    char *dir = tree_new();
    sh(dir, "mkdir -p a/b && echo x > a/f");
    LG_AUTOFREE char *target = lg_strdup_printf("%s/a/b", dir);
    if (mount(dir, target, NULL, MS_BIND, NULL) < 0) {
        tree_free(dir);
        skip();
    }
    lg_tree_plan *plan = NULL;
    int rc = lg_tree_plan_make(dir, &plan);
    umount(target);
    if (rc != -EPERM || !strstr(lg_error_msg(), "directory a/b is reached twice"))
        fail_msg("got %d '%s'", rc, lg_error_msg());
    tree_free(dir);
}

static void test_missing_root(void **state)
{
    (void)state;
    lg_tree_plan *plan = NULL;
    assert_int_equal(lg_tree_plan_make("/nonexistent/labgate-tree", &plan), -ENOENT);
    assert_non_null(strstr(lg_error_msg(), "/nonexistent/labgate-tree"));
    assert_null(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_links_kept),
        cmocka_unit_test(test_outside_link_refused),
        cmocka_unit_test(test_dangling_link_refused),
        cmocka_unit_test(test_special_files_refused),
        cmocka_unit_test(test_link_to_ancestor_refused),
        cmocka_unit_test(test_bind_mount_loop_refused),
        cmocka_unit_test(test_missing_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
