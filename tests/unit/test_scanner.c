/* The console signature scanner on real serial captures (tests/fixtures/
 * console, see its README) and on the report shapes and look-alikes a
 * kernel console shows.  What a user sees: the title of the first crash
 * report, and the log line where it starts. */
#include "lg_test.h"

#include "watch/scanner.h"

#define SAMPLEDRV_TITLE "BUG: kernel NULL pointer dereference in sampledrv_parse_record"

static const char *const FAULTY_LOGS[] = {
    "linux-x86_64-faulty-content-oops.log",
    "linux-x86_64-faulty-content-panic.log",
    "linux-x86_64-faulty-at-boot.log",
    "linux-x86_64-faulty-at-boot-panic.log",
};

/* ------------------------------------------------------------- helpers */

typedef struct log_file {
    char *path;
    char *data;
    size_t len;
    size_t hit_line; /* from the file, as `grep -n` shows it */
    size_t lf_lines;
} log_file;

static log_file open_log(const char *name)
{
    log_file f = { .path = lg_strdup_printf("%s/%s", FIXTURE("console"), name) };
    f.data = read_fixture(f.path, &f.len);
    for (size_t i = 0; i < f.len; i++)
        f.lf_lines += f.data[i] == '\n';
    return f;
}

static void close_log(log_file *f)
{
    free(f->path);
    free(f->data);
}

/* The scanner's result for `data` fed in chunks of sizes from next_size. */
typedef struct result {
    bool hit;
    char *title;
    bool specific;
    size_t hit_line;
    size_t changes; /* feed/finish calls that returned true */
    size_t lines;   /* lines passed to the line callback */
    bool lines_in_order;
    bool cr_in_line;
} result;

static void count_line(void *opaque, const char *line, size_t line_no)
{
    result *r = opaque;
    r->lines++;
    r->lines_in_order = r->lines_in_order && line_no == r->lines;
    r->cr_in_line = r->cr_in_line || strchr(line, '\r');
}

static uint64_t rng_state;

static size_t random_chunk(void)
{
    /* a fixed LCG, so the chunking is the same everywhere */
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return 1 + (size_t)((rng_state >> 33) % 700);
}

static size_t whole(void) { return SIZE_MAX; }
static size_t one_byte(void) { return 1; }

static result scan_chunked(const char *data, size_t len, size_t (*next_size)(void))
{
    result r = { .lines_in_order = true };
    lg_scanner *sc = lg_scanner_new();
    assert_non_null(sc);
    lg_scanner_set_line_fn(sc, count_line, &r);
    for (size_t off = 0; off < len;) {
        size_t n = next_size();
        if (n > len - off)
            n = len - off;
        r.changes += lg_scanner_feed(sc, data + off, n);
        off += n;
    }
    r.changes += lg_scanner_finish(sc);
    r.hit = lg_scanner_hit(sc);
    r.title = lg_scanner_title(sc) ? strdup(lg_scanner_title(sc)) : NULL;
    r.specific = lg_scanner_title_specific(sc);
    r.hit_line = lg_scanner_hit_line(sc);
    lg_scanner_free(sc);
    return r;
}

static result scan(const char *text)
{
    return scan_chunked(text, strlen(text), whole);
}

static void assert_title(const result *r, const char *want)
{
    if (!r->hit || !r->title || strcmp(r->title, want) != 0)
        fail_msg("title \"%s\" (hit %d), expected \"%s\"", r->title ? r->title : "(none)", r->hit, want);
}

static void assert_no_hit(const char *text)
{
    result r = scan(text);
    if (r.hit)
        fail_msg("false positive \"%s\" (line %zu) on:\n%s", r.title, r.hit_line, text);
    assert_null(r.title);
    assert_int_equal(r.hit_line, 0);
    assert_int_equal(r.changes, 0);
}

/* ------------------------------------------------------- real console logs */

static void test_faulty_logs_give_sampledrv_title(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(FAULTY_LOGS); i++) {
        log_file f = open_log(FAULTY_LOGS[i]);
        f.hit_line = (size_t)line_containing(f.path, "BUG: kernel NULL pointer dereference");
        result r = scan_chunked(f.data, f.len, whole);
        print_message("# %s: \"%s\" at line %zu\n", FAULTY_LOGS[i], r.title ? r.title : "", r.hit_line);
        assert_title(&r, SAMPLEDRV_TITLE);
        assert_true(r.specific);
        assert_int_equal(r.hit_line, f.hit_line);
        /* the scanner counts lines as the file has them: CRLF is one line end,
         * and busybox's "\r\n\rThe system is going down" adds no line */
        assert_int_equal(r.lines, f.lf_lines);
        assert_true(r.lines_in_order);
        assert_false(r.cr_in_line);
        free(r.title);
        close_log(&f);
    }
}

