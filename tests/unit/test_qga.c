/* The qemu-guest-agent requests labgate sends, checked as the agent would
 * parse them (the transport itself runs against real guests in e2e). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_request_linux),
        cmocka_unit_test(test_exec_request_windows),
    };
    return cmocka_run_group_tests_name("qga", tests, NULL, NULL);
}
