/* lg_domxml_build: the domain XML libvirt gets for a job.  It must validate
 * against libvirt's own schema, and carry what crash detection and the
 * transport depend on (panic device, on_crash, the ssh forward, strict
 * kernel arguments, the metadata gc recognises). */
#include <errno.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "lg_test.h"

#include "model/matrix.h"
#include "virt/domxml.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define OVERLAY "/var/tmp/labgate/overlays/run-7/0123456789ab.qcow2"

typedef struct suite {
    xmlRelaxNGPtr schema;
    lg_profile *profile;         /* guests/profiles/linux-x86_64.xml */
    lg_profile *fixture_profile; /* q35, panic none */
} suite;

static int setup(void **state)
{
    suite *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewParserCtxt(LG_LIBVIRT_SCHEMAS "/domain.rng");
    s->schema = pctx ? xmlRelaxNGParse(pctx) : NULL;
    xmlRelaxNGFreeParserCtxt(pctx);
    if (!s->schema) {
        print_message("# cannot parse %s\n", LG_LIBVIRT_SCHEMAS "/domain.rng");
        return -1;
    }
    /* image files may be missing on a fresh machine: warnings only */
    lg_diags diags = { 0 };
    int rc = lg_profile_load(LG_SOURCE_DIR "/guests/profiles/linux-x86_64.xml", &s->profile, &diags);
    rc = rc ? rc : lg_profile_load(FIXTURE("matrix/profiles/linux-x86_64.xml"), &s->fixture_profile, &diags);
    if (rc != 0)
        lg_diags_print(&diags, stdout);
    lg_diags_clear(&diags);
    *state = s;
    return rc;
}

static int teardown(void **state)
{
    suite *s = *state;
    if (!s)
        return 0;
    xmlRelaxNGFree(s->schema);
    lg_profile_free(s->profile);
    lg_profile_free(s->fixture_profile);
    free(s);
    xmlCleanupParser();
    return 0;
}

/* ------------------------------------------------------------- helpers */

typedef struct built {
    char *text;
    xmlDocPtr doc;
    xmlXPathContextPtr xpath;
} built;

static lg_domxml_params params_for(const lg_profile *p, bool kvm, bool strict)
{
    return (lg_domxml_params){
        .profile = p,
        .name = "labgate-run-7-0123456789ab",
        .overlay_path = OVERLAY,
        .ssh_host_port = 40022,
        .kvm = kvm,
        .strict = strict,
        .run_id = "run-7",
        .job_id = "0123456789ab",
    };
}

static built build(const lg_domxml_params *params)
{
    built b = { 0 };
    b.text = lg_domxml_build(params);
    assert_non_null(b.text);
    b.doc = xmlReadMemory(b.text, (int)strlen(b.text), "domain.xml", NULL, XML_PARSE_NONET);
    if (!b.doc)
        fail_msg("lg_domxml_build produced XML that does not parse:\n%s", b.text);
    b.xpath = xmlXPathNewContext(b.doc);
    assert_non_null(b.xpath);
    xmlXPathRegisterNs(b.xpath, (const xmlChar *)"lg", (const xmlChar *)LG_METADATA_NS);
    xmlXPathRegisterNs(b.xpath, (const xmlChar *)"qemu", (const xmlChar *)QEMU_NS);
    return b;
}

static void built_free(built *b)
{
    xmlXPathFreeContext(b->xpath);
    xmlFreeDoc(b->doc);
    free(b->text);
}

/* The string value of an XPath expression ("" when it selects nothing). */
static char *xstr(const built *b, const char *expr)
{
    LG_AUTOFREE char *wrapped = lg_strdup_printf("string(%s)", expr);
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)wrapped, b->xpath);
    if (!obj)
        fail_msg("bad XPath %s", expr);
    char *s = strdup(obj->stringval ? (const char *)obj->stringval : "");
    xmlXPathFreeObject(obj);
    return s;
}

