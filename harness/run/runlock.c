#include "runlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/statedir.h"
#include "base/util.h"

LG_LOG_INIT("run");

bool lg_run_id_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0 || len > 64 || !g_ascii_isalnum(id[0]))
        return false;
    for (const char *p = id; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

char *lg_run_lock_path(const char *run_id)
{
    LG_AUTOFREE char *dir = lg_state_dir();
    return lg_strdup_printf("%s/run-%s.lock", dir, run_id);
}

char *lg_run_lock_path_claimed(const char *run_id, const char *claimed)
{
    if (claimed) {
        LG_AUTOFREE char *dir = lg_path_dirname(claimed);
        LG_AUTOFREE char *expected = lg_strdup_printf("%s/run-%s.lock", dir, run_id);
        struct stat st;
        /* checked only when it exists: the check would create it */
        if (strcmp(expected, claimed) == 0 && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
            lg_state_dir_check(dir) == 0)
            return lg_strdup(claimed);
        LG_DEBUG("run %s: lock %s is not in a state directory: using ours", run_id, claimed);
    }
    return lg_run_lock_path(run_id);
}

int lg_run_lock_take(const char *run_id, const char *results_dir)
{
    LG_AUTOFREE char *dir = lg_state_dir();
    int rc = lg_state_dir_check(dir);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *path = lg_run_lock_path(run_id);
    /* run ids are unique (time and pid): a file already there is not ours */
    int fd = lg_state_file_create(path, 0600);
    if (fd < 0)
        return fd;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        lg_error_set("cannot lock %s: %s", path, strerror(err));
        close(fd);
        unlink(path);
        return -err;
    }
    /* where the run writes its results: gc clears a killed run's console logs */
    LG_AUTOFREE char *abs = realpath(results_dir, NULL);
    LG_AUTOFREE char *line = lg_strdup_printf("%s\n", abs ? abs : results_dir);
    if (write(fd, line, strlen(line)) < 0)
        LG_DEBUG("cannot record the results directory in %s", path);
    return fd;
}

/* The lock file, opened only if it is one this user made: a regular file
 * (not a link to one), owned by the effective user. */
static int open_own_lock(const char *lock_path)
{
    int fd = open(lock_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot open run lock %s: %s", lock_path,
                     err == ELOOP ? "it is a symbolic link" : strerror(err));
        return -err;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        lg_error_set("run lock %s is not a file this user (uid %u) created; not trusting it", lock_path,
                     (unsigned)geteuid());
        close(fd);
        return -EPERM;
    }
    return fd;
}

int lg_run_lock_results_dir(const char *lock_path, char **out)
{
    lg_error_clear(); /* a stale message never names a later failure */
    int fd = open_own_lock(lock_path);
    if (fd < 0)
        return fd;
    char data[4096];
    ssize_t n = read(fd, data, sizeof(data) - 1);
    close(fd);
    if (n < 0) {
        int err = errno;
        lg_error_set("cannot read run lock %s: %s", lock_path, strerror(err));
        return -err;
    }
    data[n] = '\0';
    data[strcspn(data, "\n")] = '\0';
    *out = data[0] ? lg_strdup(data) : NULL;
    return 0;
}

int lg_run_lock_clear_partial_logs(const char *lock_path, bool dry_run, lg_run_log_fn fn, void *opaque)
{
    LG_AUTOFREE char *results = NULL;
    int rc = lg_run_lock_results_dir(lock_path, &results);
    if (rc < 0 || !results)
        return rc;
    int results_fd = lg_open_dir_nofollow(results);
    if (results_fd == -ENOENT)
        return 0; /* removed already */
    if (results_fd < 0)
        return results_fd;
    struct stat st;
    if (fstat(results_fd, &st) < 0 || st.st_uid != geteuid()) {
        lg_error_set("results directory %s (recorded in %s) is not owned by uid %u; not touching it", results,
                     lock_path, (unsigned)geteuid());
        close(results_fd);
        return -EPERM;
    }
    /* a finished run's record is never touched */
    bool finished = fstatat(results_fd, "run.xml", &st, AT_SYMLINK_NOFOLLOW) == 0;
    int jobs_fd = finished ? -1 : openat(results_fd, "jobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(results_fd);
    DIR *jobs = jobs_fd >= 0 ? fdopendir(jobs_fd) : NULL;
    if (!jobs) {
        if (jobs_fd >= 0)
            close(jobs_fd);
        return 0;
    }
    int failures = 0;
    struct dirent *e;
    while ((e = readdir(jobs))) {
        if (e->d_name[0] == '.')
            continue;
        int job_fd = openat(jobs_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (job_fd < 0)
            continue; /* not a directory, or a link to one */
        /* a job that ended has its journal entry (reports/journal.h): its
         * console log is whole, and the record --resume builds on */
        bool journaled = fstatat(job_fd, "result.xml", &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (!journaled && fstat(job_fd, &st) == 0 && st.st_uid == geteuid() &&
            fstatat(job_fd, "console.log", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            LG_AUTOFREE char *log = lg_strdup_printf("%s/jobs/%s/console.log", results, e->d_name);
            int removed = dry_run || unlinkat(job_fd, "console.log", 0) == 0 ? 0 : -errno;
            failures += removed < 0;
            if (fn)
                fn(log, removed, opaque);
        }
        close(job_fd);
    }
    closedir(jobs);
    return failures;
}

void lg_run_lock_release(const char *run_id, int fd)
{
    if (fd < 0)
        return;
    LG_AUTOFREE char *path = lg_run_lock_path(run_id);
    unlink(path);
    close(fd);
}

bool lg_run_lock_held(const char *path)
{
    /* no symlink followed, and a FIFO planted there cannot block us */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT; /* no lock file: no live run; cannot tell: assume live, touch nothing */
    bool held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* drops our lock too, if we got it */
    return held;
}
