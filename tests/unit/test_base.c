/* base/: buffers, file-system and hashing helpers, child processes, logging
 * switches, deadlines. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/backoff.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/util.h"

static lg_deadline generous(void)
{
    /* only a bound for a broken child; never what a test measures */
    return lg_deadline_in_ms(120 * 1000);
}

/* ------------------------------------------------------------------- buf */

static void test_buf_printf(void **state)
{
    (void)state;
    lg_buf b = LG_BUF_INIT;
    assert_int_equal(lg_buf_printf(&b, "%s-%d", "job", 7), 0);
    assert_int_equal(lg_buf_printf(&b, " %05.1f%%", 3.25), 0);
    assert_string_equal(b.data, "job-7 003.2%");
    assert_int_equal(b.len, strlen("job-7 003.2%"));

    /* past the initial capacity, several times over */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(lg_buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 12 + 2 + 4999);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(b.data[12], '[');
    assert_int_equal(b.data[b.len - 1], ']');

    /* an empty format still leaves a string */
    lg_buf e = LG_BUF_INIT;
    assert_int_equal(lg_buf_printf(&e, "%s", ""), 0);
    assert_non_null(e.data);
    assert_string_equal(e.data, "");
    lg_buf_free(&e);
    lg_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_append_binary_clear_steal(void **state)
{
    (void)state;
    lg_buf b = LG_BUF_INIT;
    assert_int_equal(lg_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4); /* with the terminating NUL */
    assert_int_equal(lg_buf_puts(&b, "cd"), 0);
    assert_int_equal(b.len, 5);
    lg_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(lg_buf_puts(&b, "kept"), 0);
    char *s = lg_buf_steal(&b);
    assert_string_equal(s, "kept");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    /* stealing from an empty buffer still gives a string */
    s = lg_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    lg_buf_free(NULL);
}

static void test_buf_keep_tail(void **state)
{
    (void)state;
    lg_buf b = LG_BUF_INIT;
    lg_buf_puts(&b, "0123456789");
    lg_buf_keep_tail(&b, 20);
    assert_string_equal(b.data, "0123456789");
    lg_buf_keep_tail(&b, 10);
    assert_string_equal(b.data, "0123456789");
    lg_buf_keep_tail(&b, 4);
    assert_string_equal(b.data, "6789");
    assert_int_equal(b.len, 4);
    lg_buf_puts(&b, "ab");
    assert_string_equal(b.data, "6789ab");
    lg_buf_keep_tail(&b, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    lg_buf_free(&b);
    lg_buf_keep_tail(&b, 3); /* empty, never allocated */
    assert_int_equal(b.len, 0);
}

static void test_strdup_printf(void **state)
{
    (void)state;
    char *s = lg_strdup_printf("%s:%d: %s", "matrix.xml", 12, "duplicate");
    assert_string_equal(s, "matrix.xml:12: duplicate");
    free(s);
}

static void test_shell_quote(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "plain", "'plain'" },
        { "", "''" },
        { "two words", "'two words'" },
        { "it's", "'it'\\''s'" },
        { "''", "''\\'''\\'''" },
        { "$HOME `id` \"x\" \\ ;|&", "'$HOME `id` \"x\" \\ ;|&'" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        char *q = lg_shell_quote(cases[i].in);
        assert_string_equal(q, cases[i].out);
        free(q);
    }
}

/* What matters to a user: a quoted string reaches a shell command unchanged. */
static void test_shell_quote_survives_a_shell(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "it's", "a 'quoted' \"word\"", "$(touch /tmp/lg-should-not-exist) $HOME `id`", "back\\slash", "*", "",
        "new\nline", "-n",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(inputs); i++) {
        LG_AUTOFREE char *quoted = lg_shell_quote(inputs[i]);
        LG_AUTOFREE char *script = lg_strdup_printf("printf '%%s' %s", quoted);
        const char *argv[] = { "sh", "-c", script, NULL };
        lg_buf out = LG_BUF_INIT;
        assert_int_equal(lg_proc_run(argv, generous(), &out), 0);
        assert_int_equal(out.len, strlen(inputs[i]));
        if (out.len)
            assert_string_equal(out.data, inputs[i]);
        lg_buf_free(&out);
    }
    assert_int_equal(access("/tmp/lg-should-not-exist", F_OK), -1);
}