static void test_clean_boot_log_gives_no_hit(void **state)
{
    (void)state;
    log_file f = open_log("linux-x86_64-clean-boot.log");
    result r = scan_chunked(f.data, f.len, whole);
    if (r.hit)
        fail_msg("false positive on the clean boot: \"%s\" at line %zu", r.title, r.hit_line);
    assert_null(r.title);
    assert_false(r.specific);
    assert_int_equal(r.hit_line, 0);
    assert_int_equal(r.changes, 0);
    assert_int_equal(r.lines, f.lf_lines);
    close_log(&f);
}

static void test_same_result_whatever_the_chunking(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(FAULTY_LOGS); i++) {
        log_file f = open_log(FAULTY_LOGS[i]);
        result whole_r = scan_chunked(f.data, f.len, whole);
        result bytes_r = scan_chunked(f.data, f.len, one_byte);
        rng_state = 20240601 + i;
        result random_r = scan_chunked(f.data, f.len, random_chunk);
        const result *all[] = { &whole_r, &bytes_r, &random_r };
        for (size_t k = 0; k < LG_N_ELEMENTS(all); k++) {
            assert_title(all[k], SAMPLEDRV_TITLE);
            assert_int_equal(all[k]->hit_line, whole_r.hit_line);
            assert_int_equal(all[k]->lines, f.lf_lines);
        }
        /* feed() says when there is news: the header, then the RIP line that
         * names the function (one call when both arrive in one chunk) */
        assert_int_equal(whole_r.changes, 1);
        assert_int_equal(bytes_r.changes, 2);
        assert_in_range(random_r.changes, 1, 2);
        free(whole_r.title);
        free(bytes_r.title);
        free(random_r.title);
        close_log(&f);
    }
    log_file f = open_log("linux-x86_64-clean-boot.log");
    result bytes_r = scan_chunked(f.data, f.len, one_byte);
    rng_state = 7;
    result random_r = scan_chunked(f.data, f.len, random_chunk);
    assert_false(bytes_r.hit);
    assert_false(random_r.hit);
    assert_int_equal(bytes_r.lines, f.lf_lines);
    assert_int_equal(random_r.lines, f.lf_lines);
    close_log(&f);
}

/* ------------------------------------------------------------ line endings */

static void test_printk_prefixes_stripped(void **state)
{
    (void)state;
    static const char *const headers[] = {
        "[    7.920428] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
        "<1>[    7.920428] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
        "[    7.920428][    T1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
        "[12345.000001] BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
        "BUG: kernel NULL pointer dereference, address: 0000000000000000\n",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(headers); i++) {
        LG_AUTOFREE char *text = lg_strdup_printf(
            "[    7.900000] sampledrv: loading content\n%s"
            "[    7.921646] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n", headers[i]);
        result r = scan(text);
        assert_title(&r, SAMPLEDRV_TITLE);
        assert_int_equal(r.hit_line, 2);
        free(r.title);
    }
}

static void test_crlf_lines(void **state)
{
    (void)state;
    const char *text = "[    7.900000] sampledrv: loading content\r\n"
                       "[    7.920428] BUG: kernel NULL pointer dereference, address: 0000000000000000\r\n"
                       "[    7.921111] Oops: 0000 [#1] PREEMPT SMP NOPTI\r\n"
                       "[    7.921646] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\r\n";
    result r = scan(text);
    assert_title(&r, SAMPLEDRV_TITLE);
    assert_int_equal(r.hit_line, 2);
    assert_int_equal(r.lines, 4);
    assert_false(r.cr_in_line);
    free(r.title);
}

/* A bare CR ends a line too: a kernel report printed after a userspace
 * progress line must still start its own line. */
static void test_bare_cr_ends_a_line(void **state)
{
    (void)state;
    const char *text = "loading content 10%\rloading content 80%\r"
                       "BUG: kernel NULL pointer dereference, address: 0000000000000000\r"
                       "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\r";
    result r = scan(text);
    assert_title(&r, SAMPLEDRV_TITLE);
    assert_int_equal(r.hit_line, 3);
    assert_int_equal(r.lines, 4);
    assert_false(r.cr_in_line);
    free(r.title);

    /* byte by byte: a CR at the end of one chunk and LF at the start of the
     * next are still one line end */
    const char *mixed = "one\r\n\rtwo\r\r\nthree\n\r\nBUG: kernel NULL pointer dereference, address: 0\r\n";
    result bytes = scan_chunked(mixed, strlen(mixed), one_byte);
    result all = scan(mixed);
    /* one, two, three, an empty line, the BUG line */
    assert_int_equal(all.lines, 5);
    assert_int_equal(all.hit_line, 5);
    assert_int_equal(bytes.lines, 5);
    assert_int_equal(bytes.hit_line, 5);
    assert_title(&bytes, "BUG: kernel NULL pointer dereference");
    free(bytes.title);
    free(all.title);
}

