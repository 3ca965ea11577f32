/* A guest transport: ssh (libssh2, over the forwarded port) or the
 * qemu-guest-agent (through libvirt, independent of the guest's network),
 * chosen by the guest profile.  The job speaks only to this. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "cancel.h"
#include "model/kinds.h"
#include "virt/domain.h"

typedef struct lg_transport_target {
    lg_transport_kind kind;
    /* ssh */
    const char *host;
    int port;
    const char *user;
    const char *key_path;
    const char *host_key_path;
    int banner_ms;        /* see lg_ssh_target */
    /* qemu-ga */
    lg_domain *dom;
    lg_os os;
    lg_cancel_fn cancel;
    void *cancel_opaque;
} lg_transport_target;

typedef struct lg_transport lg_transport;

/* Errors: -ETIMEDOUT, -ECANCELED, -ECONNREFUSED/-ECONNRESET (nothing there
 * yet, or it went away), -EACCES (ssh key refused), -EKEYREJECTED (not the
 * guest's ssh host key), -EIO. */
int lg_transport_connect(const lg_transport_target *target, lg_deadline dl, lg_transport **out);
/* Is the guest's OS there?  ssh: `true`; qemu-ga: guest-ping. */
int lg_transport_ping(lg_transport *t, lg_deadline dl);
/* Runs command in the guest's shell; input (may be NULL) is its stdin;
 * stdout and stderr go to output (may be NULL, capped at 1 MiB, tail kept). */
int lg_transport_exec(lg_transport *t, const char *command, const void *input, size_t input_len,
                      lg_deadline dl, lg_buf *output, int *exit_status);
/* Replaces remote_dir with a copy of a local directory tree (modes kept),
 * by the rules of base/tree.h: files and directories, links that stay
 * inside the tree kept as links (`ln -s`; refused for Windows guests).
 * -EPERM: the tree was refused (message names the entry and why) and the
 * guest received nothing; -EIO: the host's directory could not be read or
 * the guest could not write. */
int lg_transport_upload_dir(lg_transport *t, const char *local_dir, const char *remote_dir, lg_deadline dl);
/* Copies a file of the guest to local_path, stopping at once beyond
 * max_bytes (-EFBIG) or when local_path's file system runs out of room
 * (-ENOSPC); -ETIME: the deadline passed while data was still arriving.
 * ssh to Linux: the stdout of `cat`; qemu-ga: guest-file-read; ssh to
 * Windows would need SFTP (-ENOTSUP, message set).  -ENOENT: no such file. */
int lg_transport_fetch_file(lg_transport *t, const char *remote_path, const char *local_path, uint64_t max_bytes,
                            lg_deadline dl, uint64_t *size);
void lg_transport_free(lg_transport *t);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_transport, lg_transport_free)
