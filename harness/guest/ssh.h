/* SSH transport to a guest (libssh2, non-blocking): every call takes a
 * deadline and a cancel check, so a guest that dies mid-call never blocks a
 * job.  After a timeout or a lost connection the session is unusable: free it
 * and connect again. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/clock.h"

#include "cancel.h"

typedef struct lg_ssh lg_ssh;

typedef struct lg_ssh_target {
    const char *host;     /* 127.0.0.1 */
    int port;
    const char *user;
    const char *key_path; /* private key (PEM) */
    const char *host_key_path; /* the guest's public host key (OpenSSH format), or NULL */
    /* How long the first attempt waits for the server's banner before it is
     * abandoned and retried (later ones wait longer); 0: a short default for
     * a guest that may not listen yet.  A caller that knows the guest
     * listens (it printed its ready line) gives more: a guest just booted
     * under TCG takes about a second to answer, and every abandoned
     * attempt costs it a forked server. */
    int banner_ms;
    lg_cancel_fn cancel;
    void *cancel_opaque;
} lg_ssh_target;

/* Once per process, before any thread uses ssh. */
int lg_ssh_global_init(void);
void lg_ssh_global_exit(void);

/* Errors: -ETIMEDOUT, -ECANCELED, -ECONNREFUSED/-ECONNRESET (nothing there
 * yet, or it went away), -EACCES (key refused), -EKEYREJECTED (the guest's
 * host key is not host_key_path's), -EIO. */
int lg_ssh_connect(const lg_ssh_target *target, lg_deadline dl, lg_ssh **out);
/* Runs command; input (may be NULL) is its stdin; stdout and stderr are
 * collected into output (may be NULL, capped at 1 MiB, tail kept). */
int lg_ssh_exec(lg_ssh *ssh, const char *command, const void *input, size_t input_len,
                lg_deadline dl, lg_buf *output, int *exit_status);
/* Runs command with its stdout written to out and its stderr collected
 * into errors (may be NULL).  Beyond max_bytes the channel is closed at
 * once and -EFBIG returned; -ENOSPC likewise when out's file system runs
 * out of room (base/util.h lg_fs_room); -ETIME: the deadline passed while
 * data was still arriving (slow, not silent). */
int lg_ssh_exec_to_file(lg_ssh *ssh, const char *command, FILE *out, uint64_t max_bytes, lg_deadline dl,
                        lg_buf *errors, int *exit_status, uint64_t *written);
void lg_ssh_free(lg_ssh *ssh);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_ssh, lg_ssh_free)
