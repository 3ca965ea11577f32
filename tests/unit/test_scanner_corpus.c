/* The console scanner on the report corpus (tests/fixtures/console/reports,
 * one whole console log per report family the kernel prints, written from
 * the kernel's own formats; expected.tsv says the kind, the exact title and
 * the guilty function of each) and on the quiet corpus
 * (tests/fixtures/console/quiet: logs that only look alarming).  What a user
 * sees: the title `labgate triage` prints.  Each log gives the same title
 * whole, byte by byte and in random chunks.  The summary line gives the
 * corpus measures: reports found, right kind, guilty function named. */
#include "lg_test.h"

#include <dirent.h>

#include "base/buf.h"
#include "base/mem.h"
#include "watch/scanner.h"

#define REPORTS_DIR FIXTURE("console/reports")
#define QUIET_DIR FIXTURE("console/quiet")

typedef struct expected {
    char *file;
    char *kind;
    char *title;
    char *function; /* NULL: the report names none */
} expected;

typedef struct outcome {
    bool hit;
    char *kind;
    char *title;
    char *function;
    char *oom_killed;
} outcome;

static void outcome_free(outcome *o)
{
    free(o->kind);
    free(o->title);
    free(o->function);
    free(o->oom_killed);
}

static char *dup_or_null(const char *s)
{
    return s ? lg_strdup(s) : NULL;
}

static uint64_t rng_state;

static outcome scan_log(const char *data, size_t len, int chunking)
{
    LG_AUTO(lg_scanner) sc = lg_scanner_new();
    for (size_t off = 0; off < len;) {
        size_t n = len - off;
        if (chunking == 1) {
            n = 1;
        } else if (chunking == 2) {
            rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
            n = 1 + (size_t)((rng_state >> 33) % 300);
        }
        if (n > len - off)
            n = len - off;
        lg_scanner_feed(sc, data + off, n);
        off += n;
    }
    lg_scanner_finish(sc);
    return (outcome) {
        .hit = lg_scanner_hit(sc),
        .kind = dup_or_null(lg_scanner_kind(sc)),
        .title = dup_or_null(lg_scanner_title(sc)),
        .function = dup_or_null(lg_scanner_function(sc)),
        .oom_killed = dup_or_null(lg_scanner_oom_killed(sc)),
    };
}

static size_t load_expected(expected *out, size_t max)
{
    size_t len;
    LG_AUTOFREE char *text = read_fixture(REPORTS_DIR "/expected.tsv", &len);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *f[4] = { 0 };
        char *p = line;
        for (int i = 0; i < 4; i++) {
            f[i] = p;
            p = p ? strchr(p, '\t') : NULL;
            if (p)
                *p++ = '\0';
        }
        assert_non_null(f[3]);
        assert_true(n < max);
        out[n++] = (expected) {
            .file = lg_strdup(f[0]),
            .kind = lg_strdup(f[1]),
            .title = lg_strdup(f[2]),
            .function = strcmp(f[3], "-") == 0 ? NULL : lg_strdup(f[3]),
        };
    }
    return n;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every report log: its kind, exact title and guilty function, whatever the
 * chunking; then the corpus measures. */
static void test_report_corpus(void **state)
{
    (void)state;
    expected want[128];
    size_t n = load_expected(want, LG_N_ELEMENTS(want));
    assert_true(n >= 50);
    size_t found = 0, right_kind = 0, right_function = 0, with_function = 0, failures = 0;
    for (size_t i = 0; i < n; i++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", REPORTS_DIR, want[i].file);
        size_t len;
        LG_AUTOFREE char *data = read_fixture(path, &len);
        outcome whole = scan_log(data, len, 0);
        found += whole.hit;
        right_kind += same(whole.kind, want[i].kind);
        with_function += want[i].function != NULL;
        right_function += want[i].function && whole.title && strstr(whole.title, want[i].function);
        bool ok = whole.hit && same(whole.kind, want[i].kind) && same(whole.title, want[i].title) &&
                  same(whole.function, want[i].function);
        rng_state = 7 + i;
        for (int chunking = 1; ok && chunking <= 2; chunking++) {
            outcome o = scan_log(data, len, chunking);
            ok = same(o.title, whole.title) && same(o.kind, whole.kind);
            outcome_free(&o);
        }
        if (!ok) {
            failures++;
            print_message("# MISMATCH %s: kind \"%s\" title \"%s\" function \"%s\"; expected \"%s\" / \"%s\" / \"%s\"\n",
                          want[i].file, whole.kind ? whole.kind : "(none)", whole.title ? whole.title : "(none)",
                          whole.function ? whole.function : "(none)", want[i].kind, want[i].title,
                          want[i].function ? want[i].function : "(none)");
        }
        outcome_free(&whole);
    }
    print_message("# corpus: %zu reports; found %zu (%.1f %%), right kind %zu (%.1f %%), "
                  "guilty function in the title %zu of %zu (%.1f %%)\n",
                  n, found, 100.0 * (double)found / (double)n, right_kind, 100.0 * (double)right_kind / (double)n,
                  right_function, with_function, 100.0 * (double)right_function / (double)with_function);
    for (size_t i = 0; i < n; i++) {
        free(want[i].file);
        free(want[i].kind);
        free(want[i].title);
        free(want[i].function);
    }
    assert_int_equal(failures, 0);
}