static int xcount(const built *b, const char *expr)
{
    LG_AUTOFREE char *wrapped = lg_strdup_printf("count(%s)", expr);
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)wrapped, b->xpath);
    if (!obj)
        fail_msg("bad XPath %s", expr);
    int n = (int)obj->floatval;
    xmlXPathFreeObject(obj);
    return n;
}

static void assert_xstr(const built *b, const char *expr, const char *want)
{
    char *got = xstr(b, expr);
    if (strcmp(got, want) != 0) {
        print_lines(b->text);
        fail_msg("%s is \"%s\", expected \"%s\"", expr, got, want);
    }
    free(got);
}

static void on_schema_error(void *opaque, xmlErrorPtr err)
{
    int *errors = opaque;
    (*errors)++;
    print_message("# domain.rng: line %d: %s", err->line, err->message ? err->message : "?\n");
}

static void assert_valid_for_libvirt(const suite *s, const built *b)
{
    int errors = 0;
    xmlRelaxNGValidCtxtPtr vctx = xmlRelaxNGNewValidCtxt(s->schema);
    assert_non_null(vctx);
    xmlRelaxNGSetValidStructuredErrors(vctx, on_schema_error, &errors);
    int rc = xmlRelaxNGValidateDoc(vctx, b->doc);
    xmlRelaxNGFreeValidCtxt(vctx);
    if (rc != 0) {
        print_lines(b->text);
        fail_msg("the domain XML does not validate against libvirt's domain.rng (%d error(s))", errors);
    }
}

/* Whether a space- (or comma-) separated list holds `item` as a whole item. */
static bool list_has(const char *list, const char *sep, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, sep);
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p += len;
        p += strspn(p, sep);
    }
    return false;
}

/* -------------------------------------------------------------- tests */

static void test_validates_against_libvirt_schema(void **state)
{
    suite *s = *state;
    const lg_profile *profiles[] = { s->profile, s->fixture_profile };
    for (size_t p = 0; p < LG_N_ELEMENTS(profiles); p++)
        for (int kvm = 0; kvm <= 1; kvm++)
            for (int strict = 0; strict <= 1; strict++) {
                lg_domxml_params params = params_for(profiles[p], kvm, strict);
                built b = build(&params);
                assert_valid_for_libvirt(s, &b);
                built_free(&b);
            }
}

static void test_domain_type_follows_accelerator(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, true, false);
    built b = build(&params);
    assert_xstr(&b, "/domain/@type", "kvm");
    built_free(&b);

    params = params_for(s->profile, false, false);
    b = build(&params);
    /* TCG: libvirt's domain type "qemu" */
    assert_xstr(&b, "/domain/@type", "qemu");
    built_free(&b);
}

static void test_name_resources_and_kernel(void **state)
{
    suite *s = *state;
    const lg_profile *p = s->profile;
    lg_domxml_params params = params_for(p, false, false);
    built b = build(&params);
    assert_xstr(&b, "/domain/name", "labgate-run-7-0123456789ab");
    assert_xstr(&b, "/domain/memory", "512");
    assert_xstr(&b, "/domain/memory/@unit", "MiB");
    assert_xstr(&b, "/domain/vcpu", "1");
    assert_xstr(&b, "/domain/os/type", "hvm");
    assert_xstr(&b, "/domain/os/type/@arch", "x86_64");
    assert_xstr(&b, "/domain/os/type/@machine", "pc");
    assert_xstr(&b, "/domain/os/kernel", p->kernel);
    assert_xstr(&b, "/domain/os/initrd", p->initrd);
    built_free(&b);
}

