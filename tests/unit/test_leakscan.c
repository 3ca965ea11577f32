/* The kmemleak report a debug guest gives at the end of a job, as the
 * finding a user reads in run.xml: how many objects leaked and where they
 * were allocated, the allocator's own frames skipped. */
#include "lg_test.h"

#include "base/mem.h"
#include "watch/leakscan.h"

/* One object as kmemleak's debugfs file prints it (mm/kmemleak.c,
 * print_unreferenced()), allocated by `fn` of module `mod` (or the core
 * kernel when mod is NULL). */
static void add_object(lg_buf *b, const char *prefix, unsigned long addr, const char *fn, const char *mod)
{
    lg_buf_printf(b, "%sunreferenced object 0x%lx (size 64):\n", prefix, addr);
    lg_buf_printf(b, "%s  comm \"sh\", pid 245, jiffies 4294901822 (age 12.500s)\n", prefix);
    lg_buf_printf(b, "%s  hex dump (first 32 bytes):\n", prefix);
    lg_buf_printf(b, "%s    de ad c0 de 13 37 00 00 00 00 00 00 00 00 00 00  .....7..........\n", prefix);
    lg_buf_printf(b, "%s  backtrace:\n", prefix);
    lg_buf_printf(b, "%s    [<ffffffff8133a8c5>] __kmem_cache_alloc_node+0x1e5/0x330\n", prefix);
    lg_buf_printf(b, "%s    [<ffffffff812b71b4>] kmalloc_trace+0x24/0x90\n", prefix);
    lg_buf_printf(b, "%s    [<ffffffffc00021a3>] %s+0xd3/0x1f0%s%s%s\n", prefix, fn, mod ? " [" : "", mod ? mod : "",
                  mod ? "]" : "");
    lg_buf_printf(b, "%s    [<ffffffff81400f10>] vfs_write+0x190/0x2d0\n", prefix);
}

static void test_counts_objects_by_allocation_site(void **state)
{
    LG_AUTOBUF b = LG_BUF_INIT;
    add_object(&b, "", 0xffff88800a3f4e00, "sac_parse_ioc", "sampledrv");
    add_object(&b, "", 0xffff88800a3f4e40, "sac_parse_ioc", "sampledrv");
    add_object(&b, "", 0xffff88800a3f5000, "seq_open", NULL);
    size_t n = 0;
    LG_AUTOFREE char *s = lg_leakscan_summarize(b.data, b.len, &n);
    assert_int_equal(n, 3);
    assert_string_equal(s, "kmemleak: 3 unreferenced objects: memory leak in sac_parse_ioc (2), "
                           "memory leak in seq_open");
}

static void test_no_leak_no_finding(void **state)
{
    size_t n = 7;
    assert_null(lg_leakscan_summarize("", 0, &n));
    assert_int_equal(n, 0);
    const char *quiet = "kmemleak: Automatic memory scanning thread ended\n";
    assert_null(lg_leakscan_summarize(quiet, strlen(quiet), &n));
    assert_int_equal(n, 0);
}

/* kmemleak.verbose=1 prints the same blocks to the console, each line
 * behind a timestamp and "kmemleak: "; the file may lack its last newline. */
static void test_console_form_and_last_line(void **state)
{
    LG_AUTOBUF b = LG_BUF_INIT;
    add_object(&b, "[   42.000001] kmemleak: ", 0xffff88800a3f4e00, "sampledrv_cache_rule", "sampledrv");
    b.data[--b.len] = '\0';
    size_t n = 0;
    LG_AUTOFREE char *s = lg_leakscan_summarize(b.data, b.len, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s, "kmemleak: 1 unreferenced object: memory leak in sampledrv_cache_rule");
}

static void test_many_sites_are_capped(void **state)
{
    LG_AUTOBUF b = LG_BUF_INIT;
    for (int i = 0; i < LG_LEAKSCAN_MAX_TITLES + 3; i++) {
        char fn[32];
        snprintf(fn, sizeof(fn), "leaker_%d", i);
        add_object(&b, "", 0xffff88800a000000UL + (unsigned long)i * 64, fn, "mod");
    }
    add_object(&b, "", 0xffff88800b000000UL, "leaker_5", "mod");
    size_t n = 0;
    LG_AUTOFREE char *s = lg_leakscan_summarize(b.data, b.len, &n);
    assert_int_equal(n, LG_LEAKSCAN_MAX_TITLES + 4);
    /* the most frequent first, then in order of appearance */
    assert_string_equal(s, "kmemleak: 8 unreferenced objects: memory leak in leaker_5 (2), memory leak in leaker_0, "
                           "memory leak in leaker_1, memory leak in leaker_2 and 3 more");
}

/* Guest output: a block without a backtrace, binary junk, a name with
 * terminal controls; the summary stays one clean line. */
static void test_hostile_report(void **state)
{
    const char text[] = "unreferenced object 0xffff88800a3f4e00 (size 64):\n"
                        "  comm \"\x1b[2Jx\", pid 1\n"
                        "\x01\x02\xff garbage\n"
                        "unreferenced object 0xffff88800a3f4e40 (size 64):\n"
                        "  backtrace:\n"
                        "    [<ffffffffc00021a3>] evil\x1b]0;x\x07_fn+0x1/0x2 [m]\n";
    size_t n = 0;
    LG_AUTOFREE char *s = lg_leakscan_summarize(text, sizeof(text) - 1, &n);
    assert_int_equal(n, 2);
    assert_non_null(s);
    for (const char *p = s; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    assert_non_null(strstr(s, "kmemleak: 2 unreferenced objects: memory leak"));
}

/* kmemleak's file as the debug guest's leak scan read it (content/dup-ioc,
 * tests/fixtures/console/README.md) */
static void test_captured_scan(void **state)
{
    size_t len = 0, n = 0;
    LG_AUTOFREE char *text = read_fixture(FIXTURE("console/linux-x86_64-debug-kmemleak-scan.txt"), &len);
    LG_AUTOFREE char *s = lg_leakscan_summarize(text, len, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s, "kmemleak: 1 unreferenced object: memory leak in sac_parse_ioc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_objects_by_allocation_site),
        cmocka_unit_test(test_no_leak_no_finding),
        cmocka_unit_test(test_console_form_and_last_line),
        cmocka_unit_test(test_many_sites_are_capped),
        cmocka_unit_test(test_hostile_report),
        cmocka_unit_test(test_captured_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
