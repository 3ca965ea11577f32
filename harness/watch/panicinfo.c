#include "panicinfo.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "stopcodes.h"

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

char *lg_panic_info_title(const lg_panic_info *info)
{
    /* bugcheck codes are 32-bit; the MSR is 64 */
    return lg_stopcode_title((uint32_t)info->arg[0], NULL);
}

char *lg_panic_info_describe(const lg_panic_info *info)
{
    return lg_strdup_printf("0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx)", (unsigned long long)info->arg[0],
                            (unsigned long long)info->arg[1], (unsigned long long)info->arg[2],
                            (unsigned long long)info->arg[3], (unsigned long long)info->arg[4]);
}
