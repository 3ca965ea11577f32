/* base/copytree.h: a shard's jobs/ID/ put into the merged results: the
 * same files (hard-linked on one file system, copied across), directories
 * recreated, nothing followed: links and special files left out. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/copytree.h"

static void write_text(const char *path, const char *text)
{
    assert_int_equal(lg_write_file(path, text, strlen(text)), 0);
}

static void assert_file(const char *path, const char *text)
{
    char *got = read_fixture(path, NULL);
    assert_string_equal(got, text);
    free(got);
}

/* src/{console.log, files/dmesg.txt (0600), attempt-1/console.log, a link
 * to /etc/passwd, a fifo} */
static void make_tree(const char *src)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/files", src);
    assert_int_equal(lg_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/attempt-1", src);
    assert_int_equal(lg_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/console.log", src);
    write_text(path, "boot\n");
    snprintf(path, sizeof(path), "%s/files/dmesg.txt", src);
    write_text(path, "dmesg\n");
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/attempt-1/console.log", src);
    write_text(path, "first try\n");
    snprintf(path, sizeof(path), "%s/passwd", src);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/fifo", src);
    assert_int_equal(mkfifo(path, 0644), 0);
}

static void assert_copied(const char *dst)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/console.log", dst);
    assert_file(path, "boot\n");
    snprintf(path, sizeof(path), "%s/attempt-1/console.log", dst);
    assert_file(path, "first try\n");
    snprintf(path, sizeof(path), "%s/files/dmesg.txt", dst);
    assert_file(path, "dmesg\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/passwd", dst);
    assert_int_equal(lstat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/fifo", dst);
    assert_int_equal(lstat(path, &st), -1);
}

static void test_same_file_system_links(void **state)
{
    const tmpdir_suite *s = *state;
    char src[128], dst[128];
    snprintf(src, sizeof(src), "%s/shard/jobs/abc", s->dir);
    snprintf(dst, sizeof(dst), "%s/merged/jobs/abc", s->dir);
    make_tree(src);
    lg_copy_stats stats = { 0 };
    assert_int_equal(lg_copy_tree(src, dst, &stats), 0);
    assert_int_equal(stats.files, 3);
    assert_int_equal(stats.linked, 3);
    assert_int_equal(stats.skipped, 2);
    assert_copied(dst);
    /* a hard link: the same file, no second copy */
    char a[256], b[256];
    snprintf(a, sizeof(a), "%s/console.log", src);
    snprintf(b, sizeof(b), "%s/console.log", dst);
    struct stat sa, sb;
    assert_int_equal(stat(a, &sa), 0);
    assert_int_equal(stat(b, &sb), 0);
    assert_true(sa.st_ino == sb.st_ino);
    /* a file in the way is an error, not overwritten */
    lg_copy_stats again = { 0 };
    assert_int_equal(lg_copy_tree(src, dst, &again), -EEXIST);
    assert_file(b, "boot\n");
}

static void test_other_file_system_copies(void **state)
{
    const tmpdir_suite *s = *state;
    struct stat shm, tmp;
    if (stat("/dev/shm", &shm) < 0 || stat(s->dir, &tmp) < 0 || shm.st_dev == tmp.st_dev)
        skip(); /* needs two file systems */
    char src[] = "/dev/shm/lg-unit-XXXXXX";
    assert_non_null(mkdtemp(src));
    char tree[128], dst[128];
    snprintf(tree, sizeof(tree), "%s/jobs/abc", src);
    snprintf(dst, sizeof(dst), "%s/across/jobs/abc", s->dir);
    make_tree(tree);
    lg_copy_stats stats = { 0 };
    int rc = lg_copy_tree(tree, dst, &stats);
    lg_remove_tree(src);
    assert_int_equal(rc, 0);
    assert_int_equal(stats.files, 3);
    assert_int_equal(stats.linked, 0);
    assert_int_equal(stats.skipped, 2);
    assert_copied(dst);
}

static void test_missing_source(void **state)
{
    const tmpdir_suite *s = *state;
    char src[128], dst[128];
    snprintf(src, sizeof(src), "%s/nothing", s->dir);
    snprintf(dst, sizeof(dst), "%s/out", s->dir);
    lg_copy_stats stats = { 0 };
    assert_int_equal(lg_copy_tree(src, dst, &stats), -ENOENT);
    /* a symlink is not a tree to copy either */
    char link[128];
    snprintf(link, sizeof(link), "%s/link", s->dir);
    assert_int_equal(symlink("/etc", link), 0);
    assert_true(lg_copy_tree(link, dst, &stats) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_file_system_links),
        cmocka_unit_test(test_other_file_system_copies),
        cmocka_unit_test(test_missing_source),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
