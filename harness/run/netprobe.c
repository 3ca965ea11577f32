#include "netprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "guest/oscmd.h"
#include "virt/domxml.h"

LG_LOG_INIT("netprobe");

/* A guest flooding the listener costs at most this much reading a round. */
#define LISTENER_READ_MAX (256 * 1024)
/* How long a qemu-ga ping may take to show a guest over ssh still lives
 * (short: a hung guest's HANG waits for it). */
#define ALIVE_PING_MS 3000
/* Between rounds while settling. */
#define SETTLE_PAUSE_MS 1000

static const char *const dir_names[LG_NETDIR_MAX] = { "host to guest", "guest to host" };

const char *lg_netdir_name(lg_netdir d)
{
    return (unsigned)d < LG_NETDIR_MAX ? dir_names[d] : "network";
}

/* ---------------------------------------------------------- state machine */

void lg_netprobe_sm_init(lg_netprobe_sm *sm, int64_t settle_ms, int64_t lost_ms)
{
    memset(sm, 0, sizeof(*sm));
    sm->settle_ms = settle_ms;
    sm->lost_ms = lost_ms;
}

void lg_netprobe_sm_boot(lg_netprobe_sm *sm, int64_t boot_start_ms)
{
    lg_netprobe_sm_init(sm, sm->settle_ms, sm->lost_ms);
    sm->boot_start_ms = boot_start_ms;
}

int64_t lg_netprobe_sm_down_at(const lg_netprobe_sm *sm, lg_netdir d)
{
    if (!sm->dir[d].failing_since_ms)
        return 0;
    /* never up in this boot: it may come up until the boot timeout; once
     * up, it is lost after lost_ms without success */
    return sm->dir[d].up_once ? sm->dir[d].last_ok_ms + sm->lost_ms : sm->boot_start_ms + sm->settle_ms;
}

lg_netstate lg_netprobe_sm_state(const lg_netprobe_sm *sm, lg_netdir d, int64_t now_ms)
{
    if (!sm->dir[d].failing_since_ms)
        return sm->dir[d].up_once ? LG_NETSTATE_UP : LG_NETSTATE_PENDING;
    return now_ms >= lg_netprobe_sm_down_at(sm, d) ? LG_NETSTATE_DOWN : LG_NETSTATE_PENDING;
}

lg_netstate lg_netprobe_sm_record(lg_netprobe_sm *sm, lg_netdir d, bool ok, const char *why, int64_t now_ms)
{
    if (!sm->boot_start_ms)
        sm->boot_start_ms = now_ms;
    if (ok) {
        sm->dir[d].up_once = true;
        sm->dir[d].last_ok_ms = now_ms;
        sm->dir[d].failing_since_ms = 0;
        sm->dir[d].why[0] = '\0';
    } else {
        if (!sm->dir[d].failing_since_ms)
            sm->dir[d].failing_since_ms = now_ms;
        snprintf(sm->dir[d].why, sizeof(sm->dir[d].why), "%s", why && *why ? why : "no answer");
    }
    return lg_netprobe_sm_state(sm, d, now_ms);
}

lg_netstate lg_netprobe_sm_overall(const lg_netprobe_sm *sm, int64_t now_ms, lg_netdir *failed)
{
    bool all_up = true;
    for (int d = 0; d < LG_NETDIR_MAX; d++) {
        lg_netstate st = lg_netprobe_sm_state(sm, (lg_netdir)d, now_ms);
        if (st == LG_NETSTATE_DOWN) {
            if (failed)
                *failed = (lg_netdir)d;
            return LG_NETSTATE_DOWN;
        }
        all_up = all_up && st == LG_NETSTATE_UP;
    }
    return all_up ? LG_NETSTATE_UP : LG_NETSTATE_PENDING;
}

/* ------------------------------------------------------------------ probe */

struct lg_netprobe {
    lg_netprobe_params p;
    pthread_mutex_t lock; /* one round at a time; guards everything below */
    lg_vm *vm;
    int host_port;
    int listen_fd;
    int conn_fd;          /* QEMU's guestfwd connection, once accepted */
    unsigned serial;
    int64_t last_round_ms;
    lg_netprobe_sm sm;
};

int lg_netprobe_new(const lg_netprobe_params *params, lg_netprobe **out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int err = errno;
        lg_error_set("network probe: socket: %s", strerror(err));
        return -err;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    /* port 0: the kernel's free port, held from here to lg_netprobe_free,
     * so no other job (lg_port_reserve binds the same way) can take it */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
        int err = errno;
        close(fd);
        lg_error_set("network probe: listener on 127.0.0.1: %s", strerror(err));
        return -err;
    }
    lg_netprobe *np = LG_NEW0(lg_netprobe);
    np->p = *params;
    np->listen_fd = fd;
    np->conn_fd = -1;
    np->host_port = -1;
    pthread_mutex_init(&np->lock, NULL);
    lg_netprobe_sm_init(&np->sm, params->settle_ms, params->lost_ms);
    *out = np;
    return 0;
}

