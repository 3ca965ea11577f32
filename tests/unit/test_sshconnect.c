/* The first phase of an ssh connection (TCP connect and the server's
 * banner) against local fake servers, no VM: a connection that never shows
 * a banner is abandoned and made again within the caller's deadline (as
 * QEMU's forwarder does before the guest listens), one closed at once fails
 * at once, and a caller that knows the server listens waits longer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/clock.h"
#include "guest/ssh.h"

typedef enum { SILENT, CLOSE_AT_ONCE, BANNER_LATE } behaviour;

typedef struct fake_server {
    int sock;
    int port;
    behaviour how;
    atomic_int accepted;
    atomic_bool stop;
    pthread_t thread;
} fake_server;

static void *serve(void *opaque)
{
    fake_server *f = opaque;
    int held[64];
    int n_held = 0;
    while (!atomic_load(&f->stop)) {
        int c = accept(f->sock, NULL, NULL);
        if (c < 0)
            continue; /* the accept timeout: look at stop again */
        atomic_fetch_add(&f->accepted, 1);
        if (f->how == CLOSE_AT_ONCE) {
            close(c);
            continue;
        }
        if (f->how == BANNER_LATE) {
            lg_sleep_ms(1500);
            static const char banner[] = "SSH-2.0-fake\r\n";
            if (write(c, banner, sizeof(banner) - 1) < 0)
                (void)0;
        }
        if (n_held < 64)
            held[n_held++] = c; /* silent: keep it open */
        else
            close(c);
    }
    for (int i = 0; i < n_held; i++)
        close(held[i]);
    return NULL;
}

static void start(fake_server *f, behaviour how)
{
    memset(f, 0, sizeof(*f));
    f->how = how;
    f->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->sock >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(f->sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(f->sock, 16), 0);
    socklen_t len = sizeof(addr);
    assert_int_equal(getsockname(f->sock, (struct sockaddr *)&addr, &len), 0);
    f->port = ntohs(addr.sin_port);
    struct timeval tv = { .tv_usec = 100 * 1000 };
    setsockopt(f->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

static void stop(fake_server *f)
{
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    close(f->sock);
}

static lg_ssh_target target_of(const fake_server *f)
{
    return (lg_ssh_target){ .host = "127.0.0.1", .port = f->port, .user = "root", .key_path = "/nonexistent" };
}

/* No banner: attempts of 1 s, then 1.5 s, ... until the deadline. */
static void test_silent_server_is_retried(void **state)
{
    (void)state;
    fake_server f;
    start(&f, SILENT);
    lg_ssh_target t = target_of(&f);
    lg_ssh *ssh = NULL;
    int64_t t0 = lg_now_ms();
    int rc = lg_ssh_connect(&t, lg_deadline_in_ms(2800), &ssh);
    int64_t took = lg_now_ms() - t0;
    stop(&f);
    assert_int_equal(rc, -ETIMEDOUT);
    assert_null(ssh);
    /* 0-1 s, 1-2.5 s, 2.5-2.8 s */
    assert_int_equal(atomic_load(&f.accepted), 3);
    assert_true(took >= 2800);
    assert_true(took < 2800 + 1000);
}

/* The forwarder closing the connection (nothing listens in the guest) is
 * an error at once, for the caller to poll again. */
static void test_closed_at_once_fails_at_once(void **state)
{
    (void)state;
    fake_server f;
    start(&f, CLOSE_AT_ONCE);
    lg_ssh_target t = target_of(&f);
    lg_ssh *ssh = NULL;
    int64_t t0 = lg_now_ms();
    int rc = lg_ssh_connect(&t, lg_deadline_in_ms(10000), &ssh);
    int64_t took = lg_now_ms() - t0;
    stop(&f);
    assert_int_equal(rc, -ECONNRESET);
    assert_int_equal(atomic_load(&f.accepted), 1);
    assert_true(took < 1000);
}

/* A caller that knows the server listens waits for a slow banner on one
 * connection instead of abandoning it. */
static void test_longer_banner_wait_keeps_the_connection(void **state)
{
    (void)state;
    fake_server f;
    start(&f, BANNER_LATE);
    lg_ssh_target t = target_of(&f);
    t.banner_ms = 5000;
    lg_ssh *ssh = NULL;
    int rc = lg_ssh_connect(&t, lg_deadline_in_ms(4000), &ssh);
    stop(&f);
    /* the fake server is no ssh server: the key exchange after its banner
     * never comes, so the caller's deadline ends it, on the one connection */
    assert_int_equal(rc, -ETIMEDOUT);
    assert_null(ssh);
    assert_int_equal(atomic_load(&f.accepted), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_server_is_retried),
        cmocka_unit_test(test_closed_at_once_fails_at_once),
        cmocka_unit_test(test_longer_banner_wait_keeps_the_connection),
    };
    lg_ssh_global_init();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lg_ssh_global_exit();
    return rc;
}
