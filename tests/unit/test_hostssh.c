/* The host SSH connection's failure paths, against servers made here: a
 * closed port, a server that never speaks, one that speaks no SSH.  (The
 * forwards themselves need a real sshd: tests/e2e/remote.sh.) */
#include "lg_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "guest/hostssh.h"
#include "guest/ssh.h"

typedef struct server {
    int fd;
    int port;
    const char *says; /* NULL: silent */
    pthread_t thread;
} server;

static void *serve(void *opaque)
{
    server *s = opaque;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (s->says && write(c, s->says, strlen(s->says)) < 0)
        fail_msg("write");
    char buf[256];
    while (read(c, buf, sizeof(buf)) > 0) {
    }
    close(c);
    return NULL;
}

static void server_start(server *s, const char *says)
{
    s->says = says;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 1), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
}

static lg_host_ssh params(int port)
{
    return (lg_host_ssh){ .user = "nobody", .host = "127.0.0.1", .port = port, .keyfile = "/nonexistent",
                          .known_hosts = "/nonexistent" };
}

static void test_closed_port(void **state)
{
    (void)state;
    /* a port that was free a moment ago */
    server s;
    server_start(&s, NULL);
    int port = s.port;
    shutdown(s.fd, SHUT_RDWR);
    close(s.fd);
    pthread_join(s.thread, NULL);
    lg_host_ssh p = params(port);
    lg_hostssh *h = NULL;
    assert_int_equal(lg_hostssh_open(&p, 5000, &h), -ECONNREFUSED);
    assert_null(h);
    assert_non_null(strstr(lg_error_msg(), "cannot connect to 127.0.0.1"));
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    server s;
    server_start(&s, NULL);
    lg_host_ssh p = params(s.port);
    lg_hostssh *h = NULL;
    int64_t start = lg_now_ms();
    int rc = lg_hostssh_open(&p, 700, &h);
    int64_t took = lg_now_ms() - start;
    assert_int_equal(rc, -ETIMEDOUT);
    assert_null(h);
    assert_true(took >= 600 && took < 3000);
    assert_non_null(strstr(lg_error_msg(), "handshake: timed out"));
    server_stop(&s);
}

static void test_not_ssh(void **state)
{
    (void)state;
    server s;
    server_start(&s, "HTTP/1.0 400 Bad Request\r\n\r\n");
    lg_host_ssh p = params(s.port);
    lg_hostssh *h = NULL;
    int rc = lg_hostssh_open(&p, 5000, &h);
    assert_true(rc == -ECONNRESET || rc == -ETIMEDOUT);
    assert_null(h);
    assert_non_null(strstr(lg_error_msg(), "ssh nobody@127.0.0.1"));
    server_stop(&s);
}

int main(void)
{
    lg_ssh_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_port),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_not_ssh),
    };
    int rc = cmocka_run_group_tests_name("hostssh", tests, NULL, NULL);
    lg_ssh_global_exit();
    return rc;
}
