/* run/runlock and virt/overlay in the state directory: a planted symlink at
 * a run lock or overlay path is never followed, and what gc reads from a
 * lock is believed only when this user wrote it about a directory this user
 * owns.  Runs as root (the harness does): "another user" is `nobody`. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/error.h"
#include "base/mem.h"
#include "base/proc.h"
#include "base/util.h"
#include "run/runlock.h"
#include "virt/overlay.h"

static uid_t nobody_uid(void)
{
    struct passwd *pw = getpwnam("nobody");
    return pw ? pw->pw_uid : 65534;
}

static char *path_in(const tmpdir_suite *s, const char *rel)
{
    return lg_strdup_printf("%s/%s", s->dir, rel);
}

static void assert_file_is(const char *path, const char *text)
{
    char *data = NULL;
    assert_int_equal(lg_read_file(path, 4096, &data, NULL), 0);
    assert_string_equal(data, text);
    free(data);
}

/* a fresh state directory per test, in LABGATE_STATE_DIR */
static char *use_state_dir(const tmpdir_suite *s, const char *name)
{
    char *dir = lg_strdup_printf("%s/%s", s->dir, name);
    setenv("LABGATE_STATE_DIR", dir, 1);
    return dir;
}

static void test_lock_follows_no_planted_symlink(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = use_state_dir(s, "state-lock");
    assert_int_equal(mkdir(dir, 0711), 0);
    LG_AUTOFREE char *target = path_in(s, "etc-shadow");
    assert_int_equal(lg_write_file(target, "root:x\n", 7), 0);
    LG_AUTOFREE char *lock = lg_run_lock_path("R1");
    assert_int_equal(symlink(target, lock), 0);

    assert_true(lg_run_lock_take("R1", s->dir) < 0);
    assert_file_is(target, "root:x\n");
    assert_non_null(strstr(lg_error_msg(), lock));

    /* a lock of a run id nobody planted: taken, 0600, recording the results */
    int fd = lg_run_lock_take("R2", s->dir);
    assert_true(fd >= 0);
    LG_AUTOFREE char *lock2 = lg_run_lock_path("R2");
    struct stat st;
    assert_int_equal(lstat(lock2, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(lg_run_lock_held(lock2));
    lg_run_lock_release("R2", fd);
    assert_false(lg_run_lock_held(lock2));
}

static void test_lock_refuses_an_unsafe_state_dir(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = use_state_dir(s, "state-theirs");
    assert_int_equal(mkdir(dir, 0711), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, nobody_uid(), (gid_t)-1), 0);
    } else {
        assert_int_equal(chmod(dir, 0777), 0);
    }
    assert_int_equal(lg_run_lock_take("R3", s->dir), -EPERM);
    assert_non_null(strstr(lg_error_msg(), dir));
    LG_AUTOFREE char *lock = lg_run_lock_path("R3");
    assert_int_equal(access(lock, F_OK), -1);
}

