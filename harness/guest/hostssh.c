#include "hostssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

LG_LOG_INIT("hostssh");

/* each direction of a pump holds this much before it stops reading */
#define PUMP_BUF (64 * 1024)
/* the pump thread's poll when nothing moved (libssh2 may hold data it
 * read from the socket for another channel: look again soon) */
#define IDLE_POLL_MS 50
#define BUSY_POLL_MS 5
#define WAIT_SLICE_MS 20

typedef struct pump {
    int fd;
    LIBSSH2_CHANNEL *ch; /* NULL while a direct-tcpip channel is being opened */
    int host_port;       /* direct-tcpip target */
    int tag;             /* the forward's local port, or the reverse's host port */
    bool reverse;
    bool fd_eof, ch_eof, eof_sent, dead;
    bool cancelled;      /* killed while its channel was being opened */
    size_t to_ch_len, to_fd_len;
    char to_ch[PUMP_BUF];
    char to_fd[PUMP_BUF];
} pump;

typedef struct forward {
    int listen_fd;
    int local_port;
    int host_port;
} forward;

typedef struct reverse {
    LIBSSH2_LISTENER *listener;
    int host_port;
    int local_port;
} reverse;

struct lg_hostssh {
    char *label; /* user@host:port */
    int sock;
    LIBSSH2_SESSION *session;
    /* the session (libssh2 is not thread-safe per session) and the lists */
    pthread_mutex_t lock;
    pthread_t thread;
    bool thread_started;
    int wake[2];
    atomic_bool stop;
    atomic_bool broken;
    forward *fwd;
    size_t n_fwd;
    reverse *rev;
    size_t n_rev;
    pump **pumps;
    size_t n_pumps;
    LIBSSH2_CHANNEL **closing; /* channels whose free would block */
    size_t n_closing;
    /* libssh2 keeps one channel-open state per session: an open that
     * would block must be continued by its owner alone, until it ends */
    const void *open_owner;
};

static const char *session_error(LIBSSH2_SESSION *s)
{
    char *msg = NULL;
    libssh2_session_last_error(s, &msg, NULL, 0);
    return msg && *msg ? msg : "unknown libssh2 error";
}

static bool socket_gone(int rc)
{
    return rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV ||
           rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT;
}

/* Waits for the session's socket (lock not held) until dl; -ETIMEDOUT. */
static int wait_socket(lg_hostssh *h, lg_deadline dl)
{
    int64_t left = lg_deadline_left_ms(dl);
    if (left <= 0)
        return -ETIMEDOUT;
    int dirs = libssh2_session_block_directions(h->session);
    struct pollfd pfd = { .fd = h->sock, .events = POLLIN };
    if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
        pfd.events |= POLLOUT;
    poll(&pfd, 1, left < WAIT_SLICE_MS ? (int)left : WAIT_SLICE_MS);
    return 0;
}

/* Takes the session's channel-open state (lock held; let go while
 * waiting); -ETIMEDOUT. */
static int open_acquire(lg_hostssh *h, const void *owner, lg_deadline dl)
{
    while (h->open_owner && h->open_owner != owner) {
        pthread_mutex_unlock(&h->lock);
        int w = wait_socket(h, dl);
        pthread_mutex_lock(&h->lock);
        if (w < 0)
            return w;
    }
    h->open_owner = owner;
    return 0;
}

/* expr, again while it would block, the lock let go in between; with the
 * lock held before and after.  Evaluates to libssh2's result, or
 * LIBSSH2_ERROR_TIMEOUT once dl passed. */
#define SESSION_TRY(h, dl, expr)                                  \
    ({                                                            \
        long rc_;                                                 \
        while ((rc_ = (long)(expr)) == LIBSSH2_ERROR_EAGAIN) {    \
            pthread_mutex_unlock(&(h)->lock);                     \
            int w_ = wait_socket(h, dl);                          \
            pthread_mutex_lock(&(h)->lock);                       \
            if (w_ < 0) {                                         \
                rc_ = LIBSSH2_ERROR_TIMEOUT;                      \
                break;                                            \
            }                                                     \
        }                                                         \
        rc_;                                                      \
    })

