#include "qga.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

LG_LOG_INIT("qga");

/* One agent call waits at most this long, so a cancel is seen in time.
 * Not shorter: libvirt stops talking to an agent that let a call time out
 * ("not available for now") until the agent reconnects, so every request
 * must be one the agent answers well within it. */
#define CALL_SLICE_S 15
/* guest-file-write payload per call (raw bytes; base64 adds a third) */
#define WRITE_CHUNK (32 * 1024)
/* guest-exec-status polling: fast at first (most commands are quick), then
 * easing off so a long step does not flood the channel. */
#define POLL_FIRST_MS 20
#define POLL_MAX_MS 500
/* qemu-ga keeps at most this much of a process's output (16 MiB); ours is
 * capped like ssh's. */
#define OUTPUT_CAP (1u << 20)

struct lg_qga {
    virDomainPtr dom;
    bool windows;
    lg_cancel_fn cancel;
    void *cancel_opaque;
};

static bool cancelled(lg_qga *qga)
{
    return qga->cancel && qga->cancel(qga->cancel_opaque);
}

/* One agent command.  Returns 0 and the reply (to free), or a negative
 * errno with the message set. */
static int call(lg_qga *qga, const char *request, lg_deadline dl, char **reply)
{
    if (cancelled(qga))
        return -ECANCELED;
    int64_t left_ms = lg_deadline_left_ms(dl);
    if (left_ms <= 0) {
        lg_error_set("qemu-ga: deadline passed");
        return -ETIMEDOUT;
    }
    int timeout_s = (int)((left_ms + 999) / 1000);
    if (timeout_s > CALL_SLICE_S)
        timeout_s = CALL_SLICE_S;
    LG_DEBUG("-> %.200s", request);
    char *r = virDomainQemuAgentCommand(qga->dom, request, timeout_s, 0);
    if (r) {
        LG_DEBUG("<- %.200s", r);
        *reply = r;
        return 0;
    }
    virErrorPtr err = virGetLastError();
    int code = err ? err->code : VIR_ERR_INTERNAL_ERROR;
    lg_error_set("qemu-ga: %s", err && err->message ? err->message : "agent command failed");
    LG_DEBUG("error %d: %s", code, lg_error_msg());
    switch (code) {
    case VIR_ERR_AGENT_UNRESPONSIVE:
        /* not connected yet, or it did not answer within timeout_s */
        return lg_deadline_passed(dl) ? -ETIMEDOUT : -ECONNREFUSED;
    case VIR_ERR_OPERATION_INVALID: /* domain not running */
        return -ECONNRESET;
    case VIR_ERR_AGENT_UNSYNCED:
        return -EAGAIN;
    default:
        return -EIO;
    }
}

/* Calls until the agent answers or the deadline passes (an agent that is
 * not connected yet answers with an error at once: wait a little between). */
static int call_retrying(lg_qga *qga, const char *request, lg_deadline dl, char **reply)
{
    for (;;) {
        int rc = call(qga, request, dl, reply);
        if (rc != -ECONNREFUSED && rc != -EAGAIN)
            return rc;
        if (lg_deadline_left_ms(dl) < 250) {
            lg_error_set("qemu-ga did not answer before the deadline: %s", lg_error_msg());
            return -ETIMEDOUT;
        }
        lg_sleep_ms(200);
    }
}

int lg_qga_ping(lg_qga *qga, lg_deadline dl)
{
    char *reply = NULL;
    int rc = call_retrying(qga, "{\"execute\": \"guest-ping\"}", dl, &reply);
    free(reply);
    return rc;
}

int lg_qga_connect(const lg_qga_target *target, lg_deadline dl, lg_qga **out)
{
    lg_qga *qga = LG_NEW0(lg_qga);
    *qga = (lg_qga){ .dom = target->dom, .windows = target->windows, .cancel = target->cancel,
                     .cancel_opaque = target->cancel_opaque };
    int rc = lg_qga_ping(qga, dl);
    if (rc < 0) {
        free(qga);
        return rc;
    }
    *out = qga;
    return 0;
}

char *lg_qga_exec_request(const char *command, bool windows, const void *input, size_t input_len)
{
    lg_buf req = LG_BUF_INIT;
    lg_buf_puts(&req, "{\"execute\": \"guest-exec\", \"arguments\": {\"path\": ");
    if (windows) {
        /* cmd.exe, as OpenSSH for Windows runs a command: one command string
         * means the same on both transports (PowerShell is explicit, in the
         * command, when wanted) */
        lg_json_quote(&req, "C:\\Windows\\System32\\cmd.exe");
        lg_buf_puts(&req, ", \"arg\": [\"/c\", ");
    } else {
        lg_json_quote(&req, "/bin/sh");
        lg_buf_puts(&req, ", \"arg\": [\"-c\", ");
    }
    lg_json_quote(&req, command);
    lg_buf_puts(&req, "], \"capture-output\": true");
    if (input) {
        char *b64 = lg_base64_encode(input, input_len);
        lg_buf_printf(&req, ", \"input-data\": \"%s\"", b64);
        free(b64);
    }
    lg_buf_puts(&req, "}}");
    return lg_buf_steal(&req);
}

