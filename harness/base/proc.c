#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

extern char **environ;

int lg_proc_run(const char *const argv[], lg_deadline dl, lg_buf *output)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        int err = errno;
        lg_error_set("pipe: %s", strerror(err));
        return -err;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        lg_error_set("cannot run %s: %s", argv[0], strerror(rc));
        return -rc;
    }

    bool timed_out = false;
    char chunk[4096];
    for (;;) {
        int64_t left = lg_deadline_left_ms(dl);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
        int n = poll(&pfd, 1, left > 200 ? 200 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n <= 0)
            continue;
        ssize_t got = read(pipefd[0], chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (output)
            lg_buf_append(output, chunk, (size_t)got);
    }
    close(pipefd[0]);
    /* The output ended, but a child that closed it can still run: the
     * deadline holds for the wait too. */
    int status = 0;
    while (!timed_out) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR))
            break;
        if (lg_deadline_passed(dl))
            timed_out = true;
        else
            lg_sleep_ms(lg_deadline_left_ms(dl) < 5 ? lg_deadline_left_ms(dl) : 5);
    }
    if (timed_out) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        lg_error_set("%s did not finish in time and was killed", argv[0]);
        return -ETIMEDOUT;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    lg_error_set("%s was killed by signal %d", argv[0], WTERMSIG(status));
    return -EINTR;
}

double lg_load_per_cpu(void)
{
    char text[128] = "";
    FILE *f = fopen("/proc/loadavg", "re");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    char *end = NULL;
    double load = g_ascii_strtod(text, &end);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (end == text || cpus < 1)
        return -1;
    return load / (double)cpus;
}

int lg_cpu_times_parse(const char *proc_stat, lg_cpu_times *out)
{
    const char *line = proc_stat;
    while (line && strncmp(line, "cpu ", 4) != 0) {
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    if (!line)
        return -EINVAL;
    /* user nice system idle iowait irq softirq steal guest guest_nice */
    unsigned long long v[8] = { 0 };
    const char *p = line + 4;
    int n = 0;
    while (n < 8) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            break;
        char *end = NULL;
        errno = 0;
        v[n] = strtoull(p, &end, 10);
        if (errno || end == p)
            return -EINVAL;
        n++;
        p = end;
    }
    if (n < 4)
        return -EINVAL;
    *out = (lg_cpu_times){
        .user = v[0] + v[1], .system = v[2] + v[5] + v[6], .idle = v[3], .iowait = v[4], .steal = v[7],
    };
    return 0;
}

int lg_cpu_times_read(lg_cpu_times *out)
{
    char text[4096];
    FILE *f = fopen("/proc/stat", "re");
    if (!f) {
        int err = errno;
        lg_error_set("cannot read /proc/stat: %s", strerror(err));
        return -err;
    }
    /* the aggregate line comes first */
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (lg_cpu_times_parse(text, out) < 0) {
        lg_error_set("/proc/stat has no cpu line");
        return -EINVAL;
    }
    return 0;
}

static uint64_t total_of(const lg_cpu_times *t)
{
    return t->user + t->system + t->idle + t->iowait + t->steal;
}

int lg_cpu_share_between(const lg_cpu_times *before, const lg_cpu_times *after, lg_cpu_share *out)
{
    uint64_t t0 = total_of(before), t1 = total_of(after);
    if (t1 <= t0 || after->idle < before->idle || after->iowait < before->iowait || after->steal < before->steal)
        return -ENODATA;
    double total = (double)(t1 - t0);
    double waiting = (double)((after->idle - before->idle) + (after->iowait - before->iowait));
    *out = (lg_cpu_share){
        .busy = 1.0 - waiting / total,
        .steal = (double)(after->steal - before->steal) / total,
    };
    return 0;
}

/* steal beyond this says the host has almost nothing: count it as this
 * much, not as a division by (nearly) zero */
#define STEAL_CAP 0.9

bool lg_host_saturated(double load_per_cpu, double steal, double busy, double started_per_cpu, double max_load)
{
    if (max_load <= 0)
        return false;
    double usable = 1.0 - (steal > 0 ? (steal < STEAL_CAP ? steal : STEAL_CAP) : 0);
    if (started_per_cpu >= 0 && started_per_cpu / usable > max_load)
        return true;
    if (load_per_cpu >= 0)
        return load_per_cpu / usable > max_load;
    return busy >= LG_REMOTE_BUSY_SATURATED;
}