static void wake(lg_hostssh *h)
{
    char byte = 1;
    if (write(h->wake[1], &byte, 1) < 0)
        LG_DEBUG("wake: %s", strerror(errno)); /* a full pipe wakes it all the same */
}

static int tcp_connect(const char *host, int port, lg_deadline dl, int *out)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%d", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        lg_error_set("cannot resolve %s: %s", host, gai_strerror(gai));
        return -EHOSTUNREACH;
    }
    int err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            err = errno;
            close(fd);
            continue;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int64_t left = lg_deadline_left_ms(dl);
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        int so = 0;
        socklen_t len = sizeof(so);
        if (n <= 0) {
            err = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 && so == 0) {
            freeaddrinfo(res);
            *out = fd;
            return 0;
        } else {
            err = so ? so : errno;
        }
        close(fd);
    }
    freeaddrinfo(res);
    lg_error_set("cannot connect to %s port %d: %s", host, port, strerror(err));
    return err == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

static int check_host_key(lg_hostssh *h, const lg_host_ssh *p)
{
    size_t key_len = 0;
    int key_type = 0;
    const char *key = libssh2_session_hostkey(h->session, &key_len, &key_type);
    if (!key) {
        lg_error_set("%s: the server sent no host key", h->label);
        return -EIO;
    }
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(h->session);
    if (!kh) {
        lg_error_set("%s: %s", h->label, session_error(h->session));
        return -EIO;
    }
    int rc = 0;
    if (libssh2_knownhost_readfile(kh, p->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
        lg_error_set("%s: cannot read known_hosts %s: the host key cannot be checked, so it is refused "
                     "(add it: ssh-keyscan -p %d %s >> %s)",
                     h->label, p->known_hosts, p->port, p->host, p->known_hosts);
        rc = -EKEYREJECTED;
    } else {
        struct libssh2_knownhost *entry = NULL;
        int check = libssh2_knownhost_checkp(kh, p->host, p->port, key, key_len,
                                             LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &entry);
        if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
            lg_error_set("%s: the host key differs from the one %s has for it: refused", h->label,
                         p->known_hosts);
            rc = -EKEYREJECTED;
        } else if (check == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
            lg_error_set("%s: host key unknown to %s: refused (check it, then add it: ssh-keyscan -p %d %s >> %s)",
                         h->label, p->known_hosts, p->port, p->host, p->known_hosts);
            rc = -EKEYREJECTED;
        } else if (check != LIBSSH2_KNOWNHOST_CHECK_MATCH) {
            lg_error_set("%s: the host key could not be checked against %s", h->label, p->known_hosts);
            rc = -EKEYREJECTED;
        }
    }
    libssh2_knownhost_free(kh);
    return rc;
}