static void test_panic_device_and_on_crash(void **state)
{
    suite *s = *state;
    for (int kvm = 0; kvm <= 1; kvm++) {
        lg_domxml_params params = params_for(s->profile, kvm, false);
        built b = build(&params);
        /* without the panic device a kernel panic is only a silent guest */
        assert_int_equal(xcount(&b, "/domain/devices/panic"), 1);
        assert_int_equal(xcount(&b, "/domain/devices/panic[@model='isa']"), 1);
        /* a panicked guest stays paused: its memory is evidence */
        assert_xstr(&b, "/domain/on_crash", "preserve");
        built_free(&b);
    }
}

static void test_no_panic_device_when_profile_says_none(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->fixture_profile, false, false);
    built b = build(&params);
    assert_int_equal(xcount(&b, "/domain/devices/panic"), 0);
    assert_xstr(&b, "/domain/on_crash", "preserve");
    assert_xstr(&b, "/domain/memory", "768");
    assert_xstr(&b, "/domain/vcpu", "2");
    assert_xstr(&b, "/domain/os/type/@machine", "q35");
    built_free(&b);
}

static void test_watchdog_device_from_profile(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->fixture_profile, false, false);
    built b = build(&params);
    assert_int_equal(xcount(&b, "/domain/devices/watchdog"), 1);
    assert_xstr(&b, "/domain/devices/watchdog/@model", "i6300esb");
    assert_xstr(&b, "/domain/devices/watchdog/@action", "pause");
    built_free(&b);
}

static void test_windows_profile(void **state)
{
    suite *s = *state;
    lg_diags diags = { 0 };
    lg_profile *win = NULL;
    assert_int_equal(lg_profile_load(LG_SOURCE_DIR "/guests/profiles/windows-x86_64.xml", &win, &diags), 0);
    lg_diags_clear(&diags);
    for (int kvm = 0; kvm <= 1; kvm++) {
        lg_domxml_params params = params_for(win, kvm, false);
        built b = build(&params);
        assert_valid_for_libvirt(s, &b);
        assert_xstr(&b, "/domain/os/@firmware", "efi");
        assert_int_equal(xcount(&b, "/domain/os/firmware/feature[@name='secure-boot' and @enabled='yes']"), 1);
        assert_int_equal(xcount(&b, "/domain/os/kernel"), 0);
        assert_xstr(&b, "/domain/os/boot/@dev", "hd");
        assert_xstr(&b, "/domain/features/smm/@state", "on");
        assert_xstr(&b, "/domain/devices/tpm/@model", "tpm-crb");
        assert_xstr(&b, "/domain/devices/tpm/backend/@version", "2.0");
        assert_int_equal(xcount(&b, "/domain/devices/panic[@model='hyperv']"), 1);
        assert_int_equal(xcount(&b, "/domain/devices/panic[@model='isa']"), 1);
        assert_xstr(&b, "/domain/cpu/@mode", kvm ? "host-passthrough" : "maximum");
        assert_int_equal(xcount(&b, "/domain/features/hyperv/relaxed"), 1);
        /* QEMU refuses vpindex (and what builds on it) without KVM */
        assert_int_equal(xcount(&b, "/domain/features/hyperv/vpindex"), kvm ? 1 : 0);
        assert_int_equal(xcount(&b, "/domain/features/hyperv/synic"), kvm ? 1 : 0);
        assert_xstr(&b, "/domain/clock/timer[@name='hpet']/@present", "no");
        built_free(&b);
    }
    lg_profile_free(win);

    lg_profile *arm = NULL;
    assert_int_equal(lg_profile_load(LG_SOURCE_DIR "/guests/profiles/windows-aarch64.xml", &arm, &diags), 0);
    lg_diags_clear(&diags);
    lg_domxml_params params = params_for(arm, false, false);
    built b = build(&params);
    assert_valid_for_libvirt(s, &b);
    assert_xstr(&b, "/domain/devices/tpm/@model", "tpm-tis");
    assert_xstr(&b, "/domain/features/gic/@version", "3");
    assert_int_equal(xcount(&b, "/domain/features/smm"), 0);
    assert_int_equal(xcount(&b, "/domain/features/hyperv"), 0);
    assert_xstr(&b, "/domain/devices/video/model/@type", "ramfb");
    built_free(&b);
    lg_profile_free(arm);
}

