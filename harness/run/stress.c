#include "stress.h"

#include <string.h>
#include <strings.h>

int64_t lg_stress_deadline_ms(int seconds, int64_t scaled_margin_ms)
{
    return (int64_t)seconds * 1000 + scaled_margin_ms;
}

bool lg_stress_unavailable(int status)
{
    /* 126/127: the shell could not run it; 1: stress-ng's usage error (an
     * option this version lacks).  2 and up: stressors ran and failed. */
    return status == 1 || status == 126 || status == 127;
}

/* The line containing word, case-insensitively. */
static bool line_has(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(line + i, word, n) == 0)
            return true;
    return false;
}

const char *lg_stress_why(lg_buf *out)
{
    const char *last = lg_buf_last_line(out); /* trims the end too */
    const char *found = NULL;
    for (char *line = out->data; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        /* stress-ng's summary has "failed: 0" also when all went well */
        bool zero_failed = line_has(line, len, "failed: 0");
        if (zero_failed)
            ;
        else if (line_has(line, len, "error") || line_has(line, len, "fail") || line_has(line, len, "not installed") ||
            line_has(line, len, "unrecognized") || line_has(line, len, "invalid"))
            found = line;
        line = nl ? nl + 1 : NULL;
    }
    if (!found)
        return last;
    char *end = strchr(found, '\n');
    if (end)
        *end = '\0'; /* the buffer is the caller's scratch */
    return found;
}
