#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mem.h"
#include "base/tree.h"
#include "base/util.h"
#include "virt/libvirt-priv.h"
#include "oscmd.h"
#include "qga.h"
#include "ssh.h"

/* One uploaded file at most (it travels in memory) */
#define UPLOAD_FILE_MAX (256u << 20)

struct lg_transport {
    lg_transport_kind kind;
    lg_os os;
    lg_ssh *ssh;
    lg_qga *qga;
};

int lg_transport_connect(const lg_transport_target *target, lg_deadline dl, lg_transport **out)
{
    lg_error_clear(); /* a stale message never names a later failure */
    lg_transport *t = LG_NEW0(lg_transport);
    t->kind = target->kind;
    t->os = target->os;
    int rc;
    if (target->kind == LG_TRANSPORT_QGA) {
        lg_qga_target q = { .dom = lg_domain_virt(target->dom), .windows = target->os == LG_OS_WINDOWS, .cancel = target->cancel,
                            .cancel_opaque = target->cancel_opaque };
        rc = lg_qga_connect(&q, dl, &t->qga);
    } else {
        lg_ssh_target s = { .host = target->host, .port = target->port, .user = target->user,
                            .key_path = target->key_path, .host_key_path = target->host_key_path,
                            .banner_ms = target->banner_ms,
                            .cancel = target->cancel,
                            .cancel_opaque = target->cancel_opaque };
        rc = lg_ssh_connect(&s, dl, &t->ssh);
    }
    if (rc < 0) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int lg_transport_exec(lg_transport *t, const char *command, const void *input, size_t input_len,
                      lg_deadline dl, lg_buf *output, int *exit_status)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (t->kind == LG_TRANSPORT_QGA)
        return lg_qga_exec(t->qga, command, input, input_len, dl, output, exit_status);
    return lg_ssh_exec(t->ssh, command, input, input_len, dl, output, exit_status);
}

int lg_transport_ping(lg_transport *t, lg_deadline dl)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (t->kind == LG_TRANSPORT_QGA)
        return lg_qga_ping(t->qga, dl);
    int status = -1;
    int rc = lg_ssh_exec(t->ssh, "true", NULL, 0, dl, NULL, &status);
    if (rc == 0 && status != 0) {
        lg_error_set("`true` exited %d", status);
        return -EIO;
    }
    return rc;
}

/* A file of the plan, opened without following a link and checked to be
 * the one the walk saw (not swapped for a link or a fifo since). */
static int read_planned_file(const char *path, const lg_tree_entry *e, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot read %s: %s", path, strerror(err));
        return err == ELOOP ? -EPERM : -err;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != e->dev || (uint64_t)st.st_ino != e->ino) {
        close(fd);
        lg_error_set("%s changed while it was being uploaded (no longer the regular file it was)", e->rel);
        return -EPERM;
    }
    if ((uint64_t)st.st_size > UPLOAD_FILE_MAX) {
        close(fd);
        lg_error_set("%s is larger than %u MiB", path, UPLOAD_FILE_MAX >> 20);
        return -EIO;
    }
    char *buf = lg_malloc0((size_t)st.st_size + 1);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            close(fd);
            free(buf);
            lg_error_set("cannot read %s: %s", path, n < 0 ? strerror(err) : "it shrank while being read");
            return -EIO;
        }
        done += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = done;
    return 0;
}

/* A path of the plan ('/'-separated) in the guest. */
static char *guest_path(lg_transport *t, const char *remote, const char *rel)
{
    LG_AUTOFREE char *native = lg_strdup(rel);
    if (t->os == LG_OS_WINDOWS)
        for (char *p = native; *p; p++)
            if (*p == '/')
                *p = '\\';
    return lg_os_path_join(t->os, remote, native);
}

static int send_file(lg_transport *t, const char *lpath, const char *rpath, const lg_tree_entry *e, lg_deadline dl)
{
    LG_AUTOFREE char *data = NULL;
    size_t len = 0;
    int rc = read_planned_file(lpath, e, &data, &len);
    if (rc < 0)
        return rc;
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = 0;
    if (t->kind == LG_TRANSPORT_QGA) {
        rc = lg_qga_write_file(t->qga, rpath, data, len, dl);
        if (rc == 0 && t->os == LG_OS_LINUX) {
            LG_AUTOFREE char *qpath = lg_shell_quote(rpath);
            LG_AUTOFREE char *chmod = lg_strdup_printf("chmod %o %s", e->mode, qpath);
            rc = lg_transport_exec(t, chmod, NULL, 0, dl, &out, &status);
        }
    } else {
        LG_AUTOFREE char *qpath = lg_shell_quote(rpath);
        LG_AUTOFREE char *cmd = lg_strdup_printf("cat > %s && chmod %o %s", qpath, e->mode, qpath);
        rc = lg_transport_exec(t, cmd, data, len, dl, &out, &status);
    }
    if (rc == 0 && status != 0) {
        lg_error_set("upload of %s failed (exit %d): %s", lpath, status, out.data ? out.data : "");
        rc = -EIO;
    }
    return rc;
}

