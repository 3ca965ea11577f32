/* The qemu-guest-agent requests labgate sends, checked as the agent would
 * parse them (the transport itself runs against real guests in e2e). */
#include <errno.h>

#include "lg_test.h"

#include "base/json.h"
#include "guest/qga.h"

static void test_exec_request_linux(void **state)
{
    (void)state;
    LG_AUTOFREE char *req = lg_qga_exec_request("cd '/opt/x' && sh \"install.sh\"", false, "in\n", 3);
    char *s = NULL;
    assert_int_equal(lg_json_string(req, "execute", &s), 0);
    assert_string_equal(s, "guest-exec");
    free(s);
    assert_int_equal(lg_json_string(req, "arguments.path", &s), 0);
    assert_string_equal(s, "/bin/sh");
    free(s);
    bool capture = false;
    assert_int_equal(lg_json_bool(req, "arguments.capture-output", &capture), 0);
    assert_true(capture);
    /* stdin travels base64-encoded */
    assert_int_equal(lg_json_string(req, "arguments.input-data", &s), 0);
    assert_string_equal(s, "aW4K");
    free(s);
    /* the command is the argument after -c, quotes intact */
    assert_non_null(strstr(req, "\"arg\": [\"-c\", \"cd '/opt/x' && sh \\\"install.sh\\\"\"]"));
}

static void test_exec_request_windows(void **state)
{
    (void)state;
    LG_AUTOFREE char *req = lg_qga_exec_request("type C:\\ProgramData\\labgate\\boot-count", true, NULL, 0);
    char *s = NULL;
    /* cmd.exe, as OpenSSH for Windows runs a command */
    assert_int_equal(lg_json_string(req, "arguments.path", &s), 0);
    assert_string_equal(s, "C:\\Windows\\System32\\cmd.exe");
    free(s);
    assert_non_null(strstr(req, "\"arg\": [\"/c\", \"type C:\\\\ProgramData\\\\labgate\\\\boot-count\"]"));
    assert_false(lg_json_find(req, "arguments.input-data"));
}

/* guest-exec-status replies as qemu-ga gives them, and as a hostile or broken
 * guest might. */
static void test_exec_status_running(void **state)
{
    (void)state;
    bool exited = true;
    int status = 77;
    assert_int_equal(lg_qga_parse_exec_status("{\"return\": {\"exited\": false}}", &exited, &status, NULL), 0);
    assert_false(exited);
    assert_int_equal(status, 77);
}

static void test_exec_status_exited(void **state)
{
    (void)state;
    LG_AUTOBUF out = LG_BUF_INIT;
    bool exited = false;
    int status = 77;
    /* "hi\n" and "err" in base64 */
    assert_int_equal(lg_qga_parse_exec_status("{\"return\": {\"exitcode\": 3, \"out-data\": \"aGkK\", "
                                              "\"err-data\": \"ZXJy\", \"exited\": true}}",
                                              &exited, &status, &out), 0);
    assert_true(exited);
    assert_int_equal(status, 3);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "hi\nerr", 6);
    /* a killed command reads as the shell would give it */
    assert_int_equal(lg_qga_parse_exec_status("{\"return\": {\"exited\": true, \"signal\": 9}}",
                                              &exited, &status, NULL), 0);
    assert_int_equal(status, 137);
    /* Windows' NTSTATUS exit codes arrive as negative C ints */
    assert_int_equal(lg_qga_parse_exec_status("{\"return\": {\"exited\": true, \"exitcode\": -1073741819}}",
                                              &exited, &status, NULL), 0);
    assert_int_equal(status, -1073741819);
    assert_int_equal(lg_qga_parse_exec_status("{\"return\": {\"exited\": true}}", &exited, &status, NULL), 0);
    assert_int_equal(status, -1);
}

/* An exit code of 2^32 cut down to an int is 0: a failed command must not
 * read as success.  Out of int's range is a bad reply, for signals too. */
static void test_exec_status_out_of_range(void **state)
{
    (void)state;
    static const char *const replies[] = {
        "{\"return\": {\"exited\": true, \"exitcode\": 4294967296}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 2147483648}}",
        "{\"return\": {\"exited\": true, \"exitcode\": -2147483649}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 99999999999999999999}}",
        "{\"return\": {\"exited\": true, \"signal\": 4294967296}}",
        "{\"return\": {\"exited\": true, \"signal\": 9223372036854775807}}",
        "{\"return\": {\"exited\": true, \"signal\": -9}}",
        "{\"return\": {\"exitcode\": 0}}",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(replies); i++) {
        LG_AUTOBUF out = LG_BUF_INIT;
        bool exited = false;
        int status = 77;
        if (lg_qga_parse_exec_status(replies[i], &exited, &status, &out) != -EIO)
            fail_msg("accepted: %s (status %d)", replies[i], status);
        assert_false(exited);
        assert_int_equal(status, 77);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_request_linux),
        cmocka_unit_test(test_exec_request_windows),
        cmocka_unit_test(test_exec_status_running),
        cmocka_unit_test(test_exec_status_exited),
        cmocka_unit_test(test_exec_status_out_of_range),
    };
    return cmocka_run_group_tests_name("qga", tests, NULL, NULL);
}
