#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/util.h"
#include "qga.h"
#include "ssh.h"

struct lg_transport {
    lg_transport_kind kind;
    lg_ssh *ssh;
    lg_qga *qga;
};

const char *lg_transport_kind_name(lg_transport_kind kind)
{
    return kind == LG_TRANSPORT_QGA ? "qemu-ga" : "ssh";
}

int lg_transport_connect(const lg_transport_target *target, lg_deadline dl, lg_transport **out)
{
    lg_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->kind = target->kind;
    int rc;
    if (target->kind == LG_TRANSPORT_QGA) {
        lg_qga_target q = { .dom = target->dom, .windows = target->windows, .cancel = target->cancel,
                            .cancel_opaque = target->cancel_opaque };
        rc = lg_qga_connect(&q, dl, &t->qga);
    } else {
        lg_ssh_target s = { .host = target->host, .port = target->port, .user = target->user,
                            .key_path = target->key_path, .cancel = target->cancel,
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

/* Each file goes through the guest's shell as the stdin of `cat` (ssh), or
 * through the agent's file calls (qemu-ga). */
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
        LG_AUTOFREE char *rpath = lg_strdup_printf("%s/%s", remote, e->d_name);
        struct stat st;
        if (stat(lpath, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
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
        LG_AUTOFREE char *qdir = lg_shell_quote(remote);
        LG_AUTOFREE char *qpath = lg_shell_quote(rpath);
        LG_AUTOBUF out = LG_BUF_INIT;
        int status = -1;
        if (t->kind == LG_TRANSPORT_QGA) {
            /* the agent takes a process's stdin in one request, too big for
             * it to answer in time: files go in chunks, then the mode */
            LG_AUTOFREE char *mkdir = lg_strdup_printf("mkdir -p %s", qdir);
            rc = lg_transport_exec(t, mkdir, NULL, 0, dl, &out, &status);
            if (rc == 0 && status == 0)
                rc = lg_qga_write_file(t->qga, rpath, data, len, dl);
            if (rc == 0 && status == 0) {
                LG_AUTOFREE char *chmod = lg_strdup_printf("chmod %o %s", (unsigned)(st.st_mode & 07777), qpath);
                rc = lg_transport_exec(t, chmod, NULL, 0, dl, &out, &status);
            }
        } else {
            LG_AUTOFREE char *cmd = lg_strdup_printf("mkdir -p %s && cat > %s && chmod %o %s",
                                                     qdir, qpath, (unsigned)(st.st_mode & 07777), qpath);
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
    LG_AUTOFREE char *q = lg_shell_quote(remote_dir);
    LG_AUTOFREE char *cmd = lg_strdup_printf("rm -rf %s && mkdir -p %s", q, q);
    int status = -1;
    int rc = lg_transport_exec(t, cmd, NULL, 0, dl, NULL, &status);
    if (rc == 0 && status != 0) {
        lg_error_set("cannot create %s in the guest", remote_dir);
        return -EIO;
    }
    return rc < 0 ? rc : upload_tree(t, local_dir, remote_dir, dl);
}

void lg_transport_free(lg_transport *t)
{
    if (!t)
        return;
    lg_ssh_free(t->ssh);
    lg_qga_free(t->qga);
    free(t);
}
