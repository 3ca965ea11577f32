#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "virt/overlay.h"

LG_LOG_INIT("run");

char *lg_run_lock_path(const char *run_id)
{
    return lg_strdup_printf("%s/run-%s.lock", lg_overlay_dir(), run_id);
}

int lg_run_lock_take(const char *run_id, const char *results_dir)
{
    if (lg_mkdir_p(lg_overlay_dir(), 0755) < 0)
        return -EIO;
    LG_AUTOFREE char *path = lg_run_lock_path(run_id);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        lg_error_set("cannot lock %s: %s", path, strerror(err));
        if (fd >= 0)
            close(fd);
        return -err;
    }
    /* where the run writes its results: gc clears a killed run's console logs */
    LG_AUTOFREE char *abs = realpath(results_dir, NULL);
    LG_AUTOFREE char *line = lg_strdup_printf("%s\n", abs ? abs : results_dir);
    if (ftruncate(fd, 0) < 0 || write(fd, line, strlen(line)) < 0)
        LG_DEBUG("cannot record the results directory in %s", path);
    return fd;
}

char *lg_run_lock_results_dir(const char *lock_path)
{
    char *data = NULL;
    size_t len = 0;
    if (lg_read_file(lock_path, 4096, &data, &len) < 0 || !len) {
        free(data);
        return NULL;
    }
    char *nl = strchr(data, '\n');
    if (nl)
        *nl = '\0';
    return data;
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false; /* no lock file: no live run of that id */
    bool held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* drops our lock too, if we got it */
    return held;
}