static void test_disk_is_the_overlay(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, false, false);
    built b = build(&params);
    assert_int_equal(xcount(&b, "/domain/devices/disk"), 1);
    assert_xstr(&b, "/domain/devices/disk[@device='disk']/source/@file", OVERLAY);
    assert_xstr(&b, "/domain/devices/disk/driver/@type", "qcow2");
    /* never the base image: jobs must not write to it */
    char *src = xstr(&b, "/domain/devices/disk/source/@file");
    assert_string_not_equal(src, s->profile->disk);
    free(src);
    built_free(&b);
}

/* The kernel and initramfs the host has (its pool's volumes), when the
 * run staged them there; the profile's local paths otherwise. */
static void test_kernel_from_the_host(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, false, false);
    params.kernel_path = "/var/lib/libvirt/images/labgate/sha256-0123";
    params.initrd_path = "/var/lib/libvirt/images/labgate/sha256-4567";
    built b = build(&params);
    assert_xstr(&b, "/domain/os/kernel", "/var/lib/libvirt/images/labgate/sha256-0123");
    assert_xstr(&b, "/domain/os/initrd", "/var/lib/libvirt/images/labgate/sha256-4567");
    built_free(&b);
}

static void test_port_placeholder_when_no_port(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, false, false);
    params.ssh_host_port = 0;
    built b = build(&params);
    char *netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
    assert_true(list_has(netdev, ",", "hostfwd=tcp:127.0.0.1:" LG_DOMXML_PORT_PLACEHOLDER "-:22"));
    free(netdev);
    assert_valid_for_libvirt(s, &b);
    built_free(&b);
}

/* The network probes: QEMU forwards the guest's connections to
 * 10.0.2.100:7357 to labgate's listener (guestfwd, with restrict=on still
 * set); a profile with the probes off gets no guestfwd; under qemu-ga the
 * forwarded port is the one the profile names for the host probe. */
static void test_probe_guestfwd(void **state)
{
    suite *s = *state;
    assert_true(s->profile->net_probe);
    lg_domxml_params params = params_for(s->profile, false, false);
    params.probe_listen_port = 41234;
    built b = build(&params);
    char *netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
    assert_true(list_has(netdev, ",", "guestfwd=tcp:10.0.2.100:7357-tcp:127.0.0.1:41234"));
    assert_true(list_has(netdev, ",", "restrict=on"));
    free(netdev);
    assert_valid_for_libvirt(s, &b);
    built_free(&b);

    params.probe_listen_port = 0;
    b = build(&params);
    netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
    assert_true(list_has(netdev, ",", "guestfwd=tcp:10.0.2.100:7357-tcp:127.0.0.1:" LG_DOMXML_PROBE_PLACEHOLDER));
    free(netdev);
    built_free(&b);

    lg_profile off = *s->profile;
    off.net_probe = false;
    params = params_for(&off, false, false);
    params.probe_listen_port = 41234;
    b = build(&params);
    netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
    assert_null(strstr(netdev, "guestfwd"));
    free(netdev);
    built_free(&b);

    lg_profile qga = *s->profile;
    qga.transport = LG_TRANSPORT_QGA;
    qga.net_probe_port = 8080;
    params = params_for(&qga, false, false);
    b = build(&params);
    netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
    assert_true(list_has(netdev, ",", "hostfwd=tcp:127.0.0.1:40022-:8080"));
    free(netdev);
    built_free(&b);
}

