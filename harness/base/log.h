/* Logging with per-module names a user can filter: LABGATE_DEBUG=ssh,monitor
 * (or "all") turns on debug lines for those modules.  Library layers log only
 * at debug level; the caller that decides logs once at a higher level. */
#pragma once
#include <stdbool.h>

typedef enum { LG_LOG_DEBUG, LG_LOG_INFO, LG_LOG_WARN, LG_LOG_ERROR } lg_log_level;

/* Reads LABGATE_DEBUG; verbose adds info lines (default: warn and above). */
void lg_log_init(bool verbose, bool quiet);
bool lg_log_enabled(lg_log_level level, const char *module);
void lg_log(lg_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Each file that logs names its module once, after its includes:
 *     LG_LOG_INIT("ssh");
 * and every LG_DEBUG/LG_INFO/... in it logs under that name. */
#define LG_LOG_INIT(name) static const char lg_log_module[] __attribute__((unused)) = name

#define LG_DEBUG(...) do { if (lg_log_enabled(LG_LOG_DEBUG, lg_log_module)) lg_log(LG_LOG_DEBUG, lg_log_module, __VA_ARGS__); } while (0)
#define LG_INFO(...) lg_log(LG_LOG_INFO, lg_log_module, __VA_ARGS__)
#define LG_WARN(...) lg_log(LG_LOG_WARN, lg_log_module, __VA_ARGS__)
#define LG_ERROR(...) lg_log(LG_LOG_ERROR, lg_log_module, __VA_ARGS__)