static void test_last_line_without_newline_needs_finish(void **state)
{
    (void)state;
    const char *text = "[    7.673145] Kernel panic - not syncing: Fatal exception";
    lg_scanner *sc = lg_scanner_new();
    assert_false(lg_scanner_feed(sc, text, strlen(text)));
    assert_false(lg_scanner_hit(sc));
    assert_true(lg_scanner_finish(sc));
    assert_true(lg_scanner_hit(sc));
    assert_string_equal(lg_scanner_title(sc), "Kernel panic - not syncing: Fatal exception");
    assert_int_equal(lg_scanner_hit_line(sc), 1);
    /* nothing left to scan */
    assert_false(lg_scanner_finish(sc));
    lg_scanner_free(sc);
}

static void test_nul_bytes_and_overlong_lines(void **state)
{
    (void)state;
    lg_buf text = LG_BUF_INIT;
    lg_buf_puts(&text, "garbage before the report: ");
    for (int i = 0; i < 10000; i++)
        lg_buf_puts(&text, "x");
    lg_buf_puts(&text, "\n");
    static const char with_nuls[] = "\0\0BUG: kernel NULL pointer\0 dereference, address: 0\n";
    lg_buf_append(&text, with_nuls, sizeof(with_nuls) - 1);
    lg_buf_puts(&text, "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n");
    result r = scan_chunked(text.data, text.len, whole);
    assert_title(&r, SAMPLEDRV_TITLE);
    assert_int_equal(r.hit_line, 2);
    free(r.title);
    lg_buf_free(&text);
}

/* -------------------------------------------------------- canonical titles */

static void test_canonical_page_fault(void **state)
{
    (void)state;
    result a = scan("BUG: unable to handle page fault for address: ffffc90000a3d000\n"
                    "#PF: supervisor read access in kernel mode\n"
                    "#PF: error_code(0x0000) - not-present page\n"
                    "Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
                    "RIP: 0010:sampledrv_parse_record+0x2a/0x90 [sampledrv]\n");
    result b = scan("BUG: unable to handle page fault for address: ffffc90000b71ff8\n"
                    "RIP: 0010:sampledrv_parse_record+0x31/0x90 [sampledrv]\n");
    assert_title(&a, "BUG: unable to handle page fault in sampledrv_parse_record");
    assert_title(&b, "BUG: unable to handle page fault in sampledrv_parse_record");
    assert_int_equal(a.hit_line, 1);
    free(a.title);
    free(b.title);

    result header_only = scan("BUG: unable to handle page fault for address: ffffc90000a3d000\n");
    assert_title(&header_only, "BUG: unable to handle page fault");
    assert_false(header_only.specific);
    free(header_only.title);
}

static void test_canonical_general_protection_fault(void **state)
{
    (void)state;
    const char *text = "general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI\n"
                       "CPU: 0 PID: 215 Comm: cat Tainted: G           O       6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
                       "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\n"
                       "RIP: 0010:__list_del_entry_valid+0x25/0x90\n";
    result r = scan_chunked(text, strlen(text), one_byte);
    assert_title(&r, "general protection fault in __list_del_entry_valid");
    assert_true(r.specific);
    assert_int_equal(r.hit_line, 1);
    assert_int_equal(r.changes, 2);
    free(r.title);
}

static void test_canonical_kernel_bug_at(void **state)
{
    (void)state;
    result a = scan("[    3.000000] kernel BUG at mm/slub.c:123!\n"
                    "[    3.000001] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
                    "[    3.000002] RIP: 0010:kmem_cache_free+0x3e5/0x400\n");
    result b = scan("kernel BUG at mm/slub.c:4567!\n");
    assert_title(&a, "kernel BUG at mm/slub.c in kmem_cache_free");
    assert_title(&b, "kernel BUG at mm/slub.c");
    free(a.title);
    free(b.title);
}