static void test_ssh_forward_on_qemu_command_line(void **state)
{
    suite *s = *state;
    const lg_profile *profiles[] = { s->profile, s->fixture_profile };
    const char *bus[] = { "bus=pci.0", "bus=pcie.0" };
    for (size_t p = 0; p < LG_N_ELEMENTS(profiles); p++) {
        lg_domxml_params params = params_for(profiles[p], false, false);
        built b = build(&params);
        assert_int_equal(xcount(&b, "/domain/qemu:commandline"), 1);
        char *netdev = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-netdev']/following-sibling::qemu:arg[1]/@value");
        char *device = xstr(&b, "/domain/qemu:commandline/qemu:arg[@value='-device']/following-sibling::qemu:arg[1]/@value");
        LG_AUTOFREE char *fwd = lg_strdup_printf("hostfwd=tcp:127.0.0.1:40022-:%d", profiles[p]->ssh_port);
        if (!list_has(netdev, ",", fwd))
            fail_msg("-netdev %s lacks %s", netdev, fwd);
        assert_true(strncmp(netdev, "user,", 5) == 0);
        assert_true(list_has(netdev, ",", "id=lgnet0"));
        /* the NIC uses that netdev, at an explicit PCI address on the machine's root bus */
        assert_true(strncmp(device, "virtio-net-pci,", 15) == 0);
        assert_true(list_has(device, ",", "netdev=lgnet0"));
        assert_true(list_has(device, ",", bus[p]));
        assert_non_null(strstr(device, ",addr="));
        free(netdev);
        free(device);
        built_free(&b);
    }
}

static void test_strict_kernel_arguments_only_when_strict(void **state)
{
    suite *s = *state;
    const lg_profile *p = s->profile;
    static const char *const strict_args[] = {
        "oops=panic", "panic_on_warn=1", "softlockup_panic=1", "hung_task_panic=1",
    };

    lg_domxml_params params = params_for(p, false, false);
    built b = build(&params);
    assert_xstr(&b, "/domain/os/cmdline", p->cmdline);
    char *cmdline = xstr(&b, "/domain/os/cmdline");
    for (size_t i = 0; i < LG_N_ELEMENTS(strict_args); i++)
        assert_false(list_has(cmdline, " ", strict_args[i]));
    free(cmdline);
    built_free(&b);

    params = params_for(p, false, true);
    b = build(&params);
    LG_AUTOFREE char *want = lg_strdup_printf("%s %s", p->cmdline, LG_STRICT_CMDLINE);
    assert_xstr(&b, "/domain/os/cmdline", want);
    cmdline = xstr(&b, "/domain/os/cmdline");
    for (size_t i = 0; i < LG_N_ELEMENTS(strict_args); i++)
        assert_true(list_has(cmdline, " ", strict_args[i]));
    /* the profile's own arguments are kept, first */
    assert_true(list_has(cmdline, " ", "console=ttyS0"));
    assert_true(strncmp(cmdline, p->cmdline, strlen(p->cmdline)) == 0);
    free(cmdline);
    built_free(&b);
}

/* hardening="slub": the stock kernel's heap checks after the profile's and
 * strict mode's arguments; none without it.  A kernel the profile boots
 * directly only (a Windows guest has none to give them to). */
static void test_hardening_kernel_arguments(void **state)
{
    suite *s = *state;
    const lg_profile *p = s->profile;
    static const char *const slub_args[] = { "slub_debug=FZPU", "slab_nomerge", "init_on_free=1" };

    lg_domxml_params params = params_for(p, false, true);
    params.hardening = LG_HARDENING_SLUB;
    built b = build(&params);
    LG_AUTOFREE char *want = lg_strdup_printf("%s %s %s", p->cmdline, LG_STRICT_CMDLINE,
                                              lg_hardening_info_of(LG_HARDENING_SLUB)->linux_cmdline);
    assert_xstr(&b, "/domain/os/cmdline", want);
    char *cmdline = xstr(&b, "/domain/os/cmdline");
    for (size_t i = 0; i < LG_N_ELEMENTS(slub_args); i++)
        assert_true(list_has(cmdline, " ", slub_args[i]));
    free(cmdline);
    built_free(&b);

    params.hardening = LG_HARDENING_NONE;
    b = build(&params);
    cmdline = xstr(&b, "/domain/os/cmdline");
    for (size_t i = 0; i < LG_N_ELEMENTS(slub_args); i++)
        assert_false(list_has(cmdline, " ", slub_args[i]));
    free(cmdline);
    built_free(&b);
}

