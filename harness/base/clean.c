#include "clean.h"

#include <stdbool.h>
#include <string.h>

#include "buf.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

size_t lg_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!len)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    uint32_t c;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, c = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, c = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, c = p[0] & 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    /* overlong forms would let "\xc0\x8a" pass for a harmless byte */
    static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min_cp[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

static bool xml_allows(uint32_t cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n' || cp == '\r';
    return cp != 0xfffe && cp != 0xffff;
}

char *lg_clean_xml_n(const char *s, size_t len)
{
    if (!s)
        return NULL;
    lg_buf out = LG_BUF_INIT;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = lg_utf8_decode(s + i, len - i, &cp);
        if (n && xml_allows(cp)) {
            lg_buf_append(&out, s + i, n);
            i += n;
        } else {
            lg_buf_puts(&out, REPLACEMENT);
            i += n ? n : 1;
        }
    }
    return lg_buf_steal(&out);
}

char *lg_clean_xml(const char *s)
{
    return s ? lg_clean_xml_n(s, strlen(s)) : NULL;
}

static void term_append(lg_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t n = lg_utf8_decode(s + i, len - i, &cp);
        if (!n) {
            lg_buf_printf(out, "\\x%02x", (unsigned char)s[i]);
            i++;
            continue;
        }
        if (cp == '\r')
            lg_buf_puts(out, "\\r");
        else if (cp == '\n')
            lg_buf_puts(out, "\\n");
        else if (cp == '\t')
            lg_buf_puts(out, "\\t");
        else if (cp < 0x20 || cp == 0x7f)
            lg_buf_printf(out, "\\x%02x", (unsigned)cp);
        else if (cp >= 0x80 && cp < 0xa0)
            lg_buf_printf(out, "\\u%04x", (unsigned)cp);
        else
            lg_buf_append(out, s + i, n);
        i += n;
    }
}

char *lg_clean_term_n(const char *s, size_t len)
{
    if (!s)
        return NULL;
    lg_buf out = LG_BUF_INIT;
    term_append(&out, s, len);
    return lg_buf_steal(&out);
}

void lg_clean_term_append(lg_buf *out, const char *s)
{
    if (s)
        term_append(out, s, strlen(s));
}

char *lg_clean_term(const char *s)
{
    return s ? lg_clean_term_n(s, strlen(s)) : NULL;
}
