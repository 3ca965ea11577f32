/* JSON for the qemu-guest-agent protocol, on json-glib: find a member by
 * path in a reply, read it as a number, boolean or string, and quote strings
 * for a command.  A reply is refused whole when it is not well-formed JSON,
 * has an integer outside int64, or a string with an unknown escape, a raw
 * control character or "\u0000". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Whether json (NULL is not) is well-formed and has a value, null included,
 * at a dotted member path ("return.exitcode"). */
bool lg_json_find(const char *json, const char *path);
/* Each returns 0 and *out, or -EINVAL when the value is missing or of
 * another type (out is not written then). */
int lg_json_int(const char *json, const char *path, int64_t *out);
int lg_json_bool(const char *json, const char *path, bool *out);
/* A new string with escapes decoded; a surrogate pair is one character, a
 * lone surrogate is refused (-EINVAL). */
int lg_json_string(const char *json, const char *path, char **out);
/* Appends s as a JSON string literal, quotes included. */
void lg_json_quote(lg_buf *buf, const char *s);

/* Base64 (RFC 4648, with padding), as qemu-ga carries file and process data. */
/* A new string; never NULL. */
char *lg_base64_encode(const void *data, size_t len);
/* Returns 0 and a new buffer (NUL-terminated, *out_len bytes), or -EINVAL. */
int lg_base64_decode(const char *text, unsigned char **out, size_t *out_len);
