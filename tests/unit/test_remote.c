/* Which libvirt URIs are remote hosts, the SSH a remote host is reached
 * through, and QEMU's `info usernet` table read back for a forward's port
 * (hypervisor output: read strictly). */
#include "lg_test.h"

#include <errno.h>

#include "base/error.h"
#include "virt/remote.h"
#include "virt/usernet.h"

static void test_local_or_remote(void **state)
{
    (void)state;
    /* this machine's daemons, reached as ourselves */
    assert_false(lg_uri_is_remote("qemu:///system"));
    assert_false(lg_uri_is_remote("qemu:///session"));
    assert_false(lg_uri_is_remote("qemu+unix:///system"));
    assert_false(lg_uri_is_remote("test:///default"));
    /* anything else: another machine, or a daemon that may be another user's */
    assert_true(lg_uri_is_remote("qemu+ssh://lab7/system"));
    assert_true(lg_uri_is_remote("qemu+ssh://lgremote@127.0.0.1:2222/session?keyfile=/k&known_hosts=/kh"));
    assert_true(lg_uri_is_remote("qemu+libssh2://u@h/system"));
    assert_true(lg_uri_is_remote("qemu+libssh://u@h/system"));
    assert_true(lg_uri_is_remote("qemu+tls://h/system"));
    assert_true(lg_uri_is_remote("qemu+tcp://10.0.0.1/system"));
    assert_true(lg_uri_is_remote("qemu+ext:///system?command=/bin/x"));
    assert_true(lg_uri_is_remote("qemu://h/system"));
    assert_true(lg_uri_is_remote("qemu+unix:///session?socket=/run/user/1001/libvirt/libvirt-sock"));
    /* ... but on this machine: its guests' ports are on this loopback */
    assert_true(lg_uri_on_this_machine("qemu+unix:///session?socket=/run/user/1001/libvirt/libvirt-sock"));
    assert_true(lg_uri_on_this_machine("qemu:///system"));
    assert_false(lg_uri_on_this_machine("qemu+ssh://user@host/system"));
    assert_false(lg_uri_on_this_machine("qemu+unix://host/system"));
    assert_false(lg_uri_on_this_machine("qemu+tls://host/system"));
    /* what cannot be read cannot be proven local */
    assert_true(lg_uri_is_remote("not a uri"));
    assert_true(lg_uri_is_remote(""));
    assert_true(lg_uri_is_remote(NULL));
    assert_true(lg_uri_is_session("qemu+ssh://u@h:2/session?keyfile=/k"));
    assert_false(lg_uri_is_session("qemu+ssh://u@h/system"));
}

static void test_host_ssh_from_uri(void **state)
{
    (void)state;
    lg_host_ssh ssh;
    assert_int_equal(lg_uri_host_ssh("qemu+ssh://lgremote@127.0.0.1:2222/session?keyfile=/tmp/k&known_hosts=/tmp/kh",
                                     &ssh), 0);
    assert_string_equal(ssh.user, "lgremote");
    assert_string_equal(ssh.host, "127.0.0.1");
    assert_int_equal(ssh.port, 2222);
    assert_string_equal(ssh.keyfile, "/tmp/k");
    assert_string_equal(ssh.known_hosts, "/tmp/kh");
    lg_host_ssh_clear(&ssh);

    /* tls and tcp: the URI's port is libvirtd's, sshd is on 22 */
    setenv("HOME", "/home/me", 1);
    assert_int_equal(lg_uri_host_ssh("qemu+tls://lab7.example.com:16514/system", &ssh), 0);
    assert_int_equal(ssh.port, 22);
    assert_string_equal(ssh.host, "lab7.example.com");
    assert_null(ssh.keyfile);
    assert_string_equal(ssh.known_hosts, "/home/me/.ssh/known_hosts");
    assert_non_null(ssh.user);
    lg_host_ssh_clear(&ssh);

    assert_int_equal(lg_uri_host_ssh("qemu+libssh2://root@[::1]:2200/system?known_hosts=/kh", &ssh), 0);
    assert_int_equal(ssh.port, 2200);
    lg_host_ssh_clear(&ssh);
}