static void append_data(const char *reply, const char *path, lg_buf *output)
{
    char *b64 = NULL;
    if (!output || lg_json_string(reply, path, &b64) < 0)
        return;
    unsigned char *data = NULL;
    size_t len = 0;
    if (lg_base64_decode(b64, &data, &len) == 0) {
        lg_buf_append(output, data, len);
        lg_buf_keep_tail(output, OUTPUT_CAP);
    }
    free(data);
    free(b64);
}

int lg_qga_parse_exec_status(const char *reply, bool *exited, int *exit_status, lg_buf *output)
{
    bool done = false;
    if (lg_json_bool(reply, "return.exited", &done) < 0) {
        lg_error_set("qemu-ga: unexpected guest-exec-status reply: %.200s", reply);
        return -EIO;
    }
    int64_t code = -1, signal = 0;
    if (done) {
        /* the agent's exitcode and signal are C ints: anything else is a
         * broken or hostile reply, and cutting 2^32 down to an int would
         * read as success */
        if (lg_json_find(reply, "return.exitcode")) {
            if (lg_json_int(reply, "return.exitcode", &code) < 0 || code < INT_MIN || code > INT_MAX) {
                lg_error_set("qemu-ga: exit code out of range: %.200s", reply);
                return -EIO;
            }
        } else if (lg_json_find(reply, "return.signal")) {
            if (lg_json_int(reply, "return.signal", &signal) < 0 || signal < 0 || signal > INT_MAX - 128) {
                lg_error_set("qemu-ga: signal out of range: %.200s", reply);
                return -EIO;
            }
            code = 128 + signal; /* as a shell reports a killed command */
        }
        append_data(reply, "return.out-data", output);
        append_data(reply, "return.err-data", output);
        *exit_status = (int)code;
    }
    *exited = done;
    return 0;
}

int lg_qga_exec(lg_qga *qga, const char *command, const void *input, size_t input_len, lg_deadline dl,
                lg_buf *output, int *exit_status)
{
    LG_AUTOFREE char *request = lg_qga_exec_request(command, qga->windows, input, input_len);
    char *reply = NULL;
    int rc = call_retrying(qga, request, dl, &reply);
    if (rc < 0)
        return rc;
    int64_t pid = 0;
    if (lg_json_int(reply, "return.pid", &pid) < 0) {
        lg_error_set("qemu-ga: guest-exec gave no pid: %.200s", reply);
        free(reply);
        return -EIO;
    }
    free(reply);

    LG_AUTOFREE char *status_req =
        lg_strdup_printf("{\"execute\": \"guest-exec-status\", \"arguments\": {\"pid\": %lld}}", (long long)pid);
    int poll_ms = POLL_FIRST_MS;
    for (;;) {
        rc = call_retrying(qga, status_req, dl, &reply);
        if (rc < 0)
            return rc;
        bool exited = false;
        int status = -1;
        rc = lg_qga_parse_exec_status(reply, &exited, &status, output);
        free(reply);
        reply = NULL;
        if (rc < 0)
            return rc;
        if (exited) {
            if (exit_status)
                *exit_status = status;
            return 0;
        }
        if (lg_deadline_left_ms(dl) <= 0) {
            lg_error_set("command still running at the deadline (qemu-ga pid %lld): %s", (long long)pid, command);
            return -ETIMEDOUT;
        }
        lg_sleep_ms(poll_ms < lg_deadline_left_ms(dl) ? poll_ms : lg_deadline_left_ms(dl));
        if (poll_ms < POLL_MAX_MS)
            poll_ms *= 2;
    }
}

