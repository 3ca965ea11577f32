#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static lg_log_level min_level = LG_LOG_WARN;
static const char *debug_modules; /* from the environment, lives forever */
static int64_t start_ms;

void lg_log_init(bool verbose, bool quiet)
{
    start_ms = lg_now_ms();
    min_level = quiet ? LG_LOG_ERROR : verbose ? LG_LOG_INFO : LG_LOG_WARN;
    debug_modules = getenv("LABGATE_DEBUG");
    if (debug_modules && !*debug_modules)
        debug_modules = NULL;
}

static bool module_listed(const char *module)
{
    if (!debug_modules)
        return false;
    size_t len = strlen(module);
    for (const char *p = debug_modules; *p;) {
        size_t n = strcspn(p, ", ");
        if ((n == 3 && strncmp(p, "all", 3) == 0) || (n == len && strncmp(p, module, n) == 0))
            return true;
        p += n;
        p += strspn(p, ", ");
    }
    return false;
}

bool lg_log_enabled(lg_log_level level, const char *module)
{
    if (level == LG_LOG_DEBUG)
        return module_listed(module);
    return level >= min_level || module_listed(module);
}

void lg_log(lg_log_level level, const char *module, const char *fmt, ...)
{
    static const char *names[] = { "debug", "info", "warning", "error" };
    if (!lg_log_enabled(level, module))
        return;
    int64_t t = lg_now_ms() - start_ms;
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr);
    fprintf(stderr, "[%4lld.%03lld] %s: %s: ", (long long)(t / 1000), (long long)(t % 1000),
            module, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}
