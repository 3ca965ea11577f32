#include "json.h"
#include "mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

/* json-glib 1.6 (Debian 12) is lax where a guest's reply must not be: it
 * wraps integers past int64 (99999999999999999999 reads as -1), takes "\q"
 * for "q", cuts a string at "\u0000", and lets raw control characters into
 * strings.  This refuses a text with any of those before json-glib parses
 * it; the grammar itself is json-glib's. */
static bool strict_enough(const char *p)
{
    for (; *p; p++) {
        if (*p == '"') {
            for (p++; *p != '"'; p++) {
                if (!*p || (unsigned char)*p < 0x20)
                    return false;
                if (*p != '\\')
                    continue;
                p++;
                if (*p == 'u' ? strncmp(p + 1, "0000", 4) == 0 : !*p || !strchr("\"\\/bfnrt", *p))
                    return false;
            }
        } else if (*p == '-' || g_ascii_isdigit(*p)) {
            /* a number: an integer must fit int64 */
            char *end;
            errno = 0;
            g_ascii_strtoll(p, &end, 10);
            if (errno == ERANGE && *end != '.' && *end != 'e' && *end != 'E')
                return false;
            p += strspn(p, "0123456789.eE+-") - 1;
        }
    }
    return true;
}

/* A copy of the node at a dotted member path, or NULL. */
static JsonNode *lookup(const char *json, const char *path)
{
    if (!json || !strict_enough(json))
        return NULL;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, json, -1, NULL))
        return NULL;
    JsonNode *node = json_parser_get_root(parser);
    g_auto(GStrv) names = g_strsplit(path, ".", -1);
    for (char **name = names; node && *name; name++)
        node = JSON_NODE_HOLDS_OBJECT(node) ? json_object_get_member(json_node_get_object(node), *name) : NULL;
    return node ? json_node_copy(node) : NULL;
}

/* The value at path if it is a scalar of that type, or NULL. */
static JsonNode *lookup_value(const char *json, const char *path, GType type)
{
    JsonNode *node = lookup(json, path);
    if (node && (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type)) {
        json_node_unref(node);
        return NULL;
    }
    return node;
}

bool lg_json_find(const char *json, const char *path)
{
    g_autoptr(JsonNode) node = lookup(json, path);
    return node != NULL;
}

int lg_json_int(const char *json, const char *path, int64_t *out)
{
    g_autoptr(JsonNode) node = lookup_value(json, path, G_TYPE_INT64);
    if (!node)
        return -EINVAL;
    *out = json_node_get_int(node);
    return 0;
}

int lg_json_bool(const char *json, const char *path, bool *out)
{
    g_autoptr(JsonNode) node = lookup_value(json, path, G_TYPE_BOOLEAN);
    if (!node)
        return -EINVAL;
    *out = json_node_get_boolean(node);
    return 0;
}

int lg_json_string(const char *json, const char *path, char **out)
{
    g_autoptr(JsonNode) node = lookup_value(json, path, G_TYPE_STRING);
    /* a lone surrogate ("\ud83d" and then no "\udc00".."\udfff") comes out
     * of json-glib as invalid UTF-8 */
    if (!node || !g_utf8_validate(json_node_get_string(node), -1, NULL))
        return -EINVAL;
    *out = lg_strdup(json_node_get_string(node));
    return 0;
}

void lg_json_quote(lg_buf *buf, const char *s)
{
    g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), s);
    g_autofree char *text = json_to_string(node, false);
    lg_buf_puts(buf, text);
}

/* GLib allocates with malloc (since 2.46), so these are free()d like the
 * rest of labgate's strings. */
char *lg_base64_encode(const void *data, size_t len)
{
    return g_base64_encode(data, len);
}

int lg_base64_decode(const char *text, unsigned char **out, size_t *out_len)
{
    /* g_base64_decode skips what is not base64 and never fails: check the
     * form first (whole quanta, the alphabet, up to two '=' at the end) */
    size_t len = strlen(text);
    size_t body = strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    size_t pad = strspn(text + body, "=");
    if (len % 4 || body + pad != len || pad > 2)
        return -EINVAL;
    gsize n = 0;
    *out = g_base64_decode(text, &n); /* NUL-terminated */
    *out_len = n;
    return 0;
}
