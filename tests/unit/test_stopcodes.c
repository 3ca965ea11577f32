/* The Windows bugcheck table and the BSOD titles built from it: what a user
 * sees is the title, the same whether the stop code came from the serial
 * console or, as a number, from the hyper-v crash MSRs. */
#include "lg_test.h"

#include "watch/stopcodes.h"

/* The codes the release gate must name (from the issue), as Microsoft's
 * bug check reference spells them. */
static const struct {
    uint32_t code;
    const char *name;
} REQUIRED[] = {
    { 0x0A, "IRQL_NOT_LESS_OR_EQUAL" },
    { 0x19, "BAD_POOL_HEADER" },
    { 0x1A, "MEMORY_MANAGEMENT" },
    { 0x1E, "KMODE_EXCEPTION_NOT_HANDLED" },
    { 0x24, "NTFS_FILE_SYSTEM" },
    { 0x3B, "SYSTEM_SERVICE_EXCEPTION" },
    { 0x50, "PAGE_FAULT_IN_NONPAGED_AREA" },
    { 0x7B, "INACCESSIBLE_BOOT_DEVICE" },
    { 0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
    { 0x7F, "UNEXPECTED_KERNEL_MODE_TRAP" },
    { 0x9F, "DRIVER_POWER_STATE_FAILURE" },
    { 0xA0, "INTERNAL_POWER_ERROR" },
    { 0xC2, "BAD_POOL_CALLER" },
    { 0xC4, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
    { 0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
    { 0xE2, "MANUALLY_INITIATED_CRASH" },
    { 0xEF, "CRITICAL_PROCESS_DIED" },
    { 0xF4, "CRITICAL_OBJECT_TERMINATION" },
    { 0x101, "CLOCK_WATCHDOG_TIMEOUT" },
    { 0x124, "WHEA_UNCORRECTABLE_ERROR" },
    { 0x133, "DPC_WATCHDOG_VIOLATION" },
    { 0x139, "KERNEL_SECURITY_CHECK_FAILURE" },
    { 0x13A, "KERNEL_MODE_HEAP_CORRUPTION" },
    { 0xC000021A, "STATUS_SYSTEM_PROCESS_TERMINATED" },
    { 0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" },
    { 0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M" },
    { 0xDEADDEAD, "MANUALLY_INITIATED_CRASH1" },
};

static void test_required_codes_have_their_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(REQUIRED); i++) {
        const char *name = lg_stopcode_name(REQUIRED[i].code);
        if (strcmp(name, REQUIRED[i].name) != 0)
            fail_msg("0x%X is \"%s\", expected \"%s\"", (unsigned)REQUIRED[i].code, name, REQUIRED[i].name);
    }
}

/* Driver Verifier's bugchecks (policy driver-verifier): each titled by its
 * name, and known as Driver Verifier's; ordinary ones are not. */
static void test_driver_verifier_codes(void **state)
{
    (void)state;
    static const struct { uint32_t code; const char *title; } verifier[] = {
        { 0xC4, "BSOD 0xc4 DRIVER_VERIFIER_DETECTED_VIOLATION in sampledrv.sys" },
        { 0xC1, "BSOD 0xc1 SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION in sampledrv.sys" },
        { 0xC6, "BSOD 0xc6 DRIVER_CAUGHT_MODIFYING_FREED_POOL in sampledrv.sys" },
        { 0xC9, "BSOD 0xc9 DRIVER_VERIFIER_IOMANAGER_VIOLATION in sampledrv.sys" },
        { 0xD5, "BSOD 0xd5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL in sampledrv.sys" },
        { 0xD6, "BSOD 0xd6 DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION in sampledrv.sys" },
        { 0xE6, "BSOD 0xe6 DRIVER_VERIFIER_DMA_VIOLATION in sampledrv.sys" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(verifier); i++) {
        LG_AUTOFREE char *title = lg_stopcode_title(verifier[i].code, "\\SystemRoot\\System32\\drivers\\SampleDrv.sys");
        assert_string_equal(title, verifier[i].title);
        assert_true(lg_stopcode_is_verifier(verifier[i].code));
    }
    assert_false(lg_stopcode_is_verifier(0x50));
    assert_false(lg_stopcode_is_verifier(0xD1));
}

static void test_names_map_back_to_codes(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(REQUIRED); i++) {
        uint32_t code = 0;
        assert_true(lg_stopcode_lookup(REQUIRED[i].name, &code));
        assert_int_equal(code, REQUIRED[i].code);
    }
    /* exact names only: the screen prints them in capitals, and a prefix
     * or a word is not a bugcheck */
    uint32_t code = 7;
    assert_false(lg_stopcode_lookup("page_fault_in_nonpaged_area", &code));
    assert_false(lg_stopcode_lookup("PAGE_FAULT", &code));
    assert_false(lg_stopcode_lookup("UNKNOWN_BUGCHECK", &code));
    assert_false(lg_stopcode_lookup("", &code));
    assert_false(lg_stopcode_lookup(NULL, &code));
    assert_int_equal(code, 7); /* untouched on failure */
}

static void test_unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(lg_stopcode_name(0), "UNKNOWN_BUGCHECK");
    assert_string_equal(lg_stopcode_name(0x1234), "UNKNOWN_BUGCHECK");
    assert_string_equal(lg_stopcode_name(0x50 | 0x10000000), "UNKNOWN_BUGCHECK");
    assert_string_equal(lg_stopcode_name(UINT32_MAX), "UNKNOWN_BUGCHECK");
    char *t = lg_stopcode_title(0x1234, NULL);
    assert_string_equal(t, "BSOD 0x1234 UNKNOWN_BUGCHECK");
    free(t);
}

static void test_titles(void **state)
{
    (void)state;
    static const struct {
        uint32_t code;
        const char *driver;
        const char *title;
    } cases[] = {
        /* lowercase hex without leading zeros */
        { 0x50, NULL, "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA" },
        { 0x00000050, "", "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA" },
        { 0xA, NULL, "BSOD 0xa IRQL_NOT_LESS_OR_EQUAL" },
        { 0x13A, NULL, "BSOD 0x13a KERNEL_MODE_HEAP_CORRUPTION" },
        { 0xC000021A, NULL, "BSOD 0xc000021a STATUS_SYSTEM_PROCESS_TERMINATED" },
        { 0x1000007E, NULL, "BSOD 0x1000007e SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" },
        { 0xDEADDEAD, NULL, "BSOD 0xdeaddead MANUALLY_INITIATED_CRASH1" },
        /* the driver: file name only, lowercase */
        { 0x50, "csagent.sys", "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in csagent.sys" },
        { 0x50, "SAMPLEDRV.SYS", "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in sampledrv.sys" },
        { 0x50, "\\SystemRoot\\System32\\drivers\\CSAgent.sys",
          "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in csagent.sys" },
        { 0xD1, "  sampledrv.sys.", "BSOD 0xd1 DRIVER_IRQL_NOT_LESS_OR_EQUAL in sampledrv.sys" },
        { 0x7E, "\\", "BSOD 0x7e SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        char *t = lg_stopcode_title(cases[i].code, cases[i].driver);
        assert_non_null(t);
        if (strcmp(t, cases[i].title) != 0)
            fail_msg("title \"%s\", expected \"%s\"", t, cases[i].title);
        free(t);
    }
}

static void test_driver_names(void **state)
{
    (void)state;
    char *d = lg_stopcode_driver_name("\\??\\C:\\Windows\\system32\\DRIVERS\\SampleDrv.sys");
    assert_string_equal(d, "sampledrv.sys");
    free(d);
    d = lg_stopcode_driver_name("ntoskrnl.exe - Address FFFFF80001234567");
    assert_string_equal(d, "ntoskrnl.exe");
    free(d);
    assert_null(lg_stopcode_driver_name(NULL));
    assert_null(lg_stopcode_driver_name(""));
    assert_null(lg_stopcode_driver_name("C:\\Windows\\"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_required_codes_have_their_names),
        cmocka_unit_test(test_names_map_back_to_codes),
        cmocka_unit_test(test_driver_verifier_codes),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_titles),
        cmocka_unit_test(test_driver_names),
    };
    return cmocka_run_group_tests_name("stopcodes", tests, NULL, NULL);
}
