/* A user process's death as the kernel tells it on the console: the
 * evidence that an agent's daemon crashed while the OS lived.  Lines (the
 * printk timestamp already removed):
 *
 *   NAME[PID]: segfault at ADDR ip ... error N in ...
 *   NAME[PID]: unhandled ... fault ... at ADDR ...     (arm64)
 *   traps: NAME[PID] general protection fault ip:...
 *   traps: NAME[PID] trap KIND ip:...                  (divide error, invalid opcode, ...)
 *   Out of memory: Killed process PID (NAME) total-vm:...
 *   oom-kill:...,task=NAME,pid=PID,...
 *
 * NAME is the guest's (untrusted): bounded here, cleaned by whoever prints it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LG_USERFAULT_SEGFAULT,
    LG_USERFAULT_GENERAL_PROTECTION,
    LG_USERFAULT_TRAP,
    LG_USERFAULT_OOM_KILL,
} lg_userfault_kind;

/* the kernel's comm is at most 15 bytes; a longer one is not a process name */
#define LG_USERFAULT_NAME_MAX 15

typedef struct lg_userfault {
    lg_userfault_kind kind;
    char name[LG_USERFAULT_NAME_MAX + 1];
    int pid;
} lg_userfault;

/* Whether line reports a user process's fault; *out then says which. */
bool lg_userfault_parse(const char *line, lg_userfault *out);
/* "segfault", "general protection fault", "trap", "killed by the OOM killer" */
const char *lg_userfault_kind_describe(lg_userfault_kind kind);
/* Whether name is one of the n names (the build's processes). */
bool lg_userfault_is_agent(const lg_userfault *fault, char *const *names, size_t n);
