/* The deadline guard on libvirt calls that wait on QEMU, against libvirt's
 * test driver (its domain "test" runs from the start). */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lg_test.h"

#include "base/clock.h"
#include "virt/guard.h"

/* a stalled machine may be slow to run the guard: wait for it, bounded */
#define PATIENCE_MS (60 * 1000)

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static int domain_state(virDomainPtr dom)
{
    int state = -1;
    assert_int_equal(virDomainGetState(dom, &state, NULL, 0), 0);
    return state;
}

static void test_a_call_in_time_is_left_alone(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    assert_non_null(dom);
    lg_guard *g = lg_guard_arm(dom, 10 * 60 * 1000, LG_GUARD_GRACE_MS, "quick call");
    assert_non_null(g);
    assert_false(lg_guard_fired(g));
    assert_false(lg_guard_disarm(g));
    assert_int_equal(domain_state(dom), VIR_DOMAIN_RUNNING);
    assert_false(lg_guard_disarm(NULL));
    virDomainFree(dom);
    virConnectClose(conn);
}

static void test_an_overrun_aborts_then_destroys(void **state)
{
    (void)state;
    virConnectPtr conn = virConnectOpen("test:///default");
    assert_non_null(conn);
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    assert_non_null(dom);
    assert_int_equal(domain_state(dom), VIR_DOMAIN_RUNNING);
    /* the call "hangs": nobody disarms until the guard has acted */
    lg_guard *g = lg_guard_arm(dom, 20, 20, "hung call");
    assert_non_null(g);
    int64_t until = lg_now_ms() + PATIENCE_MS;
    while (!lg_guard_fired(g) && lg_now_ms() < until)
        lg_sleep_ms(10);
    assert_true(lg_guard_fired(g));
    /* no job to abort on the test driver, so the grace ends in destroy */
    while (domain_state(dom) != VIR_DOMAIN_SHUTOFF && lg_now_ms() < until)
        lg_sleep_ms(10);
    assert_int_equal(domain_state(dom), VIR_DOMAIN_SHUTOFF);
    assert_true(lg_guard_disarm(g));
    virDomainFree(dom);
    virConnectClose(conn);
}

int main(void)
{
    virSetErrorFunc(NULL, quiet);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_call_in_time_is_left_alone),
        cmocka_unit_test(test_an_overrun_aborts_then_destroys),
    };
    return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
