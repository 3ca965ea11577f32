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

static void count_line(void *opaque, const char *stamped, const char *line, size_t line_no)
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

static void collect_line(void *opaque, const char *stamped, const char *line, size_t line_no)
{
    (void)line_no;
    lg_buf_printf(opaque, "%s\n", line);
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
                       "RIP: 0010:__list_del_entry_valid+0x25/0x90\n"
                       "Call Trace:\n"
                       " <TASK>\n"
                       " sampledrv_drop_record+0x1e/0x60 [sampledrv]\n";
    /* the list check that faulted is machinery: its caller is the bug */
    result r = scan_chunked(text, strlen(text), one_byte);
    assert_title(&r, "general protection fault in sampledrv_drop_record");
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
                    "[    3.000002] RIP: 0010:kmem_cache_free+0x3e5/0x400\n"
                    "[    3.000003] Call Trace:\n"
                    "[    3.000004]  <TASK>\n"
                    "[    3.000005]  ? kmem_cache_free+0x3e5/0x400\n"
                    "[    3.000006]  sampledrv_free_record+0x22/0x40 [sampledrv]\n");
    result b = scan("kernel BUG at mm/slub.c:4567!\n");
    /* the allocator is machinery: who freed is the bug */
    assert_title(&a, "kernel BUG at mm/slub.c in sampledrv_free_record");
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
        "[    2.000000] ODEBUG: selftest passed\n",
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

/* ---------------------------------------------- synthetic fixture logs */

/* Whole console logs for report kinds the stock test guest cannot produce
 * (see tests/fixtures/console/README.md; one captured from the debug
 * guest): the title, the line the report starts on, and the same answer
 * however the bytes arrive. */
static const struct {
    const char *file;
    const char *first_line; /* text on the line the report starts on */
    const char *title;
} SYNTHETIC_LOGS[] = {
    { "synthetic-linux-x86_64-kasan.log", "BUG: KASAN: slab-out-of-bounds",
      "KASAN: slab-out-of-bounds Read in sampledrv_parse_record" },
    /* a capture: the debug guest (linux-x86_64-debug) with content/short-ioc */
    { "linux-x86_64-debug-kasan-oob.log", "BUG: KASAN: slab-out-of-bounds",
      "KASAN: slab-out-of-bounds Read in sampledrv_ioc_fingerprint" },
    { "synthetic-linux-x86_64-ubsan.log", "UBSAN: array-index-out-of-bounds",
      "UBSAN: array-index-out-of-bounds in sampledrv_parse_record" },
    { "synthetic-linux-x86_64-rcu-stall.log", "self-detected stall",
      "INFO: rcu detected stall in sampledrv_wait_ready" },
    { "synthetic-linux-aarch64-oops-panic.log", "Unable to handle kernel NULL pointer",
      "Unable to handle kernel NULL pointer dereference in sampledrv_parse_record" },
    { "synthetic-windows-bsod-ems.log", "<BP>", "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA" },
    { "synthetic-windows-bsod-ems-driver.log", "<BP>",
      "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in sampledrv.sys" },
};

static void test_synthetic_logs(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(SYNTHETIC_LOGS); i++) {
        log_file f = open_log(SYNTHETIC_LOGS[i].file);
        f.hit_line = (size_t)line_containing(f.path, SYNTHETIC_LOGS[i].first_line);
        result whole_r = scan_chunked(f.data, f.len, whole);
        result bytes_r = scan_chunked(f.data, f.len, one_byte);
        rng_state = 4242 + i;
        result random_r = scan_chunked(f.data, f.len, random_chunk);
        print_message("# %s: \"%s\" at line %zu\n", SYNTHETIC_LOGS[i].file,
                      whole_r.title ? whole_r.title : "", whole_r.hit_line);
        const result *all[] = { &whole_r, &bytes_r, &random_r };
        for (size_t k = 0; k < LG_N_ELEMENTS(all); k++) {
            assert_title(all[k], SYNTHETIC_LOGS[i].title);
            assert_true(all[k]->specific == (strstr(SYNTHETIC_LOGS[i].title, " in ") != NULL));
            assert_int_equal(all[k]->hit_line, f.hit_line);
            assert_int_equal(all[k]->lines, f.lf_lines);
            assert_true(all[k]->lines_in_order);
            assert_false(all[k]->cr_in_line);
        }
        free(whole_r.title);
        free(bytes_r.title);
        free(random_r.title);
        close_log(&f);
    }
}

/* EMS sends the stop code first and the stop screen that names the driver
 * after it: the monitor hears of the crash at once, then of the driver. */