/* ------------------------------------------------------------------ util */

static void test_path_join(void **state)
{
    (void)state;
    static const struct { const char *base, *rel, *out; } cases[] = {
        { "/a/b", "c", "/a/b/c" },
        { "/a/b", "../c/d.xml", "/a/b/../c/d.xml" },
        { "/a/b", "/abs/path", "/abs/path" },
        { "/a/b/", "c", "/a/b/c" },
        { "/a/b//", "c", "/a/b/c" },
        { "/", "etc", "/etc" },
        { "rel/dir", "x", "rel/dir/x" },
        { "", "x", "x" },
        { NULL, "x", "x" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        char *p = lg_path_join(cases[i].base, cases[i].rel);
        if (strcmp(p, cases[i].out) != 0)
            fail_msg("join(%s, %s) = %s, expected %s", cases[i].base ? cases[i].base : "NULL", cases[i].rel,
                     p, cases[i].out);
        free(p);
    }
}

static void test_path_dirname(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "/a/b/c.xml", "/a/b" },
        { "a/b.xml", "a" },
        { "c.xml", "." },
        { "/c.xml", "/" },
        { "../matrix/demo.xml", "../matrix" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        char *d = lg_path_dirname(cases[i].in);
        assert_string_equal(d, cases[i].out);
        free(d);
    }
}

/* FNV-1a 64: the published test vectors, so ids and seeds are the same on
 * every machine and every version. */
