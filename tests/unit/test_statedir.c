/* base/statedir: the state directory is used only when nobody but its
 * user could have put anything in it, and files in it are created without
 * following a planted symlink.  Runs as root (the harness does): "another
 * user" is `nobody`, by chown, and the checks are also made as `nobody`
 * itself, in a child that drops root (test_checks_as_another_user). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/error.h"
#include "base/mem.h"
#include "base/statedir.h"
#include "base/util.h"

static uid_t nobody_uid(void)
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? pw->pw_uid : 65534;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_fresh_path_is_created_0711(void **state)
{
    const tmpdir_suite *s = *state;
    mode_t old_umask = umask(077); /* a strict umask must not lock QEMU's user out */
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/fresh/labgate", s->dir);
    assert_int_equal(lg_state_dir_check(dir), 0);
    umask(old_umask);
    assert_true(lg_is_dir(dir));
    assert_int_equal(mode_of(dir), 0711);
    /* and again, now that it exists */
    assert_int_equal(lg_state_dir_check(dir), 0);
}

static void test_symlink_is_refused(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *real = lg_strdup_printf("%s/real", s->dir);
    LG_AUTOFREE char *link = lg_strdup_printf("%s/link", s->dir);
    assert_int_equal(mkdir(real, 0711), 0);
    assert_int_equal(symlink(real, link), 0);
    assert_int_equal(lg_state_dir_check(link), -ENOTDIR);
    assert_non_null(strstr(lg_error_msg(), link));
    assert_non_null(strstr(lg_error_msg(), "symbolic link"));
}

static void test_other_users_dir_is_refused(void **state)
{
    const tmpdir_suite *s = *state;
    if (geteuid() != 0)
        skip(); /* needs chown to another user */
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/theirs", s->dir);
    assert_int_equal(mkdir(dir, 0711), 0);
    assert_int_equal(chown(dir, nobody_uid(), (gid_t)-1), 0);
    assert_int_equal(lg_state_dir_check(dir), -EPERM);
    assert_non_null(strstr(lg_error_msg(), dir));
    assert_non_null(strstr(lg_error_msg(), "owned by uid"));

    /* nor one inside a directory another user could rename it out of */
    LG_AUTOFREE char *below = lg_strdup_printf("%s/theirs/ours", s->dir);
    assert_int_equal(mkdir(below, 0711), 0);
    assert_int_equal(lg_state_dir_check(below), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "owned by another user"));
}

static void test_group_or_world_writable_is_refused(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/shared", s->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0775), 0);
    assert_int_equal(lg_state_dir_check(dir), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "writable by its group"));
    assert_int_equal(chmod(dir, 01777), 0); /* sticky is no excuse for the directory itself */
    assert_int_equal(lg_state_dir_check(dir), -EPERM);
    assert_non_null(strstr(lg_error_msg(), dir));
    /* left as it was: never "fixed" behind the user's back */
    assert_int_equal(mode_of(dir), 01777);
}

static void test_a_file_is_refused(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *file = lg_strdup_printf("%s/plain", s->dir);
    assert_int_equal(lg_write_file(file, "x", 1), 0);
    assert_int_equal(lg_state_dir_check(file), -ENOTDIR);
}

static void test_create_follows_no_planted_symlink(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *target = lg_strdup_printf("%s/precious", s->dir);
    LG_AUTOFREE char *planted = lg_strdup_printf("%s/run-x.lock", s->dir);
    assert_int_equal(lg_write_file(target, "keep me\n", 8), 0);
    assert_int_equal(symlink(target, planted), 0);
    assert_int_equal(lg_state_file_create(planted, 0600), -EEXIST);
    char *data = NULL;
    assert_int_equal(lg_read_file(target, 64, &data, NULL), 0);
    assert_string_equal(data, "keep me\n");
    free(data);

    /* a dangling one is not followed either (the file would be created where it points) */
    LG_AUTOFREE char *nowhere = lg_strdup_printf("%s/made-by-a-link", s->dir);
    LG_AUTOFREE char *dangling = lg_strdup_printf("%s/x.qcow2", s->dir);
    assert_int_equal(symlink(nowhere, dangling), 0);
    assert_true(lg_state_file_create(dangling, 0600) < 0);
    assert_int_equal(access(nowhere, F_OK), -1);

    LG_AUTOFREE char *fresh = lg_strdup_printf("%s/new.qcow2", s->dir);
    int fd = lg_state_file_create(fresh, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mode_of(fresh), 0600);
}