static void test_missing_state_dir_is_created(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = use_state_dir(s, "state-new/labgate");
    int fd = lg_run_lock_take("R4", s->dir);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(lstat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    lg_run_lock_release("R4", fd);
}

static void test_overlay_follows_no_planted_symlink(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = use_state_dir(s, "state-overlay");
    assert_int_equal(mkdir(dir, 0711), 0);
    LG_AUTOFREE char *base = path_in(s, "base.qcow2");
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "1M", NULL };
    LG_AUTOBUF out = LG_BUF_INIT;
    if (lg_proc_run(argv, lg_deadline_in_ms(60000), &out) != 0)
        skip(); /* no qemu-img here */

    LG_AUTOFREE char *target = path_in(s, "precious");
    assert_int_equal(lg_write_file(target, "keep\n", 5), 0);
    LG_AUTOFREE char *overlay = lg_strdup_printf("%s/labgate-R-j.qcow2", dir);
    assert_int_equal(symlink(target, overlay), 0);
    assert_true(lg_overlay_create(base, overlay) < 0);
    assert_file_is(target, "keep\n");

    /* an overlay of a fresh name: root's alone while no domain runs it */
    LG_AUTOFREE char *fresh = lg_strdup_printf("%s/labgate-R-k.qcow2", dir);
    assert_int_equal(lg_overlay_create(base, fresh), 0);
    struct stat st;
    assert_int_equal(lstat(fresh, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(st.st_size > 0); /* qemu-img wrote into it */
    assert_int_equal(lg_overlay_remove(fresh), 0);
}

/* results/jobs/j/console.log of a killed run (no run.xml), and a lock in
 * the state directory recording results */
typedef struct killed_run {
    char *results, *log, *lock;
} killed_run;

static void killed_run_make(const tmpdir_suite *s, const char *name, killed_run *k)
{
    LG_AUTOFREE char *dir = use_state_dir(s, "state-gc");
    lg_mkdir_p(dir, 0711);
    k->results = lg_strdup_printf("%s/%s", s->dir, name);
    LG_AUTOFREE char *job = lg_strdup_printf("%s/jobs/j", k->results);
    assert_int_equal(lg_mkdir_p(job, 0755), 0);
    k->log = lg_strdup_printf("%s/console.log", job);
    assert_int_equal(lg_write_file(k->log, "[ boot ]\n", 9), 0);
    k->lock = lg_strdup_printf("%s/run-%s.lock", dir, name);
    LG_AUTOFREE char *line = lg_strdup_printf("%s\n", k->results);
    assert_int_equal(lg_write_file(k->lock, line, strlen(line)), 0);
}

static void killed_run_free(killed_run *k)
{
    free(k->results);
    free(k->log);
    free(k->lock);
}

static void test_gc_clears_its_own_killed_runs_logs(void **state)
{
    const tmpdir_suite *s = *state;
    killed_run k;
    killed_run_make(s, "own", &k);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, true, NULL, NULL), 0);
    assert_int_equal(access(k.log, F_OK), 0); /* a dry run removes nothing */
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), 0);
    assert_int_equal(access(k.log, F_OK), -1);

    /* a finished run's record is never touched */
    assert_int_equal(lg_write_file(k.log, "x\n", 2), 0);
    LG_AUTOFREE char *run_xml = lg_strdup_printf("%s/run.xml", k.results);
    assert_int_equal(lg_write_file(run_xml, "<run/>\n", 7), 0);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), 0);
    assert_int_equal(access(k.log, F_OK), 0);
    killed_run_free(&k);
}

static void test_gc_keeps_journaled_jobs_logs(void **state)
{
    const tmpdir_suite *s = *state;
    killed_run k;
    killed_run_make(s, "journaled", &k);
    /* job j ended (its journal entry is there); job k was cut short */
    LG_AUTOFREE char *entry = lg_strdup_printf("%s/jobs/j/result.xml", k.results);
    assert_int_equal(lg_write_file(entry, "<job id=\"j\"/>\n", 14), 0);
    LG_AUTOFREE char *cut_dir = lg_strdup_printf("%s/jobs/k", k.results);
    assert_int_equal(lg_mkdir_p(cut_dir, 0755), 0);
    LG_AUTOFREE char *cut_log = lg_strdup_printf("%s/console.log", cut_dir);
    assert_int_equal(lg_write_file(cut_log, "[ boot ]\n", 9), 0);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), 0);
    assert_int_equal(access(k.log, F_OK), 0);
    assert_int_equal(access(entry, F_OK), 0);
    assert_int_equal(access(cut_log, F_OK), -1);
    killed_run_free(&k);
}

static void test_gc_refuses_results_it_does_not_own(void **state)
{
    const tmpdir_suite *s = *state;
    if (geteuid() != 0)
        skip(); /* needs chown to another user */
    killed_run k;
    killed_run_make(s, "theirs", &k);
    assert_int_equal(chown(k.results, nobody_uid(), (gid_t)-1), 0);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), -EPERM);
    assert_non_null(strstr(lg_error_msg(), k.results));
    assert_int_equal(access(k.log, F_OK), 0);
    killed_run_free(&k);
}

static void test_gc_refuses_a_lock_it_did_not_create(void **state)
{
    const tmpdir_suite *s = *state;
    if (geteuid() != 0)
        skip(); /* needs chown to another user */
    killed_run k;
    killed_run_make(s, "planted", &k);
    assert_int_equal(chown(k.lock, nobody_uid(), (gid_t)-1), 0);
    LG_AUTOFREE char *results = NULL;
    assert_int_equal(lg_run_lock_results_dir(k.lock, &results), -EPERM);
    assert_null(results);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), -EPERM);
    assert_int_equal(access(k.log, F_OK), 0);
    killed_run_free(&k);
}