static void test_hash_known_values(void **state)
{
    (void)state;
    assert_true(lg_hash64("", 0, 0) == 0xcbf29ce484222325ULL);
    assert_true(lg_hash64("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
    assert_true(lg_hash64("foobar", 6, 0) == 0x85944171f73967e8ULL);
    assert_true(lg_hash64_str("foobar", 0) == 0x85944171f73967e8ULL);
    /* the seed changes the result; the same input and seed never do */
    assert_true(lg_hash64_str("foobar", 1) != lg_hash64_str("foobar", 0));
    assert_true(lg_hash64_str("foobar", 42) == lg_hash64_str("foobar", 42));
    /* every byte counts, including a NUL */
    assert_true(lg_hash64("a\0", 2, 0) != lg_hash64("a", 1, 0));
}

static void test_mkdir_p(void **state)
{
    const tmpdir_suite *s = *state;
    mode_t old_umask = umask(022);
    LG_AUTOFREE char *deep = lg_strdup_printf("%s/one/two/three", s->dir);
    assert_int_equal(lg_mkdir_p(deep, 0750), 0);
    assert_true(lg_is_dir(deep));
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    /* again: nothing to do is success */
    assert_int_equal(lg_mkdir_p(deep, 0750), 0);
    LG_AUTOFREE char *slash = lg_strdup_printf("%s/one/two/four/", s->dir);
    assert_int_equal(lg_mkdir_p(slash, 0755), 0);
    assert_true(lg_is_dir(slash));

    /* a file in the way is an error, not a directory */
    LG_AUTOFREE char *file = lg_strdup_printf("%s/file", s->dir);
    assert_int_equal(lg_write_file(file, "x", 1), 0);
    assert_int_equal(lg_mkdir_p(file, 0755), -ENOTDIR);
    assert_non_null(strstr(lg_error_msg(), file));
    LG_AUTOFREE char *below = lg_strdup_printf("%s/file/sub", s->dir);
    assert_int_equal(lg_mkdir_p(below, 0755), -ENOTDIR);
    assert_false(lg_is_dir(below));
    umask(old_umask);
}

static void test_read_write_file(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *path = lg_strdup_printf("%s/data.bin", s->dir);
    static const char data[] = "line 1\n\0binary\xff";
    assert_int_equal(lg_write_file(path, data, sizeof(data)), 0);
    assert_true(lg_is_file(path));
    assert_false(lg_is_dir(path));
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(lg_read_file(path, 1024, &got, &len), 0);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(got, data, sizeof(data));
    free(got);

    /* over the cap: an error, and the output is left alone */
    got = (char *)"untouched";
    assert_int_equal(lg_read_file(path, 4, &got, &len), -EFBIG);
    assert_string_equal(got, "untouched");
    LG_AUTOFREE char *missing = lg_strdup_printf("%s/missing", s->dir);
    assert_int_equal(lg_read_file(missing, 1024, &got, &len), -ENOENT);
    assert_string_equal(got, "untouched");
    assert_false(lg_is_file(missing));
    assert_false(lg_is_dir(missing));
}


/* Files in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const char *data, size_t len)
{
    char *got = NULL;
    size_t got_len = 0;
    assert_int_equal(lg_read_file(path, 1 << 20, &got, &got_len), 0);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, data, len);
    free(got);
}

/* The child writes a file bigger than RLIMIT_FSIZE lets it: with SIGXFSZ
 * ignored the write fails; with it at default the kernel kills the child
 * in the middle of writing, a crash between write and rename. */
static int write_over_limit(const char *path, const char *data, size_t len, bool die)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = { 1000, 1000 };
        signal(SIGXFSZ, die ? SIG_DFL : SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        _exit(lg_write_file_durable(path, data, len) < 0 ? 1 : 0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_write_file_durable(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *dir = lg_strdup_printf("%s/durable", s->dir);
    assert_int_equal(lg_mkdir_p(dir, 0755), 0);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/result.xml", dir);
    static const char old[] = "<job id=\"old\"/>\n";
    assert_int_equal(lg_write_file_durable(path, old, strlen(old)), 0);
    assert_file_is(path, old, strlen(old));
    assert_int_equal(count_prefixed(dir, "result.xml."), 0);

    /* replaced whole, no temporary file left */
    size_t big_len = 64 * 1024;
    char *big = malloc(big_len);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(lg_write_file_durable(path, big, big_len), 0);
    assert_file_is(path, big, big_len);
    assert_int_equal(count_prefixed(dir, "result.xml"), 1);
    assert_int_equal(lg_write_file_durable(path, old, strlen(old)), 0);

    /* a failed write: the old file, complete, and no temporary file */
    int status = write_over_limit(path, big, big_len, false);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_file_is(path, old, strlen(old));
    assert_int_equal(count_prefixed(dir, "result.xml."), 0);

    /* killed mid-write: the name still holds the old file, complete; what
     * was written went to a temporary name no reader looks at */
    status = write_over_limit(path, big, big_len, true);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGXFSZ);
    assert_file_is(path, old, strlen(old));
    assert_int_equal(count_prefixed(dir, "result.xml"), 2);

    /* none before the crash: still none */
    LG_AUTOFREE char *fresh = lg_strdup_printf("%s/fresh.xml", dir);
    status = write_over_limit(fresh, big, big_len, true);
    assert_true(WIFSIGNALED(status));
    assert_false(lg_is_file(fresh));
    free(big);
}

/* ------------------------------------------------------------------ proc */

static void test_proc_exit_status(void **state)
{
    (void)state;
    const char *ok[] = { "true", NULL };
    assert_int_equal(lg_proc_run(ok, generous(), NULL), 0);
    const char *fails[] = { "false", NULL };
    assert_int_equal(lg_proc_run(fails, generous(), NULL), 1);
    const char *three[] = { "sh", "-c", "exit 3", NULL };
    assert_int_equal(lg_proc_run(three, generous(), NULL), 3);
}

static void test_proc_output_capture(void **state)
{
    (void)state;
    const char *argv[] = { "sh", "-c", "echo to-stdout; echo to-stderr >&2; printf 'no newline'", NULL };
    lg_buf out = LG_BUF_INIT;
    assert_int_equal(lg_proc_run(argv, generous(), &out), 0);
    assert_non_null(strstr(out.data, "to-stdout\n"));
    assert_non_null(strstr(out.data, "to-stderr\n"));
    assert_non_null(strstr(out.data, "no newline"));
    lg_buf_free(&out);

    /* more than a pipe holds: everything arrives, nothing deadlocks */
    const char *big[] = { "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' 'z'", NULL };
    assert_int_equal(lg_proc_run(big, generous(), &out), 0);
    assert_int_equal(out.len, 300000);
    assert_int_equal(out.data[0], 'z');
    assert_int_equal(out.data[299999], 'z');
    lg_buf_free(&out);

    /* stdin is /dev/null: a command reading it ends at once */
    const char *cat[] = { "cat", NULL };
    assert_int_equal(lg_proc_run(cat, generous(), &out), 0);
    assert_int_equal(out.len, 0);
    lg_buf_free(&out);
}

static void test_proc_missing_program(void **state)
{
    (void)state;
    const char *argv[] = { "labgate-no-such-program", NULL };
    int rc = lg_proc_run(argv, generous(), NULL);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(lg_error_msg(), "labgate-no-such-program"));
}

static void test_proc_killed_by_signal(void **state)
{
    (void)state;
    const char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
    int rc = lg_proc_run(argv, generous(), NULL);
    assert_true(rc < 0);
    assert_int_not_equal(rc, -ETIMEDOUT);
    assert_non_null(strstr(lg_error_msg(), "signal 9"));
}

static void test_proc_deadline_kills(void **state)
{
    (void)state;
    const char *argv[] = { "sleep", "30", NULL };
    assert_int_equal(lg_proc_run(argv, lg_deadline_in_ms(200), NULL), -ETIMEDOUT);
    assert_non_null(strstr(lg_error_msg(), "did not finish in time"));

    /* a child that closes its output and keeps running is bound by the deadline too */
    const char *quiet[] = { "sh", "-c", "exec >/dev/null 2>&1; sleep 30", NULL };
    assert_int_equal(lg_proc_run(quiet, lg_deadline_in_ms(200), NULL), -ETIMEDOUT);

    /* a deadline already passed */
    assert_int_equal(lg_proc_run(argv, lg_deadline_in_ms(-1), NULL), -ETIMEDOUT);
}

/* ----------------------------------------------------------- log, clock */

static void test_log_module_filter(void **state)
{
    (void)state;
    setenv("LABGATE_DEBUG", "ssh, monitor", 1);
    lg_log_init(false, false);
    assert_true(lg_log_enabled(LG_LOG_DEBUG, "ssh"));
    assert_true(lg_log_enabled(LG_LOG_DEBUG, "monitor"));
    assert_false(lg_log_enabled(LG_LOG_DEBUG, "mon"));
    assert_false(lg_log_enabled(LG_LOG_DEBUG, "sshd"));
    assert_false(lg_log_enabled(LG_LOG_DEBUG, "virt"));
    assert_false(lg_log_enabled(LG_LOG_INFO, "virt"));
    assert_true(lg_log_enabled(LG_LOG_WARN, "virt"));
    assert_true(lg_log_enabled(LG_LOG_INFO, "ssh")); /* a listed module says everything */

    setenv("LABGATE_DEBUG", "all", 1);
    lg_log_init(true, false);
    assert_true(lg_log_enabled(LG_LOG_DEBUG, "virt"));
    assert_true(lg_log_enabled(LG_LOG_INFO, "job"));

    unsetenv("LABGATE_DEBUG");
    lg_log_init(false, true);
    assert_false(lg_log_enabled(LG_LOG_DEBUG, "ssh"));
    assert_false(lg_log_enabled(LG_LOG_WARN, "job"));
    assert_true(lg_log_enabled(LG_LOG_ERROR, "job"));
    lg_log_init(false, false);
}

static void test_deadlines(void **state)
{
    (void)state;
    lg_deadline past = lg_deadline_in_ms(-1000);
    lg_deadline far = lg_deadline_in_ms(3600 * 1000);
    assert_true(lg_deadline_passed(past));
    assert_int_equal(lg_deadline_left_ms(past), 0);
    assert_false(lg_deadline_passed(far));
    assert_in_range(lg_deadline_left_ms(far), 1, 3600 * 1000);
    assert_true(lg_deadline_min(past, far).at_ms == past.at_ms);
    assert_true(lg_deadline_min(far, past).at_ms == past.at_ms);
    char when[32];
    lg_wall_iso8601(when, sizeof(when));
    assert_int_equal(strlen(when), 20);
    assert_int_equal(when[10], 'T');
    assert_int_equal(when[19], 'Z');
}

static void test_error_message(void **state)
{
    (void)state;
    lg_error_clear();
    assert_string_equal(lg_error_msg(), "unknown error");
    lg_error_set("cannot open %s: %s", "x.qcow2", "Permission denied");
    assert_string_equal(lg_error_msg(), "cannot open x.qcow2: Permission denied");
    lg_error_clear();
}

static void test_parse_int(void **state)
{
    (void)state;
    static const struct { const char *text; int want; } good[] = {
        { "0", 0 }, { "42", 42 }, { "-7", -7 }, { "  3\n", 3 }, { "+5", 5 },
        { "2147483647", 2147483647 }, { "-2147483648", -2147483647 - 1 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int v = -1;
        assert_int_equal(lg_parse_int(good[i].text, &v), 0);
        assert_int_equal(v, good[i].want);
    }
    /* atoi would read these as 12, 0, 0, 0 and a wrapped value */
    static const char *const bad[] = { "12abc", "", "  ", "abc", "0x10", "1 2", "2147483648", "-2147483649",
                                       "99999999999999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int v = 1234;
        assert_int_equal(lg_parse_int(bad[i], &v), -EINVAL);
        assert_int_equal(v, 1234); /* untouched on failure */
    }
    int v = 1234;
    assert_int_equal(lg_parse_int(NULL, &v), -EINVAL);
    assert_int_equal(v, 1234);
}

static void test_next_word(void **state)
{
    (void)state;
    const char *cursor = "  AutoReboot\tREG_DWORD    0x0\r\n", *word = NULL;
    size_t len = lg_next_word(&cursor, &word);
    assert_int_equal(len, 10);
    assert_memory_equal(word, "AutoReboot", len);
    len = lg_next_word(&cursor, &word);
    assert_int_equal(len, 9);
    assert_memory_equal(word, "REG_DWORD", len);
    len = lg_next_word(&cursor, &word);
    assert_int_equal(len, 3);
    assert_memory_equal(word, "0x0", len);
    assert_int_equal(lg_next_word(&cursor, &word), 0);
    assert_int_equal(lg_next_word(&cursor, &word), 0);
    cursor = "";
    assert_int_equal(lg_next_word(&cursor, &word), 0);
}

/* The reconnect's retry loop: tries until one succeeds, never past the
 * deadline, and stops when asked. */
typedef struct retry_count {
    int calls;
    int succeed_at;   /* 0: never */
    int stop_after;   /* 0: never */
} retry_count;

static int retry_attempt(void *opaque)
{
    retry_count *c = opaque;
    c->calls++;
    return c->succeed_at && c->calls >= c->succeed_at ? 0 : -1;
}

static bool retry_stop(void *opaque)
{
    retry_count *c = opaque;
    return c->stop_after && c->calls >= c->stop_after;
}

static void test_backoff_retry(void **state)
{
    (void)state;
    retry_count c = { .succeed_at = 3 };
    lg_backoff b = lg_backoff_doubling(10, 40);
    int tries = 0;
    assert_int_equal(lg_backoff_retry(&b, 5000, retry_attempt, retry_stop, &c, &tries), 0);
    assert_int_equal(tries, 3);
    assert_int_equal(b.next_ms, 40); /* waited 10, then 20 */

    c = (retry_count){ 0 };
    b = lg_backoff_doubling(50, 50);
    int64_t t0 = lg_now_ms();
    assert_int_equal(lg_backoff_retry(&b, 300, retry_attempt, NULL, &c, &tries), -ETIMEDOUT);
    int64_t took = lg_now_ms() - t0;
    assert_true(took >= 300 && took < 3000);
    assert_true(tries >= 2 && tries <= 8);

    c = (retry_count){ .stop_after = 1 };
    b = lg_backoff_doubling(10000, 10000);
    t0 = lg_now_ms();
    assert_int_equal(lg_backoff_retry(&b, 60000, retry_attempt, retry_stop, &c, &tries), -ECANCELED);
    /* the 10 s wait after the first try ended as soon as stop said so */
    assert_int_equal(tries, 1);
    assert_true(lg_now_ms() - t0 < 5000);
}

/* The machine's load per CPU: read, and a plausible number */
static void test_load_per_cpu(void **state)
{
    (void)state;
    double load = lg_load_per_cpu();
    assert_true(load >= 0);
    assert_true(load < 10000);
}

/* /proc/stat's aggregate line: nice in user, irq and softirq in system,
 * steal read; a line cut short or missing refused */
static void test_cpu_times_parse(void **state)
{
    (void)state;
    const char *stat = "cpu  100 5 40 800 20 3 2 30 0 0\n"
                       "cpu0 50 2 20 400 10 1 1 15 0 0\n"
                       "intr 12345 0 0\n";
    lg_cpu_times t;
    assert_int_equal(lg_cpu_times_parse(stat, &t), 0);
    assert_int_equal(t.user, 105);
    assert_int_equal(t.system, 45);
    assert_int_equal(t.idle, 800);
    assert_int_equal(t.iowait, 20);
    assert_int_equal(t.steal, 30);
    /* an old kernel's four fields: no iowait, no steal */
    assert_int_equal(lg_cpu_times_parse("cpu 1 2 3 4\n", &t), 0);
    assert_int_equal(t.user, 3);
    assert_int_equal(t.steal, 0);
    /* the aggregate line found after another */
    assert_int_equal(lg_cpu_times_parse("btime 1\ncpu 1 2 3 4 5 6 7 8\n", &t), 0);
    assert_int_equal(t.steal, 8);
    assert_int_equal(lg_cpu_times_parse("cpu 1 2 3\n", &t), -EINVAL);
    assert_int_equal(lg_cpu_times_parse("cpu0 1 2 3 4\n", &t), -EINVAL);
    assert_int_equal(lg_cpu_times_parse("", &t), -EINVAL);
    /* this machine's */
    assert_int_equal(lg_cpu_times_read(&t), 0);
    assert_true(t.idle > 0);
}

/* The share of CPU time between two samples */
static void test_cpu_share_between(void **state)
{
    (void)state;
    lg_cpu_times a = { .user = 100, .system = 50, .idle = 800, .iowait = 20, .steal = 30 };
    /* 200 ticks later: 100 user, 20 system, 40 idle, 10 iowait, 30 steal */
    lg_cpu_times b = { .user = 200, .system = 70, .idle = 840, .iowait = 30, .steal = 60 };
    lg_cpu_share share;
    assert_int_equal(lg_cpu_share_between(&a, &b, &share), 0);
    assert_float_equal(share.busy, 1.0 - 50.0 / 200.0, 1e-9);
    assert_float_equal(share.steal, 30.0 / 200.0, 1e-9);
    /* libvirt's remote numbers: no steal field at all */
    lg_cpu_times r0 = { .user = 1000, .system = 1000, .idle = 8000 };
    lg_cpu_times r1 = { .user = 5000, .system = 1000, .idle = 8000 };
    assert_int_equal(lg_cpu_share_between(&r0, &r1, &share), 0);
    assert_float_equal(share.busy, 1.0, 1e-9);
    assert_float_equal(share.steal, 0.0, 1e-9);
    /* no time passed, or counters that went back (the host rebooted) */
    assert_int_equal(lg_cpu_share_between(&a, &a, &share), -ENODATA);
    assert_int_equal(lg_cpu_share_between(&b, &a, &share), -ENODATA);
}

/* The hold-back rule: load per CPU against the CPU the host really has;
 * a busy fraction where no load average is known */
static void test_host_saturated(void **state)
{
    (void)state;
    assert_false(lg_host_saturated(1.5, -1, -1, -1, 2.0));
    assert_true(lg_host_saturated(2.5, -1, -1, -1, 2.0));
    /* half the CPU stolen: 1.5 runnable per CPU is 3 per CPU it has */
    assert_true(lg_host_saturated(1.5, 0.5, -1, -1, 2.0));
    assert_false(lg_host_saturated(1.5, 0.1, -1, -1, 2.0));
    /* all of it stolen counts as 90 %, not a division by zero */
    assert_true(lg_host_saturated(0.3, 1.0, -1, -1, 2.0));
    assert_false(lg_host_saturated(0.1, 1.0, -1, -1, 2.0));
    /* a local host's load decides, whatever the busy fraction */
    assert_false(lg_host_saturated(0.5, 0, 1.0, -1, 2.0));
    /* guests just started count before the load average sees them: five
     * one-vCPU guests on two CPUs, the average still low */
    assert_true(lg_host_saturated(0.2, 0, -1, 2.5, 2.0));
    assert_false(lg_host_saturated(0.2, 0, -1, 2.0, 2.0));
    assert_true(lg_host_saturated(0.2, 0.5, -1, 1.5, 2.0));
    /* remote: no load average, the CPUs never idle; or guests just started */
    assert_true(lg_host_saturated(-1, -1, 0.99, -1, 2.0));
    assert_false(lg_host_saturated(-1, -1, 0.80, -1, 2.0));
    assert_true(lg_host_saturated(-1, -1, 0.10, 3.0, 2.0));
    assert_false(lg_host_saturated(-1, -1, -1, -1, 2.0));
    /* max-host-load 0: never */
    assert_false(lg_host_saturated(50, 0.5, 1.0, 50, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_retry),
        cmocka_unit_test(test_load_per_cpu),
        cmocka_unit_test(test_cpu_times_parse),
        cmocka_unit_test(test_cpu_share_between),
        cmocka_unit_test(test_host_saturated),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_buf_append_binary_clear_steal),
        cmocka_unit_test(test_buf_keep_tail),
        cmocka_unit_test(test_strdup_printf),
        cmocka_unit_test(test_shell_quote),
        cmocka_unit_test(test_shell_quote_survives_a_shell),
        cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_path_dirname),
        cmocka_unit_test(test_hash_known_values),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_read_write_file),
        cmocka_unit_test(test_write_file_durable),
        cmocka_unit_test(test_proc_exit_status),
        cmocka_unit_test(test_proc_output_capture),
        cmocka_unit_test(test_proc_missing_program),
        cmocka_unit_test(test_proc_killed_by_signal),
        cmocka_unit_test(test_proc_deadline_kills),
        cmocka_unit_test(test_log_module_filter),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_next_word),
    };
    return cmocka_run_group_tests_name("base", tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
