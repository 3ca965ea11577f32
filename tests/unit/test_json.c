/* The JSON reader and base64 codec the qemu-guest-agent transport relies on,
 * on replies in the shapes qemu-ga sends. */
#include <errno.h>

#include "lg_test.h"

#include "base/json.h"

static const char EXEC_STATUS[] =
    "{\"return\": {\"exitcode\": 3, \"out-data\": \"aGkK\", \"exited\": true, "
    "\"err-data\": \"\", \"nested\": {\"list\": [1, {\"a\": \"}\"}, [\"x\\\"y\"]], \"n\": null}}}";

static void test_find_nested_members(void **state)
{
    (void)state;
    int64_t n = 0;
    bool b = false;
    assert_int_equal(lg_json_int(EXEC_STATUS, "return.exitcode", &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(lg_json_bool(EXEC_STATUS, "return.exited", &b), 0);
    assert_true(b);
    char *s = NULL;
    assert_int_equal(lg_json_string(EXEC_STATUS, "return.out-data", &s), 0);
    assert_string_equal(s, "aGkK");
    free(s);
    assert_int_equal(lg_json_string(EXEC_STATUS, "return.err-data", &s), 0);
    assert_string_equal(s, "");
    free(s);
    /* members after arrays and objects holding brackets and quotes in strings */
    assert_true(lg_json_find(EXEC_STATUS, "return.nested.n"));
    assert_false(lg_json_find(EXEC_STATUS, "return.missing"));
    assert_false(lg_json_find(EXEC_STATUS, "return.exitcode.deeper"));
    /* a plain number as the whole return (guest-file-open) */
    assert_int_equal(lg_json_int("{\"return\": 1000}", "return", &n), 0);
    assert_int_equal(n, 1000);
}

static void test_wrong_types_and_bad_json(void **state)
{
    (void)state;
    int64_t n = 42;
    bool b = false;
    char *s = NULL;
    assert_int_equal(lg_json_int(EXEC_STATUS, "return.out-data", &n), -EINVAL);
    assert_int_equal(n, 42); /* not written on failure */
    assert_int_equal(lg_json_bool(EXEC_STATUS, "return.exitcode", &b), -EINVAL);
    assert_int_equal(lg_json_string(EXEC_STATUS, "return.exited", &s), -EINVAL);
    assert_int_equal(lg_json_int("{\"return\": 1.5}", "return", &n), -EINVAL);
    assert_false(lg_json_find("{\"return\": ", "return"));
    assert_false(lg_json_find("{\"return\": \"unterminated}", "return"));
    assert_false(lg_json_find("{\"a\" 1}", "a"));
    assert_false(lg_json_find(NULL, "a"));
    assert_false(lg_json_find("[1, 2]", "a"));
    assert_false(lg_json_find("", "a"));
}

/* json-glib 1.6 wraps integers past int64 (2^64 - 1 would read as -1) and
 * lets raw control characters into strings: refused. */
static void test_int64_range_and_raw_controls(void **state)
{
    (void)state;
    int64_t n = 42;
    assert_int_equal(lg_json_int("{\"n\": 9223372036854775807}", "n", &n), 0);
    assert_int_equal(n, INT64_MAX);
    assert_int_equal(lg_json_int("{\"n\": -9223372036854775808}", "n", &n), 0);
    assert_int_equal(n, INT64_MIN);
    n = 42;
    assert_int_equal(lg_json_int("{\"n\": 9223372036854775808}", "n", &n), -EINVAL);
    assert_int_equal(lg_json_int("{\"n\": -9223372036854775809}", "n", &n), -EINVAL);
    assert_int_equal(lg_json_int("{\"n\": 18446744073709551615}", "n", &n), -EINVAL);
    assert_int_equal(lg_json_int("{\"n\": 99999999999999999999}", "n", &n), -EINVAL);
    /* elsewhere in the reply too: the reply is broken */
    assert_int_equal(lg_json_int("{\"n\": 1, \"m\": 99999999999999999999}", "n", &n), -EINVAL);
    assert_int_equal(n, 42);
    /* long fractions and exponents are doubles, not integers */
    assert_int_equal(lg_json_int("{\"n\": 7, \"d\": 0.99999999999999999999e99999999999999999999}", "n", &n), 0);
    assert_int_equal(n, 7);
    char *s = NULL;
    assert_int_equal(lg_json_string("{\"e\": \"a\x01" "b\"}", "e", &s), -EINVAL);
    assert_int_equal(lg_json_string("{\"e\": \"a\\u0000b\"}", "e", &s), -EINVAL);
    assert_int_equal(lg_json_string("{\"e\": \"\\ud83dx\"}", "e", &s), -EINVAL);
    /* a surrogate pair is one character; "\\u0000" is a backslash and "u0000" */
    assert_int_equal(lg_json_string("{\"e\": \"\\ud83d\\ude00\"}", "e", &s), 0);
    assert_string_equal(s, "\xf0\x9f\x98\x80");
    free(s);
    assert_int_equal(lg_json_string("{\"e\": \"\\\\u0000\"}", "e", &s), 0);
    assert_string_equal(s, "\\u0000");
    free(s);
}

static void test_string_escapes(void **state)
{
    (void)state;
    char *s = NULL;
    assert_int_equal(lg_json_string("{\"e\": \"a\\\"b\\\\c\\n\\t\\u00e9\\u20ac/\"}", "e", &s), 0);
    assert_string_equal(s, "a\"b\\c\n\t\xc3\xa9\xe2\x82\xac/");
    free(s);
    assert_int_equal(lg_json_string("{\"e\": \"\\u0000\"}", "e", &s), -EINVAL);
    assert_int_equal(lg_json_string("{\"e\": \"\\ud83d\"}", "e", &s), -EINVAL);
    assert_int_equal(lg_json_string("{\"e\": \"\\q\"}", "e", &s), -EINVAL);
}

static void test_quote_round_trip(void **state)
{
    (void)state;
    const char *text = "sh -c \"echo 'x'\"\n\tback\\slash \x01";
    LG_AUTOBUF doc = LG_BUF_INIT;
    lg_buf_puts(&doc, "{\"arg\": ");
    lg_json_quote(&doc, text);
    lg_buf_puts(&doc, "}");
    assert_non_null(strstr(doc.data, "\\u0001"));
    char *back = NULL;
    assert_int_equal(lg_json_string(doc.data, "arg", &back), 0);
    assert_string_equal(back, text);
    free(back);
}

static void test_base64(void **state)
{
    (void)state;
    static const struct { const char *plain, *coded; } vectors[] = {
        /* RFC 4648 section 10 */
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(vectors); i++) {
        char *coded = lg_base64_encode(vectors[i].plain, strlen(vectors[i].plain));
        assert_string_equal(coded, vectors[i].coded);
        free(coded);
        unsigned char *plain = NULL;
        size_t len = 0;
        assert_int_equal(lg_base64_decode(vectors[i].coded, &plain, &len), 0);
        assert_int_equal(len, strlen(vectors[i].plain));
        assert_memory_equal(plain, vectors[i].plain, len);
        free(plain);
    }
    /* every byte value survives */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    char *coded = lg_base64_encode(all, sizeof(all));
    unsigned char *back = NULL;
    size_t len = 0;
    assert_int_equal(lg_base64_decode(coded, &back, &len), 0);
    assert_int_equal(len, sizeof(all));
    assert_memory_equal(back, all, sizeof(all));
    free(coded);
    free(back);
    static const char *bad[] = { "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=" };
    for (size_t i = 0; i < LG_N_ELEMENTS(bad); i++)
        assert_int_equal(lg_base64_decode(bad[i], &back, &len), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_nested_members),
        cmocka_unit_test(test_wrong_types_and_bad_json),
        cmocka_unit_test(test_int64_range_and_raw_controls),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_quote_round_trip),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