/* The plan's actions in order (parents first).  Each file goes through the
 * guest's shell as the stdin of `cat` (ssh to Linux), or through the
 * agent's file calls (qemu-ga), in chunks the agent answers at once: a
 * whole file as a process's stdin is one request too big for it to answer
 * within the call timeout.  Links become links (`ln -s`). */
static int upload_plan(lg_transport *t, const lg_tree_plan *plan, const char *local, const char *remote,
                       lg_deadline dl)
{
    for (size_t i = 0; i < plan->n; i++) {
        const lg_tree_entry *e = &plan->entries[i];
        LG_AUTOFREE char *lpath = lg_strdup_printf("%s/%s", local, e->rel);
        LG_AUTOFREE char *rpath = guest_path(t, remote, e->rel);
        if (e->kind == LG_TREE_FILE) {
            int rc = send_file(t, lpath, rpath, e, dl);
            if (rc < 0)
                return rc;
            continue;
        }
        LG_AUTOFREE char *cmd = e->kind == LG_TREE_DIR ? lg_os_mkdir(t->os, rpath)
                                                       : lg_os_symlink(t->os, e->link_target, rpath);
        LG_AUTOBUF out = LG_BUF_INIT;
        int status = -1;
        int rc = cmd ? lg_transport_exec(t, cmd, NULL, 0, dl, &out, &status) : -EINVAL;
        if (rc == -EINVAL)
            lg_error_set("%s cannot be named safely on the guest's command line", rpath);
        if (rc == 0 && status != 0) {
            lg_error_set("cannot create %s in the guest (exit %d): %s", rpath, status, out.data ? out.data : "");
            rc = -EIO;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int lg_transport_upload_dir(lg_transport *t, const char *local_dir, const char *remote_dir, lg_deadline dl)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (t->kind == LG_TRANSPORT_SSH && t->os == LG_OS_WINDOWS) {
        /* cmd.exe has no `cat`: files to Windows need SFTP, not written yet */
        lg_error_set("uploading to a Windows guest over ssh is not implemented yet; use <transport type=\"qemu-ga\"/>");
        return -EIO;
    }
    /* the whole tree is judged before the guest receives anything of it */
    LG_AUTO(lg_tree_plan) plan = NULL;
    int rc = lg_tree_plan_make(local_dir, &plan);
    if (rc == -EPERM)
        return rc;
    if (rc < 0)
        return -EIO; /* the host's directory, unreadable: message set */
    if (plan->n_links && t->os == LG_OS_WINDOWS) {
        for (size_t i = 0; i < plan->n; i++)
            if (plan->entries[i].kind == LG_TREE_LINK) {
                lg_error_set("link %s: symbolic links are not recreated in Windows guests (they need a privilege "
                             "the guest may not grant); replace it with a copy",
                             plan->entries[i].rel);
                break;
            }
        return -EPERM;
    }
    LG_AUTOFREE char *fresh = lg_os_fresh_dir(t->os, remote_dir);
    int status = -1;
    rc = fresh ? lg_transport_exec(t, fresh, NULL, 0, dl, NULL, &status) : -EINVAL;
    if (rc == 0 && status != 0) {
        lg_error_set("cannot create %s in the guest", remote_dir);
        return -EIO;
    }
    return rc < 0 ? rc : upload_plan(t, plan, local_dir, remote_dir, dl);
}

int lg_transport_fetch_file(lg_transport *t, const char *remote_path, const char *local_path, uint64_t max_bytes,
                            lg_deadline dl, uint64_t *size)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (t->kind == LG_TRANSPORT_QGA)
        return lg_qga_read_file(t->qga, remote_path, local_path, max_bytes, dl, size);
    if (t->os == LG_OS_WINDOWS) {
        lg_error_set("fetching %s from a Windows guest over ssh needs SFTP, not written yet: use "
                     "<transport type=\"qemu-ga\"/>", remote_path);
        return -ENOTSUP;
    }
    /* the file as the stdout of `cat`, streamed to disk */
    FILE *out = lg_fopen_write_nofollow(local_path);
    if (!out) {
        int err = errno;
        lg_error_set("cannot write %s: %s", local_path, strerror(err));
        return -err;
    }
    LG_AUTOFREE char *q = lg_shell_quote(remote_path);
    LG_AUTOFREE char *cmd = lg_strdup_printf("cat %s", q);
    LG_AUTOBUF errors = LG_BUF_INIT;
    int status = -1;
    uint64_t written = 0;
    int rc = lg_ssh_exec_to_file(t->ssh, cmd, out, max_bytes, dl, &errors, &status, &written);
    if (fclose(out) != 0 && rc == 0) {
        lg_error_set("cannot write %s", local_path);
        rc = -EIO;
    }
    if (rc == 0 && status != 0) {
        lg_error_set("cannot read %s in the guest: %s", remote_path, errors.data ? errors.data : "");
        rc = -ENOENT;
    }
    if (rc < 0)
        remove(local_path);
    else if (size)
        *size = written;
    return rc;
}

void lg_transport_free(lg_transport *t)
{
    if (!t)
        return;
    lg_ssh_free(t->ssh);
    lg_qga_free(t->qga);
    free(t);
}
