/* A host's capabilities against what a run's jobs need (virt/caps.h):
 * the guest architecture, its machine type (name or alias), and the
 * domain type of the accelerator; and libvirt's test driver, which runs
 * no x86_64 guests, refused with a message saying so. */
#include "lg_test.h"

#include <errno.h>

#include "base/error.h"
#include "virt/caps.h"
#include "virt/conn.h"

static const char caps[] =
    "<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"
    "<guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize>"
    "<machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>"
    "<machine maxCpus='288'>pc-q35-7.2</machine>"
    "<domain type='qemu'/>"
    "<domain type='kvm'><machine>pc-q35-7.2</machine></domain>"
    "</arch></guest>"
    "<guest><os_type>hvm</os_type><arch name='aarch64'><machine>virt-7.2</machine>"
    "<machine canonical='virt-7.2'>virt</machine><domain type='qemu'/></arch></guest>"
    "<guest><os_type>xen</os_type><arch name='riscv64'><machine>virt</machine><domain type='qemu'/></arch></guest>"
    "</capabilities>";

static void expect_refused(const char *arch, const char *machine, const char *type, const char *message)
{
    assert_int_equal(lg_caps_guest_check(caps, arch, machine, type), -ENOTSUP);
    if (!strstr(lg_error_msg(), message))
        fail_msg("'%s' does not say '%s'", lg_error_msg(), message);
}

static void test_caps_document(void **state)
{
    (void)state;
    assert_int_equal(lg_caps_guest_check(caps, "x86_64", "pc", "qemu"), 0);           /* an alias */
    assert_int_equal(lg_caps_guest_check(caps, "x86_64", "pc-i440fx-7.2", "qemu"), 0); /* its name */
    assert_int_equal(lg_caps_guest_check(caps, "x86_64", NULL, "kvm"), 0);
    assert_int_equal(lg_caps_guest_check(caps, "x86_64", "q35", "qemu"), -ENOTSUP);
    assert_int_equal(lg_caps_guest_check(caps, "aarch64", "virt", "qemu"), 0);
    expect_refused("aarch64", "virt", "kvm", "runs no aarch64 guests under domain type 'kvm' (no KVM there)");
    expect_refused("x86_64", "isapc", "qemu", "its x86_64 guests have no machine type 'isapc'");
    expect_refused("riscv64", "virt", "qemu", "it runs no riscv64 guests"); /* not hvm */
    expect_refused("s390x", NULL, "qemu", "it runs no s390x guests (no QEMU for them)");
    assert_int_equal(lg_caps_guest_check("<host/>", "x86_64", NULL, "qemu"), -EINVAL);
    assert_int_equal(lg_caps_guest_check("not xml", "x86_64", NULL, "qemu"), -EINVAL);
    assert_int_equal(lg_caps_guest_check(NULL, "x86_64", NULL, "qemu"), -EINVAL);
}

/* libvirt's test driver: i686 guests of domain type "test" only */
static void test_caps_test_driver(void **state)
{
    (void)state;
    assert_int_equal(lg_virt_init(), 0);
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open("test:///default", &conn), 0);
    assert_int_equal(lg_conn_guest_check(conn, "i686", NULL, "test"), 0);
    assert_int_equal(lg_conn_guest_check(conn, "x86_64", "pc", "qemu"), -ENOTSUP);
    assert_non_null(strstr(lg_error_msg(), "it runs no x86_64 guests"));
    lg_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_document),
        cmocka_unit_test(test_caps_test_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
