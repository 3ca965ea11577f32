#include "userfault.h"

#include <string.h>

/* "NAME[PID]" ending just before end: the name and pid into out. */
static bool name_pid_before(const char *start, const char *end, lg_userfault *out)
{
    if (end <= start || end[-1] != ']')
        return false;
    const char *close = end - 1;
    const char *open = close;
    while (open > start && open[-1] >= '0' && open[-1] <= '9')
        open--;
    if (open == close || open == start || open[-1] != '[' || close - open > 9)
        return false;
    int pid = 0;
    for (const char *p = open; p < close; p++)
        pid = pid * 10 + (*p - '0');
    size_t len = (size_t)(open - 1 - start);
    if (len == 0 || len > LG_USERFAULT_NAME_MAX)
        return false;
    memcpy(out->name, start, len);
    out->name[len] = '\0';
    out->pid = pid;
    return true;
}

static bool parse_int(const char *s, const char *end, int *out)
{
    int v = 0;
    if (s == end || end - s > 9)
        return false;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static bool set_name(lg_userfault *out, const char *s, size_t len)
{
    if (len == 0 || len > LG_USERFAULT_NAME_MAX)
        return false;
    memcpy(out->name, s, len);
    out->name[len] = '\0';
    return true;
}

/* "Out of memory: Killed process PID (NAME) ..." (also "Memory cgroup out of memory: ...") */
static bool parse_oom_killed(const char *line, lg_userfault *out)
{
    const char *p = strstr(line, "out of memory: Killed process ");
    if (!p)
        p = strstr(line, "Out of memory: Killed process ");
    if (!p)
        return false;
    p += strlen("Out of memory: Killed process ");
    const char *sp = strchr(p, ' ');
    if (!sp || !parse_int(p, sp, &out->pid) || sp[1] != '(')
        return false;
    const char *name = sp + 2;
    const char *close = strstr(name, ") ");
    if (!close)
        close = name + strlen(name) - (name[strlen(name) - 1] == ')' ? 1 : 0);
    if (*close != ')')
        return false;
    out->kind = LG_USERFAULT_OOM_KILL;
    return set_name(out, name, (size_t)(close - name));
}

/* "oom-kill:constraint=...,task=NAME,pid=PID,uid=..." */
static bool parse_oom_kill_line(const char *line, lg_userfault *out)
{
    if (strncmp(line, "oom-kill:", 9) != 0)
        return false;
    const char *task = strstr(line, ",task=");
    const char *pid = strstr(line, ",pid=");
    if (!task || !pid)
        return false;
    task += 6;
    pid += 5;
    const char *task_end = strchr(task, ',');
    const char *pid_end = pid + strspn(pid, "0123456789");
    if (!task_end || !parse_int(pid, pid_end, &out->pid))
        return false;
    out->kind = LG_USERFAULT_OOM_KILL;
    return set_name(out, task, (size_t)(task_end - task));
}

bool lg_userfault_parse(const char *line, lg_userfault *out)
{
    lg_userfault f = { 0 };
    if (!line)
        return false;
    if (strncmp(line, "traps: ", 7) == 0) {
        const char *start = line + 7;
        const char *gp = strstr(start, "] general protection ");
        const char *trap = strstr(start, "] trap ");
        const char *end = gp ? gp : trap;
        if (!end || !name_pid_before(start, end + 1, &f))
            return false;
        f.kind = gp ? LG_USERFAULT_GENERAL_PROTECTION : LG_USERFAULT_TRAP;
        *out = f;
        return true;
    }
    const char *seg = strstr(line, "]: segfault at ");
    if (!seg) {
        seg = strstr(line, "]: unhandled ");
        if (seg && !strstr(seg, " fault"))
            seg = NULL;
    }
    if (seg && name_pid_before(line, seg + 1, &f)) {
        f.kind = LG_USERFAULT_SEGFAULT;
        *out = f;
        return true;
    }
    if (parse_oom_killed(line, &f) || parse_oom_kill_line(line, &f)) {
        *out = f;
        return true;
    }
    return false;
}

const char *lg_userfault_kind_describe(lg_userfault_kind kind)
{
    switch (kind) {
    case LG_USERFAULT_SEGFAULT: return "segfault";
    case LG_USERFAULT_GENERAL_PROTECTION: return "general protection fault";
    case LG_USERFAULT_TRAP: return "trap";
    case LG_USERFAULT_OOM_KILL: return "killed by the OOM killer";
    }
    return "fault";
}

bool lg_userfault_is_agent(const lg_userfault *fault, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(fault->name, names[i]) == 0)
            return true;
    return false;
}