/* guest-file-open: -ENOENT when the agent answered that it cannot open it. */
static int file_open(lg_qga *qga, const char *path, const char *mode, lg_deadline dl, int64_t *handle)
{
    LG_AUTOBUF req = LG_BUF_INIT;
    lg_buf_puts(&req, "{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": ");
    lg_json_quote(&req, path);
    lg_buf_printf(&req, ", \"mode\": \"%s\"}}", mode);
    char *reply = NULL;
    int rc = call_retrying(qga, req.data, dl, &reply);
    if (rc == -EIO)
        return -ENOENT;
    if (rc < 0)
        return rc;
    if (lg_json_int(reply, "return", handle) < 0) {
        lg_error_set("qemu-ga cannot open %s in the guest: %.200s", path, reply);
        rc = -ENOENT;
    }
    free(reply);
    return rc;
}

/* Closed even after a failure (the agent keeps open handles forever), so
 * with a little time of its own when the deadline has passed. */
static int file_close(lg_qga *qga, int64_t handle, lg_deadline dl)
{
    LG_AUTOFREE char *req = lg_strdup_printf(
        "{\"execute\": \"guest-file-close\", \"arguments\": {\"handle\": %lld}}", (long long)handle);
    char *reply = NULL;
    int rc = call(qga, req, lg_deadline_passed(dl) ? lg_deadline_in_ms(2000) : dl, &reply);
    if (rc == 0)
        free(reply);
    return rc;
}

int lg_qga_write_file(lg_qga *qga, const char *path, const void *data, size_t len, lg_deadline dl)
{
    int64_t handle = 0;
    int rc = file_open(qga, path, "wb", dl, &handle);
    if (rc < 0)
        return rc == -ENOENT ? -EIO : rc; /* cannot create it: the guest's problem, not a missing file */
    char *reply = NULL;
    const unsigned char *bytes = data;
    for (size_t off = 0; rc == 0 && off < len; off += WRITE_CHUNK) {
        size_t n = len - off < WRITE_CHUNK ? len - off : WRITE_CHUNK;
        char *b64 = lg_base64_encode(bytes + off, n);
        LG_AUTOFREE char *write_req = lg_strdup_printf(
            "{\"execute\": \"guest-file-write\", \"arguments\": {\"handle\": %lld, \"buf-b64\": \"%s\"}}",
            (long long)handle, b64);
        free(b64);
        rc = call_retrying(qga, write_req, dl, &reply);
        if (rc == 0) {
            int64_t count = 0;
            if (lg_json_int(reply, "return.count", &count) < 0 || (size_t)count != n) {
                lg_error_set("qemu-ga wrote %lld of %zu bytes to %s: %.200s", (long long)count, n, path, reply);
                rc = -EIO;
            }
            free(reply);
        }
    }
    int close_rc = file_close(qga, handle, dl);
    return rc < 0 ? rc : close_rc;
}

/* guest-file-read payload per call: answered at once, like the writes */
#define READ_CHUNK (48 * 1024)
/* how often a fetch checks the room left on the results' file system */
#define ROOM_CHECK_BYTES (8u << 20)
/* data within this long before the deadline: slow, not a silent guest */
#define STREAMING_MS 10000

int lg_qga_read_file(lg_qga *qga, const char *path, const char *local_path, uint64_t max_bytes, lg_deadline dl,
                     uint64_t *size)
{
    int64_t handle = 0;
    int rc = file_open(qga, path, "rb", dl, &handle);
    if (rc < 0)
        return rc;
    char *reply = NULL;
    FILE *out = lg_fopen_write_nofollow(local_path);
    if (!out) {
        rc = -errno;
        lg_error_set("cannot write %s: %s", local_path, strerror(-rc));
    }
    uint64_t total = 0, limit = max_bytes, next_room_check = 0;
    int64_t last_data_ms = 0;
    LG_AUTOFREE char *read_req = lg_strdup_printf(
        "{\"execute\": \"guest-file-read\", \"arguments\": {\"handle\": %lld, \"count\": %d}}",
        (long long)handle, READ_CHUNK);
    for (bool eof = false; rc == 0 && !eof;) {
        rc = call_retrying(qga, read_req, dl, &reply);
        if (rc == -ETIMEDOUT && last_data_ms && lg_now_ms() - last_data_ms < STREAMING_MS) {
            /* the agent kept answering: slow, not silent */
            lg_error_set("still streaming at the deadline (%llu MiB so far)", (unsigned long long)(total >> 20));
            rc = -ETIME;
        }
        if (rc < 0)
            break;
        last_data_ms = lg_now_ms();
        if (total >= next_room_check) {
            /* the results' file system, shared with other jobs, may fill */
            uint64_t room = 0;
            if (lg_fs_room_fd(fileno(out), &room) == 0 && total + room < limit)
                limit = total + room;
            next_room_check = total + ROOM_CHECK_BYTES;
        }
        char *b64 = NULL;
        unsigned char *data = NULL;
        size_t len = 0;
        if (lg_json_bool(reply, "return.eof", &eof) < 0 || lg_json_string(reply, "return.buf-b64", &b64) < 0 ||
            lg_base64_decode(b64, &data, &len) < 0) {
            lg_error_set("qemu-ga: unexpected guest-file-read reply for %s: %.200s", path, reply);
            rc = -EIO;
        } else if (total + len > limit && limit < max_bytes) {
            lg_error_set("the results file system is nearly full (%llu MiB written)", (unsigned long long)(total >> 20));
            rc = -ENOSPC;
        } else if (total + len > limit) {
            /* no further read: the handle is closed below at once */
            lg_error_set("%s in the guest is larger than %llu bytes", path, (unsigned long long)max_bytes);
            rc = -EFBIG;
        } else if (len && fwrite(data, 1, len, out) != len) {
            lg_error_set("cannot write %s", local_path);
            rc = -EIO;
        }
        total += len;
        free(data);
        free(b64);
        free(reply);
        if (rc == 0 && len == 0 && !eof) {
            lg_error_set("qemu-ga: guest-file-read of %s returned nothing before the end", path);
            rc = -EIO;
        }
    }
    if (out && fclose(out) != 0 && rc == 0) {
        lg_error_set("cannot write %s", local_path);
        rc = -EIO;
    }
    if (rc < 0 && out)
        remove(local_path);
    file_close(qga, handle, dl);
    if (rc == 0 && size)
        *size = total;
    return rc;
}

void lg_qga_free(lg_qga *qga)
{
    free(qga);
}