static void test_hostile_uris(void **state)
{
    (void)state;
    static const struct { const char *uri; const char *says; } bad[] = {
        { "qemu:///system", "no host" },
        { "qemu+ssh:///system", "no host" },
        { "qemu+ssh://-oProxyCommand=x/system", "host name" },
        { "qemu+ssh://h%3Bid/system", "host name" },
        { "qemu+ssh://-l@h/system", "user name" },
        { "qemu+ssh://a%20b@h/system", "user name" },
        { "qemu+ssh://u@h:99999/system", "not a libvirt URI" },
        { "qemu+ssh://u@h/system?keyfile=relative/k", "absolute" },
        { "qemu+ssh://u@h/system?known_hosts=kh", "absolute" },
        { "qemu+libssh2://u@h/system?known_hosts_verify=ignore", "unchecked" },
        { "qemu+libssh2://u@h/system?known_hosts_verify=auto", "unchecked" },
        { "::::", "not a libvirt URI" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(bad); i++) {
        lg_host_ssh ssh = { 0 };
        int rc = lg_uri_host_ssh(bad[i].uri, &ssh);
        if (rc != -EINVAL || !strstr(lg_error_msg(), bad[i].says))
            fail_msg("%s: rc %d, message '%s' (wanted '%s')", bad[i].uri, rc, lg_error_msg(), bad[i].says);
        assert_null(ssh.host); /* nothing written on failure */
    }
}

static void test_remote_log_paths(void **state)
{
    (void)state;
    char *p = lg_uri_remote_log_path("qemu+ssh://u@h/system", "labgate-r-j", false);
    assert_string_equal(p, "/var/log/libvirt/qemu/labgate-r-j.log");
    free(p);
    p = lg_uri_remote_log_path("qemu+ssh://u@h/system", "labgate-r-j", true);
    assert_string_equal(p, "/var/log/swtpm/libvirt/qemu/labgate-r-j-swtpm.log");
    free(p);
    p = lg_uri_remote_log_path("qemu+libssh2://u@h:22/session", "d", false);
    assert_string_equal(p, ".cache/libvirt/qemu/log/d.log");
    free(p);
    assert_null(lg_uri_remote_log_path("qemu:///system", "d", false));
    assert_null(lg_uri_remote_log_path("qemu+ssh://u@h/system", "../../etc/passwd", false));
    assert_null(lg_uri_remote_log_path("qemu+ssh://u@h/system", "d'$(id)", false));
    assert_null(lg_uri_remote_log_path("qemu+ssh://u@h/system", "-rf", false));
}

/* what QEMU 7.2 prints for the domain XML's netdev */
static const char usernet[] =
    "Hub -1 (lgnet0):\r\n"
    "  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n"
    "  TCP[ESTABLISHED]   27       127.0.0.1 41234       10.0.2.15    22     0     0\r\n"
    "  TCP[HOST_FORWARD]  24       127.0.0.1 39867       10.0.2.15    22     0     0\r\n"
    "  UDP[236 sec]       31       10.0.2.15 55555        10.0.2.3    53     0     0\r\n";

static void test_usernet_port(void **state)
{
    (void)state;
    int port = 0;
    assert_int_equal(lg_usernet_hostfwd_port(usernet, 22, &port), 0);
    assert_int_equal(port, 39867);
    /* a forward to another guest port is not this one */
    port = 7;
    assert_int_equal(lg_usernet_hostfwd_port(usernet, 2222, &port), -ENOENT);
    assert_int_equal(port, 7);
    assert_non_null(strstr(lg_error_msg(), "guest port 2222"));
    assert_int_equal(lg_usernet_hostfwd_port("Hub -1 (lgnet0):\n", 22, &port), -ENOENT);
    /* one on another address than loopback is not ours */
    assert_int_equal(lg_usernet_hostfwd_port("  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n"
                                             "  TCP[HOST_FORWARD]  24       0.0.0.0 39867       10.0.2.15    22     0     0\n",
                                             22, &port), -ENOENT);
}

static void test_usernet_hostile(void **state)
{
    (void)state;
    static const char head[] = "Hub -1 (lgnet0):\n  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\n";
    static const char *rows[] = {
        "  TCP[HOST_FORWARD]  24       127.0.0.1 99999       10.0.2.15    22     0     0\n", /* port range */
        "  TCP[HOST_FORWARD]  24       127.0.0.1 -5       10.0.2.15    22     0     0\n",
        "  TCP[HOST_FORWARD]  24       127.0.0.1 0x50       10.0.2.15    22     0     0\n",
        "  TCP[HOST_FORWARD]  24       127.0.0.1 0       10.0.2.15    22     0     0\n",    /* not bound */
        "  TCP[HOST_FORWARD]  24       127.0.0.1 2222       10.0.2.15    22     0\n",      /* a field short */
        "  TCP[HOST_FORWARD]  24       127.0.0.1 2222       10.0.2.15    22     0 0 0\n",  /* one too many */
        "  TCP[HOST_FORWARD]  24       127.0.0.1 2222\x1b[2J 10.0.2.15    22     0     0\n",
        "error: unknown command: 'info usernet'\n",
        /* found by fuzz_usernet: more fields after the state than the row has room for */
        "  TCP[HOST_FORWARD] 1 2 3 4 5 6 7 8 9 10 11\n",
        ("  TCP[HOST_FORWARD]  24       127.0.0.1 2222       10.0.2.15    22     0     0\n"
         "  TCP[HOST_FORWARD]  25       127.0.0.1 2223       10.0.2.15    22     0     0\n"), /* which one? */
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(rows); i++) {
        LG_AUTOFREE char *text = lg_strdup_printf("%s%s", head, rows[i]);
        int port = 7;
        int rc = lg_usernet_hostfwd_port(text, 22, &port);
        if (rc != -EPROTO)
            fail_msg("row %zu: rc %d port %d (%s)", i, rc, port, lg_error_msg());
        assert_int_equal(port, 7);
    }
    /* a row before the header is not the table */
    int port = 7;
    assert_int_equal(lg_usernet_hostfwd_port("  TCP[HOST_FORWARD]  24  127.0.0.1 2222  10.0.2.15  22  0  0\n", 22, &port),
                     -EPROTO);
    /* too long to be the table */
    size_t big = LG_USERNET_REPLY_MAX + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    assert_int_equal(lg_usernet_hostfwd_port(huge, 22, &port), -EPROTO);
    free(huge);
    assert_int_equal(lg_usernet_hostfwd_port(NULL, 22, &port), -EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_or_remote),
        cmocka_unit_test(test_host_ssh_from_uri),
        cmocka_unit_test(test_hostile_uris),
        cmocka_unit_test(test_remote_log_paths),
        cmocka_unit_test(test_usernet_port),
        cmocka_unit_test(test_usernet_hostile),
    };
    return cmocka_run_group_tests_name("remote", tests, NULL, NULL);
}
