#include "readyline.h"

#include <string.h>

bool lg_ready_line_valid(const char *pattern)
{
    int numbers = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        if (p[1] != 'd')
            return false;
        numbers++;
        p++;
    }
    return numbers == 1;
}

bool lg_ready_line_match(const char *pattern, const char *line, int *boot)
{
    const char *s = line;
    int number = -1;
    for (const char *p = pattern; *p; p++) {
        if (*p == '%' && p[1] == 'd') {
            /* a boot number: 1-9 digits, so it fits an int */
            int value = 0, digits = 0;
            for (; *s >= '0' && *s <= '9'; s++, digits++) {
                if (digits == 9)
                    return false;
                value = value * 10 + (*s - '0');
            }
            if (!digits || number >= 0)
                return false;
            number = value;
            p++;
            continue;
        }
        if (*p == '%' && p[1] == '%')
            p++;
        else if (*p == '%')
            return false;
        if (*s != *p)
            return false;
        s++;
    }
    s += strspn(s, " \t\r\n");
    if (*s || number < 0)
        return false;
    *boot = number;
    return true;
}
