/* qemu-guest-agent transport: commands go through libvirt
 * (virDomainQemuAgentCommand) and the guest's virtio-serial channel, not its
 * network, so it keeps working when the agent under test contains the
 * network.  Every call takes a deadline and a cancel check. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "base/buf.h"
#include "base/clock.h"
#include "cancel.h"

typedef struct lg_qga lg_qga;

typedef struct lg_qga_target {
    virDomainPtr dom;   /* borrowed: must outlive the lg_qga */
    bool windows;       /* commands run in cmd.exe rather than /bin/sh */
    lg_cancel_fn cancel;
    void *cancel_opaque;
} lg_qga_target;

/* Waits until the agent answers guest-ping.  Errors as for ssh:
 * -ETIMEDOUT, -ECANCELED, -ECONNREFUSED (no agent yet), -EIO. */
int lg_qga_connect(const lg_qga_target *target, lg_deadline dl, lg_qga **out);
int lg_qga_ping(lg_qga *qga, lg_deadline dl);
/* Runs command through the guest's shell (guest-exec, then guest-exec-status
 * until it exits); input (may be NULL) is its stdin; stdout and stderr are
 * collected into output (may be NULL).  A command still running at the
 * deadline is left running (qemu-ga cannot kill it) and -ETIMEDOUT returned. */
int lg_qga_exec(lg_qga *qga, const char *command, const void *input, size_t input_len, lg_deadline dl,
                lg_buf *output, int *exit_status);
/* Writes a file in the guest (guest-file-open/write/close, in chunks small
 * enough for the agent to take each at once); its directory must exist. */
int lg_qga_write_file(lg_qga *qga, const char *path, const void *data, size_t len, lg_deadline dl);
/* Copies a guest file to local_path (guest-file-open/read/close in chunks),
 * at most max_bytes (-EFBIG beyond, no further read); -ENOSPC when
 * local_path's file system runs out of room; -ETIME when the deadline
 * passed while the agent was still sending.  Writes *size. */
int lg_qga_read_file(lg_qga *qga, const char *path, const char *local_path, uint64_t max_bytes, lg_deadline dl,
                     uint64_t *size);
void lg_qga_free(lg_qga *qga);

/* Reads a guest-exec-status reply (pure; exposed for tests and the fuzzer).
 * 0 and *exited; once exited also *exit_status (a killed command's as a
 * shell gives it, 128 + signal; -1 when the reply has neither) and its
 * stdout and stderr appended to output (may be NULL).  -EIO for a reply
 * without "exited" or with an exit code or signal out of int's range. */
int lg_qga_parse_exec_status(const char *reply, bool *exited, int *exit_status, lg_buf *output);
/* The guest-exec request for a command, never NULL (exposed for tests). */
char *lg_qga_exec_request(const char *command, bool windows, const void *input, size_t input_len);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_qga, lg_qga_free)