static void test_strict_with_empty_profile_cmdline(void **state)
{
    suite *s = *state;
    lg_profile p = *s->profile; /* borrowed fields, nothing freed */
    p.cmdline = (char *)"";
    lg_domxml_params params = params_for(&p, false, true);
    built b = build(&params);
    assert_xstr(&b, "/domain/os/cmdline", LG_STRICT_CMDLINE);
    built_free(&b);
}

static void test_disk_boot_without_kernel(void **state)
{
    suite *s = *state;
    lg_profile p = *s->profile;
    p.kernel = NULL;
    p.initrd = NULL;
    lg_domxml_params params = params_for(&p, false, true);
    built b = build(&params);
    assert_valid_for_libvirt(s, &b);
    assert_int_equal(xcount(&b, "/domain/os/kernel"), 0);
    assert_int_equal(xcount(&b, "/domain/os/cmdline"), 0);
    assert_xstr(&b, "/domain/os/boot/@dev", "hd");
    built_free(&b);
}

static void test_labgate_metadata(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, true, true);
    built b = build(&params);
    assert_int_equal(xcount(&b, "/domain/metadata/lg:job"), 1);
    assert_xstr(&b, "/domain/metadata/lg:job/@run", "run-7");
    assert_xstr(&b, "/domain/metadata/lg:job/@job", "0123456789ab");
    assert_xstr(&b, "/domain/metadata/lg:job/@overlay", OVERLAY);
    assert_xstr(&b, "/domain/metadata/lg:job/@profile", "linux-x86_64");
    /* the element must be in labgate's namespace, not merely named "job" */
    assert_int_equal(xcount(&b, "/domain/metadata/job"), 0);
    built_free(&b);
}

static void test_special_characters_are_escaped(void **state)
{
    suite *s = *state;
    lg_domxml_params params = params_for(s->profile, false, false);
    params.overlay_path = "/var/tmp/lab \"gate\" & <co>/o'1.qcow2";
    params.run_id = "run<&>\"'";
    built b = build(&params);
    assert_valid_for_libvirt(s, &b);
    assert_xstr(&b, "/domain/devices/disk/source/@file", params.overlay_path);
    assert_xstr(&b, "/domain/metadata/lg:job/@overlay", params.overlay_path);
    assert_xstr(&b, "/domain/metadata/lg:job/@run", params.run_id);
    built_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validates_against_libvirt_schema),
        cmocka_unit_test(test_domain_type_follows_accelerator),
        cmocka_unit_test(test_name_resources_and_kernel),
        cmocka_unit_test(test_panic_device_and_on_crash),
        cmocka_unit_test(test_no_panic_device_when_profile_says_none),
        cmocka_unit_test(test_watchdog_device_from_profile),
        cmocka_unit_test(test_windows_profile),
        cmocka_unit_test(test_hardening_kernel_arguments),
        cmocka_unit_test(test_port_placeholder_when_no_port),
        cmocka_unit_test(test_disk_is_the_overlay),
        cmocka_unit_test(test_kernel_from_the_host),
        cmocka_unit_test(test_ssh_forward_on_qemu_command_line),
        cmocka_unit_test(test_probe_guestfwd),
        cmocka_unit_test(test_strict_kernel_arguments_only_when_strict),
        cmocka_unit_test(test_strict_with_empty_profile_cmdline),
        cmocka_unit_test(test_disk_boot_without_kernel),
        cmocka_unit_test(test_labgate_metadata),
        cmocka_unit_test(test_special_characters_are_escaped),
    };
    return cmocka_run_group_tests_name("domxml", tests, setup, teardown);
}