static void test_canonical_kernel_panic(void **state)
{
    (void)state;
    result r = scan("[    7.673145] Kernel panic - not syncing: Fatal exception\n"
                    "[    7.673500] Kernel Offset: disabled\n");
    assert_title(&r, "Kernel panic - not syncing: Fatal exception");
    assert_false(r.specific);
    assert_int_equal(r.hit_line, 1);
    free(r.title);
}

static void test_oops_without_bug_line(void **state)
{
    (void)state;
    result r = scan("[   10.100000] sampledrv: applying content\n"
                    "[   10.200000] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
                    "[   10.200001] CPU: 0 PID: 215 Comm: cat Tainted: G           O       6.1.0-56-cloud-amd64 #1\n"
                    "[   10.200002] RIP: 0010:sampledrv_apply+0x44/0x120 [sampledrv]\n");
    assert_title(&r, "Oops in sampledrv_apply");
    assert_int_equal(r.hit_line, 2);
    free(r.title);
}

static void test_canonical_title_function(void **state)
{
    (void)state;
    char *t = lg_scanner_canonical_title("BUG: kernel NULL pointer dereference", "sampledrv_parse_record");
    assert_string_equal(t, SAMPLEDRV_TITLE);
    free(t);
    /* numbers, addresses and bracketed counters go; an empty function is none */
    t = lg_scanner_canonical_title("Oops: 0002 [#1] PREEMPT SMP NOPTI", NULL);
    assert_string_equal(t, "Oops: PREEMPT SMP NOPTI");
    free(t);
    t = lg_scanner_canonical_title("general protection fault, probably for non-canonical address "
                                   "0xdead000000000122: 0000 [#1]", "");
    assert_string_equal(t, "general protection fault, probably for non-canonical address");
    free(t);
    /* words that happen to be hex, and names with digits, stay */
    t = lg_scanner_canonical_title("Kernel panic - not syncing: dead beef in x86 code", NULL);
    assert_string_equal(t, "Kernel panic - not syncing: dead beef in x86 code");
    free(t);
}

/* arm64 reports start with "Unable to handle kernel ..." and "Internal
 * error: Oops", and name the function on the "pc : " line. */
static void test_arm64_report(void **state)
{
    (void)state;
    result r = scan("[    5.101000] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000\r\n"
                    "[    5.101100] Mem abort info:\r\n"
                    "[    5.101200]   ESR = 0x0000000096000004\r\n"
                    "[    5.101300]   EC = 0x25: DABT (current EL), IL = 32 bits\r\n"
                    "[    5.102000] Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP\r\n"
                    "[    5.102100] Modules linked in: sampledrv(O)\r\n"
                    "[    5.102300] pstate: 60000005 (nZCv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--)\r\n"
                    "[    5.102400] pc : sampledrv_parse_record+0x1c/0x80 [sampledrv]\r\n"
                    "[    5.102500] lr : sampledrv_write+0x5c/0xa0 [sampledrv]\r\n");
    assert_title(&r, "Unable to handle kernel NULL pointer dereference in sampledrv_parse_record");
    assert_int_equal(r.hit_line, 1);
    free(r.title);

    result internal = scan("[    5.102000] Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP\n"
                           "[    5.102400] pc : sampledrv_parse_record+0x1c/0x80 [sampledrv]\n");
    assert_title(&internal, "Internal error: Oops in sampledrv_parse_record");
    free(internal.title);
}

/* --------------------------------------------------------- what not to do */

static void test_userspace_rip_names_no_function(void **state)
{
    (void)state;
    const char *text = "BUG: unable to handle page fault for address: ffffc90000a3d000\n"
                       "RIP: 0033:0x7f3a2b1c4d5e\n"
                       "Code: Unable to access opcode bytes at 0x7f3a2b1c4d34.\n"
                       "RSP: 002b:00007ffd4a1b2c38 EFLAGS: 00000246 ORIG_RAX: 0000000000000001\n";
    result r = scan_chunked(text, strlen(text), one_byte);
    assert_title(&r, "BUG: unable to handle page fault");
    assert_false(r.specific);
    assert_int_equal(r.changes, 1);
    free(r.title);
}

static void test_first_report_decides(void **state)
{
    (void)state;
    const char *text = "BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
                       "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n"
                       "general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#2] PREEMPT SMP NOPTI\n"
                       "RIP: 0010:__list_del_entry_valid+0x25/0x90\n"
                       "Kernel panic - not syncing: Fatal exception\n";
    /* byte by byte: later reports bring no news */
    result r = scan_chunked(text, strlen(text), one_byte);
    assert_title(&r, SAMPLEDRV_TITLE);
    assert_int_equal(r.hit_line, 1);
    assert_int_equal(r.changes, 2);
    free(r.title);
}