static int authenticate(lg_hostssh *h, const lg_host_ssh *p, lg_deadline dl)
{
    static const char *defaults[] = { ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa" };
    char *keys[3] = { 0 };
    size_t n = 0;
    if (p->keyfile) {
        keys[n++] = lg_strdup(p->keyfile);
    } else {
        const char *home = getenv("HOME");
        for (size_t i = 0; home && i < LG_N_ELEMENTS(defaults); i++) {
            char *k = lg_strdup_printf("%s/%s", home, defaults[i]);
            if (access(k, R_OK) == 0)
                keys[n++] = k;
            else
                free(k);
        }
    }
    int rc = -EACCES;
    for (size_t i = 0; i < n && rc == -EACCES; i++) {
        long r = SESSION_TRY(h, dl, libssh2_userauth_publickey_fromfile_ex(h->session, p->user,
                                                                           (unsigned)strlen(p->user), NULL, keys[i],
                                                                           NULL));
        if (r == 0)
            rc = 0;
        else if (r == LIBSSH2_ERROR_TIMEOUT)
            rc = -ETIMEDOUT;
        else if (socket_gone((int)r))
            rc = -ECONNRESET;
        LG_DEBUG("%s: key %s: %ld", h->label, keys[i], r);
    }
    if (rc < 0)
        lg_error_set("%s: %s", h->label,
                     rc == -ETIMEDOUT ? "authentication timed out"
                     : n == 0         ? "no private key to authenticate with (give keyfile= in the URI)"
                                      : "no key accepted for the user");
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    return rc;
}

/* ------------------------------------------------------------- the pumps */

static void pump_kill(lg_hostssh *h, pump *pp)
{
    if (pp->fd >= 0)
        close(pp->fd);
    pp->fd = -1;
    if (h->open_owner == pp && !atomic_load(&h->broken)) {
        /* its open goes on to the end (the session's one open state);
         * the channel it gives is closed then */
        pp->cancelled = true;
        return;
    }
    if (h->open_owner == pp)
        h->open_owner = NULL;
    if (pp->ch) {
        h->closing = lg_realloc_n(h->closing, h->n_closing + 1, sizeof(*h->closing));
        h->closing[h->n_closing++] = pp->ch;
        pp->ch = NULL;
    }
    pp->dead = true;
}

static pump *pump_add(lg_hostssh *h, int fd, LIBSSH2_CHANNEL *ch, int host_port, int tag, bool rev)
{
    pump *pp = LG_NEW0(pump);
    pp->fd = fd;
    pp->ch = ch;
    pp->host_port = host_port;
    pp->tag = tag;
    pp->reverse = rev;
    h->pumps = lg_realloc_n(h->pumps, h->n_pumps + 1, sizeof(*h->pumps));
    h->pumps[h->n_pumps++] = pp;
    return pp;
}

/* One round of moving data; true when anything moved.  Lock held. */
static bool pump_step(lg_hostssh *h, pump *pp)
{
    bool moved = false;
    if (!pp->ch) {
        if (h->open_owner && h->open_owner != pp)
            return false; /* another open is under way */
        h->open_owner = pp;
        pp->ch = libssh2_channel_direct_tcpip_ex(h->session, "127.0.0.1", pp->host_port, "127.0.0.1", 0);
        if (!pp->ch) {
            int err = libssh2_session_last_errno(h->session);
            if (err != LIBSSH2_ERROR_EAGAIN) {
                h->open_owner = NULL;
                LG_DEBUG("%s: no channel to port %d: %s", h->label, pp->host_port, session_error(h->session));
                if (socket_gone(err))
                    atomic_store(&h->broken, true);
                pp->cancelled = false;
                pump_kill(h, pp);
            }
            return false;
        }
        h->open_owner = NULL;
        if (pp->cancelled) {
            pp->cancelled = false;
            pump_kill(h, pp);
            return true;
        }
        moved = true;
    }
    if (!pp->fd_eof && pp->to_ch_len < PUMP_BUF) {
        ssize_t n = recv(pp->fd, pp->to_ch + pp->to_ch_len, PUMP_BUF - pp->to_ch_len, MSG_DONTWAIT);
        if (n > 0) {
            pp->to_ch_len += (size_t)n;
            moved = true;
        } else if (n == 0) {
            pp->fd_eof = moved = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            pump_kill(h, pp);
            return true;
        }
    }
    if (pp->to_ch_len) {
        ssize_t w = libssh2_channel_write(pp->ch, pp->to_ch, pp->to_ch_len);
        if (w > 0) {
            memmove(pp->to_ch, pp->to_ch + w, pp->to_ch_len - (size_t)w);
            pp->to_ch_len -= (size_t)w;
            moved = true;
        } else if (w != LIBSSH2_ERROR_EAGAIN) {
            if (socket_gone((int)w))
                atomic_store(&h->broken, true);
            pump_kill(h, pp);
            return true;
        }
    }
    if (pp->fd_eof && !pp->to_ch_len && !pp->eof_sent) {
        int r = libssh2_channel_send_eof(pp->ch);
        if (r != LIBSSH2_ERROR_EAGAIN)
            pp->eof_sent = moved = true;
    }
    if (!pp->ch_eof && pp->to_fd_len < PUMP_BUF) {
        ssize_t r = libssh2_channel_read(pp->ch, pp->to_fd + pp->to_fd_len, PUMP_BUF - pp->to_fd_len);
        if (r > 0) {
            pp->to_fd_len += (size_t)r;
            moved = true;
        } else if (r == 0 ? libssh2_channel_eof(pp->ch) : r != LIBSSH2_ERROR_EAGAIN) {
            if (r < 0 && socket_gone((int)r))
                atomic_store(&h->broken, true);
            pp->ch_eof = moved = true;
        }
    }
    if (pp->to_fd_len) {
        ssize_t w = send(pp->fd, pp->to_fd, pp->to_fd_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            memmove(pp->to_fd, pp->to_fd + w, pp->to_fd_len - (size_t)w);
            pp->to_fd_len -= (size_t)w;
            moved = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            pump_kill(h, pp);
            return true;
        }
    }
    /* the far side ended and all it sent is delivered: done */
    if (pp->ch_eof && !pp->to_fd_len)
        pump_kill(h, pp);
    return moved;
}

static int local_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* New connections on both kinds of listener.  Lock held. */
static bool accept_all(lg_hostssh *h)
{
    bool moved = false;
    for (size_t i = 0; i < h->n_fwd; i++) {
        int fd;
        while ((fd = accept4(h->fwd[i].listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
            pump_add(h, fd, NULL, h->fwd[i].host_port, h->fwd[i].local_port, false);
            moved = true;
        }
    }
    for (size_t i = 0; i < h->n_rev; i++) {
        LIBSSH2_CHANNEL *ch;
        while ((ch = libssh2_channel_forward_accept(h->rev[i].listener)) != NULL) {
            moved = true;
            int fd = local_connect(h->rev[i].local_port);
            if (fd < 0) {
                LG_DEBUG("%s: reverse to local port %d: %s", h->label, h->rev[i].local_port, strerror(-fd));
                h->closing = lg_realloc_n(h->closing, h->n_closing + 1, sizeof(*h->closing));
                h->closing[h->n_closing++] = ch;
                continue;
            }
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            pump_add(h, fd, ch, 0, h->rev[i].host_port, true);
        }
        int err = libssh2_session_last_errno(h->session);
        if (socket_gone(err))
            atomic_store(&h->broken, true);
    }
    return moved;
}

/* Frees what is dead.  Lock held. */
static void reap(lg_hostssh *h)
{
    size_t kept = 0;
    for (size_t i = 0; i < h->n_pumps; i++) {
        if (h->pumps[i]->dead)
            free(h->pumps[i]);
        else
            h->pumps[kept++] = h->pumps[i];
    }
    h->n_pumps = kept;
    kept = 0;
    for (size_t i = 0; i < h->n_closing; i++) {
        int rc = libssh2_channel_free(h->closing[i]);
        if (rc == LIBSSH2_ERROR_EAGAIN && !atomic_load(&h->broken))
            h->closing[kept++] = h->closing[i];
    }
    h->n_closing = kept;
}

static void *pump_main(void *opaque)
{
    lg_hostssh *h = opaque;
    bool busy = false;
    struct pollfd *pfds = NULL;
    size_t cap = 0;
    while (!atomic_load(&h->stop)) {
        pthread_mutex_lock(&h->lock);
        size_t need = 2 + h->n_fwd + h->n_pumps;
        if (need > cap) {
            cap = need * 2;
            pfds = lg_realloc_n(pfds, cap, sizeof(*pfds));
        }
        size_t n = 0;
        pfds[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
        int dirs = libssh2_session_block_directions(h->session);
        pfds[n++] = (struct pollfd){ .fd = h->sock,
                                     .events = POLLIN | (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0) };
        for (size_t i = 0; i < h->n_fwd; i++)
            pfds[n++] = (struct pollfd){ .fd = h->fwd[i].listen_fd, .events = POLLIN };
        for (size_t i = 0; i < h->n_pumps; i++) {
            pump *pp = h->pumps[i];
            short ev = 0;
            if (!pp->fd_eof && pp->to_ch_len < PUMP_BUF)
                ev |= POLLIN;
            if (pp->to_fd_len)
                ev |= POLLOUT;
            pfds[n++] = (struct pollfd){ .fd = pp->fd, .events = ev };
        }
        pthread_mutex_unlock(&h->lock);
        poll(pfds, n, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
        if (pfds[0].revents & POLLIN) {
            char drain[64];
            while (read(h->wake[0], drain, sizeof(drain)) > 0) {
            }
        }
        pthread_mutex_lock(&h->lock);
        busy = false;
        if (!atomic_load(&h->broken)) {
            busy |= accept_all(h);
            for (size_t i = 0; i < h->n_pumps; i++)
                if (!h->pumps[i]->dead)
                    busy |= pump_step(h, h->pumps[i]);
        }
        if (atomic_load(&h->broken))
            for (size_t i = 0; i < h->n_pumps; i++)
                if (!h->pumps[i]->dead)
                    pump_kill(h, h->pumps[i]);
        reap(h);
        pthread_mutex_unlock(&h->lock);
        if (atomic_load(&h->broken) && !busy) {
            /* nothing more can move: accept and drop, so a client learns at once */
            poll(NULL, 0, IDLE_POLL_MS);
            pthread_mutex_lock(&h->lock);
            for (size_t i = 0; i < h->n_fwd; i++) {
                int fd;
                while ((fd = accept4(h->fwd[i].listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                    close(fd);
            }
            pthread_mutex_unlock(&h->lock);
        }
    }
    free(pfds);
    return NULL;
}

/* --------------------------------------------------------------- the API */

int lg_hostssh_open(const lg_host_ssh *p, int64_t timeout_ms, lg_hostssh **out)
{
    lg_error_clear();
    lg_deadline dl = lg_deadline_in_ms(timeout_ms);
    lg_hostssh *h = LG_NEW0(lg_hostssh);
    h->label = lg_strdup_printf("ssh %s@%s:%d", p->user, p->host, p->port);
    h->sock = h->wake[0] = h->wake[1] = -1;
    pthread_mutex_init(&h->lock, NULL);
    int rc = tcp_connect(p->host, p->port, dl, &h->sock);
    if (rc == 0 && pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        rc = -errno;
        lg_error_set("%s: no pipe: %s", h->label, strerror(-rc));
    }
    if (rc == 0) {
        h->session = libssh2_session_init();
        if (!h->session) {
            lg_error_set("%s: libssh2 session not created", h->label);
            rc = -EIO;
        }
    }
    pthread_mutex_lock(&h->lock);
    if (rc == 0) {
        libssh2_session_set_blocking(h->session, 0);
        long r = SESSION_TRY(h, dl, libssh2_session_handshake(h->session, h->sock));
        if (r != 0) {
            lg_error_set("%s: handshake: %s", h->label,
                         r == LIBSSH2_ERROR_TIMEOUT ? "timed out" : session_error(h->session));
            rc = r == LIBSSH2_ERROR_TIMEOUT ? -ETIMEDOUT : -ECONNRESET;
        }
    }
    if (rc == 0)
        rc = check_host_key(h, p);
    if (rc == 0)
        rc = authenticate(h, p, dl);
    pthread_mutex_unlock(&h->lock);
    if (rc == 0) {
        int err = pthread_create(&h->thread, NULL, pump_main, h);
        if (err) {
            lg_error_set("%s: no pump thread: %s", h->label, strerror(err));
            rc = -err;
        } else {
            h->thread_started = true;
        }
    }
    if (rc < 0) {
        lg_hostssh_free(h);
        return rc;
    }
    LG_DEBUG("%s: connected", h->label);
    *out = h;
    return 0;
}

bool lg_hostssh_broken(lg_hostssh *h)
{
    return atomic_load(&h->broken);
}

int lg_hostssh_forward(lg_hostssh *h, int host_port, int *local_port)
{
    lg_error_clear();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int err = errno;
        close(fd);
        lg_error_set("%s: no local listener: %s", h->label, strerror(err));
        return -err;
    }
    pthread_mutex_lock(&h->lock);
    h->fwd = lg_realloc_n(h->fwd, h->n_fwd + 1, sizeof(*h->fwd));
    h->fwd[h->n_fwd++] = (forward){ .listen_fd = fd, .local_port = ntohs(a.sin_port), .host_port = host_port };
    pthread_mutex_unlock(&h->lock);
    wake(h);
    *local_port = ntohs(a.sin_port);
    LG_DEBUG("%s: 127.0.0.1:%d -> host's 127.0.0.1:%d", h->label, *local_port, host_port);
    return 0;
}

void lg_hostssh_forward_close(lg_hostssh *h, int local_port)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_fwd; i++) {
        if (h->fwd[i].local_port != local_port)
            continue;
        close(h->fwd[i].listen_fd);
        h->fwd[i] = h->fwd[--h->n_fwd];
        break;
    }
    for (size_t i = 0; i < h->n_pumps; i++)
        if (!h->pumps[i]->reverse && h->pumps[i]->tag == local_port && !h->pumps[i]->dead)
            pump_kill(h, h->pumps[i]);
    pthread_mutex_unlock(&h->lock);
    wake(h);
}

bool lg_hostssh_forward_alive(lg_hostssh *h, int local_port)
{
    if (atomic_load(&h->broken))
        return false;
    pthread_mutex_lock(&h->lock);
    bool found = false;
    for (size_t i = 0; i < h->n_fwd && !found; i++)
        found = h->fwd[i].local_port == local_port;
    pthread_mutex_unlock(&h->lock);
    return found;
}

int lg_hostssh_reverse(lg_hostssh *h, int local_port, int64_t timeout_ms, int *host_port)
{
    lg_error_clear();
    lg_deadline dl = lg_deadline_in_ms(timeout_ms);
    int bound = 0;
    pthread_mutex_lock(&h->lock);
    LIBSSH2_LISTENER *l = NULL;
    char owner;
    if (open_acquire(h, &owner, dl) < 0) {
        pthread_mutex_unlock(&h->lock);
        lg_error_set("%s: the connection stayed busy", h->label);
        return -ETIMEDOUT;
    }
    while (!(l = libssh2_channel_forward_listen_ex(h->session, "127.0.0.1", 0, &bound, 4)) &&
           libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_EAGAIN) {
        pthread_mutex_unlock(&h->lock);
        int w = wait_socket(h, dl);
        pthread_mutex_lock(&h->lock);
        if (w < 0)
            break;
    }
    h->open_owner = NULL;
    if (!l && lg_deadline_left_ms(dl) <= 0)
        atomic_store(&h->broken, true); /* an open left half-way: the session's state is unusable */
    if (!l) {
        lg_error_set("%s: the host refused a listener on its 127.0.0.1 (sshd's AllowTcpForwarding?): %s",
                     h->label, lg_deadline_left_ms(dl) <= 0 ? "timed out" : session_error(h->session));
        pthread_mutex_unlock(&h->lock);
        return lg_deadline_left_ms(dl) <= 0 ? -ETIMEDOUT : -EIO;
    }
    h->rev = lg_realloc_n(h->rev, h->n_rev + 1, sizeof(*h->rev));
    h->rev[h->n_rev++] = (reverse){ .listener = l, .host_port = bound, .local_port = local_port };
    pthread_mutex_unlock(&h->lock);
    wake(h);
    LG_DEBUG("%s: host's 127.0.0.1:%d -> 127.0.0.1:%d", h->label, bound, local_port);
    *host_port = bound;
    return 0;
}

void lg_hostssh_reverse_close(lg_hostssh *h, int host_port)
{
    if (!h)
        return;
    lg_deadline dl = lg_deadline_in_ms(5000);
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_rev; i++) {
        if (h->rev[i].host_port != host_port)
            continue;
        if (!atomic_load(&h->broken))
            SESSION_TRY(h, dl, libssh2_channel_forward_cancel(h->rev[i].listener));
        h->rev[i] = h->rev[--h->n_rev];
        break;
    }
    for (size_t i = 0; i < h->n_pumps; i++)
        if (h->pumps[i]->reverse && h->pumps[i]->tag == host_port && !h->pumps[i]->dead)
            pump_kill(h, h->pumps[i]);
    pthread_mutex_unlock(&h->lock);
    wake(h);
}

int lg_hostssh_exec(lg_hostssh *h, const char *command, size_t max_bytes, int64_t timeout_ms, lg_buf *out,
                    int *exit_status)
{
    lg_error_clear();
    lg_deadline dl = lg_deadline_in_ms(timeout_ms);
    if (atomic_load(&h->broken)) {
        lg_error_set("%s: the connection is gone", h->label);
        return -ECONNRESET;
    }
    pthread_mutex_lock(&h->lock);
    LIBSSH2_CHANNEL *ch = NULL;
    char owner;
    if (open_acquire(h, &owner, dl) < 0) {
        pthread_mutex_unlock(&h->lock);
        lg_error_set("%s: the connection stayed busy", h->label);
        return -ETIMEDOUT;
    }
    while (!(ch = libssh2_channel_open_session(h->session)) &&
           libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_EAGAIN) {
        pthread_mutex_unlock(&h->lock);
        int w = wait_socket(h, dl);
        pthread_mutex_lock(&h->lock);
        if (w < 0)
            break;
    }
    h->open_owner = NULL;
    if (!ch && lg_deadline_left_ms(dl) <= 0)
        atomic_store(&h->broken, true); /* an open left half-way: the session's state is unusable */
    int rc = 0;
    if (!ch) {
        lg_error_set("%s: no session channel: %s", h->label, session_error(h->session));
        rc = -EIO;
    }
    if (rc == 0 && SESSION_TRY(h, dl, libssh2_channel_exec(ch, command)) != 0) {
        lg_error_set("%s: exec: %s", h->label, session_error(h->session));
        rc = -EIO;
    }
    lg_buf collected = LG_BUF_INIT;
    char chunk[16384];
    while (rc == 0) {
        ssize_t r = libssh2_channel_read(ch, chunk, sizeof(chunk));
        char discard[4096];
        ssize_t e = libssh2_channel_read_stderr(ch, discard, sizeof(discard));
        if (r > 0) {
            if (collected.len + (size_t)r > max_bytes) {
                lg_error_set("%s: `%s` wrote more than %zu bytes", h->label, command, max_bytes);
                rc = -EFBIG;
                break;
            }
            lg_buf_append(&collected, chunk, (size_t)r);
            continue;
        }
        if (e > 0)
            continue;
        if (r == 0 && libssh2_channel_eof(ch))
            break;
        if (r < 0 && r != LIBSSH2_ERROR_EAGAIN) {
            lg_error_set("%s: reading `%s`: %s", h->label, command, session_error(h->session));
            rc = -EIO;
            break;
        }
        pthread_mutex_unlock(&h->lock);
        int w = wait_socket(h, dl);
        pthread_mutex_lock(&h->lock);
        if (w < 0) {
            lg_error_set("%s: `%s` did not finish in time", h->label, command);
            rc = -ETIMEDOUT;
        }
    }
    int status = -1;
    if (ch) {
        if (rc == 0) {
            SESSION_TRY(h, dl, libssh2_channel_close(ch));
            SESSION_TRY(h, dl, libssh2_channel_wait_closed(ch));
            status = libssh2_channel_get_exit_status(ch);
        }
        h->closing = lg_realloc_n(h->closing, h->n_closing + 1, sizeof(*h->closing));
        h->closing[h->n_closing++] = ch;
    }
    pthread_mutex_unlock(&h->lock);
    if (rc == 0) {
        lg_buf_append(out, collected.data ? collected.data : "", collected.len);
        *exit_status = status;
    }
    lg_buf_free(&collected);
    return rc;
}

void lg_hostssh_free(lg_hostssh *h)
{
    if (!h)
        return;
    atomic_store(&h->stop, true);
    if (h->thread_started) {
        wake(h);
        pthread_join(h->thread, NULL);
    }
    for (size_t i = 0; i < h->n_fwd; i++)
        close(h->fwd[i].listen_fd);
    for (size_t i = 0; i < h->n_pumps; i++) {
        if (h->pumps[i]->fd >= 0)
            close(h->pumps[i]->fd);
        free(h->pumps[i]);
    }
    if (h->session) {
        /* the session's end frees its channels and listeners; blocking
         * now, bounded by a short socket timeout */
        libssh2_session_set_blocking(h->session, 1);
        libssh2_session_set_timeout(h->session, 2000);
        libssh2_session_disconnect(h->session, "labgate done");
        libssh2_session_free(h->session);
    }
    if (h->sock >= 0)
        close(h->sock);
    if (h->wake[0] >= 0)
        close(h->wake[0]);
    if (h->wake[1] >= 0)
        close(h->wake[1]);
    free(h->fwd);
    free(h->rev);
    free(h->pumps);
    free(h->closing);
    pthread_mutex_destroy(&h->lock);
    free(h->label);
    free(h);
}
