#include "panicinfo.h"

#include <stdlib.h>
#include <string.h>


/* Finds "key" : and returns what follows the colon (blanks skipped). */
static const char *value_of(const char *json, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')); p++) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '"')
            continue;
        const char *v = p + 2 + klen;
        v += strspn(v, " \t\r\n");
        if (*v != ':')
            continue;
        v++;
        return v + strspn(v, " \t\r\n");
    }
    return NULL;
}

bool lg_panic_info_parse(const char *details_json, lg_panic_info *out)
{
    if (!details_json)
        return false;
    const char *info = value_of(details_json, "info");
    const char *type = info ? value_of(info, "type") : NULL;
    if (!type || strncmp(type, "\"hyper-v\"", 9) != 0)
        return false;
    lg_panic_info parsed = { .hyperv = true };
    for (int i = 0; i < 5; i++) {
        char key[8] = "arg1";
        key[3] = (char)('1' + i);
        const char *v = value_of(info, key);
        if (!v)
            return false;
        char *end;
        parsed.arg[i] = strtoull(v, &end, 10);
        if (end == v)
            return false;
    }
    *out = parsed;
    return true;
}