static void test_bsod_title_gains_the_driver(void **state)
{
    (void)state;
    log_file f = open_log("synthetic-windows-bsod-ems-driver.log");
    result r = scan_chunked(f.data, f.len, one_byte);
    assert_title(&r, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in sampledrv.sys");
    assert_int_equal(r.changes, 2);
    free(r.title);
    close_log(&f);

    /* the EMS lines carry bells and the bluescreen block its own markup:
     * what the line callback sees is text */
    f = open_log("synthetic-windows-bsod-ems.log");
    assert_non_null(memchr(f.data, '\a', f.len));
    lg_scanner *sc = lg_scanner_new();
    lg_buf lines = LG_BUF_INIT;
    lg_scanner_set_line_fn(sc, collect_line, &lines);
    lg_scanner_feed(sc, f.data, f.len);
    lg_scanner_finish(sc);
    assert_null(memchr(lines.data, '\a', lines.len));
    assert_non_null(strstr(lines.data, "\n<?xml><BP>\n"));
    lg_buf_free(&lines);
    lg_scanner_free(sc);
    close_log(&f);
}

/* ---------------------------------------------------- one case per kind */

/* Each report kind twice: as one machine printed it and as another run
 * printed the same bug (other timestamps, CPU, PID, task, addresses,
 * offsets, line numbers, seconds).  Both must give the same title. */
typedef struct report_case {
    const char *name;
    const char *a;
    const char *b;
    const char *title;
    size_t hit_line; /* in a */
} report_case;

static const report_case REPORTS[] = {
    { "kernel panic from a driver",
      "[   20.100000] sampledrv: checking content table\n"
      "[   20.100050] Kernel panic - not syncing: sampledrv: content table corrupted\n"
      "[   20.100100] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   20.100200] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\n"
      "[   20.100300] Call Trace:\n"
      "[   20.100400]  <TASK>\n"
      "[   20.100500]  dump_stack_lvl+0x44/0x5c\n"
      "[   20.100600]  panic+0x118/0x2ed\n"
      "[   20.100700]  ? sac_parse_pending+0x40/0x390 [sampledrv]\n"
      "[   20.100800]  sampledrv_check_table.cold+0x12/0x14 [sampledrv]\n"
      "[   20.100900]  sac_parse_pending+0x2c8/0x390 [sampledrv]\n",
      "[ 1831.000001] Kernel panic - not syncing: sampledrv: content table corrupted\n"
      "[ 1831.000002] CPU: 3 PID: 1 Comm: systemd Tainted: G           OE      6.1.0-57-cloud-amd64 #1  Debian 6.1.199-1\n"
      "[ 1831.000003] Call Trace:\n"
      "[ 1831.000004]  <TASK>\n"
      "[ 1831.000005]  dump_stack_lvl+0x48/0x60\n"
      "[ 1831.000006]  panic+0x11c/0x2f0\n"
      "[ 1831.000007]  sampledrv_check_table.cold+0x12/0x14 [sampledrv]\n",
      "Kernel panic - not syncing: sampledrv: content table corrupted in sampledrv_check_table", 2 },
    { "Oops",
      "[   10.200000] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
      "[   10.200001] CPU: 0 PID: 215 Comm: cat Tainted: G           O       6.1.0-56-cloud-amd64 #1\n"
      "[   10.200002] RIP: 0010:sampledrv_apply+0x44/0x120 [sampledrv]\n",
      "<4>[  310.000000][  T912] Oops: 0000 [#3] SMP PTI\n"
      "<4>[  310.000001][  T912] CPU: 7 PID: 912 Comm: sampleagentd Tainted: G      D    O      6.1.0 #2\n"
      "<4>[  310.000002][  T912] RIP: 0010:sampledrv_apply+0x51/0x120 [sampledrv]\n",
      "Oops in sampledrv_apply", 1 },
    { "NULL pointer dereference",
      "[    7.920428] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
      "[    7.920660] #PF: supervisor read access in kernel mode\n"
      "[    7.920735] #PF: error_code(0x0000) - not-present page\n"
      "[    7.921111] Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
      "[    7.921274] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[    7.921646] RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n",
      "[   42.000001] BUG: kernel NULL pointer dereference, address: 0000000000000018\n"
      "[   42.000002] #PF: supervisor write access in kernel mode\n"
      "[   42.000003] Oops: 0002 [#1] SMP NOPTI\n"
      "[   42.000004] CPU: 2 PID: 1187 Comm: kworker/2:1 Tainted: G           OE      6.1.0 #1\n"
      "[   42.000005] RIP: 0010:sampledrv_parse_record+0x22/0x80 [sampledrv]\n",
      SAMPLEDRV_TITLE, 1 },
    { "page fault",
      "BUG: unable to handle page fault for address: ffffc90000a3d000\n"
      "#PF: supervisor read access in kernel mode\n"
      "RIP: 0010:sampledrv_parse_record+0x2a/0x90 [sampledrv]\n",
      "[    3.3] BUG: unable to handle page fault for address: ffffc90000b71ff8\n"
      "[    3.4] RIP: 0010:sampledrv_parse_record+0x31/0x90 [sampledrv]\n",
      "BUG: unable to handle page fault in sampledrv_parse_record", 1 },
    { "kernel paging request (4.x)",
      "[    5.000000] BUG: unable to handle kernel paging request at ffffc90000a3d000\n"
      "[    5.000001] IP: sampledrv_parse_record+0x2a/0x90 [sampledrv]\n"
      "[    5.000002] PGD 7d00e067 P4D 7d00e067 PUD 7d00f067 PMD 7a0a5067 PTE 0\n"
      "[    5.000003] Oops: 0000 [#1] SMP PTI\n",
      /* 3.x: addresses before the symbol */
      "[   77.123456] BUG: unable to handle kernel paging request at ffff88007c3e9000\n"
      "[   77.123457] IP: [<ffffffffa0123456>] sampledrv_parse_record+0x30/0x90 [sampledrv]\n",
      "BUG: unable to handle kernel paging request in sampledrv_parse_record", 1 },
    { "KASAN",
      "[    7.661034] ==================================================================\n"
      "[    7.661503] BUG: KASAN: slab-out-of-bounds in sampledrv_parse_record+0x12/0x34 [sampledrv]\n"
      "[    7.661921] Read of size 4 at addr ffff888004a3c2f0 by task cat/231\n",
      "==================================================================\n"
      "BUG: KASAN: slab-out-of-bounds in sampledrv_parse_record+0x1b4/0x200 [sampledrv]\n"
      "Read of size 4 at addr ffff88800b71c0c0 by task sampleagentd/88\n",
      "KASAN: slab-out-of-bounds Read in sampledrv_parse_record", 2 },
    { "KASAN use-after-free",
      "[    9.000000] BUG: KASAN: use-after-free in sac_content_release+0x40/0x60 [sampledrv]\n"
      "[    9.000001] Read of size 8 at addr ffff888004a3c2f0 by task cat/231\n",
      "[   19.500000] BUG: KASAN: use-after-free in sac_content_release.isra.0+0x44/0x60 [sampledrv]\n"
      "[   19.500001] Read of size 8 at addr ffff88800b71c0c0 by task cat/240\n",
      "KASAN: use-after-free Read in sac_content_release", 1 },
    { "KASAN write: the access is part of the title",
      "[    9.000000] BUG: KASAN: slab-out-of-bounds in sampledrv_parse_signer+0x1c0/0x2a0 [sampledrv]\n"
      "[    9.000001] Write of size 3 at addr ffff888004a3c2f0 by task cat/231\n",
      "[   19.500000] BUG: KASAN: slab-out-of-bounds in sampledrv_parse_signer+0x1c4/0x2a0 [sampledrv]\n"
      "[   19.500001] Write of size 3 at addr ffff88800b71c0c0 by task cat/240\n",
      "KASAN: slab-out-of-bounds Write in sampledrv_parse_signer", 1 },
    { "KFENCE",
      "[   12.000000] ==================================================================\n"
      "[   12.000001] BUG: KFENCE: out-of-bounds read in sampledrv_parse_record+0x1b4/0x200 [sampledrv]\n"
      "[   12.000002] \n"
      "[   12.000003] Out-of-bounds read at 0x000000003d6a5e6f (1B right of kfence-#42):\n"
      "[   12.000004]  sampledrv_parse_record+0x1b4/0x200 [sampledrv]\n",
      "[  600.000001] BUG: KFENCE: out-of-bounds read in sampledrv_parse_record+0x1c0/0x200 [sampledrv]\n"
      "[  600.000003] Out-of-bounds read at 0x00000000a1b2c3d4 (4B right of kfence-#7):\n",
      "BUG: KFENCE: out-of-bounds read in sampledrv_parse_record", 2 },
    { "UBSAN",
      "[    7.661488] UBSAN: shift-out-of-bounds in /build/sampledrv/sampledrv.c:57:22\n"
      "[    7.661802] shift exponent 64 is too large for 64-bit type 'long unsigned int'\n"
      "[    7.662021] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[    7.662804] Call Trace:\n"
      "[    7.662926]  <TASK>\n"
      "[    7.663036]  dump_stack_lvl+0x44/0x5c\n"
      "[    7.663209]  ubsan_epilogue+0x5/0x40\n"
      "[    7.663381]  __ubsan_handle_shift_out_of_bounds.cold+0x61/0xef\n"
      "[    7.663592]  sampledrv_decode_flags+0x1b4/0x200 [sampledrv]\n",
      "UBSAN: shift-out-of-bounds in drivers/misc/sampledrv/sampledrv.c:61:9\n"
      "shift exponent 70 is too large for 64-bit type 'long unsigned int'\n"
      "CPU: 1 PID: 99 Comm: sampleagentd Tainted: G           OE      6.1.0 #7\n"
      "Call Trace:\n"
      " <TASK>\n"
      " dump_stack_lvl+0x48/0x60\n"
      " __ubsan_handle_shift_out_of_bounds+0x15e/0x190\n"
      " sampledrv_decode_flags.constprop.0+0x1c8/0x200 [sampledrv]\n",
      "UBSAN: shift-out-of-bounds in sampledrv_decode_flags", 1 },
    { "soft lockup",
      "[   48.123456] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [cat:231]\n"
      "[   48.123500] Modules linked in: sampledrv(OE) virtio_net virtio_blk\n"
      "[   48.123600] CPU: 0 PID: 231 Comm: cat Tainted: G           OEL     6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   48.123700] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\n"
      "[   48.123800] RIP: 0010:sampledrv_wait_ready+0x12/0x30 [sampledrv]\n",
      "[  133.000000] BUG: soft lockup - CPU#3 stuck for 67s! [kworker/3:2:1402]\n"
      "[  133.000001] CPU: 3 PID: 1402 Comm: kworker/3:2 Tainted: G           OEL     6.1.0 #1\n"
      "[  133.000002] RIP: 0010:sampledrv_wait_ready+0x17/0x30 [sampledrv]\n",
      "BUG: soft lockup in sampledrv_wait_ready", 1 },
    { "scheduling while atomic",
      "[   30.000000] BUG: scheduling while atomic: cat/231/0x00000002\n"
      "[   30.000001] Modules linked in: sampledrv(OE) virtio_net virtio_blk\n"
      "[   30.000002] Preemption disabled at:\n"
      "[   30.000003] [<ffffffffc05e1010>] sampledrv_lock_table+0x10/0x30 [sampledrv]\n"
      "[   30.000004] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   30.000005] Call Trace:\n"
      "[   30.000006]  <TASK>\n"
      "[   30.000007]  dump_stack_lvl+0x44/0x5c\n"
      "[   30.000008]  __schedule_bug.cold+0x7d/0x8b\n"
      "[   30.000009]  __schedule+0x64a/0x9e0\n"
      "[   30.000010]  ? _raw_spin_unlock_irqrestore+0x23/0x40\n"
      "[   30.000011]  schedule+0x5a/0xd0\n"
      "[   30.000012]  schedule_timeout+0x118/0x150\n"
      "[   30.000013]  ? __pfx_process_timeout+0x10/0x10\n"
      "[   30.000014]  msleep+0x2d/0x40\n"
      "[   30.000015]  sampledrv_refresh_table+0x3e/0x80 [sampledrv]\n",
      "BUG: scheduling while atomic: sampleagentd/4711/0x00000003\n"
      "Call Trace:\n"
      " <TASK>\n"
      " dump_stack_lvl+0x48/0x60\n"
      " __schedule_bug+0x6d/0x80\n"
      " __schedule+0x71a/0xa10\n"
      " schedule+0x63/0xe0\n"
      " usleep_range_state+0x90/0xd0\n"
      " sampledrv_refresh_table+0x51/0x80 [sampledrv]\n",
      "BUG: scheduling while atomic in sampledrv_refresh_table", 1 },
    { "sleeping function called from invalid context",
      "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580\n"
      "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 231, name: cat\n"
      "Call Trace:\n"
      " <TASK>\n"
      " dump_stack_lvl+0x44/0x5c\n"
      " __might_resched.cold+0xcc/0xde\n"
      " mutex_lock+0x1a/0x40\n"
      " sampledrv_update_table+0x22/0x90 [sampledrv]\n",
      "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:283\n"
      "Call Trace:\n"
      " __might_sleep+0x3d/0x70\n"
      " mutex_lock_nested+0x1f/0x30\n"
      " sampledrv_update_table+0x2a/0x90 [sampledrv]\n",
      "BUG: sleeping function called from invalid context in sampledrv_update_table", 1 },
    { "general protection fault",
      "general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI\n"
      "CPU: 0 PID: 215 Comm: cat Tainted: G           O       6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "RIP: 0010:sampledrv_drop_record+0x25/0x90 [sampledrv]\n",
      /* 6.9 and later put "Oops: " in front of die()'s message */
      "[   99.9] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000003: 0000 [#2] PREEMPT SMP KASAN NOPTI\n"
      "[   99.9] RIP: 0010:sampledrv_drop_record+0x2c/0x90 [sampledrv]\n",
      "general protection fault in sampledrv_drop_record", 1 },
    { "kernel BUG at",
      "[    3.000000] kernel BUG at drivers/misc/sampledrv/sampledrv.c:123!\n"
      "[    3.000001] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
      "[    3.000002] RIP: 0010:sampledrv_check+0x3e5/0x400 [sampledrv]\n",
      "kernel BUG at drivers/misc/sampledrv/sampledrv.c:131!\n"
      "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
      "RIP: 0010:sampledrv_check+0x3f1/0x400 [sampledrv]\n",
      "kernel BUG at drivers/misc/sampledrv/sampledrv.c in sampledrv_check", 1 },
    { "double fault",
      "[   15.000000] traps: PANIC: double fault, error_code: 0x0\n"
      "[   15.000001] double fault: 0000 [#1] PREEMPT SMP NOPTI\n"
      "[   15.000002] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   15.000003] RIP: 0010:sampledrv_walk+0x9/0x30 [sampledrv]\n",
      "double fault: 0000 [#1] SMP PTI\n"
      "CPU: 1 PID: 77 Comm: sampleagentd Tainted: G           OE      6.1.0 #1\n"
      "RIP: 0010:sampledrv_walk+0x11/0x30 [sampledrv]\n",
      "double fault in sampledrv_walk", 1 },
    { "invalid opcode",
      "[   11.000000] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
      "[   11.000001] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   11.000002] RIP: 0010:sampledrv_apply+0x44/0x120 [sampledrv]\n",
      "[   11.000000] Oops: invalid opcode: 0000 [#4] SMP NOPTI\n"
      "[   11.000002] RIP: 0010:sampledrv_apply+0x4a/0x120 [sampledrv]\n",
      "invalid opcode in sampledrv_apply", 1 },
    { "RCU stall",
      "[   28.672011] rcu: INFO: rcu_preempt self-detected stall on CPU\n"
      "[   28.672318] rcu: \t0-....: (20997 ticks this GP) idle=a5c4/1/0x4000000000000000 softirq=1874/1874 fqs=5237\n"
      "[   28.672958] NMI backtrace for cpu 0\n"
      "[   28.673889] Call Trace:\n"
      "[   28.674011]  <IRQ>\n"
      "[   28.674119]  dump_stack_lvl+0x44/0x5c\n"
      "[   28.675067]  rcu_sched_clock_irq.cold+0x1bf/0x331\n"
      "[   28.675266]  update_process_times+0x5d/0x90\n"
      "[   28.676366]  __sysvec_apic_timer_interrupt+0x7f/0x170\n"
      "[   28.676775]  </IRQ>\n"
      "[   28.676882]  <TASK>\n"
      "[   28.676989]  asm_sysvec_apic_timer_interrupt+0x16/0x20\n"
      "[   28.677197] RIP: 0010:sampledrv_wait_ready+0x12/0x30 [sampledrv]\n",
      "[  100.000000] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n"
      "[  100.000001] rcu: \t1-...!: (1 GPs behind) idle=8a2/1/0x4000000000000000 softirq=2210/2210 fqs=0\n"
      "[  100.000002] \t(detected by 0, t=5252 jiffies, g=4557, q=91 ncpus=2)\n"
      "[  100.000003] Sending NMI from CPU 0 to CPUs 1:\n"
      "[  100.000004] NMI backtrace for cpu 1\n"
      "[  100.000005] CPU: 1 PID: 902 Comm: sampleagentd Tainted: G           OE      6.1.0 #1\n"
      "[  100.000006] RIP: 0010:sampledrv_wait_ready+0x17/0x30 [sampledrv]\n",
      "INFO: rcu detected stall in sampledrv_wait_ready", 1 },
    { "hung task",
      "[  242.000000] INFO: task cat:231 blocked for more than 120 seconds.\n"
      "[  242.000001]       Tainted: G           OE      6.1.0-56-cloud-amd64 #1 Debian 6.1.192-2\n"
      "[  242.000002] \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n"
      "[  242.000003] task:cat             state:D stack:0     pid:231   ppid:1      flags:0x00004002\n"
      "[  242.000004] Call Trace:\n"
      "[  242.000005]  <TASK>\n"
      "[  242.000006]  __schedule+0x34d/0x9e0\n"
      "[  242.000007]  schedule+0x5a/0xd0\n"
      "[  242.000008]  schedule_preempt_disabled+0x11/0x20\n"
      "[  242.000009]  __mutex_lock.constprop.0+0x399/0x700\n"
      "[  242.000010]  sampledrv_wait_content+0x28/0x40 [sampledrv]\n"
      "[  242.000011]  sac_content_write+0x3a/0xd0 [sampledrv]\n",
      "[  483.000000] INFO: task kworker/0:2:45 blocked for more than 241 seconds.\n"
      "[  483.000004] task:kworker/0:2     state:D stack:0     pid:45    ppid:2      flags:0x00004000\n"
      "[  483.000005] Workqueue: events sampledrv_reload_work [sampledrv]\n"
      "[  483.000006] Call Trace:\n"
      "[  483.000007]  <TASK>\n"
      "[  483.000008]  __schedule+0x36d/0xa00\n"
      "[  483.000009]  schedule+0x63/0xe0\n"
      "[  483.000010]  schedule_timeout+0x158/0x190\n"
      "[  483.000011]  ? __pfx_process_timeout+0x10/0x10\n"
      "[  483.000012]  wait_for_completion+0x86/0x150\n"
      "[  483.000013]  sampledrv_wait_content+0x31/0x40 [sampledrv]\n",
      "INFO: task hung in sampledrv_wait_content", 1 },
    { "hard lockup",
      "[   61.000000] NMI watchdog: Watchdog detected hard LOCKUP on cpu 0\n"
      "[   61.000001] Modules linked in: sampledrv(OE) virtio_net virtio_blk\n"
      "[   61.000002] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[   61.000003] RIP: 0010:sampledrv_spin_irqoff+0x10/0x20 [sampledrv]\n",
      "[  302.000000] watchdog: Watchdog detected hard LOCKUP on cpu 3\n"
      "[  302.000003] RIP: 0010:sampledrv_spin_irqoff+0x14/0x20 [sampledrv]\n",
      "Watchdog detected hard LOCKUP in sampledrv_spin_irqoff", 1 },
    { "WARNING",
      "[    9.000000] ------------[ cut here ]------------\n"
      "[    9.000001] WARNING: CPU: 0 PID: 231 at drivers/misc/sampledrv/sampledrv.c:88 sampledrv_check+0x3c/0x50 [sampledrv]\n"
      "[    9.000002] Modules linked in: sampledrv(OE) virtio_net virtio_blk\n"
      "[    9.000003] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
      "[    9.000004] RIP: 0010:sampledrv_check+0x3c/0x50 [sampledrv]\n",
      "[   19.000000] ------------[ cut here ]------------\n"
      "[   19.000001] WARNING: CPU: 1 PID: 1 at drivers/misc/sampledrv/sampledrv.c:91 sampledrv_check+0x41/0x50 [sampledrv]\n",
      "WARNING in sampledrv_check", 2 },
    { "WARNING without a symbol",
      "WARNING: CPU: 0 PID: 231 at 0xffffffffc05e1234\n"
      "Modules linked in: sampledrv(OE)\n"
      "RIP: 0010:sampledrv_check+0x3c/0x50 [sampledrv]\n",
      "WARNING: CPU: 2 PID: 7 at 0xffffffffc0771234\n"
      "RIP: 0010:sampledrv_check+0x3c/0x50 [sampledrv]\n",
      "WARNING in sampledrv_check", 1 },
    { "lockdep",
      "[   12.000000] ======================================================\n"
      "[   12.000001] WARNING: possible circular locking dependency detected\n"
      "[   12.000002] 6.1.0-lockdep #1 Tainted: G           OE     \n"
      "[   12.000003] ------------------------------------------------------\n"
      "[   12.000004] cat/231 is trying to acquire lock:\n"
      "[   12.000005] ffff888004a3c2f0 (&sd->table_lock){+.+.}-{3:3}, at: sampledrv_update_table+0x22/0x90 [sampledrv]\n"
      "[   12.000006] stack backtrace:\n"
      "[   12.000007] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-lockdep #1\n"
      "[   12.000008] Call Trace:\n"
      "[   12.000009]  <TASK>\n"
      "[   12.000010]  dump_stack_lvl+0x5b/0x77\n"
      "[   12.000011]  check_noncircular+0xfe/0x110\n"
      "[   12.000012]  __lock_acquire+0x1266/0x2120\n"
      "[   12.000013]  lock_acquire+0xc4/0x2e0\n"
      "[   12.000014]  ? sampledrv_update_table+0x22/0x90 [sampledrv]\n"
      "[   12.000015]  __mutex_lock+0x97/0xcf0\n"
      "[   12.000016]  sampledrv_update_table+0x22/0x90 [sampledrv]\n",
      "WARNING: possible circular locking dependency detected\n"
      "Call Trace:\n"
      " lock_acquire+0xd3/0x2f0\n"
      " mutex_lock_nested+0x1b/0x20\n"
      " sampledrv_update_table+0x2a/0x90 [sampledrv]\n",
      "WARNING: possible circular locking dependency detected in sampledrv_update_table", 2 },
    { "workqueue lockup",
      "[  100.000000] BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 33s!\n",
      "[  500.000000] BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=-20 stuck for 75s!\n",
      "BUG: workqueue lockup", 1 },
    { "arm64 Oops",
      "[    9.123612] Internal error: Oops: 0000000096000004 [#1] SMP\n"
      "[    9.123835] Modules linked in: sampledrv(OE)\n"
      "[    9.125034] pc : sampledrv_parse_record+0x1c/0x80 [sampledrv]\n"
      "[    9.125263] lr : sac_parse_pending+0x2b8/0x390 [sampledrv]\n",
      "[   19.000000] Internal error: Oops: 0000000096000045 [#2] PREEMPT SMP\n"
      "[   19.000001] pc : sampledrv_parse_record+0x24/0x80 [sampledrv]\n",
      "Internal error: Oops in sampledrv_parse_record", 1 },
    { "arm64 BUG()",
      "kernel BUG at drivers/misc/sampledrv/sampledrv.c:123!\n"
      "Internal error: Oops - BUG: 00000000f2000800 [#1] SMP\n"
      "pc : sampledrv_check+0x3e4/0x400 [sampledrv]\n",
      "kernel BUG at drivers/misc/sampledrv/sampledrv.c:140!\n"
      "Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP\n"
      "pc : sampledrv_check+0x3f0/0x400 [sampledrv]\n",
      "kernel BUG at drivers/misc/sampledrv/sampledrv.c in sampledrv_check", 1 },
    { "arm64 paging request",
      "Unable to handle kernel paging request at virtual address ffff80000a545ff8\n"
      "Mem abort info:\n"
      "  ESR = 0x0000000096000007\n"
      "Internal error: Oops: 0000000096000007 [#1] SMP\n"
      "pc : sampledrv_parse_record+0x2c/0x80 [sampledrv]\n",
      "Unable to handle kernel paging request at virtual address ffff800009b21000\n"
      "pc : sampledrv_parse_record+0x30/0x80 [sampledrv]\n",
      "Unable to handle kernel paging request in sampledrv_parse_record", 1 },
    { "arm Unhandled fault",
      "[    4.000000] 8<--- cut here ---\n"
      "[    4.000001] Unhandled fault: alignment exception (0x221) at 0xe0a3c2f1\n"
      "[    4.000002] [e0a3c2f1] *pgd=00000000\n"
      "[    4.000003] Internal error: : 221 [#1] SMP ARM\n"
      "[    4.000004] PC is at sampledrv_parse_record+0x1c/0x80 [sampledrv]\n",
      "[   14.000001] Unhandled fault: alignment exception (0x001) at 0xe0b71ff9\n"
      "[   14.000004] PC is at sampledrv_parse_record+0x20/0x80 [sampledrv]\n",
      "Unhandled fault: alignment exception in sampledrv_parse_record", 2 },
    { "BSOD: EMS bluescreen block",
      "SAC>\r\n"
      "\a\a\a<?xml>\a<BP>\r\n"
      "<INSTANCE CLASSNAME=\"BLUESCREEN\">\r\n"
      "<PROPERTY NAME=\"STOPCODE\" TYPE=\"string\"><VALUE>\"0xD1\"</VALUE></PROPERTY><machine-info>\r\n"
      "<name>WIN-LABGATE01</name>\r\n"
      "</machine-info>\r\n"
      "\r\n</INSTANCE>\r\n</BP>\a\r\n",
      "\a\a\a<?xml>\a<BP>\r\n"
      "<INSTANCE CLASSNAME=\"BLUESCREEN\">\r\n"
      "<PROPERTY NAME=\"STOPCODE\" TYPE=\"string\"><VALUE>\"0xD1\"</VALUE></PROPERTY><machine-info>\r\n"
      "<name>WIN-OTHER-HOST7</name>\r\n"
      "<guid>00000000-0000-0000-0000-000000000000</guid>\r\n"
      "<os-build-number>17763</os-build-number>\r\n"
      "</machine-info>\r\n"
      "\r\n</INSTANCE>\r\n</BP>\a\r\n",
      "BSOD 0xd1 DRIVER_IRQL_NOT_LESS_OR_EQUAL", 2 },
    { "BSOD: STOP line",
      "Technical information:\r\n"
      "\r\n"
      "*** STOP: 0x0000007E (0xFFFFFFFFC0000005,0xFFFFF88001234567,0xFFFFF88002F1B9E0,0xFFFFF88002F1B240)\r\n"
      "\r\n"
      "***     SampleDrv.sys - Address FFFFF88001234567 base at FFFFF88001230000, DateStamp 5f3e2a10\r\n",
      "*** STOP: 0x0000007E (0xFFFFFFFFC0000005,0xFFFFF88004711234,0xFFFFF88003A1C9E0,0xFFFFF88003A1C240)\r\n"
      "***  sampledrv.sys - Address FFFFF88004711234 base at FFFFF88004700000, DateStamp 5f3e2a10\r\n",
      "BSOD 0x7e SYSTEM_THREAD_EXCEPTION_NOT_HANDLED in sampledrv.sys", 3 },
    { "BSOD: stop screen without EMS markup",
      "A problem has been detected and Windows has been shut down to prevent damage\r\n"
      "to your computer.\r\n"
      "\r\n"
      "The problem seems to be caused by the following file: csagent.sys\r\n"
      "\r\n"
      "PAGE_FAULT_IN_NONPAGED_AREA\r\n"
      "\r\n"
      "*** STOP: 0x00000050 (0xFFFFF8A00C4B8000,0x0000000000000000,0xFFFFF88001234567,0x0000000000000000)\r\n",
      "The problem seems to be caused by the following file: CSAgent.sys\r\n"
      "PAGE_FAULT_IN_NONPAGED_AREA\r\n"
      "*** STOP: 0x00000050 (0xFFFFF8A00D000000,0x0000000000000002,0xFFFFF88004711234,0x0000000000000002)\r\n",
      "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in csagent.sys", 6 },
    { "BSOD: Windows 8+ stop code text",
      "Your PC ran into a problem and needs to restart.\r\n"
      "Stop code: CRITICAL_PROCESS_DIED\r\n"
      "What failed: sampledrv.sys\r\n",
      "Stop code: CRITICAL_PROCESS_DIED\r\n"
      "What failed: SAMPLEDRV.SYS\r\n",
      "BSOD 0xef CRITICAL_PROCESS_DIED in sampledrv.sys", 2 },
    { "BSOD: unknown stop code",
      "<PROPERTY NAME=\"STOPCODE\" TYPE=\"string\"><VALUE>\"0x1D5\"</VALUE></PROPERTY>\r\n",
      "*** STOP: 0x000001D5 (0x0000000000000001,0x0000000000000000,0x0000000000000000,0x0000000000000000)\r\n",
      "BSOD 0x1d5 UNKNOWN_BUGCHECK", 1 },
};

static void test_report_kind(void **state)
{
    const report_case *c = *state;
    print_message("# %s\n", c->name);
    assert_string_not_equal(c->a, c->b);
    result a = scan(c->a);
    result b = scan(c->b);
    result a_bytes = scan_chunked(c->a, strlen(c->a), one_byte);
    if (!a.hit)
        print_lines(c->a);
    assert_title(&a, c->title);
    assert_title(&a_bytes, c->title);
    assert_int_equal(a.hit_line, c->hit_line);
    assert_int_equal(a_bytes.hit_line, c->hit_line);
    assert_true(a.specific == (strstr(c->title, " in ") != NULL));
    /* the same bug on another run, another machine */
    if (!b.hit || strcmp(b.title, c->title) != 0)
        print_lines(c->b);
    assert_title(&b, c->title);
    free(a.title);
    free(b.title);
    free(a_bytes.title);
}

/* ------------------------------------------------------------ look-alikes */

typedef struct lookalike {
    const char *name;
    const char *text;
} lookalike;

static const lookalike LOOKALIKES[] = {
    { "report a bug", "[    0.954712] PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug\n" },
    { "ODEBUG boot messages", "[    2.000000] ODEBUG: selftest passed\n[    2.000001] ODEBUG: 12 of 12 active objects replaced\n" },
    { "userspace segfault",
      "[   12.345678] foo[123]: segfault at 0 ip 00007f1234567890 sp 00007ffd12345678 error 4 in libc.so.6[7f1234500000+155000]\n"
      "[   12.345680] Code: 48 8b 07 c3 <0f> 0b 66 90\n"
      "[   12.345681] RIP: 0033:0x7f1234567890\n" },
    { "userspace general protection fault",
      "[   12.345678] traps: foo[12] general protection fault ip:7f1234567890 sp:7ffd12345678 error:0 in libc.so.6[7f1234500000+155000]\n" },
    { "userspace invalid opcode",
      "[   12.345678] traps: foo[12] trap invalid opcode ip:401126 sp:7ffd5b3c8c80 error:0 in foo[401000+1000]\n" },
    { "panic in a function name", "[    1.234567] sampledrv: Loading my_panic_notifier\n" },
    { "panic notifier chain", "[    1.234567] sampledrv: registered my_panic_handler with the panic notifier chain\n" },
    { "BUG inside words",
      "[    2.000000] sampledrv: DEBUG: BUGFIX table loaded\n"
      "DEBUG: BUG: counters reset\n"
      "[    2.000001] sampledrv: DEBUGGING enabled, no BUG_ON() checks\n" },
    { "Oops mid-line",
      "sampleagentd[215]: Oops: 0000 [#1] is what the kernel would say\n"
      "agentd: kernel panic handler installed; oops counter at 0\n"
      "[    5.000000] sampledrv: self-test: Oops: 0002 [#1] simulated\n" },
    { "Oops without a report", "Oops: the agent could not reach its update server\n" },
    { "WARNING from userspace", "WARNING: The following packages cannot be authenticated!\nWARNING: apt does not have a stable CLI interface.\n" },
    { "kernel command line",
      "[    0.000000] Command line: console=ttyS0 root=/dev/vda rw panic=0 oops=panic\n"
      "[    0.100000] Kernel command line: console=ttyS0 panic_on_warn=1 softlockup_panic=1 hung_task_panic=1\n" },
    { "boot messages with watchdog and rcu words",
      "[    0.166636] rcu: Preemptible hierarchical RCU implementation.\n"
      "[    0.166700] rcu: \tRCU CPU stall warnings timeout set to 100 (rcu_cpu_stall_timeout).\n"
      "[    0.734525] NMI watchdog: Perf NMI watchdog permanently disabled\n"
      "[    0.734600] watchdog: Disabling watchdog on nohz_full cores by default\n"
      "[    1.000000] pvpanic: pvpanic-pci device registered\n" },
    { "grep for BUG", "grep 'BUG: ' /var/log/kern.log\n" },
    { "EMS boot machine-info",
      "\r\nComputer is booting, SAC started and initialized.\r\n\r\n"
      "SAC>\r\n<?xml version=\"1.0\"?><machine-info>\r\n"
      "<name>WIN-LABGATE01</name>\r\n"
      "<os-product>Windows Server 2022 Datacenter</os-product>\r\n"
      "</machine-info>\r\n"
      "SAC>\r\n<channel-switch>\r\n<name>Cmd0001</name>\r\n<description>Command Prompt</description>\r\n</channel-switch>\r\n"
      "EVENT: The CMD command is now available.\r\n" },
    { "stop code words in a userspace line",
      "sampleagentd: simulating PAGE_FAULT_IN_NONPAGED_AREA in the test harness\n"
      "sampleagentd: What failed: nothing; sampledrv.sys is healthy\n"
      "echo '*** STOP: 0x00000050' > /dev/null\n"
      "PAGE_FAULT_IN_NONPAGED_AREAS\n"
      "PAGE_FAULT_IN_NONPAGED_AREA is what the screen would say\n" },
};

static void test_lookalike(void **state)
{
    const lookalike *c = *state;
    print_message("# %s\n", c->name);
    assert_no_hit(c->text);
}

/* What the canonical form drops: per-run tokens, not words. */
static void test_canonical_tokens(void **state)
{
    (void)state;
    static const struct {
        const char *kind;
        const char *canonical;
    } cases[] = {
        { "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b",
          "Kernel panic - not syncing: Attempted to kill init!" },
        { "BUG: scheduling while atomic: kworker/0:1/45/0x00000002", "BUG: scheduling while atomic" },
        { "Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu 2",
          "Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu" },
        { "Kernel panic - not syncing: softlockup: hung tasks", "Kernel panic - not syncing: softlockup: hung tasks" },
        { "Kernel panic - not syncing: stuck on CPU#3 [cat:231]", "Kernel panic - not syncing: stuck on" },
        /* file names with digits and slashes are words */
        { "kernel BUG at fs/9p/vfs_file.c", "kernel BUG at fs/9p/vfs_file.c" },
        { "kernel BUG at mm/slub.c", "kernel BUG at mm/slub.c" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        char *t = lg_scanner_canonical_title(cases[i].kind, NULL);
        if (strcmp(t, cases[i].canonical) != 0)
            fail_msg("\"%s\" -> \"%s\", expected \"%s\"", cases[i].kind, t, cases[i].canonical);
        free(t);
    }
}

/* A Linux report first: a later bluescreen text is not the report. */
static void test_windows_after_linux_and_back(void **state)
{
    (void)state;
    result r = scan("BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
                    "*** STOP: 0x00000050 (0x0,0x0,0x0,0x0)\n"
                    "What failed: sampledrv.sys\n"
                    "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n");
    assert_title(&r, SAMPLEDRV_TITLE);
    free(r.title);
    result w = scan("*** STOP: 0x00000050 (0x0,0x0,0x0,0x0)\n"
                    "BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
                    "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\n");
    assert_title(&w, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA");
    assert_false(w.specific);
    free(w.title);
}

/* ----------------------------------------------- helper frames, windows */

/* A realistic trace whose top frames all report, trap or wait: the title
 * names the first frame that is none of those, never a "? " guess. */
static void test_helper_frames_skipped(void **state)
{
    (void)state;
    const char *text =
        "[   55.000000] Kernel panic - not syncing: sampledrv: fatal content error\n"
        "[   55.000001] CPU: 0 PID: 231 Comm: cat Tainted: G           OE      6.1.0-56-cloud-amd64 #1  Debian 6.1.192-2\n"
        "[   55.000002] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\n"
        "[   55.000003] Call Trace:\n"
        "[   55.000004]  <TASK>\n"
        "[   55.000005]  dump_stack_lvl+0x44/0x5c\n"
        "[   55.000006]  panic+0x118/0x2ed\n"
        "[   55.000007]  ? _printk+0x58/0x73\n"
        "[   55.000008]  ? sac_content_write+0x8a/0xd0 [sampledrv]\n"
        "[   55.000009]  __warn_printk+0x11/0x20\n"
        "[   55.000010]  _raw_spin_lock_irqsave+0x3d/0x50\n"
        "[   55.000011]  mutex_lock+0x12/0x30\n"
        "[   55.000012]  __kasan_check_read+0x11/0x20\n"
        "[   55.000013]  sampledrv_fatal.cold+0x12/0x14 [sampledrv]\n"
        "[   55.000014]  sac_parse_pending+0x2c8/0x390 [sampledrv]\n"
        "[   55.000015]  sac_content_write+0x8a/0xd0 [sampledrv]\n"
        "[   55.000016]  proc_reg_write+0x56/0xa0\n";
    result r = scan_chunked(text, strlen(text), one_byte);
    assert_title(&r, "Kernel panic - not syncing: sampledrv: fatal content error in sampledrv_fatal");
    assert_true(r.specific);
    assert_int_equal(r.changes, 2);
    free(r.title);

    /* a lockup spinning inside a lock helper: the RIP names the helper, the
     * trace its caller */
    result lock = scan("watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [cat:231]\n"
                       "RIP: 0010:native_queued_spin_lock_slowpath+0x1d8/0x210\n"
                       "Call Trace:\n"
                       " <TASK>\n"
                       " _raw_spin_lock+0x25/0x30\n"
                       " sampledrv_lock_table+0x15/0x30 [sampledrv]\n");
    assert_title(&lock, "BUG: soft lockup in sampledrv_lock_table");
    free(lock.title);

    /* x86 kernels before 4.x print the address before each frame */
    result old = scan("Kernel panic - not syncing: sampledrv: fatal content error\n"
                      "Call Trace:\n"
                      " [<ffffffff8150c5a4>] dump_stack+0x19/0x1b\n"
                      " [<ffffffff8150a1b9>] panic+0xd8/0x1e7\n"
                      " [<ffffffffa0123456>] ? sac_parse_pending+0x40/0x390 [sampledrv]\n"
                      " [<ffffffffa0123012>] sampledrv_fatal+0x12/0x14 [sampledrv]\n");
    assert_title(&old, "Kernel panic - not syncing: sampledrv: fatal content error in sampledrv_fatal");
    free(old.title);

    /* a helper-only trace names no function */
    result none = scan("Kernel panic - not syncing: Fatal exception\n"
                       "Call Trace:\n"
                       " <TASK>\n"
                       " dump_stack_lvl+0x44/0x5c\n"
                       " panic+0x118/0x2ed\n"
                       " ? sampledrv_apply+0x1/0x2 [sampledrv]\n"
                       " oops_end.cold+0xc/0x18\n"
                       " </TASK>\n");
    assert_title(&none, "Kernel panic - not syncing: Fatal exception");
    assert_false(none.specific);
    free(none.title);
}

/* The interrupt frames of a stall report are the reporter (the timer tick
 * that noticed); those of any other report can be the culprit. */
static void test_interrupt_frames(void **state)
{
    (void)state;
    const char *irq_trace = "Call Trace:\n"
                            " <IRQ>\n"
                            " dump_stack_lvl+0x44/0x5c\n"
                            " ubsan_epilogue+0x5/0x40\n"
                            " __ubsan_handle_out_of_bounds.cold+0x44/0x49\n"
                            " sampledrv_irq_handler+0x40/0x60 [sampledrv]\n"
                            " __handle_irq_event_percpu+0x4a/0x180\n"
                            " </IRQ>\n"
                            " <TASK>\n"
                            " default_idle+0xa/0x10\n";
    LG_AUTOFREE char *ubsan = lg_strdup_printf("UBSAN: array-index-out-of-bounds in drivers/x.c:1:2\n%s", irq_trace);
    result r = scan(ubsan);
    assert_title(&r, "UBSAN: array-index-out-of-bounds in sampledrv_irq_handler");
    free(r.title);

    LG_AUTOFREE char *stall = lg_strdup_printf("rcu: INFO: rcu_preempt self-detected stall on CPU\n%s", irq_trace);
    r = scan(stall);
    assert_title(&r, "INFO: rcu detected stall in default_idle");
    free(r.title);
}

/* A bluescreen block whose stop code never arrives (the guest reset, the
 * capture ended) is still a crash. */
static void test_bsod_without_stop_code(void **state)
{
    (void)state;
    result closed = scan("SAC>\r\n\a\a\a<?xml>\a<BP>\r\n<INSTANCE CLASSNAME=\"BLUESCREEN\">\r\n</INSTANCE>\r\n</BP>\a\r\n"
                         "Physical memory dump complete.\r\n");
    assert_title(&closed, "BSOD");
    assert_int_equal(closed.hit_line, 2);
    assert_int_equal(closed.changes, 1);
    free(closed.title);

    const char *cut = "SAC>\r\n\a\a\a<?xml>\a<BP>\r\n<INSTANCE CLASSNAME=\"BLUESCREEN\">";
    lg_scanner *sc = lg_scanner_new();
    assert_false(lg_scanner_feed(sc, cut, strlen(cut)));
    assert_false(lg_scanner_hit(sc));
    assert_true(lg_scanner_finish(sc));
    assert_string_equal(lg_scanner_title(sc), "BSOD");
    assert_int_equal(lg_scanner_hit_line(sc), 2);
    assert_false(lg_scanner_finish(sc));
    lg_scanner_free(sc);

    /* the stop screen that follows may still name the code and the driver */
    result late = scan("<BP>\r\n<INSTANCE CLASSNAME=\"BLUESCREEN\">\r\n</INSTANCE>\r\n</BP>\r\n"
                       "*** STOP: 0x000000D1 (0x0000000000000000,0x0000000000000002,0x0000000000000000,0xFFFFF88001234567)\r\n"
                       "***  sampledrv.sys - Address FFFFF88001234567 base at FFFFF88001230000, DateStamp 5f3e2a10\r\n");
    assert_title(&late, "BSOD 0xd1 DRIVER_IRQL_NOT_LESS_OR_EQUAL in sampledrv.sys");
    assert_int_equal(late.hit_line, 1);
    free(late.title);
}

/* A driver named long before a stop screen, or after the report window,
 * is not the one that crashed. */
static void test_bsod_driver_only_near_the_report(void **state)
{
    (void)state;
    lg_buf text = LG_BUF_INIT;
    lg_buf_puts(&text, "What failed: olddriver.sys\r\n");
    for (int i = 0; i < 50; i++)
        lg_buf_printf(&text, "SAC> line %d\r\n", i);
    lg_buf_puts(&text, "*** STOP: 0x00000050 (0x0,0x0,0x0,0x0)\r\n");
    for (int i = 0; i < 100; i++)
        lg_buf_printf(&text, "dump progress %d\r\n", i);
    lg_buf_puts(&text, "loaded: lateuser.sys\r\n");
    result r = scan(text.data);
    assert_title(&r, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA");
    assert_false(r.specific);
    free(r.title);
    lg_buf_free(&text);
}

/* Terminal control sequences around report lines change nothing. */
static void test_escape_sequences(void **state)
{
    (void)state;
    result r = scan("\x1b[2J\x1b[H\x1b[37;44mBUG: kernel NULL pointer dereference, address: 0000000000000000\x1b[0m\n"
                    "RIP: 0010:sampledrv_parse_record+0x1b/0x80 [sampledrv]\x1b[K\n");
    assert_title(&r, SAMPLEDRV_TITLE);
    free(r.title);
}

#define N_FIXED_TESTS 29

int main(void)
{
    struct CMUnitTest tests[N_FIXED_TESTS + LG_N_ELEMENTS(REPORTS) + LG_N_ELEMENTS(LOOKALIKES)] = {
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
        cmocka_unit_test(test_synthetic_logs),
        cmocka_unit_test(test_bsod_title_gains_the_driver),
        cmocka_unit_test(test_helper_frames_skipped),
        cmocka_unit_test(test_interrupt_frames),
        cmocka_unit_test(test_bsod_without_stop_code),
        cmocka_unit_test(test_bsod_driver_only_near_the_report),
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_canonical_tokens),
        cmocka_unit_test(test_windows_after_linux_and_back),
    };
    /* one TAP case per report kind and per look-alike, named after it */
    size_t n = N_FIXED_TESTS;
    for (size_t i = 0; i < LG_N_ELEMENTS(REPORTS); i++)
        tests[n++] = (struct CMUnitTest) { REPORTS[i].name, test_report_kind, NULL, NULL, (void *)&REPORTS[i] };
    for (size_t i = 0; i < LG_N_ELEMENTS(LOOKALIKES); i++)
        tests[n++] = (struct CMUnitTest) { LOOKALIKES[i].name, test_lookalike, NULL, NULL, (void *)&LOOKALIKES[i] };
    return _cmocka_run_group_tests("scanner", tests, n, NULL, NULL);
}
