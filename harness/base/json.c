#include "json.h"
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

static const char *skip_value(const char *p, int depth);

/* Past a string literal starting at p (which is '"'), or NULL. */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        } else if ((unsigned char)*p < 0x20) {
            return NULL;
        }
    }
    return NULL;
}

static const char *skip_container(const char *p, char close, int depth)
{
    bool object = close == '}';
    p = skip_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            if (*p != '"' || !(p = skip_string(p)))
                return NULL;
            p = skip_ws(p);
            if (*p++ != ':')
                return NULL;
            p = skip_ws(p);
        }
        if (!(p = skip_value(p, depth + 1)))
            return NULL;
        p = skip_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
        p = skip_ws(p);
    }
}

static const char *skip_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    switch (*p) {
    case '"': return skip_string(p);
    case '{': return skip_container(p, '}', depth);
    case '[': return skip_container(p, ']', depth);
    case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            p++;
            while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')
                p++;
            return p;
        }
        return NULL;
    }
}

/* The member `name` (length len) of the object at p, or NULL. */
static const char *member(const char *p, const char *name, size_t len)
{
    if (*p != '{')
        return NULL;
    p = skip_ws(p + 1);
    while (*p == '"') {
        const char *key = p + 1;
        const char *end = skip_string(p);
        if (!end)
            return NULL;
        /* keys in qemu-ga replies carry no escapes; compare raw */
        bool match = (size_t)(end - 1 - key) == len && strncmp(key, name, len) == 0;
        p = skip_ws(end);
        if (*p++ != ':')
            return NULL;
        p = skip_ws(p);
        if (match)
            return p;
        if (!(p = skip_value(p, 1)))
            return NULL;
        p = skip_ws(p);
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1);
    }
    return NULL;
}

const char *lg_json_find(const char *json, const char *path)
{
    if (!json)
        return NULL;
    const char *p = skip_ws(json);
    while (p && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        p = member(p, path, len);
        path += len + (dot ? 1 : 0);
    }
    /* the value itself must be well-formed */
    return p && skip_value(p, 0) ? p : NULL;
}

int lg_json_int(const char *json, const char *path, int64_t *out)
{
    const char *v = lg_json_find(json, path);
    if (!v || !(*v == '-' || (*v >= '0' && *v <= '9')))
        return -EINVAL;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end == '.' || *end == 'e' || *end == 'E')
        return -EINVAL;
    *out = n;
    return 0;
}

int lg_json_bool(const char *json, const char *path, bool *out)
{
    const char *v = lg_json_find(json, path);
    if (v && strncmp(v, "true", 4) == 0)
        *out = true;
    else if (v && strncmp(v, "false", 5) == 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -EINVAL;
    }
    *out = v;
    return 0;
}

int lg_json_string(const char *json, const char *path, char **out)
{
    const char *v = lg_json_find(json, path);
    if (!v || *v != '"')
        return -EINVAL;
    lg_buf s = LG_BUF_INIT;
    lg_buf_puts(&s, ""); /* "" is a string too */
    for (const char *p = v + 1; *p != '"'; p++) {
        char c = *p;
        if (c != '\\') {
            lg_buf_append(&s, p, 1);
            continue;
        }
        unsigned u;
        switch (*++p) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (hex4(p + 1, &u) < 0 || u == 0 || (u >= 0xd800 && u <= 0xdfff)) {
                lg_buf_free(&s);
                return -EINVAL;
            }
            p += 4;
            char utf8[3];
            size_t n;
            if (u < 0x80) {
                utf8[0] = (char)u;
                n = 1;
            } else if (u < 0x800) {
                utf8[0] = (char)(0xc0 | (u >> 6));
                utf8[1] = (char)(0x80 | (u & 0x3f));
                n = 2;
            } else {
                utf8[0] = (char)(0xe0 | (u >> 12));
                utf8[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                utf8[2] = (char)(0x80 | (u & 0x3f));
                n = 3;
            }
            lg_buf_append(&s, utf8, n);
            continue;
        default:
            lg_buf_free(&s);
            return -EINVAL;
        }
        lg_buf_append(&s, &c, 1);
    }
    *out = lg_buf_steal(&s);
    return 0;
}

void lg_json_quote(lg_buf *buf, const char *s)
{
    lg_buf_puts(buf, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': lg_buf_puts(buf, "\\\""); break;
        case '\\': lg_buf_puts(buf, "\\\\"); break;
        case '\n': lg_buf_puts(buf, "\\n"); break;
        case '\r': lg_buf_puts(buf, "\\r"); break;
        case '\t': lg_buf_puts(buf, "\\t"); break;
        default:
            if (*p < 0x20)
                lg_buf_printf(buf, "\\u%04x", *p);
            else
                lg_buf_append(buf, p, 1);
        }
    }
    lg_buf_puts(buf, "\"");
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *lg_base64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = lg_malloc0((len + 2) / 3 * 4 + 1);
    char *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = B64[(v >> 6) & 63];
        *o++ = B64[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = i + 1 < len ? B64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

int lg_base64_decode(const char *text, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(text);
    if (len % 4)
        return -EINVAL;
    unsigned char *buf = lg_malloc0(len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = text[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_value(c)) < 0) {
                free(buf);
                return -EINVAL;
            }
        }
        unsigned bits = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        buf[n++] = (unsigned char)(bits >> 16);
        if (pad < 2)
            buf[n++] = (unsigned char)(bits >> 8);
        if (pad < 1)
            buf[n++] = (unsigned char)bits;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}