/* The OOM report names what the OOM killer killed, for the verdict. */
static void test_oom_killed_process(void **state)
{
    (void)state;
    size_t len;
    LG_AUTOFREE char *data = read_fixture(REPORTS_DIR "/oom-module-alloc.log", &len);
    outcome o = scan_log(data, len, 0);
    assert_string_equal(o.kind, "OOM");
    assert_string_equal(o.oom_killed, "sampleagentd");
    outcome_free(&o);

    /* the 4.x wording, and a memory cgroup's */
    static const char *const logs[] = {
        "[  50.1] Out of memory: Kill process 902 (sampleagentd) score 912 or sacrifice child\n"
        "[  50.2] Killed process 902 (sampleagentd) total-vm:812344kB, anon-rss:602112kB, file-rss:0kB\n",
        "[  50.1] Memory cgroup out of memory: Killed process 902 (sampleagentd) total-vm:812344kB, anon-rss:602112kB\n",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(logs); i++) {
        o = scan_log(logs[i], strlen(logs[i]), 0);
        assert_string_equal(o.title, "OOM: killed sampleagentd");
        assert_string_equal(o.oom_killed, "sampleagentd");
        outcome_free(&o);
    }

    /* the OOM killer at work is no kernel bug: a crash after it is the report */
    static const char after[] =
        "[  50.1] syz-executor.1 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=1000\n"
        "[  50.2] Memory cgroup out of memory: Killed process 5012 (syz-executor.1) total-vm:48kB\n"
        "[  61.0] BUG: KASAN: slab-use-after-free in hci_conn_drop+0x2e/0x120\n"
        "[  61.1] Read of size 8 at addr ffff88801ecf1c5a by task kworker/0:1/9\n"
        "[  62.0] Kernel panic - not syncing: System is deadlocked on memory\n";
    o = scan_log(after, strlen(after), 1);
    assert_string_equal(o.title, "KASAN: slab-use-after-free Read in hci_conn_drop");
    assert_null(o.oom_killed);
    outcome_free(&o);
    /* but the OOM panic that follows an OOM kill is the same report */
    static const char panic_after[] =
        "[  50.1] stress-ng invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=1000\n"
        "[  50.2] Out of memory: Killed process 512 (stress-ng) total-vm:48kB\n"
        "[  62.0] Kernel panic - not syncing: System is deadlocked on memory\n";
    o = scan_log(panic_after, strlen(panic_after), 1);
    assert_string_equal(o.title, "OOM: killed stress-ng");
    outcome_free(&o);

    /* the title keeps what names the program, not the instance */
    static const char *const instances[][2] = {
        { "syz-executor.3", "OOM: killed syz-executor" }, { "kworker/0:1", "OOM: killed kworker" },
        { "sampleagentd", "OOM: killed sampleagentd" }, { "python3", "OOM: killed python3" },
        { "42", "OOM: killed 42" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(instances); i++) {
        LG_AUTOFREE char *line = lg_strdup_printf("Out of memory: Killed process 7 (%s) total-vm:1kB\n", instances[i][0]);
        o = scan_log(line, strlen(line), 0);
        assert_string_equal(o.title, instances[i][1]);
        assert_string_equal(o.oom_killed, instances[i][0]);
        outcome_free(&o);
    }

    /* a hostile name is cleaned and bounded */
    lg_buf text = LG_BUF_INIT;
    lg_buf_puts(&text, "Out of memory: Killed process 7 (");
    for (int i = 0; i < 500; i++)
        lg_buf_puts(&text, "x\x01");
    lg_buf_puts(&text, ") total-vm:1kB\n");
    o = scan_log(text.data, text.len, 0);
    assert_non_null(o.oom_killed);
    assert_true(strlen(o.oom_killed) <= 64);
    assert_null(strchr(o.oom_killed, '\x01'));
    outcome_free(&o);
    lg_buf_free(&text);
}

/* The prefixes other tools put before the kernel's text. */
static void test_prefix_styles(void **state)
{
    (void)state;
    static const char *const logs[] = {
        "6,1234,56789012,-;BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "4,1235,56789013,c;RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
        "[Fri Dec  4 18:20:04 2026] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "[Fri Dec  4 18:20:04 2026] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
        "kern  :alert : [   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
        "kern  :warn  : [   12.345679] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
        "2026-12-04T18:20:04.123456+00:00 labvm kernel: BUG: kernel NULL pointer dereference, address: 0\n"
        "2026-12-04T18:20:04.123457+00:00 labvm kernel: RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
        "** 3 printk messages dropped ** [   12.345678] BUG: kernel NULL pointer dereference, address: 0\n"
        "[   12.345679][  T231] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(logs); i++) {
        outcome o = scan_log(logs[i], strlen(logs[i]), 0);
        if (!o.title || strcmp(o.title, "BUG: kernel NULL pointer dereference in sampledrv_parse_record") != 0)
            fail_msg("log %zu: \"%s\"", i, o.title ? o.title : "(none)");
        outcome_free(&o);
    }
}

/* Logs that only look alarming give no report. */
static void test_quiet_corpus(void **state)
{
    (void)state;
    DIR *d = opendir(QUIET_DIR);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".log") != 0)
            continue;
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", QUIET_DIR, e->d_name);
        size_t size;
        LG_AUTOFREE char *data = read_fixture(path, &size);
        outcome o = scan_log(data, size, 0);
        if (o.hit)
            fail_msg("%s: false alarm \"%s\"", e->d_name, o.title);
        outcome_free(&o);
        n++;
    }
    closedir(d);
    print_message("# quiet corpus: %zu logs, no report\n", n);
    assert_true(n >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_corpus),
        cmocka_unit_test(test_oom_killed_process),
        cmocka_unit_test(test_prefix_styles),
        cmocka_unit_test(test_quiet_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
