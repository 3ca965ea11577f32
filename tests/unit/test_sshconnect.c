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
#include "base/error.h"
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

/* The host-key check against a real ssh server (dropbear, which the guest
 * images use too) on 127.0.0.1: the profile's key is accepted (the guest
 * then refuses our client key: -EACCES), another key is -EKEYREJECTED
 * before any authentication, naming the fingerprint. */
static void test_host_key_checked_against_real_server(void **state)
{
    (void)state;
    if (access("/usr/sbin/dropbear", X_OK) != 0 || access("/usr/bin/dropbearkey", X_OK) != 0) {
        print_message("# dropbear not installed\n");
        skip();
    }
    char dir[] = "/tmp/lg-hostkey-XXXXXX";
    assert_non_null(mkdtemp(dir));
    LG_AUTOFREE char *make = lg_strdup_printf(
        "cd %s && dropbearkey -t ecdsa -f server >/dev/null 2>&1 && dropbearkey -t ecdsa -f other >/dev/null 2>&1 && "
        "dropbearkey -y -f server | grep '^ecdsa' > server.pub && dropbearkey -y -f other | grep '^ecdsa' > other.pub && "
        "dropbearkey -t ecdsa -f client >/dev/null 2>&1 && printf 'garbage\\n' > bad.pub", dir);
    assert_int_equal(system(make), 0);
    /* a free port: bind 0, read it back, close, hand it to dropbear */
    fake_server probe;
    start(&probe, CLOSE_AT_ONCE);
    int port = probe.port;
    stop(&probe);
    LG_AUTOFREE char *pidfile = lg_strdup_printf("%s/pid", dir);
    LG_AUTOFREE char *serve = lg_strdup_printf("dropbear -r %s/server -p 127.0.0.1:%d -P %s -s -j -k", dir, port,
                                               pidfile);
    assert_int_equal(system(serve), 0); /* it forks into the background */
    LG_AUTOFREE char *server_pub = lg_strdup_printf("%s/server.pub", dir);
    LG_AUTOFREE char *other_pub = lg_strdup_printf("%s/other.pub", dir);
    LG_AUTOFREE char *bad_pub = lg_strdup_printf("%s/bad.pub", dir);
    LG_AUTOFREE char *client = lg_strdup_printf("%s/client", dir);
    lg_ssh_target t = { .host = "127.0.0.1", .port = port, .user = "nobody", .key_path = client,
                        .host_key_path = server_pub, .banner_ms = 5000 };
    lg_ssh *ssh = NULL;
    int rc = -ECONNREFUSED;
    for (int i = 0; i < 50 && rc == -ECONNREFUSED; i++) { /* until dropbear listens */
        rc = lg_ssh_connect(&t, lg_deadline_in_ms(10000), &ssh);
        if (rc == -ECONNREFUSED)
            lg_sleep_ms(100);
    }
    assert_int_not_equal(rc, -EKEYREJECTED); /* the right key passes the check */
    lg_ssh_free(ssh);
    ssh = NULL;
    t.host_key_path = other_pub;
    rc = lg_ssh_connect(&t, lg_deadline_in_ms(10000), &ssh);
    assert_int_equal(rc, -EKEYREJECTED);
    assert_non_null(strstr(lg_error_msg(), "is not the profile's"));
    assert_non_null(strstr(lg_error_msg(), "SHA256:"));
    t.host_key_path = bad_pub;
    rc = lg_ssh_connect(&t, lg_deadline_in_ms(10000), &ssh);
    assert_int_equal(rc, -EINVAL);
    assert_null(ssh);
    LG_AUTOFREE char *cleanup = lg_strdup_printf("kill $(cat %s) 2>/dev/null; rm -rf %s", pidfile, dir);
    assert_int_equal(system(cleanup), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_server_is_retried),
        cmocka_unit_test(test_closed_at_once_fails_at_once),
        cmocka_unit_test(test_longer_banner_wait_keeps_the_connection),
        cmocka_unit_test(test_host_key_checked_against_real_server),
    };
    lg_ssh_global_init();
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lg_ssh_global_exit();
    return rc;
}
