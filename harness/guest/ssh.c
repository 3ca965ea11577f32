#include "ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh2.h>

#include "base/backoff.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

LG_LOG_INIT("ssh");

#define OUTPUT_CAP (1 << 20)
#define POLL_SLICE_MS 100
/* How long one attempt may take to reach the server's banner.  QEMU's
 * user-mode networking accepts the host side of a forwarded connection at
 * once and only then sends the SYN into the guest; a guest whose network is
 * not up yet drops it, and slirp retransmits on TCP's schedule (1, 2, 4 s
 * ...).  A new attempt sends a new SYN at once, so a short attempt that
 * is abandoned and retried gets through about as soon as the guest
 * listens.  The limit grows on each failure for a guest too slow (TCG, a
 * loaded host) to fork its server within a second. */
#define BANNER_FIRST_MS 1000
#define BANNER_STEP_MS 500
#define BANNER_MAX_MS 5000

struct lg_ssh {
    int sock;
    LIBSSH2_SESSION *session;
    lg_cancel_fn cancel;
    void *cancel_opaque;
    bool broken;
};

int lg_ssh_global_init(void)
{
    int rc = libssh2_init(0);
    if (rc != 0) {
        lg_error_set("libssh2_init failed (%d)", rc);
        return -EIO;
    }
    return 0;
}

void lg_ssh_global_exit(void)
{
    libssh2_exit();
}

static const char *session_error(LIBSSH2_SESSION *session)
{
    char *msg = NULL;
    if (!session)
        return "no session";
    libssh2_session_last_error(session, &msg, NULL, 0);
    return msg && *msg ? msg : "unknown libssh2 error";
}