int lg_netprobe_listen_port(lg_netprobe *np)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    if (getsockname(np->listen_fd, (struct sockaddr *)&addr, &len) < 0)
        return -errno;
    return ntohs(addr.sin_port);
}

void lg_netprobe_attach(lg_netprobe *np, lg_vm *vm, int host_port)
{
    pthread_mutex_lock(&np->lock);
    np->vm = vm;
    np->host_port = host_port;
    pthread_mutex_unlock(&np->lock);
}

void lg_netprobe_boot(lg_netprobe *np, int64_t boot_start_ms)
{
    pthread_mutex_lock(&np->lock);
    lg_netprobe_sm_boot(&np->sm, boot_start_ms);
    np->last_round_ms = 0;
    pthread_mutex_unlock(&np->lock);
}

static bool cancelled(lg_netprobe *np)
{
    return np->p.target.cancel && np->p.target.cancel(np->p.target.cancel_opaque);
}

/* Waits for events on fd until dl, in short slices so a cancel is seen:
 * 1 ready, 0 deadline or cancel, negative errno. */
static int wait_fd(lg_netprobe *np, int fd, short events, lg_deadline dl)
{
    while (!lg_deadline_passed(dl) && !cancelled(np)) {
        int64_t left = lg_deadline_left_ms(dl);
        struct pollfd pfd = { .fd = fd, .events = events };
        int n = poll(&pfd, 1, (int)(left < 250 ? left : 250));
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
    return 0;
}

/* host to guest: connect to the forwarded port; the guest's service must
 * speak first.  QEMU accepts on the host side at once whatever the guest
 * does, so only bytes from the guest prove the path. */
static bool probe_host_to_guest(lg_netprobe *np, lg_deadline dl, char *why, size_t why_len)
{
    int guest_port = np->p.profile->transport == LG_TRANSPORT_SSH ? np->p.profile->ssh_port
                                                                   : np->p.profile->net_probe_port;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, why_len, "socket: %s", strerror(errno));
        return false;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)np->host_port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
    if (rc < 0 && errno != EINPROGRESS) {
        snprintf(why, why_len, "port %d (guest port %d) refused: %s", np->host_port, guest_port, strerror(errno));
        goto out;
    }
    rc = wait_fd(np, fd, POLLIN, dl);
    if (rc <= 0) {
        snprintf(why, why_len, "guest port %d did not answer within %lld s", guest_port,
                 (long long)(np->p.timeout_ms / 1000));
        goto out;
    }
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0)
        ok = true;
    else if (n == 0)
        snprintf(why, why_len, "guest port %d closed the connection without a word", guest_port);
    else
        snprintf(why, why_len, "guest port %d: %s", guest_port, strerror(errno));
out:
    close(fd);
    return ok;
}

/* The guestfwd connection QEMU opened at start (a failed launch attempt
 * may have left a dead one queued first: a closed one is replaced by the
 * next). */