static void test_function_only_within_the_report(void **state)
{
    (void)state;
    lg_buf text = LG_BUF_INIT;
    lg_buf_puts(&text, "Kernel panic - not syncing: Fatal exception\n");
    for (int i = 0; i < 200; i++)
        lg_buf_printf(&text, "[  %d.000000] unrelated line %d\n", i, i);
    /* a RIP line long after the report belongs to something else */
    lg_buf_puts(&text, "RIP: 0010:unrelated_function+0x1/0x2\n");
    result r = scan(text.data);
    assert_title(&r, "Kernel panic - not syncing: Fatal exception");
    assert_false(r.specific);
    free(r.title);
    lg_buf_free(&text);
}

static void test_look_alikes_do_not_hit(void **state)
{
    (void)state;
    static const char *const benign[] = {
        /* userspace crashes, reported by the kernel */
        "[   12.345678] foo[123]: segfault at 0 ip 00007f1234567890 sp 00007ffd12345678 error 4 in libc.so.6[7f1234500000+155000]\n",
        "[   12.345678] traps: foo[12] general protection fault ip:7f1234567890 sp:7ffd12345678 error:0 in libc.so.6[7f1234500000+155000]\n",
        "[   12.345678] show_signal_msg: 2 callbacks suppressed\n",
        /* words, not reports */
        "Please report a bug at https://bugs.debian.org/\n",
        "[    1.234567] sampledrv: registered my_panic_handler with the panic notifier chain\n",
        "agentd: kernel panic handler installed; oops counter at 0\n",
        "[    2.000000] ODEBUG: free active (active state 0) object type: timer_list hint: sampledrv_timer+0x0/0x20 [sampledrv]\n",
        "[    0.000000] Command line: console=ttyS0 root=/dev/vda rw panic=0 oops=panic\n",
        "[    0.100000] Kernel command line: console=ttyS0 panic_on_warn=1 softlockup_panic=1\n",
        "[    1.000000] pvpanic: pvpanic-pci device registered\n",
        "grep 'BUG: ' /var/log/kern.log\n",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(benign); i++)
        assert_no_hit(benign[i]);

    /* and after all of them, a real report still hits */
    lg_buf text = LG_BUF_INIT;
    for (size_t i = 0; i < LG_N_ELEMENTS(benign); i++)
        lg_buf_puts(&text, benign[i]);
    lg_buf_puts(&text, "BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
                       "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n");
    result r = scan(text.data);
    assert_title(&r, SAMPLEDRV_TITLE);
    assert_int_equal(r.hit_line, LG_N_ELEMENTS(benign) + 1);
    free(r.title);
    lg_buf_free(&text);
}

static void test_rip_of_a_userspace_segfault_report(void **state)
{
    (void)state;
    /* a userspace segfault report carries no header, so its register dump
     * alone must not start a report */
    assert_no_hit("[   12.345678] foo[123]: segfault at 0 ip 00007f1234567890 sp 00007ffd12345678 error 4 in libc.so.6\n"
                  "[   12.345680] Code: 48 8b 07 c3 <0f> 0b 66 90\n"
                  "RIP: 0033:0x7f1234567890\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faulty_logs_give_sampledrv_title),
        cmocka_unit_test(test_clean_boot_log_gives_no_hit),
        cmocka_unit_test(test_same_result_whatever_the_chunking),
        cmocka_unit_test(test_printk_prefixes_stripped),
        cmocka_unit_test(test_crlf_lines),
        cmocka_unit_test(test_bare_cr_ends_a_line),
        cmocka_unit_test(test_last_line_without_newline_needs_finish),
        cmocka_unit_test(test_nul_bytes_and_overlong_lines),
        cmocka_unit_test(test_canonical_page_fault),
        cmocka_unit_test(test_canonical_general_protection_fault),
        cmocka_unit_test(test_canonical_kernel_bug_at),
        cmocka_unit_test(test_canonical_kernel_panic),
        cmocka_unit_test(test_oops_without_bug_line),
        cmocka_unit_test(test_canonical_title_function),
        cmocka_unit_test(test_arm64_report),
        cmocka_unit_test(test_userspace_rip_names_no_function),
        cmocka_unit_test(test_first_report_decides),
        cmocka_unit_test(test_function_only_within_the_report),
        cmocka_unit_test(test_look_alikes_do_not_hit),
        cmocka_unit_test(test_rip_of_a_userspace_segfault_report),
    };
    return cmocka_run_group_tests_name("scanner", tests, NULL, NULL);
}