static void test_gc_follows_no_symlink(void **state)
{
    const tmpdir_suite *s = *state;
    killed_run k;
    killed_run_make(s, "linked", &k);
    /* the lock is a link to a lock that names real results */
    LG_AUTOFREE char *link_lock = lg_strdup_printf("%s.link", k.lock);
    assert_int_equal(symlink(k.lock, link_lock), 0);
    assert_true(lg_run_lock_clear_partial_logs(link_lock, false, NULL, NULL) < 0);
    assert_int_equal(access(k.log, F_OK), 0);

    /* the recorded results path goes through a symlink */
    LG_AUTOFREE char *via = path_in(s, "via");
    assert_int_equal(symlink(k.results, via), 0);
    LG_AUTOFREE char *line = lg_strdup_printf("%s\n", via);
    assert_int_equal(unlink(k.lock), 0);
    assert_int_equal(lg_write_file(k.lock, line, strlen(line)), 0);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), -ENOTDIR);
    assert_int_equal(access(k.log, F_OK), 0);

    /* a job directory that is a link, and a console.log that is one */
    LG_AUTOFREE char *elsewhere = path_in(s, "elsewhere");
    LG_AUTOFREE char *elsewhere_log = path_in(s, "elsewhere/console.log");
    assert_int_equal(lg_mkdir_p(elsewhere, 0755), 0);
    assert_int_equal(lg_write_file(elsewhere_log, "y\n", 2), 0);
    LG_AUTOFREE char *job_link = lg_strdup_printf("%s/jobs/k", k.results);
    assert_int_equal(symlink(elsewhere, job_link), 0);
    assert_int_equal(unlink(k.log), 0);
    assert_int_equal(symlink(elsewhere_log, k.log), 0);
    LG_AUTOFREE char *direct = lg_strdup_printf("%s\n", k.results);
    assert_int_equal(unlink(k.lock), 0);
    assert_int_equal(lg_write_file(k.lock, direct, strlen(direct)), 0);
    assert_int_equal(lg_run_lock_clear_partial_logs(k.lock, false, NULL, NULL), 0);
    assert_file_is(elsewhere_log, "y\n");
    killed_run_free(&k);
}

static void test_lock_held_is_cautious(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *missing = path_in(s, "run-none.lock");
    assert_false(lg_run_lock_held(missing));
    /* cannot tell (a link where a lock should be): a live run, left alone */
    LG_AUTOFREE char *target = path_in(s, "some-file");
    LG_AUTOFREE char *link = path_in(s, "run-link.lock");
    assert_int_equal(lg_write_file(target, "", 0), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_true(lg_run_lock_held(link));
}


/* gc removes the overlay a leftover domain's metadata names only when it is
 * an overlay of that run in a safe state directory, a regular file:
 * metadata naming a host file, a link, or a file in a directory somebody
 * else can write is refused (and the file kept). */
static void test_gc_overlay_from_metadata_is_checked(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = use_state_dir(s, "state-meta");
    assert_int_equal(mkdir(dir, 0711), 0);
    LG_AUTOFREE char *mine = lg_strdup_printf("%s/labgate-R7-0123456789ab.qcow2", dir);
    assert_int_equal(lg_write_file(mine, "qcow\n", 5), 0);
    assert_int_equal(lg_overlay_check_leftover(mine, "R7"), 0);
    /* nothing there: nothing to do */
    LG_AUTOFREE char *gone = lg_strdup_printf("%s/labgate-R7-000000000000.qcow2", dir);
    assert_int_equal(lg_overlay_check_leftover(gone, "R7"), -ENOENT);

    /* a host file, and an overlay of another run */
    LG_AUTOFREE char *precious = path_in(s, "shadow");
    assert_int_equal(lg_write_file(precious, "root:x\n", 7), 0);
    assert_int_equal(lg_overlay_check_leftover(precious, "R7"), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "is not an overlay name of run R7"));
    assert_int_equal(lg_overlay_check_leftover(mine, "R8"), -EPERM);
    assert_int_equal(lg_overlay_check_leftover(mine, NULL), -EPERM);
    assert_int_equal(lg_overlay_check_leftover("labgate-R7-x.qcow2", "R7"), -EPERM); /* relative */

    /* a link of an overlay's name to the host file */
    LG_AUTOFREE char *link = lg_strdup_printf("%s/labgate-R7-111111111111.qcow2", dir);
    assert_int_equal(symlink(precious, link), 0);
    assert_int_equal(lg_overlay_check_leftover(link, "R7"), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "not a regular file"));

    /* an overlay's name in a directory others may write */
    LG_AUTOFREE char *open_dir = path_in(s, "open-state");
    assert_int_equal(mkdir(open_dir, 0711), 0);
    assert_int_equal(chmod(open_dir, 0777), 0);
    LG_AUTOFREE char *planted = lg_strdup_printf("%s/labgate-R7-222222222222.qcow2", open_dir);
    assert_int_equal(lg_write_file(planted, "x\n", 2), 0);
    assert_int_equal(lg_overlay_check_leftover(planted, "R7"), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "writable by others"));

    /* handed to QEMU's user while its domain runs (libvirt's DAC driver):
     * still the run's overlay, in a directory nobody else can write */
    if (geteuid() == 0) {
        assert_int_equal(chown(mine, nobody_uid(), (gid_t)-1), 0);
        assert_int_equal(lg_overlay_check_leftover(mine, "R7"), 0);
    }
    assert_file_is(precious, "root:x\n");
}