static int listener_conn(lg_netprobe *np, lg_deadline dl)
{
    if (np->conn_fd >= 0)
        return np->conn_fd;
    if (wait_fd(np, np->listen_fd, POLLIN, dl) <= 0)
        return -ETIMEDOUT;
    np->conn_fd = accept4(np->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    return np->conn_fd >= 0 ? np->conn_fd : -errno;
}

/* Reads what the guest sent through guestfwd until token shows, or dl.
 * Anything else is the guest's (untrusted, bounded, dropped). */
static bool listener_saw(lg_netprobe *np, const char *token, lg_deadline dl)
{
    size_t tlen = strlen(token);
    char buf[4096 + 64];
    size_t carry = 0;
    size_t total = 0;
    while (total < LISTENER_READ_MAX) {
        int fd = listener_conn(np, dl);
        if (fd < 0)
            return false;
        if (wait_fd(np, fd, POLLIN, dl) <= 0)
            return false;
        ssize_t n = recv(fd, buf + carry, sizeof(buf) - carry, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            close(np->conn_fd);
            np->conn_fd = -1;
            carry = 0;
            continue;
        }
        total += (size_t)n;
        size_t have = carry + (size_t)n;
        if (memmem(buf, have, token, tlen))
            return true;
        carry = have < tlen ? have : tlen - 1;
        memmove(buf, buf + have - carry, carry);
    }
    return false;
}

/* guest to host: the guest sends a fresh token to the listener. */
static bool probe_guest_to_host(lg_netprobe *np, lg_session *guest, lg_deadline dl, char *why, size_t why_len)
{
    if (!guest) {
        snprintf(why, why_len, "no session with the guest to run its side");
        return false;
    }
    uint64_t nonce = 0;
    if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        nonce = (uint64_t)lg_now_us();
    char token[64];
    snprintf(token, sizeof(token), "lgprobe-%u-%016llx", ++np->serial, (unsigned long long)nonce);
    int timeout_s = (int)(lg_deadline_left_ms(dl) / 1000);
    LG_AUTOFREE char *cmd = lg_os_net_probe_command(np->p.profile->os, LG_NETPROBE_GUEST_ADDR, LG_NETPROBE_GUEST_PORT,
                                                    token, timeout_s > 2 ? timeout_s - 1 : 1);
    const lg_backend_ops *ops = np->p.backend->ops;
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int64_t t0 = lg_now_ms();
    int rc = ops->exec(guest, cmd, NULL, 0, dl, &out, &status);
    /* the request may be in the listener already, or on its way */
    bool seen = listener_saw(np, token, rc < 0 ? lg_deadline_in_ms(0) : dl);
    LG_DEBUG("%s: guest to host: exec %d, exit %d, token %s, %lld ms", np->p.job_id, rc, status,
             seen ? "seen" : "not seen", (long long)(lg_now_ms() - t0));
    if (seen)
        return true;
    if (rc < 0)
        snprintf(why, why_len, "could not run the guest's side: %s", lg_error_msg());
    else
        snprintf(why, why_len, "nothing the guest sent to %s:%d arrived within %lld s",
                 LG_NETPROBE_GUEST_ADDR, LG_NETPROBE_GUEST_PORT, (long long)(np->p.timeout_ms / 1000));
    return false;
}

/* How the guest is known to live without its network: qemu-ga answers (the
 * session's own, or a fresh agent connection over an ssh profile), or its
 * console printed the ready line for this boot and goes on.  "" when
 * nothing shows it. */
static void alive_evidence(lg_netprobe *np, lg_session *guest, bool need_ready_line, lg_buf *out)
{
    const lg_backend_ops *ops = np->p.backend->ops;
    lg_monitor *mon = np->p.mon;
    int boot = lg_monitor_boot(mon);
    int ready_boot = lg_monitor_ready_line_boot(mon);
    bool ready_line = ready_boot > 0 && ready_boot >= boot;
    if (need_ready_line && !ready_line)
        return;
    lg_deadline dl = lg_deadline_in_ms(ALIVE_PING_MS);
    bool agent = false;
    if (np->p.profile->transport == LG_TRANSPORT_QGA && guest) {
        agent = ops->ping(guest, dl) == 0;
    } else if (np->vm) {
        lg_transport_target t = np->p.target;
        t.kind = LG_TRANSPORT_QGA;
        lg_session *s = NULL;
        if (ops->connect(np->p.backend, np->vm, &t, dl, &s) == 0) {
            agent = ops->ping(s, dl) == 0;
            ops->session_free(s);
        }
    }
    int64_t console_ms = lg_monitor_console_ms(mon);
    int64_t quiet_ms = console_ms ? lg_now_ms() - console_ms : -1;
    bool console_active = ready_line && console_ms && quiet_ms < np->p.lost_ms;
    if (agent)
        lg_buf_printf(out, "qemu-ga answers");
    if (console_active)
        lg_buf_printf(out, "%sready line printed (boot %d), console output %lld s ago", out->len ? "; " : "",
                      ready_boot, (long long)(quiet_ms / 1000));
    else if (agent && ready_line)
        lg_buf_printf(out, "; ready line printed (boot %d)", ready_boot);
}

/* np->lock held */
static void report_alive(lg_netprobe *np, lg_netdir d, const char *alive)
{
    int64_t since = np->sm.dir[d].failing_since_ms;
    if (np->sm.dir[d].up_once && np->sm.dir[d].last_ok_ms)
        since = np->sm.dir[d].last_ok_ms;
    else if (np->sm.boot_start_ms && np->sm.boot_start_ms < since)
        since = np->sm.boot_start_ms;
    int secs = (int)((lg_now_ms() - since + 500) / 1000);
    lg_monitor_fail(np->p.mon, LG_FAIL_UNREACHABLE, lg_netdir_name(d), secs, np->sm.dir[d].why, alive);
}

/* np->lock held */
static void report_down(lg_netprobe *np, lg_session *guest, lg_netdir d)
{
    LG_AUTOBUF alive = LG_BUF_INIT;
    alive_evidence(np, guest, false, &alive);
    if (!alive.len) {
        LG_DEBUG("%s: %s down, but nothing shows the guest lives", np->p.job_id, lg_netdir_name(d));
        return;
    }
    report_alive(np, d, alive.data);
}

static lg_netstate round_locked(lg_netprobe *np, lg_session *guest)
{
    char why[LG_NETPROBE_WHY_MAX] = "";
    lg_deadline dl = lg_deadline_in_ms(np->p.timeout_ms);
    bool ok = probe_host_to_guest(np, dl, why, sizeof(why));
    lg_netprobe_sm_record(&np->sm, LG_NETDIR_HOST_TO_GUEST, ok, why, lg_now_ms());
    why[0] = '\0';
    if (cancelled(np))
        return LG_NETSTATE_PENDING;
    dl = lg_deadline_in_ms(np->p.timeout_ms);
    ok = probe_guest_to_host(np, guest, dl, why, sizeof(why));
    lg_netprobe_sm_record(&np->sm, LG_NETDIR_GUEST_TO_HOST, ok, why, lg_now_ms());
    np->last_round_ms = lg_now_ms();
    lg_netdir failed = LG_NETDIR_HOST_TO_GUEST;
    lg_netstate st = lg_netprobe_sm_overall(&np->sm, lg_now_ms(), &failed);
    LG_DEBUG("%s: probes: host to guest %d, guest to host %d", np->p.job_id,
             lg_netprobe_sm_state(&np->sm, LG_NETDIR_HOST_TO_GUEST, lg_now_ms()),
             lg_netprobe_sm_state(&np->sm, LG_NETDIR_GUEST_TO_HOST, lg_now_ms()));
    if (st == LG_NETSTATE_DOWN && !cancelled(np))
        report_down(np, guest, failed);
    return st;
}

/* CPU time of the calling thread, for the cost of a round (debug). */
static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

lg_netstate lg_netprobe_round(lg_netprobe *np, lg_session *guest)
{
    pthread_mutex_lock(&np->lock);
    int64_t cpu0 = thread_cpu_us(), t0 = lg_now_ms();
    lg_netstate st = round_locked(np, guest);
    LG_DEBUG("%s: round: %lld ms, %lld us of CPU", np->p.job_id, (long long)(lg_now_ms() - t0),
             (long long)(thread_cpu_us() - cpu0));
    pthread_mutex_unlock(&np->lock);
    return st;
}

bool lg_netprobe_due(lg_netprobe *np)
{
    pthread_mutex_lock(&np->lock);
    bool due = lg_now_ms() - np->last_round_ms >= np->p.interval_ms;
    pthread_mutex_unlock(&np->lock);
    return due;
}

int lg_netprobe_settle(lg_netprobe *np, lg_session *guest)
{
    for (;;) {
        if (cancelled(np))
            return -ECANCELED;
        lg_netstate st = lg_netprobe_round(np, guest);
        if (st == LG_NETSTATE_UP)
            return 0;
        if (st == LG_NETSTATE_DOWN)
            return -ENETUNREACH;
        lg_sleep_ms(SETTLE_PAUSE_MS);
    }
}

bool lg_netprobe_explain_silence(lg_netprobe *np, bool need_ready_line)
{
    if (np->p.profile->transport != LG_TRANSPORT_SSH)
        return false;
    /* a round found it so while the caller waited: the silence is that
     * (not a hang to replace it with) */
    if (lg_monitor_verdict(np->p.mon) == LG_VERDICT_UNREACHABLE)
        return true;
    if (cancelled(np))
        return false;
    /* first whether it lives at all, without waiting for a round in
     * progress: a hung guest costs one short ping, and its HANG no more
     * (np->vm is set before any caller runs) */
    LG_AUTOBUF alive = LG_BUF_INIT;
    alive_evidence(np, NULL, need_ready_line, &alive);
    if (!alive.len)
        return false;
    pthread_mutex_lock(&np->lock);
    bool decided = lg_monitor_verdict(np->p.mon) == LG_VERDICT_UNREACHABLE;
    char why[LG_NETPROBE_WHY_MAX] = "";
    if (!decided && !cancelled(np) &&
        !probe_host_to_guest(np, lg_deadline_in_ms(np->p.timeout_ms), why, sizeof(why)) && !cancelled(np)) {
        /* ssh itself has failed as long as the caller waited: the direction
         * is down now, whatever allowance a probe would have had */
        lg_netprobe_sm_record(&np->sm, LG_NETDIR_HOST_TO_GUEST, false, why, lg_now_ms());
        report_alive(np, LG_NETDIR_HOST_TO_GUEST, alive.data);
        decided = lg_monitor_verdict(np->p.mon) == LG_VERDICT_UNREACHABLE;
    }
    pthread_mutex_unlock(&np->lock);
    return decided;
}

void lg_netprobe_free(lg_netprobe *np)
{
    if (!np)
        return;
    if (np->conn_fd >= 0)
        close(np->conn_fd);
    close(np->listen_fd);
    pthread_mutex_destroy(&np->lock);
    free(np);
}
