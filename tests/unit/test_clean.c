/* The two cleaners of guest text (base/clean.h): what XML and a terminal get
 * for hostile input, case by case. */
#include "lg_test.h"

#include "base/clean.h"

#define FFFD "\xef\xbf\xbd"

typedef struct clean_case {
    const char *name;
    const char *in;
    const char *xml;  /* lg_clean_xml */
    const char *term; /* lg_clean_term */
} clean_case;

static const clean_case CASES[] = {
    { "plain ASCII", "BUG: kernel NULL pointer dereference", "BUG: kernel NULL pointer dereference",
      "BUG: kernel NULL pointer dereference" },
    { "empty", "", "", "" },
    { "ESC colour sequence", "\x1b[31mred\x1b[0m", FFFD "[31mred" FFFD "[0m", "\\x1b[31mred\\x1b[0m" },
    { "ESC cursor up + erase", "\x1b[1A\x1b[JPASS", FFFD "[1A" FFFD "[JPASS", "\\x1b[1A\\x1b[JPASS" },
    { "OSC window title, BEL", "\x1b]0;owned\x07x", FFFD "]0;owned" FFFD "x", "\\x1b]0;owned\\x07x" },
    { "OSC with ST", "\x1b]8;;http://x\x1b\\link", FFFD "]8;;http://x" FFFD "\\link", "\\x1b]8;;http://x\\x1b\\link" },
    { "carriage return redraws a row", "oops\rPASS -", "oops\rPASS -", "oops\\rPASS -" },
    { "TAB and LF", "a\tb\nc", "a\tb\nc", "a\\tb\\nc" },
    { "C0 SOH, BS", "a\x01" "b\x08", "a" FFFD "b" FFFD, "a\\x01b\\x08" },
    { "DEL", "a\x7f" "b", "a\x7f" "b", "a\\x7fb" },
    { "C1 CSI as UTF-8 (U+009B)", "a\xc2\x9b" "31m", "a\xc2\x9b" "31m", "a\\u009b31m" },
    { "C1 NEL (U+0085)", "\xc2\x85", "\xc2\x85", "\\u0085" },
    { "raw 0x9b byte (8-bit CSI)", "a\x9b" "2J", "a" FFFD "2J", "a\\x9b2J" },
    { "stray 0xff", "t\xff" "t", "t" FFFD "t", "t\\xfft" },
    { "0xfe, 0xf8", "\xfe\xf8", FFFD FFFD, "\\xfe\\xf8" },
    { "truncated 3-byte sequence", "\xe2\x82", FFFD FFFD, "\\xe2\\x82" },
    { "lead byte then ASCII", "\xe2" "A", FFFD "A", "\\xe2A" },
    { "overlong NUL (C0 80)", "\xc0\x80", FFFD FFFD, "\\xc0\\x80" },
    { "overlong ESC (C0 9B)", "\xc0\x9b", FFFD FFFD, "\\xc0\\x9b" },
    { "overlong '/' (E0 80 AF)", "\xe0\x80\xaf", FFFD FFFD FFFD, "\\xe0\\x80\\xaf" },
    { "overlong 4-byte (F0 80 80 80)", "\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD, "\\xf0\\x80\\x80\\x80" },
    { "surrogate U+D800", "\xed\xa0\x80", FFFD FFFD FFFD, "\\xed\\xa0\\x80" },
    { "surrogate U+DFFF", "\xed\xbf\xbf", FFFD FFFD FFFD, "\\xed\\xbf\\xbf" },
    { "above U+10FFFF", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD, "\\xf4\\x90\\x80\\x80" },
    { "U+FFFE", "a\xef\xbf\xbe" "b", "a" FFFD "b", "a\xef\xbf\xbe" "b" },
    { "U+FFFF", "\xef\xbf\xbf", FFFD, "\xef\xbf\xbf" },
    { "valid multibyte kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5 \xe4\xb8\xad",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5 \xe4\xb8\xad", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5 \xe4\xb8\xad" },
    { "U+FFFD itself kept", FFFD, FFFD, FFFD },
    { "U+10FFFF kept", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
    { "markup left to the XML writer", "<a href=\"x\">&amp;</a>", "<a href=\"x\">&amp;</a>",
      "<a href=\"x\">&amp;</a>" },
};

static void print_escaped(const char *label, const char *s)
{
    LG_AUTOBUF b = LG_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        lg_buf_printf(&b, *p >= 0x20 && *p < 0x7f ? "%c" : "<%02x>", *p);
    print_message("#   %s: %s\n", label, b.data ? b.data : "");
}

static void check(const clean_case *c, const char *which, const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    print_message("# %s: %s\n", which, c->name);
    print_escaped("got ", got);
    print_escaped("want", want);
    fail_msg("%s of \"%s\" differs", which, c->name);
}

static void test_clean_xml_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(CASES); i++) {
        LG_AUTOFREE char *got = lg_clean_xml(CASES[i].in);
        check(&CASES[i], "lg_clean_xml", got, CASES[i].xml);
    }
}

static void test_clean_term_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < LG_N_ELEMENTS(CASES); i++) {
        LG_AUTOFREE char *got = lg_clean_term(CASES[i].in);
        check(&CASES[i], "lg_clean_term", got, CASES[i].term);
    }
}

/* Whatever the bytes, the terminal gets no control byte at all, and XML
 * gets only what libxml2 accepts as character data. */
static void test_clean_every_byte_pair(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            char in[3] = { (char)a, (char)b, 0x9b };
            LG_AUTOFREE char *term = lg_clean_term_n(in, sizeof(in));
            for (const unsigned char *p = (const unsigned char *)term; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                    fail_msg("lg_clean_term(%02x %02x 9b) left byte %02x", a, b, *p);
            assert_null(strstr(term, "\xc2\x9b"));
            LG_AUTOFREE char *xml = lg_clean_xml_n(in, sizeof(in));
            size_t len = strlen(xml);
            for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = lg_utf8_decode(xml + i, len - i, &cp);
                if (!n || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff)
                    fail_msg("lg_clean_xml(%02x %02x 9b) left an invalid character at %zu", a, b, i);
                i += n;
            }
        }
}

static void test_clean_nul_and_null(void **state)
{
    (void)state;
    assert_null(lg_clean_xml(NULL));
    assert_null(lg_clean_term(NULL));
    LG_AUTOFREE char *xml = lg_clean_xml_n("a\0b", 3);
    assert_string_equal(xml, "a" FFFD "b");
    LG_AUTOFREE char *term = lg_clean_term_n("a\0b", 3);
    assert_string_equal(term, "a\\x00b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_xml_table),
        cmocka_unit_test(test_clean_term_table),
        cmocka_unit_test(test_clean_every_byte_pair),
        cmocka_unit_test(test_clean_nul_and_null),
    };
    return cmocka_run_group_tests_name("clean", tests, NULL, NULL);
}
