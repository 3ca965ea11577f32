/* Where libvirt keeps a domain's QEMU and swtpm logs, and moving them into
 * a job's results. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/buf.h"
#include "base/util.h"
#include "virt/hvlog.h"

static void test_paths_follow_libvirt(void **state)
{
    (void)state;
    char *p = lg_hvlog_path("qemu:///system", "labgate-r-j", LG_HVLOG_QEMU);
    assert_string_equal(p, "/var/log/libvirt/qemu/labgate-r-j.log");
    free(p);
    p = lg_hvlog_path("qemu+unix:///system", "labgate-r-j", LG_HVLOG_SWTPM);
    assert_string_equal(p, "/var/log/swtpm/libvirt/qemu/labgate-r-j-swtpm.log");
    free(p);
    setenv("XDG_CACHE_HOME", "/home/u/.cache", 1);
    p = lg_hvlog_path("qemu:///session", "d", LG_HVLOG_QEMU);
    assert_string_equal(p, "/home/u/.cache/libvirt/qemu/log/d.log");
    free(p);
    p = lg_hvlog_path("qemu:///session", "d", LG_HVLOG_SWTPM);
    assert_string_equal(p, "/home/u/.cache/libvirt/qemu/log/d-swtpm.log");
    free(p);
    /* not on this machine, or no files at all */
    assert_null(lg_hvlog_path("qemu+ssh://lab7/system", "d", LG_HVLOG_QEMU));
    assert_null(lg_hvlog_path("qemu+tcp://10.0.0.1/system", "d", LG_HVLOG_QEMU));
    assert_null(lg_hvlog_path("test:///default", "d", LG_HVLOG_QEMU));
    assert_null(lg_hvlog_path("not a uri at all", "d", LG_HVLOG_QEMU));
    assert_null(lg_hvlog_path(NULL, "d", LG_HVLOG_QEMU));
}

static void test_move_and_remove(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *cache = lg_strdup_printf("%s/cache", s->dir);
    LG_AUTOFREE char *logdir = lg_strdup_printf("%s/libvirt/qemu/log", cache);
    assert_int_equal(lg_mkdir_p(logdir, 0755), 0);
    setenv("XDG_CACHE_HOME", cache, 1);
    LG_AUTOFREE char *log = lg_strdup_printf("%s/dom.log", logdir);
    static const char text[] = "-machine q35,smm=on\nshutting down, reason=destroyed\n";
    assert_int_equal(lg_write_file(log, text, sizeof(text) - 1), 0);

    LG_AUTOFREE char *dest = lg_strdup_printf("%s/qemu.log", s->dir);
    assert_int_equal(lg_hvlog_move("qemu:///session", "dom", LG_HVLOG_QEMU, dest), 1);
    assert_int_equal(access(log, F_OK), -1);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(lg_read_file(dest, 1 << 20, &got, &len), 0);
    assert_string_equal(got, text);
    free(got);
    /* nothing left to move, nothing to remove */
    assert_int_equal(lg_hvlog_move("qemu:///session", "dom", LG_HVLOG_QEMU, dest), 0);
    assert_int_equal(lg_hvlog_remove("qemu:///session", "dom", LG_HVLOG_QEMU), 0);
    /* a remote host's logs are not here to move */
    assert_int_equal(lg_hvlog_move("qemu+ssh://lab7/system", "dom", LG_HVLOG_QEMU, dest), 0);

    LG_AUTOFREE char *tpm = lg_strdup_printf("%s/dom-swtpm.log", logdir);
    assert_int_equal(lg_write_file(tpm, "x\n", 2), 0);
    assert_int_equal(lg_hvlog_remove("qemu:///session", "dom", LG_HVLOG_SWTPM), 1);
    assert_int_equal(access(tpm, F_OK), -1);

    /* a destination that cannot be written: an error, and the log stays */
    assert_int_equal(lg_write_file(log, text, sizeof(text) - 1), 0);
    LG_AUTOFREE char *bad = lg_strdup_printf("%s/no/such/dir/qemu.log", s->dir);
    assert_true(lg_hvlog_move("qemu:///session", "dom", LG_HVLOG_QEMU, bad) < 0);
    assert_int_equal(access(log, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_follow_libvirt),
        cmocka_unit_test(test_move_and_remove),
    };
    return cmocka_run_group_tests_name("hvlog", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
