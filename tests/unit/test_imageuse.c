/* run/imageuse: the per-host index of image volumes recent runs used, and
 * which of them `labgate gc` removes. */
#include "lg_test.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "run/imageuse.h"

#define DAY 86400
#define VOL_A "sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define VOL_B "sha256-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char state_dir[] = "/tmp/lg-imageuse-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(state_dir))
        return -1;
    setenv("LABGATE_STATE_DIR", state_dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_strdup_printf("rm -rf '%s'", state_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_skips_what_is_not_an_entry(void **state)
{
    (void)state;
    lg_image_use *uses = NULL;
    size_t n = 0;
    lg_image_index_parse("# header line\n"
                         VOL_A " 1700000000 20261204-1\n"
                         "\n"
                         "too few 1\n"
                         "vol 12 run extra\n"
                         "vol -5 run\n"
                         "vol 12x run\n"
                         "vol\x01 12 run\n"
                         VOL_B " 1700000500 20261204-2",
                         &uses, &n);
    assert_int_equal(n, 2);
    assert_string_equal(uses[0].volume, VOL_A);
    assert_int_equal(uses[0].last_used_s, 1700000000);
    assert_string_equal(uses[0].run_id, "20261204-1");
    assert_string_equal(uses[1].volume, VOL_B);
    assert_int_equal(uses[1].last_used_s, 1700000500);
    assert_ptr_equal(lg_image_use_find(uses, n, VOL_B), &uses[1]);
    assert_null(lg_image_use_find(uses, n, "sha256-c"));
    lg_image_uses_free(uses, n);
}

static void test_touch_read_forget(void **state)
{
    (void)state;
    const char *uri = "qemu:///system";
    LG_AUTOFREE char *path = lg_image_index_path(uri);
    LG_AUTOFREE char *other = lg_image_index_path("qemu+ssh://lab@127.0.0.1:2022/session");
    assert_string_not_equal(path, other);
    assert_int_equal(strncmp(path, state_dir, strlen(state_dir)), 0);

    lg_image_use *uses = NULL;
    size_t n = 5;
    assert_int_equal(lg_image_index_read(uri, &uses, &n), 0); /* none yet */
    assert_int_equal(n, 0);
    lg_image_uses_free(uses, n);

    assert_int_equal(lg_image_index_touch(uri, VOL_A, "run-1", 1000), 0);
    assert_int_equal(lg_image_index_touch(uri, VOL_B, "run-1", 1000), 0);
    assert_int_equal(lg_image_index_touch(uri, VOL_A, "run-2", 5000), 0); /* replaces run-1's */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(lg_image_index_read(uri, &uses, &n), 0);
    assert_int_equal(n, 2);
    const lg_image_use *a = lg_image_use_find(uses, n, VOL_A);
    assert_non_null(a);
    assert_int_equal(a->last_used_s, 5000);
    assert_string_equal(a->run_id, "run-2");
    lg_image_uses_free(uses, n);
    /* the other host's index is another file */
    assert_int_equal(lg_image_index_read("qemu+ssh://lab@127.0.0.1:2022/session", &uses, &n), 0);
    assert_int_equal(n, 0);
    lg_image_uses_free(uses, n);

    assert_int_equal(lg_image_index_forget(uri, VOL_A), 0);
    assert_int_equal(lg_image_index_read(uri, &uses, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(uses[0].volume, VOL_B);
    lg_image_uses_free(uses, n);

    /* nothing that could break a line gets in */
    assert_int_equal(lg_image_index_touch(uri, "bad name", "run-3", 1), -EINVAL);
    assert_int_equal(lg_image_index_touch(uri, VOL_A, "run\n3", 1), -EINVAL);
}

static void test_upload_lock_waits_then_gives_up(void **state)
{
    (void)state;
    int first = lg_image_upload_lock("qemu:///system", 1000);
    assert_true(first >= 0);
    int second = lg_image_upload_lock("qemu:///system", 300);
    assert_int_equal(second, -ETIMEDOUT);
    assert_non_null(strstr(lg_error_msg(), "another run has been uploading"));
    int other_host = lg_image_upload_lock("qemu:///session", 300);
    assert_true(other_host >= 0);
    lg_image_upload_unlock(other_host);
    lg_image_upload_unlock(first);
    second = lg_image_upload_lock("qemu:///system", 300);
    assert_true(second >= 0);
    lg_image_upload_unlock(second);
}

static void test_gc_selection(void **state)
{
    (void)state;
    int64_t now = 100 * DAY;
    lg_image_use recent = { .volume = (char *)VOL_A, .last_used_s = now - 2 * DAY, .run_id = (char *)"r" };
    lg_image_use old = { .volume = (char *)VOL_A, .last_used_s = now - 20 * DAY, .run_id = (char *)"r" };
    /* by the index */
    assert_false(lg_image_gc_due(&recent, now - 30 * DAY, now, 14, false));
    assert_true(lg_image_gc_due(&old, now - 30 * DAY, now, 14, false));
    assert_true(lg_image_gc_due(&recent, now - 30 * DAY, now, 2, false));
    assert_false(lg_image_gc_due(&recent, now - 30 * DAY, now, 3, false));
    /* 0 days: every image, but never one a live run uses */
    assert_true(lg_image_gc_due(&recent, now, now, 0, false));
    assert_false(lg_image_gc_due(&recent, now, now, 0, true));
    assert_false(lg_image_gc_due(&old, now - 30 * DAY, now, 14, true));
    /* not in this state directory's index: its upload time counts */
    assert_true(lg_image_gc_due(NULL, now - 15 * DAY, now, 14, false));
    assert_false(lg_image_gc_due(NULL, now - 1 * DAY, now, 14, false));
    /* uploaded again since the index's last use (by another client) */
    assert_false(lg_image_gc_due(&old, now - 1 * DAY, now, 14, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_skips_what_is_not_an_entry),
        cmocka_unit_test(test_touch_read_forget),
        cmocka_unit_test(test_upload_lock_waits_then_gives_up),
        cmocka_unit_test(test_gc_selection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
