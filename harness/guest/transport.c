#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/util.h"
#include "oscmd.h"
#include "qga.h"
#include "ssh.h"

struct lg_transport {
    lg_transport_kind kind;
    lg_os os;
    lg_ssh *ssh;
    lg_qga *qga;
};

int lg_transport_connect(const lg_transport_target *target, lg_deadline dl, lg_transport **out)
{
    lg_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->kind = target->kind;
    t->os = target->windows ? LG_OS_WINDOWS : LG_OS_LINUX;
    int rc;
    if (target->kind == LG_TRANSPORT_QGA) {
        lg_qga_target q = { .dom = target->dom, .windows = target->windows, .cancel = target->cancel,
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
    if (t->kind == LG_TRANSPORT_QGA)
        return lg_qga_exec(t->qga, command, input, input_len, dl, output, exit_status);
    return lg_ssh_exec(t->ssh, command, input, input_len, dl, output, exit_status);
}

int lg_transport_ping(lg_transport *t, lg_deadline dl)
{
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

/* Each file goes through the guest's shell as the stdin of `cat` (ssh to
 * Linux), or through the agent's file calls (qemu-ga), in chunks the agent
 * answers at once: a whole file as a process's stdin is one request too big
 * for it to answer within the call timeout. */
static int upload_tree(lg_transport *t, const char *local, const char *remote, lg_deadline dl)
{
    DIR *d = opendir(local);
    if (!d) {
        int err = errno;
        lg_error_set("cannot read directory %s: %s", local, strerror(err));
        return -err;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        LG_AUTOFREE char *lpath = lg_strdup_printf("%s/%s", local, e->d_name);
        LG_AUTOFREE char *rpath = lg_os_path_join(t->os, remote, e->d_name);
        struct stat st;
        if (stat(lpath, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            LG_AUTOFREE char *mkdir = lg_os_mkdir(t->os, rpath);
            int status = -1;
            rc = mkdir ? lg_transport_exec(t, mkdir, NULL, 0, dl, NULL, &status) : -EINVAL;
            if (rc == 0 && status != 0) {
                lg_error_set("cannot create %s in the guest (exit %d)", rpath, status);
                rc = -EIO;
            }
            if (rc == 0)
                rc = upload_tree(t, lpath, rpath, dl);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        LG_AUTOFREE char *data = NULL;
        size_t len = 0;
        rc = lg_read_file(lpath, 256u << 20, &data, &len);
        if (rc < 0)
            break;
        LG_AUTOBUF out = LG_BUF_INIT;
        int status = 0;
        if (t->kind == LG_TRANSPORT_QGA) {
            rc = lg_qga_write_file(t->qga, rpath, data, len, dl);
            if (rc == 0 && t->os == LG_OS_LINUX) {
                LG_AUTOFREE char *qpath = lg_shell_quote(rpath);
                LG_AUTOFREE char *chmod = lg_strdup_printf("chmod %o %s", (unsigned)(st.st_mode & 07777), qpath);
                rc = lg_transport_exec(t, chmod, NULL, 0, dl, &out, &status);
            }
        } else {
            LG_AUTOFREE char *qpath = lg_shell_quote(rpath);
            LG_AUTOFREE char *cmd = lg_strdup_printf("cat > %s && chmod %o %s", qpath,
                                                     (unsigned)(st.st_mode & 07777), qpath);
            rc = lg_transport_exec(t, cmd, data, len, dl, &out, &status);
        }
        if (rc == 0 && status != 0) {
            lg_error_set("upload of %s failed (exit %d): %s", lpath, status, out.data ? out.data : "");
            rc = -EIO;
        }
    }
    closedir(d);
    return rc;
}

int lg_transport_upload_dir(lg_transport *t, const char *local_dir, const char *remote_dir, lg_deadline dl)
{
    if (t->kind == LG_TRANSPORT_SSH && t->os == LG_OS_WINDOWS) {
        /* cmd.exe has no `cat`: files to Windows need SFTP, not written yet */
        lg_error_set("uploading to a Windows guest over ssh is not implemented yet; use <transport type=\"qemu-ga\"/>");
        return -EIO;
    }
    LG_AUTOFREE char *fresh = lg_os_fresh_dir(t->os, remote_dir);
    int status = -1;
    int rc = fresh ? lg_transport_exec(t, fresh, NULL, 0, dl, NULL, &status) : -EINVAL;
    if (rc == 0 && status != 0) {
        lg_error_set("cannot create %s in the guest", remote_dir);
        return -EIO;
    }
    return rc < 0 ? rc : upload_tree(t, local_dir, remote_dir, dl);
}

int lg_transport_fetch_file(lg_transport *t, const char *remote_path, const char *local_path, uint64_t max_bytes,
                            lg_deadline dl, uint64_t *size)
{
    if (t->kind == LG_TRANSPORT_QGA)
        return lg_qga_read_file(t->qga, remote_path, local_path, max_bytes, dl, size);
    if (t->os == LG_OS_WINDOWS) {
        lg_error_set("fetching %s from a Windows guest over ssh needs SFTP, not written yet: use "
                     "<transport type=\"qemu-ga\"/>", remote_path);
        return -ENOTSUP;
    }
    /* the file as the stdout of `cat`, streamed to disk */
    FILE *out = fopen(local_path, "wb");
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
