/* GUEST_PANICKED details as QEMU sends them through libvirt. */
#include "lg_test.h"

#include "watch/panicinfo.h"

/* Shape of QEMU's event data for a Windows bugcheck with hv-crash. */
static const char hyperv_0x50[] =
    "{\"action\": \"pause\", \"info\": {\"arg1\": 80, \"arg2\": 18446735277796675584, "
    "\"arg3\": 0, \"arg4\": 18446735277635618151, \"arg5\": 2, \"type\": \"hyper-v\"}}";

static void test_hyperv_bugcheck_gives_the_bsod_title(void **state)
{
    (void)state;
    lg_panic_info info;
    assert_true(lg_panic_info_parse(hyperv_0x50, &info));
    assert_true(info.hyperv);
    assert_int_equal(info.arg[0], 0x50);
    assert_int_equal(info.arg[4], 2);
    char *title = lg_panic_info_title(&info);
    assert_string_equal(title, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA");
    free(title);
    char *desc = lg_panic_info_describe(&info);
    assert_string_equal(desc, "0x50 (0xfffff8000abcd000, 0x0, 0xfffff80001234567, 0x2)");
    free(desc);
}

static void test_compact_json_and_key_order(void **state)
{
    (void)state;
    lg_panic_info info;
    assert_true(lg_panic_info_parse("{\"info\":{\"type\":\"hyper-v\",\"arg5\":0,\"arg4\":0,\"arg3\":0,"
                                    "\"arg2\":0,\"arg1\":239},\"action\":\"pause\"}", &info));
    char *title = lg_panic_info_title(&info);
    assert_string_equal(title, "BSOD 0xef CRITICAL_PROCESS_DIED");
    free(title);
}

static void test_linux_pvpanic_has_no_details(void **state)
{
    (void)state;
    lg_panic_info info = { .hyperv = false };
    assert_false(lg_panic_info_parse("{\"action\": \"pause\"}", &info));
    assert_false(lg_panic_info_parse("{\"action\": \"pause\", \"info\": {\"type\": \"s390\", \"core\": 0}}", &info));
    assert_false(lg_panic_info_parse(NULL, &info));
    assert_false(lg_panic_info_parse("{\"info\": {\"type\": \"hyper-v\", \"arg1\": 80}}", &info));
    assert_false(info.hyperv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hyperv_bugcheck_gives_the_bsod_title),
        cmocka_unit_test(test_compact_json_and_key_order),
        cmocka_unit_test(test_linux_pvpanic_has_no_details),
    };
    return cmocka_run_group_tests_name("panicinfo", tests, NULL, NULL);
}
