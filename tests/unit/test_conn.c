/* The shared connection's reconnect, against libvirt's test driver (it has
 * no daemon to restart, no events and no consoles: a drop is played with
 * lg_conn_closed, as libvirt's close callback does it). */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lg_test.h"

#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "virt/conn.h"
#include "virt/libvirt-priv.h"

#define PATIENCE_MS (30 * 1000)

typedef struct heard {
    atomic_int dropped, reattached, gone;
    _Atomic int64_t gap_ms;
} heard;

static void on_dropped(void *opaque) { atomic_fetch_add(&((heard *)opaque)->dropped, 1); }
static void on_gone(void *opaque) { atomic_fetch_add(&((heard *)opaque)->gone, 1); }
static void on_reattach(void *opaque, int64_t gap_ms)
{
    heard *h = opaque;
    atomic_store(&h->gap_ms, gap_ms);
    atomic_fetch_add(&h->reattached, 1);
}

static int listen(lg_conn *conn, heard *h)
{
    return lg_conn_listen(conn, &(lg_conn_listener){
        .dropped = on_dropped, .reattach = on_reattach, .gone = on_gone, .opaque = h });
}

static void wait_for(lg_conn *conn, bool (*done)(lg_conn *conn))
{
    int64_t until = lg_now_ms() + PATIENCE_MS;
    while (!done(conn) && lg_now_ms() < until)
        lg_sleep_ms(10);
    assert_true(done(conn));
}

static bool up(lg_conn *conn) { return !(lg_conn_epoch(conn) & 1); }
static bool lost(lg_conn *conn) { return lg_conn_lost(conn); }

static const char domain_xml[] =
    "<domain type='test'><name>labgate-reconnect</name><memory>65536</memory>"
    "<os><type>hvm</type></os></domain>";

/* A drop: one reconnect, every listener re-attached once, the domain found
 * again by name on the new connection. */
static void test_reconnects_and_reattaches(void **state)
{
    (void)state;
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open("test:///default", &conn), 0);
    virConnectPtr before = lg_conn_virt(conn);
    virDomainPtr dom = virDomainDefineXML(before, domain_xml);
    assert_non_null(dom);
    assert_int_equal(virDomainCreate(dom), 0);
    heard a = { 0 }, b = { 0 };
    int ida = listen(conn, &a), idb = listen(conn, &b);
    assert_int_equal(lg_conn_epoch(conn), 0);

    lg_conn_closed(conn);
    assert_true(lg_conn_epoch(conn) & 1);
    assert_false(lg_conn_lost(conn));
    lg_conn_closed(conn); /* libvirt says it twice: still one reconnect */
    wait_for(conn, up);
    assert_int_equal(lg_conn_epoch(conn), 2);
    assert_false(lg_conn_lost(conn));
    assert_int_equal(a.dropped, 1);
    assert_int_equal(a.reattached, 1);
    assert_int_equal(b.reattached, 1);
    assert_int_equal(a.gone, 0);
    assert_true(a.gap_ms >= 0);
    virConnectPtr after = lg_conn_virt(conn);
    assert_ptr_not_equal(after, before);
    /* the guest ran on: found again by name, running */
    virDomainPtr again = virDomainLookupByName(after, "labgate-reconnect");
    assert_non_null(again);
    int st = -1;
    assert_int_equal(virDomainGetState(again, &st, NULL, 0), 0);
    assert_int_equal(st, VIR_DOMAIN_RUNNING);
    /* the old handle is kept valid, if useless, until the conn is freed */
    assert_string_equal(virDomainGetName(dom), "labgate-reconnect");

    /* an unlistened listener hears nothing of the next drop */
    lg_conn_unlisten(conn, ida);
    lg_conn_closed(conn);
    wait_for(conn, up);
    assert_int_equal(a.dropped, 1);
    assert_int_equal(b.dropped, 2);
    assert_int_equal(b.reattached, 2);
    lg_conn_unlisten(conn, idb);

    virDomainDestroy(again);
    virDomainUndefine(again);
    virDomainFree(again);
    virDomainFree(dom);
    lg_conn_free(conn);
}

/* A test driver from a file that is gone by the time of the drop: no
 * connection within the deadline, so lost for good, and "gone" heard. */
static lg_conn *conn_that_cannot_come_back(void)
{
    char path[] = "/tmp/lg-conn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char node[] = "<node><domain type='test'><name>d</name><memory>65536</memory>"
                               "<os><type>hvm</type></os></domain></node>";
    assert_int_equal(write(fd, node, sizeof(node) - 1), (ssize_t)sizeof(node) - 1);
    close(fd);
    LG_AUTOFREE char *uri = lg_strdup_printf("test://%s", path);
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open(uri, &conn), 0);
    unlink(path);
    return conn;
}

static void test_gives_up_at_the_deadline(void **state)
{
    (void)state;
    lg_conn *conn = conn_that_cannot_come_back();
    lg_conn_set_reconnect_ms(conn, 600);
    heard h = { 0 };
    listen(conn, &h);
    int64_t t0 = lg_now_ms();
    lg_conn_closed(conn);
    wait_for(conn, lost);
    int64_t took = lg_now_ms() - t0;
    assert_true(took >= 600);
    assert_true(took < 10000);
    assert_int_equal(h.dropped, 1);
    assert_int_equal(h.reattached, 0);
    assert_int_equal(h.gone, 1);
    assert_true(lg_conn_epoch(conn) & 1); /* down, for good */
    lg_conn_closed(conn);                 /* nothing more to hear */
    assert_int_equal(h.gone, 1);
    lg_conn_free(conn);
}

/* Freeing a connection that is reconnecting stops at once. */
static void test_free_stops_a_reconnect(void **state)
{
    (void)state;
    lg_conn *conn = conn_that_cannot_come_back();
    heard h = { 0 };
    listen(conn, &h);
    lg_conn_closed(conn); /* 60 s of trying, by default */
    lg_sleep_ms(50);
    int64_t t0 = lg_now_ms();
    lg_conn_free(conn);
    assert_true(lg_now_ms() - t0 < 2000);
    assert_int_equal(h.gone, 1);
}

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

/* A host's CPU time through libvirt (a remote host's only load measure),
 * from the test driver's node: read, with no steal made up. */
static void test_cpu_times(void **state)
{
    (void)state;
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open("test:///default", &conn), 0);
    lg_cpu_times t = { .steal = 7 };
    assert_int_equal(lg_conn_cpu_times(conn, &t), 0);
    assert_int_equal(t.steal, 0); /* libvirt has no steal field */
    assert_true(t.user + t.system + t.idle + t.iowait > 0);
    lg_conn_free(conn);
}

int main(void)
{
    virSetErrorFunc(NULL, quiet);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconnects_and_reattaches),
        cmocka_unit_test(test_gives_up_at_the_deadline),
        cmocka_unit_test(test_free_stops_a_reconnect),
        cmocka_unit_test(test_cpu_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