/* A run id read back from a file is believed only in the shape labgate
 * makes; the lock a domain's metadata names only when it is that run's
 * lock in a safe state directory (a run with its own state directory):
 * anything else is looked up in ours. */
static void test_gc_lock_from_metadata_is_checked(void **state)
{
    const tmpdir_suite *s = *state;
    assert_true(lg_run_id_ok("20261124-000000-42"));
    assert_true(lg_run_id_ok("20261124-000000-42-2"));
    assert_false(lg_run_id_ok(""));
    assert_false(lg_run_id_ok(NULL));
    assert_false(lg_run_id_ok("../../etc"));
    assert_false(lg_run_id_ok("a/b"));
    assert_false(lg_run_id_ok(".hidden"));
    assert_false(lg_run_id_ok("run\x1b[2J"));
    assert_false(lg_run_id_ok("0123456789012345678901234567890123456789012345678901234567890123456789"));

    LG_AUTOFREE char *dir = use_state_dir(s, "state-claimed");
    assert_int_equal(mkdir(dir, 0711), 0);
    LG_AUTOFREE char *ours = lg_run_lock_path("R9");
    LG_AUTOFREE char *expect = lg_strdup_printf("%s/run-R9.lock", dir);
    assert_string_equal(ours, expect);
    /* no claim, a host file, another run's lock name: ours */
    LG_AUTOFREE char *none = lg_run_lock_path_claimed("R9", NULL);
    assert_string_equal(none, ours);
    LG_AUTOFREE char *host = lg_run_lock_path_claimed("R9", "/etc/shadow");
    assert_string_equal(host, ours);
    LG_AUTOFREE char *other_dir = path_in(s, "other-state");
    assert_int_equal(mkdir(other_dir, 0711), 0);
    LG_AUTOFREE char *wrong_name = lg_strdup_printf("%s/run-R8.lock", other_dir);
    LG_AUTOFREE char *got = lg_run_lock_path_claimed("R9", wrong_name);
    assert_string_equal(got, ours);
    /* another safe state directory's lock of that run: believed */
    LG_AUTOFREE char *theirs = lg_strdup_printf("%s/run-R9.lock", other_dir);
    LG_AUTOFREE char *believed = lg_run_lock_path_claimed("R9", theirs);
    assert_string_equal(believed, theirs);
    /* the same in a directory others may write, or one that is missing
     * (and is not made by asking) */
    assert_int_equal(chmod(other_dir, 0777), 0);
    LG_AUTOFREE char *open_dir = lg_run_lock_path_claimed("R9", theirs);
    assert_string_equal(open_dir, ours);
    LG_AUTOFREE char *missing = path_in(s, "no-such-dir/run-R9.lock");
    LG_AUTOFREE char *not_made = lg_run_lock_path_claimed("R9", missing);
    assert_string_equal(not_made, ours);
    LG_AUTOFREE char *missing_dir = path_in(s, "no-such-dir");
    assert_int_equal(access(missing_dir, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_follows_no_planted_symlink),
        cmocka_unit_test(test_lock_refuses_an_unsafe_state_dir),
        cmocka_unit_test(test_missing_state_dir_is_created),
        cmocka_unit_test(test_overlay_follows_no_planted_symlink),
        cmocka_unit_test(test_gc_clears_its_own_killed_runs_logs),
        cmocka_unit_test(test_gc_keeps_journaled_jobs_logs),
        cmocka_unit_test(test_gc_refuses_results_it_does_not_own),
        cmocka_unit_test(test_gc_refuses_a_lock_it_did_not_create),
        cmocka_unit_test(test_gc_follows_no_symlink),
        cmocka_unit_test(test_lock_held_is_cautious),
        cmocka_unit_test(test_gc_overlay_from_metadata_is_checked),
        cmocka_unit_test(test_gc_lock_from_metadata_is_checked),
    };
    return cmocka_run_group_tests_name("runlock", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
