/* Just enough JSON for the qemu-guest-agent protocol: find a member by path
 * in a reply, read it as a number, boolean or string, and quote strings for
 * a command.  Values are located in place; nothing is built. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The value at a dotted member path ("return.exitcode"), or NULL when the
 * text is not well-formed JSON up to it or the path is absent.  The pointer
 * is into json, at the value's first character. */
const char *lg_json_find(const char *json, const char *path);
/* Each returns 0 and *out, or -EINVAL when the value is missing or of
 * another type (out is not written then). */
int lg_json_int(const char *json, const char *path, int64_t *out);
int lg_json_bool(const char *json, const char *path, bool *out);
/* A new string with escapes decoded; \u0000 and surrogates are refused
 * (-EINVAL). */
int lg_json_string(const char *json, const char *path, char **out);
/* Appends s as a JSON string literal, quotes included. */
void lg_json_quote(lg_buf *buf, const char *s);

/* Base64 (RFC 4648, with padding), as qemu-ga carries file and process data. */
/* A new string; never NULL. */
char *lg_base64_encode(const void *data, size_t len);
/* Returns 0 and a new buffer (NUL-terminated, *out_len bytes), or -EINVAL. */
int lg_base64_decode(const char *text, unsigned char **out, size_t *out_len);