static void test_write_file_replaces_a_symlink_not_its_target(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *target = lg_strdup_printf("%s/target", s->dir);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/kvm-probe-0", s->dir);
    assert_int_equal(lg_write_file(target, "keep\n", 5), 0);
    assert_int_equal(symlink(target, path), 0);
    /* the old temporary name, planted the way an attacker would */
    LG_AUTOFREE char *old_tmp = lg_strdup_printf("%s.tmp.%d", path, (int)getpid());
    assert_int_equal(symlink(target, old_tmp), 0);
    assert_int_equal(lg_write_file(path, "tcg\n", 4), 0);
    char *data = NULL;
    assert_int_equal(lg_read_file(target, 64, &data, NULL), 0);
    assert_string_equal(data, "keep\n");
    free(data);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void test_open_dir_nofollow(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *real = lg_strdup_printf("%s/walk/a", s->dir);
    LG_AUTOFREE char *link = lg_strdup_printf("%s/walk/b", s->dir);
    LG_AUTOFREE char *via = lg_strdup_printf("%s/walk/b/", s->dir);
    assert_int_equal(lg_mkdir_p(real, 0755), 0);
    assert_int_equal(symlink(real, link), 0);
    int fd = lg_open_dir_nofollow(real);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lg_open_dir_nofollow(link), -ENOTDIR);
    assert_int_equal(lg_open_dir_nofollow(via), -ENOTDIR);
    assert_int_equal(lg_open_dir_nofollow("relative"), -EINVAL);
}

static void test_default_state_dir(void **state)
{
    (void)state;
    char *saved = getenv("LABGATE_STATE_DIR") ? lg_strdup(getenv("LABGATE_STATE_DIR")) : NULL;
    setenv("LABGATE_STATE_DIR", "/srv/lg", 1);
    LG_AUTOFREE char *over = lg_state_dir();
    assert_string_equal(over, "/srv/lg");
    unsetenv("LABGATE_STATE_DIR");
    LG_AUTOFREE char *dflt = lg_state_dir();
    if (geteuid() == 0)
        assert_string_equal(dflt, "/var/lib/labgate");
    else
        assert_non_null(strstr(dflt, "/labgate"));
    if (saved)
        setenv("LABGATE_STATE_DIR", saved, 1);
    free(saved);
}

/* The checks as labgate run by a user other than root (here `nobody`, in a
 * child that drops root): its default is the XDG state directory, created
 * 0711 and its own; a directory root owns (as /var/lib/labgate is) is
 * refused; files in its own are created without following a link.  The
 * child exits with the number of the first check that failed. */
static int as_nobody(const char *base)
{
    struct passwd *pw = getpwnam("nobody");
    if (!pw || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 || geteuid() == 0)
        return 1;
    LG_AUTOFREE char *xdg = lg_strdup_printf("%s/home/.local/state", base);
    unsetenv("LABGATE_STATE_DIR");
    setenv("XDG_STATE_HOME", xdg, 1);
    LG_AUTOFREE char *dflt = lg_state_dir();
    LG_AUTOFREE char *want = lg_strdup_printf("%s/labgate", xdg);
    if (strcmp(dflt, want) != 0)
        return 2;
    if (lg_state_dir_check(dflt) != 0)
        return 3;
    struct stat st;
    if (lstat(dflt, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0711)
        return 4;
    LG_AUTOFREE char *roots = lg_strdup_printf("%s/root-owned", base);
    if (lg_state_dir_check(roots) != -EPERM || !strstr(lg_error_msg(), "owned by uid 0"))
        return 5;
    LG_AUTOFREE char *link = lg_strdup_printf("%s/run-x.lock", dflt);
    LG_AUTOFREE char *target = lg_strdup_printf("%s/target", dflt);
    if (symlink(target, link) < 0 || lg_state_file_create(link, 0600) >= 0 || access(target, F_OK) == 0)
        return 6;
    LG_AUTOFREE char *fresh = lg_strdup_printf("%s/labgate-R-j.qcow2", dflt);
    int fd = lg_state_file_create(fresh, 0600);
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 0777) != 0600)
        return 7;
    close(fd);
    return 0;
}

static void test_checks_as_another_user(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* needs root to become another user */
    /* a tree nobody can reach: /tmp, then root's 0711 directory */
    char base[] = "/tmp/labgate-statedir-XXXXXX";
    assert_non_null(mkdtemp(base));
    assert_int_equal(chmod(base, 0711), 0);
    LG_AUTOFREE char *home = lg_strdup_printf("%s/home", base);
    LG_AUTOFREE char *roots = lg_strdup_printf("%s/root-owned", base);
    assert_int_equal(mkdir(home, 0700), 0);
    assert_int_equal(chown(home, nobody_uid(), (gid_t)-1), 0);
    assert_int_equal(mkdir(roots, 0711), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(as_nobody(base));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    LG_AUTOFREE char *rm = lg_strdup_printf("rm -rf '%s'", base);
    assert_int_equal(system(rm), 0);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0)
        fail_msg("check %d failed as nobody", WEXITSTATUS(status));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_path_is_created_0711),
        cmocka_unit_test(test_symlink_is_refused),
        cmocka_unit_test(test_other_users_dir_is_refused),
        cmocka_unit_test(test_group_or_world_writable_is_refused),
        cmocka_unit_test(test_a_file_is_refused),
        cmocka_unit_test(test_create_follows_no_planted_symlink),
        cmocka_unit_test(test_write_file_replaces_a_symlink_not_its_target),
        cmocka_unit_test(test_open_dir_nofollow),
        cmocka_unit_test(test_default_state_dir),
        cmocka_unit_test(test_checks_as_another_user),
    };
    return cmocka_run_group_tests_name("statedir", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