/* Waits until the socket is ready for what libssh2 is blocked on. */
static int wait_socket(lg_ssh *ssh, lg_deadline dl)
{
    if (ssh->cancel && ssh->cancel(ssh->cancel_opaque))
        return -ECANCELED;
    int64_t left = lg_deadline_left_ms(dl);
    if (left <= 0)
        return -ETIMEDOUT;
    int dirs = ssh->session ? libssh2_session_block_directions(ssh->session) : 0;
    struct pollfd pfd = { .fd = ssh->sock, .events = 0 };
    if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
        pfd.events |= POLLIN;
    if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        pfd.events |= POLLOUT;
    if (!pfd.events)
        pfd.events = POLLIN;
    int n = poll(&pfd, 1, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
    if (n < 0 && errno != EINTR)
        return -errno;
    return 0;
}

static int fail(lg_ssh *ssh, int rc, const char *what)
{
    ssh->broken = true;
    if (rc == -ETIMEDOUT)
        lg_error_set("ssh %s: timed out", what);
    else if (rc == -ECANCELED)
        lg_error_set("ssh %s: cancelled", what);
    else
        lg_error_set("ssh %s: %s", what, session_error(ssh->session));
    return rc;
}

/* Maps a libssh2 failure to an errno-style code. */
static int map_error(int rc)
{
    switch (rc) {
    case LIBSSH2_ERROR_SOCKET_DISCONNECT:
    case LIBSSH2_ERROR_SOCKET_RECV:
    case LIBSSH2_ERROR_SOCKET_SEND:
    case LIBSSH2_ERROR_BANNER_RECV:
    case LIBSSH2_ERROR_KEX_FAILURE:
        return -ECONNRESET;
    case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
    case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
    case LIBSSH2_ERROR_FILE:
        return -EACCES;
    default:
        return -EIO;
    }
}

#define RETRY(ssh, dl, what, expr)                                        \
    ({                                                                    \
        int rc_;                                                          \
        while ((rc_ = (expr)) == LIBSSH2_ERROR_EAGAIN) {                  \
            int w_ = wait_socket(ssh, dl);                                \
            if (w_ < 0) {                                                 \
                rc_ = fail(ssh, w_, what);                                \
                break;                                                    \
            }                                                             \
        }                                                                 \
        if (rc_ < 0 && rc_ > -1000 && !ssh->broken)                       \
            rc_ = fail(ssh, map_error(rc_), what);                        \
        rc_;                                                              \
    })

static int tcp_connect(lg_ssh *ssh, const char *host, int port, lg_deadline dl)
{
    ssh->sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ssh->sock < 0)
        return -errno;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        lg_error_set("ssh: bad address %s", host);
        return -EINVAL;
    }
    if (connect(ssh->sock, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        return 0;
    if (errno != EINPROGRESS) {
        int err = errno;
        lg_error_set("ssh connect %s:%d: %s", host, port, strerror(err));
        return -err;
    }
    for (;;) {
        if (ssh->cancel && ssh->cancel(ssh->cancel_opaque))
            return -ECANCELED;
        int64_t left = lg_deadline_left_ms(dl);
        if (left <= 0) {
            lg_error_set("ssh connect %s:%d: timed out", host, port);
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = ssh->sock, .events = POLLOUT };
        int n = poll(&pfd, 1, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
        if (n > 0)
            break;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(ssh->sock, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        lg_error_set("ssh connect %s:%d: %s", host, port, strerror(err));
        return -err;
    }
    return 0;
}

/* Waits, until dl, for the first byte of the server's banner: proof that a
 * server took the connection, not only QEMU's forwarder. */
static int wait_banner(lg_ssh *ssh, const char *host, int port, lg_deadline dl)
{
    for (;;) {
        if (ssh->cancel && ssh->cancel(ssh->cancel_opaque))
            return -ECANCELED;
        int64_t left = lg_deadline_left_ms(dl);
        if (left <= 0) {
            lg_error_set("ssh %s:%d: no server banner in time", host, port);
            return -ETIMEDOUT;
        }
        struct pollfd pfd = { .fd = ssh->sock, .events = POLLIN };
        int n = poll(&pfd, 1, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n <= 0)
            continue;
        char byte;
        ssize_t got = recv(ssh->sock, &byte, 1, MSG_PEEK);
        if (got > 0)
            return 0;
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        int err = got == 0 ? ECONNRESET : errno;
        /* the forwarder closes it when the guest refuses: nothing listens yet */
        lg_error_set("ssh %s:%d: %s before the server's banner", host, port,
                     got == 0 ? "connection closed" : strerror(err));
        return -err;
    }
}

/* The guest's host key against the profile's public key file (one line:
 * "TYPE BASE64 [COMMENT]"), through libssh2's known-hosts matcher with that
 * key as the only entry for host:port.  0, or -EKEYREJECTED / -errno with
 * the message set. */
static int check_host_key(lg_ssh *ssh, const char *host, int port, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc = lg_read_file(path, 64 * 1024, &text, &len);
    if (rc < 0) {
        lg_error_set("ssh: cannot read the guest's host key %s: %s", path, strerror(-rc));
        return rc;
    }
    const char *cursor = text, *type = NULL, *b64 = NULL;
    size_t type_len = lg_next_word(&cursor, &type);
    size_t b64_len = lg_next_word(&cursor, &b64);
    /* the known-hosts line for exactly the address and port we reached */
    LG_AUTOFREE char *line = type_len && b64_len
        ? lg_strdup_printf("[%s]:%d %.*s %.*s\n", host, port, (int)type_len, type, (int)b64_len, b64) : NULL;
    free(text);
    LIBSSH2_KNOWNHOSTS *known = libssh2_knownhost_init(ssh->session);
    if (!known) {
        lg_error_set("ssh: libssh2 cannot make a known-hosts list");
        return -EIO;
    }
    if (!line || libssh2_knownhost_readline(known, line, strlen(line), LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
        libssh2_knownhost_free(known);
        lg_error_set("%s: not an OpenSSH public key line (TYPE BASE64 [COMMENT])", path);
        return -EINVAL;
    }
    size_t got_len = 0;
    int got_type = 0;
    const char *got = libssh2_session_hostkey(ssh->session, &got_len, &got_type);
    int check = got ? libssh2_knownhost_checkp(known, host, port, got, got_len,
                                               LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, NULL)
                    : LIBSSH2_KNOWNHOST_CHECK_FAILURE;
    libssh2_knownhost_free(known);
    if (check == LIBSSH2_KNOWNHOST_CHECK_MATCH)
        return 0;
    const char *fp = libssh2_hostkey_hash(ssh->session, LIBSSH2_HOSTKEY_HASH_SHA256);
    LG_AUTOFREE char *b64fp = fp ? lg_base64_encode(fp, 32) : NULL;
    if (b64fp && strchr(b64fp, '='))
        *strchr(b64fp, '=') = '\0'; /* as ssh-keygen -l prints it */
    lg_error_set("the guest's ssh host key (SHA256:%s) is not the profile's %s: another image than the "
                 "profile's, or not the guest at all",
                 b64fp ? b64fp : "?", path);
    return -EKEYREJECTED;
}

/* One attempt: TCP connect and the server's banner by banner_dl, the rest
 * (key exchange, host key, authentication) by dl. */
static int connect_once(const lg_ssh_target *target, lg_deadline banner_dl, lg_deadline dl, lg_ssh **out)
{
    lg_ssh *ssh = LG_NEW0(lg_ssh);
    ssh->sock = -1;
    ssh->cancel = target->cancel;
    ssh->cancel_opaque = target->cancel_opaque;
    int rc = tcp_connect(ssh, target->host, target->port, banner_dl);
    if (rc == 0)
        rc = wait_banner(ssh, target->host, target->port, banner_dl);
    if (rc < 0) {
        lg_ssh_free(ssh);
        return rc;
    }
    ssh->session = libssh2_session_init();
    if (!ssh->session) {
        lg_ssh_free(ssh);
        return -ENOMEM;
    }
    libssh2_session_set_blocking(ssh->session, 0);
    rc = RETRY(ssh, dl, "handshake", libssh2_session_handshake(ssh->session, ssh->sock));
    if (rc == 0 && target->host_key_path)
        rc = check_host_key(ssh, target->host, target->port, target->host_key_path);
    if (rc == 0)
        rc = RETRY(ssh, dl, "authentication",
                   libssh2_userauth_publickey_fromfile(ssh->session, target->user, NULL, target->key_path, NULL));
    if (rc < 0) {
        LG_DEBUG("connect to %s:%d failed: %s", target->host, target->port, lg_error_msg());
        lg_ssh_free(ssh);
        return rc;
    }
    LG_DEBUG("connected to %s@%s:%d", target->user, target->host, target->port);
    *out = ssh;
    return 0;
}

int lg_ssh_connect(const lg_ssh_target *target, lg_deadline dl, lg_ssh **out)
{
    int64_t first_ms = target->banner_ms > 0 ? target->banner_ms : BANNER_FIRST_MS;
    lg_backoff banner = lg_backoff_linear(first_ms, BANNER_STEP_MS, first_ms > BANNER_MAX_MS ? first_ms : BANNER_MAX_MS);
    for (;;) {
        int64_t limit_ms = lg_backoff_next(&banner);
        lg_deadline banner_dl = lg_deadline_min(dl, lg_deadline_in_ms(limit_ms));
        int rc = connect_once(target, banner_dl, dl, out);
        if (rc != -ETIMEDOUT || lg_deadline_passed(dl) || !lg_deadline_passed(banner_dl))
            return rc;
        /* a stale attempt: the connection never reached a server */
        LG_DEBUG("connect to %s:%d: no banner within %lld ms, trying again", target->host, target->port,
                 (long long)limit_ms);
    }
}

void lg_ssh_free(lg_ssh *ssh)
{
    if (!ssh)
        return;
    if (ssh->session) {
        /* Best effort and bounded: a dead peer must not hold us here. */
        lg_deadline dl = lg_deadline_in_ms(1000);
        ssh->cancel = NULL;
        if (!ssh->broken)
            RETRY(ssh, dl, "disconnect", libssh2_session_disconnect(ssh->session, "bye"));
        /* Non-blocking, freeing can want the socket too (closing channels).
         * A peer that stays silent past the deadline gets the socket shut
         * down under it, which turns every further wait into a quick error;
         * the attempt cap is a last guard against looping. */
        for (int attempt = 0; attempt < 1000; attempt++) {
            if (libssh2_session_free(ssh->session) != LIBSSH2_ERROR_EAGAIN)
                break;
            if (lg_deadline_passed(dl) || wait_socket(ssh, dl) < 0)
                shutdown(ssh->sock, SHUT_RDWR);
        }
    }
    if (ssh->sock >= 0)
        close(ssh->sock);
    free(ssh);
}

static LIBSSH2_CHANNEL *open_channel(lg_ssh *ssh, lg_deadline dl)
{
    for (;;) {
        LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(ssh->session);
        if (ch)
            return ch;
        int err = libssh2_session_last_errno(ssh->session);
        if (err != LIBSSH2_ERROR_EAGAIN) {
            fail(ssh, map_error(err), "channel");
            return NULL;
        }
        int w = wait_socket(ssh, dl);
        if (w < 0) {
            fail(ssh, w, "channel");
            return NULL;
        }
    }
}

static int write_all(lg_ssh *ssh, LIBSSH2_CHANNEL *ch, const char *data, size_t len, lg_deadline dl)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = libssh2_channel_write(ch, data + done, len - done);
        if (n == LIBSSH2_ERROR_EAGAIN) {
            int w = wait_socket(ssh, dl);
            if (w < 0)
                return fail(ssh, w, "write");
            continue;
        }
        if (n < 0)
            return fail(ssh, map_error((int)n), "write");
        done += (size_t)n;
    }
    return 0;
}

/* Where a command's output goes: stdout and stderr merged into a capped
 * buffer, or stdout into a file (a fetch) and stderr into the buffer.  A
 * fetch stops at max, or earlier when the file system it writes to runs
 * out of room (checked every ROOM_CHECK_BYTES). */
typedef struct sink {
    lg_buf *output;
    FILE *file;
    uint64_t max, written;
    uint64_t limit, next_room_check; /* min(max, room found so far) */
    bool too_big, no_room, write_failed;
    int64_t last_data_ms;
} sink;

#define ROOM_CHECK_BYTES (8u << 20)
/* Data within this long before the deadline: the guest was answering, the
 * transfer was only slow (not a hang) */
#define STREAMING_MS 10000

static void collect(lg_buf *output, const char *data, size_t n)
{
    if (!output)
        return;
    lg_buf_append(output, data, n);
    if (output->len > OUTPUT_CAP)
        lg_buf_keep_tail(output, OUTPUT_CAP);
}

static void to_sink(sink *k, bool is_stdout, const char *data, size_t n)
{
    if (!is_stdout || !k->file) {
        collect(k->output, data, n);
        return;
    }
    k->last_data_ms = lg_now_ms();
    if (k->too_big || k->write_failed)
        return;
    if (k->written >= k->next_room_check) {
        uint64_t room = 0;
        if (lg_fs_room_fd(fileno(k->file), &room) == 0 && k->written + room < k->limit) {
            k->limit = k->written + room;
            k->no_room = true;
        }
        k->next_room_check = k->written + ROOM_CHECK_BYTES;
    }
    if (k->written + n > k->limit) {
        k->too_big = true; /* the caller closes the channel at once */
        return;
    }
    if (fwrite(data, 1, n, k->file) != n)
        k->write_failed = true;
    k->written += n;
}

static int exec_impl(lg_ssh *ssh, const char *command, const void *input, size_t input_len, lg_deadline dl,
                     sink *k, int *exit_status)
{
    if (ssh->broken) {
        lg_error_set("ssh session is no longer usable");
        return -ECONNRESET;
    }
    LG_DEBUG("exec: %s", command);
    LIBSSH2_CHANNEL *ch = open_channel(ssh, dl);
    if (!ch)
        return ssh->broken ? -ECONNRESET : -EIO;
    int rc = RETRY(ssh, dl, "exec", libssh2_channel_exec(ch, command));
    if (rc == 0 && input_len)
        rc = write_all(ssh, ch, input, input_len, dl);
    if (rc == 0)
        rc = RETRY(ssh, dl, "send eof", libssh2_channel_send_eof(ch));

    char chunk[8192];
    while (rc == 0) {
        ssize_t out = libssh2_channel_read(ch, chunk, sizeof(chunk));
        if (out > 0) {
            to_sink(k, true, chunk, (size_t)out);
            if (k->too_big || k->write_failed)
                break; /* stop the transfer now, not when the guest's command ends: it may never */
            continue;
        }
        ssize_t err = libssh2_channel_read_stderr(ch, chunk, sizeof(chunk));
        if (err > 0) {
            to_sink(k, false, chunk, (size_t)err);
            continue;
        }
        if (out < 0 && out != LIBSSH2_ERROR_EAGAIN) {
            rc = fail(ssh, map_error((int)out), "read");
            break;
        }
        if (libssh2_channel_eof(ch))
            break;
        int w = wait_socket(ssh, dl);
        if (w < 0)
            rc = fail(ssh, w, "read");
        if (w == -ETIMEDOUT && k->file && k->last_data_ms && lg_now_ms() - k->last_data_ms < STREAMING_MS)
            rc = -ETIME;
    }
    if (rc == 0 && (k->too_big || k->write_failed)) {
        /* Closing the channel makes the guest's sshd close the command's
         * stdout, so `cat /dev/zero` dies of SIGPIPE; a guest that does not
         * confirm soon costs the session, not the caller's time. */
        lg_deadline close_dl = lg_deadline_min(dl, lg_deadline_in_ms(5000));
        if (RETRY(ssh, close_dl, "close", libssh2_channel_close(ch)) == 0)
            libssh2_channel_free(ch);
        return 0;
    }
    if (rc == 0)
        rc = RETRY(ssh, dl, "close", libssh2_channel_close(ch));
    if (rc == 0)
        rc = RETRY(ssh, dl, "close", libssh2_channel_wait_closed(ch));
    if (rc == 0 && exit_status)
        *exit_status = libssh2_channel_get_exit_status(ch);
    if (rc == 0 || !ssh->broken)
        libssh2_channel_free(ch);
    /* else: freeing a channel on a dead session would wait for the peer; the
     * session free releases it */
    return rc;
}

int lg_ssh_exec(lg_ssh *ssh, const char *command, const void *input, size_t input_len,
                lg_deadline dl, lg_buf *output, int *exit_status)
{
    sink k = { .output = output };
    return exec_impl(ssh, command, input, input_len, dl, &k, exit_status);
}

int lg_ssh_exec_to_file(lg_ssh *ssh, const char *command, FILE *out, uint64_t max_bytes, lg_deadline dl,
                        lg_buf *errors, int *exit_status, uint64_t *written)
{
    sink k = { .output = errors, .file = out, .max = max_bytes, .limit = max_bytes };
    int rc = exec_impl(ssh, command, NULL, 0, dl, &k, exit_status);
    if (rc == -ETIME) {
        lg_error_set("still streaming at the deadline (%llu MiB so far)", (unsigned long long)(k.written >> 20));
        return rc;
    }
    if (rc == 0 && k.too_big && k.no_room) {
        lg_error_set("the results file system is nearly full (%llu MiB written)", (unsigned long long)(k.written >> 20));
        return -ENOSPC;
    }
    if (rc == 0 && k.too_big) {
        lg_error_set("the output of `%s` is larger than %llu bytes", command, (unsigned long long)max_bytes);
        return -EFBIG;
    }
    if (rc == 0 && k.write_failed) {
        lg_error_set("cannot write the output of `%s`", command);
        return -EIO;
    }
    if (rc == 0 && written)
        *written = k.written;
    return rc;
}
